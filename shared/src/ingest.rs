//! The ingest service: a signed body's bytes → the parser (`domain::webhook`) → the plan
//! (`domain::ingest`) → one idempotent write per event (an [`EventStore`]). The webhook runs
//! it on every POST; the replay (`crate::replay`) runs it on the bodies the webhook had to
//! keep raw, after a parser fix. Both make the same writes for the same bytes, and every
//! write is conditional, so a body ingested twice changes nothing the second time.

use crate::adapters::dynamodb::{DynamoDbAssignmentStore, DynamoDbEventStore};
use crate::adapters::s3::S3RawStore;
use crate::assignment::{AssigningEventStore, OwnerAssigner};
use crate::domain::consent::ConsentKeywords;
use crate::domain::ingest::{Plan, Write, content_id, plan};
use crate::domain::leads::{AssignmentRules, Lifecycle};
use crate::domain::webhook::parse;
use crate::ports::{ApplyReport, EventStore, RejectedWrite, StoreError};
use crate::telemetry::mask_phone;
use std::collections::BTreeMap;

/// What the current parser makes of a body (no I/O).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Parsed {
    /// Items by kind (`status.read`, `inbound.text`, `kept.field:calls`, …).
    pub items: BTreeMap<String, usize>,
    /// Items with something unmodelled, kept raw.
    pub kept_raw: usize,
    pub statuses: usize,
    /// Storage requests the plan makes (before owner assignment).
    pub writes: usize,
    /// Unknown keys at envelope, entry or change level.
    pub envelope_unknown: usize,
    /// Consent signals (user masked), logged one per line by the webhook.
    #[serde(skip)]
    pub consent: Vec<ConsentNote>,
}

impl Parsed {
    fn of(plan: &Plan<'_>, envelope_unknown: usize) -> Self {
        Self {
            items: plan.items.clone(),
            kept_raw: plan.kept_raw.values().sum(),
            statuses: plan.status_count(),
            writes: plan.writes.len(),
            envelope_unknown,
            consent: plan
                .writes
                .iter()
                .filter_map(|w| match w {
                    Write::ConsentEvent(signal) => Some(ConsentNote {
                        user: mask_phone(signal.user_key),
                        action: signal.action.as_str(),
                        source: signal.source.as_str(),
                    }),
                    _ => None,
                })
                .collect(),
        }
    }

    pub fn item_count(&self) -> usize {
        self.items.values().sum()
    }

    /// Items by their family (`status`, `inbound`, `kept`, …): the `Events` metric.
    pub fn by_family(&self) -> BTreeMap<&str, usize> {
        let mut families = BTreeMap::new();
        for (kind, n) in &self.items {
            *families
                .entry(kind.split('.').next().unwrap_or(kind))
                .or_default() += n;
        }
        families
    }
}

/// One consent signal of a body, for the log (the user's id masked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentNote {
    pub user: String,
    pub action: &'static str,
    pub source: &'static str,
}

/// Why a body cannot be stored: the quarantine reason (`invalid_utf8`, `invalid_json`,
/// `not_an_envelope`, `store_rejected`) and the detail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Failure {
    pub reason: &'static str,
    pub detail: String,
}

/// What ingesting a body did.
#[derive(Debug)]
pub enum Ingested {
    /// The body was parsed and every write of its plan applied or found already applied,
    /// except those in `report.rejected` (refused by the store for their data: the caller
    /// keeps the body raw, see [`Ingested::failure`]).
    Stored { parsed: Parsed, report: ApplyReport },
    /// The body cannot be parsed: nothing was written.
    Unparseable(Failure),
    /// The store refused the data outside the per-write path (an oversized part's copy).
    Rejected { parsed: Parsed, detail: String },
}

impl Ingested {
    /// Why the body must be kept raw, if it must.
    pub fn failure(&self) -> Option<Failure> {
        match self {
            Ingested::Stored { report, .. } if report.rejected.is_empty() => None,
            Ingested::Stored { report, .. } => Some(Failure {
                reason: "store_rejected",
                detail: rejected_detail(&report.rejected),
            }),
            Ingested::Unparseable(failure) => Some(failure.clone()),
            Ingested::Rejected { detail, .. } => Some(Failure {
                reason: "store_rejected",
                detail: detail.clone(),
            }),
        }
    }
}

/// The writes a store refused, named one by one (`write <n> (<kind>): <reason>`).
pub fn rejected_detail(rejected: &[RejectedWrite]) -> String {
    rejected
        .iter()
        .map(|r| format!("write {} ({}): {}", r.index, r.kind, r.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Where a body that cannot be stored is kept: `<prefix><reason>/<content id>.json`. The same
/// body gets the same key (no date in it), so Meta's retries land on one object.
pub fn quarantine_key(prefix: &str, reason: &str, body: &[u8]) -> String {
    let id = match std::str::from_utf8(body) {
        Ok(s) => content_id(s),
        // Invalid UTF-8 still needs a stable name: hash its lossless hex form.
        Err(_) => content_id(&body.iter().map(|b| format!("{b:02x}")).collect::<String>()),
    };
    format!("{prefix}{reason}/{id}.json")
}

/// Parses, plans and stores webhook bodies.
pub struct Ingest<S> {
    store: S,
    keywords: ConsentKeywords,
}

impl<S: EventStore> Ingest<S> {
    pub fn new(store: S, keywords: ConsentKeywords) -> Self {
        Self { store, keywords }
    }

    /// What the body would make, without writing anything (a dry run).
    pub fn inspect(&self, body: &[u8]) -> Result<Parsed, Failure> {
        let batch = parse(body).map_err(|e| Failure {
            reason: e.reason(),
            detail: e.to_string(),
        })?;
        Ok(Parsed::of(
            &plan(&batch, &self.keywords),
            batch.envelope_unknown_fields.len(),
        ))
    }

    /// Parses the body and applies its plan. `Err` only when the store is unavailable (the
    /// caller retries: every write is idempotent).
    pub async fn ingest(&self, body: &[u8]) -> Result<Ingested, StoreError> {
        let batch = match parse(body) {
            Ok(batch) => batch,
            Err(e) => {
                return Ok(Ingested::Unparseable(Failure {
                    reason: e.reason(),
                    detail: e.to_string(),
                }));
            }
        };
        let plan = plan(&batch, &self.keywords);
        let parsed = Parsed::of(&plan, batch.envelope_unknown_fields.len());
        match self.store.apply(&plan.writes).await {
            Ok(report) => Ok(Ingested::Stored { parsed, report }),
            Err(StoreError::Rejected(detail)) => Ok(Ingested::Rejected { parsed, detail }),
            Err(e @ StoreError::Unavailable(_)) => Err(e),
        }
    }
}

/// The deployed event store: DynamoDB, oversized raw parts to S3 (`kept/`), new leads in the
/// lifecycle's first stage, then assigned by the rules (the webhook's and the replay's).
pub type LiveEventStore =
    AssigningEventStore<DynamoDbEventStore<S3RawStore>, DynamoDbAssignmentStore>;

/// Builds the [`LiveEventStore`].
pub fn live_event_store(
    dynamodb: aws_sdk_dynamodb::Client,
    table: &str,
    write_concurrency: usize,
    raw: S3RawStore,
    lifecycle: &Lifecycle,
    assignment: Option<&AssignmentRules>,
) -> LiveEventStore {
    let assigner = assignment.and_then(|rules| {
        OwnerAssigner::new(
            rules.clone(),
            DynamoDbAssignmentStore::new(dynamodb.clone(), table),
        )
    });
    let events = DynamoDbEventStore::new(dynamodb, table, write_concurrency, raw)
        .with_initial_stage(lifecycle.initial())
        .reporting_unowned_leads(assigner.is_some());
    AssigningEventStore::new(events, assigner)
}
