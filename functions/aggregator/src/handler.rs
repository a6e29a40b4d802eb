//! DynamoDB Streams → per-lead message activity. Each inbound message and each one-to-one
//! outbound message becomes a marker in its lead's partition (`shared::domain::activity`),
//! written idempotently (the earliest time wins), so a retried or re-ordered batch converges
//! to the same markers. Failures are reported per record (`ReportBatchItemFailures`): Lambda
//! retries from the first failed record, and records before it are not redone.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_runtime::LambdaEvent;
use shared::adapters::dynamodb_leads::DynamoDbLeadStore;
use shared::domain::activity::activity_change;

pub struct Aggregator {
    store: DynamoDbLeadStore,
}

/// A string or number attribute of a stream image, as text.
fn attr(item: &serde_dynamo::Item, name: &str) -> Option<String> {
    match item.get(name)? {
        serde_dynamo::AttributeValue::S(s) | serde_dynamo::AttributeValue::N(s) => Some(s.clone()),
        _ => None,
    }
}

impl Aggregator {
    pub fn from_sdk(sdk: &aws_config::SdkConfig, table: &str) -> Self {
        Self::new(DynamoDbLeadStore::new(
            shared::adapters::aws::dynamodb_client(sdk, None),
            table,
        ))
    }

    pub fn new(store: DynamoDbLeadStore) -> Self {
        Self { store }
    }

    /// Rebuilds every lead marker (the reports' time index) from the message items: the
    /// stream keeps only 24 hours, so this is how markers lost to an outage, or written
    /// before a marker attribute existed, are made whole. Idempotent (earliest time wins),
    /// so it can run beside live traffic and be repeated. Returns the markers recorded.
    pub async fn rebuild(&self, total_segments: i32) -> Result<u64, String> {
        let total_segments = total_segments.clamp(1, 64);
        let mut recorded = 0u64;
        for segment in 0..total_segments {
            let mut start = None;
            loop {
                let (activities, next) = self
                    .store
                    .scan_message_activity(segment, total_segments, start)
                    .await
                    .map_err(|e| e.to_string())?;
                for a in &activities {
                    self.store
                        .record_activity(a)
                        .await
                        .map_err(|e| e.to_string())?;
                    recorded += 1;
                }
                match next {
                    Some(k) => start = Some(k),
                    None => break,
                }
            }
        }
        tracing::info!(recorded, "lead markers rebuilt from the message items");
        Ok(recorded)
    }

    /// Processes a batch in order; on the first failure, reports it and every later record
    /// as failed so Lambda retries from there.
    pub async fn handle(&self, event: LambdaEvent<Event>) -> DynamoDbEventResponse {
        let mut response = DynamoDbEventResponse::default();
        let mut recorded = 0usize;
        for (i, record) in event.payload.records.iter().enumerate() {
            let change = &record.change;
            let Some(activity) = activity_change(
                |k| attr(&change.old_image, k),
                |k| attr(&change.new_image, k),
            ) else {
                continue;
            };
            if let Err(e) = self.store.record_activity(&activity).await {
                tracing::error!(error = %e, "lead activity not recorded; the batch is retried from here");
                for failed in &event.payload.records[i..] {
                    let mut f = DynamoDbBatchItemFailure::default();
                    f.item_identifier = failed.change.sequence_number.clone();
                    response.batch_item_failures.push(f);
                }
                return response;
            }
            recorded += 1;
        }
        tracing::info!(
            records = event.payload.records.len(),
            recorded,
            "stream batch folded"
        );
        response
    }
}
