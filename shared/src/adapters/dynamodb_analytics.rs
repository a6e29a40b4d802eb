//! `DynamoDbAnalyticsStore`: what the scheduled Meta pulls store. Each row is a plain PutItem
//! keyed by its day × dimension combination (or template × day), so re-running a pull
//! overwrites with the same values and stored data stays identical. Missing numbers are stored
//! as explicit states (`cost_state`, `clicks_state`), never as zeros. Watermarks only move
//! forward.

use crate::domain::analytics::{Clicks, Cost, PricingRow, TemplateCost, TemplateDayRow};
use crate::domain::sync::PullKind;
use crate::ports::StoreError;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue as Av, PutRequest, WriteRequest};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::time::Duration;

type Attrs = HashMap<String, Av>;

/// BatchWriteItem takes at most 25 puts.
const BATCH: usize = 25;
/// Bounded retries of `UnprocessedItems` (throttling), with doubling back-off.
const UNPROCESSED_ATTEMPTS: u32 = 8;

fn s(v: impl Into<String>) -> Av {
    Av::S(v.into())
}
fn n_u(v: u64) -> Av {
    Av::N(v.to_string())
}
fn n_f(v: f64) -> Av {
    // Rust prints the shortest decimal that reads back as the same f64.
    Av::N(v.to_string())
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

#[derive(Debug, Clone)]
pub struct DynamoDbAnalyticsStore {
    client: Client,
    table: String,
}

/// One pricing row as an item: `PRICING#<waba>` / `<day>#<dimensions key>`.
pub fn pricing_item(waba_id: &str, row: &PricingRow) -> Attrs {
    let mut item = HashMap::with_capacity(16);
    item.insert("pk".into(), s(format!("PRICING#{waba_id}")));
    item.insert(
        "sk".into(),
        s(format!("{}#{}", row.day, row.dimensions.key())),
    );
    item.insert("item_kind".into(), s("pricing_day"));
    item.insert("waba_id".into(), s(waba_id));
    item.insert("day".into(), s(row.day.to_string()));
    item.insert("bucket_start".into(), Av::N(row.start.0.to_string()));
    item.insert("bucket_end".into(), Av::N(row.end.0.to_string()));
    let d = &row.dimensions;
    for (k, v) in [
        ("phone_number", &d.phone_number),
        ("country", &d.country),
        ("pricing_category", &d.pricing_category),
        ("pricing_type", &d.pricing_type),
        ("tier", &d.tier),
    ] {
        if let Some(v) = v {
            item.insert(k.into(), s(v.as_str()));
        }
    }
    if let Some(v) = row.volume {
        item.insert("volume".into(), n_u(v));
    }
    match row.cost {
        Cost::Amount(a) => item.insert("cost".into(), n_f(a)),
        Cost::NotRequested => item.insert("cost_state".into(), s("not_requested")),
        Cost::NotReturned => item.insert("cost_state".into(), s("not_returned")),
    };
    item
}

/// One template × day as an item: `TPLDAY#<template id>` / `<day>`.
pub fn template_item(waba_id: &str, row: &TemplateDayRow) -> Attrs {
    let mut item = HashMap::with_capacity(14);
    item.insert("pk".into(), s(format!("TPLDAY#{}", row.template_id)));
    item.insert("sk".into(), s(row.day.to_string()));
    item.insert("item_kind".into(), s("template_day"));
    item.insert("waba_id".into(), s(waba_id));
    item.insert("template_id".into(), s(row.template_id.as_str()));
    item.insert("day".into(), s(row.day.to_string()));
    for (k, v) in [
        ("sent", row.sent),
        ("delivered", row.delivered),
        ("read", row.read),
    ] {
        if let Some(v) = v {
            item.insert(k.into(), n_u(v));
        }
    }
    match &row.clicks {
        Clicks::Counted(buttons) => {
            // Summed per click type; per-button detail stays in the raw S3 snapshot.
            let mut by_type: HashMap<String, u64> = HashMap::new();
            for b in buttons {
                *by_type.entry(b.click_type.clone()).or_default() += b.count;
            }
            item.insert(
                "clicks".into(),
                Av::M(by_type.into_iter().map(|(k, v)| (k, n_u(v))).collect()),
            );
        }
        Clicks::NotRequested => {
            item.insert("clicks_state".into(), s("not_requested"));
        }
        Clicks::NotReturned => {
            item.insert("clicks_state".into(), s("not_returned"));
        }
        Clicks::UnavailableInRegion => {
            item.insert("clicks_state".into(), s("unavailable_in_region"));
        }
    }
    match &row.cost {
        TemplateCost::Reported(values) => {
            item.insert(
                "cost".into(),
                Av::M(
                    values
                        .iter()
                        .map(|c| (c.cost_type.clone(), n_f(c.value)))
                        .collect(),
                ),
            );
        }
        TemplateCost::NotRequested => {
            item.insert("cost_state".into(), s("not_requested"));
        }
        TemplateCost::NotReturned => {
            item.insert("cost_state".into(), s("not_returned"));
        }
    }
    item
}

impl DynamoDbAnalyticsStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Stores pricing rows (idempotent overwrite per day × dimensions). Returns rows written.
    pub async fn put_pricing_rows(
        &self,
        waba_id: &str,
        rows: &[PricingRow],
    ) -> Result<usize, StoreError> {
        self.batch_put(rows.iter().map(|r| pricing_item(waba_id, r)).collect())
            .await
    }

    /// Stores template rows (idempotent overwrite per template × day). Returns rows written.
    pub async fn put_template_rows(
        &self,
        waba_id: &str,
        rows: &[TemplateDayRow],
    ) -> Result<usize, StoreError> {
        self.batch_put(rows.iter().map(|r| template_item(waba_id, r)).collect())
            .await
    }

    /// The last complete day stored for a WABA and kind.
    pub async fn watermark(
        &self,
        waba_id: &str,
        kind: PullKind,
    ) -> Result<Option<NaiveDate>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(format!("SYNC#{waba_id}")))
            .key("sk", s(kind.as_str()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(&e)))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let day = item.get("watermark").and_then(|v| v.as_s().ok());
        day.map(|d| {
            d.parse()
                .map_err(|_| StoreError::Rejected(format!("stored watermark {d:?} is not a date")))
        })
        .transpose()
    }

    /// Moves the watermark forward to `day`; an older or equal day changes nothing (returns
    /// false), so overlapping or retried runs cannot move it back.
    pub async fn advance_watermark(
        &self,
        waba_id: &str,
        kind: PullKind,
        day: NaiveDate,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("SYNC#{waba_id}")))
            .key("sk", s(kind.as_str()))
            .update_expression("SET watermark = :watermark, item_kind = :item_kind, waba_id = :waba_id, pull_kind = :pull_kind")
            // ISO dates compare as strings.
            .condition_expression("attribute_not_exists(watermark) OR watermark < :watermark")
            .expression_attribute_values(":watermark", s(day.to_string()))
            .expression_attribute_values(":item_kind", s("sync_watermark"))
            .expression_attribute_values(":waba_id", s(waba_id))
            .expression_attribute_values(":pull_kind", s(kind.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(
                &e,
            ))),
        }
    }

    async fn batch_put(&self, items: Vec<Attrs>) -> Result<usize, StoreError> {
        let total = items.len();
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let mut pending: Vec<WriteRequest> = Vec::with_capacity(BATCH);
            for item in items.by_ref().take(BATCH) {
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(unavailable)?;
                pending.push(WriteRequest::builder().put_request(put).build());
            }
            let mut delay = Duration::from_millis(50);
            for attempt in 1..=UNPROCESSED_ATTEMPTS {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(&e)))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                if attempt == UNPROCESSED_ATTEMPTS {
                    return Err(StoreError::Unavailable(format!(
                        "{} items still unprocessed after retries",
                        pending.len()
                    )));
                }
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
        Ok(total)
    }
}
