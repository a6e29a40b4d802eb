//! The sync service (meta-sync's work): per configured WABA, pull the template catalogue,
//! pricing analytics, template analytics and messaging analytics from a [`GraphSource`],
//! keep every response page raw ([`RawStore`], the snapshots), store rows per day ×
//! dimension ([`AnalyticsStore`]), and move each kind's watermark only through windows whose
//! data is complete.
//!
//! - Windows (`crate::domain::sync`): each scheduled run re-pulls the last 7 days and moves
//!   forward; a first run pulls Meta's whole lookback; a backfill pulls a given range,
//!   clamped to the lookback (and says so). Chunks are pulled oldest first, so a run that is
//!   throttled keeps what it completed.
//! - Errors: throttling that outlasts the client's backoff stops the kind cleanly; a rejected
//!   token (190) fails that WABA's run with the fix in the reason and skips its other kinds;
//!   5xx and timeouts are retried by the client, then fail the kind. Nothing that failed
//!   advances a watermark.
//! - The result says, per WABA and kind, what was pulled, stored, skipped and why. It is also
//!   kept on the `SYNC#<waba>` items (`last_outcome`, `last_reason`). Its [`RunVerdict`]
//!   says whether the invoker must see an error ([`SyncReport::into_result`]): a run that
//!   needs a person (token rejected or lacking a permission) or crashed (storage, a failure
//!   no retry fixes) is one; a run that stopped cleanly on throttling is not.

mod pulls;
mod report;
mod request;

pub use report::{Days, FailureClass, KindReport, RunVerdict, SyncError, SyncReport};
pub use request::{SyncMode, SyncRequest};

use crate::config::MetaSyncConfig;
use crate::domain::sync::{Outcome, PullKind, SyncKind};
use crate::ports::{AnalyticsStore, GraphSource, RawStore, RunRecord};
use chrono::{DateTime, NaiveDate, Utc};
use request::Kinds;
use std::collections::HashSet;

/// Catalogue fields asked of `message_templates`.
pub const CATALOGUE_FIELDS: [&str; 10] = [
    "id",
    "name",
    "language",
    "status",
    "category",
    "sub_category",
    "previous_category",
    "parameter_format",
    "quality_score",
    "components",
];
/// Templates per catalogue page.
const CATALOGUE_PAGE: u32 = 100;

/// Settings of the sync service (from meta-sync's config).
#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub waba_ids: Vec<String>,
    pub snapshot_prefix: String,
    pub clicks_unavailable: HashSet<String>,
    pub chunk_days: i64,
}

impl SyncSettings {
    pub fn from_config(c: &MetaSyncConfig) -> Self {
        Self {
            waba_ids: c.waba_ids.clone(),
            snapshot_prefix: c.snapshot_prefix.clone(),
            clicks_unavailable: c.clicks_unavailable_wabas.iter().cloned().collect(),
            chunk_days: c.chunk_days as i64,
        }
    }
}

/// Per-run facts shared by every pull.
struct Run {
    id: String,
    started_at: DateTime<Utc>,
    today: NaiveDate,
}

/// The service over its ports: Meta's Graph API, the raw snapshots, the analytics table.
pub struct SyncService<G, R, S> {
    pub graph: G,
    pub store: S,
    pub snapshots: R,
    pub settings: SyncSettings,
}

impl<G: GraphSource, R: RawStore, S: AnalyticsStore> SyncService<G, R, S> {
    pub fn new(graph: G, store: S, snapshots: R, settings: SyncSettings) -> Self {
        Self {
            graph,
            snapshots,
            store,
            settings,
        }
    }

    /// One run over every configured (or requested) WABA, one WABA after another so one
    /// access token's rate limits are not hit in parallel. `Err` only for a request that is
    /// refused before any pull; how the pulls went is in the report (and its verdict).
    pub async fn run(
        &self,
        request: &SyncRequest,
        now: DateTime<Utc>,
    ) -> Result<SyncReport, SyncError> {
        let (wabas, kinds) = request.filters();
        let kinds = Kinds::parse(kinds.as_deref())?;
        if let SyncRequest::Backfill { from, to, .. } = request
            && from > to
        {
            return Err(SyncError::InvalidRequest(format!(
                "backfill range is reversed: {from} to {to}"
            )));
        }
        let wabas: Vec<String> = match wabas {
            None => self.settings.waba_ids.clone(),
            Some(list) => {
                if let Some(unknown) = list.iter().find(|w| !self.settings.waba_ids.contains(w)) {
                    return Err(SyncError::InvalidRequest(format!(
                        "WABA {unknown} is not configured (WABA_IDS: {})",
                        self.settings.waba_ids.join(", ")
                    )));
                }
                list.clone()
            }
        };
        // Two runs in the same second (a retry, a hand-run backfill) get distinct ids.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let suffix = (nanos ^ std::process::id().rotate_left(12)) & 0xff_ffff;
        let run = Run {
            id: format!("{}-{suffix:06x}", now.format("%Y%m%dT%H%M%SZ")),
            started_at: now,
            today: now.date_naive(),
        };
        let mut results = Vec::new();
        let mut verdict = RunVerdict::Ok;
        for waba in &wabas {
            let (reports, recorded) = self.sync_waba(waba, request, kinds, &run).await;
            if !recorded {
                verdict = RunVerdict::Crashed;
            }
            results.extend(reports);
        }
        let outcome = if results.iter().any(|r| r.outcome == Outcome::Failed) {
            Outcome::Failed
        } else if results.iter().any(|r| r.outcome == Outcome::Partial) {
            Outcome::Partial
        } else {
            Outcome::Complete
        };
        let verdict = results
            .iter()
            .filter_map(|r| r.error_class.map(FailureClass::verdict))
            .fold(verdict, Ord::max);
        Ok(SyncReport {
            run_id: run.id,
            mode: request.mode(),
            started_at: now,
            today: run.today,
            outcome,
            verdict,
            results,
        })
    }

    /// Every asked-for kind of one WABA, then each kind's outcome recorded. The flag is
    /// false when an outcome could not be recorded (the storage failed).
    async fn sync_waba(
        &self,
        waba: &str,
        request: &SyncRequest,
        kinds: Kinds,
        run: &Run,
    ) -> (Vec<KindReport>, bool) {
        let mut out = Vec::new();
        let mut template_ids = None;
        // The catalogue gives template analytics its template ids.
        if kinds.wants(SyncKind::Catalogue) || kinds.wants(SyncKind::Templates) {
            let (report, ids) = self.pull_catalogue(waba, run).await;
            template_ids = ids;
            out.push(report);
        }
        for kind in PullKind::ALL {
            if !kinds.wants(kind.into()) {
                continue;
            }
            if let Some(auth) = out
                .iter()
                .find(|r| r.error_class == Some(FailureClass::Auth))
            {
                let reason = format!(
                    "not pulled: the access token was rejected for WABA {waba} (see the {} result)",
                    auth.kind
                );
                out.push(KindReport::new(waba, kind.into()).skipped(reason));
                continue;
            }
            out.push(
                self.pull_windowed(waba, kind, request, template_ids.as_deref(), run)
                    .await,
            );
        }
        let mut recorded = true;
        for r in &mut out {
            let record = RunRecord {
                run_id: &run.id,
                at: run.started_at,
                outcome: r.outcome,
                reason: r.reason.as_deref(),
            };
            if let Err(e) = self.store.record_run(waba, r.kind, &record).await {
                recorded = false;
                r.notes
                    .push(format!("could not record the run outcome: {e}"));
            }
        }
        (out, recorded)
    }
}

/// The deployed shape: the Graph API over HTTPS, S3 snapshots, the DynamoDB table.
#[cfg(feature = "graph")]
pub type LiveSyncService = SyncService<
    crate::adapters::graph::GraphClient,
    crate::adapters::s3::S3RawStore,
    crate::adapters::dynamodb::analytics::DynamoDbAnalyticsStore,
>;

/// Cold start: SDK config, the Graph token (Secrets Manager in AWS, env locally), clients.
#[cfg(feature = "graph")]
pub async fn live_service(
    config: &MetaSyncConfig,
) -> Result<LiveSyncService, crate::config::ConfigError> {
    use crate::adapters::aws::{dynamodb_client, graph_config, load_sdk_config, s3_client};
    let sdk = load_sdk_config().await;
    let graph = graph_config(&sdk, config.token_secret_id.as_deref()).await?;
    Ok(SyncService::new(
        crate::adapters::graph::GraphClient::new(graph)?,
        crate::adapters::dynamodb::analytics::DynamoDbAnalyticsStore::new(
            dynamodb_client(&sdk, None),
            &config.table_name,
        ),
        crate::adapters::s3::S3RawStore::new(s3_client(&sdk), &config.bucket_name),
        SyncSettings::from_config(config),
    ))
}
