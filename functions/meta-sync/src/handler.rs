//! The meta-sync function: per configured WABA, pull the template catalogue, pricing
//! analytics, template analytics and messaging analytics from the Graph API, keep every
//! response page raw in S3, store rows per day × dimension in DynamoDB, and move each
//! kind's watermark only through windows whose data is complete.
//!
//! - Windows (`shared::domain::sync`): each scheduled run re-pulls the last 7 days and moves
//!   forward; a first run pulls Meta's whole lookback; a backfill pulls a given range,
//!   clamped to the lookback (and says so). Chunks are pulled oldest first, so a run that is
//!   throttled keeps what it completed.
//! - Errors: throttling that outlasts the client's backoff stops the kind cleanly; a rejected
//!   token (190) fails that WABA's run with the fix in the reason and skips its other kinds;
//!   5xx and timeouts are retried by the client, then fail the kind. Nothing that failed
//!   advances a watermark.
//! - The result says, per WABA and kind, what was pulled, stored, skipped and why. It is also
//!   kept on the `SYNC#<waba>` items (`last_outcome`, `last_reason`).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shared::adapters::aws::{dynamodb_client, load_sdk_config, s3_client};
use shared::adapters::dynamodb_analytics::{DynamoDbAnalyticsStore, RunRecord};
use shared::adapters::graph::{GraphClient, GraphError, GraphPull};
use shared::adapters::s3::S3RawStore;
use shared::config::{ConfigError, MetaSyncConfig};
use shared::domain::analytics::{
    Granularity, PricingDimension, TemplateInsights, TemplateMetric, TemplateRowContext,
    catalogue_rows, messaging_rows, pricing_rows, template_id_batches, template_insights,
    template_rows,
};
use shared::domain::sync::{
    DayWindow, PullKind, advance_watermark, backfill_window, joins_complete_range, scheduled_window,
};
use shared::ports::{GraphSource, RawStore, StoreError};
use std::collections::HashSet;

/// The deployed shape.
pub type LiveMetaSync = MetaSync<GraphClient, S3RawStore>;

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

#[derive(Debug, Clone)]
pub struct Settings {
    pub waba_ids: Vec<String>,
    pub snapshot_prefix: String,
    pub clicks_unavailable: HashSet<String>,
    pub chunk_days: i64,
}

impl Settings {
    pub fn from_config(c: &MetaSyncConfig) -> Self {
        Self {
            waba_ids: c.waba_ids.clone(),
            snapshot_prefix: c.snapshot_prefix.clone(),
            clicks_unavailable: c.clicks_unavailable_wabas.iter().cloned().collect(),
            chunk_days: c.chunk_days as i64,
        }
    }
}

/// What to pull. The scheduler sends `{"mode": "scheduled"}` (an EventBridge event envelope
/// or an empty payload means the same); a backfill is invoked by hand:
/// `{"mode": "backfill", "from": "2026-08-24", "to": "2026-11-20", "kinds": ["templates"]}`.
/// `wabas` and `kinds` narrow either mode; kinds are `catalogue`, `pricing`, `templates`,
/// `messaging`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum SyncRequest {
    Scheduled {
        #[serde(default)]
        wabas: Option<Vec<String>>,
        #[serde(default)]
        kinds: Option<Vec<String>>,
    },
    Backfill {
        from: NaiveDate,
        to: NaiveDate,
        #[serde(default)]
        wabas: Option<Vec<String>>,
        #[serde(default)]
        kinds: Option<Vec<String>>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("invalid meta-sync request: {0}")]
    InvalidRequest(String),
}

impl SyncRequest {
    /// Reads the invocation payload.
    pub fn from_payload(payload: &serde_json::Value) -> Result<Self, SyncError> {
        let scheduled = SyncRequest::Scheduled {
            wabas: None,
            kinds: None,
        };
        match payload {
            serde_json::Value::Null => Ok(scheduled),
            serde_json::Value::Object(m) if m.is_empty() => Ok(scheduled),
            // An EventBridge event (a rule target, or a scheduler's templated target).
            serde_json::Value::Object(m) if m.contains_key("detail-type") => Ok(scheduled),
            other => serde_json::from_value(other.clone())
                .map_err(|e| SyncError::InvalidRequest(e.to_string())),
        }
    }

    fn filters(&self) -> (&Option<Vec<String>>, &Option<Vec<String>>) {
        match self {
            SyncRequest::Scheduled { wabas, kinds }
            | SyncRequest::Backfill { wabas, kinds, .. } => (wabas, kinds),
        }
    }

    fn mode(&self) -> &'static str {
        match self {
            SyncRequest::Scheduled { .. } => "scheduled",
            SyncRequest::Backfill { .. } => "backfill",
        }
    }
}

/// Which pulls a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Kinds {
    catalogue: bool,
    pricing: bool,
    templates: bool,
    messaging: bool,
}

impl Kinds {
    fn parse(list: Option<&[String]>) -> Result<Self, SyncError> {
        let Some(list) = list else {
            return Ok(Kinds {
                catalogue: true,
                pricing: true,
                templates: true,
                messaging: true,
            });
        };
        let mut k = Kinds {
            catalogue: false,
            pricing: false,
            templates: false,
            messaging: false,
        };
        for name in list {
            match name.trim().to_ascii_lowercase().as_str() {
                "catalogue" | "catalog" => k.catalogue = true,
                "pricing" => k.pricing = true,
                "templates" => k.templates = true,
                "messaging" => k.messaging = true,
                other => {
                    return Err(SyncError::InvalidRequest(format!(
                        "unknown kind {other:?}: expected catalogue, pricing, templates or messaging"
                    )));
                }
            }
        }
        if list.is_empty() {
            return Err(SyncError::InvalidRequest("kinds is empty".into()));
        }
        Ok(k)
    }

    fn wants(&self, kind: PullKind) -> bool {
        match kind {
            PullKind::Pricing => self.pricing,
            PullKind::Templates => self.templates,
            PullKind::Messaging => self.messaging,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Everything asked for was pulled and stored.
    Complete,
    /// Some chunks were stored; the watermark stops before the first missing one.
    Partial,
    /// Nothing was stored (or the token was rejected).
    Failed,
    /// Not pulled, for a reason that is not a failure (no insights, range beyond lookback).
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Complete => "complete",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }
}

/// A window as reported: first and last day, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Days {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

/// One WABA × kind of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindReport {
    pub waba_id: String,
    /// `catalogue`, `pricing`, `templates`, `messaging`.
    pub kind: &'static str,
    pub outcome: Outcome,
    pub window: Option<Days>,
    /// The last day of the last chunk stored.
    pub stored_through: Option<NaiveDate>,
    pub pages: usize,
    pub rows_stored: usize,
    pub snapshots: usize,
    pub watermark_before: Option<NaiveDate>,
    pub watermark_after: Option<NaiveDate>,
    /// Why it was skipped or failed.
    pub reason: Option<String>,
    /// `throttled`, `auth`, `transient`, `other`, `storage`.
    pub error_class: Option<&'static str>,
    pub notes: Vec<String>,
}

impl KindReport {
    fn new(waba_id: &str, kind: &'static str) -> Self {
        Self {
            waba_id: waba_id.to_string(),
            kind,
            outcome: Outcome::Complete,
            window: None,
            stored_through: None,
            pages: 0,
            rows_stored: 0,
            snapshots: 0,
            watermark_before: None,
            watermark_after: None,
            reason: None,
            error_class: None,
            notes: Vec::new(),
        }
    }

    fn skipped(mut self, reason: impl Into<String>) -> Self {
        self.outcome = Outcome::Skipped;
        self.reason = Some(reason.into());
        self
    }

    fn failed(mut self, err: &ChunkError) -> Self {
        self.outcome = if self.stored_through.is_some() {
            Outcome::Partial
        } else {
            Outcome::Failed
        };
        self.error_class = Some(err.class());
        self.reason = Some(err.to_string());
        self
    }
}

/// The function's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncReport {
    pub run_id: String,
    pub mode: &'static str,
    pub started_at: DateTime<Utc>,
    pub today: NaiveDate,
    /// `failed` if any kind failed, `partial` if any was partial, else `complete`.
    pub outcome: Outcome,
    pub results: Vec<KindReport>,
}

impl SyncReport {
    pub fn result(&self, waba: &str, kind: &str) -> Option<&KindReport> {
        self.results
            .iter()
            .find(|r| r.waba_id == waba && r.kind == kind)
    }
}

#[derive(Debug, thiserror::Error)]
enum ChunkError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl ChunkError {
    fn class(&self) -> &'static str {
        match self {
            ChunkError::Graph(e) => e.class().as_str(),
            ChunkError::Store(_) => "storage",
        }
    }
}

#[derive(Debug, Default)]
struct ChunkStats {
    pages: usize,
    rows: usize,
    snapshots: usize,
    notes: Vec<String>,
}

impl ChunkStats {
    /// One pull's pages, the rows stored from it, its snapshots, and its unknown fields.
    fn of<T>(pull: &GraphPull<T>, rows: usize, snapshots: usize) -> Self {
        let mut stats = ChunkStats {
            pages: pull.pages.len(),
            rows,
            snapshots,
            notes: Vec::new(),
        };
        note_unknown_fields(&mut stats.notes, pull);
        stats
    }
}

/// Per-run facts shared by every pull.
struct Run {
    id: String,
    started_at: DateTime<Utc>,
    today: NaiveDate,
}

pub struct MetaSync<G, R> {
    graph: G,
    store: DynamoDbAnalyticsStore,
    snapshots: R,
    settings: Settings,
}

impl LiveMetaSync {
    /// Cold start: SDK config, the Graph token (Secrets Manager in AWS, env locally), clients.
    pub async fn from_env_config(config: &MetaSyncConfig) -> Result<Self, ConfigError> {
        let sdk = load_sdk_config().await;
        let graph =
            shared::adapters::aws::graph_config(&sdk, config.token_secret_id.as_deref()).await?;
        Ok(Self::new(
            GraphClient::new(graph)?,
            DynamoDbAnalyticsStore::new(dynamodb_client(&sdk, None), &config.table_name),
            S3RawStore::new(s3_client(&sdk), &config.bucket_name),
            Settings::from_config(config),
        ))
    }
}

impl<G: GraphSource, R: RawStore> MetaSync<G, R> {
    pub fn new(graph: G, store: DynamoDbAnalyticsStore, snapshots: R, settings: Settings) -> Self {
        Self {
            graph,
            store,
            snapshots,
            settings,
        }
    }

    /// The Lambda entry point: reads the payload, runs, logs the outcome.
    pub async fn handle(
        &self,
        payload: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<SyncReport, SyncError> {
        let request = SyncRequest::from_payload(&payload)?;
        let report = self.run(&request, now).await?;
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
            match r.outcome {
                Outcome::Failed | Outcome::Partial => tracing::error!(
                    run_id = %report.run_id, waba = %r.waba_id, kind = r.kind,
                    outcome = r.outcome.as_str(), error_class = r.error_class.unwrap_or(""),
                    reason, "meta-sync pull did not complete"
                ),
                _ => tracing::info!(
                    run_id = %report.run_id, waba = %r.waba_id, kind = r.kind,
                    outcome = r.outcome.as_str(), rows = r.rows_stored, pages = r.pages,
                    watermark = ?r.watermark_after, reason, "meta-sync pull"
                ),
            }
        }
        Ok(report)
    }

    /// One run over every configured (or requested) WABA, one WABA after another so one
    /// access token's rate limits are not hit in parallel.
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
        for waba in &wabas {
            results.extend(self.sync_waba(waba, request, kinds, &run).await);
        }
        let outcome = if results.iter().any(|r| r.outcome == Outcome::Failed) {
            Outcome::Failed
        } else if results.iter().any(|r| r.outcome == Outcome::Partial) {
            Outcome::Partial
        } else {
            Outcome::Complete
        };
        Ok(SyncReport {
            run_id: run.id,
            mode: request.mode(),
            started_at: now,
            today: run.today,
            outcome,
            results,
        })
    }

    async fn sync_waba(
        &self,
        waba: &str,
        request: &SyncRequest,
        kinds: Kinds,
        run: &Run,
    ) -> Vec<KindReport> {
        let mut out = Vec::new();
        let mut template_ids = None;
        // The catalogue gives template analytics its template ids.
        if kinds.catalogue || kinds.templates {
            let (report, ids) = self.pull_catalogue(waba, run).await;
            template_ids = ids;
            out.push(report);
        }
        for kind in PullKind::ALL {
            if !kinds.wants(kind) {
                continue;
            }
            if let Some(auth) = out.iter().find(|r| r.error_class == Some("auth")) {
                let reason = format!(
                    "not pulled: the access token was rejected for WABA {waba} (see the {} result)",
                    auth.kind
                );
                out.push(KindReport::new(waba, kind.as_str()).skipped(reason));
                continue;
            }
            out.push(
                self.pull_windowed(waba, kind, request, template_ids.as_deref(), run)
                    .await,
            );
        }
        for r in &mut out {
            let record = RunRecord {
                run_id: &run.id,
                at: run.started_at,
                outcome: r.outcome.as_str(),
                reason: r.reason.as_deref(),
            };
            if let Err(e) = self.store.record_run(waba, r.kind, &record).await {
                r.notes
                    .push(format!("could not record the run outcome: {e}"));
            }
        }
        out
    }

    async fn pull_catalogue(&self, waba: &str, run: &Run) -> (KindReport, Option<Vec<String>>) {
        let mut report = KindReport::new(waba, "catalogue");
        let result: Result<_, ChunkError> = async {
            let pull = self
                .graph
                .message_templates(waba, &CATALOGUE_FIELDS, CATALOGUE_PAGE)
                .await?;
            let snapshots = self
                .snapshot("catalogue", waba, run, "catalogue", &pull)
                .await?;
            let rows: Vec<_> = pull.values().flat_map(catalogue_rows).collect();
            let changes = self
                .store
                .put_catalogue(waba, &rows, run.started_at)
                .await?;
            Ok((pull, snapshots, rows, changes))
        }
        .await;
        match result {
            Ok((pull, snapshots, rows, changes)) => {
                report.pages = pull.pages.len();
                report.snapshots = snapshots;
                report.rows_stored = changes.stored;
                report.stored_through = Some(run.today);
                report.notes.push(format!(
                    "{} templates: {} new, {} with a status, quality or category change",
                    rows.len(),
                    changes.new,
                    changes.changed
                ));
                note_unknown_fields(&mut report.notes, &pull);
                let ids = rows.into_iter().map(|r| r.template_id).collect();
                (report, Some(ids))
            }
            Err(e) => (report.failed(&e), None),
        }
    }

    async fn pull_windowed(
        &self,
        waba: &str,
        kind: PullKind,
        request: &SyncRequest,
        template_ids: Option<&[String]>,
        run: &Run,
    ) -> KindReport {
        let mut report = KindReport::new(waba, kind.as_str());
        let before = match self.store.watermark(waba, kind).await {
            Ok(w) => w,
            Err(e) => return report.failed(&ChunkError::Store(e)),
        };
        report.watermark_before = before;
        report.watermark_after = before;
        let window = match request {
            SyncRequest::Scheduled { .. } => scheduled_window(kind, before, run.today),
            SyncRequest::Backfill { from, to, .. } => {
                match backfill_window(kind, *from, *to, run.today) {
                    Ok((w, clamped)) => {
                        if clamped {
                            report.notes.push(format!(
                                "backfill start {from} is older than Meta's {}-day lookback for {}: pulled from {} instead",
                                kind.lookback_days(),
                                kind.as_str(),
                                w.start
                            ));
                        }
                        w
                    }
                    Err(e) => return report.skipped(e.to_string()),
                }
            }
        };
        report.window = window.last_day().map(|last| Days {
            first: window.start,
            last,
        });
        let mut ctx = TemplateRowContext {
            metrics: TemplateMetric::ALL.to_vec(),
            clicks_available: !self.settings.clicks_unavailable.contains(waba),
        };
        let mut ids: &[String] = &[];
        if kind == PullKind::Templates {
            match template_ids {
                None => {
                    return report.skipped(
                        "the template catalogue could not be pulled, so there are no template ids to ask for",
                    );
                }
                Some([]) => return report.skipped("the WABA has no templates"),
                Some(list) => ids = list,
            }
            match self.graph.insights_enabled(waba).await {
                Ok(page) if page.value.is_enabled_for_insights == Some(true) => {}
                Ok(_) => {
                    return report.skipped(format!(
                        "template analytics are not enabled on WABA {waba} (is_enabled_for_insights is false), so Meta has no per-template data: nothing is stored, not zeros. Enable it with POST /<version>/{waba}?is_enabled_for_insights=true (Meta cannot turn it off again)"
                    ));
                }
                Err(e) => return report.failed(&ChunkError::Graph(e)),
            }
            if !ctx.clicks_available {
                report.notes.push(
                    "clicks are not reported by Meta in this WABA's region: stored as clicks_state = unavailable_in_region".into(),
                );
            }
        }
        ctx.metrics = TemplateMetric::ALL.to_vec();
        let mut watermark = before;
        let mut gap_noted = false;
        for chunk in window.chunks(self.settings.chunk_days) {
            let result = match kind {
                PullKind::Pricing => self.pricing_chunk(waba, chunk, run).await,
                PullKind::Templates => self.templates_chunk(waba, ids, &ctx, chunk, run).await,
                PullKind::Messaging => self.messaging_chunk(waba, chunk, run).await,
            };
            let stats = match result {
                Ok(stats) => stats,
                Err(e) => {
                    report.watermark_after = watermark;
                    return report.failed(&e);
                }
            };
            report.pages += stats.pages;
            report.rows_stored += stats.rows;
            report.snapshots += stats.snapshots;
            report.notes.extend(stats.notes);
            report.stored_through = chunk.last_day();
            if joins_complete_range(kind, watermark, chunk.start, run.today) {
                let next = advance_watermark(watermark, chunk.last_day(), run.today);
                if next > watermark
                    && let Some(day) = next
                {
                    if let Err(e) = self.store.advance_watermark(waba, kind, day).await {
                        report.watermark_after = watermark;
                        return report.failed(&ChunkError::Store(e));
                    }
                    watermark = next;
                }
            } else if !gap_noted {
                gap_noted = true;
                report.notes.push(format!(
                    "watermark not moved: {} does not join the complete range (watermark {}); the days between are pulled by the next scheduled run",
                    chunk.start,
                    watermark.map_or("none".to_string(), |w| w.to_string())
                ));
            }
        }
        report.watermark_after = watermark;
        report
    }

    async fn pricing_chunk(
        &self,
        waba: &str,
        chunk: DayWindow,
        run: &Run,
    ) -> Result<ChunkStats, ChunkError> {
        let (start, end) = padded(chunk);
        let pull = self
            .graph
            .pricing_analytics(waba, start, end, Granularity::Daily, &PricingDimension::ALL)
            .await?;
        let snapshots = self
            .snapshot("pricing", waba, run, &chunk_label(chunk), &pull)
            .await?;
        // Buckets follow the WABA's time zone, so the request is padded a day each side and
        // only buckets that start inside the request and fall on the chunk's days are kept.
        let rows: Vec<_> = pull
            .values()
            .flat_map(|v| pricing_rows(v, &[]))
            .filter(|r| r.start.0 >= start && in_window(chunk, r.day))
            .collect();
        let stored = self.store.put_pricing_rows(waba, &rows).await?;
        Ok(ChunkStats::of(&pull, stored, snapshots))
    }

    async fn messaging_chunk(
        &self,
        waba: &str,
        chunk: DayWindow,
        run: &Run,
    ) -> Result<ChunkStats, ChunkError> {
        let (start, end) = padded(chunk);
        let pull = self
            .graph
            .messaging_analytics(waba, start, end, Granularity::Daily)
            .await?;
        let snapshots = self
            .snapshot("messaging", waba, run, &chunk_label(chunk), &pull)
            .await?;
        let rows: Vec<_> = pull
            .values()
            .flat_map(messaging_rows)
            .filter(|r| r.start.0 >= start && in_window(chunk, r.day))
            .collect();
        let stored = self.store.put_messaging_rows(waba, &rows).await?;
        Ok(ChunkStats::of(&pull, stored, snapshots))
    }

    /// Every template, ten per request; the chunk is stored only when every batch answered.
    async fn templates_chunk(
        &self,
        waba: &str,
        ids: &[String],
        ctx: &TemplateRowContext,
        chunk: DayWindow,
        run: &Run,
    ) -> Result<ChunkStats, ChunkError> {
        // Template analytics days are UTC days: no padding needed.
        let start = midnight(chunk.start);
        let end = midnight(chunk.end);
        let mut stats = ChunkStats::default();
        let mut rows = Vec::new();
        let mut silent = 0;
        for (b, batch) in template_id_batches(ids).enumerate() {
            let pull = self
                .graph
                .template_analytics(waba, batch, start, end, &ctx.metrics)
                .await?;
            stats.snapshots += self
                .snapshot(
                    "templates",
                    waba,
                    run,
                    &format!("{}-b{b:02}", chunk_label(chunk)),
                    &pull,
                )
                .await?;
            stats.pages += pull.pages.len();
            note_unknown_fields(&mut stats.notes, &pull);
            let batch_rows: Vec<_> = pull
                .values()
                .flat_map(|v| template_rows(v, ctx))
                .filter(|r| in_window(chunk, r.day))
                .collect();
            silent += template_insights(batch, batch_rows.clone(), true)
                .iter()
                .filter(|(_, s)| *s == TemplateInsights::NoDataPoints)
                .count();
            rows.extend(batch_rows);
        }
        stats.rows = self.store.put_template_rows(waba, &rows).await?;
        if silent > 0 {
            stats.notes.push(format!(
                "{silent} of {} templates had no data points for {}: none stored (not zeros)",
                ids.len(),
                chunk_label(chunk)
            ));
        }
        Ok(stats)
    }

    /// Writes every page of a pull to S3 as Meta sent it:
    /// `<prefix><kind>/<waba>/<run day>/<run id>/<label>-p<page>.json`.
    async fn snapshot<T>(
        &self,
        kind: &str,
        waba: &str,
        run: &Run,
        label: &str,
        pull: &GraphPull<T>,
    ) -> Result<usize, StoreError> {
        for (i, page) in pull.pages.iter().enumerate() {
            let key = format!(
                "{}{kind}/{waba}/{}/{}/{label}-p{i:03}.json",
                self.settings.snapshot_prefix, run.today, run.id
            );
            self.snapshots
                .put_raw(
                    &key,
                    page.body.as_bytes(),
                    &[("graph-request", &page.request), ("run-id", &run.id)],
                )
                .await?;
        }
        Ok(pull.pages.len())
    }
}

fn midnight(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp())
}

/// The request range for a chunk of time-zone-aligned buckets: a day of margin each side.
fn padded(chunk: DayWindow) -> (i64, i64) {
    (
        midnight(chunk.start - Duration::days(1)),
        midnight(chunk.end + Duration::days(1)),
    )
}

fn in_window(w: DayWindow, day: NaiveDate) -> bool {
    w.start <= day && day < w.end
}

fn chunk_label(w: DayWindow) -> String {
    match w.last_day() {
        Some(last) => format!("{}_{last}", w.start),
        None => w.start.to_string(),
    }
}

fn note_unknown_fields<T>(notes: &mut Vec<String>, pull: &GraphPull<T>) {
    let unknown = pull.unknown_fields();
    if !unknown.is_empty() {
        notes.push(format!(
            "fields the model does not know (kept in the raw snapshot): {}",
            unknown.join(", ")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payloads_name_the_request() {
        assert_eq!(
            SyncRequest::from_payload(&serde_json::Value::Null).unwrap(),
            SyncRequest::Scheduled {
                wabas: None,
                kinds: None
            }
        );
        let scheduler_event = json!({"version": "0", "detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": {}});
        assert!(matches!(
            SyncRequest::from_payload(&scheduler_event).unwrap(),
            SyncRequest::Scheduled { .. }
        ));
        let backfill = json!({"mode": "backfill", "from": "2026-08-24", "to": "2026-11-20", "kinds": ["templates"]});
        assert_eq!(
            SyncRequest::from_payload(&backfill).unwrap(),
            SyncRequest::Backfill {
                from: "2026-08-24".parse().unwrap(),
                to: "2026-11-20".parse().unwrap(),
                wabas: None,
                kinds: Some(vec!["templates".into()])
            }
        );
        let err = SyncRequest::from_payload(&json!({"mode": "backfill", "from": "yesterday"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid meta-sync request"), "{err}");
        assert!(
            SyncRequest::from_payload(
                &json!({"mode": "scheduled", "kinds": ["pricing"], "extra": 1})
            )
            .is_err()
        );
        assert!(Kinds::parse(Some(&["spend".to_string()])).is_err());
        assert!(Kinds::parse(Some(&[])).is_err());
    }

    #[test]
    fn pricing_requests_are_padded_a_day_each_side() {
        let chunk = DayWindow {
            start: "2026-11-01".parse().unwrap(),
            end: "2026-11-03".parse().unwrap(),
        };
        assert_eq!(
            padded(chunk),
            (
                midnight("2026-10-31".parse().unwrap()),
                midnight("2026-11-04".parse().unwrap())
            )
        );
        assert_eq!(chunk_label(chunk), "2026-11-01_2026-11-02");
    }
}
