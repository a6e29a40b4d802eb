//! The webhook handler driven from Function URL events (`tests/fixtures/*.json`, read by
//! `lambda_http::request::from_str` as Lambda hands them over) against the ports in memory
//! (`shared::memory`): no moto, no network. The whole-stack behaviour against DynamoDB and
//! S3 on moto is in `tests/tests/it/` (ingest, signature, handshake, failures).

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request};
use shared::assignment::{AssigningEventStore, OwnerAssigner};
use shared::config::WebhookConfig;
use shared::domain::leads::AssignmentRules;
use shared::domain::signature::{SIGNATURE_HEADER, sign};
use shared::ingest::quarantine_key;
use shared::memory::assignment::MemoryAssignmentStore;
use shared::memory::events::MemoryEventStore;
use shared::memory::raw::MemoryRawStore;
use shared::memory::secrets::MemoryWebhookSecrets;
use std::collections::BTreeMap;
use webhook::handler::Webhook;

const APP_SECRET: &str = "test-app-secret";
const VERIFY_TOKEN: &str = "meatyhamhock";
/// A small cap, so the oversized case needs no 4 MB body.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// The handler over in-memory ports, and clones of those ports to look at afterwards.
struct Subject {
    webhook: Webhook<MemoryEventStore, MemoryRawStore, MemoryWebhookSecrets>,
    store: MemoryEventStore,
    raw: MemoryRawStore,
    secrets: MemoryWebhookSecrets,
}

fn config() -> WebhookConfig {
    let max = MAX_BODY_BYTES.to_string();
    WebhookConfig::from_lookup(|k| {
        match k {
            "TABLE_NAME" => Some("unused-table"),
            "BUCKET_NAME" => Some("unused-bucket"),
            "META_APP_SECRET" => Some(APP_SECRET),
            "WEBHOOK_VERIFY_TOKEN" => Some(VERIFY_TOKEN),
            "MAX_BODY_BYTES" => Some(max.as_str()),
            // Re-read the secrets on any mismatch (the rotation case).
            "SECRET_REFRESH_SECONDS" => Some("0"),
            _ => None,
        }
        .map(str::to_string)
    })
    .expect("valid config")
}

fn subject_with(secrets: MemoryWebhookSecrets) -> Subject {
    let (store, raw) = (MemoryEventStore::new(), MemoryRawStore::new());
    let initial = MemoryWebhookSecrets::secrets(&[APP_SECRET], VERIFY_TOKEN);
    let webhook = Webhook::new(
        &initial,
        secrets.clone(),
        &config(),
        store.clone(),
        raw.clone(),
    )
    .expect("webhook");
    Subject {
        webhook,
        store,
        raw,
        secrets,
    }
}

fn subject() -> Subject {
    subject_with(MemoryWebhookSecrets::fixed(MemoryWebhookSecrets::secrets(
        &[APP_SECRET],
        VERIFY_TOKEN,
    )))
}

fn fixture(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The event as Lambda hands it to the handler.
fn request(event: &serde_json::Value) -> Request {
    lambda_http::request::from_str(&event.to_string()).expect("a Function URL event")
}

/// The event signed with `secret` over the exact bytes the handler will see (after Lambda's
/// base64 decoding).
fn signed_with(event: &serde_json::Value, secret: &str) -> Request {
    let mut req = request(event);
    let signature = sign(secret.as_bytes(), req.body().as_ref());
    req.headers_mut().insert(
        SIGNATURE_HEADER,
        HeaderValue::from_str(&signature).expect("hex"),
    );
    req
}

fn signed(name: &str) -> Request {
    signed_with(&fixture(name), APP_SECRET)
}

async fn send(subject: &Subject, req: Request) -> (StatusCode, String) {
    let resp = subject.webhook.handle(req).await.expect("never an Err");
    let body = match resp.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    };
    (resp.status(), body)
}

fn body_of(name: &str) -> Vec<u8> {
    request(&fixture(name)).body().as_ref().to_vec()
}

#[tokio::test]
async fn handshake_echoes_the_challenge_for_the_right_token_only() {
    let s = subject();
    let event = fixture("handshake.json");
    assert_eq!(
        send(&s, request(&event)).await,
        (StatusCode::OK, "1158201444".into())
    );

    let mut wrong = event.clone();
    wrong["rawQueryString"] =
        "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess".into();
    assert_eq!(
        send(&s, request(&wrong)).await,
        (StatusCode::FORBIDDEN, "forbidden".into())
    );

    let mut no_token = event;
    no_token["rawQueryString"] = "hub.mode=subscribe&hub.challenge=1158201444".into();
    assert_eq!(send(&s, request(&no_token)).await.0, StatusCode::FORBIDDEN);
    assert!(s.store.is_empty() && s.raw.is_empty());
}

#[tokio::test]
async fn a_signed_post_is_stored_item_by_item() {
    let s = subject();
    assert_eq!(
        send(&s, signed("post_messages.json")).await,
        (StatusCode::OK, "EVENT_RECEIVED".into())
    );
    // Two inbound messages (a CTWA referral, then STOP) from one person and two statuses of
    // one outbound message: the lead once, the STOP as one consent event and a state per
    // keyword category (marketing, utility), the message's ladder on one item.
    assert_eq!(
        s.store.items_by_kind(),
        BTreeMap::from([
            ("consent_event", 1),
            ("consent_state", 2),
            ("inbound", 2),
            ("lead", 1),
            ("outbound", 1),
        ])
    );
    assert!(s.raw.is_empty(), "nothing quarantined");
}

#[tokio::test]
async fn a_duplicate_post_changes_nothing() {
    let s = subject();
    assert_eq!(
        send(&s, signed("post_messages.json")).await.0,
        StatusCode::OK
    );
    let (applied, _) = s.store.totals();
    let before = s.store.snapshot();

    assert_eq!(
        send(&s, signed("post_messages.json")).await,
        (StatusCode::OK, "EVENT_RECEIVED".into())
    );
    assert_eq!(s.store.snapshot(), before);
    let (applied_after, unchanged_after) = s.store.totals();
    assert_eq!(
        applied_after, applied,
        "the second delivery applied nothing"
    );
    assert!(unchanged_after >= applied, "each write of it found done");
}

#[tokio::test]
async fn a_forged_or_missing_signature_is_refused_and_nothing_is_stored() {
    let s = subject();
    let event = fixture("post_messages.json");
    assert_eq!(
        send(&s, signed_with(&event, "not-the-app-secret")).await,
        (StatusCode::UNAUTHORIZED, "invalid signature".into())
    );

    // Signed, then one byte of the body changed.
    let mut req = signed_with(&event, APP_SECRET);
    let mut body = req.body().as_ref().to_vec();
    body[10] ^= 1;
    *req.body_mut() = Body::Binary(body);
    assert_eq!(send(&s, req).await.0, StatusCode::UNAUTHORIZED);

    assert_eq!(send(&s, request(&event)).await.0, StatusCode::UNAUTHORIZED);
    assert!(s.store.is_empty() && s.raw.is_empty());
}

#[tokio::test]
async fn an_oversized_body_is_refused_before_the_signature() {
    let s = subject();
    let mut event = fixture("post_messages.json");
    let padding = " ".repeat(MAX_BODY_BYTES);
    event["body"] = format!("{}{padding}", event["body"].as_str().unwrap()).into();
    assert_eq!(
        send(&s, signed_with(&event, APP_SECRET)).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "payload too large".into())
    );

    // A declared length over the cap is refused too, whatever arrived.
    let mut req = signed("post_messages.json");
    req.headers_mut().insert(
        "content-length",
        HeaderValue::from(MAX_BODY_BYTES as u64 + 1),
    );
    assert_eq!(send(&s, req).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(s.store.is_empty() && s.raw.is_empty());
}

#[tokio::test]
async fn a_signed_unparseable_body_is_quarantined_and_acknowledged() {
    let s = subject();
    for (name, reason) in [
        ("post_truncated.json", "invalid_json"),
        ("post_not_utf8.json", "invalid_utf8"),
    ] {
        assert_eq!(
            send(&s, signed(name)).await,
            (StatusCode::OK, "EVENT_RECEIVED".into()),
            "{name}"
        );
        let body = body_of(name);
        let kept = s
            .raw
            .get(&quarantine_key("quarantine/", reason, &body))
            .unwrap_or_else(|| panic!("{name} kept under {reason}: {:?}", s.raw.keys()));
        assert_eq!(kept.body, body, "kept byte for byte");
        assert_eq!(kept.metadata["reason"], reason);
    }
    assert_eq!(s.raw.len(), 2);
    assert!(s.store.is_empty(), "nothing written to the table");

    // Meta's retry lands on the same object.
    assert_eq!(
        send(&s, signed("post_truncated.json")).await.0,
        StatusCode::OK
    );
    assert_eq!(s.raw.len(), 2);
}

#[tokio::test]
async fn an_unavailable_store_answers_503_so_meta_retries() {
    let s = subject();
    s.store.set_unavailable(true);
    assert_eq!(
        send(&s, signed("post_messages.json")).await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "storage unavailable".into()
        )
    );
    assert!(s.store.is_empty());
    assert!(s.raw.is_empty(), "a retryable outage is not quarantined");

    // Back up: Meta's retry is stored.
    s.store.set_unavailable(false);
    assert_eq!(
        send(&s, signed("post_messages.json")).await.0,
        StatusCode::OK
    );
    assert_eq!(s.store.items_by_kind()["inbound"], 2);
}

#[tokio::test]
async fn a_refused_write_keeps_the_body_raw_and_stores_the_rest() {
    let s = subject();
    s.store.reject_kind("status");
    assert_eq!(
        send(&s, signed("post_messages.json")).await,
        (StatusCode::OK, "EVENT_RECEIVED".into())
    );
    let body = body_of("post_messages.json");
    let kept = s
        .raw
        .get(&quarantine_key("quarantine/", "store_rejected", &body))
        .expect("kept raw");
    assert!(kept.metadata["detail"].contains("(status)"), "{kept:?}");
    assert!(!s.store.items_by_kind().contains_key("outbound"));
    assert_eq!(s.store.items_by_kind()["inbound"], 2);
}

#[tokio::test]
async fn an_unparseable_body_that_cannot_be_kept_answers_503() {
    let s = subject();
    s.raw.set_unavailable(true);
    assert_eq!(
        send(&s, signed("post_truncated.json")).await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "storage unavailable".into()
        )
    );
}

#[tokio::test]
async fn a_rotated_app_secret_is_read_again_after_a_mismatch() {
    let source =
        MemoryWebhookSecrets::rotating(MemoryWebhookSecrets::secrets(&[APP_SECRET], VERIFY_TOKEN));
    let s = subject_with(source);
    s.secrets.set(MemoryWebhookSecrets::secrets(
        &["rotated-secret", APP_SECRET],
        VERIFY_TOKEN,
    ));
    let event = fixture("post_messages.json");
    assert_eq!(
        send(&s, signed_with(&event, "rotated-secret")).await.0,
        StatusCode::OK
    );
    assert_eq!(s.secrets.loads(), 1, "read once, after the mismatch");
    // The previous secret stays valid during the rotation.
    assert_eq!(
        send(&s, signed_with(&event, APP_SECRET)).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn other_methods_are_not_allowed() {
    let s = subject();
    let mut event = fixture("handshake.json");
    event["requestContext"]["http"]["method"] = "PUT".into();
    assert_eq!(
        send(&s, request(&event)).await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

/// The deployed shape's owner assignment (`shared::assignment`: the store step, then the
/// assignment over its port) with both ports in memory.
#[tokio::test]
async fn a_new_lead_gets_its_owner_once_and_an_unavailable_assignment_answers_503() {
    let owners = MemoryAssignmentStore::new();
    let rules = AssignmentRules::from_json(r#"{"rules":[],"round_robin":["ed","fay"]}"#)
        .expect("valid rules");
    let store = AssigningEventStore::new(
        MemoryEventStore::new(),
        OwnerAssigner::new(rules, owners.clone()),
    );
    let webhook = Webhook::new(
        &MemoryWebhookSecrets::secrets(&[APP_SECRET], VERIFY_TOKEN),
        MemoryWebhookSecrets::fixed(MemoryWebhookSecrets::secrets(&[APP_SECRET], VERIFY_TOKEN)),
        &config(),
        store,
        MemoryRawStore::new(),
    )
    .expect("webhook");
    let status = |resp: lambda_http::Response<Body>| resp.status();

    owners.set_unavailable(true);
    let first = webhook.handle(signed("post_messages.json")).await.unwrap();
    assert_eq!(
        status(first),
        StatusCode::SERVICE_UNAVAILABLE,
        "Meta retries"
    );
    assert!(owners.owners().is_empty());

    owners.set_unavailable(false);
    for _ in 0..2 {
        let again = webhook.handle(signed("post_messages.json")).await.unwrap();
        assert_eq!(status(again), StatusCode::OK);
    }
    let assigned = owners.owners();
    assert!(!assigned.is_empty(), "the POST's new lead is assigned");
    assert!(assigned.values().all(|o| o.reason == "round_robin"));
    assert_eq!(
        owners.next_ticket(),
        assigned.len() as u64,
        "one ticket per lead, none spent by the redelivery"
    );
}
