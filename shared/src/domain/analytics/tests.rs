//! Parsing Meta's answers and the rows made from them, over shared fixtures.

use super::*;
use chrono::NaiveDate;

const PRICING: &str = r#"{"pricing_analytics":{"data":[{"data_points":[
    {"start":1748761200,"end":1748847600,"country":"US","tier":"0:MAX","pricing_type":"REGULAR","pricing_category":"MARKETING","volume":4,"cost":40},
    {"start":1748761200,"end":1748847600,"country":"US","pricing_type":"FREE_CUSTOMER_SERVICE","pricing_category":"SERVICE","volume":2},
    {"start":1748761200,"end":1748847600,"country":"IN","pricing_category":"AUTHENTICATION-INTERNATIONAL","volume":1,"cost":2.3,"surprise":true}
]}]}}"#;

#[test]
fn pricing_rows_keep_dimensions_and_mark_withheld_cost() {
    let parsed: Parsed<PricingAnalyticsResponse> =
        parse("pricing_analytics", PRICING.as_bytes()).unwrap();
    assert_eq!(
        parsed.unknown_fields,
        vec!["pricing_analytics.data.0.data_points.2.surprise"]
    );
    let rows = pricing_rows(&parsed.value, &[]);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].cost, Cost::Amount(40.0));
    assert_eq!(rows[0].volume, Some(4));
    assert_eq!(rows[0].dimensions.tier.as_deref(), Some("0:MAX"));
    assert_eq!(
        rows[0].day,
        NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
        "a 07:00 UTC bucket is the Pacific day it starts"
    );
    assert_eq!(rows[1].cost, Cost::NotReturned, "absent cost is not zero");
    assert_eq!(
        rows[2].dimensions.pricing_category.as_deref(),
        Some("AUTHENTICATION_INTERNATIONAL")
    );
    let volume_only = pricing_rows(&parsed.value, &[PricingMetric::Volume]);
    assert_eq!(volume_only[1].cost, Cost::NotRequested);
    assert_ne!(rows[0].dimensions.key(), rows[1].dimensions.key());
}

const TEMPLATES: &str = r#"{"data":[{"granularity":"DAILY","product_type":"cloud_api","data_points":[
    {"template_id":1421988012088524,"start":1718064000,"end":1718150400,"sent":3,"delivered":2,"read":1},
    {"template_id":"2632273056924580","start":1718064000,"end":1718150400,"sent":5,"delivered":5,"read":4,
     "clicked":[{"type":"url_button","button_content":"Shop","count":3},{"type":"url_button","button_content":"More","count":2},{"type":"quick_reply_button","button_content":"Stop","count":1}],
     "cost":[{"type":"amount_spent","value":0.05},{"type":"cost_per_url_button_click","value":0.01}]}
]}],"paging":{"cursors":{"before":"MAZDZD","after":"MjQZD"}}}"#;

#[test]
fn template_rows_have_explicit_states() {
    let parsed: Parsed<TemplateAnalyticsResponse> =
        parse("template_analytics", TEMPLATES.as_bytes()).unwrap();
    assert!(parsed.unknown_fields.is_empty());
    assert_eq!(
        parsed
            .value
            .paging()
            .and_then(|p| p.cursors.as_ref())
            .and_then(|c| c.after.as_deref()),
        Some("MjQZD")
    );
    let rows = template_rows(&parsed.value, &TemplateRowContext::default());
    assert_eq!(
        rows[0].template_id, "1421988012088524",
        "numeric id kept as text"
    );
    assert_eq!(rows[0].clicks, Clicks::NotReturned);
    assert_eq!(rows[0].cost, TemplateCost::NotReturned);
    assert_eq!(rows[1].clicks.count("url_button"), Some(5));
    assert_eq!(rows[1].clicks.count("unique_url_button"), Some(0));
    assert_eq!(rows[1].cost.value("amount_spent"), Some(0.05));
    assert_eq!(rows[1].cost.value("cost_per_delivered"), None);

    let eu = TemplateRowContext {
        metrics: vec![TemplateMetric::Sent, TemplateMetric::Clicked],
        clicks_available: false,
    };
    let rows = template_rows(&parsed.value, &eu);
    assert_eq!(rows[0].clicks, Clicks::UnavailableInRegion);
    assert_eq!(rows[0].cost, TemplateCost::NotRequested);

    let requested = vec![
        "2632273056924580".to_string(),
        "999".to_string(),
        "1421988012088524".to_string(),
    ];
    let rows = template_rows(&parsed.value, &TemplateRowContext::default());
    let insights = template_insights(&requested, rows.clone(), true);
    assert!(matches!(&insights[0].1, TemplateInsights::Reported(r) if r.len() == 1));
    assert_eq!(insights[1], ("999".into(), TemplateInsights::NoDataPoints));
    let insights = template_insights(&requested, Vec::new(), false);
    assert!(
        insights
            .iter()
            .all(|(_, s)| *s == TemplateInsights::NotEnabled)
    );
}

#[test]
fn catalogue_summarises_components_and_reads_both_quality_shapes() {
    let body = r#"{"data":[
        {"id":"1","name":"a","status":"APPROVED","category":"MARKETING","quality_score":{"score":"GREEN","date":1700000000,"extra":1},
         "components":[{"type":"BODY","text":"hi"},{"type":"BUTTONS","buttons":[{"type":"URL","text":"go","url":"https://x"},{"type":"QUICK_REPLY","text":"stop"}]}]},
        {"id":2,"name":"b","quality_score":"YELLOW"}
    ],"paging":{"cursors":{"before":"a","after":"b"},"next":"https://graph.facebook.com/v23.0/1/message_templates?after=b"}}"#;
    let parsed: Parsed<MessageTemplatesResponse> =
        parse("message_templates", body.as_bytes()).unwrap();
    assert_eq!(
        parsed.unknown_fields,
        vec!["data.0.quality_score.extra"],
        "unknown keys inside the hand-written quality visitor are still reported"
    );
    let rows = catalogue_rows(&parsed.value);
    assert_eq!(rows[0].quality_score.as_deref(), Some("GREEN"));
    assert_eq!(rows[0].has_url_button(), Some(true));
    assert_eq!(rows[0].components.as_ref().unwrap().count, 2);
    assert_eq!(rows[1].template_id, "2");
    assert_eq!(rows[1].quality_score.as_deref(), Some("YELLOW"));
    assert_eq!(rows[1].components, None, "not requested, not empty");
}

#[test]
fn recognises_kinds_by_shape() {
    use GraphResponseKind as K;
    assert_eq!(recognise(PRICING.as_bytes()), Some(K::PricingAnalytics));
    assert_eq!(recognise(TEMPLATES.as_bytes()), Some(K::TemplateAnalytics));
    assert_eq!(
        recognise(br#"{"id": 102290129340398}"#),
        Some(K::EnableInsights)
    );
    assert_eq!(
        recognise(br#"{"data":[{"data_points":[{"start":1,"end":2,"conversation":3}]}]}"#),
        Some(K::ConversationAnalytics)
    );
    assert_eq!(recognise(br#"{"data":[]}"#), None);
    assert!(matches!(
        parse_document(br#"{"call_analytics":{"data_points":[{"start":1,"end":2,"count":3}]}}"#),
        Ok(GraphDocument::Kept {
            kind: K::CallAnalytics,
            data_points: 1,
            ..
        })
    ));
}
