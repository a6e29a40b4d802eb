//! A lead's timeline stays bounded work as the person's history grows (issue 13, item 10):
//! message counts come from counters raised once per marker, times from the per-person
//! index, lists are the latest entries with `truncated` naming the cut ones.

use crate::leads::{T0, api_over, at, call, first_message};
use crate::support::*;
use aggregator::handler::Aggregator;
use integration_tests::harness::Stack;
use integration_tests::streams::{StreamReader, pump};
use integration_tests::verify::canonical;
use serde_json::{Value, json};
use shared::domain::leads::TIMELINE_ENTRIES;
use shared::telemetry::RequestCounter;

fn secs(ts: i64) -> String {
    at(ts).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The person's messages grow by 24 inbound and 24 outbound per round (outbound statuses
/// out of order and duplicated, the latest message's `delivered` before its `sent`): the
/// counts and the last outbound time equal what was sent, and reading the lead makes the
/// same requests and reads the same items in both rounds.
#[tokio::test]
async fn the_timeline_reads_the_same_items_however_many_messages() {
    let stack = Stack::start().await;
    let counter = RequestCounter::new();
    let api = api_over(
        &stack,
        shared::adapters::aws::dynamodb_client(&stack.sdk, Some(counter.clone())),
    );
    let aggregator = Aggregator::over(stack.dynamodb.clone(), &stack.table);
    let mut reader = StreamReader::new(&stack.endpoint, &stack.table);
    let user = "5511977770001";
    let (mut inbound, mut outbound, mut last_sent) = (0u64, 0u64, 0i64);
    let mut measured = Vec::new();
    for round in 0..2i64 {
        let base = T0 + round * 86_400;
        for i in 0..24 {
            let ts = base + i * 120;
            assert_eq!(
                stack.post(&first_message(user, ts, "oi", None)).await.0,
                200
            );
            inbound += 1;
            let wamid = format!("wamid.out.{round}.{i}");
            let sent = ts + 60;
            let st = |state: &str, t: i64| json!({"id": wamid, "status": state, "timestamp": t.to_string(), "recipient_id": user});
            // Later statuses first, then `sent`, then a duplicate of the first POST.
            let late = statuses_body(&[st("delivered", sent + 3), st("read", sent + 30)]);
            assert_eq!(stack.post(&late).await.0, 200);
            assert_eq!(stack.post(&statuses_body(&[st("sent", sent)])).await.0, 200);
            assert_eq!(stack.post(&late).await.0, 200);
            outbound += 1;
            last_sent = last_sent.max(sent);
        }
        pump(&mut reader, &aggregator).await;
        let partition = stack
            .scan()
            .await
            .iter()
            .filter(|i| text(i, "pk") == Some(&format!("USER#{user}")))
            .count();
        counter.reset();
        let (status, lead) = call(
            &api,
            "GET",
            &format!("/v1/leads/{user}"),
            None,
            at(base + 86_000),
        )
        .await;
        assert_eq!(status, 200, "{lead}");
        let m = &lead["timeline"]["messages"];
        assert_eq!(
            (
                m["inbound_count"].as_u64(),
                m["outbound_count"].as_u64(),
                m["last_outbound_at"].as_str()
            ),
            (
                Some(inbound),
                Some(outbound),
                Some(secs(last_sent).as_str())
            ),
            "{m}"
        );
        assert_eq!(lead["timeline"]["truncated"], json!([]));
        measured.push((partition, counter.reads(), counter.items_read()));
    }
    println!("timeline (partition items, requests, items read): {measured:?}");
    assert!(
        measured[1].0 >= measured[0].0 + 48,
        "the partition grew by the round's markers: {measured:?}"
    );
    assert_eq!(
        (measured[0].1, measured[0].2),
        (measured[1].1, measured[1].2),
        "the same requests and items read: {measured:?}"
    );
    assert!(
        measured[1].2 < 10,
        "a profile, counters, consent states and the latest outbound time: {measured:?}"
    );

    // The stream again (a retried batch) counts nothing twice.
    let before = stack.scan().await;
    let all = StreamReader::new(&stack.endpoint, &stack.table)
        .next_records()
        .await;
    assert!(
        aggregator
            .handle(integration_tests::streams::lambda_event(&all))
            .await
            .batch_item_failures
            .is_empty()
    );
    // (The person-rollup claim counters count recomputes: `canonical` leaves them out.)
    assert_eq!(
        canonical(&stack.scan().await),
        canonical(&before),
        "replayed records change nothing"
    );

    // A table from before the counters: markers without `counted` / `lead_time`, no
    // `ACTIVITY` item. One rebuild makes it exactly what the live aggregator wrote.
    let pk = format!("USER#{user}");
    for item in &before {
        let (Some(p), Some(sk)) = (text(item, "pk"), text(item, "sk")) else {
            continue;
        };
        if p != pk {
            continue;
        }
        let key = |k: &str| aws_sdk_dynamodb::types::AttributeValue::S(k.to_string());
        if sk == "ACTIVITY" {
            stack
                .dynamodb
                .delete_item()
                .table_name(&stack.table)
                .key("pk", key(p))
                .key("sk", key(sk))
                .send()
                .await
                .unwrap();
        } else if sk.starts_with("IN#") || sk.starts_with("OUT#") {
            stack
                .dynamodb
                .update_item()
                .table_name(&stack.table)
                .key("pk", key(p))
                .key("sk", key(sk))
                .update_expression("REMOVE counted, lead_time")
                .send()
                .await
                .unwrap();
        }
    }
    let (_, old) = call(
        &api,
        "GET",
        &format!("/v1/leads/{user}"),
        None,
        at(T0 + 2 * 86_400),
    )
    .await;
    assert_eq!(
        (
            old["timeline"]["messages"]["inbound_count"].as_u64(),
            old["timeline"]["messages"]["last_outbound_at"].as_str()
        ),
        (Some(0), None),
        "the old table has no counters yet"
    );
    let recorded = aggregator.rebuild(2).await.unwrap();
    assert_eq!(recorded, inbound + outbound);
    assert_eq!(
        canonical(&stack.scan().await),
        canonical(&before),
        "a rebuild counts and indexes every marker once"
    );
    assert_eq!(aggregator.rebuild(2).await.unwrap(), recorded);
    assert_eq!(
        canonical(&stack.scan().await),
        canonical(&before),
        "and a second rebuild changes nothing"
    );
}

/// Longer histories than a timeline holds: each list keeps its latest
/// [`TIMELINE_ENTRIES`] entries in time order and `truncated` names it; consent events of
/// two numbers interleave by time.
#[tokio::test]
async fn a_long_history_keeps_its_latest_entries_and_says_which_lists_were_cut() {
    let stack = Stack::start().await;
    let api = api_over(&stack, stack.dynamodb.clone());
    let user = "5511977770002";
    let now = at(T0 + 30 * 86_400);
    assert_eq!(
        stack.post(&first_message(user, T0, "oi", None)).await.0,
        200
    );
    let uri = format!("/v1/leads/{user}");

    // Owner changes: one more than a timeline holds (the first assignment, if any, came
    // with the message).
    let (_, lead) = call(&api, "GET", &uri, None, now).await;
    let mut version = lead["lead"]["version"].as_u64().unwrap();
    let changes = TIMELINE_ENTRIES + 1;
    for i in 0..changes {
        let body = json!({"expected_version": version, "owner": format!("agent-{i}")});
        let (status, lead) = call(&api, "PATCH", &uri, Some(body), at(T0 + 60 + i as i64)).await;
        assert_eq!(status, 200, "{lead}");
        version = lead["lead"]["version"].as_u64().unwrap();
    }

    // Consent events on two numbers, interleaved in time: 110 in all.
    let mut consent_times = Vec::new();
    for i in 0..110i64 {
        let number = if i % 3 == 0 {
            "111111111111111"
        } else {
            "222222222222222"
        };
        let action = if i % 2 == 0 { "opt_in" } else { "opt_out" };
        let t = T0 + 3_600 + i * 61;
        let event = json!({"user": user, "phone_number_id": number, "action": action,
            "categories": ["marketing"], "source": "web_form", "proof": "signup form", "at": secs(t)});
        let (status, body) = call(&api, "POST", "/v1/consent", Some(event), now).await;
        assert_eq!(status, 201, "{body}");
        consent_times.push((t, number));
    }

    // Conversions whose times do not follow their keys' order.
    let mut conversion_times = Vec::new();
    for i in 0..(TIMELINE_ENTRIES as i64 + 3) {
        let t = T0 + 7_200 + ((i * 37) % 103) * 60;
        let sale = json!({"type": "purchase", "value": 10, "currency": "BRL",
            "at": secs(t), "idempotency_key": format!("order-{i:03}")});
        let (status, body) =
            call(&api, "POST", &format!("{uri}/conversions"), Some(sale), now).await;
        assert_eq!(status, 201, "{body}");
        conversion_times.push(t);
    }

    let (status, lead) = call(&api, "GET", &uri, None, now).await;
    assert_eq!(status, 200);
    let t = &lead["timeline"];
    assert_eq!(
        t["truncated"],
        json!(["history", "consent_history", "conversions"]),
        "{}",
        t["truncated"]
    );
    let owners: Vec<&str> = t["owner_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["to"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (changes - TIMELINE_ENTRIES..changes)
        .map(|i| format!("agent-{i}"))
        .collect();
    assert_eq!(owners, expected, "the latest owner changes, oldest first");

    consent_times.sort();
    let expected: Vec<(String, &str)> = consent_times[consent_times.len() - TIMELINE_ENTRIES..]
        .iter()
        .map(|(t, n)| (secs(*t), *n))
        .collect();
    let got: Vec<(String, &str)> = t["consent_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["at"].as_str().unwrap().to_string(),
                e["phone_number_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got, expected,
        "the latest consent events of both numbers, by time"
    );
    assert_eq!(
        t["consent_state"].as_array().map(Vec::len),
        Some(2),
        "one state per number and category: {}",
        t["consent_state"]
    );

    conversion_times.sort();
    let expected: Vec<String> = conversion_times[conversion_times.len() - TIMELINE_ENTRIES..]
        .iter()
        .map(|t| secs(*t))
        .collect();
    let got: Vec<String> = t["conversions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c: &Value| c["at"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        got, expected,
        "the latest conversions by time, oldest first"
    );
}
