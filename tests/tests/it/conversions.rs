//! Conversions through the real leads API over leads the real webhook created (moto):
//! idempotency per key, and forwarding to Meta's Conversions API off the request path by the
//! real conversions handler fed the table stream.

use crate::leads::{T0, TOKEN, api, at, call, first_message};
use crate::support::*;
use futures_util::future::join_all;
use integration_tests::harness::Stack;
use leads::handler::{Leads, LeadsConfig};
use serde_json::{Value, json};
use shared::adapters::dynamodb::leads::DynamoDbLeadStore;
use shared::config::ApiAuth as Auth;
use shared::config::Secret;
use shared::domain::leads::Lifecycle;

#[tokio::test]
async fn conversions_record_once_per_idempotency_key() {
    let stack = Stack::start().await;
    let api = api(&stack);
    let user = "5511944444444";
    stack
        .post(&first_message(user, T0, "oi", Some(("spring", "55"))))
        .await;
    let now = at(T0 + 3_600);
    let uri = format!("/v1/leads/{user}/conversions");
    let purchase = json!({"type": "purchase", "value": 149.9, "currency": "BRL", "at": "2026-11-20T10:30:00Z", "idempotency_key": "order-1001"});
    let (status, first) = call(&api, "POST", &uri, Some(purchase.clone()), now).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["replayed"], false);
    // Retried concurrently: every retry is a replay of the same record.
    let retries =
        join_all((0..8).map(|_| call(&api, "POST", &uri, Some(purchase.clone()), now))).await;
    assert!(
        retries
            .iter()
            .all(|(s, b)| *s == 200 && b["replayed"] == true && b["conversion"]["value"] == 149.9),
        "{retries:?}"
    );
    let mut changed = purchase.clone();
    changed["value"] = json!(10);
    let (status, e) = call(&api, "POST", &uri, Some(changed), now).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("idempotency_conflict"))
    );
    let booking = json!({"type": "booking", "idempotency_key": "booking-7"});
    assert_eq!(
        call(&api, "POST", &uri, Some(booking.clone()), now).await.0,
        201
    );
    let (status, replay) = call(&api, "POST", &uri, Some(booking), at(T0 + 3_605)).await;
    assert_eq!(
        (status, replay["replayed"].as_bool()),
        (200, Some(true)),
        "a retry without `at` seconds later is the same request: {replay}"
    );
    let (_, one) = call(&api, "GET", &format!("/v1/leads/{user}"), None, now).await;
    let conversions = one["timeline"]["conversions"].as_array().unwrap();
    assert_eq!(conversions.len(), 2, "{conversions:?}");
    let items = stack
        .scan()
        .await
        .into_iter()
        .filter(|i| text(i, "item_kind") == Some("conversion"))
        .count();
    assert_eq!(items, 2);
    // Validation and unknown leads.
    for bad in [
        json!({"type": "purchase", "value": 10}),
        json!({"type": "refund", "idempotency_key": "k"}),
        json!({"type": "purchase", "value": -1, "currency": "BRL", "idempotency_key": "k"}),
        json!({"type": "purchase", "value": 1, "currency": "brl", "idempotency_key": "k"}),
    ] {
        assert_eq!(
            call(&api, "POST", &uri, Some(bad.clone()), now).await.0,
            422,
            "{bad}"
        );
    }
    let (status, _) = call(
        &api,
        "POST",
        "/v1/leads/404404/conversions",
        Some(json!({"type": "purchase", "idempotency_key": "x"})),
        now,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn conversions_are_forwarded_off_the_request_path_once_with_the_click_id() {
    use conversions::handler::Forwarder;
    use integration_tests::fake_graph::{FAKE_GRAPH_TOKEN, FakeGraph, Fault};
    use integration_tests::streams::{StreamReader, plain_event};
    use shared::adapters::graph::{GraphClient, GraphConfig, RetryPolicy};
    use shared::adapters::graph_capi::GraphConversionSink;
    let stack = Stack::start().await;
    let fake = FakeGraph::standard().await.unwrap();
    let mut graph = GraphConfig::new(fake.url.clone(), Secret::new(FAKE_GRAPH_TOKEN));
    graph.retry = RetryPolicy {
        max_attempts: 2,
        base_delay: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(10),
        max_regain_wait: std::time::Duration::from_secs(1),
    };
    let api = Leads::new(
        DynamoDbLeadStore::new(stack.dynamodb.clone(), &stack.table),
        LeadsConfig {
            table_name: stack.table.clone(),
            auth: Auth::Token(Secret::new(TOKEN)),
            lifecycle: Lifecycle::default(),
            forward_conversions: true,
            bucket_name: None,
        },
    );
    // The conversions function, fed the table stream as its event source mapping does.
    let forwarder = Forwarder::new(
        DynamoDbLeadStore::new(stack.dynamodb.clone(), &stack.table),
        GraphConversionSink::new(GraphClient::new(graph).unwrap()),
        "778899001122",
    );
    let mut reader = StreamReader::new(&stack.endpoint, &stack.table);
    let mut delivered: Vec<Value> = Vec::new();
    let mut forward = async |again: bool| {
        let mut records = reader.next_records().await;
        if again {
            // Lambda delivers a batch again after a timeout: nothing is sent twice.
            records.extend(delivered.clone());
        }
        for batch in records.chunks(100) {
            let r = forwarder.handle(plain_event(batch)).await;
            assert!(r.batch_item_failures.is_empty());
        }
        delivered.extend(records);
    };
    let sent_events = || -> Vec<Value> {
        fake.handle
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/events"))
            .map(|r| {
                assert_eq!(r.path, "/v23.0/778899001122/events");
                serde_json::from_str::<Value>(&r.body).unwrap()["data"][0].clone()
            })
            .collect()
    };
    let from_ad = "5511977700001";
    let organic = "5511977700002";
    stack
        .post(&first_message(from_ad, T0, "oi", Some(("spring", "77"))))
        .await;
    stack.post(&first_message(organic, T0, "oi", None)).await;
    let now = at(T0 + 3_600);
    let purchase = json!({"type": "purchase", "value": 99.5, "currency": "BRL", "at": "2026-11-20T10:40:00Z", "idempotency_key": "order-77"});
    let uri = format!("/v1/leads/{from_ad}/conversions");
    let (status, body) = call(&api, "POST", &uri, Some(purchase.clone()), now).await;
    // Recorded and answered without waiting for Meta.
    assert_eq!(
        (status, body["conversion"]["forwarded"].as_str()),
        (201, Some("pending")),
        "{body}"
    );
    assert!(sent_events().is_empty());
    forward(false).await;
    let sent = sent_events();
    assert_eq!(sent.len(), 1);
    let e = &sent[0];
    assert_eq!(e["event_name"], "Purchase");
    assert_eq!(e["event_id"], format!("{from_ad}:order-77"));
    assert_eq!(e["action_source"], "business_messaging");
    assert_eq!(e["messaging_channel"], "whatsapp");
    assert_eq!(e["user_data"]["ctwa_clid"], "clid-77");
    assert_eq!(e["user_data"]["whatsapp_business_account_id"], WABA);
    assert_eq!(
        (
            e["custom_data"]["value"].as_f64(),
            e["custom_data"]["currency"].as_str()
        ),
        (Some(99.5), Some("BRL"))
    );
    assert_eq!(e["event_time"], 1_795_171_200);
    // A retried request is a replay: recorded once, sent once, also when the stream
    // delivers its records again.
    let (status, replay) = call(&api, "POST", &uri, Some(purchase), now).await;
    assert_eq!(
        (status, replay["conversion"]["forwarded"].as_str()),
        (200, Some("sent"))
    );
    forward(true).await;
    assert_eq!(sent_events().len(), 1);
    // No click id: nothing to attribute; no Meta event for `other`: nothing sent.
    let organic_uri = format!("/v1/leads/{organic}/conversions");
    call(
        &api,
        "POST",
        &organic_uri,
        Some(json!({"type": "purchase", "idempotency_key": "o-1"})),
        now,
    )
    .await;
    call(
        &api,
        "POST",
        &uri,
        Some(json!({"type": "other", "idempotency_key": "x-1"})),
        now,
    )
    .await;
    // Meta down through every retry: the conversion is kept, failed with a code (no
    // internal text); sending it again retries it.
    fake.handle.inject(Fault::ServerError(500), 2);
    let lead_submitted = json!({"type": "lead_submitted", "idempotency_key": "l-1"});
    call(&api, "POST", &uri, Some(lead_submitted.clone()), now).await;
    forward(false).await;
    let attempts = |key: &str| {
        let id = format!("{from_ad}:{key}");
        sent_events().iter().filter(|e| e["event_id"] == id).count()
    };
    assert_eq!(attempts("order-77"), 1);
    assert_eq!(
        attempts("l-1"),
        2,
        "the client's two attempts, both refused"
    );
    assert_eq!(attempts("x-1"), 0);
    let state = async |key: &str| {
        let (_, one) = call(&api, "GET", &format!("/v1/leads/{from_ad}"), None, now).await;
        let c = one["timeline"]["conversions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["idempotency_key"] == key)
            .cloned()
            .unwrap();
        (
            c["forwarded"].as_str().unwrap().to_string(),
            c["forward_error"].clone(),
        )
    };
    assert_eq!(state("x-1").await.0, "unsupported_type");
    assert_eq!(
        state("l-1").await,
        ("failed".to_string(), json!("meta_unavailable"))
    );
    let (_, o) = call(&api, "GET", &format!("/v1/leads/{organic}"), None, now).await;
    assert_eq!(o["timeline"]["conversions"][0]["forwarded"], "no_ctwa_clid");
    let (status, retry) = call(&api, "POST", &uri, Some(lead_submitted), now).await;
    assert_eq!(
        (status, retry["conversion"]["forwarded"].as_str()),
        (200, Some("pending"))
    );
    forward(false).await;
    assert_eq!(state("l-1").await, ("sent".to_string(), Value::Null));
    assert_eq!(attempts("l-1"), 3);
    assert_eq!(sent_events().last().unwrap()["event_name"], "LeadSubmitted");
    assert_eq!(sent_events().len(), 4, "nothing else was sent");
}
