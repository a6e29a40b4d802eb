//! `DynamoDbLeadStore` as the lead ports ([`LeadStore`], [`LeadActivity`]): each method is
//! the adapter's own (in `mod.rs`, `timeline.rs`, `consent.rs`, `conversions.rs`,
//! `import.rs`, `activity.rs`); the contracts are documented on the traits. Plain `fn`s
//! returning the inherent method's future, so a method that lost its inherent twin would be
//! flagged as unconditional recursion rather than loop.

use super::*;
use crate::domain::leads::jobs::ImportJob;
use crate::ports::{ConsentFacts, LeadActivity, LeadStore, ScanCursor};
use std::future::Future;

impl LeadStore for DynamoDbLeadStore {
    fn list(
        &self,
        filter: &LeadFilter,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(Vec<LeadView>, Option<String>), LeadsError>> + Send {
        DynamoDbLeadStore::list(self, filter, now)
    }

    fn lead(
        &self,
        lead_id: &str,
    ) -> impl Future<Output = Result<Option<LeadView>, LeadsError>> + Send {
        DynamoDbLeadStore::lead(self, lead_id)
    }

    fn get(
        &self,
        lead_id: &str,
    ) -> impl Future<Output = Result<(LeadView, Timeline), LeadsError>> + Send {
        DynamoDbLeadStore::get(self, lead_id)
    }

    fn update(
        &self,
        lead_id: &str,
        patch: &LeadPatch,
        actor: &str,
        lifecycle: &Lifecycle,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<LeadView, LeadsError>> + Send {
        DynamoDbLeadStore::update(self, lead_id, patch, actor, lifecycle, now)
    }

    fn visible(
        &self,
        id: &str,
        access: &Access,
    ) -> impl Future<Output = Result<bool, LeadsError>> + Send {
        DynamoDbLeadStore::visible(self, id, access)
    }

    fn phone_waba(
        &self,
        phone_number_id: &str,
    ) -> impl Future<Output = Result<Option<String>, LeadsError>> + Send {
        DynamoDbLeadStore::phone_waba(self, phone_number_id)
    }

    fn record_lead_waba(
        &self,
        user_key: &str,
        waba_id: &str,
    ) -> impl Future<Output = Result<(), LeadsError>> + Send {
        DynamoDbLeadStore::record_lead_waba(self, user_key, waba_id)
    }

    fn import(
        &self,
        rows: &[ImportRow],
        initial_stage: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<ImportCounts, LeadsError>> + Send {
        DynamoDbLeadStore::import(self, rows, initial_stage, actor, now)
    }

    fn record_consent(
        &self,
        record: &ConsentRecord,
    ) -> impl Future<Output = Result<(ConsentEventView, Vec<ConsentStateView>), LeadsError>> + Send
    {
        DynamoDbLeadStore::record_consent(self, record)
    }

    fn consent_facts(
        &self,
        user: &str,
        phone_number_id: &str,
        category: &str,
    ) -> impl Future<Output = Result<ConsentFacts, LeadsError>> + Send {
        DynamoDbLeadStore::consent_facts(self, user, phone_number_id, category)
    }

    fn record_conversion(
        &self,
        lead_id: &str,
        conversion: &Conversion,
        fingerprint: &str,
    ) -> impl Future<Output = Result<(Conversion, bool), LeadsError>> + Send {
        DynamoDbLeadStore::record_conversion(self, lead_id, conversion, fingerprint)
    }

    fn forward_state(
        &self,
        lead_id: &str,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<Option<String>, LeadsError>> + Send {
        DynamoDbLeadStore::forward_state(self, lead_id, idempotency_key)
    }

    fn transition_forward(
        &self,
        lead_id: &str,
        idempotency_key: &str,
        from: ForwardState,
        to: ForwardState,
        error: Option<&str>,
    ) -> impl Future<Output = Result<bool, LeadsError>> + Send {
        DynamoDbLeadStore::transition_forward(self, lead_id, idempotency_key, from, to, error)
    }

    fn create_job(&self, job: &ImportJob) -> impl Future<Output = Result<bool, LeadsError>> + Send {
        DynamoDbLeadStore::create_job(self, job)
    }

    fn job(&self, id: &str) -> impl Future<Output = Result<Option<ImportJob>, LeadsError>> + Send {
        DynamoDbLeadStore::job(self, id)
    }

    fn start_job(
        &self,
        seen: &ImportJob,
        sha256: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, LeadsError>> + Send {
        DynamoDbLeadStore::start_job(self, seen, sha256, now)
    }

    fn finish_job(&self, job: &ImportJob) -> impl Future<Output = Result<(), LeadsError>> + Send {
        DynamoDbLeadStore::finish_job(self, job)
    }
}

impl LeadActivity for DynamoDbLeadStore {
    fn record_activity(&self, a: &Activity) -> impl Future<Output = Result<(), LeadsError>> + Send {
        DynamoDbLeadStore::record_activity(self, a)
    }

    fn forget_activity(
        &self,
        user_key: &str,
        direction: Direction,
        wamid: &str,
    ) -> impl Future<Output = Result<(), LeadsError>> + Send {
        DynamoDbLeadStore::forget_activity(self, user_key, direction, wamid)
    }

    fn record_phone_waba(
        &self,
        phone_number_id: &str,
        waba_id: &str,
    ) -> impl Future<Output = Result<(), LeadsError>> + Send {
        DynamoDbLeadStore::record_phone_waba(self, phone_number_id, waba_id)
    }

    fn scan_messages(
        &self,
        segment: i32,
        total_segments: i32,
        start: Option<ScanCursor>,
    ) -> impl Future<Output = Result<(Vec<ScannedMessage>, Option<ScanCursor>), LeadsError>> + Send
    {
        DynamoDbLeadStore::scan_messages(self, segment, total_segments, start)
    }
}
