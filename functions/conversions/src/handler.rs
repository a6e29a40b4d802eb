//! DynamoDB Streams → Meta's Conversions API. The event source mapping passes only
//! conversion items whose `forwarded` is `pending` (new, or sent again after a failure);
//! each is planned by `shared::domain::capi`, sent through the `ConversionSink` port (the
//! Graph client retries throttling and outages with backoff), and its state moved from
//! `pending` to `sent`, `failed` (with a short `forward_error` code), `no_ctwa_clid` or
//! `unsupported_type`. A storage failure fails the record and every later one in the batch,
//! so Lambda retries from there; after the mapping's retries the batch's position goes to
//! the dead-letter queue and the conversion stays `pending` (the runbook says how to resend).
//! A record delivered twice is sent once (the state is read first), and Meta deduplicates on
//! `event_id` should a send and a redelivery race.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_runtime::LambdaEvent;
use shared::domain::capi::{
    Attribution, ForwardState, PendingConversion, Plan, failure_code, plan,
};
use shared::ports::{ConversionSink, LeadStore, LeadsError};

/// The forwarder over a lead store `S` and the Conversions API sink `K`.
pub struct Forwarder<S, K> {
    store: S,
    sink: K,
    dataset_id: String,
}

/// A string or number attribute of a stream image, as text.
fn attr(item: &serde_dynamo::Item, name: &str) -> Option<String> {
    match item.get(name)? {
        serde_dynamo::AttributeValue::S(s) | serde_dynamo::AttributeValue::N(s) => Some(s.clone()),
        _ => None,
    }
}

impl<S: LeadStore, K: ConversionSink> Forwarder<S, K> {
    pub fn new(store: S, sink: K, dataset_id: impl Into<String>) -> Self {
        Self {
            store,
            sink,
            dataset_id: dataset_id.into(),
        }
    }

    /// Forwards one pending conversion. Returns the state it moved to, or `None` when it
    /// was no longer pending (a duplicate delivery).
    pub async fn forward(&self, c: &PendingConversion) -> Result<Option<ForwardState>, LeadsError> {
        // A redelivered record (or one already handled) sends nothing again.
        let state = self
            .store
            .forward_state(&c.lead_id, &c.idempotency_key)
            .await?;
        if state.as_deref() != Some(ForwardState::Pending.as_str()) {
            return Ok(None);
        }
        let attribution = self.store.lead(&c.lead_id).await?.map(|l| Attribution {
            ctwa_clid: l.first_touch.and_then(|t| t.ctwa_clid),
            waba_id: l.waba_id,
        });
        let (to, error) = match plan(c, attribution.as_ref()) {
            Plan::Skip(state) => (state, None),
            Plan::Send(event) => match self.sink.send(&self.dataset_id, &event).await {
                Ok(()) => (ForwardState::Sent, None),
                Err(f) => (ForwardState::Failed, Some(failure_code(f))),
            },
        };
        let moved = self
            .store
            .transition_forward(
                &c.lead_id,
                &c.idempotency_key,
                ForwardState::Pending,
                to,
                error.as_deref(),
            )
            .await?;
        Ok(moved.then_some(to))
    }

    /// One stream batch, in order; on a storage failure, that record and every later one
    /// are reported failed so Lambda retries from there.
    pub async fn handle(&self, event: LambdaEvent<Event>) -> DynamoDbEventResponse {
        let mut response = DynamoDbEventResponse::default();
        let records = &event.payload.records;
        let mut counts = [0f64; 3];
        for (i, record) in records.iter().enumerate() {
            let image = &record.change.new_image;
            let Some(c) = PendingConversion::of_item(|k| attr(image, k)) else {
                continue;
            };
            match self.forward(&c).await {
                Ok(Some(ForwardState::Sent)) => counts[0] += 1.0,
                Ok(Some(ForwardState::Failed)) => counts[1] += 1.0,
                Ok(_) => counts[2] += 1.0,
                Err(e) => {
                    tracing::error!(error = %e, "conversion state not stored; the batch is retried from here");
                    for failed in &records[i..] {
                        let mut f = DynamoDbBatchItemFailure::default();
                        f.item_identifier = failed.change.sequence_number.clone();
                        response.batch_item_failures.push(f);
                    }
                    break;
                }
            }
        }
        shared::telemetry::emit_metrics(
            "conversions",
            &[],
            &[
                ("ConversionsSent", counts[0], "Count"),
                ("ConversionsFailed", counts[1], "Count"),
                ("ConversionsSkipped", counts[2], "Count"),
            ],
        );
        response
    }
}
