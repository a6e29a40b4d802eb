//! `DynamoDbAnalyticsStore`: what the scheduled Meta pulls store. Each row is a plain PutItem
//! keyed by its day × dimension combination (or template × day), so re-running a pull
//! overwrites with the same values and stored data stays identical. Missing numbers are stored
//! as explicit states (`cost_state`, `clicks_state`), never as zeros. Watermarks only move
//! forward.

use super::attrs::{Attrs, s};
use crate::domain::analytics::{
    Clicks, Cost, MessagingRow, PricingRow, TemplateCatalogueRow, TemplateCost, TemplateDayRow,
};
use crate::domain::sync::{PullKind, SyncKind};
use crate::keys::{
    TEMPLATE_CATALOGUE_SK, catalogue_change_sk, messaging_day_pk, pricing_pk, sync_pk,
    template_day_pk, template_pk, waba_templates_pk,
};
use crate::ports::{AnalyticsStore, CatalogueChanges, RunRecord, StoreError};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue as Av, PutRequest, ReturnValue, WriteRequest};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use std::time::Duration;

/// BatchWriteItem takes at most 25 puts.
const BATCH: usize = 25;
/// Bounded retries of `UnprocessedItems` (throttling), with doubling back-off.
const UNPROCESSED_ATTEMPTS: u32 = 8;

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
    item.insert("pk".into(), s(pricing_pk(waba_id)));
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
    item.insert("pk".into(), s(template_day_pk(&row.template_id)));
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
            // Per click type (summed over buttons) and per button (`<type>|<button text>`).
            let mut by_type: HashMap<String, u64> = HashMap::new();
            let mut by_button: HashMap<String, u64> = HashMap::new();
            for b in buttons {
                *by_type.entry(b.click_type.clone()).or_default() += b.count;
                let button = format!(
                    "{}|{}",
                    b.click_type,
                    b.button_content.as_deref().unwrap_or("")
                );
                *by_button.entry(button).or_default() += b.count;
            }
            item.insert(
                "clicks".into(),
                Av::M(by_type.into_iter().map(|(k, v)| (k, n_u(v))).collect()),
            );
            if !by_button.is_empty() {
                item.insert(
                    "clicks_by_button".into(),
                    Av::M(by_button.into_iter().map(|(k, v)| (k, n_u(v))).collect()),
                );
            }
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

/// Meta's sent/delivered for one day: `MSGDAY#<waba>` / `<day>`.
pub fn messaging_item(waba_id: &str, row: &MessagingRow) -> Attrs {
    let mut item = HashMap::with_capacity(8);
    item.insert("pk".into(), s(messaging_day_pk(waba_id)));
    item.insert("sk".into(), s(row.day.to_string()));
    item.insert("item_kind".into(), s("messaging_day"));
    item.insert("waba_id".into(), s(waba_id));
    item.insert("day".into(), s(row.day.to_string()));
    item.insert("bucket_start".into(), Av::N(row.start.0.to_string()));
    item.insert("bucket_end".into(), Av::N(row.end.0.to_string()));
    for (k, v) in [("sent", row.sent), ("delivered", row.delivered)] {
        if let Some(v) = v {
            item.insert(k.into(), n_u(v));
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

impl AnalyticsStore for DynamoDbAnalyticsStore {
    /// Stores pricing rows (idempotent overwrite per day × dimensions). Returns rows written.
    async fn put_pricing_rows(
        &self,
        waba_id: &str,
        rows: &[PricingRow],
    ) -> Result<usize, StoreError> {
        self.batch_put(rows.iter().map(|r| pricing_item(waba_id, r)).collect())
            .await
    }

    /// Stores template rows (idempotent overwrite per template × day). Returns rows written.
    async fn put_template_rows(
        &self,
        waba_id: &str,
        rows: &[TemplateDayRow],
    ) -> Result<usize, StoreError> {
        self.batch_put(rows.iter().map(|r| template_item(waba_id, r)).collect())
            .await
    }

    /// Stores Meta's sent/delivered per day (idempotent overwrite per day).
    async fn put_messaging_rows(
        &self,
        waba_id: &str,
        rows: &[MessagingRow],
    ) -> Result<usize, StoreError> {
        self.batch_put(rows.iter().map(|r| messaging_item(waba_id, r)).collect())
            .await
    }

    /// Stores the catalogue (`TPL#<id>` / `CATALOGUE`, overwritten per pull) and, when a
    /// template is new or its status, quality or category differs from the previous pull,
    /// a history item `TPL#<id>` / `CATHIST#<at, 10 digits>#<aspect>` with old and new
    /// values. Re-running a pull with unchanged data writes no history.
    async fn put_catalogue(
        &self,
        waba_id: &str,
        rows: &[TemplateCatalogueRow],
        pulled_at: DateTime<Utc>,
    ) -> Result<CatalogueChanges, StoreError> {
        // The WABA's template list (`TPLS#<waba>` / `<template id>`): how reports find the
        // templates whose `TPLDAY#` rows to read, without a Scan.
        self.batch_put(
            rows.iter()
                .map(|row| {
                    let mut item = HashMap::from([
                        ("pk".to_string(), s(waba_templates_pk(waba_id))),
                        ("sk".to_string(), s(row.template_id.as_str())),
                        ("item_kind".to_string(), s("template_listing")),
                        ("waba_id".to_string(), s(waba_id)),
                        ("template_id".to_string(), s(row.template_id.as_str())),
                    ]);
                    if let Some(n) = &row.name {
                        item.insert("template_name".into(), s(n.as_str()));
                    }
                    if let Some(l) = &row.language {
                        item.insert("template_language".into(), s(l.as_str()));
                    }
                    item
                })
                .collect(),
        )
        .await?;
        let mut changes = CatalogueChanges::default();
        for row in rows {
            let tracked = [
                ("status", row.status.as_deref()),
                ("quality_score", row.quality_score.as_deref()),
                ("category", row.category.as_deref()),
            ];
            let mut update = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(template_pk(&row.template_id)))
                .key("sk", s(TEMPLATE_CATALOGUE_SK))
                .return_values(ReturnValue::AllOld)
                .expression_attribute_values(":item_kind", s("template_catalogue"))
                .expression_attribute_values(":waba_id", s(waba_id))
                .expression_attribute_values(":template_id", s(row.template_id.as_str()))
                .expression_attribute_values(
                    ":pulled_at",
                    Av::N(pulled_at.timestamp().to_string()),
                );
            let mut set = vec![
                "item_kind = :item_kind".to_string(),
                "waba_id = :waba_id".into(),
                "template_id = :template_id".into(),
                "pulled_at = :pulled_at".into(),
            ];
            let mut remove = Vec::new();
            let optional = [
                ("template_name", row.name.as_deref()),
                ("template_language", row.language.as_deref()),
                ("template_status", row.status.as_deref()),
                ("category", row.category.as_deref()),
                ("sub_category", row.sub_category.as_deref()),
                ("previous_category", row.previous_category.as_deref()),
                ("parameter_format", row.parameter_format.as_deref()),
                ("quality_score", row.quality_score.as_deref()),
            ];
            for (name, value) in optional {
                // Attribute names stay clear of DynamoDB's reserved words (`name`, `status`,
                // `language`), so no aliases are needed.
                match value {
                    Some(v) => {
                        set.push(format!("{name} = :{name}"));
                        update = update.expression_attribute_values(format!(":{name}"), s(v));
                    }
                    None => remove.push(name.to_string()),
                }
            }
            if let Some(c) = &row.components {
                set.push("component_count = :component_count".into());
                update =
                    update.expression_attribute_values(":component_count", n_u(c.count as u64));
                for (name, list) in [
                    ("component_types", &c.types),
                    ("button_types", &c.button_types),
                ] {
                    if list.is_empty() {
                        remove.push(name.to_string());
                    } else {
                        set.push(format!("{name} = :{name}"));
                        update = update.expression_attribute_values(
                            format!(":{name}"),
                            Av::L(list.iter().map(|t| s(t.as_str())).collect()),
                        );
                    }
                }
            }
            let mut expr = format!("SET {}", set.join(", "));
            if !remove.is_empty() {
                expr.push_str(&format!(" REMOVE {}", remove.join(", ")));
            }
            let old = update
                .update_expression(expr)
                .send()
                .await
                .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(&e)))?
                .attributes;
            changes.stored += 1;
            let old_value = |name: &str| {
                old.as_ref()
                    .and_then(|o| o.get(name))
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
            };
            if old.is_none() {
                changes.new += 1;
            }
            let mut changed = false;
            for (aspect, new_value) in tracked {
                let stored_name = if aspect == "status" {
                    "template_status"
                } else {
                    aspect
                };
                let before = old_value(stored_name);
                if old.is_some() && before == new_value {
                    continue;
                }
                if old.is_none() && new_value.is_none() {
                    continue;
                }
                changed |= old.is_some();
                let mut item = HashMap::with_capacity(10);
                item.insert("pk".into(), s(template_pk(&row.template_id)));
                item.insert(
                    "sk".into(),
                    s(catalogue_change_sk(pulled_at.timestamp(), aspect)),
                );
                item.insert("item_kind".into(), s("template_catalogue_change"));
                item.insert("waba_id".into(), s(waba_id));
                item.insert("template_id".into(), s(row.template_id.as_str()));
                item.insert("aspect".into(), s(aspect));
                item.insert("at".into(), Av::N(pulled_at.timestamp().to_string()));
                if let Some(b) = before {
                    item.insert("from_value".into(), s(b));
                }
                if let Some(v) = new_value {
                    item.insert("to_value".into(), s(v));
                }
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .send()
                    .await
                    .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(&e)))?;
            }
            if changed {
                changes.changed += 1;
            }
        }
        Ok(changes)
    }

    /// Records how the latest run of a kind ended (`SYNC#<waba>` / `<kind>`); the watermark
    /// on the same item is untouched.
    async fn record_run(
        &self,
        waba_id: &str,
        kind: SyncKind,
        run: &RunRecord<'_>,
    ) -> Result<(), StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(sync_pk(waba_id)))
            .key("sk", s(kind.as_str()))
            .expression_attribute_values(":item_kind", s("sync_watermark"))
            .expression_attribute_values(":waba_id", s(waba_id))
            .expression_attribute_values(":pull_kind", s(kind.as_str()))
            .expression_attribute_values(":run_id", s(run.run_id))
            .expression_attribute_values(":run_at", Av::N(run.at.timestamp().to_string()))
            .expression_attribute_values(":outcome", s(run.outcome.as_str()));
        let base = "SET item_kind = :item_kind, waba_id = :waba_id, pull_kind = :pull_kind, last_run_id = :run_id, last_run_at = :run_at, last_outcome = :outcome";
        let expr = match run.reason {
            Some(r) => {
                update = update.expression_attribute_values(":reason", s(r));
                format!("{base}, last_reason = :reason")
            }
            None => format!("{base} REMOVE last_reason"),
        };
        update
            .update_expression(expr)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(&e)))
    }

    /// The last complete day stored for a WABA and kind.
    async fn watermark(
        &self,
        waba_id: &str,
        kind: PullKind,
    ) -> Result<Option<NaiveDate>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(sync_pk(waba_id)))
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
    async fn advance_watermark(
        &self,
        waba_id: &str,
        kind: PullKind,
        day: NaiveDate,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(sync_pk(waba_id)))
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
}
