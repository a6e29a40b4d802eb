//! The lead store ports: everything the managers' API (`leads`), the asynchronous imports
//! (`lead-imports`, `crate::imports`) and the Conversions API forwarder (`conversions`)
//! read and write about leads ([`LeadStore`]), and the aggregator's writes derived from the
//! message items ([`LeadActivity`]). `DynamoDbLeadStore`
//! (`crate::adapters::dynamodb::leads`) implements both over DynamoDB; `MemoryLeadStore`
//! (`crate::memory::leads`, feature `test-util`) in memory for fast handler tests.

use super::StoreError;
use crate::domain::access::Access;
use crate::domain::activity::{Activity, Direction};
use crate::domain::capi::ForwardState;
use crate::domain::consent_check::{ConsentStatus, EntryPoint};
use crate::domain::leads::jobs::ImportJob;
use crate::domain::leads::{
    ConsentEventView, ConsentRecord, ConsentStateView, Conversion, ImportCounts, ImportRow,
    LeadFilter, LeadPatch, LeadView, Lifecycle, StageError, Timeline,
};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::future::Future;

/// Why a lead store call failed. Every variant but [`LeadsError::Store`] is the caller's
/// (a 4xx on the API); `Store` carries the storage error by kind: `Unavailable` is
/// transient (503, retry), `Rejected` is a request the store refused for its data (our bug:
/// 500).
#[derive(Debug, thiserror::Error)]
pub enum LeadsError {
    #[error("lead {0} not found")]
    NotFound(String),
    #[error("lead was changed since version {expected}: the current version is {current}")]
    VersionConflict { expected: u64, current: u64 },
    #[error(transparent)]
    Stage(#[from] StageError),
    /// A list cursor this API did not issue (the only request the store itself judges).
    #[error("invalid cursor: {0}")]
    Invalid(String),
    #[error("idempotency key {0:?} was already used with a different conversion")]
    IdempotencyConflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the consent check needs about a user on a business number, for one category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentFacts {
    /// The person's current consent (any of their ids; the latest wins, an opt-out wins a
    /// same-second tie).
    pub consent: ConsentStatus,
    /// The stored state that answer rests on, as the API shows it.
    pub state: Option<ConsentStateView>,
    /// The person's last inbound message (any number).
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// The latest Click-to-WhatsApp referral and the business's first reply after it.
    pub entry_point: Option<EntryPoint>,
}

/// Where a message scan goes on from: opaque to callers, issued by the store that scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanCursor(pub String);

/// A message item as the maintenance commands read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedMessage {
    /// The lead marker it stands for, if any.
    pub activity: Option<Activity>,
    /// The ids of its person it names (`domain::identity::ids_of_message`).
    pub ids: BTreeSet<String>,
}

/// Leads, their timeline, consent, conversions and import jobs. A lead is read and changed
/// through any id of its person (`domain::identity`): the store folds a person's leads into
/// one before answering.
pub trait LeadStore: Send + Sync {
    /// Leads matching `filter`, newest first (ties by key), at most `filter.limit`, and the
    /// cursor of the next page (`None` at the end). A cursor the store did not issue is
    /// [`LeadsError::Invalid`]. The work per call is bounded; a page cut short by the bound
    /// still says where to go on.
    fn list(
        &self,
        filter: &LeadFilter,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(Vec<LeadView>, Option<String>), LeadsError>> + Send;

    /// Every lead matching the filter, newest first (the export): every page of [`list`].
    ///
    /// [`list`]: LeadStore::list
    fn all(
        &self,
        filter: &LeadFilter,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<LeadView>, LeadsError>> + Send {
        async move {
            let mut filter = filter.clone();
            filter.limit = crate::domain::leads::MAX_LIMIT;
            let mut out = Vec::new();
            loop {
                let (page, next) = self.list(&filter, now).await?;
                out.extend(page);
                match next {
                    Some(c) => filter.cursor = Some(c),
                    None => return Ok(out),
                }
            }
        }
    }

    /// One lead's profile as stored under `lead_id` (no identity folding), or `None`.
    fn lead(
        &self,
        lead_id: &str,
    ) -> impl Future<Output = Result<Option<LeadView>, LeadsError>> + Send;

    /// A lead and its timeline, through any id of its person ([`LeadsError::NotFound`] when
    /// there is no lead). Each timeline list holds its latest
    /// [`TIMELINE_ENTRIES`](crate::domain::leads::TIMELINE_ENTRIES) entries.
    fn get(
        &self,
        lead_id: &str,
    ) -> impl Future<Output = Result<(LeadView, Timeline), LeadsError>> + Send;

    /// Applies a patch if `patch.expected_version` is still the lead's version
    /// ([`LeadsError::VersionConflict`] with the current one otherwise; a stage change the
    /// lifecycle forbids is [`LeadsError::Stage`]); stage and owner changes are kept in the
    /// lead's history with the new version. Returns the lead as now stored.
    fn update(
        &self,
        lead_id: &str,
        patch: &LeadPatch,
        actor: &str,
        lifecycle: &Lifecycle,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<LeadView, LeadsError>> + Send;

    /// Whether `access` may see the person `id` names: any profile of any of their ids is
    /// filed under one of its WABAs. `true` without reading for a caller who sees every WABA.
    fn visible(
        &self,
        id: &str,
        access: &Access,
    ) -> impl Future<Output = Result<bool, LeadsError>> + Send;

    /// The WABA a business number belongs to, as its messages said, or `None` for a number
    /// no message has named yet.
    fn phone_waba(
        &self,
        phone_number_id: &str,
    ) -> impl Future<Output = Result<Option<String>, LeadsError>> + Send;

    /// Files a person's id under a WABA (a set union on the id's profile: idempotent; a
    /// profile not created yet gets only this, which reads ignore until the lead exists).
    fn record_lead_waba(
        &self,
        user_key: &str,
        waba_id: &str,
    ) -> impl Future<Output = Result<(), LeadsError>> + Send;

    /// Creates or updates one lead per row (a new lead starts in `initial_stage`, a row
    /// without a stage keeps the lead's); stage and owner changes are history (`reason` =
    /// `import`); a row's opt-in is recorded as consent (`via` = `import`).
    fn import(
        &self,
        rows: &[ImportRow],
        initial_stage: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<ImportCounts, LeadsError>> + Send;

    /// Records an opt-in or opt-out: an append-only event (recorded once per content) and,
    /// per category, the current state, which only moves forward in time. Returns the event
    /// and the id's states on that number.
    fn record_consent(
        &self,
        record: &ConsentRecord,
    ) -> impl Future<Output = Result<(ConsentEventView, Vec<ConsentStateView>), LeadsError>> + Send;

    /// What the consent check needs about `user` on `phone_number_id` for `category`.
    fn consent_facts(
        &self,
        user: &str,
        phone_number_id: &str,
        category: &str,
    ) -> impl Future<Output = Result<ConsentFacts, LeadsError>> + Send;

    /// Records a conversion once per idempotency key and id (any id of a person with a lead;
    /// else [`LeadsError::NotFound`]). Returns it and whether this was a replay of the same
    /// request (`fingerprint`); the key with another fingerprint is
    /// [`LeadsError::IdempotencyConflict`] and overwrites nothing.
    fn record_conversion(
        &self,
        lead_id: &str,
        conversion: &Conversion,
        fingerprint: &str,
    ) -> impl Future<Output = Result<(Conversion, bool), LeadsError>> + Send;

    /// A conversion's forwarding state (`forwarded`), read strongly consistent; `None` when
    /// the conversion does not exist.
    fn forward_state(
        &self,
        lead_id: &str,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<Option<String>, LeadsError>> + Send;

    /// Moves a conversion's forwarding from `from` to `to` (with `error` as its
    /// `forward_error`, or none): `false` when it was not in `from`.
    fn transition_forward(
        &self,
        lead_id: &str,
        idempotency_key: &str,
        from: ForwardState,
        to: ForwardState,
        error: Option<&str>,
    ) -> impl Future<Output = Result<bool, LeadsError>> + Send;

    /// Records a new import job; `false` when a job with its id exists already.
    fn create_job(&self, job: &ImportJob) -> impl Future<Output = Result<bool, LeadsError>> + Send;

    /// An import job, read strongly consistent.
    fn job(&self, id: &str) -> impl Future<Output = Result<Option<ImportJob>, LeadsError>> + Send;

    /// Moves a job to `running` (with the file's `sha256`, started `now`) if it is still as
    /// `seen` (same status and start): `false` when another run got there first.
    fn start_job(
        &self,
        seen: &ImportJob,
        sha256: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, LeadsError>> + Send;

    /// Stores a job's final state (`done` or `failed`).
    fn finish_job(&self, job: &ImportJob) -> impl Future<Output = Result<(), LeadsError>> + Send;
}

/// The aggregator's writes derived from the message items: one marker per message of a
/// lead, counted once; which WABA a business number belongs to; and the paged message scan
/// the maintenance commands (rebuild, link, redrive) read.
pub trait LeadActivity: Send + Sync {
    /// Records one message of a lead: the marker keeps the earliest time seen and is counted
    /// exactly once in its id's counters, whatever the retries and the order.
    fn record_activity(&self, a: &Activity) -> impl Future<Output = Result<(), LeadsError>> + Send;

    /// Removes a marker that no longer stands for its message's person (lowering its
    /// counter if it was counted); a marker already gone changes nothing.
    fn forget_activity(
        &self,
        user_key: &str,
        direction: Direction,
        wamid: &str,
    ) -> impl Future<Output = Result<(), LeadsError>> + Send;

    /// Records which WABA a business number belongs to (the latest message folded wins).
    fn record_phone_waba(
        &self,
        phone_number_id: &str,
        waba_id: &str,
    ) -> impl Future<Output = Result<(), LeadsError>> + Send;

    /// One page of segment `segment` of `total_segments` of the message items, from `start`
    /// (the previous page's cursor): per item, the activity it stands for and the ids of its
    /// person; and the cursor of the next page (`None` at the end of the segment).
    fn scan_messages(
        &self,
        segment: i32,
        total_segments: i32,
        start: Option<ScanCursor>,
    ) -> impl Future<Output = Result<(Vec<ScannedMessage>, Option<ScanCursor>), LeadsError>> + Send;
}
