//! DynamoDB Streams → per-lead message activity and identity. Each inbound message and each
//! one-to-one outbound message becomes a marker in its lead's partition
//! (`shared::domain::activity`), written idempotently (the earliest time wins), so a retried or
//! re-ordered batch converges to the same markers. A message that names its person by more
//! than one id (phone and business-scoped id, a number change) links them
//! (`shared::domain::identity`) and folds their leads into one. Each record also moves its
//! message's tally in the rollup slots (`shared::rollups`), and, after the batch is folded,
//! the person facts (response waits, replied template messages) of everyone it touched are
//! recomputed (`shared::facts`). Failures are reported per record
//! (`ReportBatchItemFailures`): Lambda retries from the first failed record, and records
//! before it are not redone.
//!
//! It also runs the maintenance actions (`{"action": …}`, [`Aggregator::maintenance`]):
//! `rebuild`, `link`, `redrive` and `rebuild-rollups` (`crate::maintenance`), with the same
//! code as the `make` commands. Replaying the webhook's kept bodies is the `replay` function's
//! (it needs the webhook's writes). Identity links live in `crate::identity`, tenancy filing
//! in `crate::tenancy`, the reading of stream images in `crate::stream`.

use crate::stream::{attr, read_record};
use crate::tenancy::Filed;
use aws_lambda_events::event::dynamodb::{StreamRecord, TimeWindowEvent, TimeWindowEventResponse};
use aws_lambda_events::event::streams::DynamoDbBatchItemFailure;
use lambda_runtime::LambdaEvent;
use shared::adapters::dynamodb::facts::{DynamoDbFactsStore, DynamoDbPersonHistory};
use shared::adapters::dynamodb::identity::DynamoDbIdentityStore;
use shared::adapters::dynamodb::leads::DynamoDbLeadStore;
use shared::adapters::dynamodb::rollups::DynamoDbRollupStore;
use shared::domain::activity::{Direction, activity_change, activity_of};
use shared::domain::identity::ids_of_message;
use shared::ports::{
    IdentityStore, LeadActivity, LeadStore, LeadsError, PersonFactsStore, PersonHistory,
    RollupStore,
};
use shared::rollups::{RecordChange, RollupError, fold_batch};
use std::collections::BTreeSet;

pub use crate::identity::LinkOutcome;

/// The aggregator over the lead ports `S`, the identity store `I`, the message rollups `R`,
/// the person rollups `F` and the person history `H` (the defaults are the deployed
/// DynamoDB adapters).
pub struct Aggregator<
    S = DynamoDbLeadStore,
    I = DynamoDbIdentityStore,
    R = DynamoDbRollupStore,
    F = DynamoDbFactsStore,
    H = DynamoDbPersonHistory,
> {
    pub(crate) store: S,
    pub(crate) identity: I,
    pub(crate) rollups: R,
    pub(crate) facts: F,
    pub(crate) history: H,
    /// Tenancy facts this instance already wrote (`lead|<id>|<waba>`, `phone|<id>|<waba>`):
    /// the writes are idempotent, so this only saves repeating them on a warm instance.
    pub(crate) filed: Filed,
}

impl Aggregator {
    /// Cold start: the DynamoDB adapters over `table`.
    pub fn from_sdk(sdk: &aws_config::SdkConfig, table: &str) -> Self {
        Self::over(shared::adapters::aws::dynamodb_client(sdk, None), table)
    }

    /// The DynamoDB adapters over one client and table.
    pub fn over(client: aws_sdk_dynamodb::Client, table: &str) -> Self {
        let store = DynamoDbLeadStore::new(client.clone(), table);
        let identity = store.identity().clone();
        Self::from_ports(
            store,
            identity,
            DynamoDbRollupStore::new(client.clone(), table),
            DynamoDbFactsStore::new(client.clone(), table),
            DynamoDbPersonHistory::new(client, table),
        )
    }
}

impl<S, I, R, F, H> Aggregator<S, I, R, F, H>
where
    S: LeadStore + LeadActivity,
    I: IdentityStore,
    R: RollupStore,
    F: PersonFactsStore,
    H: PersonHistory,
{
    pub fn from_ports(store: S, identity: I, rollups: R, facts: F, history: H) -> Self {
        Self {
            store,
            identity,
            rollups,
            facts,
            history,
            filed: Default::default(),
        }
    }

    /// Recomputes the person facts (`shared::facts`) of the ids each record touches (`people`),
    /// in the order of their first record. Returns the index of the first record whose
    /// person could not be recomputed (the batch is retried from there), or `None`.
    async fn recompute_people(&self, people: &[Vec<String>]) -> Option<usize> {
        let mut done: BTreeSet<String> = BTreeSet::new();
        for (i, ids) in people.iter().enumerate() {
            for id in ids {
                if done.contains(id) {
                    continue;
                }
                match shared::facts::recompute(&self.facts, &self.history, &self.identity, id).await
                {
                    Ok(r) => done.extend(r.ids),
                    Err(e) => {
                        tracing::error!(error = %e, "person facts not recomputed; the batch is retried from here");
                        return Some(i);
                    }
                }
            }
        }
        None
    }

    /// One stream record: the lead marker of its message (moved when its person's id
    /// changed) and the identity links it carries.
    async fn fold(&self, change: &StreamRecord) -> Result<(), LeadsError> {
        let old = |k: &str| attr(&change.old_image, k);
        let new = |k: &str| attr(&change.new_image, k);
        if let Some(activity) = activity_change(old, new) {
            self.store.record_activity(&activity).await?;
            self.file_tenancy(&activity).await?;
            if let Some(before) = activity_of(old)
                && before.direction == Direction::Outbound
                && before.user_key != activity.user_key
            {
                self.store
                    .forget_activity(&before.user_key, before.direction, &before.wamid)
                    .await?;
            }
        }
        let sk = new("sk").unwrap_or_default();
        // Inbound items are written once: their insert is the only record that matters.
        if sk == "IN" && !change.old_image.is_empty() {
            return Ok(());
        }
        let sender = (sk == "IN").then(|| new("user_key")).flatten();
        self.link(ids_of_message(&sk, new), sender.as_deref()).await
    }

    /// Processes a batch: first its rollup deltas (one guarded update per slot), then each
    /// record in order. On a failure, reports the first record not done and every later one,
    /// so Lambda retries from there; what was done before is skipped on the retry (markers
    /// are idempotent, rollup slots are guarded).
    pub async fn handle(&self, event: LambdaEvent<TimeWindowEvent>) -> TimeWindowEventResponse {
        let mut response = TimeWindowEventResponse::default();
        let records = &event.payload.dynamo_db_event.records;
        let shard = event.payload.time_window_properties.shard_id.as_deref();
        let (changes, people): (Vec<RecordChange>, Vec<Vec<String>>) =
            records.iter().map(read_record).unzip();
        let mut stop = records.len();
        match fold_batch(&self.rollups, shard, &changes).await {
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "rollups not updated; the batch is retried from the first record not taken");
                stop = match &e {
                    RollupError::Unguarded(_) => 0,
                    RollupError::Store { sequence, .. } => records
                        .iter()
                        .position(|r| {
                            r.change.sequence_number.as_deref() == Some(sequence.as_str())
                        })
                        .unwrap_or(0),
                };
            }
        }
        let mut recorded = 0usize;
        for record in &records[..stop] {
            if let Err(e) = self.fold(&record.change).await {
                tracing::error!(error = %e, "lead activity not recorded; the batch is retried from here");
                break;
            }
            recorded += 1;
        }
        // The people of every folded record, even when a later record failed: the records
        // before the failure are not redelivered, so their recompute cannot wait.
        if let Some(first) = self.recompute_people(&people[..recorded]).await {
            recorded = first;
        }
        if recorded < records.len() {
            shared::telemetry::emit_metrics(
                "aggregator",
                &[],
                &[("FailedRecords", (records.len() - recorded) as f64, "Count")],
            );
            for failed in &records[recorded..] {
                let mut f = DynamoDbBatchItemFailure::default();
                f.item_identifier = failed.change.sequence_number.clone();
                response.batch_item_failures.push(f);
            }
            return response;
        }
        tracing::info!(records = records.len(), recorded, "stream batch folded");
        shared::telemetry::emit_metrics(
            "aggregator",
            &[],
            &[("Records", records.len() as f64, "Count")],
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// With tumbling windows on, Lambda treats an answer without `state` as a failed
    /// invocation: the (empty) state must always be there, beside the failures.
    #[test]
    fn the_answer_carries_the_window_state() {
        let mut response = TimeWindowEventResponse::default();
        let mut f = DynamoDbBatchItemFailure::default();
        f.item_identifier = Some("42".to_string());
        response.batch_item_failures.push(f);
        let v = serde_json::to_value(&response).expect("serializes");
        assert_eq!(v["state"], json!({}));
        assert_eq!(v["batchItemFailures"][0]["itemIdentifier"], "42");
    }
}
