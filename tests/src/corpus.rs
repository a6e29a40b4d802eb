//! The conformance corpus: every JSON file under the corpus directory, and the explicit
//! list of files that are not webhook POST bodies (with the reason).

use crate::harness::corpus_dir;
use std::path::{Path, PathBuf};

/// Not webhook POST bodies, by path under the corpus, with the reason.
pub const NOT_WEBHOOK_BODIES: &[(&str, &str)] = &[
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
pub const MALFORMED: &str = "peers/whatsapp-business-java-api/textMessageStatusRead.json";

pub fn corpus_files() -> Vec<(String, PathBuf)> {
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

pub fn is_webhook(rel: &str) -> bool {
    !NOT_WEBHOOK_BODIES.iter().any(|(f, _)| *f == rel)
}
