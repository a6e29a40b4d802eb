//! The analytics store port: everything the scheduled Meta pulls (the sync service,
//! `crate::sync`) read and write in the table. `DynamoDbAnalyticsStore`
//! (`crate::adapters::dynamodb::analytics`) implements it over DynamoDB; the in-memory
//! `MemoryAnalyticsStore` (`crate::memory::analytics`, feature `test-util`) for fast tests.

use super::StoreError;
use crate::domain::analytics::{MessagingRow, PricingRow, TemplateCatalogueRow, TemplateDayRow};
use crate::domain::sync::{Outcome, PullKind, SyncKind};
use chrono::{DateTime, NaiveDate, Utc};
use std::future::Future;

/// How one pull of one kind ended, kept beside the watermark so a failed run is visible in
/// the table, not only in the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord<'a> {
    pub run_id: &'a str,
    pub at: DateTime<Utc>,
    pub outcome: Outcome,
    pub reason: Option<&'a str>,
}

/// What storing the catalogue changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogueChanges {
    pub stored: usize,
    /// Templates seen for the first time.
    pub new: usize,
    /// Templates whose status, quality or category differs from the previous pull.
    pub changed: usize,
}

/// Meta's pulled analytics per WABA: rows per day × dimension (or template × day), the
/// template catalogue with its history, and one watermark and last-run record per kind.
/// Every row write is an idempotent overwrite (a re-run stores the same values); every error
/// is [`StoreError::Unavailable`] unless the stored data itself is unreadable
/// ([`StoreError::Rejected`]).
pub trait AnalyticsStore: Send + Sync {
    /// Stores pricing rows (overwrite per day × dimensions). Returns rows written.
    fn put_pricing_rows(
        &self,
        waba_id: &str,
        rows: &[PricingRow],
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// Stores template rows (overwrite per template × day). Returns rows written.
    fn put_template_rows(
        &self,
        waba_id: &str,
        rows: &[TemplateDayRow],
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// Stores Meta's sent/delivered per day (overwrite per day). Returns rows written.
    fn put_messaging_rows(
        &self,
        waba_id: &str,
        rows: &[MessagingRow],
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// Stores the catalogue (overwritten per pull) and, when a template is new or its status,
    /// quality or category differs from the previous pull, one history entry per changed
    /// aspect at `pulled_at`. Re-running a pull with unchanged data writes no history.
    fn put_catalogue(
        &self,
        waba_id: &str,
        rows: &[TemplateCatalogueRow],
        pulled_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<CatalogueChanges, StoreError>> + Send;

    /// Records how the latest run of a kind ended; the kind's watermark is untouched.
    fn record_run(
        &self,
        waba_id: &str,
        kind: SyncKind,
        run: &RunRecord<'_>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The last complete day stored for a WABA and kind (read strongly consistent).
    fn watermark(
        &self,
        waba_id: &str,
        kind: PullKind,
    ) -> impl Future<Output = Result<Option<NaiveDate>, StoreError>> + Send;

    /// Moves the watermark forward to `day`; an older or equal day changes nothing (returns
    /// false), so overlapping or retried runs cannot move it back.
    fn advance_watermark(
        &self,
        waba_id: &str,
        kind: PullKind,
        day: NaiveDate,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
