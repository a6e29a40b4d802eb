//! `DynamoDbReportSource`: reads the facts of a report window from the table, without a
//! Scan, and `DynamoDbReportStore`: the report records (`REPORTS` / `R#<id>`).
//!
//! What a window read costs (see docs/DATA_MODEL.md, "Reports"):
//! - the `by_time` index, every UTC day overlapping the window (paginated Queries): its event
//!   partitions (`E#<day>`, `days` Queries: consent events, conversions) always, and every
//!   shard of its marker partitions (`T#<day>#<shard>`, `8 × days` Queries: message markers,
//!   and the events written before the split) when the report reads messages;
//! - the outbound messages behind the markers: BatchGetItem, 100 keys per request;
//! - per person seen in the window, one Query of that person's partition (its earlier
//!   markers: response times need to know whether an inbound message was already waiting);
//! - leads created in the window: the `leads` index, 8 shards, `created_at BETWEEN`;
//! - Meta's pulled days: one Query per WABA for `PRICING#` and `MSGDAY#`.

use super::identity::{DynamoDbIdentityStore, batch_get};
use crate::domain::identity::IdentityMap;
use crate::domain::metrics::input::{
    ConsentAction, ConsentEvt, ConsentSource, ConversionRow, InboundMsg, Inputs, LeadRow,
    MessagingDay, MsgPricing, OutboundMsg, PricingDay, TemplateDay, Times,
};
use crate::domain::metrics::tally::Tally;
use crate::domain::report::{ReportRecord, ReportStatus};
use crate::domain::timeindex::{
    TIME_BUCKET_ATTR, TIME_INDEX, buckets_covering, event_buckets_covering,
};
use crate::ports::IdentityStore;
use crate::ports::{ReportSource, ReportStore, ReportWindow, StoreError};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue as Av;
use chrono::NaiveDate;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::collections::{BTreeSet, HashMap};

use super::attrs::{Attrs, LEAD_WABAS, int, n, s, text};
use crate::domain::access::Tenancy;
use crate::keys::{
    CONSENT_PREFIX, CONVERSION_PREFIX, INBOUND_MARKER, LEAD_SHARDS, LEADS_INDEX, OUTBOUND_MARKER,
    PHONE_WABA_SK, PROFILE_SK, REPORTS_PK, lead_list_shard, message_pk, messaging_day_pk, phone_of,
    phone_pk, pricing_pk, report_sk, template_day_pk, user_of, user_pk, waba_templates_pk,
    wamid_of,
};

/// Concurrent Queries / BatchGets per window read.
const READ_CONCURRENCY: usize = 16;

/// A storage error as the report will say it: the service's code and message (never the
/// SDK's whole dump with headers and request ids). A refused request (validation) is a bug
/// and is `Rejected`; everything else is `Unavailable` (retrying may help).
fn unavailable<E>(e: E) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "report read failed");
    match (e.code(), e.message()) {
        (Some(code @ "ValidationException"), message) => {
            StoreError::Rejected(format!("{code}: {}", message.unwrap_or("")))
        }
        (Some(code), message) => {
            StoreError::Unavailable(format!("{code}: {}", message.unwrap_or("")))
        }
        (None, _) => StoreError::Unavailable(format!("{e}")),
    }
}

/// A stored decimal (`N`) scaled to an exact integer: `"12.5"` at scale 4 is `125000`.
/// Digits beyond the scale are cut (never rounded through a float). `None` if not a number.
pub fn scaled(raw: &str, scale: u32) -> Option<i64> {
    let raw = raw.trim();
    let (neg, digits) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut value: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    for i in 0..scale as usize {
        let d = frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
        value = value.checked_mul(10)?.checked_add(d)?;
    }
    Some(if neg { -value } else { value })
}

fn scaled_attr(item: &Attrs, k: &str, scale: u32) -> Option<i64> {
    item.get(k)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| scaled(v, scale))
}

/// An outbound message item (`MSG#<wamid>` / `OUT`) as a metrics input.
pub fn outbound_from_item(item: &Attrs) -> Option<OutboundMsg> {
    let wamid = wamid_of(&text(item, "pk")?)?.to_string();
    let pricing = item.get("pricing").and_then(|p| p.as_m().ok()).map(|p| {
        let t = |k: &str| p.get(k).and_then(|v| v.as_s().ok()).cloned();
        let b = |k: &str| p.get(k).and_then(|v| v.as_bool().ok()).copied();
        MsgPricing {
            model: t("model"),
            category: t("category"),
            pricing_type: t("type"),
            billable: b("billable"),
            paid: b("paid"),
        }
    });
    Some(OutboundMsg {
        wamid,
        person: text(item, "recipient_user_id").or_else(|| text(item, "recipient_phone")),
        waba_id: text(item, "waba_id").unwrap_or_default(),
        phone_number_id: text(item, "phone_number_id").unwrap_or_default(),
        times: Times {
            sent_at: int(item, "sent_at"),
            delivered_at: int(item, "delivered_at"),
            read_at: int(item, "read_at"),
            played_at: int(item, "played_at"),
            failed_at: int(item, "failed_at"),
        },
        pricing,
        tag: text(item, "biz_opaque_callback_data"),
        error_code: int(item, "error_code"),
        error_title: text(item, "error_title"),
    })
}

/// A consent event item (`USER#<key>` / `CONSENT#…`) as a metrics input. The report's
/// action: a stop is `opt_out`; a keyword or `user_preferences` opt-in is a `resume`;
/// an opt-in recorded through the API or an import is an `opt_in`.
pub fn consent_from_item(item: &Attrs) -> Option<ConsentEvt> {
    let stored_source = text(item, "source")?;
    let source = match (
        stored_source.as_str(),
        text(item, "recorded_via").as_deref(),
    ) {
        ("keyword", _) => ConsentSource::Keyword,
        ("user_preferences", _) => ConsentSource::UserPreferences,
        (_, Some("import")) => ConsentSource::Import,
        _ => ConsentSource::Api,
    };
    let action = match (text(item, "consent")?.as_str(), source) {
        ("opt_out", _) => ConsentAction::OptOut,
        ("opt_in", ConsentSource::Keyword | ConsentSource::UserPreferences) => {
            ConsentAction::Resume
        }
        ("opt_in", _) => ConsentAction::OptIn,
        _ => return None,
    };
    let mut categories: Vec<String> = item
        .get("categories")
        .and_then(|v| v.as_ss().ok())
        .cloned()
        .unwrap_or_default();
    categories.sort();
    Some(ConsentEvt {
        person: text(item, "user_key")?,
        phone_number_id: text(item, "phone_number_id").unwrap_or_default(),
        at: int(item, "at")?,
        action,
        source,
        categories,
    })
}

fn conversion_from_item(item: &Attrs) -> Option<ConversionRow> {
    Some(ConversionRow {
        lead_id: user_of(&text(item, "pk")?)?.to_string(),
        at: int(item, "at")?,
        conversion_type: text(item, "conversion_type").unwrap_or_default(),
        value_e4: scaled_attr(item, "conversion_value", 4),
        currency: text(item, "currency"),
    })
}

fn lead_from_item(item: &Attrs) -> Option<LeadRow> {
    let touch = item.get("first_touch").and_then(|v| v.as_m().ok());
    let t = |k: &str| {
        touch
            .and_then(|m| m.get(k))
            .and_then(|v| v.as_s().ok())
            .cloned()
    };
    Some(LeadRow {
        lead_id: text(item, "user_key")?,
        created_at: int(item, "created_at")?,
        phone_number_id: text(item, "phone_number_id"),
        utm_source: t("utm_source"),
        utm_medium: t("utm_medium"),
        utm_campaign: t("utm_campaign"),
        source_id: t("source_id"),
    })
}

fn day_attr(item: &Attrs) -> Option<NaiveDate> {
    text(item, "day").and_then(|d| d.parse().ok())
}

fn pricing_from_item(item: &Attrs) -> Option<PricingDay> {
    let dim = |k: &str| text(item, k).unwrap_or_else(|| "-".to_string());
    // Meta's pricing_analytics spells types and categories in capitals (`REGULAR`,
    // `MARKETING`); the webhook's statuses in lower case. Reports use the webhook's spelling.
    let lower = |k: &str| dim(k).to_ascii_lowercase();
    let cost_e6 = scaled_attr(item, "cost", 6);
    Some(PricingDay {
        waba_id: text(item, "waba_id")?,
        day: day_attr(item)?,
        phone_number: dim("phone_number"),
        country: dim("country"),
        category: lower("pricing_category"),
        pricing_type: lower("pricing_type"),
        tier: dim("tier"),
        volume: int(item, "volume").unwrap_or(0),
        cost_e6,
        cost_state: text(item, "cost_state").unwrap_or_else(|| {
            if cost_e6.is_some() {
                "reported".to_string()
            } else {
                "not_returned".to_string()
            }
        }),
    })
}

/// Meta's numbers for one template and day (`TPLDAY#<id>` / `<day>`), named from the WABA's
/// template list. Clicks: every button type except the `unique_*` counts (they re-count the
/// same clicks by person); URL clicks are `url_button`. Cost: `amount_spent`.
fn template_day_from_item(item: &Attrs, listing: &Attrs) -> Option<TemplateDay> {
    let clicks = item.get("clicks").and_then(|v| v.as_m().ok());
    let count = |m: &HashMap<String, Av>, k: &str| {
        m.get(k)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
    };
    let cost = item.get("cost").and_then(|v| v.as_m().ok());
    Some(TemplateDay {
        template_id: text(item, "template_id")?,
        name: text(listing, "template_name"),
        language: text(listing, "template_language"),
        day: day_attr(item)?,
        sent: int(item, "sent"),
        delivered: int(item, "delivered"),
        read: int(item, "read"),
        clicked: clicks.map(|m| {
            m.iter()
                .filter(|(k, _)| !k.starts_with("unique_"))
                .filter_map(|(k, _)| count(m, k))
                .sum()
        }),
        url_clicks: clicks.map(|m| count(m, "url_button").unwrap_or(0)),
        clicks_state: text(item, "clicks_state").unwrap_or_else(|| "reported".to_string()),
        cost_e6: cost
            .and_then(|m| m.get("amount_spent"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| scaled(v, 6)),
        cost_state: text(item, "cost_state").unwrap_or_else(|| {
            if cost.is_some() {
                "reported".to_string()
            } else {
                "not_returned".to_string()
            }
        }),
    })
}

fn messaging_from_item(item: &Attrs) -> Option<MessagingDay> {
    Some(MessagingDay {
        waba_id: text(item, "waba_id")?,
        day: day_attr(item)?,
        sent: int(item, "sent"),
        delivered: int(item, "delivered"),
    })
}

#[derive(Debug, Clone)]
pub struct DynamoDbReportSource {
    client: Client,
    table: String,
    identity: DynamoDbIdentityStore,
    rollups: super::rollups::DynamoDbRollupStore,
    facts: super::facts::DynamoDbFactsStore,
}

impl DynamoDbReportSource {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let table = table.into();
        Self {
            identity: DynamoDbIdentityStore::new(client.clone(), table.clone()),
            rollups: super::rollups::DynamoDbRollupStore::new(client.clone(), table.clone()),
            facts: super::facts::DynamoDbFactsStore::new(client.clone(), table.clone()),
            client,
            table,
        }
    }

    /// Every index item of one bucket with `lo <= at <= hi` (and, with `kind`, only items
    /// whose sort key starts with it: read, but not returned or held, otherwise).
    async fn bucket(
        &self,
        bucket: String,
        lo: i64,
        hi: i64,
        kind: Option<&'static str>,
    ) -> Result<Vec<Attrs>, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(TIME_INDEX)
            .key_condition_expression("#b = :b AND #at BETWEEN :lo AND :hi")
            .expression_attribute_names("#b", TIME_BUCKET_ATTR)
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":b", s(bucket))
            .expression_attribute_values(":lo", n(lo))
            .expression_attribute_values(":hi", n(hi));
        if let Some(prefix) = kind {
            query = query
                .filter_expression("begins_with(sk, :kind)")
                .expression_attribute_values(":kind", s(prefix));
        }
        query
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(unavailable)
    }

    /// Every item of one partition whose sort key starts with `prefix` (all of them for "").
    async fn partition(&self, pk: String, prefix: &str) -> Result<Vec<Attrs>, StoreError> {
        let query = self.client.query().table_name(&self.table);
        let query = if prefix.is_empty() {
            query.key_condition_expression("pk = :pk")
        } else {
            query
                .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
                .expression_attribute_values(":p", s(prefix))
        };
        query
            .expression_attribute_values(":pk", s(pk))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(unavailable)
    }

    /// Outbound message items by wamid, 100 per BatchGetItem, unprocessed keys retried.
    async fn outbound_items(&self, wamids: Vec<String>) -> Result<Vec<Attrs>, StoreError> {
        let keys = wamids
            .iter()
            .map(|w| {
                HashMap::from([
                    ("pk".to_string(), s(message_pk(w))),
                    ("sk".to_string(), s("OUT")),
                ])
            })
            .collect();
        batch_get(&self.client, &self.table, keys, false).await
    }

    async fn lead_items(&self, lo: i64, hi: i64) -> Result<Vec<Attrs>, StoreError> {
        let shards: Vec<Vec<Attrs>> = stream::iter(0..LEAD_SHARDS)
            .map(|shard| async move {
                self.client
                    .query()
                    .table_name(&self.table)
                    .index_name(LEADS_INDEX)
                    .key_condition_expression("lead_list = :l AND created_at BETWEEN :lo AND :hi")
                    .expression_attribute_values(":l", s(lead_list_shard(shard)))
                    .expression_attribute_values(":lo", n(lo))
                    .expression_attribute_values(":hi", n(hi))
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await
                    .map_err(unavailable)
            })
            .buffer_unordered(READ_CONCURRENCY)
            .try_collect()
            .await?;
        // A profile merged into its person's lead is that lead, not a lead of its own.
        Ok(shards
            .into_iter()
            .flatten()
            .filter(|i: &Attrs| !i.contains_key("merged_into"))
            .collect())
    }

    async fn days(
        &self,
        pk: String,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Attrs>, StoreError> {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :a AND :b")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":a", s(from.to_string()))
            // `~` sorts after `#`, so every `<day>#…` key of the last day is included.
            .expression_attribute_values(":b", s(format!("{to}~")))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(unavailable)
    }
}

/// Which `by_time` partitions a read covers (`domain::timeindex`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Partitions {
    /// The event partitions (`E#<day>`): consent events and conversions, no marker.
    Events,
    /// The event partitions and the marker partitions (`T#<day>#<shard>`): every message
    /// marker, and the consent events and conversions written before the split that
    /// `rebuild-rollups` has not moved yet.
    EventsAndMarkers,
    /// The marker partitions only.
    Markers,
}

impl DynamoDbReportSource {
    /// Every `by_time` item with `lo <= at <= hi` in `partitions`, every UTC day it spans,
    /// each item once (one moved from `T#` to `E#` while the read runs can show in both).
    async fn indexed(
        &self,
        partitions: Partitions,
        lo: i64,
        hi: i64,
        kind: Option<&'static str>,
    ) -> Result<Vec<Attrs>, StoreError> {
        let mut buckets = Vec::new();
        if partitions != Partitions::Markers {
            buckets.extend(event_buckets_covering(lo, hi));
        }
        if partitions != Partitions::Events {
            buckets.extend(buckets_covering(lo, hi));
        }
        let parts: Vec<Vec<Attrs>> = stream::iter(buckets)
            .map(|b| self.bucket(b, lo, hi, kind))
            .buffer_unordered(READ_CONCURRENCY)
            .try_collect()
            .await?;
        let mut seen = BTreeSet::new();
        Ok(parts
            .into_iter()
            .flatten()
            .filter(|i| seen.insert((text(i, "pk"), text(i, "sk"))))
            .collect())
    }
}

impl ReportSource for DynamoDbReportSource {
    async fn tenancy(
        &self,
        lead_ids: &[String],
        phone_number_ids: &[String],
    ) -> Result<Tenancy, StoreError> {
        let key = |pk: String, sk: &str| {
            HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
        };
        let keys = lead_ids
            .iter()
            .map(|id| key(user_pk(id), PROFILE_SK))
            .chain(
                phone_number_ids
                    .iter()
                    .map(|p| key(phone_pk(p), PHONE_WABA_SK)),
            )
            .collect();
        let mut tenancy = Tenancy::default();
        for item in batch_get(&self.client, &self.table, keys, false).await? {
            let pk = text(&item, "pk").unwrap_or_default();
            if let Some(id) = user_of(&pk) {
                let mut wabas: Vec<String> = item
                    .get(LEAD_WABAS)
                    .and_then(|v| v.as_ss().ok())
                    .cloned()
                    .unwrap_or_default();
                wabas.extend(text(&item, "waba_id"));
                tenancy.lead_wabas.insert(id.to_string(), wabas);
            } else if let (Some(p), Some(w)) = (phone_of(&pk), text(&item, "waba_id")) {
                tenancy.phone_wabas.insert(p.to_string(), w);
            }
        }
        Ok(tenancy)
    }

    async fn rollups(&self, lo: i64, hi: i64) -> Result<Option<Vec<Tally>>, StoreError> {
        use crate::ports::RollupStore;
        Ok(Some(self.rollups.slots(lo, hi).await?))
    }

    async fn facts(&self, lo: i64, hi: i64) -> Result<Option<Vec<Tally>>, StoreError> {
        use crate::ports::PersonFactsStore;
        Ok(Some(self.facts.slots(lo, hi).await?))
    }

    async fn inputs(&self, w: &ReportWindow) -> Result<Inputs, StoreError> {
        let (lo, hi) = (w.lo, w.hi);
        // Consent events and conversions always; the markers only when the report reads
        // messages (the events still in `T#` come with them).
        let partitions = if w.messages {
            Partitions::EventsAndMarkers
        } else {
            Partitions::Events
        };
        let indexed = self.indexed(partitions, lo, hi, None).await?;
        let mut inputs = Inputs::default();
        let mut outbound_wamids = BTreeSet::new();
        let mut people = BTreeSet::new();
        let mut seen_inbound = BTreeSet::new();
        for item in &indexed {
            let sk = text(item, "sk").unwrap_or_default();
            if sk.starts_with(CONSENT_PREFIX) {
                inputs.consent.extend(consent_from_item(item));
            } else if sk.starts_with(CONVERSION_PREFIX) {
                inputs.conversions.extend(conversion_from_item(item));
            } else if let Some(wamid) = sk.strip_prefix(OUTBOUND_MARKER) {
                outbound_wamids.insert(wamid.to_string());
                people.extend(text(item, "pk").and_then(|p| user_of(&p).map(str::to_string)));
            } else if sk.starts_with(INBOUND_MARKER)
                && let Some(m) = inbound_from_marker(item)
            {
                people.insert(m.person.clone());
                seen_inbound.insert(m.wamid.clone());
                inputs.inbound.push(m);
            }
        }
        // Earlier messages of the people of the window (response times need them).
        let mut ids: Vec<String> = people.iter().cloned().collect();
        ids.extend(inputs.consent.iter().map(|c| c.person.clone()));
        ids.extend(inputs.conversions.iter().map(|c| c.lead_id.clone()));
        let map = self.identity.identity_map(&ids).await?;
        if w.with_history {
            let every_id: BTreeSet<String> = people
                .iter()
                .flat_map(|p| map.ids_of(p))
                .map(str::to_string)
                .collect();
            let histories: Vec<Vec<Attrs>> = stream::iter(every_id)
                .map(|p| async move {
                    let mut items = self.partition(user_pk(&p), INBOUND_MARKER).await?;
                    items.extend(self.partition(user_pk(&p), OUTBOUND_MARKER).await?);
                    Ok::<_, StoreError>(items)
                })
                .buffer_unordered(READ_CONCURRENCY)
                .try_collect()
                .await?;
            for item in histories.iter().flatten() {
                let sk = text(item, "sk").unwrap_or_default();
                if let Some(wamid) = sk.strip_prefix(OUTBOUND_MARKER) {
                    outbound_wamids.insert(wamid.to_string());
                } else if let Some(m) = inbound_from_marker(item)
                    && seen_inbound.insert(m.wamid.clone())
                {
                    inputs.inbound.push(m);
                }
            }
        }
        let items = self
            .outbound_items(outbound_wamids.into_iter().collect())
            .await?;
        inputs.outbound = items.iter().filter_map(outbound_from_item).collect();
        inputs.leads = self
            .lead_items(lo, hi)
            .await?
            .iter()
            .filter_map(lead_from_item)
            .collect();
        // One person, one lead: every fact counts for the person, not for the id it came with.
        let recipients: Vec<String> = inputs
            .outbound
            .iter()
            .filter_map(|m| m.person.clone())
            .collect();
        let map = map.with(&self.identity.identity_map(&recipients).await?);
        resolve_people(&mut inputs, &map);
        for waba in &w.wabas {
            for listing in self.partition(waba_templates_pk(waba), "").await? {
                let Some(id) = text(&listing, "template_id") else {
                    continue;
                };
                let days = self
                    .days(template_day_pk(&id), w.from_day, w.to_day)
                    .await?;
                inputs.templates.extend(
                    days.iter()
                        .filter_map(|d| template_day_from_item(d, &listing)),
                );
            }
            let pricing = self.days(pricing_pk(waba), w.from_day, w.to_day).await?;
            inputs
                .pricing
                .extend(pricing.iter().filter_map(pricing_from_item));
            let messaging = self
                .days(messaging_day_pk(waba), w.from_day, w.to_day)
                .await?;
            inputs
                .messaging
                .extend(messaging.iter().filter_map(messaging_from_item));
        }
        Ok(inputs)
    }

    async fn outbound_between(&self, lo: i64, hi: i64) -> Result<Vec<OutboundMsg>, StoreError> {
        let wamids: BTreeSet<String> = self
            .indexed(Partitions::Markers, lo, hi, Some(OUTBOUND_MARKER))
            .await?
            .iter()
            .filter_map(|i| {
                text(i, "sk")?
                    .strip_prefix(OUTBOUND_MARKER)
                    .map(str::to_string)
            })
            .collect();
        let items = self.outbound_items(wamids.into_iter().collect()).await?;
        let mut out: Vec<OutboundMsg> = items.iter().filter_map(outbound_from_item).collect();
        let recipients: Vec<String> = out.iter().filter_map(|m| m.person.clone()).collect();
        let map = self.identity.identity_map(&recipients).await?;
        for m in &mut out {
            if let Some(p) = &mut m.person {
                *p = map.lead_of(p).to_string();
            }
        }
        Ok(out)
    }

    async fn opt_out_facts(
        &self,
        lo: i64,
        hi: i64,
    ) -> Result<(Vec<ConsentEvt>, Vec<OutboundMsg>), StoreError> {
        let consent: Vec<ConsentEvt> = self
            // The markers' partitions too: the export reads its messages' markers anyway,
            // and consent events written before the split may still be there.
            .indexed(Partitions::EventsAndMarkers, lo, hi, Some(CONSENT_PREFIX))
            .await?
            .iter()
            .filter(|i| text(i, "sk").is_some_and(|sk| sk.starts_with(CONSENT_PREFIX)))
            .filter_map(consent_from_item)
            .collect();
        let mut consent = consent;
        let keys: Vec<String> = consent.iter().map(|c| c.person.clone()).collect();
        let map = self.identity.identity_map(&keys).await?;
        for c in &mut consent {
            c.person = map.lead_of(&c.person).to_string();
        }
        let people: BTreeSet<String> = consent
            .iter()
            .filter(|c| c.action == ConsentAction::OptOut)
            .map(|c| c.person.clone())
            .collect();
        let mut stubs = Vec::new();
        let mut seen = BTreeSet::new();
        let pairs: Vec<(String, String)> = people
            .iter()
            .flat_map(|p| {
                map.ids_of(p)
                    .into_iter()
                    .map(|id| (p.clone(), id.to_string()))
            })
            .collect();
        for (p, id) in pairs {
            for item in self.partition(user_pk(&id), OUTBOUND_MARKER).await? {
                if !seen.insert(text(&item, "wamid")) {
                    continue;
                }
                let (Some(wamid), Some(at)) = (text(&item, "wamid"), int(&item, "at")) else {
                    continue;
                };
                stubs.push(OutboundMsg {
                    wamid,
                    person: Some(p.clone()),
                    waba_id: text(&item, "waba_id").unwrap_or_default(),
                    phone_number_id: text(&item, "phone_number_id").unwrap_or_default(),
                    times: Times {
                        sent_at: Some(at),
                        delivered_at: None,
                        read_at: None,
                        played_at: None,
                        failed_at: None,
                    },
                    pricing: None,
                    tag: None,
                    error_code: None,
                    error_title: None,
                });
            }
        }
        Ok((consent, stubs))
    }

    async fn leads_created(
        &self,
        lo: i64,
        hi: i64,
    ) -> Result<Vec<crate::domain::leads::LeadView>, StoreError> {
        let mut leads: Vec<_> = self
            .lead_items(lo, hi)
            .await?
            .iter()
            .filter(|i| !i.contains_key("merged_into"))
            .filter_map(super::leads::lead_from_item)
            .collect();
        leads.sort_by(|a, b| (a.created_at, &a.lead_id).cmp(&(b.created_at, &b.lead_id)));
        Ok(leads)
    }
}

/// Every fact of `inputs` counted for its person's lead id; a message seen under two ids
/// (its recipient's business-scoped id arrived on a later status) counts once.
fn resolve_people(inputs: &mut Inputs, map: &IdentityMap) {
    for m in &mut inputs.outbound {
        if let Some(p) = &mut m.person {
            *p = map.lead_of(p).to_string();
        }
    }
    for m in &mut inputs.inbound {
        m.person = map.lead_of(&m.person).to_string();
    }
    for c in &mut inputs.consent {
        c.person = map.lead_of(&c.person).to_string();
    }
    for c in &mut inputs.conversions {
        c.lead_id = map.lead_of(&c.lead_id).to_string();
    }
    for l in &mut inputs.leads {
        l.lead_id = map.lead_of(&l.lead_id).to_string();
    }
}

pub(crate) fn inbound_from_marker(item: &Attrs) -> Option<InboundMsg> {
    Some(InboundMsg {
        wamid: text(item, "wamid")?,
        person: user_of(&text(item, "pk")?)?.to_string(),
        waba_id: text(item, "waba_id").unwrap_or_default(),
        phone_number_id: text(item, "phone_number_id").unwrap_or_default(),
        at: int(item, "at")?,
    })
}

// ---------------------------------------------------------------------------------------
// Report records
// ---------------------------------------------------------------------------------------

// Report records live in one partition (`keys::REPORTS_PK`): reports are created by people
// and schedules (a few a day), so one partition holds them all, newest first by id.

fn report_item(r: &ReportRecord) -> Attrs {
    let mut item = HashMap::from([
        ("pk".to_string(), s(REPORTS_PK)),
        ("sk".to_string(), s(report_sk(&r.id))),
        ("item_kind".to_string(), s("report")),
        ("report_id".to_string(), s(r.id.as_str())),
        ("kind".to_string(), s(r.kind.as_str())),
        ("request".to_string(), s(r.request_json.as_str())),
        ("status".to_string(), s(r.status.as_str())),
        ("created_at".to_string(), n(r.created_at)),
        ("created_by".to_string(), s(r.created_by.as_str())),
        ("origin".to_string(), s(r.origin.as_str())),
    ]);
    let opt = |item: &mut Attrs, k: &str, v: Option<Av>| {
        if let Some(v) = v {
            item.insert(k.to_string(), v);
        }
    };
    opt(&mut item, "object_key", r.object_key.clone().map(s));
    opt(&mut item, "rows", r.rows.map(|v| n(v as i64)));
    opt(&mut item, "bytes", r.bytes.map(|v| n(v as i64)));
    opt(&mut item, "sha256", r.sha256.clone().map(s));
    opt(&mut item, "reason", r.reason.clone().map(s));
    opt(&mut item, "finished_at", r.finished_at.map(n));
    opt(&mut item, "expires_at", r.expires_at.map(n));
    item
}

fn report_from_item(item: &Attrs) -> Option<ReportRecord> {
    Some(ReportRecord {
        id: text(item, "report_id")?,
        kind: text(item, "kind")?.parse().ok()?,
        request_json: text(item, "request").unwrap_or_default(),
        status: ReportStatus::parse(&text(item, "status")?)?,
        created_at: int(item, "created_at").unwrap_or(0),
        created_by: text(item, "created_by").unwrap_or_default(),
        origin: text(item, "origin").unwrap_or_default(),
        object_key: text(item, "object_key"),
        rows: int(item, "rows").map(|v| v as u64),
        bytes: int(item, "bytes").map(|v| v as u64),
        sha256: text(item, "sha256"),
        reason: text(item, "reason"),
        finished_at: int(item, "finished_at"),
        expires_at: int(item, "expires_at"),
    })
}

#[derive(Debug, Clone)]
pub struct DynamoDbReportStore {
    client: Client,
    table: String,
}

impl DynamoDbReportStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl ReportStore for DynamoDbReportStore {
    async fn put(&self, r: &ReportRecord) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(report_item(r)))
            .send()
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn get(&self, id: &str) -> Result<Option<ReportRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(REPORTS_PK))
            .key("sk", s(report_sk(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item.as_ref().and_then(report_from_item))
    }

    async fn recent(&self, limit: i32) -> Result<Vec<ReportRecord>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :r)")
            .expression_attribute_values(":pk", s(REPORTS_PK))
            .expression_attribute_values(":r", s(report_sk("")))
            .scan_index_forward(false)
            .limit(limit)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(report_from_item)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_scale_exactly() {
        assert_eq!(scaled("12.5", 4), Some(125_000));
        assert_eq!(scaled("0.0125", 6), Some(12_500));
        assert_eq!(scaled("7", 2), Some(700));
        assert_eq!(scaled("-1.25", 2), Some(-125));
        assert_eq!(scaled("0.123456789", 6), Some(123_456));
        assert_eq!(scaled("abc", 2), None);
        assert_eq!(scaled("", 2), None);
        assert_eq!(scaled("1e5", 2), None);
    }

    #[test]
    fn consent_actions_and_sources_map_for_the_report() {
        let item = |consent: &str, source: &str, via: Option<&str>| {
            let mut i = HashMap::from([
                ("user_key".to_string(), s("u1")),
                ("consent".to_string(), s(consent)),
                ("source".to_string(), s(source)),
                ("at".to_string(), n(5)),
                ("categories".to_string(), Av::Ss(vec!["marketing".into()])),
            ]);
            if let Some(v) = via {
                i.insert("recorded_via".into(), s(v));
            }
            consent_from_item(&i).unwrap()
        };
        let e = item("opt_out", "keyword", None);
        assert_eq!(
            (e.action, e.source),
            (ConsentAction::OptOut, ConsentSource::Keyword)
        );
        let e = item("opt_in", "user_preferences", None);
        assert_eq!(
            (e.action, e.source),
            (ConsentAction::Resume, ConsentSource::UserPreferences)
        );
        let e = item("opt_in", "web_form", Some("api"));
        assert_eq!(
            (e.action, e.source),
            (ConsentAction::OptIn, ConsentSource::Api)
        );
        let e = item("opt_in", "qr", Some("import"));
        assert_eq!(
            (e.action, e.source),
            (ConsentAction::OptIn, ConsentSource::Import)
        );
    }
}
