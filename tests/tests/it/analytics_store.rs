//! The pulled-analytics store against moto: rows from Meta's own example responses are stored
//! once per day × dimension (or template × day), a re-run leaves the table identical, missing
//! numbers are explicit states, and watermarks only move forward.

use crate::support::*;
use integration_tests::harness::{Stack, corpus_dir};
use shared::adapters::dynamodb::analytics::DynamoDbAnalyticsStore;
use shared::domain::analytics::{
    PricingAnalyticsResponse, PricingRow, TemplateAnalyticsResponse, TemplateRowContext, parse,
    pricing_rows, template_rows,
};
use shared::domain::sync::PullKind;
use shared::ports::AnalyticsStore;

fn corpus_pricing_rows() -> Vec<PricingRow> {
    let body =
        std::fs::read(corpus_dir().join("meta/pricing_analytics_daily_tier_country.json")).unwrap();
    let parsed = parse::<PricingAnalyticsResponse>("pricing_analytics", &body).unwrap();
    pricing_rows(&parsed.value, &[])
}

#[tokio::test]
async fn pricing_rows_are_stored_once_per_day_and_dimension_and_reruns_change_nothing() {
    let stack = Stack::start().await;
    let store = DynamoDbAnalyticsStore::new(stack.dynamodb.clone(), &stack.table);
    let rows = corpus_pricing_rows();
    assert!(!rows.is_empty());
    assert_eq!(
        store.put_pricing_rows(WABA, &rows).await.unwrap(),
        rows.len()
    );
    let first = stack.scan().await;
    let distinct: std::collections::BTreeSet<_> =
        rows.iter().map(|r| (r.day, r.dimensions.key())).collect();
    assert_eq!(
        first.len(),
        distinct.len(),
        "one item per day × dimension combination"
    );
    assert!(
        first
            .iter()
            .all(|i| text(i, "item_kind") == Some("pricing_day"))
    );
    // Volume and cost as Meta reported them; free rows keep their cost (0) as a number.
    let total_volume: u64 = rows.iter().filter_map(|r| r.volume).sum();
    let stored_volume: i64 = first.iter().filter_map(|i| num(i, "volume")).sum();
    assert_eq!(stored_volume as u64, total_volume);
    assert_eq!(
        store.put_pricing_rows(WABA, &rows).await.unwrap(),
        rows.len()
    );
    assert_eq!(
        stack.scan().await,
        first,
        "a re-run of the same pull leaves stored data identical"
    );
}

#[tokio::test]
async fn more_than_a_batch_of_rows_is_written_in_full() {
    let stack = Stack::start().await;
    let store = DynamoDbAnalyticsStore::new(stack.dynamodb.clone(), &stack.table);
    let template = corpus_pricing_rows().into_iter().next().unwrap();
    let rows: Vec<PricingRow> = (0..60)
        .map(|i| {
            let mut r = template.clone();
            r.day -= chrono::Duration::days(i);
            r
        })
        .collect();
    assert_eq!(store.put_pricing_rows(WABA, &rows).await.unwrap(), 60);
    assert_eq!(stack.scan().await.len(), 60);
}

#[tokio::test]
async fn template_rows_keep_clicks_and_cost_or_say_why_not() {
    let stack = Stack::start().await;
    let store = DynamoDbAnalyticsStore::new(stack.dynamodb.clone(), &stack.table);
    let body =
        std::fs::read(corpus_dir().join("meta/template_analytics_daily_cost_and_clicks.json"))
            .unwrap();
    let parsed = parse::<TemplateAnalyticsResponse>("template_analytics", &body).unwrap();
    let rows = template_rows(&parsed.value, &TemplateRowContext::default());
    store.put_template_rows(WABA, &rows).await.unwrap();
    let items = stack.scan().await;
    assert_eq!(items.len(), rows.len());
    for row in &rows {
        let item = stack
            .item(&format!("TPLDAY#{}", row.template_id), &row.day.to_string())
            .await
            .unwrap();
        assert_eq!(num(&item, "sent").map(|v| v as u64), row.sent);
        // Clicks per button as Meta reported them, keyed `<type>|<button text>`.
        if let shared::domain::analytics::Clicks::Counted(buttons) = &row.clicks {
            for b in buttons {
                let key = format!(
                    "{}|{}",
                    b.click_type,
                    b.button_content.as_deref().unwrap_or("")
                );
                let stored = item["clicks_by_button"].as_m().unwrap()[&key]
                    .as_n()
                    .unwrap();
                let expected: u64 = buttons
                    .iter()
                    .filter(|o| {
                        o.click_type == b.click_type && o.button_content == b.button_content
                    })
                    .map(|o| o.count)
                    .sum();
                assert_eq!(stored.parse::<u64>().unwrap(), expected, "{key}");
            }
        }
        match row.cost.value("amount_spent") {
            Some(_) => assert!(item.contains_key("cost")),
            None => assert!(item.contains_key("cost_state") || item.contains_key("cost")),
        }
    }
    // A region without click reporting is an explicit state, not zero clicks.
    let eu = template_rows(
        &parsed.value,
        &TemplateRowContext {
            clicks_available: false,
            ..TemplateRowContext::default()
        },
    );
    store.put_template_rows("EU-WABA", &eu).await.unwrap();
    let item = stack
        .item(
            &format!("TPLDAY#{}", eu[0].template_id),
            &eu[0].day.to_string(),
        )
        .await
        .unwrap();
    assert_eq!(text(&item, "clicks_state"), Some("unavailable_in_region"));
    assert!(!item.contains_key("clicks"));
}

#[tokio::test]
async fn watermarks_only_move_forward_per_waba_and_kind() {
    let stack = Stack::start().await;
    let store = DynamoDbAnalyticsStore::new(stack.dynamodb.clone(), &stack.table);
    let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    assert_eq!(
        store.watermark(WABA, PullKind::Pricing).await.unwrap(),
        None
    );
    assert!(
        store
            .advance_watermark(WABA, PullKind::Pricing, d("2026-11-20"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .advance_watermark(WABA, PullKind::Pricing, d("2026-11-10"))
            .await
            .unwrap(),
        "older: no change"
    );
    assert!(
        !store
            .advance_watermark(WABA, PullKind::Pricing, d("2026-11-20"))
            .await
            .unwrap(),
        "same: no change"
    );
    assert_eq!(
        store.watermark(WABA, PullKind::Pricing).await.unwrap(),
        Some(d("2026-11-20"))
    );
    assert_eq!(
        store.watermark(WABA, PullKind::Templates).await.unwrap(),
        None,
        "kinds are independent"
    );
    assert_eq!(
        store
            .watermark("other-waba", PullKind::Pricing)
            .await
            .unwrap(),
        None,
        "WABAs are independent"
    );
    assert!(
        store
            .advance_watermark(WABA, PullKind::Pricing, d("2026-11-21"))
            .await
            .unwrap()
    );
    assert_eq!(
        store.watermark(WABA, PullKind::Pricing).await.unwrap(),
        Some(d("2026-11-21"))
    );
}
