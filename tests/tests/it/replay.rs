//! Replay of the bodies the webhook kept under `quarantine/` (issue 13, item 4), through the
//! `replay` function's handler (the same `shared::replay` as `make replay`): a body
//! quarantined by a "parser bug" is stored exactly once, as if it had been POSTed; a dry run
//! writes nothing; a second run changes nothing; a body already stored changes nothing; a
//! still-unparseable body stays and is reported with its reason; objects are never touched.

use crate::support::*;
use integration_tests::harness::{Stack, webhook_config};
use replay::handler::Replay;
use serde_json::{Value, json};
use shared::adapters::s3::S3RawStore;
use shared::config::ReplayConfig;
use shared::ingest::quarantine_key;
use shared::ports::RawStore;

fn replay_function(stack: &Stack) -> Replay {
    let config = ReplayConfig::from_lookup(|k| match k {
        "TABLE_NAME" => Some(stack.table.clone()),
        "BUCKET_NAME" => Some(stack.bucket.clone()),
        "WRITE_CONCURRENCY" => Some("8".into()),
        _ => None,
    })
    .expect("replay config");
    Replay::new(shared::replay::live(&config, &stack.sdk))
}

async fn replay(function: &Replay, payload: Value) -> Result<Value, String> {
    function.handle(&payload).await
}

/// Each object's outcome in a replay's answer, by key.
fn outcomes(summary: &Value) -> std::collections::BTreeMap<String, Value> {
    summary["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| (o["key"].as_str().unwrap().to_string(), o.clone()))
        .collect()
}

#[tokio::test]
async fn quarantined_bodies_are_replayed_once_and_failures_stay() {
    let stack = Stack::start().await;
    // Ground truth: what the webhook stores for the same bodies when it can parse them, in a
    // second table on the same moto.
    let truth = Stack::on(stack.endpoint.clone(), None, webhook_config).await;

    // A: a body the current parser accepts, quarantined as a parser bug would have left it
    // (same key and metadata as the webhook's quarantine): one new person's message and two
    // statuses of an outbound message.
    let a = {
        let mut body: Value = serde_json::from_slice(&inbound_body(
            text_message("wamid.replay.in", "5511933330001", 1_795_100_000, "oi"),
            contact("5511933330001", None),
        ))
        .unwrap();
        body["entry"][0]["changes"][0]["value"]["statuses"] = json!([
            status("wamid.replay.out", "sent", 1_795_100_010),
            status("wamid.replay.out", "delivered", 1_795_100_020),
        ]);
        serde_json::to_vec(&body).unwrap()
    };
    let raw = S3RawStore::new(stack.s3.clone(), &stack.bucket);
    let key_a = quarantine_key("quarantine/", "invalid_json", &a);
    raw.put_raw(
        &key_a,
        &a,
        &[("reason", "invalid_json"), ("detail", "a parser bug")],
    )
    .await
    .unwrap();
    // B: a body no parser can read, quarantined by the webhook itself.
    let b = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"#;
    assert_eq!(stack.post(b).await.0, 200);
    // C: a body already stored (its other writes went in when one was refused), kept under
    // store_rejected as the webhook does.
    let c = statuses_body(&[status("wamid.replay.c", "read", 1_795_100_030)]);
    assert_eq!(stack.post(&c).await.0, 200);
    let key_c = quarantine_key("quarantine/", "store_rejected", &c);
    raw.put_raw(&key_c, &c, &[("reason", "store_rejected")])
        .await
        .unwrap();
    let keys = stack.objects("quarantine/").await;
    assert_eq!(keys.len(), 3, "{keys:?}");
    let key_b = keys
        .iter()
        .find(|k| k.contains("/invalid_json/") && **k != key_a)
        .expect("B quarantined by the webhook")
        .clone();
    for body in [&a, &c] {
        assert_eq!(truth.post(body).await.0, 200);
    }
    let before = stack.scan().await;
    let function = replay_function(&stack);

    // Dry run (the default): per object whether it parses now and its items by kind; nothing
    // is written.
    let dry = replay(&function, json!({})).await.unwrap();
    assert_eq!(dry["dry_run"], json!(true));
    assert_eq!(
        (&dry["read"], &dry["replayed"], &dry["still_failing"]),
        (&json!(3), &json!(2), &json!(1)),
        "{dry}"
    );
    let each = outcomes(&dry);
    assert_eq!(each[&key_a]["outcome"], "would_replay");
    assert_eq!(
        each[&key_a]["items"],
        json!({"inbound.text": 1, "status.sent": 1, "status.delivered": 1}),
        "the body as built: one text message, two statuses"
    );
    assert_eq!(each[&key_b]["outcome"], "still_failing");
    assert_eq!(each[&key_b]["reason"], "invalid_json");
    assert_eq!(stack.scan().await, before, "a dry run writes nothing");

    // The replay: A is stored as the webhook would have stored it, C changes nothing, B is
    // still failing and reported.
    let run = replay(&function, json!({"dry_run": false})).await.unwrap();
    assert_eq!(
        (&run["read"], &run["replayed"], &run["changed"]),
        (&json!(3), &json!(2), &json!(1)),
        "{run}"
    );
    assert_eq!(run["failing_by_reason"], json!({"invalid_json": 1}));
    let each = outcomes(&run);
    assert_eq!(each[&key_c]["outcome"], "replayed");
    assert_eq!(each[&key_c]["applied"], 0, "C was already stored: {run}");
    assert_eq!(each[&key_b]["outcome"], "still_failing");
    let after = stack.scan().await;
    assert_eq!(after, truth.scan().await, "the same items as a direct POST");
    assert_eq!(
        after
            .iter()
            .filter(|i| text(i, "pk") == Some("MSG#wamid.replay.in"))
            .count(),
        1,
        "stored exactly once"
    );

    // Again: nothing changes.
    let again = replay(&function, json!({"dry_run": false})).await.unwrap();
    assert_eq!(
        (&again["changed"], &again["applied"]),
        (&json!(0), &json!(0))
    );
    assert_eq!(again["replayed"], 2);
    assert_eq!(stack.scan().await, after, "a second run changes nothing");

    // Objects are never changed or removed: a body that still fails stays for the next fix.
    assert_eq!(stack.objects("quarantine/").await, keys);
    assert_eq!(stack.object(&key_b).await, b.to_vec());
    assert_eq!(stack.object(&key_a).await, a);

    // Narrowing: one reason's prefix, a day after everything; and nothing outside quarantine/.
    let one = replay(&function, json!({"prefix": "quarantine/store_rejected/"}))
        .await
        .unwrap();
    assert_eq!((&one["read"], &one["replayed"]), (&json!(1), &json!(1)));
    let later = replay(&function, json!({"since": "2999-01-01"}))
        .await
        .unwrap();
    assert_eq!((&later["read"], &later["older"]), (&json!(0), &json!(3)));
    let outside = replay(&function, json!({"prefix": "reports/"})).await;
    assert!(
        outside.is_err_and(|e| e.contains("outside the quarantine")),
        "the replay reads only quarantine/"
    );
}
