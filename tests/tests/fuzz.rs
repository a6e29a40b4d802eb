//! Property-based fuzzing (proptest) of what faces untrusted input: the webhook's whole POST
//! path (size cap → signature → parse → plan → store, with in-memory ports so each case
//! costs microseconds), the signature check, and the parsers behind the leads and reports
//! APIs (list filters, CSV import, the report request, the lead patch).
//!
//! The rule: no panic, and every webhook input ends in 200 (stored, or quarantined raw),
//! 401 (signature) or 413 (size); every parser answers `Ok` or a specific error.
//! `make test` runs each property over PROPTEST_CASES cases (256 by default); `make fuzz`
//! runs them far longer. A failing input is shrunk and kept in proptest's regression file
//! beside this test (commit it), so it is replayed first on every later run.

use integration_tests::harness::{LOCAL_APP_SECRET, post_with_header, signed_post, webhook_config};
use lambda_http::Body;
use proptest::prelude::*;
use shared::config::{ConfigError, Secret, WebhookSecrets};
use shared::domain::ingest::Write;
use shared::ports::{ApplyReport, EventStore, RawStore, StoreError, WebhookSecretSource};
use std::sync::Mutex;
use webhook::handler::Webhook;

/// Stores nothing, counts writes.
#[derive(Default)]
struct CountingStore(Mutex<usize>);

impl EventStore for CountingStore {
    async fn apply(&self, writes: &[Write<'_>]) -> Result<ApplyReport, StoreError> {
        *self.0.lock().unwrap() += writes.len();
        Ok(ApplyReport {
            applied: writes.len(),
            ..ApplyReport::default()
        })
    }
}

/// Keeps quarantined bodies' keys.
#[derive(Default)]
struct KeptKeys(Mutex<Vec<String>>);

impl RawStore for KeptKeys {
    async fn put_raw(&self, key: &str, _: &[u8], _: &[(&str, &str)]) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(key.to_string());
        Ok(())
    }
}

struct Fixed(WebhookSecrets);

impl WebhookSecretSource for Fixed {
    async fn load(&self) -> Result<WebhookSecrets, ConfigError> {
        Ok(self.0.clone())
    }
    fn refreshable(&self) -> bool {
        false
    }
}

const MAX_BODY: usize = 16 * 1024;

fn webhook() -> Webhook<CountingStore, KeptKeys, Fixed> {
    let secrets = WebhookSecrets {
        app_secrets: vec![Secret::new(LOCAL_APP_SECRET)],
        verify_token: Secret::new("vt"),
    };
    let mut config = webhook_config("t", "b");
    config.max_body_bytes = MAX_BODY;
    Webhook::new(
        &secrets,
        Fixed(secrets.clone()),
        &config,
        CountingStore::default(),
        KeptKeys::default(),
    )
    .expect("webhook")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn status_of(
    rt: &tokio::runtime::Runtime,
    hook: &Webhook<CountingStore, KeptKeys, Fixed>,
    req: lambda_http::Request,
) -> (u16, String) {
    let resp = rt.block_on(hook.handle(req)).expect("the handler answers");
    let body = match resp.body() {
        Body::Text(t) => t.clone(),
        _ => String::new(),
    };
    (resp.status().as_u16(), body)
}

/// JSON that looks like Meta's: the envelope's, changes' and items' own field names, nested
/// at random, with strings, numbers, booleans, nulls, arrays and objects as values.
fn webhookish_json() -> impl Strategy<Value = serde_json::Value> {
    let key = prop_oneof![
        Just("object"),
        Just("entry"),
        Just("id"),
        Just("time"),
        Just("changes"),
        Just("field"),
        Just("value"),
        Just("messaging_product"),
        Just("metadata"),
        Just("phone_number_id"),
        Just("contacts"),
        Just("wa_id"),
        Just("user_id"),
        Just("messages"),
        Just("statuses"),
        Just("from"),
        Just("from_user_id"),
        Just("timestamp"),
        Just("type"),
        Just("text"),
        Just("body"),
        Just("status"),
        Just("recipient_id"),
        Just("recipient_user_id"),
        Just("pricing"),
        Just("category"),
        Just("errors"),
        Just("code"),
        Just("referral"),
        Just("system"),
        Just("context"),
        Just("user_preferences"),
        Just("event"),
        Just("message_template_id"),
        Just("biz_opaque_callback_data"),
        Just("x"),
    ]
    .prop_map(str::to_string);
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        "[a-zA-Z0-9 ._:+-]{0,24}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("whatsapp_business_account"),
            Just("messages"),
            Just("sent"),
            Just("delivered"),
            Just("read"),
            Just("failed"),
            Just("text"),
            Just("system"),
            Just("STOP"),
            Just("marketing"),
            Just("1700000000"),
            Just("wamid.X"),
            Just("")
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// The conformance corpus, as raw bytes.
fn corpus() -> Vec<Vec<u8>> {
    let dir = integration_tests::harness::corpus_dir();
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("corpus dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(std::fs::read(&p).expect("corpus file"));
            }
        }
    }
    assert!(out.len() >= 150, "the corpus is there: {} files", out.len());
    out
}

proptest! {
    /// Any signed bytes: stored or quarantined, acknowledged 200; never 5xx, never a panic.
    #[test]
    fn any_signed_bytes_end_in_200(body in prop::collection::vec(any::<u8>(), 0..2048)) {
        let (rt, hook) = (runtime(), webhook());
        let (status, text) = status_of(&rt, &hook, signed_post(&body, LOCAL_APP_SECRET.as_bytes()));
        prop_assert_eq!(status, 200, "{}", text);
    }

    /// Webhook-shaped JSON, signed: the parser walks it whatever its shape.
    #[test]
    fn webhook_shaped_json_ends_in_200(v in webhookish_json()) {
        let body = serde_json::to_vec(&v).unwrap();
        prop_assume!(body.len() <= MAX_BODY);
        let (rt, hook) = (runtime(), webhook());
        let (status, text) = status_of(&rt, &hook, signed_post(&body, LOCAL_APP_SECRET.as_bytes()));
        prop_assert_eq!(status, 200, "{}", text);
    }

    /// Real payloads with bytes flipped, cut or inserted, signed.
    #[test]
    fn mutated_corpus_payloads_end_in_200(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        thread_local!(static CORPUS: Vec<Vec<u8>> = corpus());
        let mut body = CORPUS.with(|c| c[pick.index(c.len())].clone());
        for (at, byte, op) in edits {
            if body.is_empty() { break; }
            let i = at.index(body.len());
            match op {
                0 => body[i] = byte,
                1 => body.truncate(i),
                _ => body.insert(i, byte),
            }
        }
        prop_assume!(body.len() <= MAX_BODY);
        let (rt, hook) = (runtime(), webhook());
        let (status, text) = status_of(&rt, &hook, signed_post(&body, LOCAL_APP_SECRET.as_bytes()));
        prop_assert_eq!(status, 200, "{}", text);
    }

    /// Any signature header (or none): 401, and nothing is stored or kept.
    #[test]
    fn a_wrong_or_malformed_signature_is_401(
        body in prop::collection::vec(any::<u8>(), 0..512),
        header in prop::option::of("(sha256=)?[ -~]{0,80}"),
    ) {
        let (rt, hook) = (runtime(), webhook());
        let (status, _) = status_of(&rt, &hook, post_with_header(&body, header.as_deref()));
        prop_assert_eq!(status, 401);
    }

    /// Over the cap: 413 before the signature is even looked at.
    #[test]
    fn an_oversized_body_is_413(extra in 1usize..4096, signed in any::<bool>()) {
        let body = vec![b'{'; MAX_BODY + extra];
        let req = if signed {
            signed_post(&body, LOCAL_APP_SECRET.as_bytes())
        } else {
            post_with_header(&body, None)
        };
        let (rt, hook) = (runtime(), webhook());
        prop_assert_eq!(status_of(&rt, &hook, req).0, 413);
    }

    /// The leads list's query parameters: a filter or a specific error.
    #[test]
    fn lead_filters_parse_or_say_why(
        pairs in prop::collection::vec((
            prop_oneof![
                Just("stage".to_string()), Just("owner".to_string()), Just("tag".to_string()),
                Just("utm_campaign".to_string()), Just("created_from".to_string()),
                Just("created_to".to_string()), Just("dormant_days".to_string()),
                Just("limit".to_string()), Just("cursor".to_string()), "[a-z_]{1,12}",
            ],
            "[ -~]{0,40}",
        ), 0..6),
    ) {
        if let Err(e) = shared::domain::leads::LeadFilter::from_query(&pairs) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    /// A CSV import of any bytes: rows and errors, each error on a line of the file (found by
    /// this test on 2026-11-29: `\r\r\0` has its error on line 3, a lone CR ending a line).
    #[test]
    fn csv_imports_of_any_bytes_report_lines(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..1024),
            "(phone|user_id|name|stage|owner|tags|utm_campaign|opt_in|x)(,(phone|user_id|name|stage|tags|opt_in_at|y)){0,4}\r?\n([0-9+ \",a-zA-Z.;-]{0,30}\r?\n){0,6}"
                .prop_map(String::into_bytes),
        ],
    ) {
        // Lines as a CSV reader counts them: `\r\n`, `\n` or a lone `\r` (old Mac Excel
        // exports) ends one.
        let breaks = bytes
            .iter()
            .enumerate()
            .filter(|(i, b)| **b == b'\n' || (**b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
            .count();
        let lines = breaks as u64 + 1;
        let out = shared::domain::leads::parse_import(
            &bytes,
            &shared::domain::leads::Lifecycle::default(),
            chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap(),
        );
        for e in &out.errors {
            prop_assert!(e.line >= 1 && e.line <= lines.max(1) + 1, "line {} of {}", e.line, lines);
            prop_assert!(!e.message.is_empty());
        }
    }

    /// `POST /v1/reports` bodies: a request or a specific error code.
    #[test]
    fn report_requests_parse_or_say_why(v in webhookish_json(), kind in "[a-z_]{0,16}", from in "[0-9-]{0,12}") {
        let mut body = v;
        if let serde_json::Value::Object(m) = &mut body {
            m.insert("kind".into(), kind.into());
            m.insert("from".into(), from.into());
        }
        use shared::domain::report::{LinkPolicy, ReportRequest, ReportRequestBody};
        let parsed = ReportRequestBody::from_json(&body)
            .and_then(|b| ReportRequest::parse(b, LinkPolicy::default()));
        if let Err(e) = parsed {
            prop_assert!(!e.code.is_empty() && !e.message.is_empty());
        }
    }

    /// `PATCH /v1/leads/{id}` bodies: a patch or a serde error, never a panic.
    #[test]
    fn lead_patches_parse_or_say_why(v in webhookish_json()) {
        let _ = serde_json::from_value::<shared::domain::leads::LeadPatch>(v);
    }
}
