//! Security of the managers' APIs. Authorization: a token must carry the API's scope, and
//! sees only the WABAs its tenant claim names. Two businesses' WABAs share one deployment: the
//! real webhook ingests both, the real aggregator files leads and numbers under their WABA
//! (moto's stream), and the real leads and reports handlers are called with API Gateway v2
//! events carrying JWT authorizer claims, as API Gateway hands them over. Declared limits:
//! every size the OpenAPI document declares is refused with a 4xx, and nothing is stored.

use crate::support::{claims, jwt_event, parsed};
use aggregator::handler::Aggregator;
use integration_tests::harness::{Stack, reports_api, reports_config};
use integration_tests::streams::{StreamReader, pump};
use leads::handler::{Leads, LeadsConfig};
use serde_json::{Value, json};
use shared::adapters::dynamodb::leads::DynamoDbLeadStore;
use shared::config::ApiAuth;
use shared::domain::leads::Lifecycle;

/// 2026-11-20 10:00:00 UTC.
const T0: i64 = 1_795_168_800;
const WABA_A: &str = "810000000000001";
const WABA_B: &str = "820000000000002";
const PHONE_A: &str = "910000000000001";
const PHONE_B: &str = "920000000000002";
const SCOPE: &str = "wa-insights/api";

/// One business number's traffic: `people` inbound first messages, then `sent` outbound
/// messages to its first person with sent + delivered statuses.
fn traffic(waba: &str, phone: &str, people: &[&str], sent: usize) -> Vec<Vec<u8>> {
    let value = |v: Value| {
        serde_json::to_vec(
            &json!({"object": "whatsapp_business_account", "entry": [{"id": waba,
            "changes": [{"field": "messages", "value": v}]}]}),
        )
        .unwrap()
    };
    let meta = json!({"display_phone_number": "15550000000", "phone_number_id": phone});
    let mut bodies = Vec::new();
    for (i, p) in people.iter().enumerate() {
        bodies.push(value(json!({"messaging_product": "whatsapp", "metadata": meta,
            "contacts": [{"profile": {"name": "Ana"}, "wa_id": p}],
            "messages": [{"from": p, "id": format!("wamid.in.{p}"), "timestamp": (T0 + i as i64).to_string(),
                "type": "text", "text": {"body": "hi"}}]})));
    }
    for n in 0..sent {
        let statuses: Vec<Value> = ["sent", "delivered"]
            .iter()
            .enumerate()
            .map(|(k, st)| json!({"id": format!("wamid.out.{phone}.{n}"), "status": st,
                "timestamp": (T0 + 600 + n as i64 * 10 + k as i64).to_string(),
                "recipient_id": people[0],
                "pricing": {"billable": true, "pricing_model": "PMP", "type": "regular", "category": "marketing"}}))
            .collect();
        bodies.push(value(
            json!({"messaging_product": "whatsapp", "metadata": meta,
            "statuses": statuses}),
        ));
    }
    bodies
}

fn lead_ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lead_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_token_sees_and_changes_only_its_wabas() {
    let stack = Stack::start().await;
    let mut reader = StreamReader::new(&stack.endpoint, &stack.table);
    let aggregator = Aggregator::over(stack.dynamodb.clone(), &stack.table);
    // WABA A: two people, 3 outbound messages; WABA B: one person, 2 outbound messages.
    for body in traffic(WABA_A, PHONE_A, &["5511900000001", "5511900000002"], 3)
        .into_iter()
        .chain(traffic(WABA_B, PHONE_B, &["5511900000003"], 2))
    {
        assert_eq!(stack.post(&body).await.0, 200);
    }
    pump(&mut reader, &aggregator).await;

    let api = Leads::new(
        DynamoDbLeadStore::new(stack.dynamodb.clone(), &stack.table),
        LeadsConfig {
            table_name: stack.table.clone(),
            auth: ApiAuth::Jwt(Default::default()),
            lifecycle: Lifecycle::default(),
            forward_conversions: false,
            bucket_name: None,
        },
    );
    let now = chrono::DateTime::from_timestamp(T0 + 3_600, 0).unwrap();
    let call =
        async |method: &str, path: &str, query: &str, c: &Value, body: Option<(&str, &str)>| {
            parsed(
                &api.route(jwt_event(method, path, query, c, body), now)
                    .await,
            )
        };
    let a = claims("manager-a", Some(&format!("openid {SCOPE}")), Some(WABA_A));
    let b = claims("manager-b", Some(SCOPE), Some(&format!("[{WABA_B}]")));
    let all = claims("owner", Some(SCOPE), Some("*"));

    // Scope and tenant are required.
    for (c, code) in [
        (claims("x", None, Some(WABA_A)), "insufficient_scope"),
        (
            claims("x", Some("openid"), Some(WABA_A)),
            "insufficient_scope",
        ),
        (claims("x", Some(SCOPE), None), "no_tenant"),
    ] {
        let (status, body) = call("GET", "/v1/leads", "", &c, None).await;
        assert_eq!((status, body["error"]["code"].as_str()), (403, Some(code)));
    }

    // Lists and exports hold only the caller's leads.
    let (_, list) = call("GET", "/v1/leads", "", &a, None).await;
    assert_eq!(lead_ids(&list), ["5511900000001", "5511900000002"]);
    let (_, list) = call("GET", "/v1/leads", "", &b, None).await;
    assert_eq!(lead_ids(&list), ["5511900000003"]);
    assert_eq!(list["leads"][0]["waba_ids"], json!([WABA_B]));
    let (_, list) = call("GET", "/v1/leads", "", &all, None).await;
    assert_eq!(lead_ids(&list).len(), 3);
    let (status, csv) = call("GET", "/v1/leads/export", "", &a, None).await;
    assert_eq!(status, 200);
    let csv = csv.as_str().unwrap().to_string();
    assert!(csv.contains("5511900000001") && !csv.contains("5511900000003"));

    // Another WABA's lead does not exist for this caller: read, change, convert.
    let other = "/v1/leads/5511900000003";
    assert_eq!(call("GET", other, "", &a, None).await.0, 404);
    let patch = r#"{"expected_version":0,"stage":"qualified"}"#;
    assert_eq!(
        call("PATCH", other, "", &a, Some(("application/json", patch)))
            .await
            .0,
        404
    );
    let conversion = r#"{"type":"purchase","idempotency_key":"k1","value":10,"currency":"USD"}"#;
    assert_eq!(
        call(
            "POST",
            &format!("{other}/conversions"),
            "",
            &a,
            Some(("application/json", conversion))
        )
        .await
        .0,
        404
    );
    // Its owner still can, and the lead is unchanged by the refused calls.
    let (status, lead) = call("GET", other, "", &b, None).await;
    assert_eq!((status, lead["lead"]["stage"].as_str()), (200, Some("new")));
    assert_eq!(
        call("PATCH", other, "", &b, Some(("application/json", patch)))
            .await
            .0,
        200
    );

    // Consent only on the caller's own numbers (recording and checking).
    let consent = |phone: &str| {
        json!({"user": "5511900000003", "phone_number_id": phone, "action": "opt_out",
            "categories": ["marketing"], "source": "api"})
        .to_string()
    };
    let check = format!("user=5511900000003&phone_number_id={PHONE_B}&category=marketing");
    let before = call("GET", "/v1/consent/check", &check, &b, None).await;
    assert_eq!(before.0, 200);
    let (status, body) = call(
        "POST",
        "/v1/consent",
        "",
        &a,
        Some(("application/json", &consent(PHONE_B))),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden_phone_number"))
    );
    assert_eq!(
        call("GET", "/v1/consent/check", &check, &a, None).await.0,
        403
    );
    let after = call("GET", "/v1/consent/check", &check, &b, None).await;
    assert_eq!(after, before, "A's refused opt-out changed nothing");
    assert_eq!(
        call(
            "POST",
            "/v1/consent",
            "",
            &a,
            Some(("application/json", &consent(PHONE_A)))
        )
        .await
        .0,
        201
    );

    // Imports: a row naming another WABA's lead is refused; a new lead is filed under A.
    let file = "phone,name,stage\n5511900000003,Mallory,lost\n5511900000099,Nova,\n";
    let (status, out) = call("POST", "/v1/leads/import", "", &a, Some(("text/csv", file))).await;
    assert_eq!(status, 200);
    assert_eq!(out["imported"], 1);
    assert_eq!(out["errors"][0]["line"], 2);
    let (_, lead) = call("GET", other, "", &b, None).await;
    assert_eq!(
        lead["lead"]["stage"], "qualified",
        "the refused row changed nothing"
    );
    assert_eq!(
        call("GET", "/v1/leads/5511900000099", "", &a, None).await.0,
        200
    );
    assert_eq!(
        call("GET", "/v1/leads/5511900000099", "", &b, None).await.0,
        404
    );
    let two = claims("m2", Some(SCOPE), Some(&format!("{WABA_A} {WABA_B}")));
    let (status, body) = call(
        "POST",
        "/v1/leads/import",
        "",
        &two,
        Some(("text/csv", file)),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("waba_required"))
    );
    let (status, body) = call(
        "POST",
        "/v1/leads/import",
        &format!("waba_id={WABA_B}"),
        &a,
        Some(("text/csv", file)),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden_waba"))
    );

    // Reports: each caller's report holds only its WABAs' facts; others cannot read it.
    let mut config = reports_config(&stack.table, &stack.bucket, "unused-token-0123456789", &[]);
    config.auth = ApiAuth::Jwt(Default::default());
    let reports = reports_api(&stack.sdk, &config);
    let report = async |c: &Value, kind: &str| {
        let body =
            json!({"kind": kind, "from": "2026-11-20", "to": "2026-11-20", "group_by": "none"})
                .to_string();
        let (status, rec) = parsed(
            &reports
                .route(jwt_event(
                    "POST",
                    "/v1/reports",
                    "",
                    c,
                    Some(("application/json", &body)),
                ))
                .await,
        );
        assert_eq!(status, 200, "{rec}");
        let url = rec["url"].as_str().unwrap().to_string();
        let csv = reqwest::get(&url).await.unwrap().text().await.unwrap();
        (rec["id"].as_str().unwrap().to_string(), csv)
    };
    let sent_of = |csv: &str| -> i64 {
        let mut rows = csv.lines();
        let header: Vec<&str> = rows.next().unwrap().split(',').collect();
        let col = header.iter().position(|h| *h == "sent").unwrap();
        rows.map(|r| r.split(',').nth(col).unwrap().parse::<i64>().unwrap())
            .sum()
    };
    let (id_a, csv_a) = report(&a, "conversations").await;
    let (id_b, csv_b) = report(&b, "conversations").await;
    let (id_all, csv_all) = report(&all, "conversations").await;
    assert_eq!(
        (sent_of(&csv_a), sent_of(&csv_b), sent_of(&csv_all)),
        (3, 2, 5)
    );
    assert!(!csv_a.contains(PHONE_B) && !csv_b.contains(PHONE_A));
    let (_, leads_a) = report(&a, "leads").await;
    assert!(leads_a.contains("5511900000001") && !leads_a.contains("5511900000003"));
    let get = async |c: &Value, id: &str| {
        parsed(
            &reports
                .route(jwt_event("GET", &format!("/v1/reports/{id}"), "", c, None))
                .await,
        )
        .0
    };
    assert_eq!(get(&a, &id_b).await, 404);
    assert_eq!(get(&a, &id_all).await, 404);
    assert_eq!(get(&b, &id_a).await, 404);
    assert_eq!(get(&a, &id_a).await, 200);
    assert_eq!(get(&all, &id_a).await, 200);
    assert_eq!(get(&two, &id_b).await, 200);
    let listed = async |c: &Value| {
        let (_, list) = parsed(
            &reports
                .route(jwt_event("GET", "/v1/reports", "", c, None))
                .await,
        );
        let mut ids: Vec<String> = list["reports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    assert!(!listed(&a).await.contains(&id_b) && listed(&a).await.contains(&id_a));
    assert_eq!(listed(&all).await.len(), 4);
    let (status, body) = parsed(
        &reports
            .route(jwt_event(
                "GET",
                "/v1/reports",
                "",
                &claims("x", Some(SCOPE), None),
                None,
            ))
            .await,
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("no_tenant"))
    );
}

#[tokio::test]
async fn declared_limits_are_refused_and_nothing_is_stored() {
    let stack = Stack::start().await;
    for body in traffic(WABA_A, PHONE_A, &["5511900000001"], 0) {
        assert_eq!(stack.post(&body).await.0, 200);
    }
    let api = Leads::new(
        DynamoDbLeadStore::new(stack.dynamodb.clone(), &stack.table),
        LeadsConfig {
            table_name: stack.table.clone(),
            auth: ApiAuth::Jwt(Default::default()),
            lifecycle: Lifecycle::default(),
            forward_conversions: false,
            bucket_name: None,
        },
    );
    let now = chrono::DateTime::from_timestamp(T0 + 3_600, 0).unwrap();
    let owner = claims("owner", Some(SCOPE), Some("*"));
    let call = async |method: &str, path: &str, query: &str, body: Option<(&str, &str)>| {
        parsed(
            &api.route(jwt_event(method, path, query, &owner, body), now)
                .await,
        )
    };
    let lead = "/v1/leads/5511900000001";
    let (_, before) = call("GET", lead, "", None).await;

    let tags: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
    let fields = |n: usize, len: usize| -> serde_json::Map<String, Value> {
        (0..n)
            .map(|i| (format!("f{i}"), json!("x".repeat(len))))
            .collect()
    };
    for patch in [
        json!({"expected_version": 0, "tags": tags}),
        json!({"expected_version": 0, "tags": ["x".repeat(65)]}),
        json!({"expected_version": 0, "custom_fields": fields(51, 1)}),
        // 300 KB in one field: would push the item toward DynamoDB's 400 KB limit.
        json!({"expected_version": 0, "custom_fields": fields(1, 300_000)}),
        json!({"expected_version": 0, "custom_fields": {"bad name": "v"}}),
    ] {
        let (status, body) = call(
            "PATCH",
            lead,
            "",
            Some(("application/json", &patch.to_string())),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("validation_failed")),
            "{body}"
        );
    }
    // At the limits it is accepted.
    let ok = json!({"expected_version": 0, "tags": (0..50).map(|i| format!("{i:0>64}")).collect::<Vec<_>>(),
        "custom_fields": fields(50, 1024)});
    assert_eq!(
        call(
            "PATCH",
            lead,
            "",
            Some(("application/json", &ok.to_string()))
        )
        .await
        .0,
        200
    );
    let (_, after) = call("GET", lead, "", None).await;
    assert_eq!(after["lead"]["tags"].as_array().unwrap().len(), 50);
    assert_eq!(before["lead"]["version"], 0);
    assert_eq!(
        after["lead"]["version"], 1,
        "only the accepted change was applied"
    );

    // Imports: too many custom columns is a bad header; an oversized cell is a bad row.
    let header: Vec<String> = (0..51).map(|i| format!("custom.f{i}")).collect();
    let file = format!(
        "phone,{}\n5511900000042,{}\n",
        header.join(","),
        vec!["v"; 51].join(",")
    );
    let (status, body) = call("POST", "/v1/leads/import", "", Some(("text/csv", &file))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_header")),
        "{body}"
    );
    let file = format!(
        "phone,name\n5511900000043,{}\n5511900000044,Ok\n",
        "n".repeat(257)
    );
    let (status, body) = call("POST", "/v1/leads/import", "", Some(("text/csv", &file))).await;
    assert_eq!(
        (status, body["imported"].as_i64()),
        (200, Some(1)),
        "{body}"
    );
    assert_eq!(body["errors"][0]["line"], 2);
    assert_eq!(
        call("GET", "/v1/leads/5511900000043", "", None).await.0,
        404
    );

    // Query strings: lengths and ranges the document declares.
    for query in [
        format!("tag={}", "t".repeat(65)),
        "dormant_days=3651".to_string(),
    ] {
        assert_eq!(
            call("GET", "/v1/leads", &query, None).await.0,
            400,
            "{query}"
        );
    }
    // A business-scoped id of `<ISO2>.` plus 128 characters is a valid lead id.
    let bsuid = format!("US.{}", "a".repeat(128));
    assert_eq!(
        call("GET", &format!("/v1/leads/{bsuid}"), "", None).await.0,
        404
    );
}
