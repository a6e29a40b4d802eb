//! The aggregator handler driven with `LambdaEvent`s from a DynamoDB Streams fixture
//! (`tests/fixtures/stream_batch.json`: an inbound message, an outbound one, and the outbound
//! one's later image naming the recipient's business-scoped id) and with maintenance
//! payloads, against the lead and identity stores in memory (`shared::memory`): no moto.
//! Expectations come from the fixture's images. The DynamoDB adapters, the stream reader and
//! fault injection are tested against moto in `tests/tests/it/` (identity, stream_faults).

use aggregator::handler::Aggregator;
use aws_lambda_events::event::dynamodb::TimeWindowEvent;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use shared::adapters::dynamodb::reports::outbound_from_item;
use shared::domain::activity::{Activity, Direction};
use shared::domain::metrics::facts::facts_of;
use shared::domain::metrics::input::{InboundMsg, Inputs};
use shared::domain::metrics::tally::fold_into_slots;
use shared::domain::metrics::tally::{Cell, slot_of};
use shared::memory::facts::{MemoryFactsStore, MemoryHistory};
use shared::memory::identity::MemoryIdentityStore;
use shared::memory::leads::{Failure, MemoryLeadStore};
use shared::memory::rollups::MemoryRollupStore;
use shared::ports::{IdentityStore, PersonFactsStore, PersonHistory, RollupStore, ScannedMessage};
use std::collections::{BTreeMap, BTreeSet};

struct Given {
    aggregator: Aggregator<
        MemoryLeadStore,
        MemoryIdentityStore,
        MemoryRollupStore,
        MemoryFactsStore,
        MemoryHistory,
    >,
    store: MemoryLeadStore,
    identity: MemoryIdentityStore,
    rollups: MemoryRollupStore,
    facts: MemoryFactsStore,
    history: MemoryHistory,
}

fn given() -> Given {
    let (store, identity) = (MemoryLeadStore::new(), MemoryIdentityStore::new());
    let rollups = MemoryRollupStore::new();
    let (facts, history) = (MemoryFactsStore::new(), MemoryHistory::new());
    Given {
        aggregator: Aggregator::from_ports(
            store.clone(),
            identity.clone(),
            rollups.clone(),
            facts.clone(),
            history.clone(),
        ),
        store,
        identity,
        rollups,
        facts,
        history,
    }
}

/// The fixture's messages as the table holds them after the batch (what the person history
/// reads), filed under the ids their items name.
fn file_history(g: &Given, f: &Value) {
    let attrs =
        |i: usize| -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
            let image: serde_dynamo::Item =
                serde_json::from_value(f["Records"][i]["dynamodb"]["NewImage"].clone())
                    .expect("an image");
            image
                .into_inner()
                .into_iter()
                .map(|(k, v)| (k, v.into()))
                .collect()
        };
    g.history.inbound(InboundMsg {
        wamid: wamid(f, 0),
        person: new_attr(f, 0, "user_key"),
        waba_id: new_attr(f, 0, "waba_id"),
        phone_number_id: new_attr(f, 0, "phone_number_id"),
        at: new_attr(f, 0, "at").parse().expect("a time"),
    });
    g.history
        .outbound(outbound_from_item(&attrs(2)).expect("an outbound message"));
}

fn fixture() -> Value {
    let path = format!(
        "{}/tests/fixtures/stream_batch.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Lambda's event with tumbling windows on (the template's setting): it names its shard.
fn batch(records: &Value) -> LambdaEvent<TimeWindowEvent> {
    let event: TimeWindowEvent = serde_json::from_value(json!({
        "Records": records,
        "shardId": "shardId-00000001795168000000-fixture",
        "window": {"start": "2026-11-20T00:00:00Z", "end": "2026-11-20T00:01:00Z"},
        "state": {},
        "isFinalInvokeForWindow": false,
        "isWindowTerminatedEarly": false,
    }))
    .expect("a DynamoDB Streams event");
    LambdaEvent::new(event, Context::default())
}

/// A string or number attribute of record `i`'s new image.
fn new_attr(f: &Value, i: usize, name: &str) -> String {
    let v = &f["Records"][i]["dynamodb"]["NewImage"][name];
    v["S"].as_str().or(v["N"].as_str()).unwrap().to_string()
}

fn wamid(f: &Value, i: usize) -> String {
    new_attr(f, i, "pk").trim_start_matches("MSG#").to_string()
}

fn sequence(f: &Value, i: usize) -> String {
    f["Records"][i]["dynamodb"]["SequenceNumber"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_batch_records_markers_tenancy_and_links_and_a_redelivery_changes_nothing() {
    let g = given();
    let f = fixture();
    let response = g.aggregator.handle(batch(&f["Records"])).await;
    assert!(response.batch_item_failures.is_empty());

    let sender = new_attr(&f, 0, "user_key");
    let recipient_phone = new_attr(&f, 1, "recipient_phone");
    let recipient_id = new_attr(&f, 2, "recipient_user_id");
    let (number, waba) = (
        new_attr(&f, 0, "phone_number_id"),
        new_attr(&f, 0, "waba_id"),
    );
    let inbound_at: i64 = new_attr(&f, 0, "at").parse().unwrap();
    let sent_at: i64 = new_attr(&f, 1, "sent_at").parse().unwrap();

    assert_eq!(
        g.store.markers(&sender, Direction::Inbound),
        BTreeMap::from([(wamid(&f, 0), inbound_at)])
    );
    // The outbound marker moved to the id the message names now (its sent time kept);
    // none is left under the phone.
    assert_eq!(
        g.store.markers(&recipient_id, Direction::Outbound),
        BTreeMap::from([(wamid(&f, 1), sent_at)])
    );
    assert!(
        g.store
            .markers(&recipient_phone, Direction::Outbound)
            .is_empty()
    );
    // The sender's lead is filed under the message's WABA; the number under its WABA.
    assert_eq!(g.store.filed_under(&sender), BTreeSet::from([waba.clone()]));
    assert_eq!(g.store.phone_waba_of(&number), Some(waba));
    // The phone and the business-scoped id are one person.
    let person = g.identity.person(&recipient_phone).await.unwrap();
    assert_eq!(
        person.ids,
        BTreeSet::from([recipient_phone.clone(), recipient_id.clone()])
    );

    // The rollups hold one inbound message in the inbound's slot and one sent outbound
    // message in the sent time's slot (its second image changed no count).
    let slots = g.rollups.slots(0, i64::MAX).await.unwrap();
    let counted: Vec<(i64, bool, i64)> = slots
        .iter()
        .map(|t| {
            (
                t.at,
                matches!(t.cell, Cell::Inbound { .. }),
                t.counts.messages,
            )
        })
        .collect();
    let mut expected = vec![(slot_of(inbound_at), true, 1), (slot_of(sent_at), false, 1)];
    expected.sort();
    let mut counted_sorted = counted.clone();
    counted_sorted.sort();
    assert_eq!(counted_sorted, expected);

    // Lambda delivers the same batch again: the same markers and slots, nothing more.
    let again = g.aggregator.handle(batch(&f["Records"])).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(g.store.markers(&sender, Direction::Inbound).len(), 1);
    assert_eq!(g.store.markers(&recipient_id, Direction::Outbound).len(), 1);
    assert_eq!(g.rollups.slots(0, i64::MAX).await.unwrap(), slots);
}

#[tokio::test]
async fn a_rollup_failure_retries_from_its_slots_first_record_and_adds_nothing_twice() {
    let g = given();
    let f = fixture();
    g.rollups.fail_next(1);
    let response = g.aggregator.handle(batch(&f["Records"])).await;
    let failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|x| x.item_identifier.clone().unwrap_or_default())
        .collect();
    assert!(!failed.is_empty(), "a slot not updated is retried");
    assert_eq!(failed.last(), Some(&sequence(&f, 2)));
    // Lambda retries from the first failed record: every slot ends with each message once.
    let first = failed[0].clone();
    let from = (0..3).position(|i| sequence(&f, i) == first).unwrap();
    let rest = Value::Array(f["Records"].as_array().unwrap()[from..].to_vec());
    assert!(
        g.aggregator
            .handle(batch(&rest))
            .await
            .batch_item_failures
            .is_empty()
    );
    let total: i64 = g
        .rollups
        .slots(0, i64::MAX)
        .await
        .unwrap()
        .iter()
        .map(|t| t.counts.messages)
        .sum();
    assert_eq!(total, 2, "one inbound and one outbound message");

    // A batch without its shard id cannot be guarded: every record fails, nothing counts.
    let g = given();
    let mut event = batch(&f["Records"]);
    event.payload.time_window_properties.shard_id = None;
    let response = g.aggregator.handle(event).await;
    assert_eq!(response.batch_item_failures.len(), 3);
    assert!(g.rollups.slots(0, i64::MAX).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_storage_failure_fails_that_record_and_every_later_one() {
    let g = given();
    let f = fixture();
    // The first record's marker write fails.
    g.store.fail(Failure::Unavailable, 1);
    let response = g.aggregator.handle(batch(&f["Records"])).await;
    let failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|x| x.item_identifier.clone().unwrap_or_default())
        .collect();
    let all: Vec<String> = (0..3).map(|i| sequence(&f, i)).collect();
    assert_eq!(failed, all);
    assert!(
        g.store
            .markers(&new_attr(&f, 0, "user_key"), Direction::Inbound)
            .is_empty()
    );

    // Lambda retries from there: the whole batch goes through.
    let retried = g.aggregator.handle(batch(&f["Records"])).await;
    assert!(retried.batch_item_failures.is_empty());

    // An identity outage on the last record fails only that one.
    let g = given();
    let first_two = json!([f["Records"][0], f["Records"][1]]);
    assert!(
        g.aggregator
            .handle(batch(&first_two))
            .await
            .batch_item_failures
            .is_empty()
    );
    g.identity.fail(1);
    let last = json!([f["Records"][2]]);
    let response = g.aggregator.handle(batch(&last)).await;
    let failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|x| x.item_identifier.clone().unwrap_or_default())
        .collect();
    assert_eq!(failed, vec![sequence(&f, 2)]);
}

#[tokio::test]
async fn rebuild_and_link_read_every_message_page_by_page() {
    let g = given();
    // More messages than a scan page, spread over the segments.
    let people: Vec<(String, String)> = (0..5)
        .map(|i| (format!("62819000001{i:02}"), format!("ID.person{i}")))
        .collect();
    let messages: Vec<ScannedMessage> = people
        .iter()
        .enumerate()
        .map(|(i, (phone, bsuid))| ScannedMessage {
            activity: Some(Activity {
                user_key: bsuid.clone(),
                direction: Direction::Outbound,
                wamid: format!("wamid.r{i}"),
                at: 1_795_168_800 + i as i64,
                phone_number_id: Some("5550001".into()),
                waba_id: Some("1001".into()),
            }),
            ids: BTreeSet::from([phone.clone(), bsuid.clone()]),
        })
        .collect();
    g.store.add_messages(messages.clone());

    let dry = g
        .aggregator
        .maintenance(&json!({"action": "link"}))
        .await
        .expect("an action")
        .unwrap();
    assert_eq!(dry["dry_run"], json!(true));
    assert_eq!(dry["messages"], json!(messages.len()));
    assert_eq!(dry["new_links"], json!(people.len()));
    let (phone, bsuid) = &people[0];
    assert_eq!(
        g.identity.person(phone).await.unwrap().ids.len(),
        1,
        "a dry run links nothing"
    );

    let rebuilt = g
        .aggregator
        .maintenance(&json!({"action": "redrive"}))
        .await
        .expect("an action")
        .unwrap();
    assert_eq!(rebuilt["rebuilt_markers"], json!(messages.len()));
    assert_eq!(rebuilt["new_links"], json!(people.len()));
    for m in &messages {
        let a = m.activity.as_ref().unwrap();
        assert_eq!(
            g.store.markers(&a.user_key, Direction::Outbound),
            BTreeMap::from([(a.wamid.clone(), a.at)])
        );
    }
    assert_eq!(
        g.identity.person(phone).await.unwrap().ids,
        BTreeSet::from([phone.clone(), bsuid.clone()])
    );
    let again = g
        .aggregator
        .maintenance(&json!({"action": "link", "dry_run": false}))
        .await
        .expect("an action")
        .unwrap();
    assert_eq!(again["new_links"], json!(0), "links are made once");

    let unknown = g
        .aggregator
        .maintenance(&json!({"action": "compact"}))
        .await
        .expect("an action");
    assert!(unknown.unwrap_err().contains("unknown action"));
    assert!(
        g.aggregator
            .maintenance(&json!({"Records": []}))
            .await
            .is_none(),
        "a stream batch is not an action"
    );
}

/// The batch's person (an inbound message, then an answer whose later image names the
/// recipient's business-scoped id) gets the facts of their messages under their lead id,
/// once, whatever the redelivery; a failed commit retries from the person's first record.
#[tokio::test]
async fn a_batch_recomputes_the_facts_of_its_people() {
    let g = given();
    let f = fixture();
    file_history(&g, &f);
    g.facts.fail_next(1);
    let failed = g.aggregator.handle(batch(&f["Records"])).await;
    let firsts: Vec<String> = failed
        .batch_item_failures
        .iter()
        .filter_map(|x| x.item_identifier.clone())
        .collect();
    assert_eq!(
        firsts.first(),
        Some(&sequence(&f, 0)),
        "from the person's first record"
    );
    assert_eq!(firsts.len(), 3);
    let ok = g.aggregator.handle(batch(&f["Records"])).await;
    assert!(ok.batch_item_failures.is_empty());
    let person = g
        .identity
        .person(&new_attr(&f, 0, "user_key"))
        .await
        .expect("person");
    assert_eq!(person.ids.len(), 2, "linked by the later image");
    let ids: Vec<String> = person.ids.iter().cloned().collect();
    let (inbound, outbound) = g
        .history
        .history(person.lead_id(), &ids)
        .await
        .expect("history");
    let want = fold_into_slots(facts_of(&Inputs {
        inbound,
        outbound,
        ..Inputs::default()
    }));
    // One 100 s wait (any and human), counted in both scopes.
    assert_eq!(want.len(), 4, "{want:?}");
    let got = g.facts.slots(0, i64::MAX).await.expect("slots");
    assert_eq!(got, want);
    for other in person.others() {
        assert!(g.facts.stored(other).await.expect("stored").is_empty());
    }
    let again = g.aggregator.handle(batch(&f["Records"])).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(g.facts.slots(0, i64::MAX).await.expect("slots"), want);
}
