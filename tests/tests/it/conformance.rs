//! Conformance over the corpus: every webhook JSON under the corpus directory (read at test
//! time; `WA_CORPUS_DIR`, default `tests/fixtures/corpus`) is parsed and every entry × change ×
//! item is accounted for; then every file is POSTed, signed, to the real handler on moto.
//! Files that are not webhook POST bodies are listed here by name with the reason.

use integration_tests::corpus::{MALFORMED, NOT_WEBHOOK_BODIES, corpus_files, is_webhook};
use integration_tests::harness::{Stack, corpus_dir};
use serde_json::Value;
use shared::domain::consent::ConsentKeywords;
use shared::domain::ingest::plan;
use shared::domain::webhook::{ENVELOPE_FIELD, EventKind, parse};
use std::collections::BTreeMap;

/// Items per change, counted independently of the parser (from a plain JSON walk).
fn expected_items(body: &Value) -> Vec<usize> {
    let mut per_change = Vec::new();
    for entry in body["entry"].as_array().into_iter().flatten() {
        for change in entry["changes"].as_array().into_iter().flatten() {
            let value = &change["value"];
            let field = change["field"]
                .as_str()
                .or(value["field"].as_str())
                .unwrap_or("");
            let len = |k: &str| value[k].as_array().map_or(0, Vec::len);
            per_change.push(match field {
                "messages" => (len("messages") + len("statuses") + len("errors")).max(1),
                "user_preferences" => len("user_preferences"),
                "automatic_events" => len("automatic_events"),
                _ => 1,
            });
        }
    }
    per_change
}

#[test]
fn every_corpus_item_is_accounted_for() {
    let files = corpus_files();
    for (listed, _) in NOT_WEBHOOK_BODIES {
        assert!(
            files.iter().any(|(f, _)| f == listed),
            "listed exclusion {listed} is not in the corpus"
        );
    }
    let keywords = ConsentKeywords::default();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut kept: BTreeMap<String, usize> = BTreeMap::new();
    let mut checked = 0;
    for (rel, path) in files.iter().filter(|(rel, _)| is_webhook(rel)) {
        let bytes = std::fs::read(path).unwrap();
        if rel == MALFORMED {
            let err = parse(&bytes).expect_err("the malformed file must not parse");
            assert_eq!(err.reason(), "invalid_json");
            continue;
        }
        let batch = parse(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let json: Value = serde_json::from_slice(&bytes).unwrap();
        let expected = expected_items(&json);
        let real_changes = batch
            .changes
            .iter()
            .filter(|c| c.field.as_str() != ENVELOPE_FIELD)
            .count();
        assert_eq!(real_changes, expected.len(), "{rel}: changes");
        for (i, want) in expected.iter().enumerate() {
            let got = batch
                .events
                .iter()
                .filter(|e| e.change == i)
                .filter(|e| !matches!(&e.kind, EventKind::Kept { kind, .. } if kind.starts_with("value_fields:")))
                .count();
            assert_eq!(
                got, *want,
                "{rel}: change {i} has {want} items, parser accounted for {got}"
            );
        }
        for event in &batch.events {
            let name = event.kind.name();
            assert!(
                !name.is_empty() && !name.ends_with('.'),
                "{rel}: unnamed kind"
            );
            if let EventKind::Kept { kind, reason } = &event.kind {
                assert!(
                    !kind.is_empty() && !reason.is_empty(),
                    "{rel}: kept item without kind/reason"
                );
            }
        }
        let p = plan(&batch, &keywords);
        assert_eq!(
            p.item_count(),
            batch.events.len(),
            "{rel}: plan counts every item"
        );
        for (k, n) in p.items {
            *kinds.entry(k).or_default() += n;
        }
        for (k, n) in p.kept_raw {
            *kept.entry(k).or_default() += n;
        }
        checked += 1;
    }
    println!("{checked} webhook files; items by kind: {kinds:#?}\nkept raw by kind: {kept:#?}");
    assert!(checked >= 150, "only {checked} webhook files checked");
    for must in [
        "status.sent",
        "status.delivered",
        "status.read",
        "status.failed",
        "status.played",
        "inbound.text",
        "inbound.system",
        "template.status",
        "template.quality",
        "template.category",
        "user_preference",
        "account_update",
        "phone_number_quality_update",
        "automatic_event",
        "system_error",
    ] {
        assert!(
            kinds.contains_key(must),
            "no corpus item of kind {must}: {kinds:?}"
        );
    }
}

#[tokio::test]
async fn every_corpus_webhook_is_ingested_through_the_handler() {
    let stack = Stack::start().await;
    let keywords = ConsentKeywords::default();
    let mut expected_writes = 0u64;
    let mut posted = 0;
    for (rel, path) in corpus_files().iter().filter(|(rel, _)| is_webhook(rel)) {
        let bytes = std::fs::read(path).unwrap();
        let (code, body) = stack.post(&bytes).await;
        assert_eq!(code, 200, "{rel}: {body}");
        if rel != MALFORMED {
            let batch = parse(&bytes).unwrap();
            expected_writes += plan(&batch, &keywords).writes.len() as u64;
        }
        posted += 1;
    }
    assert_eq!(
        stack.counter.writes(),
        expected_writes,
        "one request per planned write, no more"
    );
    assert_eq!(stack.counter.reads(), 0);
    let quarantined = stack.objects("quarantine/").await;
    assert_eq!(
        quarantined.len(),
        1,
        "only the malformed file is quarantined: {quarantined:?}"
    );
    assert!(quarantined[0].contains("/invalid_json/"));
    let raw = stack.object(&quarantined[0]).await;
    assert_eq!(
        raw,
        std::fs::read(corpus_dir().join(MALFORMED)).unwrap(),
        "quarantined byte for byte"
    );
    // Re-posting the whole corpus changes nothing.
    let before = stack.scan().await;
    for (rel, path) in corpus_files().iter().filter(|(rel, _)| is_webhook(rel)) {
        assert_eq!(
            stack.post(&std::fs::read(path).unwrap()).await.0,
            200,
            "{rel}"
        );
    }
    assert_eq!(
        stack.scan().await,
        before,
        "{posted} files re-posted: nothing changed"
    );
    assert_eq!(stack.objects("quarantine/").await.len(), 1);
}

/// The in-memory event store (`shared::memory`, what the fast handler tests run against)
/// keeps DynamoDB's conditions: over the corpus and shuffled, duplicated generated traffic,
/// each write is applied or found unchanged exactly as the DynamoDB store reports it, and
/// both end with the same number of items. Writes go one at a time: the DynamoDB store
/// sends a body's writes concurrently, so two writes of one body to one item (a lead's
/// `created_at` from two messages) may be counted differently from run to run, though they
/// end in the same state.
#[tokio::test]
async fn the_in_memory_event_store_agrees_with_dynamodb() {
    use integration_tests::traffic::{DeliveryOpts, TrafficSpec, deliveries, generate};
    use shared::adapters::s3::S3RawStore;
    use shared::domain::leads::Lifecycle;
    use shared::ingest::live_event_store;
    use shared::memory::events::MemoryEventStore;
    use shared::ports::EventStore;

    let stack = Stack::start().await;
    let raw = S3RawStore::new(stack.s3.clone(), &stack.bucket);
    let dynamodb = live_event_store(
        stack.dynamodb.clone(),
        &stack.table,
        8,
        raw,
        &Lifecycle::default(),
        None,
    );
    let memory = MemoryEventStore::new();
    let keywords = ConsentKeywords::default();

    let mut bodies: Vec<(String, Vec<u8>)> = Vec::new();
    for (rel, path) in corpus_files().iter().filter(|(rel, _)| is_webhook(rel)) {
        if rel != MALFORMED {
            bodies.push((rel.clone(), std::fs::read(path).unwrap()));
        }
    }
    let spec = TrafficSpec {
        outbound_messages: 25,
        inbound_users: 10,
        ..TrafficSpec::default()
    };
    let opts = DeliveryOpts {
        duplicate_factor: 2,
        shuffle: true,
        ..DeliveryOpts::default()
    };
    for (i, body) in deliveries(&spec, &generate(&spec), &opts)
        .into_iter()
        .enumerate()
    {
        bodies.push((format!("traffic body {i}"), body));
    }

    for round in ["first", "again"] {
        for (name, body) in &bodies {
            let batch = parse(body).unwrap();
            for write in &plan(&batch, &keywords).writes {
                let one = std::slice::from_ref(write);
                let expected = dynamodb.apply(one).await.expect("moto is up");
                let got = memory.apply(one).await.expect("memory is up");
                assert_eq!(
                    (got.applied, got.unchanged, got.rejected.len()),
                    (
                        expected.applied,
                        expected.unchanged,
                        expected.rejected.len()
                    ),
                    "{round} delivery of {name}, a {} write: memory vs DynamoDB",
                    write.kind()
                );
            }
        }
    }
    assert_eq!(memory.len(), stack.scan().await.len(), "items");
}
