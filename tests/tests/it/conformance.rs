//! Conformance over the corpus: every webhook JSON under the corpus directory (read at test
//! time; `WA_CORPUS_DIR`, default `../shared/corpus`) is parsed and every entry × change ×
//! item is accounted for; then every file is POSTed, signed, to the real handler on moto.
//! Files that are not webhook POST bodies are listed here by name with the reason.

use integration_tests::harness::{Stack, corpus_dir};
use serde_json::Value;
use shared::domain::consent::ConsentKeywords;
use shared::domain::ingest::plan;
use shared::domain::webhook::{EventKind, parse};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Not webhook POST bodies, by path under the corpus, with the reason.
const NOT_WEBHOOK_BODIES: &[(&str, &str)] = &[
    (
        "meta/analytics_messaging_day.json",
        "Graph API response (analytics)",
    ),
    (
        "meta/call_analytics_daily_user_initiated.json",
        "Graph API response (call_analytics)",
    ),
    (
        "meta/conversation_analytics_half_hour_by_category.json",
        "Graph API response (conversation_analytics)",
    ),
    (
        "meta/conversation_analytics_half_hour_by_category_and_type.json",
        "Graph API response (conversation_analytics)",
    ),
    (
        "meta/conversation_analytics_half_hour_single_phone.json",
        "Graph API response (conversation_analytics)",
    ),
    (
        "meta/conversation_analytics_monthly_all_dimensions.json",
        "Graph API response (conversation_analytics)",
    ),
    (
        "meta/conversation_analytics_monthly_by_type_no_wrapper.json",
        "Graph API response (conversation_analytics, no wrapper)",
    ),
    (
        "meta/graph_message_templates_default_fields.json",
        "Graph API response (message_templates list)",
    ),
    (
        "meta/graph_message_templates_fields_limit5.json",
        "Graph API response (message_templates list)",
    ),
    (
        "meta/graph_message_templates_list_openapi.json",
        "Graph API response (message_templates list)",
    ),
    (
        "meta/pricing_analytics_daily_tier_country.json",
        "Graph API response (pricing_analytics)",
    ),
    (
        "meta/template_analytics_daily_cost_and_clicks.json",
        "Graph API response (template_analytics)",
    ),
    (
        "meta/template_group_analytics_daily.json",
        "Graph API response (template_group_analytics)",
    ),
    (
        "meta/waba_enable_insights_response.json",
        "Graph API response (is_enabled_for_insights POST)",
    ),
    (
        "peers/aws-samples-eum-connect-chat/sns_message.json",
        "AWS End User Messaging Social SNS envelope (one entry as a JSON string), not a Meta POST",
    ),
    (
        "peers/aws-samples-eum-connect-chat/webhook.entry.json",
        "a bare `entry` object as AWS EUM publishes it, not a Meta POST",
    ),
    (
        "peers/aws-samples-eum-connect-chat/flattened_message_event.json",
        "a `value` flattened by the AWS sample's own code, not a Meta POST",
    ),
    (
        "peers/pywa/original/account_update.json",
        "pywa test data: a map of named cases (each is a file under pywa/cases/)",
    ),
    (
        "peers/pywa/original/call_connect.json",
        "pywa test data: a map of named cases",
    ),
    (
        "peers/pywa/original/callback_button.json",
        "pywa test data: a map of named cases",
    ),
    (
        "peers/pywa/original/callback_selection.json",
        "pywa test data: a map of named cases",
    ),
    (
        "peers/pywa/original/deleted_message.json",
        "pywa test data: a map of named cases",
    ),
    (
        "peers/pywa/original/edited_message.json",
        "pywa test data: a map of named cases",
    ),
    (
        "peers/pywa/original/flow_completion.json",
        "pywa test data: a map of named cases",
    ),
    (
        "peers/pywa/original/message.json",
        "pywa test data: a map of named cases",
    ),
    (
        "peers/pywa/original/message_status.json",
        "pywa test data: a map of named cases",
    ),
    (
        "peers/pywa/original/outgoing_message.json",
        "pywa test data: a map of named cases",
    ),
    (
        "peers/pywa/original/system.json",
        "pywa test data: a map of named cases",
    ),
    (
        "peers/pywa/original/template_category_update.json",
        "pywa test data: a map of named cases",
    ),
    (
        "peers/pywa/original/template_components_update.json",
        "pywa test data: a map of named cases",
    ),
    (
        "peers/pywa/original/template_quality_update.json",
        "pywa test data: a map of named cases",
    ),
    (
        "peers/pywa/original/template_status_update.json",
        "pywa test data: a map of named cases",
    ),
    (
        "peers/pywa/original/user_marketing_preferences.json",
        "pywa test data: a map of named cases",
    ),
];

/// Malformed upstream (invalid JSON): must take the signed-but-unparseable path.
const MALFORMED: &str = "peers/whatsapp-business-java-api/textMessageStatusRead.json";

fn corpus_files() -> Vec<(String, PathBuf)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    let root = corpus_dir();
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut named: Vec<_> = files
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
                p,
            )
        })
        .collect();
    named.sort();
    assert!(
        named.len() >= 200,
        "expected the full corpus, found {} JSON files",
        named.len()
    );
    named
}

fn is_webhook(rel: &str) -> bool {
    !NOT_WEBHOOK_BODIES.iter().any(|(f, _)| *f == rel)
}

/// Items per change, counted independently of the parser (from a plain JSON walk).
fn expected_items(body: &Value) -> Vec<usize> {
    let mut per_change = Vec::new();
    for entry in body["entry"].as_array().into_iter().flatten() {
        for change in entry["changes"].as_array().into_iter().flatten() {
            let value = &change["value"];
            let field = change["field"]
                .as_str()
                .or(value["field"].as_str())
                .unwrap_or("");
            let len = |k: &str| value[k].as_array().map_or(0, Vec::len);
            per_change.push(match field {
                "messages" => (len("messages") + len("statuses") + len("errors")).max(1),
                "user_preferences" => len("user_preferences"),
                "automatic_events" => len("automatic_events"),
                _ => 1,
            });
        }
    }
    per_change
}

#[test]
fn every_corpus_item_is_accounted_for() {
    let files = corpus_files();
    for (listed, _) in NOT_WEBHOOK_BODIES {
        assert!(
            files.iter().any(|(f, _)| f == listed),
            "listed exclusion {listed} is not in the corpus"
        );
    }
    let keywords = ConsentKeywords::default();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut kept: BTreeMap<String, usize> = BTreeMap::new();
    let mut checked = 0;
    for (rel, path) in files.iter().filter(|(rel, _)| is_webhook(rel)) {
        let bytes = std::fs::read(path).unwrap();
        if rel == MALFORMED {
            let err = parse(&bytes).expect_err("the malformed file must not parse");
            assert_eq!(err.reason(), "invalid_json");
            continue;
        }
        let batch = parse(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let json: Value = serde_json::from_slice(&bytes).unwrap();
        let expected = expected_items(&json);
        assert_eq!(batch.changes.len(), expected.len(), "{rel}: changes");
        for (i, want) in expected.iter().enumerate() {
            let got = batch
                .events
                .iter()
                .filter(|e| e.change == i)
                .filter(|e| !matches!(&e.kind, EventKind::Kept { kind, .. } if kind.starts_with("value_fields:")))
                .count();
            assert_eq!(
                got, *want,
                "{rel}: change {i} has {want} items, parser accounted for {got}"
            );
        }
        for event in &batch.events {
            let name = event.kind.name();
            assert!(
                !name.is_empty() && !name.ends_with('.'),
                "{rel}: unnamed kind"
            );
            if let EventKind::Kept { kind, reason } = &event.kind {
                assert!(
                    !kind.is_empty() && !reason.is_empty(),
                    "{rel}: kept item without kind/reason"
                );
            }
        }
        let p = plan(&batch, &keywords);
        assert_eq!(
            p.item_count(),
            batch.events.len(),
            "{rel}: plan counts every item"
        );
        for (k, n) in p.items {
            *kinds.entry(k).or_default() += n;
        }
        for (k, n) in p.kept_raw {
            *kept.entry(k).or_default() += n;
        }
        checked += 1;
    }
    println!("{checked} webhook files; items by kind: {kinds:#?}\nkept raw by kind: {kept:#?}");
    assert!(checked >= 150, "only {checked} webhook files checked");
    for must in [
        "status.sent",
        "status.delivered",
        "status.read",
        "status.failed",
        "status.played",
        "inbound.text",
        "inbound.system",
        "template.status",
        "template.quality",
        "template.category",
        "user_preference",
        "account_update",
        "phone_number_quality_update",
        "automatic_event",
        "system_error",
    ] {
        assert!(
            kinds.contains_key(must),
            "no corpus item of kind {must}: {kinds:?}"
        );
    }
}

#[tokio::test]
async fn every_corpus_webhook_is_ingested_through_the_handler() {
    let stack = Stack::start().await;
    let keywords = ConsentKeywords::default();
    let mut expected_writes = 0u64;
    let mut posted = 0;
    for (rel, path) in corpus_files().iter().filter(|(rel, _)| is_webhook(rel)) {
        let bytes = std::fs::read(path).unwrap();
        let (code, body) = stack.post(&bytes).await;
        assert_eq!(code, 200, "{rel}: {body}");
        if rel != MALFORMED {
            let batch = parse(&bytes).unwrap();
            expected_writes += plan(&batch, &keywords).writes.len() as u64;
        }
        posted += 1;
    }
    assert_eq!(
        stack.counter.writes(),
        expected_writes,
        "one request per planned write, no more"
    );
    assert_eq!(stack.counter.reads(), 0);
    let quarantined = stack.objects("quarantine/").await;
    assert_eq!(
        quarantined.len(),
        1,
        "only the malformed file is quarantined: {quarantined:?}"
    );
    assert!(quarantined[0].contains("/invalid_json/"));
    let raw = stack.object(&quarantined[0]).await;
    assert_eq!(
        raw,
        std::fs::read(corpus_dir().join(MALFORMED)).unwrap(),
        "quarantined byte for byte"
    );
    // Re-posting the whole corpus changes nothing.
    let before = stack.scan().await;
    for (rel, path) in corpus_files().iter().filter(|(rel, _)| is_webhook(rel)) {
        assert_eq!(
            stack.post(&std::fs::read(path).unwrap()).await.0,
            200,
            "{rel}"
        );
    }
    assert_eq!(
        stack.scan().await,
        before,
        "{posted} files re-posted: nothing changed"
    );
    assert_eq!(stack.objects("quarantine/").await.len(), 1);
}
