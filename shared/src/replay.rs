//! Replay: re-ingests the bodies the webhook kept raw under `quarantine/` (signed but
//! unparseable, or with a write the store refused) once a parser or store fix is deployed,
//! through the same [`Ingest`] service as the webhook, so a replayed body makes exactly the
//! writes the webhook would have made.
//!
//! Idempotent: every ingest write is conditional (one item per wamid or content hash), so
//! replaying a body twice, or one whose events were already stored, changes nothing; the
//! summary says so (`changed` = 0). Read-only on the bucket: an object is never modified,
//! moved or deleted, so a body that still fails stays where it was (until the bucket's
//! `ExpireQuarantine` rule), and a replayed one can be replayed again. A dry run parses and
//! plans each body and writes nothing.

use crate::adapters::aws::{dynamodb_client, s3_client};
use crate::adapters::s3::{S3RawArchive, S3RawStore};
use crate::config::ReplayConfig;
use crate::domain::consent::ConsentKeywords;
use crate::ingest::{Ingest, Ingested, LiveEventStore, live_event_store};
use crate::ports::{EventStore, RawArchive, StoreError};
use std::collections::BTreeMap;

/// What to replay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayRequest {
    /// Only keys under this prefix (default: the whole quarantine, `QUARANTINE_PREFIX`); it
    /// must lie inside the quarantine, e.g. `quarantine/invalid_json/`.
    pub prefix: Option<String>,
    /// Only objects written at or after this time (epoch seconds).
    pub since: Option<i64>,
    /// Resume after this key (the `last_key` of an interrupted run).
    pub start_after: Option<String>,
    pub dry_run: bool,
}

impl ReplayRequest {
    /// `SINCE=YYYY-MM-DD` (a UTC day) as epoch seconds.
    pub fn since_day(day: &str) -> Result<i64, ReplayError> {
        chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp())
            .ok_or_else(|| ReplayError::Since(day.to_string()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("prefix {prefix:?} is outside the quarantine ({root:?}): the replay reads only there")]
    Prefix { prefix: String, root: String },
    #[error("since {0:?} is not a day (YYYY-MM-DD)")]
    Since(String),
    /// The bucket or the table could not be reached: run again (idempotent).
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// What happened to one object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Dry run: the body parses now; these items would be ingested with `writes` requests.
    WouldReplay {
        items: BTreeMap<String, usize>,
        writes: usize,
    },
    /// Ingested: `applied` writes changed the table, `unchanged` found their data already
    /// there (an earlier replay, or the webhook stored them).
    Replayed {
        items: BTreeMap<String, usize>,
        applied: usize,
        unchanged: usize,
    },
    /// Still cannot be stored: the reason it would be quarantined for now, and the detail.
    /// The object stays.
    StillFailing {
        reason: &'static str,
        detail: String,
    },
    /// Listed but gone when read (expired meanwhile): nothing to replay.
    Gone,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectReport {
    pub key: String,
    /// When the object was written (epoch seconds): when the webhook kept the body.
    pub written_at: i64,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What a replay read and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReplaySummary {
    pub dry_run: bool,
    pub prefix: String,
    /// Objects read (under the prefix, written since `since`).
    pub read: usize,
    /// Objects that parse now and were ingested (or, in a dry run, would be).
    pub replayed: usize,
    /// Of those, objects whose replay changed the table (0 on a second run).
    pub changed: usize,
    /// Writes that changed the table.
    pub applied: usize,
    pub still_failing: usize,
    /// Still failing, by reason.
    pub failing_by_reason: BTreeMap<&'static str, usize>,
    /// Listed but expired before they were read.
    pub gone: usize,
    /// Objects under the prefix skipped for being older than `since`.
    pub older: usize,
    /// The last key read: `start_after` resumes after it.
    pub last_key: Option<String>,
    pub objects: Vec<ObjectReport>,
}

fn kinds(items: &BTreeMap<String, usize>) -> String {
    items
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ReplaySummary {
    /// One line per object, then the totals (what `make replay` prints).
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .objects
            .iter()
            .map(|o| match &o.outcome {
                Outcome::WouldReplay { items, writes } => format!(
                    "would replay {}: parses now, {} items ({}), {writes} writes",
                    o.key,
                    items.values().sum::<usize>(),
                    kinds(items)
                ),
                Outcome::Replayed {
                    items,
                    applied,
                    unchanged,
                } => format!(
                    "replayed {}: {} items ({}), {applied} writes applied, {unchanged} already stored",
                    o.key,
                    items.values().sum::<usize>(),
                    kinds(items)
                ),
                Outcome::StillFailing { reason, detail } => {
                    format!("still failing {}: {reason}: {detail}", o.key)
                }
                Outcome::Gone => format!("gone {}: expired before it was read", o.key),
            })
            .collect();
        let failing = self
            .failing_by_reason
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        lines.push(if self.dry_run {
            format!(
                "dry run under {}: {} objects read, {} would replay, {} still failing ({failing}), nothing written",
                self.prefix, self.read, self.replayed, self.still_failing
            )
        } else {
            format!(
                "replay under {}: {} objects read, {} replayed ({} changed the table, {} writes applied), {} still failing ({failing})",
                self.prefix, self.read, self.replayed, self.changed, self.applied, self.still_failing
            )
        });
        lines
    }

    fn record(&mut self, key: String, written_at: i64, outcome: Outcome) {
        match &outcome {
            Outcome::WouldReplay { .. } => self.replayed += 1,
            Outcome::Replayed { applied, .. } => {
                self.replayed += 1;
                self.changed += usize::from(*applied > 0);
                self.applied += applied;
            }
            Outcome::StillFailing { reason, .. } => {
                self.still_failing += 1;
                *self.failing_by_reason.entry(reason).or_default() += 1;
            }
            Outcome::Gone => self.gone += 1,
        }
        tracing::info!(%key, outcome = ?outcome, dry_run = self.dry_run, "replay: object done");
        self.last_key = Some(key.clone());
        self.objects.push(ObjectReport {
            key,
            written_at,
            outcome,
        });
    }
}

/// Replays kept bodies from an archive into an event store.
pub struct Replay<S, A> {
    ingest: Ingest<S>,
    archive: A,
    /// The quarantine prefix: the only place a replay reads.
    root: String,
}

/// The deployed shape: S3 for the kept bodies, DynamoDB for the events.
pub type LiveReplay = Replay<LiveEventStore, S3RawArchive>;

/// The replay over the deployed stores, with the webhook's ingest rules.
pub fn live(config: &ReplayConfig, sdk: &aws_config::SdkConfig) -> LiveReplay {
    let s3 = s3_client(sdk);
    let store = live_event_store(
        dynamodb_client(sdk, None),
        &config.table_name,
        config.write_concurrency,
        S3RawStore::new(s3.clone(), &config.bucket_name),
        &config.lifecycle,
        config.assignment.as_ref(),
    );
    let keywords = ConsentKeywords::configured(
        config.stop_keywords.as_deref(),
        config.start_keywords.as_deref(),
    );
    Replay::new(
        Ingest::new(store, keywords),
        S3RawArchive::new(s3, &config.bucket_name),
        &config.quarantine_prefix,
    )
}

impl<S: EventStore, A: RawArchive> Replay<S, A> {
    pub fn new(ingest: Ingest<S>, archive: A, quarantine_prefix: &str) -> Self {
        Self {
            ingest,
            archive,
            root: quarantine_prefix.to_string(),
        }
    }

    /// Every object under the prefix, in key order, one at a time (a body is at most the
    /// webhook's 4 MB cap). Stops at the first unavailable store: run again, from
    /// `last_key` if wanted.
    pub async fn run(&self, request: &ReplayRequest) -> Result<ReplaySummary, ReplayError> {
        let prefix = request.prefix.clone().unwrap_or_else(|| self.root.clone());
        if !prefix.starts_with(&self.root) {
            return Err(ReplayError::Prefix {
                prefix,
                root: self.root.clone(),
            });
        }
        let mut summary = ReplaySummary {
            dry_run: request.dry_run,
            prefix: prefix.clone(),
            ..ReplaySummary::default()
        };
        let mut page = None;
        loop {
            let (objects, next) = self
                .archive
                .list(&prefix, request.start_after.as_deref(), page)
                .await?;
            for object in objects {
                if request.since.is_some_and(|since| object.written_at < since) {
                    summary.older += 1;
                    continue;
                }
                summary.read += 1;
                let outcome = match self.archive.get(&object.key).await? {
                    None => Outcome::Gone,
                    Some(body) => self.replay(&body, request.dry_run).await?,
                };
                summary.record(object.key, object.written_at, outcome);
            }
            match next {
                Some(token) => page = Some(token),
                None => break,
            }
        }
        tracing::info!(
            prefix = %summary.prefix,
            read = summary.read,
            replayed = summary.replayed,
            changed = summary.changed,
            applied = summary.applied,
            still_failing = summary.still_failing,
            dry_run = summary.dry_run,
            "replay done"
        );
        Ok(summary)
    }

    async fn replay(&self, body: &[u8], dry_run: bool) -> Result<Outcome, StoreError> {
        if dry_run {
            return Ok(match self.ingest.inspect(body) {
                Ok(parsed) => Outcome::WouldReplay {
                    items: parsed.items,
                    writes: parsed.writes,
                },
                Err(f) => Outcome::StillFailing {
                    reason: f.reason,
                    detail: f.detail,
                },
            });
        }
        let ingested = self.ingest.ingest(body).await?;
        if let Some(f) = ingested.failure() {
            return Ok(Outcome::StillFailing {
                reason: f.reason,
                detail: f.detail,
            });
        }
        let Ingested::Stored { parsed, report } = ingested else {
            unreachable!("every other outcome is a failure");
        };
        Ok(Outcome::Replayed {
            items: parsed.items,
            applied: report.applied,
            unchanged: report.unchanged,
        })
    }
}
