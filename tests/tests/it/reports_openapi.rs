//! The reports API against its contract, `docs/reports-openapi.yaml`: the real webhook takes
//! signed traffic over HTTP, the real aggregator folds the table stream into the markers
//! reports read, the real reports handler is served over HTTP the way the local stack serves
//! it (`integration_tests::server`), and `scripts/schemathesis.sh` runs schemathesis with every
//! check (`CHECKS=all`: status codes, content types, bodies and headers as documented, no 5xx,
//! invalid data rejected, valid data accepted, undeclared methods 405 with `Allow`, auth, and
//! the stateful `createReport` → `getReport` link).

use crate::support::*;
use aggregator::handler::Aggregator;
use integration_tests::harness::{
    LOCAL_APP_SECRET, Stack, reports_api, reports_config, workspace_root,
};
use integration_tests::server::{Functions, serve};
use integration_tests::streams::{StreamReader, pump};
use integration_tests::traffic::sign;
use lambda_http::Body;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const TOKEN: &str = "reports-openapi-test-token-0123456789";
/// Upper bound for the whole schemathesis run (moto answers one request at a time).
const RUN_LIMIT: Duration = Duration::from_secs(20 * 60);

/// Schemathesis hooks for what JSON Schema cannot say: a schema-valid `createReport` body
/// may still have `from` after `to` or span more than 400 days (`400 from_after_to` /
/// `range_too_long`, documented in the spec's prose). For the cases schemathesis generates
/// as valid (positive mode) the hook orders the two dates and keeps the period to at most a
/// week (a report over 400 days reads 8 × 411 index partitions: too slow for moto hundreds of
/// times; the 400-day limit itself is unit-tested in `shared::domain::report`). Negative cases
/// are sent as generated.
const HOOKS: &str = r#"
import datetime

import schemathesis

MAX_SPAN_DAYS = 6


@schemathesis.hook
def before_call(context, case, kwargs):
    operation = case.operation
    if operation.method.upper() != "POST" or operation.path != "/v1/reports":
        return
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return
    try:
        start = datetime.date.fromisoformat(case.body["from"])
        end = datetime.date.fromisoformat(case.body["to"])
    except (KeyError, TypeError, ValueError):
        return
    if end < start:
        start, end = end, start
    try:
        end = start + datetime.timedelta(days=min((end - start).days, MAX_SPAN_DAYS))
    except OverflowError:
        end = start
    case.body["from"] = start.isoformat()
    case.body["to"] = end.isoformat()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reports_api_conforms_to_its_openapi_document() {
    let root = workspace_root();
    let schemathesis = root.join(".venv/bin/schemathesis");
    assert!(
        schemathesis.exists(),
        "{} not found — run `make setup` (scripts/setup.sh installs schemathesis into .venv); \
         this test never skips",
        schemathesis.display()
    );

    // GIVEN the local stack with the webhook and the reports API served over HTTP
    let stack = Stack::start().await;
    let mut config = reports_config(&stack.table, &stack.bucket, TOKEN, &[WABA.to_string()]);
    // Well inside schemathesis' 10 s request timeout: longer reports answer 202.
    config.inline_seconds = 5;
    let reports = reports_api(&stack.sdk, &config);
    // The same API with no time to work inline: every valid POST answers 202.
    let mut queueing = reports_api(&stack.sdk, &config);
    queueing.inline = Duration::ZERO;
    let aggregator = Aggregator::over(stack.dynamodb.clone(), &stack.table);
    let mut reader = StreamReader::new(&stack.endpoint, &stack.table);
    let Stack { moto, webhook, .. } = stack;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(serve(
        Arc::new(Functions {
            webhook,
            leads: None,
            reports: Some(reports),
        }),
        listener,
    ));
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    // AND traffic from signed webhook POSTs, folded by the aggregator: an inbound message, a
    // marketing template sent and delivered (a paid conversation) and its read
    let now = chrono::Utc::now().timestamp();
    let priced = |s: Value| with_pricing(s, pmp("regular", "marketing"));
    let bodies = [
        inbound_body(
            text_message("wamid.ro.in.1", "16505551234", now - 600, "hi"),
            contact("16505551234", None),
        ),
        statuses_body(&[priced(status("wamid.ro.out.1", "sent", now - 300))]),
        statuses_body(&[
            priced(status("wamid.ro.out.1", "delivered", now - 290)),
            status("wamid.ro.out.1", "read", now - 200),
        ]),
    ];
    for body in bodies {
        let resp = http
            .post(format!("{base}/webhook"))
            .header("content-type", "application/json")
            .header(
                "x-hub-signature-256",
                sign(LOCAL_APP_SECRET.as_bytes(), &body),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }
    assert!(
        pump(&mut reader, &aggregator).await > 0,
        "the stream has the traffic"
    );

    // The serving itself is right before schemathesis judges the handler: the bearer header
    // reaches it, the body reaches it, the link downloads the CSV.
    let anonymous = http.get(format!("{base}/v1/reports")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let today = chrono::DateTime::from_timestamp(now, 0)
        .unwrap()
        .date_naive();
    let request = json!({"kind": "conversations", "from": (today - chrono::Duration::days(1)).to_string(),
                         "to": today.to_string(), "tz": "UTC", "group_by": "none"});
    let created = http
        .post(format!("{base}/v1/reports"))
        .bearer_auth(TOKEN)
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let report: Value = created.json().await.unwrap();
    assert_eq!(report["status"], "ready", "{report}");
    assert!(
        report["rows"].as_u64() >= Some(1),
        "the traffic is in it: {report}"
    );
    let url = report["url"].as_str().expect("a ready report has a url");
    let csv = http.get(url).send().await.unwrap();
    assert_eq!(csv.status(), 200, "the presigned link works");
    let csv = csv.text().await.unwrap();
    assert!(
        csv.starts_with(
            "period,phone_number_id,category,pricing_type,sent,delivered,read,failed,paid,free,\
             delivery_rate,read_rate"
        ),
        "{csv}"
    );
    assert!(
        csv.contains(&format!("\r\nall,{PHONE_NUMBER_ID},marketing,")),
        "{csv}"
    );
    let id = report["id"].as_str().unwrap();
    let again: Value = http
        .get(format!("{base}/v1/reports/{id}?expires_in=60"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["status"], "ready");
    assert_ne!(again["url"], report["url"], "a fresh link on every GET");

    // AND a report that takes longer than the request may (202, then `running` on GET)
    let post = lambda_http::http::Request::builder()
        .method("POST")
        .uri("https://reports.example/v1/reports")
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body(Body::Text(request.to_string()))
        .unwrap();
    let queued = queueing.route(post).await;
    assert_eq!(queued.status(), 202);
    let Body::Text(queued) = queued.body() else {
        panic!("a JSON body")
    };
    let queued: Value = serde_json::from_str(queued).unwrap();
    assert_eq!(queued["status"], "running", "{queued}");
    let running: Value = http
        .get(format!(
            "{base}/v1/reports/{}",
            queued["id"].as_str().unwrap()
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(running["status"], "running", "{running}");
    assert!(running.get("url").is_none(), "{running}");

    // WHEN schemathesis runs every operation and the createReport → getReport link with every
    // check
    let work = root.join(".local/schemathesis/reports-openapi");
    std::fs::create_dir_all(&work).unwrap();
    let hooks = work.join("hooks.py");
    std::fs::write(&hooks, HOOKS).unwrap();
    let mut cmd = tokio::process::Command::new(root.join("scripts/schemathesis.sh"));
    cmd.current_dir(&root)
        .env("SPEC", "docs/reports-openapi.yaml")
        .env("API_URL", &base)
        .env("CHECKS", "all")
        .env("API_TOKEN", TOKEN)
        .env("SCHEMATHESIS_HOOKS", &hooks)
        .env(
            "SCHEMATHESIS_EXAMPLES",
            std::env::var("SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "10".into()),
        )
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let started = std::time::Instant::now();
    let run = tokio::time::timeout(RUN_LIMIT, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("scripts/schemathesis.sh did not finish in {RUN_LIMIT:?}"))
        .expect("could not run scripts/schemathesis.sh");
    server.abort();
    drop(moto);
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);

    // THEN every check passes (the JUnit report is in .local/schemathesis/reports-openapi/)
    assert!(
        run.status.success(),
        "scripts/schemathesis.sh failed ({}) against {base}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        run.status
    );
    println!("{stdout}");
    println!("schemathesis ran {:?}", started.elapsed());
}

/// The spec's `TimeZone` pattern (an alternation of names, wrapped with YAML escaped line
/// breaks) lists exactly the zones the service parses, so schemathesis' valid zones are valid.
#[test]
fn the_time_zone_pattern_lists_exactly_the_zones_the_service_knows() {
    let spec = std::fs::read_to_string(workspace_root().join("docs/reports-openapi.yaml"))
        .expect("docs/reports-openapi.yaml");
    let section = &spec[spec.find("\n    TimeZone:\n").expect("a TimeZone schema")..];
    let start = section.find("\"^(").expect("a quoted ^(…)$ pattern") + 3;
    let end = start + section[start..].find(")$\"").expect("the pattern's end");
    let joined: String = section[start..end]
        .split("\\\n")
        .map(str::trim_start)
        .collect();
    let mut listed: Vec<String> = joined.split('|').map(|n| n.replace("[+]", "+")).collect();
    listed.sort();
    let mut known: Vec<String> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|z| z.name().to_string())
        .collect();
    known.sort();
    assert_eq!(listed, known);
    for name in &listed {
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b)),
            "{name}: only [+] is escaped in the pattern"
        );
    }
}
