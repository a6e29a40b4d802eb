//! One person, one lead (issue: identity across phone numbers and business-scoped ids): the
//! real webhook, the real aggregator over moto's stream and the real leads API, with the
//! shapes of Meta's BSUID examples (`from: ""` + `from_user_id`, `recipient_id: ""` +
//! `recipient_user_id`, `user_changed_number`).

use crate::support::*;
use aggregator::handler::Aggregator;
use chrono::{DateTime, Utc};
use integration_tests::harness::Stack;
use integration_tests::streams::{StreamReader, lambda_event, pump};
use lambda_http::{Body, Request};
use leads::handler::{Leads, LeadsConfig};
use serde_json::{Value, json};
use shared::adapters::dynamodb::leads::DynamoDbLeadStore;
use shared::config::ApiAuth as Auth;
use shared::config::Secret;
use shared::domain::activity::activity_change;
use shared::domain::leads::Lifecycle;
use std::collections::BTreeMap;

const TOKEN: &str = "test-api-token-0123456789";
/// 2026-11-20 10:00:00 UTC.
const T0: i64 = 1_795_168_800;

fn api(stack: &Stack) -> Leads {
    Leads::new(
        DynamoDbLeadStore::new(stack.dynamodb.clone(), &stack.table),
        LeadsConfig {
            table_name: stack.table.clone(),
            auth: Auth::Token(Secret::new(TOKEN)),
            lifecycle: Lifecycle::default(),
            forward_conversions: false,
            bucket_name: None,
        },
    )
}

fn aggregator_of(stack: &Stack) -> Aggregator {
    Aggregator::over(stack.dynamodb.clone(), &stack.table)
}

fn at(ts: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(ts, 0).unwrap()
}

async fn call(api: &Leads, method: &str, uri: &str, body: Option<Value>, now: i64) -> (u16, Value) {
    let mut b = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {TOKEN}"));
    let body = match body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            Body::Text(v.to_string())
        }
        None => Body::Empty,
    };
    let req: Request = b.body(body).unwrap();
    let resp = api.route(req, at(now)).await;
    let status = resp.status().as_u16();
    let body = match resp.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::Null),
        Body::Empty => Value::Null,
        Body::Binary(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
        other => panic!("unexpected body {other:?}"),
    };
    (status, body)
}

/// An inbound text as Meta sends it to a user known by `phone`, `bsuid` or both (a username
/// user's phone is `""`, as in Meta's example).
fn inbound(wamid: &str, phone: Option<&str>, bsuid: Option<&str>, ts: i64, text: &str) -> Value {
    let mut m = text_message(wamid, phone.unwrap_or(""), ts, text);
    if let Some(b) = bsuid {
        m["from_user_id"] = json!(b);
    }
    m
}

fn body(message: Value, phone: Option<&str>, bsuid: Option<&str>) -> Vec<u8> {
    inbound_body(message, contact(phone.unwrap_or(""), bsuid))
}

fn outbound_status(
    wamid: &str,
    state: &str,
    ts: i64,
    phone: Option<&str>,
    bsuid: Option<&str>,
) -> Vec<u8> {
    let mut s = json!({"id": wamid, "status": state, "timestamp": ts.to_string(),
        "recipient_id": phone.unwrap_or("")});
    if let Some(b) = bsuid {
        s["recipient_user_id"] = json!(b);
    }
    statuses_body(&[s])
}

/// `user_changed_number`: sent from the old number, naming the new one (no contacts).
fn number_change(wamid: &str, old: &str, new: &str, ts: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "messages": [{"from": old, "id": wamid, "timestamp": ts.to_string(), "type": "system",
                "system": {"body": "User changed number", "wa_id": new, "type": "user_changed_number"}}]
        }}]}]
    }))
    .unwrap()
}

/// The six orders of three things.
const ORDERS: [[usize; 3]; 6] = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
];

struct Person {
    phone: String,
    bsuid: String,
    campaign: String,
}

/// Person `k`: first seen by phone from an ad (T0), then by phone and business-scoped id
/// (T0+100), then by business-scoped id only (T0+200); the business's reply is first known
/// by phone and gains the business-scoped id on a later status. Each body is sent twice, the
/// three inbound messages in order `ORDERS[k % 6]`.
fn journey(k: usize) -> (Person, Vec<Vec<u8>>) {
    let p = Person {
        phone: format!("55119000{k:05}"),
        bsuid: format!("BR.{k:04}x{}", "a".repeat(24)),
        campaign: format!("camp{k}"),
    };
    let (ph, b) = (Some(p.phone.as_str()), Some(p.bsuid.as_str()));
    let mut first = inbound(&format!("wamid.in{k}.1"), ph, None, T0, "vi o anúncio");
    first["referral"] = json!({"source_url": format!("https://shop.example/?utm_source=facebook&utm_campaign={}", p.campaign),
        "source_id": format!("ad{k}"), "source_type": "ad", "ctwa_clid": format!("clid{k}")});
    let messages = [
        body(first, ph, None),
        body(
            inbound(&format!("wamid.in{k}.2"), ph, b, T0 + 100, "quanto custa?"),
            ph,
            b,
        ),
        body(
            inbound(&format!("wamid.in{k}.3"), None, b, T0 + 200, "obrigado"),
            None,
            b,
        ),
    ];
    let mut posts = Vec::new();
    posts.push(outbound_status(
        &format!("wamid.out{k}"),
        "sent",
        T0 + 50,
        ph,
        None,
    ));
    for i in ORDERS[k % 6] {
        posts.push(messages[i].clone());
        posts.push(messages[i].clone());
    }
    posts.push(outbound_status(
        &format!("wamid.out{k}"),
        "delivered",
        T0 + 60,
        ph,
        b,
    ));
    posts.push(outbound_status(
        &format!("wamid.out{k}"),
        "read",
        T0 + 70,
        None,
        b,
    ));
    (p, posts)
}

/// The journeys of people `0..n`: every POST body, and every id of theirs.
pub(crate) fn journeys(n: usize) -> (Vec<Vec<u8>>, Vec<String>) {
    let (mut traffic, mut ids) = (Vec::new(), Vec::new());
    for k in 0..n {
        let (p, posts) = journey(k);
        ids.extend([p.phone.clone(), p.bsuid.clone()]);
        traffic.extend(posts);
    }
    (traffic, ids)
}

pub(crate) async fn post_all(stack: &Stack, posts: &[Vec<u8>]) {
    for body in posts {
        let (status, text) = stack.post(body).await;
        assert_eq!(status, 200, "{text}");
    }
}

/// The consent check for marketing on the test number, by `id`, at `now`.
async fn marketing_check(api: &Leads, id: &str, now: i64) -> Value {
    let uri =
        format!("/v1/consent/check?user={id}&phone_number_id={PHONE_NUMBER_ID}&category=marketing");
    call(api, "GET", &uri, None, now).await.1
}

/// What the API says about every id of these people: the lead view by each id, the listing,
/// and the consent check for marketing by each id.
async fn answers(api: &Leads, ids: &[String], now: i64) -> Value {
    let mut out = BTreeMap::new();
    for id in ids {
        let (status, lead) = call(api, "GET", &format!("/v1/leads/{id}"), None, now).await;
        let check = marketing_check(api, id, now).await;
        out.insert(
            id.clone(),
            json!({"status": status, "lead": lead["lead"], "messages": lead["timeline"]["messages"],
                   "consent_state": lead["timeline"]["consent_state"],
                   "allowed": check["allowed"], "reason": check["reason"]}),
        );
    }
    let (_, list) = call(api, "GET", "/v1/leads?limit=200", None, now).await;
    let mut listed: Vec<Value> = list["leads"].as_array().cloned().unwrap_or_default();
    listed.sort_by_key(|l| l["lead_id"].as_str().unwrap_or_default().to_string());
    json!({"by_id": out, "listed": listed})
}

#[tokio::test]
async fn one_person_is_one_lead_across_phone_and_business_scoped_ids_in_every_order() {
    let stack = Stack::start().await;
    let api = api(&stack);
    let aggregator = aggregator_of(&stack);
    let mut reader = StreamReader::new(&stack.endpoint, &stack.table);
    let mut people = Vec::new();
    for k in 0..12 {
        let (p, posts) = journey(k);
        // Half the people are linked as the messages arrive, half only after all of them.
        if k % 2 == 0 {
            for body in &posts {
                post_all(&stack, std::slice::from_ref(body)).await;
                pump(&mut reader, &aggregator).await;
            }
        } else {
            post_all(&stack, &posts).await;
        }
        people.push(p);
    }
    pump(&mut reader, &aggregator).await;

    let now = T0 + 3600;
    let (_, list) = call(&api, "GET", "/v1/leads?limit=200", None, now).await;
    let listed: Vec<&str> = list["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lead_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed.len(),
        people.len(),
        "each person listed once: {listed:?}"
    );
    for (k, p) in people.iter().enumerate() {
        assert!(
            listed.contains(&p.bsuid.as_str()),
            "person {k} listed by business-scoped id"
        );
        for id in [&p.phone, &p.bsuid] {
            let (status, one) = call(&api, "GET", &format!("/v1/leads/{id}"), None, now).await;
            assert_eq!(status, 200, "person {k} by {id}: {one}");
            let lead = &one["lead"];
            assert_eq!(lead["lead_id"], p.bsuid.as_str(), "person {k} by {id}");
            assert_eq!(lead["ids"], json!([p.phone, p.bsuid]), "person {k}");
            assert_eq!(lead["phone"], p.phone.as_str(), "person {k}");
            // First touch and creation from the earliest message, whatever arrived first.
            assert_eq!(lead["created_at"], "2026-11-20T10:00:00Z", "person {k}");
            assert_eq!(
                lead["first_touch"]["utm_campaign"],
                p.campaign.as_str(),
                "person {k}"
            );
            assert_eq!(
                lead["last_inbound_at"], "2026-11-20T10:03:20Z",
                "person {k}"
            );
            let m = &one["timeline"]["messages"];
            assert_eq!(
                (m["inbound_count"].as_u64(), m["outbound_count"].as_u64()),
                (Some(3), Some(1)),
                "person {k}: {m}"
            );
        }
    }
    // The outbound message belongs to one person: no marker is left under the phone.
    let markers: Vec<_> = stack
        .scan()
        .await
        .into_iter()
        .filter(|i| text(i, "sk").is_some_and(|s| s.starts_with("OUT#")))
        .collect();
    assert_eq!(markers.len(), people.len());
    for m in &markers {
        assert!(text(m, "pk").unwrap().starts_with("USER#BR."), "{m:?}");
    }

    // A manager's change by phone lands on the person's lead.
    let p = &people[3];
    let (_, one) = call(&api, "GET", &format!("/v1/leads/{}", p.phone), None, now).await;
    let version = one["lead"]["version"].as_u64().unwrap();
    let (status, patched) = call(
        &api,
        "PATCH",
        &format!("/v1/leads/{}", p.phone),
        Some(json!({"expected_version": version, "stage": "qualified", "tags": ["vip"]})),
        now,
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    let (_, by_bsuid) = call(&api, "GET", &format!("/v1/leads/{}", p.bsuid), None, now).await;
    assert_eq!(by_bsuid["lead"]["stage"], "qualified");
    assert_eq!(
        by_bsuid["timeline"]["stage_history"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Replaying everything (every POST again, the whole stream again) changes nothing.
    let ids: Vec<String> = people
        .iter()
        .flat_map(|p| [p.phone.clone(), p.bsuid.clone()])
        .collect();
    let before = answers(&api, &ids, now).await;
    let items_before = stack.scan().await;
    for k in 0..people.len() {
        post_all(&stack, &journey(k).1).await;
    }
    let all = StreamReader::new(&stack.endpoint, &stack.table)
        .next_records()
        .await;
    for batch in integration_tests::streams::batches(&all, 100) {
        assert!(
            aggregator
                .handle(lambda_event(batch))
                .await
                .batch_item_failures
                .is_empty()
        );
    }
    assert_eq!(answers(&api, &ids, now).await, before);
    assert_eq!(stack.scan().await.len(), items_before.len());
}

#[tokio::test]
async fn consent_follows_the_person_by_either_id() {
    let stack = Stack::start().await;
    let api = api(&stack);
    let aggregator = aggregator_of(&stack);
    let mut reader = StreamReader::new(&stack.endpoint, &stack.table);
    let person = |k: usize| {
        (
            format!("55118000{k:05}"),
            format!("US.{k:04}y{}", "b".repeat(20)),
        )
    };
    let opt_in = |user: &str, ts: i64| {
        json!({"user": user, "phone_number_id": PHONE_NUMBER_ID, "action": "opt_in",
            "categories": ["marketing"], "source": "web_form", "proof": "signup form",
            "at": at(ts).to_rfc3339()})
    };
    let both = |k: usize, n: usize, ts: i64, text: &str| {
        let (p, b) = person(k);
        body(
            inbound(&format!("wamid.c{k}.{n}"), Some(&p), Some(&b), ts, text),
            Some(&p),
            Some(&b),
        )
    };
    // 0: linked earlier; opt-in recorded by phone; STOP arrives by business-scoped id only.
    // 1: linked earlier; opt-in recorded by business-scoped id; STOP arrives by phone only.
    for k in 0..2 {
        let (p, b) = person(k);
        post_all(&stack, &[both(k, 0, T0, "oi")]).await;
        pump(&mut reader, &aggregator).await;
        let by = if k == 0 { &p } else { &b };
        let (status, resp) = call(
            &api,
            "POST",
            "/v1/consent",
            Some(opt_in(by, T0 + 60)),
            T0 + 60,
        )
        .await;
        assert_eq!(status, 201, "{resp}");
        let stop = if k == 0 {
            body(
                inbound(&format!("wamid.c{k}.1"), None, Some(&b), T0 + 120, "STOP"),
                None,
                Some(&b),
            )
        } else {
            body(
                inbound(&format!("wamid.c{k}.1"), Some(&p), None, T0 + 120, "STOP"),
                Some(&p),
                None,
            )
        };
        post_all(&stack, &[stop]).await;
    }
    // 2: opt-in by phone, then a STOP carrying both ids before anything linked them: answered
    //    at once, before the aggregator has run.
    let (p2, b2) = person(2);
    post_all(
        &stack,
        &[body(
            inbound("wamid.c2.0", Some(&p2), None, T0, "oi"),
            Some(&p2),
            None,
        )],
    )
    .await;
    call(
        &api,
        "POST",
        "/v1/consent",
        Some(opt_in(&p2, T0 + 60)),
        T0 + 60,
    )
    .await;
    post_all(&stack, &[both(2, 1, T0 + 120, "PARAR")]).await;
    for id in [&p2, &b2] {
        let check = marketing_check(&api, id, T0 + 180).await;
        assert_eq!(
            check["allowed"], false,
            "before the aggregator, by {id}: {check}"
        );
    }
    // 3 and 4: STOP and START in the same second, in both orders, by both ids.
    for (k, order) in [(3, ["STOP", "START"]), (4, ["START", "STOP"])] {
        post_all(&stack, &[both(k, 0, T0, "oi")]).await;
        for (n, word) in order.iter().enumerate() {
            post_all(&stack, &[both(k, n + 1, T0 + 300, word)]).await;
        }
    }
    pump(&mut reader, &aggregator).await;
    for k in 0..5 {
        let (p, b) = person(k);
        for id in [&p, &b] {
            let check = marketing_check(&api, id, T0 + 600).await;
            assert_eq!(check["allowed"], false, "person {k} by {id}: {check}");
            assert_eq!(
                check["consent"]["consent"], "opt_out",
                "person {k} by {id}: {check}"
            );
        }
        let (_, lead) = call(&api, "GET", &format!("/v1/leads/{p}"), None, T0 + 600).await;
        let states = lead["timeline"]["consent_state"].as_array().unwrap();
        let marketing: Vec<_> = states
            .iter()
            .filter(|s| s["category"] == "marketing")
            .collect();
        assert_eq!(
            marketing.len(),
            1,
            "one state per number and category: {states:?}"
        );
        assert_eq!(marketing[0]["consent"], "opt_out", "person {k}");
    }
    // A later resume through the API by either id wins again.
    let (p0, b0) = person(0);
    call(
        &api,
        "POST",
        "/v1/consent",
        Some(opt_in(&b0, T0 + 900)),
        T0 + 900,
    )
    .await;
    for id in [&p0, &b0] {
        let check = marketing_check(&api, id, T0 + 1000).await;
        assert_eq!(check["allowed"], true, "resumed, by {id}: {check}");
    }
}

#[tokio::test]
async fn a_user_preferences_stop_naming_both_ids_links_them() {
    let stack = Stack::start().await;
    let api = api(&stack);
    let aggregator = aggregator_of(&stack);
    let mut reader = StreamReader::new(&stack.endpoint, &stack.table);
    let (phone, bsuid) = ("5511400000004", "US.44p");
    let stop = serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, "changes": [{"field": "user_preferences", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"wa_id": phone, "user_id": bsuid}],
            "user_preferences": [{"wa_id": phone, "user_id": bsuid, "detail": "User requested to stop marketing messages",
                "category": "marketing_messages", "value": "stop", "timestamp": T0 + 100}]
        }}]}]
    }))
    .unwrap();
    post_all(
        &stack,
        &[
            body(
                inbound("wamid.u1", Some(phone), None, T0, "oi"),
                Some(phone),
                None,
            ),
            stop,
            body(
                inbound("wamid.u2", None, Some(bsuid), T0 + 200, "oi de novo"),
                None,
                Some(bsuid),
            ),
        ],
    )
    .await;
    pump(&mut reader, &aggregator).await;
    for id in [phone, bsuid] {
        let (_, one) = call(&api, "GET", &format!("/v1/leads/{id}"), None, T0 + 600).await;
        assert_eq!(one["lead"]["lead_id"], bsuid, "{one}");
        assert_eq!(one["lead"]["ids"], json!([phone, bsuid]));
        assert_eq!(one["timeline"]["messages"]["inbound_count"], 2);
        assert_eq!(
            one["timeline"]["consent_history"].as_array().unwrap().len(),
            1
        );
    }
}

#[tokio::test]
async fn a_number_change_keeps_one_lead() {
    let stack = Stack::start().await;
    let api = api(&stack);
    let aggregator = aggregator_of(&stack);
    let mut reader = StreamReader::new(&stack.endpoint, &stack.table);
    let (old, new) = ("5511700000009", "5511700000001");
    post_all(
        &stack,
        &[
            body(
                inbound("wamid.n1", Some(old), None, T0, "oi"),
                Some(old),
                None,
            ),
            number_change("wamid.n2", old, new, T0 + 100),
            body(
                inbound("wamid.n3", Some(new), None, T0 + 200, "meu número novo"),
                Some(new),
                None,
            ),
        ],
    )
    .await;
    pump(&mut reader, &aggregator).await;
    for id in [old, new] {
        let (status, one) = call(&api, "GET", &format!("/v1/leads/{id}"), None, T0 + 600).await;
        assert_eq!(status, 200, "{one}");
        assert_eq!(
            one["lead"]["lead_id"], new,
            "the smaller number is the lead id"
        );
        assert_eq!(one["lead"]["ids"], json!([new, old]));
        assert_eq!(one["lead"]["created_at"], "2026-11-20T10:00:00Z");
        assert_eq!(
            one["timeline"]["messages"]["inbound_count"], 2,
            "the notice is not a message"
        );
    }
    let (_, list) = call(&api, "GET", "/v1/leads", None, T0 + 600).await;
    assert_eq!(list["leads"].as_array().unwrap().len(), 1, "{list}");
}

/// The aggregator as it was before identity links: markers only. A table it fed is split.
async fn pump_markers_only(reader: &mut StreamReader, store: &DynamoDbLeadStore) {
    for record in reader.next_records().await {
        let image = |name: &str| record["dynamodb"][name].clone();
        let attr = |img: &Value, k: &str| {
            let v = &img[k];
            v["S"]
                .as_str()
                .or_else(|| v["N"].as_str())
                .map(str::to_string)
        };
        let (old, new) = (image("OldImage"), image("NewImage"));
        if let Some(a) = activity_change(|k| attr(&old, k), |k| attr(&new, k)) {
            store.record_activity(&a).await.unwrap();
        }
    }
}

#[tokio::test]
async fn the_link_command_on_a_split_table_equals_ingesting_into_an_empty_one() {
    let live = Stack::start().await;
    let split = Stack::start().await;
    let (mut traffic, mut ids) = journeys(6);
    let (cp, cb) = ("5511600000001", "US.77c");
    ids.extend([cp.to_string(), cb.to_string()]);
    traffic.push(body(
        inbound("wamid.s1", Some(cp), Some(cb), T0, "oi"),
        Some(cp),
        Some(cb),
    ));
    traffic.push(body(
        inbound("wamid.s2", None, Some(cb), T0 + 500, "STOP"),
        None,
        Some(cb),
    ));

    // Today's product, linking as the stream arrives.
    let aggregator = aggregator_of(&live);
    post_all(&live, &traffic).await;
    pump(
        &mut StreamReader::new(&live.endpoint, &live.table),
        &aggregator,
    )
    .await;
    // The same traffic before identity links existed.
    post_all(&split, &traffic).await;
    let split_store = DynamoDbLeadStore::new(split.dynamodb.clone(), &split.table);
    pump_markers_only(
        &mut StreamReader::new(&split.endpoint, &split.table),
        &split_store,
    )
    .await;
    let split_leads = split
        .scan()
        .await
        .into_iter()
        .filter(|i| text(i, "sk") == Some("PROFILE"))
        .count();
    assert_eq!(
        split_leads,
        6 * 2 + 1,
        "a phone lead and a BSUID lead per journey, one lead for the person seen by both ids at once"
    );

    let now = T0 + 3600;
    assert_ne!(
        answers(&api(&split), &ids, now).await,
        answers(&api(&live), &ids, now).await,
        "before the repair the split table answers differently"
    );

    // The dry run says what it would do and writes nothing.
    let fixer = aggregator_of(&split);
    let before = split.scan().await;
    let dry = fixer.link_all(4, 0, true).await.unwrap();
    assert_eq!((dry.people, dry.new_links, dry.folded), (7, 7, 0));
    assert_eq!(dry.plan.len(), 7);
    assert!(
        dry.plan.iter().any(|l| l == "US.77c <- 5511600000001"),
        "{:?}",
        dry.plan
    );
    assert_eq!(split.scan().await, before, "a dry run writes nothing");

    // A run that crashed after its first segments is finished by running it again.
    fixer.link_all(4, 2, false).await.unwrap();
    let done = fixer.link_all(4, 0, false).await.unwrap();
    assert_eq!(done.people, 7);
    let again = fixer.link_all(4, 0, false).await.unwrap();
    assert_eq!(again.new_links, 0, "idempotent");
    // The markers-only aggregator also never moved an outbound marker from the phone to the
    // BSUID: the rebuild (`make redrive` runs both) removes the strays, so each message
    // counts once.
    fixer.rebuild(4).await.unwrap();

    assert_eq!(
        answers(&api(&split), &ids, now).await,
        answers(&api(&live), &ids, now).await,
        "the repaired table answers as one that linked from the start"
    );
}

/// Stream records the aggregator never processed (given up on after its retries and 24
/// hours: their positions are in the dead-letter queue): the redrive (`rebuild` + `link`)
/// re-derives markers, links and merges from the message items, and the table then answers
/// exactly like one whose stream was processed.
#[tokio::test]
async fn a_redrive_after_lost_stream_records_equals_the_processed_stream() {
    let live = Stack::start().await;
    let lost = Stack::start().await;
    let (traffic, ids) = journeys(3);
    post_all(&live, &traffic).await;
    pump(
        &mut StreamReader::new(&live.endpoint, &live.table),
        &aggregator_of(&live),
    )
    .await;
    post_all(&lost, &traffic).await;
    let redrive = aggregator_of(&lost);
    let markers = redrive.rebuild(4).await.unwrap();
    assert_eq!(markers, 3 * 4, "3 inbound and 1 outbound marker per person");
    let linked = redrive.link_all(4, 0, false).await.unwrap();
    assert_eq!(linked.people, 3);
    let now = T0 + 3600;
    assert_eq!(
        answers(&api(&lost), &ids, now).await,
        answers(&api(&live), &ids, now).await
    );
}
