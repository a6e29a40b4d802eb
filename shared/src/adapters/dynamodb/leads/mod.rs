//! `DynamoDbLeadStore`: the managers' view of leads over the table the webhook writes.
//!
//! - Listing reads the sparse `leads` index (`lead_list` / `created_at`, newest first) and
//!   applies the filter to each lead; the cursor is the key of the last lead returned.
//! - One lead and its timeline (`timeline.rs`) is bounded work whatever the person's
//!   message count: profiles and message counters by key, the latest entries of each list
//!   with `Limit`, times from the per-person `by_lead` index.
//! - Updates are optimistic: the profile carries `version`; an update names the version it
//!   read and is written in one transaction with its history items only if that version is
//!   still current. A stale update changes nothing and reports the current version.

mod activity;
mod consent;
mod conversions;
mod import;
mod port;
mod timeline;

use consent::person_consent_states;

use crate::domain::activity::{Activity, Direction};
use crate::domain::consent::ConsentAction;
use crate::domain::consent_check::{ConsentStatus, EntryPoint};
use crate::domain::leads::{
    Change, ConsentEventView, ConsentRecord, ConsentStateView, Conversion, FirstTouch,
    ImportCounts, ImportRow, LeadFilter, LeadPatch, LeadView, Lifecycle, MessageActivity,
    TIMELINE_ENTRIES, Timeline,
};
use crate::domain::timeindex::{
    LEAD_INDEX, LEAD_TIME_ATTR, LeadSeries, event_bucket, lead_time, time_bucket,
};
use crate::ports::{LeadsError, ScannedMessage, StoreError};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue as Av, Delete, Put, TransactWriteItem, Update};
use base64::Engine;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

use super::attrs::{
    Attrs, Cancelled, LEAD_WABAS, build_error, cancellation, int, s, store_error, text, time,
    transaction_error, user_item as item_key,
};
use super::history::{HistoryEntry, Version, history_item};
use super::identity::{DynamoDbIdentityStore, batch_get};
use crate::domain::access::Access;
use crate::domain::capi::ForwardState;
use crate::domain::identity::{Person, consent_supersedes};
use crate::keys::{
    ACTIVITY_SK, CONSENT_PREFIX, CONSENT_STATE_PREFIX, HISTORY_PREFIX, LEAD_SHARDS, LEADS_INDEX,
    MESSAGE_PREFIX, PHONE_WABA_SK, PROFILE_SK, consent_events_of, consent_number_of,
    consent_state_sk, consent_states_of, conversion_sk, lead_list, lead_list_shard, phone_pk,
    user_of, user_pk,
};
use crate::ports::IdentityStore;

/// Index items read per list request at most, whatever the filter matches.
const MAX_SCANNED: usize = 5_000;

#[derive(Debug, Clone)]
pub struct DynamoDbLeadStore {
    client: Client,
    table: String,
    identity: DynamoDbIdentityStore,
}

/// A lead item as the API's view; `None` for items that are not complete leads yet.
pub fn lead_from_item(item: &Attrs) -> Option<LeadView> {
    let lead_id = text(item, "user_key")?;
    let created_at = time(item, "created_at")?;
    let first_touch = item
        .get("first_touch")
        .and_then(|v| v.as_m().ok())
        .map(|m| {
            let t = |k: &str| text(m, k);
            FirstTouch {
                source_id: t("source_id"),
                source_url: t("source_url"),
                source_type: t("source_type"),
                headline: t("headline"),
                media_type: t("media_type"),
                ctwa_clid: t("ctwa_clid"),
                utm_source: t("utm_source"),
                utm_medium: t("utm_medium"),
                utm_campaign: t("utm_campaign"),
                utm_content: t("utm_content"),
                utm_term: t("utm_term"),
                at: time(m, "at"),
            }
        });
    let mut tags: Vec<String> = item
        .get("tags")
        .and_then(|v| v.as_ss().ok())
        .cloned()
        .unwrap_or_default();
    tags.sort();
    let custom_fields = item
        .get("custom_fields")
        .and_then(|v| v.as_m().ok())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_s().ok().map(|v| (k.clone(), v.clone())))
                .collect()
        })
        .unwrap_or_default();
    Some(LeadView {
        lead_id,
        waba_id: text(item, "waba_id"),
        phone_number_id: text(item, "phone_number_id"),
        phone: text(item, "phone"),
        user_id: text(item, "user_id"),
        profile_name: text(item, "profile_name"),
        stage: text(item, "stage").unwrap_or_else(|| "new".into()),
        owner: text(item, "owner"),
        tags,
        custom_fields,
        created_at,
        last_inbound_at: time(item, "last_inbound_at"),
        first_touch,
        version: int(item, "version").unwrap_or(0).max(0) as u64,
        origin: text(item, "origin").unwrap_or_else(|| "whatsapp".into()),
        // The ids the lead item names; a lead read through its person lists all of them.
        ids: {
            let mut ids: Vec<String> = ["user_key", "phone", "user_id"]
                .iter()
                .filter_map(|k| text(item, k))
                .collect();
            ids.sort();
            ids.dedup();
            ids
        },
        waba_ids: {
            let mut w: Vec<String> = item
                .get(LEAD_WABAS)
                .and_then(|v| v.as_ss().ok())
                .cloned()
                .unwrap_or_default();
            w.extend(text(item, "waba_id"));
            w.sort();
            w.dedup();
            w
        },
    })
}

/// A place in the listing order: newest first, then by key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Position {
    created_at: i64,
    pk: String,
}

impl Position {
    fn of(item: &Attrs) -> Option<Self> {
        Some(Self {
            created_at: int(item, "created_at")?,
            pk: text(item, "pk")?,
        })
    }
    /// Whether `self` comes after `other` in the listing order.
    fn after(&self, other: &Position) -> bool {
        self.created_at < other.created_at
            || (self.created_at == other.created_at && self.pk > other.pk)
    }
    fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&serde_json::json!({"c": self.created_at, "pk": self.pk}))
                .unwrap_or_default(),
        )
    }
    fn decode(cursor: &str) -> Result<Self, LeadsError> {
        let bad = || LeadsError::Invalid(format!("cursor {cursor:?} is not one this API issued"));
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| bad())?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        match (v["c"].as_i64(), v["pk"].as_str()) {
            (Some(created_at), Some(pk)) if user_of(pk).is_some() => Ok(Self {
                created_at,
                pk: pk.to_string(),
            }),
            _ => Err(bad()),
        }
    }
}

impl DynamoDbLeadStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let table = table.into();
        Self {
            identity: DynamoDbIdentityStore::new(client.clone(), table.clone()),
            client,
            table,
        }
    }

    /// Writes an item once: a retry (the item exists) is not an error.
    async fn put_once(&self, item: Attrs) -> Result<(), LeadsError> {
        self.put_if_absent(item).await.map(|_| ())
    }

    /// Writes an item unless its key exists: `true` when written, `false` when it was there.
    pub(super) async fn put_if_absent(&self, item: Attrs) -> Result<bool, LeadsError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(store_error(e).into()),
        }
    }

    /// Who is who, over the same table.
    pub fn identity(&self) -> &DynamoDbIdentityStore {
        &self.identity
    }

    /// The person `id` names, with their leads folded into one (done here when the
    /// aggregator has not done it yet).
    async fn person(&self, id: &str) -> Result<Person, LeadsError> {
        let person = self.identity.person(id).await?;
        if person.ids.len() > 1 {
            self.identity.merge(&person, false).await?;
        }
        Ok(person)
    }

    /// Leads matching `filter`, newest first (ties by key), at most `filter.limit`, and the
    /// cursor of the next page (`None` at the end). Each index shard is read from the cursor
    /// on until it has `limit` matches (or its end), then the shards are merged; the work per
    /// request is bounded by `MAX_SCANNED` items, and a page cut short by it says where to
    /// go on.
    pub async fn list(
        &self,
        filter: &LeadFilter,
        now: DateTime<Utc>,
    ) -> Result<(Vec<LeadView>, Option<String>), LeadsError> {
        let limit = filter.limit.max(1) as usize;
        let cursor = filter.cursor.as_deref().map(Position::decode).transpose()?;
        let budget = MAX_SCANNED / LEAD_SHARDS as usize;
        let mut candidates: Vec<(Position, LeadView)> = Vec::new();
        let mut more = false;
        // The earliest place a shard stopped for the work bound: nothing after it is known.
        let mut horizon: Option<Position> = None;
        for shard in 0..LEAD_SHARDS {
            let mut start = None;
            let (mut found, mut scanned) = (0, 0);
            'shard: loop {
                let mut query = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(LEADS_INDEX)
                    .expression_attribute_values(":list", s(lead_list_shard(shard)))
                    .scan_index_forward(false)
                    .limit(200)
                    .set_exclusive_start_key(start.take());
                query = match &cursor {
                    Some(c) => query
                        .key_condition_expression("lead_list = :list AND created_at <= :c")
                        .expression_attribute_values(":c", Av::N(c.created_at.to_string())),
                    None => query.key_condition_expression("lead_list = :list"),
                };
                let page = query.send().await.map_err(store_error)?;
                for item in page.items() {
                    scanned += 1;
                    // A profile merged into its person's lead is listed as that lead.
                    if item.contains_key("merged_into") {
                        continue;
                    }
                    let (Some(pos), Some(lead)) = (Position::of(item), lead_from_item(item)) else {
                        continue;
                    };
                    if cursor.as_ref().is_some_and(|c| !pos.after(c)) {
                        continue;
                    }
                    if filter.matches(&lead, now) {
                        candidates.push((pos.clone(), lead));
                        found += 1;
                        if found == limit {
                            more = true;
                            break 'shard;
                        }
                    }
                    if scanned >= budget {
                        if horizon.as_ref().is_none_or(|h| h.after(&pos)) {
                            horizon = Some(pos);
                        }
                        break 'shard;
                    }
                }
                match page.last_evaluated_key {
                    Some(k) => start = Some(k),
                    None => break,
                }
            }
        }
        candidates.sort_by(|(a, _), (b, _)| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.pk.cmp(&b.pk))
        });
        if let Some(h) = &horizon {
            candidates.retain(|(p, _)| !p.after(h));
        }
        more |= candidates.len() > limit;
        candidates.truncate(limit);
        let next = match (candidates.last(), &horizon) {
            (Some((last, _)), _) if more || candidates.len() == limit => Some(last.encode()),
            (_, Some(h)) => Some(h.encode()),
            _ => None,
        };
        Ok((candidates.into_iter().map(|(_, l)| l).collect(), next))
    }

    /// The profile item of a lead.
    async fn profile(&self, lead_id: &str) -> Result<Option<Attrs>, LeadsError> {
        Ok(self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(user_pk(lead_id)))
            .key("sk", s(PROFILE_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?
            .item)
    }

    /// Every item of a lead's partition.
    /// Applies a patch if `expected_version` is still current; history items are written in
    /// the same transaction.
    pub async fn update(
        &self,
        lead_id: &str,
        patch: &LeadPatch,
        actor: &str,
        lifecycle: &Lifecycle,
        now: DateTime<Utc>,
    ) -> Result<LeadView, LeadsError> {
        let asked = lead_id;
        let person = self.person(asked).await?;
        let lead_id = person.lead_id();
        let item = self
            .profile(lead_id)
            .await?
            .ok_or_else(|| LeadsError::NotFound(asked.to_string()))?;
        let current =
            lead_from_item(&item).ok_or_else(|| LeadsError::NotFound(asked.to_string()))?;
        if current.version != patch.expected_version {
            return Err(LeadsError::VersionConflict {
                expected: patch.expected_version,
                current: current.version,
            });
        }
        // `edited_at`: which of a person's leads a manager changed last (identity merges).
        let mut sets = vec![
            "version = :next".to_string(),
            "edited_at = :edited".to_string(),
        ];
        let mut removes: Vec<&str> = Vec::new();
        let mut values: Attrs = HashMap::from([
            (
                ":next".to_string(),
                Av::N((patch.expected_version + 1).to_string()),
            ),
            (":edited".to_string(), Av::N(now.timestamp().to_string())),
        ]);
        let mut names: HashMap<String, String> = HashMap::new();
        let mut history = Vec::new();
        let mut hist = |change: &str, from: Option<&str>, to: Option<&str>| {
            history.push(history_item(HistoryEntry {
                lead_id,
                at: now.timestamp(),
                change,
                version: Version::After(patch.expected_version + 1),
                by: actor,
                reason: "api",
                from,
                to,
            }));
        };
        if let Some(stage) = &patch.stage {
            lifecycle.validate_transition(&current.stage, stage)?;
            let stage = lifecycle.canonical(stage).unwrap_or(stage).to_string();
            sets.push("stage = :stage".into());
            values.insert(":stage".into(), s(stage.as_str()));
            hist("stage", Some(&current.stage), Some(&stage));
        }
        if let Some(owner) = &patch.owner
            && owner.as_deref() != current.owner.as_deref()
        {
            names.insert("#owner".into(), "owner".into());
            match owner {
                Some(o) => {
                    sets.push("#owner = :owner, owner_reason = :api".into());
                    values.insert(":owner".into(), s(o.as_str()));
                    values.insert(":api".into(), s("api"));
                }
                None => removes.push("#owner"),
            }
            hist("owner", current.owner.as_deref(), owner.as_deref());
        }
        if let Some(tags) = &patch.tags {
            let tags = crate::domain::leads::normalize_tags(tags);
            if tags.is_empty() {
                removes.push("tags");
            } else {
                sets.push("tags = :tags".into());
                values.insert(":tags".into(), Av::Ss(tags));
            }
        }
        if let Some(fields) = &patch.custom_fields {
            sets.push("custom_fields = :fields".into());
            values.insert(
                ":fields".into(),
                Av::M(
                    fields
                        .iter()
                        .map(|(k, v)| (k.clone(), s(v.as_str())))
                        .collect(),
                ),
            );
        }
        let condition = if patch.expected_version == 0 {
            values.insert(":zero".into(), Av::N("0".into()));
            "attribute_exists(pk) AND (attribute_not_exists(version) OR version = :zero)"
        } else {
            values.insert(
                ":expected".into(),
                Av::N(patch.expected_version.to_string()),
            );
            "attribute_exists(pk) AND version = :expected"
        };
        let mut expr = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expr.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(user_pk(lead_id)))
            .key("sk", s(PROFILE_SK))
            .update_expression(expr)
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .build()
            .map_err(build_error)?;
        let mut tx = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build());
        for h in history {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(h))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(build_error)?;
            tx = tx.transact_items(TransactWriteItem::builder().put(put).build());
        }
        match tx.send().await {
            Ok(_) => {}
            Err(e) => {
                // Only a failed condition or a concurrent transaction is a conflict; a
                // throttled or refused transaction is a storage error of its kind.
                if !matches!(
                    cancellation(&e),
                    Some(Cancelled::Condition | Cancelled::Conflict)
                ) {
                    return Err(transaction_error(e).into());
                }
                // Someone else changed it between our read and write.
                let now_item = self.profile(lead_id).await?;
                let current = now_item
                    .as_ref()
                    .and_then(lead_from_item)
                    .map_or(0, |l| l.version);
                return Err(LeadsError::VersionConflict {
                    expected: patch.expected_version,
                    current,
                });
            }
        }
        let item = self
            .profile(lead_id)
            .await?
            .ok_or_else(|| LeadsError::NotFound(lead_id.to_string()))?;
        lead_from_item(&item).ok_or_else(|| LeadsError::NotFound(lead_id.to_string()))
    }

    /// Whether `access` may see the person `id` names: any profile of any of their ids is
    /// filed under one of its WABAs. Reads nothing for a caller who sees every WABA.
    pub async fn visible(&self, id: &str, access: &Access) -> Result<bool, LeadsError> {
        if *access == Access::All {
            return Ok(true);
        }
        let person = self.identity.person(id).await?;
        for id in &person.ids {
            if let Some(profile) = self.profile(id).await? {
                let mut wabas: Vec<String> = profile
                    .get(LEAD_WABAS)
                    .and_then(|v| v.as_ss().ok())
                    .cloned()
                    .unwrap_or_default();
                wabas.extend(text(&profile, "waba_id"));
                if access.allows_any(wabas.iter().map(String::as_str)) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// The WABA a business number belongs to, as its messages said (`PHONE#<id>` / `WABA`,
    /// written by the aggregator), or `None` for a number no message has named yet.
    pub async fn phone_waba(&self, phone_number_id: &str) -> Result<Option<String>, LeadsError> {
        Ok(self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(phone_pk(phone_number_id)))
            .key("sk", s(PHONE_WABA_SK))
            .send()
            .await
            .map_err(store_error)?
            .item
            .and_then(|i| text(&i, "waba_id")))
    }

    /// One lead's profile, or `None`.
    pub async fn lead(&self, lead_id: &str) -> Result<Option<LeadView>, LeadsError> {
        Ok(self
            .profile(lead_id)
            .await?
            .as_ref()
            .and_then(lead_from_item))
    }
}

fn conversion_from_item(item: &Attrs) -> Conversion {
    Conversion {
        conversion_id: text(item, "conversion_id").unwrap_or_default(),
        kind: text(item, "conversion_type").unwrap_or_default(),
        value: item
            .get("conversion_value")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok()),
        currency: text(item, "currency"),
        at: time(item, "at").unwrap_or_default(),
        idempotency_key: text(item, "idempotency_key").unwrap_or_default(),
        recorded_at: time(item, "recorded_at").unwrap_or_default(),
        forwarded: text(item, "forwarded").unwrap_or_else(|| "not_configured".into()),
        forward_error: text(item, "forward_error"),
    }
}
