//! The leads API against its contract, `docs/openapi.yaml`: the real webhook creates leads
//! over HTTP, the real leads handler is served over HTTP the way the local stack serves it
//! (`integration_tests::server`), and `scripts/schemathesis.sh` (schemathesis 4.x from the
//! project venv, installed by `make setup`) generates requests for every operation and checks
//! each answer: no 5xx, and status code, content type and body as the spec documents them.

use crate::support::*;
use integration_tests::harness::{LOCAL_APP_SECRET, Stack, workspace_root};
use integration_tests::server::{Functions, serve};
use integration_tests::traffic::sign;
use leads::handler::{Leads, LeadsConfig};
use serde_json::{Value, json};
use shared::config::ApiAuth as Auth;
use shared::config::Secret;
use shared::domain::leads::Lifecycle;
use std::sync::Arc;
use std::time::Duration;

const TOKEN: &str = "openapi-test-token-0123456789";
/// Upper bound for the whole schemathesis run (moto answers one request at a time).
const RUN_LIMIT: Duration = Duration::from_secs(20 * 60);

fn referral(campaign: &str, ad: &str) -> Value {
    json!({"source_url": format!("https://shop.example/?utm_source=facebook&utm_medium=paid&utm_campaign={campaign}"),
           "source_id": ad, "source_type": "ad", "headline": "Sale", "media_type": "image",
           "ctwa_clid": format!("clid-{ad}")})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leads_api_conforms_to_its_openapi_document() {
    let root = workspace_root();
    let schemathesis = root.join(".venv/bin/schemathesis");
    assert!(
        schemathesis.exists(),
        "{} not found — run `make setup` (scripts/setup.sh installs schemathesis into .venv); \
         this test never skips",
        schemathesis.display()
    );

    // GIVEN the local stack with the webhook and the leads API served over HTTP
    let stack = Stack::start().await;
    let leads = Leads::from_sdk(
        LeadsConfig {
            table_name: stack.table.clone(),
            auth: Auth::Token(Secret::new(TOKEN)),
            lifecycle: Lifecycle::default(),
            forward_conversions: false,
            bucket_name: Some(stack.bucket.clone()),
        },
        &stack.sdk,
    );
    let Stack { moto, webhook, .. } = stack;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(serve(
        Arc::new(Functions {
            webhook,
            leads: Some(leads),
            reports: None,
        }),
        listener,
    ));
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    // AND leads created by signed webhook POSTs: one from an ad (a first touch), one organic
    // that later opts out with STOP (consent history and state), one with a BSUID.
    let now = chrono::Utc::now().timestamp();
    let mut from_ad = text_message("wamid.oa.1", "16505550101", now - 7_200, "hi, the sale?");
    from_ad["referral"] = referral("spring", "120210000000000011");
    let mut bsuid_contact = contact("16505550103", Some("US.13491208655302741918"));
    bsuid_contact["profile"]["name"] = json!("Ana");
    let bodies = [
        inbound_body(from_ad, contact("16505550101", None)),
        inbound_body(
            text_message("wamid.oa.2", "16505550102", now - 3_600, "hello"),
            contact("16505550102", None),
        ),
        inbound_body(
            text_message("wamid.oa.3", "16505550102", now - 1_800, "STOP"),
            contact("16505550102", None),
        ),
        inbound_body(
            text_message("wamid.oa.4", "16505550103", now - 600, "hola"),
            bsuid_contact,
        ),
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

    // The serving itself is right before schemathesis judges the handler: the bearer header
    // reaches it, the query string reaches it, the leads exist.
    let get = |uri: &str, auth: bool| {
        let mut r = http.get(format!("{base}{uri}"));
        if auth {
            r = r.bearer_auth(TOKEN);
        }
        r.send()
    };
    let anonymous = get("/v1/leads", false).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let listed = get("/v1/leads", true).await.unwrap();
    assert_eq!(listed.status(), 200);
    let page: Value = listed.json().await.unwrap();
    assert_eq!(page["leads"].as_array().map(Vec::len), Some(3), "{page}");
    let filtered: Value = get("/v1/leads?utm_campaign=spring", true)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        filtered["leads"].as_array().map(Vec::len),
        Some(1),
        "the query string reaches the handler: {filtered}"
    );
    let typo = get("/v1/leads?utm_campain=spring", true).await.unwrap();
    assert_eq!(typo.status(), 400, "an unknown filter reaches the handler");

    // WHEN schemathesis runs every operation of docs/openapi.yaml against it
    let mut cmd = tokio::process::Command::new(root.join("scripts/schemathesis.sh"));
    cmd.current_dir(&root)
        .env("LEADS_URL", &base)
        .env("API_TOKEN", TOKEN)
        .env(
            "SCHEMATHESIS_EXAMPLES",
            std::env::var("SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "20".into()),
        )
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let run = tokio::time::timeout(RUN_LIMIT, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("scripts/schemathesis.sh did not finish in {RUN_LIMIT:?}"))
        .expect("could not run scripts/schemathesis.sh");
    server.abort();
    drop(moto);
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);

    // THEN every check passes (the JUnit report is in .local/schemathesis/)
    assert!(
        run.status.success(),
        "scripts/schemathesis.sh failed ({}) against {base}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        run.status
    );
    println!("{stdout}");
}

/// The consent check's reason codes in `docs/openapi.yaml` are exactly the ones the code
/// emits (`ReasonCode::ALL`), so neither can drift from the other.
#[test]
fn the_consent_checks_reason_codes_are_the_documents_enum() {
    let doc = openapi_document();
    let documented: Vec<&str> = doc["components"]["schemas"]["ConsentDecision"]["properties"]
        ["reasons"]["items"]["properties"]["code"]["enum"]
        .as_array()
        .expect("an enum of reason codes")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let emitted: Vec<&str> = shared::domain::consent_check::ReasonCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(documented, emitted);
}

/// The consent sources in `docs/openapi.yaml` are the code's one list: every source a consent
/// event may carry (`ConsentSource::ALL`) and what `POST /v1/consent` accepts
/// (`ConsentSource::RECORDABLE`).
#[test]
fn the_consent_sources_are_the_documents_enums() {
    use shared::domain::consent::ConsentSource;
    let doc = openapi_document();
    let schemas = &doc["components"]["schemas"];
    let spellings = |enum_: &Value| -> Vec<String> {
        enum_
            .as_array()
            .expect("an enum of consent sources")
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let of = |list: &[ConsentSource]| -> Vec<String> {
        list.iter().map(|s| s.as_str().to_string()).collect()
    };
    assert_eq!(
        spellings(&schemas["ConsentSource"]["enum"]),
        of(&ConsentSource::ALL)
    );
    assert_eq!(
        spellings(&schemas["ConsentRequest"]["properties"]["source"]["enum"]),
        of(&ConsentSource::RECORDABLE)
    );
}

/// `docs/openapi.yaml` as JSON (through the project venv's YAML reader).
fn openapi_document() -> Value {
    let root = workspace_root();
    let out = std::process::Command::new(root.join(".venv/bin/python"))
        .arg(root.join("scripts/template-json.py"))
        .arg(root.join("docs/openapi.yaml"))
        .output()
        .expect("the project venv (run scripts/setup.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("openapi.yaml as JSON")
}
