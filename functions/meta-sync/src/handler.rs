//! The meta-sync function: an EventBridge Scheduler event (or a hand-made backfill payload)
//! → one run of the sync service (`shared::sync`: windows → Graph source → store →
//! watermark → run report) → the report, or an error Lambda sees.
//!
//! A run that needs a person (the access token was rejected or lacks a permission) or
//! crashed (storage failed, a failure no retry fixes) returns `Err`, after everything that
//! completed was kept: Lambda counts it in `Errors` (the `MetaSyncFailures` alarm) and sends
//! the invocation to the on-failure destination. A run that stopped cleanly on throttling or
//! Meta's outage is `Ok`: the next scheduled run resumes from the watermarks.

use chrono::{DateTime, Utc};
use lambda_runtime::{Diagnostic, LambdaEvent};
use shared::config::{ConfigError, MetaSyncConfig};
use shared::ports::{AnalyticsStore, GraphSource, RawStore};
use shared::sync::SyncService;

pub use shared::domain::sync::{Outcome, SyncKind};
pub use shared::sync::{
    Days, FailureClass, KindReport, RunVerdict, SyncError, SyncReport, SyncRequest, SyncSettings,
};

/// The deployed shape.
pub type LiveMetaSync = MetaSync<
    shared::adapters::graph::GraphClient,
    shared::adapters::s3::S3RawStore,
    shared::adapters::dynamodb::analytics::DynamoDbAnalyticsStore,
>;

/// What Lambda gets back when an invocation fails: the service's error, with its kind as
/// `errorType` (`InvalidRequest`, `NeedsPerson`, `Crashed`).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct MetaSyncError(#[from] pub SyncError);

impl From<MetaSyncError> for Diagnostic {
    fn from(e: MetaSyncError) -> Self {
        Diagnostic {
            error_type: format!("MetaSync.{}", e.0.kind()),
            error_message: e.0.to_string(),
        }
    }
}

/// The handler: the sync service and the clock that dates each run.
pub struct MetaSync<G, R, S> {
    pub service: SyncService<G, R, S>,
    clock: fn() -> DateTime<Utc>,
}

impl LiveMetaSync {
    /// Cold start: SDK config, the Graph token (Secrets Manager in AWS, env locally), clients.
    pub async fn from_env_config(config: &MetaSyncConfig) -> Result<Self, ConfigError> {
        Ok(Self::from_service(
            shared::sync::live_service(config).await?,
        ))
    }
}

impl<G: GraphSource, R: RawStore, S: AnalyticsStore> MetaSync<G, R, S> {
    pub fn new(graph: G, store: S, snapshots: R, settings: SyncSettings) -> Self {
        Self::from_service(SyncService::new(graph, store, snapshots, settings))
    }

    pub fn from_service(service: SyncService<G, R, S>) -> Self {
        Self {
            service,
            clock: Utc::now,
        }
    }

    /// Dates runs with `clock` instead of the system clock (tests).
    pub fn with_clock(mut self, clock: fn() -> DateTime<Utc>) -> Self {
        self.clock = clock;
        self
    }

    /// The Lambda entry point.
    pub async fn handle_event(
        &self,
        event: LambdaEvent<serde_json::Value>,
    ) -> Result<SyncReport, MetaSyncError> {
        self.handle(event.payload, (self.clock)()).await
    }

    /// Reads the payload, runs, logs and counts the outcome, and answers the report or, for
    /// a run that needs a person or crashed, the error carrying it.
    pub async fn handle(
        &self,
        payload: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<SyncReport, MetaSyncError> {
        let request = SyncRequest::from_payload(&payload)?;
        let report = self.run(&request, now).await?;
        log(&report);
        Ok(report.into_result()?)
    }

    /// One run of the service; how it went is in the report (and its verdict).
    pub async fn run(
        &self,
        request: &SyncRequest,
        now: DateTime<Utc>,
    ) -> Result<SyncReport, SyncError> {
        self.service.run(request, now).await
    }
}

/// The run's metrics (Embedded Metric Format) and one log line per WABA × kind.
fn log(report: &SyncReport) {
    let count = |o: Outcome| report.results.iter().filter(|r| r.outcome == o).count() as f64;
    shared::telemetry::emit_metrics(
        "meta-sync",
        &[],
        &[
            ("PullsFailed", count(Outcome::Failed), "Count"),
            ("PullsPartial", count(Outcome::Partial), "Count"),
            ("Pulls", report.results.len() as f64, "Count"),
        ],
    );
    for r in &report.results {
        let reason = r.reason.as_deref().unwrap_or("");
        let kind = r.kind.as_str();
        match r.outcome {
            Outcome::Failed | Outcome::Partial => tracing::error!(
                run_id = %report.run_id, waba = %r.waba_id, kind,
                outcome = r.outcome.as_str(),
                error_class = r.error_class.map_or("", FailureClass::as_str),
                reason, "meta-sync pull did not complete"
            ),
            _ => tracing::info!(
                run_id = %report.run_id, waba = %r.waba_id, kind,
                outcome = r.outcome.as_str(), rows = r.rows_stored, pages = r.pages,
                watermark = ?r.watermark_after, reason, "meta-sync pull"
            ),
        }
    }
    if report.verdict != RunVerdict::Ok {
        tracing::error!(
            run_id = %report.run_id, verdict = report.verdict.as_str(),
            "meta-sync run returns an error to Lambda; what completed is kept"
        );
    }
}
