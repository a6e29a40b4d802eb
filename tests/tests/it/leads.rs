//! The leads API's real handler over leads the real webhook created, against moto: auth,
//! listing with filters and cursors, the timeline, optimistic concurrency (409), stage
//! rules, owner assignment on creation (rules and concurrent round robin), and the consent
//! check over consent that arrived through the webhook.

use crate::support::*;
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use integration_tests::harness::{Moto, Stack, webhook_config};
use integration_tests::verify::canonical;
use lambda_http::{Body, Request};
use leads::handler::{Leads, LeadsConfig};
use serde_json::{Value, json};
use shared::adapters::dynamodb::leads::DynamoDbLeadStore;
use shared::config::ApiAuth as Auth;
use shared::config::Secret;
use shared::domain::leads::{AssignmentRules, Lifecycle};
use std::collections::BTreeMap;

pub(crate) const TOKEN: &str = "test-api-token-0123456789";
/// 2026-11-20 10:00:00 UTC.
pub(crate) const T0: i64 = 1_795_168_800;

pub(crate) fn api(stack: &Stack) -> Leads {
    api_over(stack, stack.dynamodb.clone())
}

/// The leads API over a given DynamoDB client (one with a request counter).
pub(crate) fn api_over(stack: &Stack, client: aws_sdk_dynamodb::Client) -> Leads {
    let config = LeadsConfig {
        table_name: stack.table.clone(),
        auth: Auth::Token(Secret::new(TOKEN)),
        lifecycle: Lifecycle::default(),
        forward_conversions: false,
        bucket_name: None,
    };
    Leads::new(DynamoDbLeadStore::new(client, &stack.table), config)
}

pub(crate) fn request(
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Request {
    let mut b = http::Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let body = match body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            Body::Text(v.to_string())
        }
        None => Body::Empty,
    };
    b.body(body).unwrap()
}

pub(crate) async fn call(
    api: &Leads,
    method: &str,
    uri: &str,
    body: Option<Value>,
    now: DateTime<Utc>,
) -> (u16, Value) {
    let resp = api
        .route(request(method, uri, Some(TOKEN), body), now)
        .await;
    let status = resp.status().as_u16();
    let body = match resp.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap(),
        Body::Empty => Value::Null,
        Body::Binary(b) => serde_json::from_slice(b).unwrap(),
        other => panic!("unexpected body {other:?}"),
    };
    (status, body)
}

pub(crate) fn at(ts: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(ts, 0).unwrap()
}

pub(crate) fn referral(campaign: &str, ad: &str) -> Value {
    json!({"source_url": format!("https://shop.example/?utm_source=facebook&utm_medium=paid&utm_campaign={campaign}"),
           "source_id": ad, "source_type": "ad", "headline": "Sale", "media_type": "image", "ctwa_clid": format!("clid-{ad}")})
}

/// A first message from `phone`, optionally from an ad.
pub(crate) fn first_message(phone: &str, ts: i64, text: &str, ad: Option<(&str, &str)>) -> Vec<u8> {
    let mut m = text_message(&format!("wamid.{phone}.{ts}"), phone, ts, text);
    if let Some((campaign, ad)) = ad {
        m["referral"] = referral(campaign, ad);
    }
    inbound_body(m, contact(phone, None))
}

#[tokio::test]
async fn no_anonymous_access() {
    let stack = Stack::start().await;
    let api = api(&stack);
    for token in [None, Some("wrong-token-wrong-token"), Some("")] {
        let resp = api
            .route(request("GET", "/v1/leads", token, None), Utc::now())
            .await;
        assert_eq!(resp.status().as_u16(), 401, "{token:?}");
        assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    }
    // A JWT-mode function refuses a request without authorizer claims.
    let jwt = Leads::new(
        DynamoDbLeadStore::new(stack.dynamodb.clone(), &stack.table),
        LeadsConfig {
            table_name: stack.table.clone(),
            auth: Auth::Jwt(Default::default()),
            lifecycle: Lifecycle::default(),
            forward_conversions: false,
            bucket_name: None,
        },
    );
    let resp = jwt
        .route(request("GET", "/v1/leads", Some(TOKEN), None), Utc::now())
        .await;
    assert_eq!(resp.status().as_u16(), 401);
    assert!(
        LeadsConfig::from_lookup(|k| (k == "TABLE_NAME").then(|| "t".into())).is_err(),
        "token mode needs API_TOKEN"
    );
}

#[tokio::test]
async fn leads_from_the_webhook_list_filter_page_and_show_their_timeline() {
    let stack = Stack::start().await;
    let api = api(&stack);
    // 7 leads, one minute apart: 3 from the spring campaign (ad 11), 2 from winter (ad 22),
    // 2 organic. One sends STOP later.
    for i in 0..7i64 {
        let ad = match i {
            0..=2 => Some(("spring", "11")),
            3..=4 => Some(("winter", "22")),
            _ => None,
        };
        let phone = format!("55119000000{i}");
        assert_eq!(
            stack
                .post(&first_message(&phone, T0 + i * 60, "hello", ad))
                .await
                .0,
            200
        );
    }
    assert_eq!(
        stack
            .post(&first_message("551190000000", T0 + 3_600, "STOP", None))
            .await
            .0,
        200
    );
    let now = at(T0 + 7_200);

    let (status, body) = call(&api, "GET", "/v1/leads", None, now).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> = body["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lead_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        (0..7)
            .rev()
            .map(|i| format!("55119000000{i}"))
            .collect::<Vec<_>>(),
        "newest first"
    );
    assert_eq!(body["next_cursor"], Value::Null);
    assert_eq!(
        body["leads"][6]["last_inbound_at"], "2026-11-20T11:00:00Z",
        "the STOP message is the latest inbound"
    );

    let (_, spring) = call(&api, "GET", "/v1/leads?utm_campaign=spring", None, now).await;
    assert_eq!(spring["leads"].as_array().unwrap().len(), 3);
    assert!(
        spring["leads"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["first_touch"]["source_id"] == "11")
    );
    let (_, organic) = call(&api, "GET", "/v1/leads?source_type=ad", None, now).await;
    assert_eq!(organic["leads"].as_array().unwrap().len(), 5);
    let (status, bad) = call(&api, "GET", "/v1/leads?utm_campain=spring", None, now).await;
    assert_eq!(status, 400, "a typo must not return everything: {bad}");
    let (status, _) = call(&api, "GET", "/v1/leads?stage=closed", None, now).await;
    assert_eq!(status, 400, "not a configured stage");

    // Cursor pages: 3 + 3 + 1, no lead twice, same order as one page.
    let mut seen = Vec::new();
    let mut uri = "/v1/leads?limit=3".to_string();
    loop {
        let (status, page) = call(&api, "GET", &uri, None, now).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(
            page["leads"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["lead_id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => uri = format!("/v1/leads?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let (status, _) = call(&api, "GET", "/v1/leads?cursor=bm9wZQ", None, now).await;
    assert_eq!(status, 400, "a forged cursor");

    // Dormant: no inbound for 1 day, seen two days later: everyone.
    let (_, dormant) = call(
        &api,
        "GET",
        "/v1/leads?dormant_days=1",
        None,
        at(T0 + 2 * 86_400),
    )
    .await;
    assert_eq!(dormant["leads"].as_array().unwrap().len(), 7);
    let (_, dormant) = call(&api, "GET", "/v1/leads?dormant_days=1", None, now).await;
    assert_eq!(dormant["leads"].as_array().unwrap().len(), 0);

    // The timeline: first touch, consent history and state from the STOP.
    let (status, one) = call(&api, "GET", "/v1/leads/551190000000", None, now).await;
    assert_eq!(status, 200, "{one}");
    let t = &one["timeline"];
    assert_eq!(t["first_touch"]["utm_campaign"], "spring");
    assert_eq!(t["consent_history"][0]["consent"], "opt_out");
    assert_eq!(t["consent_history"][0]["keyword"], "stop");
    assert_eq!(
        t["consent_state"].as_array().unwrap().len(),
        2,
        "marketing and utility"
    );
    assert_eq!(t["messages"]["first_inbound_at"], "2026-11-20T10:00:00Z");
    let (status, _) = call(&api, "GET", "/v1/leads/999", None, now).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_stale_update_gets_409_and_nothing_is_lost() {
    let stack = Stack::start().await;
    let api = api(&stack);
    stack
        .post(&first_message("5511911111111", T0, "hi", None))
        .await;
    let now = at(T0 + 60);
    let uri = "/v1/leads/5511911111111";
    let (status, lead) = call(&api, "PATCH", uri, Some(json!({"expected_version": 0, "stage": "qualified", "owner": "alice", "tags": ["vip", "vip", "b2b"]})), now).await;
    assert_eq!(status, 200, "{lead}");
    assert_eq!(lead["lead"]["version"], 1);
    assert_eq!(lead["lead"]["tags"], json!(["b2b", "vip"]));
    // Two managers both read version 1; the second write is stale.
    let (a, _) = call(
        &api,
        "PATCH",
        uri,
        Some(json!({"expected_version": 1, "stage": "in_progress"})),
        now,
    )
    .await;
    let (b, conflict) = call(
        &api,
        "PATCH",
        uri,
        Some(json!({"expected_version": 1, "owner": "bob"})),
        now,
    )
    .await;
    assert_eq!((a, b), (200, 409));
    assert_eq!(conflict["error"]["current_version"], 2);
    let (_, current) = call(&api, "GET", uri, None, now).await;
    assert_eq!(
        current["lead"]["owner"], "alice",
        "the stale update changed nothing"
    );
    assert_eq!(current["lead"]["stage"], "in_progress");
    // Concurrent updates naming the same version: exactly one wins.
    let results = join_all((0..5).map(|i| {
        call(
            &api,
            "PATCH",
            uri,
            Some(json!({"expected_version": 2, "custom_fields": {"k": i.to_string()}})),
            now,
        )
    }))
    .await;
    assert_eq!(
        results.iter().filter(|(s, _)| *s == 200).count(),
        1,
        "{results:?}"
    );
    assert_eq!(results.iter().filter(|(s, _)| *s == 409).count(), 4);
    // Stage rules: unknown stage and leaving a terminal stage are refused.
    let (status, e) = call(
        &api,
        "PATCH",
        uri,
        Some(json!({"expected_version": 3, "stage": "closed"})),
        now,
    )
    .await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(
        call(
            &api,
            "PATCH",
            uri,
            Some(json!({"expected_version": 3, "stage": "won"})),
            now
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            &api,
            "PATCH",
            uri,
            Some(json!({"expected_version": 4, "stage": "lost"})),
            now
        )
        .await
        .0,
        422
    );
    assert_eq!(
        call(
            &api,
            "PATCH",
            uri,
            Some(json!({"expected_version": 4, "stage": "new"})),
            now
        )
        .await
        .0,
        200,
        "reopen"
    );
    // History with who and when.
    let (_, one) = call(&api, "GET", uri, None, now).await;
    let stages: Vec<(&str, &str)> = one["timeline"]["stage_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["from"].as_str().unwrap(), c["to"].as_str().unwrap()))
        .collect();
    assert_eq!(
        stages,
        [
            ("new", "qualified"),
            ("qualified", "in_progress"),
            ("in_progress", "won"),
            ("won", "new")
        ]
    );
    assert!(
        one["timeline"]["stage_history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["by"] == "api-token")
    );
    assert_eq!(one["timeline"]["owner_history"][0]["to"], "alice");
    // Malformed requests.
    assert_eq!(
        call(
            &api,
            "PATCH",
            uri,
            Some(json!({"expected_version": 5})),
            now
        )
        .await
        .0,
        422
    );
    assert_eq!(
        call(
            &api,
            "PATCH",
            uri,
            Some(json!({"expected_version": 5, "colour": "red"})),
            now
        )
        .await
        .0,
        422,
        "an unknown property breaks the request schema (OpenAPI: validation_failed)"
    );
    assert_eq!(call(&api, "DELETE", uri, None, now).await.0, 405);
}

#[tokio::test]
async fn concurrent_new_leads_are_split_evenly_by_round_robin_and_rules_come_first() {
    let moto = Moto::start();
    let endpoint = moto.url();
    let rules = AssignmentRules::from_json(
        r#"{"rules":[{"name":"spring","when":{"utm_campaign":"spring"},"assign_to":"sam"},
                     {"name":"indonesia","when":{"country_prefix":"62"},"assign_to":"dewi"}],
            "round_robin":["ana","ben","cleo"]}"#,
    )
    .unwrap();
    let stack = Stack::on(endpoint, Some(moto), move |t, b| {
        let mut c = webhook_config(t, b);
        c.assignment = Some(rules);
        c
    })
    .await;
    let api = api(&stack);
    // 30 new users at once (each first message delivered twice), 2 from the spring ad,
    // 2 Indonesian numbers.
    let mut bodies = Vec::new();
    for i in 0..30i64 {
        let phone = format!("5521900000{i:03}");
        bodies.push(first_message(&phone, T0 + i, "oi", None));
    }
    for (i, phone) in ["5521911110001", "5521911110002"].iter().enumerate() {
        bodies.push(first_message(
            phone,
            T0 + 100 + i as i64,
            "hi",
            Some(("spring", "33")),
        ));
    }
    for phone in ["628111000001", "628111000002"] {
        bodies.push(first_message(phone, T0 + 200, "halo", None));
    }
    let twice: Vec<&Vec<u8>> = bodies.iter().chain(bodies.iter()).collect();
    let codes = join_all(twice.iter().map(|b| stack.post(b))).await;
    assert!(codes.iter().all(|(c, _)| *c == 200), "{codes:?}");
    let (_, page) = call(&api, "GET", "/v1/leads?limit=200", None, at(T0 + 300)).await;
    let leads = page["leads"].as_array().unwrap();
    assert_eq!(leads.len(), 34);
    let mut by_owner: BTreeMap<&str, usize> = BTreeMap::new();
    for l in leads {
        *by_owner
            .entry(l["owner"].as_str().expect("every lead is assigned"))
            .or_default() += 1;
    }
    assert_eq!(
        by_owner,
        BTreeMap::from([
            ("ana", 10),
            ("ben", 10),
            ("cleo", 10),
            ("dewi", 2),
            ("sam", 2)
        ])
    );
    // One assignment per lead: one owner-history item each, whatever the duplicates.
    let history = stack
        .scan()
        .await
        .into_iter()
        .filter(|i| text(i, "item_kind") == Some("lead_change"))
        .count();
    assert_eq!(history, 34);
    let counter = stack
        .item("COUNTER#assignment", "ROUND_ROBIN")
        .await
        .unwrap();
    assert_eq!(
        num(&counter, "next_ticket"),
        Some(30),
        "one ticket per round-robin lead, none wasted"
    );
    // Reassignment through the API.
    let (status, lead) = call(
        &api,
        "PATCH",
        "/v1/leads/628111000001",
        Some(json!({"expected_version": 0, "owner": "ana"})),
        at(T0 + 400),
    )
    .await;
    assert_eq!((status, lead["lead"]["owner"].as_str()), (200, Some("ana")));
    let (_, one) = call(&api, "GET", "/v1/leads/628111000001", None, at(T0 + 400)).await;
    let owners: Vec<(&Value, &Value)> = one["timeline"]["owner_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (&c["from"], &c["to"]))
        .collect();
    assert_eq!(
        owners,
        [
            (&Value::Null, &json!("dewi")),
            (&json!("dewi"), &json!("ana"))
        ]
    );
}

#[tokio::test]
async fn csv_import_keeps_valid_rows_reports_bad_lines_and_export_round_trips() {
    let stack = Stack::start().await;
    let api = api(&stack);
    // One existing WhatsApp lead, updated by the import.
    stack
        .post(&first_message(
            "5511955555555",
            T0,
            "oi",
            Some(("spring", "66")),
        ))
        .await;
    let csv = "phone,name,stage,owner,tags,utm_campaign,opt_in_categories,opt_in_source,opt_in_proof,opt_in_at,phone_number_id\r\n\
+55 11 95555-5555,Ana,qualified,alice,vip,autumn,,,,,\r\n\
5511966666666,Bruno,,bob,b2b;vip,fair,marketing,store,\"Signed the in-store form,\nsheet 12\",2026-11-19,106540352242922\r\n\
12,Too Short,,,,,,,,,\r\n\
5511977777777,Carla,closed,,,,,,,,\r\n\
5511988888888,Davi,new,,,,marketing,qr,,2026-11-19,106540352242922\r\n";
    let resp = api
        .route(
            {
                let mut r = request("POST", "/v1/leads/import", Some(TOKEN), None);
                *r.body_mut() = Body::Text(csv.to_string());
                r.headers_mut()
                    .insert("content-type", "text/csv".parse().unwrap());
                r
            },
            at(T0 + 600),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let Body::Text(t) = resp.body() else { panic!() };
    let report: Value = serde_json::from_str(t).unwrap();
    assert_eq!(
        (report["imported"].as_u64(), report["updated"].as_u64()),
        (Some(1), Some(1)),
        "{report}"
    );
    let lines: Vec<u64> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(
        lines,
        [5, 6, 7],
        "line numbers count the quoted newline: {report}"
    );
    let now = at(T0 + 700);
    let (_, ana) = call(&api, "GET", "/v1/leads/5511955555555", None, now).await;
    assert_eq!(ana["lead"]["stage"], "qualified");
    assert_eq!(ana["lead"]["owner"], "alice");
    assert_eq!(
        ana["lead"]["first_touch"]["utm_campaign"], "spring",
        "an import never overwrites a first touch"
    );
    let (_, bruno) = call(&api, "GET", "/v1/leads/5511966666666", None, now).await;
    assert_eq!(bruno["lead"]["origin"], "import");
    assert_eq!(bruno["lead"]["tags"], json!(["b2b", "vip"]));
    assert_eq!(
        bruno["timeline"]["consent_history"][0]["proof"],
        "Signed the in-store form,\nsheet 12"
    );
    assert_eq!(bruno["timeline"]["consent_state"][0]["consent"], "opt_in");
    // Export: every lead, re-importable with the same values.
    let resp = api
        .route(
            request("GET", "/v1/leads/export?tag=vip", Some(TOKEN), None),
            now,
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let Body::Text(exported) = resp.body() else {
        panic!()
    };
    let rows: Vec<&str> = exported.lines().collect();
    assert_eq!(rows.len(), 3, "header + the two vip leads: {exported}");
    let reparsed =
        shared::domain::leads::parse_import(exported.as_bytes(), &Lifecycle::default(), now);
    assert!(reparsed.errors.is_empty(), "{:?}", reparsed.errors);
    let ids: Vec<&str> = reparsed.rows.iter().map(|r| r.lead_id.as_str()).collect();
    assert_eq!(ids, ["5511966666666", "5511955555555"]);
    // A file without a usable header.
    let resp = api
        .route(
            {
                let mut r = request("POST", "/v1/leads/import", Some(TOKEN), None);
                *r.body_mut() = Body::Text("colour,size\nred,xl\n".into());
                r.headers_mut()
                    .insert("content-type", "text/csv".parse().unwrap());
                r
            },
            now,
        )
        .await;
    assert_eq!(resp.status().as_u16(), 400);
}

#[tokio::test]
async fn the_stream_aggregator_gives_timelines_message_counts_and_the_entry_point_window() {
    use aggregator::handler::Aggregator;
    use integration_tests::streams::{StreamReader, lambda_event, pump};
    let stack = Stack::start().await;
    let api = api(&stack);
    let aggregator = Aggregator::over(stack.dynamodb.clone(), &stack.table);
    let mut reader = StreamReader::new(&stack.endpoint, &stack.table);
    let user = "5511988800001";
    let other = "5511988800002";
    // An ad click at T0, two more inbound messages, and the business's replies: the first
    // reply 23h later (inside 24 h: opens the 72 h free entry point), delivered out of order.
    stack
        .post(&first_message(
            user,
            T0,
            "vi o anúncio",
            Some(("spring", "88")),
        ))
        .await;
    stack
        .post(&first_message(user, T0 + 600, "quanto custa?", None))
        .await;
    stack.post(&first_message(other, T0, "oi", None)).await;
    let reply = |wamid: &str, state: &str, ts: i64| json!({"id": wamid, "status": state, "timestamp": ts.to_string(), "recipient_id": user});
    let first_reply = T0 + 23 * 3600;
    stack
        .post(&statuses_body(&[reply(
            "wamid.r1",
            "read",
            first_reply + 60,
        )]))
        .await;
    stack
        .post(&statuses_body(&[
            reply("wamid.r1", "sent", first_reply),
            reply("wamid.r1", "delivered", first_reply + 5),
        ]))
        .await;
    stack
        .post(&statuses_body(&[reply("wamid.r2", "sent", T0 + 30 * 3600)]))
        .await;
    let delivered = pump(&mut reader, &aggregator).await;
    assert!(delivered >= 8, "stream records: {delivered}");

    let now = at(T0 + 31 * 3600);
    let (_, one) = call(&api, "GET", &format!("/v1/leads/{user}"), None, now).await;
    let m = &one["timeline"]["messages"];
    assert_eq!(
        (m["inbound_count"].as_u64(), m["outbound_count"].as_u64()),
        (Some(2), Some(2)),
        "{m}"
    );
    assert_eq!(
        m["last_outbound_at"],
        at(T0 + 30 * 3600).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert_eq!(m["last_inbound_at"], "2026-11-20T10:10:00Z");
    let (_, two) = call(&api, "GET", &format!("/v1/leads/{other}"), None, now).await;
    assert_eq!(
        (
            two["timeline"]["messages"]["inbound_count"].as_u64(),
            two["timeline"]["messages"]["outbound_count"].as_u64()
        ),
        (Some(1), Some(0))
    );

    // A retried batch (the whole stream again) changes nothing.
    let before = stack.scan().await;
    let all = StreamReader::new(&stack.endpoint, &stack.table)
        .next_records()
        .await;
    assert!(
        aggregator
            .handle(lambda_event(&all))
            .await
            .batch_item_failures
            .is_empty()
    );
    // (The person-rollup claim counters count recomputes: `canonical` leaves them out.)
    assert_eq!(
        canonical(&stack.scan().await),
        canonical(&before),
        "replayed stream records are idempotent"
    );

    // 30 h after the click the service window is closed, but the reply at 23 h opened the
    // 72 h free entry point: a utility template is free until 23 h + 72 h.
    let check = |secs: i64| {
        let uri = format!(
            "/v1/consent/check?user={user}&phone_number_id={PHONE_NUMBER_ID}&category=utility"
        );
        let api = &api;
        async move { call(api, "GET", &uri, None, at(T0 + secs)).await.1 }
    };
    let d = check(35 * 3600).await;
    assert_eq!(
        (
            d["pricing"]["kind"].as_str(),
            d["pricing"]["free_because"].as_str()
        ),
        (Some("free"), Some("entry_point_window")),
        "{d}"
    );
    assert_eq!(
        d["entry_point_window"]["until"],
        at(first_reply + 72 * 3600).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let d = check(23 * 3600 + 72 * 3600 + 60).await;
    assert_eq!(d["pricing"]["kind"], "paid", "{d}");
}

#[tokio::test]
async fn new_leads_start_in_the_configured_first_stage_and_language_rules_use_the_phone_country() {
    let moto = Moto::start();
    let endpoint = moto.url();
    let rules = AssignmentRules::from_json(
        r#"{"rules":[{"name":"portuguese","when":{"language":"pt"},"assign_to":"joana"}],"round_robin":["ed"]}"#,
    )
    .unwrap();
    let stack = Stack::on(endpoint, Some(moto), move |t, b| {
        let mut c = webhook_config(t, b);
        c.assignment = Some(rules);
        c.lifecycle = Lifecycle::from_config("lead,contacted,won!,lost!").unwrap();
        c
    })
    .await;
    let api = Leads::new(
        DynamoDbLeadStore::new(stack.dynamodb.clone(), &stack.table),
        LeadsConfig {
            table_name: stack.table.clone(),
            auth: Auth::Token(Secret::new(TOKEN)),
            lifecycle: Lifecycle::from_config("lead,contacted,won!,lost!").unwrap(),
            forward_conversions: false,
            bucket_name: None,
        },
    );
    stack
        .post(&first_message("5511970000001", T0, "olá", None))
        .await;
    stack
        .post(&first_message("16505550001", T0, "hi", None))
        .await;
    let now = at(T0 + 60);
    let (_, br) = call(&api, "GET", "/v1/leads/5511970000001", None, now).await;
    assert_eq!(
        (br["lead"]["stage"].as_str(), br["lead"]["owner"].as_str()),
        (Some("lead"), Some("joana")),
        "{br}"
    );
    assert_eq!(
        br["timeline"]["owner_history"][0]["reason"],
        "rule:portuguese"
    );
    let (_, us) = call(&api, "GET", "/v1/leads/16505550001", None, now).await;
    assert_eq!(
        (us["lead"]["stage"].as_str(), us["lead"]["owner"].as_str()),
        (Some("lead"), Some("ed"))
    );
    let (status, _) = call(
        &api,
        "PATCH",
        "/v1/leads/16505550001",
        Some(json!({"expected_version": 0, "stage": "contacted"})),
        now,
    )
    .await;
    assert_eq!(status, 200, "the configured lifecycle governs transitions");
    let (status, _) = call(&api, "GET", "/v1/leads?stage=new", None, now).await;
    assert_eq!(status, 400, "`new` is not a stage of this lifecycle");
}

#[tokio::test]
async fn listing_merges_the_index_shards_in_one_order_even_with_ties() {
    let stack = Stack::start().await;
    let api = api(&stack);
    // 24 leads: 12 created in the same second (ties), 12 a minute apart.
    for i in 0..24i64 {
        let ts = if i < 12 { T0 } else { T0 + i * 60 };
        stack
            .post(&first_message(&format!("55119770{i:05}"), ts, "oi", None))
            .await;
    }
    let items = stack.scan().await;
    let shards: std::collections::BTreeSet<&str> =
        items.iter().filter_map(|i| text(i, "lead_list")).collect();
    assert!(
        shards.len() >= 5,
        "leads spread over the index shards: {shards:?}"
    );
    let now = at(T0 + 7_200);
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut uri = "/v1/leads?limit=5".to_string();
    loop {
        let (status, page) = call(&api, "GET", &uri, None, now).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(page["leads"].as_array().unwrap().iter().map(|l| {
            (
                l["created_at"].as_str().unwrap().to_string(),
                l["lead_id"].as_str().unwrap().to_string(),
            )
        }));
        match page["next_cursor"].as_str() {
            Some(c) => uri = format!("/v1/leads?limit=5&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 24, "every lead once: {seen:?}");
    let mut expected = seen.clone();
    expected.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    assert_eq!(seen, expected, "newest first, ties by key, across pages");
    let distinct: std::collections::BTreeSet<_> = seen.iter().map(|(_, id)| id).collect();
    assert_eq!(distinct.len(), 24);
}

async fn import_csv(api: &Leads, csv: &str, now: DateTime<Utc>) -> (u16, Value) {
    let mut r = request("POST", "/v1/leads/import", Some(TOKEN), None);
    *r.body_mut() = Body::Text(csv.to_string());
    r.headers_mut()
        .insert("content-type", "text/csv".parse().unwrap());
    let resp = api.route(r, now).await;
    let status = resp.status().as_u16();
    let Body::Text(t) = resp.body() else {
        panic!("a JSON answer")
    };
    (status, serde_json::from_str(t).unwrap())
}

/// Imports keep what they do not set (an empty stage cell keeps the stage), record the stage
/// and owner changes they make in the lead's history, and refuse files over the caps whole.
#[tokio::test]
async fn imports_keep_empty_stages_record_changes_and_refuse_oversized_files() {
    let stack = Stack::start().await;
    let api = api(&stack);
    let phone = "5511944440001";
    let (status, first) = import_csv(
        &api,
        &format!("phone,name,stage,owner\r\n{phone},Ana,qualified,alice\r\n"),
        at(T0),
    )
    .await;
    assert_eq!(
        (status, first["imported"].as_u64()),
        (200, Some(1)),
        "{first}"
    );
    let (status, second) = import_csv(
        &api,
        &format!("phone,name,stage,owner\r\n{phone},Ana,,bob\r\n"),
        at(T0 + 60),
    )
    .await;
    assert_eq!(
        (status, second["updated"].as_u64()),
        (200, Some(1)),
        "{second}"
    );
    let (_, lead) = call(
        &api,
        "GET",
        &format!("/v1/leads/{phone}"),
        None,
        at(T0 + 120),
    )
    .await;
    assert_eq!(
        lead["lead"]["stage"], "qualified",
        "an empty stage cell keeps the stage"
    );
    assert_eq!(lead["lead"]["owner"], "bob");
    let owners = lead["timeline"]["owner_history"].as_array().unwrap();
    assert_eq!(owners.len(), 1, "{owners:?}");
    assert_eq!(
        (&owners[0]["from"], &owners[0]["to"], &owners[0]["reason"]),
        (&json!("alice"), &json!("bob"), &json!("import"))
    );
    assert!(
        lead["timeline"]["stage_history"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Importing the same file again changes nothing more in the history.
    import_csv(
        &api,
        &format!("phone,name,stage,owner\r\n{phone},Ana,,bob\r\n"),
        at(T0 + 180),
    )
    .await;
    let (_, again) = call(
        &api,
        "GET",
        &format!("/v1/leads/{phone}"),
        None,
        at(T0 + 240),
    )
    .await;
    assert_eq!(
        again["timeline"]["owner_history"].as_array().unwrap().len(),
        1
    );

    // Over the row cap: refused whole (422), nothing applied.
    let mut many = String::from("phone\r\n");
    for i in 0..50_001u32 {
        many.push_str(&format!("55119{i:08}\r\n"));
    }
    let (status, body) = import_csv(&api, &many, at(T0 + 300)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("too_many_rows")),
        "{body}"
    );
    let (_, list) = call(&api, "GET", "/v1/leads", None, at(T0 + 300)).await;
    assert_eq!(
        list["leads"].as_array().unwrap().len(),
        1,
        "nothing of it applied"
    );
    // Over the size cap: 413 before parsing.
    let huge = format!("phone,name\r\n{phone},{}\r\n", "x".repeat(5 * 1024 * 1024));
    let (status, body) = import_csv(&api, &huge, at(T0 + 360)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("payload_too_large")),
        "{body}"
    );
}
