//! The person rollups' DynamoDB adapter against moto: claims only rise, a commit under an
//! older claim writes nothing, a commit moves the slot sums and the person's stored facts in
//! one transaction, a hash collision fails loudly, the clear keeps the claim counters; and
//! the person history reads a person's markers and message items under all their ids, and
//! whether any of them ever wrote.

use integration_tests::harness::Stack;
use shared::adapters::dynamodb::facts::{DynamoDbFactsStore, DynamoDbPersonHistory};
use shared::domain::metrics::facts::person_facts;
use shared::domain::metrics::input::InboundMsg;
use shared::domain::metrics::response_times::ResponseKind;
use shared::domain::metrics::tally::{Cell, Counts, Tally, fold_into_slots};
use shared::ports::{FactsCommit, PersonFactsStore, PersonHistory};

const SLOT: i64 = 1_795_168_800;

fn wait(scope: Option<&str>, wait_s: i64, n: i64) -> Tally {
    Tally {
        at: SLOT,
        cell: Cell::Wait {
            scope: scope.map(str::to_string),
            kind: ResponseKind::Any,
            wait_s,
        },
        counts: Counts {
            messages: n,
            ..Counts::default()
        },
    }
}

#[tokio::test]
async fn commits_move_facts_and_sums_together_and_only_under_the_latest_claim() {
    let stack = Stack::start().await;
    let store = DynamoDbFactsStore::new(stack.dynamodb.clone(), &stack.table);
    let first = store.claim("p1").await.expect("claim");
    let second = store.claim("p1").await.expect("claim");
    assert_eq!(second, first + 1, "claims only rise");
    let facts = vec![wait(None, 60, 1), wait(Some("P1"), 60, 1)];
    let commit = |claim: u64, old: Vec<Tally>, new: Vec<Tally>| FactsCommit {
        person: "p1".into(),
        claim,
        slot: SLOT,
        old,
        new,
    };
    assert!(
        !store
            .commit(&commit(first, vec![], facts.clone()))
            .await
            .expect("commit"),
        "an older claim commits nothing"
    );
    assert!(store.slots(SLOT, SLOT).await.expect("slots").is_empty());
    assert!(store.stored("p1").await.expect("stored").is_empty());
    assert!(
        store
            .commit(&commit(second, vec![], facts.clone()))
            .await
            .expect("commit")
    );
    // A second person with the same wait adds to the same cell.
    let other = store.claim("p2").await.expect("claim");
    assert!(
        store
            .commit(&FactsCommit {
                person: "p2".into(),
                claim: other,
                slot: SLOT,
                old: vec![],
                new: vec![wait(None, 60, 1)],
            })
            .await
            .expect("commit")
    );
    assert_eq!(
        store.slots(SLOT - 900, SLOT + 900).await.expect("slots"),
        fold_into_slots(vec![wait(None, 60, 2), wait(Some("P1"), 60, 1)])
    );
    assert_eq!(
        store.stored("p1").await.expect("stored").get(&SLOT),
        Some(&facts)
    );
    // p1's facts change: the old ones leave the sums, the new ones arrive.
    let third = store.claim("p1").await.expect("claim");
    let changed = vec![wait(None, 75, 1)];
    assert!(
        store
            .commit(&commit(third, facts.clone(), changed.clone()))
            .await
            .expect("commit")
    );
    assert_eq!(
        store.slots(SLOT, SLOT).await.expect("slots"),
        fold_into_slots(vec![wait(None, 60, 1), wait(None, 75, 1)])
    );
    // No facts left: the person's slot item goes, and the sums drop to zero (not listed).
    assert!(
        store
            .commit(&commit(third, changed, vec![]))
            .await
            .expect("commit")
    );
    assert!(store.stored("p1").await.expect("stored").is_empty());
    assert_eq!(
        store.slots(SLOT, SLOT).await.expect("slots"),
        vec![wait(None, 60, 1)]
    );
    // The clear removes facts and sums but keeps the claim counters.
    assert!(store.clear().await.expect("clear") >= 2);
    assert!(store.slots(SLOT, SLOT).await.expect("slots").is_empty());
    assert_eq!(store.claim("p1").await.expect("claim"), third + 1);
}

#[tokio::test]
async fn a_stored_cell_of_another_value_under_the_same_id_fails_loudly() {
    let stack = Stack::start().await;
    let store = DynamoDbFactsStore::new(stack.dynamodb.clone(), &stack.table);
    let claim = store.claim("p1").await.expect("claim");
    let facts = vec![wait(None, 60, 1)];
    store
        .commit(&FactsCommit {
            person: "p1".into(),
            claim,
            slot: SLOT,
            old: vec![],
            new: facts.clone(),
        })
        .await
        .expect("commit");
    // Overwrite the stored cell's JSON as a colliding cell would have it.
    let items = stack.scan().await;
    let sum = items
        .iter()
        .find(|i| {
            i.get("pk")
                .and_then(|v| v.as_s().ok())
                .is_some_and(|pk| pk.starts_with("FACTSUM#"))
        })
        .expect("a sum item");
    let mut forged = sum.clone();
    forged.insert(
        "cell".into(),
        aws_sdk_dynamodb::types::AttributeValue::S("{\"Conversion\":null}".into()),
    );
    stack
        .dynamodb
        .put_item()
        .table_name(&stack.table)
        .set_item(Some(forged))
        .send()
        .await
        .expect("put");
    let claim = store.claim("p1").await.expect("claim");
    let err = store
        .commit(&FactsCommit {
            person: "p1".into(),
            claim,
            slot: SLOT,
            old: facts,
            new: vec![],
        })
        .await
        .expect_err("a collision is refused");
    assert!(err.to_string().contains("collision"), "{err}");
}

#[tokio::test]
async fn the_history_is_every_message_filed_under_any_of_the_persons_ids() {
    use shared::domain::activity::{Activity, Direction};
    let stack = Stack::start().await;
    let leads = shared::adapters::dynamodb::leads::DynamoDbLeadStore::new(
        stack.dynamodb.clone(),
        &stack.table,
    );
    // An inbound message under the phone, an answer under the business-scoped id.
    let inbound = Activity {
        direction: Direction::Inbound,
        user_key: "6281900000001".into(),
        wamid: "wamid.in1".into(),
        at: SLOT,
        phone_number_id: Some("5550001".into()),
        waba_id: Some("1001".into()),
    };
    leads.record_activity(&inbound).await.expect("marker");
    let outbound = Activity {
        direction: Direction::Outbound,
        user_key: "ID.5f2c9a".into(),
        wamid: "wamid.out1".into(),
        at: SLOT + 100,
        phone_number_id: Some("5550001".into()),
        waba_id: Some("1001".into()),
    };
    leads.record_activity(&outbound).await.expect("marker");
    let mut item = std::collections::HashMap::new();
    for (k, v) in [
        ("pk", "MSG#wamid.out1"),
        ("sk", "OUT"),
        ("item_kind", "outbound"),
        ("recipient_user_id", "ID.5f2c9a"),
        ("phone_number_id", "5550001"),
        ("waba_id", "1001"),
    ] {
        item.insert(
            k.to_string(),
            aws_sdk_dynamodb::types::AttributeValue::S(v.into()),
        );
    }
    item.insert(
        "sent_at".into(),
        aws_sdk_dynamodb::types::AttributeValue::N((SLOT + 100).to_string()),
    );
    stack
        .dynamodb
        .put_item()
        .table_name(&stack.table)
        .set_item(Some(item))
        .send()
        .await
        .expect("put");
    let history = DynamoDbPersonHistory::new(stack.dynamodb.clone(), &stack.table);
    let ids = vec!["6281900000001".to_string(), "ID.5f2c9a".to_string()];
    let (inb, out) = history
        .history("6281900000001", &ids)
        .await
        .expect("history");
    assert_eq!(
        inb,
        vec![InboundMsg {
            wamid: "wamid.in1".into(),
            person: "6281900000001".into(),
            waba_id: "1001".into(),
            phone_number_id: "5550001".into(),
            at: SLOT,
        }]
    );
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].person.as_deref(), out[0].times.sent_at),
        (Some("6281900000001"), Some(SLOT + 100))
    );
    assert!(history.has_inbound(&ids).await.expect("counters"));
    assert!(
        !history
            .has_inbound(&["ID.5f2c9a".to_string(), "nobody".to_string()])
            .await
            .expect("counters"),
        "the answer's id never wrote"
    );
    let facts = person_facts(&inb, &out);
    assert!(facts.iter().any(|t| matches!(
        t.cell,
        Cell::Wait {
            scope: None,
            kind: ResponseKind::Any,
            wait_s: 100
        }
    )));
}
