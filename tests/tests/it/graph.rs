//! The Graph API client against the fake Graph server (paging, fault handling, request
//! shapes), and the corpus's analytics/templates responses parsed without loss.

use integration_tests::fake_graph::{FAKE_GRAPH_TOKEN, FakeGraph, Fault};
use integration_tests::harness::corpus_dir;
use serde_json::Value;
use shared::adapters::graph::{ErrorClass, GraphClient, GraphConfig, GraphError, RetryPolicy};
use shared::config::Secret;
use shared::domain::analytics::{
    Clicks, Cost, Granularity, GraphDocument, GraphResponseKind, PricingDimension, TemplateCost,
    TemplateInsights, TemplateMetric, TemplateRowContext, catalogue_rows, count_data_points,
    messaging_rows, parse_document, pricing_rows, template_id_batches, template_insights,
    template_rows,
};
use std::time::{Duration, Instant};

const WABA: &str = "102290129340398";
const EU_CREDIT_LINE_WABA: &str = "209876543210987";
const NO_INSIGHTS_WABA: &str = "301122334455667";
/// 2025-06-01 07:00 UTC, a Pacific day start (as in the corpus).
const JUNE_1: i64 = 1_748_761_200;
const DAY: i64 = 86_400;

fn config(fake: &FakeGraph, token: &str) -> GraphConfig {
    let mut c = GraphConfig::new(fake.url.clone(), Secret::new(token));
    c.timeout = Duration::from_millis(500);
    c.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_regain_wait: Duration::from_secs(1),
    };
    c
}

fn client(fake: &FakeGraph) -> GraphClient {
    GraphClient::new(config(fake, FAKE_GRAPH_TOKEN)).unwrap()
}

fn template_ids(fake: &FakeGraph, waba: &str) -> Vec<String> {
    fake.handle
        .config()
        .wabas
        .iter()
        .find(|w| w.id == waba)
        .unwrap()
        .templates
        .iter()
        .map(|t| t.id.clone())
        .collect()
}

#[tokio::test]
async fn message_templates_are_paged_to_the_end_by_next_links() {
    // GIVEN a catalogue of 12 templates served 5 per page
    let fake = FakeGraph::standard().await.unwrap();
    let graph = client(&fake);
    // WHEN the catalogue is pulled
    let pull = graph
        .message_templates(
            WABA,
            &[
                "id",
                "name",
                "language",
                "status",
                "category",
                "quality_score",
                "components",
            ],
            5,
        )
        .await
        .unwrap();
    // THEN three pages are fetched, each after the previous cursor, and nothing else
    assert_eq!(pull.pages.len(), 3);
    let requests = fake.handle.requests();
    assert_eq!(requests.len(), 3, "no extra request once next disappears");
    assert_eq!(requests[0].param("after"), None);
    assert_eq!(requests[1].param("after"), Some("QVFIU5"));
    assert_eq!(requests[2].param("after"), Some("QVFIUa"));
    assert!(requests.iter().all(|r| r.param("limit") == Some("5")));
    assert!(requests.iter().all(|r| r.authorized));
    assert!(
        requests.iter().all(|r| !r.query.contains(FAKE_GRAPH_TOKEN)),
        "the token travels in the header only"
    );
    let rows: Vec<_> = pull.values().flat_map(catalogue_rows).collect();
    assert_eq!(rows.len(), 12);
    assert_eq!(pull.unknown_fields(), Vec::<String>::new());
    let paused = rows
        .iter()
        .find(|r| r.status.as_deref() == Some("PAUSED"))
        .unwrap();
    assert_eq!(paused.quality_score.as_deref(), Some("RED"));
    let auth = rows
        .iter()
        .find(|r| r.name.as_deref() == Some("login_code"))
        .unwrap();
    assert_eq!(auth.has_url_button(), Some(false));
    assert_eq!(
        auth.components.as_ref().unwrap().types.last().unwrap(),
        "BUTTONS"
    );
}

#[tokio::test]
async fn template_analytics_pages_by_cursor_when_no_next_link_is_sent() {
    // GIVEN a server that pages template_analytics by cursors only (like Meta's example)
    let fake = FakeGraph::standard().await.unwrap();
    fake.handle.set_links_next(false);
    fake.handle.set_page_size(7);
    let graph = client(&fake);
    let ids = template_ids(&fake, WABA);
    let first_batch = template_id_batches(&ids).next().unwrap();
    let (start, end) = (1_718_064_000, 1_718_064_000 + 3 * DAY);
    // WHEN ten templates are pulled for 3 days
    let pull = graph
        .template_analytics(WABA, first_batch, start, end, &TemplateMetric::ALL)
        .await
        .unwrap();
    // THEN every point the server holds arrives, and the pull ends on the empty page
    let expected = fake
        .handle
        .template_points(WABA, first_batch, start, end)
        .len();
    let rows: Vec<_> = pull
        .values()
        .flat_map(|v| template_rows(v, &TemplateRowContext::default()))
        .collect();
    assert_eq!(rows.len(), expected);
    let pages = expected.div_ceil(7);
    assert_eq!(
        pull.pages.len(),
        pages + 1,
        "cursor-only paging ends on an empty page"
    );
    let requests = fake.handle.requests();
    let first = &requests[0];
    assert_eq!(first.path, format!("/v23.0/{WABA}/template_analytics"));
    assert_eq!(first.param("start"), Some("1718064000"));
    assert_eq!(first.param("end"), Some("1718323200"));
    assert_eq!(first.param("granularity"), Some("DAILY"));
    assert_eq!(
        first.param("metric_types"),
        Some(r#"["SENT","DELIVERED","READ","CLICKED","COST"]"#)
    );
    assert_eq!(
        first.param("template_ids"),
        Some(format!("[{}]", first_batch.join(",")).as_str())
    );
    // AND the explicit states: auth templates have no clicks, PENDING ones no data
    let login = rows
        .iter()
        .find(|r| r.template_id == "1421988012088524")
        .unwrap();
    assert_eq!(login.clicks, Clicks::NotReturned);
    let promo = rows
        .iter()
        .find(|r| r.template_id == "1304694804498707")
        .unwrap();
    assert!(promo.clicks.count("url_button").is_some());
    assert!(promo.cost.value("amount_spent").is_some());
    let insights = template_insights(first_batch, rows, true);
    let pending = insights
        .iter()
        .find(|(id, _)| id == "1137051647947973")
        .unwrap();
    assert_eq!(pending.1, TemplateInsights::NoDataPoints);
}

#[tokio::test]
async fn pricing_is_pulled_per_waba_with_every_dimension() {
    let fake = FakeGraph::standard().await.unwrap();
    fake.handle.set_page_size(50);
    let graph = client(&fake);
    let (start, end) = (JUNE_1, JUNE_1 + 30 * DAY);
    for waba in [WABA, EU_CREDIT_LINE_WABA] {
        fake.handle.clear_requests();
        let pull = graph
            .pricing_analytics(waba, start, end, Granularity::Daily, &PricingDimension::ALL)
            .await
            .unwrap();
        let rows: Vec<_> = pull.values().flat_map(|v| pricing_rows(v, &[])).collect();
        let truth = fake.handle.pricing_points(
            waba,
            start,
            end,
            "DAILY",
            &[
                "PRICING_CATEGORY",
                "PRICING_TYPE",
                "COUNTRY",
                "PHONE",
                "TIER",
            ],
        );
        assert_eq!(rows.len(), truth.len(), "{waba}: every point, across pages");
        assert!(pull.pages.len() > 1, "{waba}: more than one page");
        let volume: u64 = rows.iter().filter_map(|r| r.volume).sum();
        let truth_volume: u64 = truth.iter().map(|p| p["volume"].as_u64().unwrap()).sum();
        assert_eq!(volume, truth_volume);
        assert_eq!(pull.unknown_fields(), Vec::<String>::new());
        assert!(
            rows.iter()
                .all(|r| r.day >= chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap())
        );
        let fields = fake.handle.requests()[0]
            .param("fields")
            .unwrap()
            .to_string();
        assert_eq!(
            fields,
            format!(
                r#"pricing_analytics.start({start}).end({end}).granularity(DAILY).dimensions(["PRICING_CATEGORY","PRICING_TYPE","COUNTRY","PHONE","TIER"])"#
            )
        );
        if waba == EU_CREDIT_LINE_WABA {
            assert!(
                rows.iter().all(|r| r.cost == Cost::NotReturned),
                "credit-line WABAs get no cost, which is not zero"
            );
        } else {
            assert!(rows.iter().all(|r| matches!(r.cost, Cost::Amount(_))));
            assert!(
                rows.iter()
                    .any(|r| r.dimensions.tier.as_deref() == Some("0:MAX"))
            );
        }
    }
}

#[tokio::test]
async fn eu_and_uninsighted_wabas_get_explicit_template_states() {
    let fake = FakeGraph::standard().await.unwrap();
    let graph = client(&fake);
    let (start, end) = (1_718_064_000, 1_718_064_000 + 2 * DAY);

    let eu_ids = template_ids(&fake, EU_CREDIT_LINE_WABA);
    let pull = graph
        .template_analytics(EU_CREDIT_LINE_WABA, &eu_ids, start, end, &[])
        .await
        .unwrap();
    let ctx = TemplateRowContext {
        metrics: Vec::new(),
        clicks_available: false,
    };
    let rows: Vec<_> = pull.values().flat_map(|v| template_rows(v, &ctx)).collect();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.clicks == Clicks::UnavailableInRegion));
    assert!(rows.iter().all(|r| r.cost == TemplateCost::NotReturned));
    assert!(
        fake.handle.requests()[0].param("metric_types").is_none(),
        "empty = all"
    );

    let ids = template_ids(&fake, NO_INSIGHTS_WABA);
    let flag = graph.insights_enabled(NO_INSIGHTS_WABA).await.unwrap();
    assert_eq!(flag.value.is_enabled_for_insights, Some(false));
    let pull = graph
        .template_analytics(NO_INSIGHTS_WABA, &ids, start, end, &[])
        .await
        .unwrap();
    let rows: Vec<_> = pull
        .values()
        .flat_map(|v| template_rows(v, &TemplateRowContext::default()))
        .collect();
    let insights = template_insights(&ids, rows, false);
    assert!(
        insights
            .iter()
            .all(|(_, s)| *s == TemplateInsights::NotEnabled)
    );

    let enabled = graph.enable_insights(NO_INSIGHTS_WABA).await.unwrap();
    assert_eq!(
        enabled.value.id, NO_INSIGHTS_WABA,
        "numeric id read as text"
    );
    let flag = graph.insights_enabled(NO_INSIGHTS_WABA).await.unwrap();
    assert_eq!(flag.value.is_enabled_for_insights, Some(true));
}

#[tokio::test]
async fn messaging_analytics_uses_day_granularity() {
    let fake = FakeGraph::standard().await.unwrap();
    let graph = client(&fake);
    let pull = graph
        .messaging_analytics(WABA, JUNE_1, JUNE_1 + 7 * DAY, Granularity::Daily)
        .await
        .unwrap();
    let rows = messaging_rows(&pull.pages[0].value);
    assert_eq!(rows.len(), 7);
    assert!(
        rows.iter()
            .all(|r| r.sent >= r.delivered && r.delivered > Some(0))
    );
    assert_eq!(
        fake.handle.requests()[0].param("fields"),
        Some(
            format!(
                "analytics.start({JUNE_1}).end({}).granularity(DAY)",
                JUNE_1 + 7 * DAY
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn more_than_ten_template_ids_are_refused_before_any_request() {
    let fake = FakeGraph::standard().await.unwrap();
    let graph = client(&fake);
    let ids = template_ids(&fake, WABA);
    assert!(ids.len() > 10);
    let err = graph
        .template_analytics(WABA, &ids, JUNE_1, JUNE_1 + DAY, &[])
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest { .. }), "{err}");
    assert!(err.to_string().contains("1 to 10 template ids"));
    let err = graph
        .template_analytics(WABA, &[], JUNE_1, JUNE_1 + DAY, &[])
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::InvalidRequest { .. }));
    assert!(fake.handle.requests().is_empty());
    // Batches of ≤ 10 all go through.
    for batch in template_id_batches(&ids) {
        graph
            .template_analytics(WABA, batch, JUNE_1, JUNE_1 + DAY, &[])
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn throttling_is_retried_with_backoff_then_reported() {
    for fault in [
        Fault::throttle(4),
        Fault::throttle(17),
        Fault::throttle(80007),
        Fault::throttle(130429),
        Fault::TooManyRequests,
    ] {
        let fake = FakeGraph::standard().await.unwrap();
        let graph = client(&fake);
        // Two throttled answers, then normal: the third attempt succeeds.
        fake.handle.inject(fault.clone(), 2);
        let pull = graph
            .messaging_analytics(WABA, JUNE_1, JUNE_1 + DAY, Granularity::Daily)
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(pull.pages[0].attempts, 3, "{fault:?}");
        assert_eq!(fake.handle.requests().len(), 3);

        // Throttled past the attempt budget: a Throttled error after exactly 3 attempts.
        fake.handle.clear_requests();
        fake.handle.inject(fault.clone(), 5);
        let err = graph
            .messaging_analytics(WABA, JUNE_1, JUNE_1 + DAY, Granularity::Daily)
            .await
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::Throttled, "{fault:?}: {err}");
        assert_eq!(err.attempts(), 3);
        assert_eq!(err.waba(), WABA);
        assert_eq!(fake.handle.requests().len(), 3);
        if let Fault::Throttle { code, .. } = fault {
            assert!(matches!(err, GraphError::Throttled { code: Some(c), .. } if c == code));
        }
    }
}

#[tokio::test]
async fn a_long_regain_access_estimate_stops_at_once() {
    let fake = FakeGraph::standard().await.unwrap();
    let graph = client(&fake);
    fake.handle.inject(
        Fault::Throttle {
            code: 80007,
            regain_minutes: 15,
        },
        1,
    );
    let t = Instant::now();
    let err = graph
        .message_templates(WABA, &["id", "status"], 100)
        .await
        .unwrap_err();
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "no waiting for 15 minutes"
    );
    assert_eq!(fake.handle.requests().len(), 1);
    match err {
        GraphError::Throttled { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::from_secs(15 * 60)))
        }
        other => panic!("expected throttled, got {other}"),
    }
}

#[tokio::test]
async fn a_throttle_mid_paging_retries_that_page_only() {
    let fake = FakeGraph::standard().await.unwrap();
    let graph = client(&fake);
    // Page 1 fine, page 2 throttled once, then the rest.
    fake.handle.inject(Fault::Slow(Duration::ZERO), 1);
    fake.handle.inject(Fault::throttle(130429), 1);
    let pull = graph
        .message_templates(WABA, &["id", "name"], 5)
        .await
        .unwrap();
    assert_eq!(pull.pages.len(), 3);
    assert_eq!(pull.pages[1].attempts, 2);
    let afters: Vec<_> = fake
        .handle
        .requests()
        .iter()
        .map(|r| r.param("after").map(str::to_string))
        .collect();
    assert_eq!(
        afters,
        vec![
            None,
            Some("QVFIU5".to_string()),
            Some("QVFIU5".to_string()),
            Some("QVFIUa".to_string())
        ]
    );
}

#[tokio::test]
async fn an_expired_or_wrong_token_stops_with_the_fix_named() {
    let fake = FakeGraph::standard().await.unwrap();
    let graph = client(&fake);
    fake.handle.inject(Fault::ExpiredToken, 1);
    let err = graph
        .pricing_analytics(WABA, JUNE_1, JUNE_1 + DAY, Granularity::Daily, &[])
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Auth);
    assert_eq!(fake.handle.requests().len(), 1, "never retried");
    let text = err.to_string();
    assert!(text.contains(WABA), "{text}");
    assert!(
        text.contains("refresh or replace the access token"),
        "{text}"
    );
    assert!(text.contains("190/463"), "{text}");

    let wrong = GraphClient::new(config(&fake, "EAAG-wrong-token")).unwrap();
    let err = wrong
        .message_templates(WABA, &["id"], 10)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::Auth {
                code: Some(190),
                ..
            }
        ),
        "{err}"
    );
    assert!(
        !err.to_string().contains("EAAG-wrong-token"),
        "the token never prints"
    );
    assert!(!format!("{err:?}{wrong:?}").contains("EAAG-wrong-token"));
}

#[tokio::test]
async fn server_errors_are_retried_a_bounded_number_of_times() {
    for status in [500, 502, 503] {
        let fake = FakeGraph::standard().await.unwrap();
        let graph = client(&fake);
        fake.handle.inject(Fault::ServerError(status), 1);
        let pull = graph
            .message_templates(WABA, &["id"], 100)
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(pull.pages[0].attempts, 2);

        fake.handle.clear_requests();
        fake.handle.inject(Fault::ServerError(status), 10);
        let err = graph
            .message_templates(WABA, &["id"], 100)
            .await
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::Transient, "{status}: {err}");
        assert_eq!(err.attempts(), 3);
        assert_eq!(fake.handle.requests().len(), 3, "bounded");
    }
}

#[tokio::test]
async fn slow_answers_time_out_and_are_retried() {
    let fake = FakeGraph::standard().await.unwrap();
    let graph = client(&fake);
    // One answer slower than the 500 ms timeout, then normal.
    fake.handle
        .inject(Fault::Slow(Duration::from_millis(1_500)), 1);
    let pull = graph
        .pricing_analytics(WABA, JUNE_1, JUNE_1 + DAY, Granularity::Daily, &[])
        .await
        .unwrap();
    assert_eq!(pull.pages[0].attempts, 2);

    fake.handle
        .inject(Fault::Slow(Duration::from_millis(1_500)), 3);
    let err = graph
        .pricing_analytics(WABA, JUNE_1, JUNE_1 + DAY, Granularity::Daily, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::Transient { reason, attempts: 3, .. } if reason == "timed out"),
        "{err}"
    );
}

#[tokio::test]
async fn other_graph_errors_are_not_retried() {
    let fake = FakeGraph::standard().await.unwrap();
    let graph = client(&fake);
    let err = graph
        .message_templates("999999999999999", &["id"], 10)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GraphError::Api {
                code: Some(100),
                http_status: 400,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(fake.handle.requests().len(), 1);
}

/// Every Graph analytics/templates response in the corpus, by name.
const CORPUS_GRAPH_RESPONSES: [(&str, GraphResponseKind); 14] = [
    (
        "analytics_messaging_day.json",
        GraphResponseKind::MessagingAnalytics,
    ),
    (
        "call_analytics_daily_user_initiated.json",
        GraphResponseKind::CallAnalytics,
    ),
    (
        "conversation_analytics_half_hour_by_category.json",
        GraphResponseKind::ConversationAnalytics,
    ),
    (
        "conversation_analytics_half_hour_by_category_and_type.json",
        GraphResponseKind::ConversationAnalytics,
    ),
    (
        "conversation_analytics_half_hour_single_phone.json",
        GraphResponseKind::ConversationAnalytics,
    ),
    (
        "conversation_analytics_monthly_all_dimensions.json",
        GraphResponseKind::ConversationAnalytics,
    ),
    (
        "conversation_analytics_monthly_by_type_no_wrapper.json",
        GraphResponseKind::ConversationAnalytics,
    ),
    (
        "graph_message_templates_default_fields.json",
        GraphResponseKind::MessageTemplates,
    ),
    (
        "graph_message_templates_fields_limit5.json",
        GraphResponseKind::MessageTemplates,
    ),
    (
        "graph_message_templates_list_openapi.json",
        GraphResponseKind::MessageTemplates,
    ),
    (
        "pricing_analytics_daily_tier_country.json",
        GraphResponseKind::PricingAnalytics,
    ),
    (
        "template_analytics_daily_cost_and_clicks.json",
        GraphResponseKind::TemplateAnalytics,
    ),
    (
        "template_group_analytics_daily.json",
        GraphResponseKind::TemplateGroupAnalytics,
    ),
    (
        "waba_enable_insights_response.json",
        GraphResponseKind::EnableInsights,
    ),
];

#[test]
fn corpus_graph_responses_parse_without_loss() {
    let dir = corpus_dir().join("meta");
    // The list is explicit; a new analytics/templates file in the corpus must be added here.
    let on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| {
            n.contains("analytics")
                || n.starts_with("graph_message_templates")
                || n.starts_with("waba_")
        })
        .collect();
    for name in &on_disk {
        assert!(
            CORPUS_GRAPH_RESPONSES.iter().any(|(n, _)| n == name),
            "{name} is a Graph response not covered by this test"
        );
    }
    for (name, kind) in CORPUS_GRAPH_RESPONSES {
        let body = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let doc = parse_document(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc.kind(), kind, "{name}");
        assert_eq!(
            doc.unknown_fields(),
            &[] as &[String],
            "{name}: unknown fields"
        );
        let json: Value = serde_json::from_slice(&body).unwrap();
        let expected_rows = match kind {
            GraphResponseKind::MessageTemplates => json["data"].as_array().unwrap().len(),
            GraphResponseKind::EnableInsights => 1,
            _ => count_data_points(&json),
        };
        assert!(expected_rows > 0, "{name}");
        assert_eq!(doc.row_count(), expected_rows, "{name}: rows = data points");
        match &doc {
            GraphDocument::Kept { kind: k, raw, .. } => {
                assert!(
                    matches!(
                        k,
                        GraphResponseKind::CallAnalytics
                            | GraphResponseKind::TemplateGroupAnalytics
                    ),
                    "{name}"
                );
                assert_eq!(raw.as_bytes(), body.as_slice(), "{name}: kept verbatim");
            }
            GraphDocument::PricingAnalytics(p) => {
                let rows = pricing_rows(&p.value, &[]);
                assert_eq!(rows.iter().filter_map(|r| r.volume).sum::<u64>(), 26);
                assert!(rows.iter().all(|r| matches!(r.cost, Cost::Amount(_))));
                assert_eq!(
                    rows.iter().filter(|r| r.dimensions.tier.is_none()).count(),
                    6
                );
            }
            GraphDocument::TemplateAnalytics(p) => {
                let rows = template_rows(&p.value, &TemplateRowContext::default());
                assert_eq!(rows[0].clicks, Clicks::NotReturned);
                assert_eq!(rows[1].clicks.count("unique_url_button"), Some(16));
                assert_eq!(rows[1].clicks.count("quick_reply_button"), Some(108));
                assert_eq!(rows[1].cost.value("cost_per_url_button_click"), Some(0.03));
            }
            GraphDocument::EnableInsights(p) => assert_eq!(p.value.id, "102290129340398"),
            _ => {}
        }
    }
}
