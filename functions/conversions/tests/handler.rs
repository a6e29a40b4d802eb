//! The conversions forwarder driven with DynamoDB Streams batches from a fixture
//! (`tests/fixtures/pending_conversions.json`: two pending conversions, one of a lead that
//! came from a Click-to-WhatsApp ad, one of a lead that did not) against the lead store in
//! memory and a Conversions API sink that records what it was sent: no moto, no Graph API.
//! Expectations come from the fixture's images. Against moto and the fake Graph API:
//! `tests/tests/it/conversions.rs`.

use aws_lambda_events::event::dynamodb::Event;
use chrono::DateTime;
use conversions::handler::Forwarder;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use shared::domain::capi::{ForwardState, SendFailure};
use shared::domain::leads::{Conversion, FirstTouch, LeadView};
use shared::memory::leads::{Failure, MemoryLeadStore};
use shared::ports::{ConversionSink, LeadStore};
use std::sync::{Arc, Mutex};

const DATASET: &str = "987654321";
const WABA: &str = "1001";
const CLICK_ID: &str = "ARAkLkA8rmlF";

/// What the sink was sent, and the failures to answer first.
#[derive(Debug, Clone, Default)]
struct Sink {
    sent: Arc<Mutex<Vec<(String, Value)>>>,
    failures: Arc<Mutex<Vec<SendFailure>>>,
}

impl ConversionSink for Sink {
    async fn send(&self, dataset_id: &str, event: &Value) -> Result<(), SendFailure> {
        if let Some(f) = self.failures.lock().unwrap().pop() {
            return Err(f);
        }
        self.sent
            .lock()
            .unwrap()
            .push((dataset_id.to_string(), event.clone()));
        Ok(())
    }
}

fn fixture() -> Value {
    let path = format!(
        "{}/tests/fixtures/pending_conversions.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn image(f: &Value, i: usize, name: &str) -> Option<String> {
    let v = &f["Records"][i]["dynamodb"]["NewImage"][name];
    v["S"].as_str().or(v["N"].as_str()).map(str::to_string)
}

fn lead_of(f: &Value, i: usize) -> String {
    image(f, i, "pk")
        .unwrap()
        .trim_start_matches("USER#")
        .to_string()
}

fn batch(f: &Value) -> LambdaEvent<Event> {
    LambdaEvent::new(
        serde_json::from_value(f.clone()).expect("a DynamoDB Streams event"),
        Context::default(),
    )
}

/// The store as the leads API left it: both leads, the first from an ad, and the two
/// conversions of the fixture recorded `pending`.
async fn given() -> (
    Forwarder<MemoryLeadStore, Sink>,
    MemoryLeadStore,
    Sink,
    Value,
) {
    let f = fixture();
    let store = MemoryLeadStore::new();
    for i in 0..2 {
        let id = lead_of(&f, i);
        let at = |k: &str| DateTime::from_timestamp(image(&f, i, k).unwrap().parse().unwrap(), 0);
        store.put_lead(LeadView {
            lead_id: id.clone(),
            waba_id: Some(WABA.into()),
            phone_number_id: Some("5550001".into()),
            phone: Some(id.clone()),
            user_id: None,
            profile_name: None,
            stage: "new".into(),
            owner: None,
            tags: Vec::new(),
            custom_fields: Default::default(),
            created_at: at("recorded_at").unwrap(),
            last_inbound_at: None,
            first_touch: (i == 0).then(|| FirstTouch {
                ctwa_clid: Some(CLICK_ID.into()),
                ..FirstTouch::default()
            }),
            version: 0,
            origin: "whatsapp".into(),
            ids: vec![id.clone()],
            waba_ids: vec![WABA.into()],
        });
        let conversion = Conversion {
            conversion_id: image(&f, i, "conversion_id").unwrap(),
            kind: image(&f, i, "conversion_type").unwrap(),
            value: image(&f, i, "conversion_value").map(|v| v.parse().unwrap()),
            currency: image(&f, i, "currency"),
            at: at("at").unwrap(),
            idempotency_key: image(&f, i, "idempotency_key").unwrap(),
            recorded_at: at("recorded_at").unwrap(),
            forwarded: ForwardState::Pending.as_str().into(),
            forward_error: None,
        };
        store
            .record_conversion(&id, &conversion, "fixture")
            .await
            .unwrap();
    }
    let sink = Sink::default();
    (
        Forwarder::new(store.clone(), sink.clone(), DATASET),
        store,
        sink,
        f,
    )
}

async fn state(store: &MemoryLeadStore, f: &Value, i: usize) -> Option<String> {
    store
        .forward_state(&lead_of(f, i), &image(f, i, "idempotency_key").unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_pending_conversion_is_sent_once_with_its_click_id() {
    let (forwarder, store, sink, f) = given().await;
    let response = forwarder.handle(batch(&f)).await;
    assert!(response.batch_item_failures.is_empty());

    let sent = sink.sent.lock().unwrap().clone();
    let at: i64 = image(&f, 0, "at").unwrap().parse().unwrap();
    let value: f64 = image(&f, 0, "conversion_value").unwrap().parse().unwrap();
    assert_eq!(
        sent,
        vec![(
            DATASET.to_string(),
            json!({
                "event_name": "Purchase",
                "event_time": at,
                "event_id": image(&f, 0, "conversion_id"),
                "action_source": "business_messaging",
                "messaging_channel": "whatsapp",
                "user_data": {"whatsapp_business_account_id": WABA, "ctwa_clid": CLICK_ID},
                "custom_data": {"value": value, "currency": image(&f, 0, "currency")},
            })
        )]
    );
    assert_eq!(state(&store, &f, 0).await.as_deref(), Some("sent"));
    // The lead that did not come from an ad has nothing to attribute it to.
    assert_eq!(state(&store, &f, 1).await.as_deref(), Some("no_ctwa_clid"));

    // The stream delivers the batch again: nothing is sent twice.
    assert!(
        forwarder
            .handle(batch(&f))
            .await
            .batch_item_failures
            .is_empty()
    );
    assert_eq!(sink.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_failed_send_is_kept_with_its_code_and_a_store_outage_is_retried() {
    let (forwarder, store, sink, f) = given().await;
    sink.failures.lock().unwrap().push(SendFailure::Unavailable);
    assert!(
        forwarder
            .handle(batch(&f))
            .await
            .batch_item_failures
            .is_empty()
    );
    assert_eq!(state(&store, &f, 0).await.as_deref(), Some("failed"));
    let (_, timeline) = store.get(&lead_of(&f, 0)).await.unwrap();
    assert_eq!(
        timeline.conversions[0].forward_error.as_deref(),
        Some("meta_unavailable")
    );

    // The store is down: that record and every later one go back to Lambda.
    let (forwarder, store, _, f) = given().await;
    store.fail(Failure::Unavailable, 1);
    let response = forwarder.handle(batch(&f)).await;
    let failed: Vec<Option<String>> = response
        .batch_item_failures
        .iter()
        .map(|x| x.item_identifier.clone())
        .collect();
    let all: Vec<Option<String>> = (0..2)
        .map(|i| {
            f["Records"][i]["dynamodb"]["SequenceNumber"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(failed, all);
    assert_eq!(state(&store, &f, 0).await.as_deref(), Some("pending"));
}
