//! Ports: the small traits the functions depend on. Adapters implement them.

pub mod analytics;
pub use self::analytics::{AnalyticsStore, CatalogueChanges, RunRecord};
pub mod assignment;
pub use self::assignment::{AssignmentStore, Committed, OwnerAssignment};
pub mod facts;
pub use self::facts::{FactsCommit, PersonFactsStore, PersonHistory};
pub mod graph;
pub mod leads;
pub use self::leads::{
    ConsentFacts, LeadActivity, LeadStore, LeadsError, ScanCursor, ScannedMessage,
};
pub mod rollups;
pub use self::rollups::{RollupStore, SlotDelta, StreamPosition};

use self::graph::{GraphError, GraphPage, GraphPull};
use crate::domain::analytics::{
    Granularity, InsightsFlagResponse, MessageTemplatesResponse, MessagingAnalyticsResponse,
    PricingAnalyticsResponse, PricingDimension, TemplateAnalyticsResponse, TemplateMetric,
};
use crate::domain::identity::{IdentityMap, Person};
use crate::domain::ingest::Write;
use std::future::Future;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Transient: the store could not be reached, throttled, timed out. The caller answers
    /// 5xx so Meta retries.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Permanent: the store refused the data itself (validation). Retrying cannot help, so
    /// the caller keeps the raw body elsewhere instead.
    #[error("storage rejected the write: {0}")]
    Rejected(String),
}

/// What applying a plan did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    /// Writes that changed stored state.
    pub applied: usize,
    /// Writes whose condition failed: already applied (duplicate) or superseded.
    pub unchanged: usize,
    /// Writes the store refused for their data (e.g. an item over the size limit): every
    /// other write of the plan was still applied; the caller keeps these raw.
    pub rejected: Vec<RejectedWrite>,
    /// The `Write::Lead` writes (indices into the plan's writes, ascending) whose message
    /// created the lead and whose lead may still need an owner: what the owner assignment
    /// (`crate::assignment`) runs on. The DynamoDB store reports them only when asked (when
    /// assignment is configured), the in-memory one always; either may name a lead that has
    /// an owner already, whose assignment then changes nothing.
    pub unowned_leads: Vec<usize>,
}

/// One write the store refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedWrite {
    /// Index into the plan's writes.
    pub index: usize,
    /// The write's kind (`Write::kind`).
    pub kind: &'static str,
    pub reason: String,
}

/// The source of truth for ingested events.
pub trait EventStore: Send + Sync {
    /// Applies every write; each is idempotent, so a retried call converges. Returns only
    /// after all writes are durable (or refused for their data: [`ApplyReport::rejected`]),
    /// or the first [`StoreError::Unavailable`].
    fn apply(
        &self,
        writes: &[Write<'_>],
    ) -> impl Future<Output = Result<ApplyReport, StoreError>> + Send;
}

/// Raw bodies we keep outside the table (quarantine of unparseable POSTs, oversized parts).
pub trait RawStore: Send + Sync {
    fn put_raw(
        &self,
        key: &str,
        body: &[u8],
        metadata: &[(&str, &str)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A kept raw body as listed: its key and when it was written (epoch seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawObject {
    pub key: String,
    pub written_at: i64,
}

/// Reading back the raw bodies [`RawStore`] kept (the replay). Read-only: nothing here can
/// change or remove a kept body.
pub trait RawArchive: Send + Sync {
    /// One page of the objects under `prefix` in key order, from `page` (the previous page's
    /// token) or else after the key `start_after`. Returns the objects and the next page's
    /// token (`None` on the last page).
    fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        page: Option<String>,
    ) -> impl Future<Output = Result<(Vec<RawObject>, Option<String>), StoreError>> + Send;

    /// An object's bytes, `None` when it is gone (expired since it was listed).
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;
}

/// Where the webhook's secrets come from, read at cold start and again when they may have
/// changed (rotation, revocation).
pub trait WebhookSecretSource: Send + Sync {
    fn load(
        &self,
    ) -> impl Future<Output = Result<crate::config::WebhookSecrets, crate::config::ConfigError>> + Send;
    /// Whether reading again can give something new (env secrets cannot).
    fn refreshable(&self) -> bool;
}

/// Meta's Graph API as the scheduled pulls see it. `GraphClient` implements it over HTTPS;
/// the meta-sync function depends only on this.
pub trait GraphSource: Send + Sync {
    fn pricing_analytics(
        &self,
        waba: &str,
        start: i64,
        end: i64,
        granularity: Granularity,
        dimensions: &[PricingDimension],
    ) -> impl Future<Output = Result<GraphPull<PricingAnalyticsResponse>, GraphError>> + Send;

    fn template_analytics(
        &self,
        waba: &str,
        template_ids: &[String],
        start: i64,
        end: i64,
        metric_types: &[TemplateMetric],
    ) -> impl Future<Output = Result<GraphPull<TemplateAnalyticsResponse>, GraphError>> + Send;

    fn message_templates(
        &self,
        waba: &str,
        fields: &[&str],
        limit: u32,
    ) -> impl Future<Output = Result<GraphPull<MessageTemplatesResponse>, GraphError>> + Send;

    fn messaging_analytics(
        &self,
        waba: &str,
        start: i64,
        end: i64,
        granularity: Granularity,
    ) -> impl Future<Output = Result<GraphPull<MessagingAnalyticsResponse>, GraphError>> + Send;

    fn insights_enabled(
        &self,
        waba: &str,
    ) -> impl Future<Output = Result<GraphPage<InsightsFlagResponse>, GraphError>> + Send;
}

/// Who is who: the ids Meta gave one person, linked (rules in `domain::identity`).
pub trait IdentityStore: Send + Sync {
    /// Records that `ids` name one person. Returns the person as now known (every id linked
    /// to any of them) and whether anything was written (`false` when already linked).
    fn link(
        &self,
        ids: &std::collections::BTreeSet<String>,
    ) -> impl Future<Output = Result<(Person, bool), StoreError>> + Send;

    /// The person `id` names (just `id` when nothing links it).
    fn person(&self, id: &str) -> impl Future<Output = Result<Person, StoreError>> + Send;

    /// Folds the lead items of the person's other ids into the lead id's (earliest creation
    /// and first touch, latest activity, the most recent manager edit, the first owner) and
    /// marks them merged. Idempotent and order-independent. A profile already merged is
    /// folded again only with `refold` (it changed since: a late message under that id).
    /// Returns the profiles folded.
    fn merge(
        &self,
        person: &Person,
        refold: bool,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// The people of many ids at once (reports).
    fn identity_map(
        &self,
        ids: &[String],
    ) -> impl Future<Output = Result<IdentityMap, StoreError>> + Send;
}

// ---------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------

/// The time window a report reads, wider than its period: history before it (trailing
/// averages, response-time waits) and replies after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportWindow {
    /// Epoch seconds, inclusive.
    pub lo: i64,
    pub hi: i64,
    /// Meta's pulled days (pricing, messaging) to read, inclusive, per WABA.
    pub from_day: chrono::NaiveDate,
    pub to_day: chrono::NaiveDate,
    pub wabas: Vec<String>,
    /// Also read every earlier message of the people seen in the window.
    pub with_history: bool,
    /// Read the message markers of the window (and the messages behind them); consent
    /// events and conversions are always read. Off when the report's message figures come
    /// from the rollups ([`ReportSource::rollups`]): no message nor marker is read then,
    /// only the window's consent events, conversions, leads and Meta's days.
    pub messages: bool,
}

/// The facts a report is computed from, read from the source of truth (no rollups: every
/// figure is recomputed, so a report is exact whatever the delivery order was).
pub trait ReportSource: Send + Sync {
    fn inputs(
        &self,
        window: &ReportWindow,
    ) -> impl Future<Output = Result<crate::domain::metrics::input::Inputs, StoreError>> + Send;

    /// The message tallies of the rollup slots starting in `lo..=hi`
    /// (`domain::metrics::tally`); `None` when this source keeps no rollups (the report then
    /// reads the messages).
    fn rollups(
        &self,
        lo: i64,
        hi: i64,
    ) -> impl Future<Output = Result<Option<Vec<crate::domain::metrics::tally::Tally>>, StoreError>> + Send
    {
        let _ = (lo, hi);
        async { Ok(None) }
    }

    /// The person facts of the person-rollup slots starting in `lo..=hi`
    /// (`domain::metrics::facts`); `None` when this source keeps no person rollups (the
    /// report then reads the messages and every earlier message of their people).
    fn facts(
        &self,
        lo: i64,
        hi: i64,
    ) -> impl Future<Output = Result<Option<Vec<crate::domain::metrics::tally::Tally>>, StoreError>> + Send
    {
        let _ = (lo, hi);
        async { Ok(None) }
    }

    /// The outbound messages whose marker time is in `lo..=hi` (a slice of a long export:
    /// the caller walks the period hour by hour so memory stays flat).
    fn outbound_between(
        &self,
        lo: i64,
        hi: i64,
    ) -> impl Future<Output = Result<Vec<crate::domain::metrics::input::OutboundMsg>, StoreError>> + Send;

    /// What opt-out attribution needs for `lo..=hi`: the consent events of the window and,
    /// for each person with an opt-out among them, every outbound message of theirs with
    /// only its wamid and time (`times.sent_at` = the marker's time).
    fn opt_out_facts(
        &self,
        lo: i64,
        hi: i64,
    ) -> impl Future<
        Output = Result<
            (
                Vec<crate::domain::metrics::input::ConsentEvt>,
                Vec<crate::domain::metrics::input::OutboundMsg>,
            ),
            StoreError,
        >,
    > + Send;

    /// The WABAs of these leads (their profiles' `waba_id` and `waba_ids`) and of these
    /// business numbers: what a caller restricted to some WABAs may see
    /// (`crate::domain::access`). Unknown ids are absent from the answer.
    fn tenancy(
        &self,
        lead_ids: &[String],
        phone_number_ids: &[String],
    ) -> impl Future<Output = Result<crate::domain::access::Tenancy, StoreError>> + Send;

    /// Leads created between `lo` and `hi` (epoch seconds, inclusive), oldest first.
    fn leads_created(
        &self,
        lo: i64,
        hi: i64,
    ) -> impl Future<Output = Result<Vec<crate::domain::leads::LeadView>, StoreError>> + Send;
}

/// The record kept of each report.
pub trait ReportStore: Send + Sync {
    fn put(
        &self,
        record: &crate::domain::report::ReportRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn get(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<crate::domain::report::ReportRecord>, StoreError>> + Send;
    /// Newest first.
    fn recent(
        &self,
        limit: i32,
    ) -> impl Future<Output = Result<Vec<crate::domain::report::ReportRecord>, StoreError>> + Send;
}

/// A link to a stored report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedLink {
    pub url: String,
    /// Epoch seconds: when the link stops working (the earlier of the asked life and the
    /// signing credentials' expiry).
    pub expires_at: i64,
}

/// One object being written in parts (bounded memory whatever its size).
pub trait ObjectUpload: Send {
    /// Appends a part (at least 5 MiB, except the last).
    fn part(&mut self, bytes: Vec<u8>) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Appends the last bytes and makes the object visible.
    fn finish(self, last: Vec<u8>) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Drops what was uploaded (nothing becomes visible).
    fn abort(self) -> impl Future<Output = ()> + Send;
}

/// Where report files go, and links to them.
pub trait ReportObjects: Send + Sync {
    type Upload: ObjectUpload;
    fn start(
        &self,
        key: &str,
        content_type: &str,
        metadata: &[(&str, &str)],
    ) -> impl Future<Output = Result<Self::Upload, StoreError>> + Send;
    fn presign_get(
        &self,
        key: &str,
        expires_in: i64,
        filename: &str,
    ) -> impl Future<Output = Result<PresignedLink, StoreError>> + Send;
    /// A stored report file's bytes (small files only: the summary page's template).
    fn read(&self, key: &str) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;
}

/// Where a schedule's reports are announced (an SNS topic), if anywhere.
pub trait ReportAnnouncer: Send + Sync {
    fn announce(
        &self,
        announcement: &crate::domain::announcement::Announcement,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// No announcements (no topic configured).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAnnouncer;

impl ReportAnnouncer for NoAnnouncer {
    async fn announce(
        &self,
        _: &crate::domain::announcement::Announcement,
    ) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Meta's Conversions API for business messaging: where recorded conversions are sent.
pub trait ConversionSink: Send + Sync {
    /// Sends one event to the dataset; the adapter retries throttling and outages itself.
    fn send(
        &self,
        dataset_id: &str,
        event: &serde_json::Value,
    ) -> impl Future<Output = Result<(), crate::domain::capi::SendFailure>> + Send;
}

/// Where large CSV imports are uploaded (`imports/<job id>.csv`).
pub trait ImportFiles: Send + Sync {
    /// A link to upload the file to with `PUT` (`Content-Type: text/csv`), valid for its
    /// stated life.
    fn upload_link(
        &self,
        key: &str,
        expires_in: i64,
    ) -> impl Future<Output = Result<PresignedLink, StoreError>> + Send;

    /// The uploaded file; `Ok(None)` when it is larger than `max_bytes` (not read).
    fn read(
        &self,
        key: &str,
        max_bytes: u64,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;
}
