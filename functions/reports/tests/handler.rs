//! The reports API handler driven from API Gateway HTTP API (payload 2.0) events carrying the
//! JWT authorizer's claims (`tests/fixtures/http_api_jwt.json`, read by
//! `lambda_http::request::from_str`) against the report ports in memory
//! (`shared::memory::reports`): no moto, no network. Every expectation is built from the
//! facts the test feeds. The adapters and the whole stack are tested against moto in
//! `tests/tests/it/` (reports_openapi, report_files, security).

use lambda_http::http::header;
use lambda_http::{Body, Request};
use reports::handler::ReportsApi;
use serde_json::{Value, json};
use shared::config::ReportsConfig;
use shared::domain::metrics::input::{OutboundMsg, Times};
use shared::memory::reports::{MemoryReportObjects, MemoryReportSource, MemoryReportStore};
use shared::reports::{ReportService, ReportSettings};

/// Two tenants, each with one business number.
const W1: &str = "1001";
const W2: &str = "2002";
const P1: &str = "5550001";
const P2: &str = "5550002";

/// The period the reports ask for, and the link life they ask.
const FROM: &str = "2026-11-01";
const TO: &str = "2026-11-02";
const EXPIRES_IN: i64 = 600;

type Api = ReportsApi<MemoryReportSource, MemoryReportStore, MemoryReportObjects>;

struct Given {
    api: Api,
    store: MemoryReportStore,
    objects: MemoryReportObjects,
}

fn at(iso: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(iso)
        .unwrap()
        .timestamp()
}

fn sent(wamid: &str, waba: &str, number: &str, when: &str) -> OutboundMsg {
    OutboundMsg {
        wamid: wamid.into(),
        person: Some(format!("person-{wamid}")),
        waba_id: waba.into(),
        phone_number_id: number.into(),
        times: Times {
            sent_at: Some(at(when)),
            ..Times::default()
        },
        ..OutboundMsg::default()
    }
}

/// The messages fed: three in the period (two of W1, one of W2), one either side.
fn messages() -> Vec<OutboundMsg> {
    vec![
        sent("wamid.before", W1, P1, "2026-10-31T23:59:59Z"),
        sent("wamid.w1-a", W1, P1, "2026-11-01T09:00:00Z"),
        sent("wamid.w2-a", W2, P2, "2026-11-01T12:00:00Z"),
        sent("wamid.w1-b", W1, P1, "2026-11-02T23:59:59Z"),
        sent("wamid.after", W1, P1, "2026-11-03T00:00:00Z"),
    ]
}

/// The wamids of `messages()` in the period that `wabas` may see.
fn in_period(wabas: &[&str]) -> Vec<String> {
    let (lo, hi) = (at("2026-11-01T00:00:00Z"), at("2026-11-02T23:59:59Z"));
    messages()
        .into_iter()
        .filter(|m| wabas.contains(&m.waba_id.as_str()))
        .filter(|m| (lo..=hi).contains(&m.times.sent_at.unwrap()))
        .map(|m| m.wamid)
        .collect()
}

fn given() -> Given {
    let config = ReportsConfig::from_lookup(|k| {
        match k {
            "TABLE_NAME" => Some("unused-table"),
            "BUCKET_NAME" => Some("unused-bucket"),
            "AUTH_MODE" => Some("jwt"),
            "REPORT_INLINE_SECONDS" => Some("5"),
            _ => None,
        }
        .map(str::to_string)
    })
    .expect("valid config");
    let source = MemoryReportSource::new();
    source.outbound(messages());
    let (store, objects) = (MemoryReportStore::new(), MemoryReportObjects::new());
    let service = ReportService {
        source,
        store: store.clone(),
        objects: objects.clone(),
        settings: ReportSettings::from_config(&config),
    };
    Given {
        api: ReportsApi::new(service, &config),
        store,
        objects,
    }
}

fn fixture() -> Value {
    let path = format!(
        "{}/tests/fixtures/http_api_jwt.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fixture event for `method` on `target` (`path?query`) by a caller whose tenant claim
/// is `wabas` (`None`: no authorizer claims at all), with a JSON body.
fn event(method: &str, target: &str, wabas: Option<&str>, body: Option<&Value>) -> Request {
    let mut e = fixture();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    e["rawPath"] = json!(path);
    e["rawQueryString"] = json!(query);
    e["requestContext"]["http"]["method"] = json!(method);
    e["requestContext"]["http"]["path"] = json!(path);
    match wabas {
        None => {
            e["requestContext"]
                .as_object_mut()
                .unwrap()
                .remove("authorizer");
        }
        Some(w) => e["requestContext"]["authorizer"]["jwt"]["claims"]["custom:waba_ids"] = json!(w),
    }
    if let Some(b) = body {
        e["headers"]["content-type"] = json!("application/json");
        e["body"] = json!(b.to_string());
    }
    lambda_http::request::from_str(&e.to_string()).expect("an HTTP API event")
}

struct Answer {
    status: u16,
    body: Value,
    headers: lambda_http::http::HeaderMap,
}

async fn send(g: &Given, req: Request) -> Answer {
    let resp = g.api.route(req).await;
    let text = match resp.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    };
    Answer {
        status: resp.status().as_u16(),
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        headers: resp.headers().clone(),
    }
}

async fn create(g: &Given, wabas: &str, body: &Value) -> Answer {
    send(g, event("POST", "/v1/reports", Some(wabas), Some(body))).await
}

fn messages_report() -> Value {
    json!({"kind": "messages", "from": FROM, "to": TO, "expires_in": EXPIRES_IN})
}

fn code(a: &Answer) -> &str {
    a.body["error"]["code"].as_str().unwrap_or_default()
}

/// The wamids of a stored messages CSV (its first column, header excluded).
fn csv_wamids(bytes: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(bytes).unwrap();
    text.split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_small_report_is_ready_at_once_with_its_rows_and_a_link() {
    let g = given();
    let before = chrono::Utc::now().timestamp();
    let a = create(&g, "*", &messages_report()).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let expected = in_period(&[W1, W2]);
    assert_eq!(a.body["status"], "ready");
    assert_eq!(a.body["kind"], "messages");
    assert_eq!(a.body["origin"], "api");
    assert_eq!(a.body["rows"], json!(expected.len()));
    let id = a.body["id"].as_str().unwrap();
    let key = format!("reports/ondemand/{id}/messages.csv");
    let file = g.objects.object(&key).expect("the CSV is stored");
    assert_eq!(file.content_type, "text/csv; charset=utf-8");
    assert_eq!(a.body["bytes"], json!(file.bytes.len()));
    let mut wamids = csv_wamids(&file.bytes);
    wamids.sort();
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(wamids, sorted);
    // The link: the file's key, for the asked life.
    let url = a.body["url"].as_str().unwrap();
    let expires: i64 = url
        .strip_prefix(&format!("memory://{key}?expires="))
        .expect("a link to the file")
        .parse()
        .unwrap();
    let after = chrono::Utc::now().timestamp();
    assert!((before + EXPIRES_IN..=after + EXPIRES_IN).contains(&expires));
    let expires_at = chrono::DateTime::from_timestamp(expires, 0).unwrap();
    assert_eq!(
        a.body["expires_at"],
        expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert_eq!(g.store.records().len(), 1);
}

#[tokio::test]
async fn a_restricted_caller_gets_only_its_wabas_rows() {
    let g = given();
    let a = create(&g, W1, &messages_report()).await;
    assert_eq!((a.status, &a.body["status"]), (200, &json!("ready")));
    let expected = in_period(&[W1]);
    assert_eq!(a.body["rows"], json!(expected.len()));
    assert_eq!(a.body["request"]["wabas"], json!([W1]));
}

#[tokio::test]
async fn bad_requests_get_their_documented_codes() {
    let g = given();
    let with = |field: &str, value: Value| {
        let mut b = messages_report();
        b[field] = value;
        b
    };
    for (body, expected) in [
        (with("kind", json!("nope")), "unknown_kind"),
        (with("from", json!("2026-02-30")), "bad_date"),
        (with("to", json!("02/11/2026")), "bad_date"),
        (with("from", json!("2026-11-03")), "from_after_to"),
        (
            json!({"kind": "messages", "from": "2025-01-01", "to": "2026-02-05"}),
            "range_too_long",
        ),
        (with("tz", json!("Mars/Olympus")), "unknown_zone"),
        (with("group_by", json!("fortnight")), "bad_group_by"),
        (with("expires_in", json!(59)), "bad_expires_in"),
        (with("expires_in", json!(3_601)), "bad_expires_in"),
    ] {
        let a = create(&g, "*", &body).await;
        assert_eq!((a.status, code(&a)), (400, expected), "{body}");
    }
    let a = create(
        &g,
        "*",
        &json!({"kind": "messages", "from": "2025-01-01", "to": "2026-02-04", "x": 1}),
    )
    .await;
    assert_eq!((a.status, code(&a)), (400, "unknown_field"));
    assert!(g.store.records().is_empty(), "nothing is written");
    assert!(g.objects.keys().is_empty());
}

#[tokio::test]
async fn the_longest_period_is_400_days() {
    let g = given();
    let a = create(
        &g,
        "*",
        &json!({"kind": "messages", "from": "2025-01-01", "to": "2026-02-05"}),
    )
    .await;
    assert_eq!(
        code(&a),
        "range_too_long",
        "2025-01-01..2026-02-05 is 401 days"
    );
    let a = create(
        &g,
        "*",
        &json!({"kind": "messages", "from": "2025-01-01", "to": "2026-02-04"}),
    )
    .await;
    assert_eq!((a.status, &a.body["status"]), (200, &json!("ready")));
}

#[tokio::test]
async fn no_token_is_401() {
    let g = given();
    for req in [
        event("POST", "/v1/reports", None, Some(&messages_report())),
        event("GET", "/v1/reports", None, None),
    ] {
        let a = send(&g, req).await;
        assert_eq!((a.status, code(&a)), (401, "unauthorized"));
        assert_eq!(a.headers[header::WWW_AUTHENTICATE], "Bearer");
    }
    assert!(g.store.records().is_empty());
}

#[tokio::test]
async fn reports_are_read_again_and_listed_per_tenant() {
    let g = given();
    let all = create(&g, "*", &messages_report()).await;
    let mine = create(&g, W1, &messages_report()).await;
    let (all_id, mine_id) = (
        all.body["id"].as_str().unwrap(),
        mine.body["id"].as_str().unwrap(),
    );

    let again = send(
        &g,
        event(
            "GET",
            &format!("/v1/reports/{all_id}?expires_in=120"),
            Some("*"),
            None,
        ),
    )
    .await;
    assert_eq!(again.status, 200);
    for field in ["id", "kind", "status", "rows", "bytes", "sha256", "request"] {
        assert_eq!(again.body[field], all.body[field], "{field}");
    }
    let key = format!("reports/ondemand/{all_id}/messages.csv");
    assert!(
        again.body["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("memory://{key}?expires="))
    );

    // W1's caller may not read a report of every WABA: as if it did not exist.
    let hidden = send(
        &g,
        event("GET", &format!("/v1/reports/{all_id}"), Some(W1), None),
    )
    .await;
    assert_eq!((hidden.status, code(&hidden)), (404, "not_found"));
    let own = send(
        &g,
        event("GET", &format!("/v1/reports/{mine_id}"), Some(W1), None),
    )
    .await;
    assert_eq!((own.status, &own.body["rows"]), (200, &mine.body["rows"]));
    let other_tenant = send(
        &g,
        event("GET", &format!("/v1/reports/{mine_id}"), Some(W2), None),
    )
    .await;
    assert_eq!(other_tenant.status, 404);

    let listed = |a: &Answer| -> Vec<String> {
        let mut ids: Vec<String> = a.body["reports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                assert!(r.get("url").is_none(), "lists carry no links");
                r["id"].as_str().unwrap().to_string()
            })
            .collect();
        ids.sort();
        ids
    };
    let admin = send(&g, event("GET", "/v1/reports", Some("*"), None)).await;
    let mut both = vec![all_id.to_string(), mine_id.to_string()];
    both.sort();
    assert_eq!((admin.status, listed(&admin)), (200, both));
    let w1 = send(&g, event("GET", "/v1/reports", Some(W1), None)).await;
    assert_eq!(listed(&w1), [mine_id]);
    let one = send(&g, event("GET", "/v1/reports?limit=1", Some("*"), None)).await;
    assert_eq!(one.body["reports"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_failed_upload_is_a_failed_report_with_its_reason() {
    let g = given();
    g.objects.fail_next_parts(1);
    let a = create(&g, "*", &messages_report()).await;
    assert_eq!((a.status, &a.body["status"]), (200, &json!("failed")));
    let reason = a.body["reason"].as_str().unwrap();
    assert!(reason.contains("part upload refused on demand"), "{reason}");
    assert!(a.body.get("url").is_none() && a.body.get("rows").is_none());
    assert!(g.objects.keys().is_empty(), "nothing became visible");
    let id = a.body["id"].as_str().unwrap();
    let again = send(
        &g,
        event("GET", &format!("/v1/reports/{id}"), Some("*"), None),
    )
    .await;
    assert_eq!(
        (&again.body["status"], &again.body["reason"]),
        (&json!("failed"), &a.body["reason"])
    );
}
