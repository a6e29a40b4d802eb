//! `DynamoDbIdentityStore`: which ids name one person (`domain::identity`).
//!
//! Each id a person is known by has a person item `USER#<id>` / `PERSON` whose `ids` (SS)
//! is every id linked to it. Links only grow, by `ADD ids :set` (a set union), so writes
//! commute and a retried or reordered link converges. Linking writes the new pair first and
//! reads the closure after, then adds the closure to every member: of two concurrent links
//! sharing an id, the one that reads second sees both, so every member ends with the whole
//! person. Written by the aggregator and the link command, never on the webhook's path.
//!
//! Merging folds the lead items (`PROFILE`) of a person's other ids into the lead id's with
//! conditional writes whose outcome does not depend on their order (earliest `created_at` and
//! first touch, latest activity, the most recently edited stage/owner/tags/fields, the first
//! automatic owner), then marks the others `merged_into` the lead id; listings skip those.

use crate::domain::identity::{IdentityMap, MAX_IDS, Person};
use crate::ports::{IdentityStore, StoreError};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue as Av, KeysAndAttributes};
use futures_util::{StreamExt, TryStreamExt, stream};
use std::collections::{BTreeSet, HashMap};

use super::attrs::{Attrs, LEAD_WABAS, build_error, s, store_error, user_item as key};
use crate::keys::{PROFILE_SK, lead_list};

/// The person item's sort key.
pub use crate::keys::PERSON_SK;
/// Concurrent BatchGets when mapping many ids.
const READ_CONCURRENCY: usize = 4;

#[derive(Debug, Clone)]
pub struct DynamoDbIdentityStore {
    client: Client,
    table: String,
}

fn ids_of(item: &Attrs) -> BTreeSet<String> {
    item.get("ids")
        .and_then(|v| v.as_ss().ok())
        .map(|v| v.iter().cloned().collect())
        .unwrap_or_default()
}

/// Items by key, 100 per BatchGetItem, unprocessed keys retried with backoff.
pub(super) async fn batch_get(
    client: &Client,
    table: &str,
    keys: Vec<Attrs>,
    consistent: bool,
) -> Result<Vec<Attrs>, StoreError> {
    let chunks: Vec<Vec<Attrs>> = keys.chunks(100).map(<[Attrs]>::to_vec).collect();
    let out: Vec<Vec<Attrs>> = stream::iter(chunks)
        .map(|mut keys| async move {
            let mut found = Vec::with_capacity(keys.len());
            let mut attempt = 0u32;
            while !keys.is_empty() {
                let req = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut keys)))
                    .consistent_read(consistent)
                    .build()
                    .map_err(build_error)?;
                let resp = client
                    .batch_get_item()
                    .request_items(table, req)
                    .send()
                    .await
                    .map_err(store_error)?;
                if let Some(mut r) = resp.responses {
                    found.extend(r.remove(table).unwrap_or_default());
                }
                if let Some(mut u) = resp.unprocessed_keys
                    && let Some(k) = u.remove(table)
                {
                    keys = k.keys;
                }
                if !keys.is_empty() {
                    attempt += 1;
                    if attempt > 8 {
                        return Err(StoreError::Unavailable(
                            "BatchGetItem kept returning unprocessed keys".into(),
                        ));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
                }
            }
            Ok::<_, StoreError>(found)
        })
        .buffer_unordered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(out.into_iter().flatten().collect())
}

/// One conditional fold step; a failed condition means "already as good or better".
struct Step {
    expr: String,
    condition: Option<&'static str>,
    values: Attrs,
    names: HashMap<String, String>,
}

impl DynamoDbIdentityStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn get(&self, id: &str, sk: &str) -> Result<Option<Attrs>, StoreError> {
        Ok(self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(id, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?
            .item)
    }

    async fn add_ids(&self, id: &str, ids: &BTreeSet<String>) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(id, PERSON_SK)))
            .update_expression("ADD ids :ids SET item_kind = :kind, user_key = :id")
            .expression_attribute_values(":ids", Av::Ss(ids.iter().cloned().collect()))
            .expression_attribute_values(":kind", s("person"))
            .expression_attribute_values(":id", s(id))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// The closure of `start` over the person items (consistent reads), at most
    /// [`MAX_IDS`] ids, with each member's stored set.
    async fn closure(
        &self,
        start: &BTreeSet<String>,
    ) -> Result<(BTreeSet<String>, HashMap<String, BTreeSet<String>>), StoreError> {
        let mut all = start.clone();
        let mut stored: HashMap<String, BTreeSet<String>> = HashMap::new();
        let mut frontier: Vec<String> = start.iter().cloned().collect();
        while !frontier.is_empty() {
            let keys = frontier.iter().map(|id| key(id, PERSON_SK)).collect();
            let items = batch_get(&self.client, &self.table, keys, true).await?;
            let mut next = Vec::new();
            for id in &frontier {
                stored.entry(id.clone()).or_default();
            }
            for item in &items {
                let Some(owner) = item.get("user_key").and_then(|v| v.as_s().ok()) else {
                    continue;
                };
                let ids = ids_of(item);
                for id in &ids {
                    if all.len() >= MAX_IDS {
                        tracing::warn!(
                            max = MAX_IDS,
                            "a person has more linked ids than allowed; the rest are not followed"
                        );
                        break;
                    }
                    if all.insert(id.clone()) {
                        next.push(id.clone());
                    }
                }
                stored.insert(owner.clone(), ids);
            }
            frontier = next;
        }
        Ok((all, stored))
    }

    async fn step(&self, lead: &str, step: Step) -> Result<bool, StoreError> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(lead, PROFILE_SK)))
            .update_expression(step.expr)
            .set_expression_attribute_values(Some(step.values))
            .set_condition_expression(step.condition.map(str::to_string));
        if !step.names.is_empty() {
            req = req.set_expression_attribute_names(Some(step.names));
        }
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(store_error(e)),
        }
    }

    /// Folds one other profile `from` into the lead id's profile.
    async fn fold(&self, lead: &str, from: &Attrs) -> Result<(), StoreError> {
        let mut steps = Vec::new();
        // Identity and defaults: kept where the lead's profile has them.
        let mut once = Vec::new();
        let mut values: Attrs = HashMap::new();
        let mut names: HashMap<String, String> = HashMap::new();
        values.insert(":lead".into(), s(lead));
        values.insert(":list".into(), s(lead_list(lead)));
        once.push("user_key = if_not_exists(user_key, :lead)".to_string());
        once.push("lead_list = if_not_exists(lead_list, :list)".to_string());
        for a in [
            "item_kind",
            "waba_id",
            "phone_number_id",
            "phone",
            "user_id",
            "parent_user_id",
            "profile_name",
            "username",
            "origin",
            "stage",
            "tags",
            "custom_fields",
        ] {
            if let Some(v) = from.get(a) {
                names.insert(format!("#{a}"), a.to_string());
                values.insert(format!(":{a}"), v.clone());
                once.push(format!("#{a} = if_not_exists(#{a}, :{a})"));
            }
        }
        steps.push(Step {
            expr: format!("SET {}", once.join(", ")),
            condition: None,
            values,
            names,
        });
        // Each time-ordered aspect moves only towards its rule (min or max).
        let aspects: [(&str, &[&str], &'static str); 5] = [
            (
                "created_at",
                &["first_inbound_wamid"],
                "attribute_not_exists(created_at) OR created_at > :created_at",
            ),
            (
                "last_inbound_at",
                &["last_inbound_wamid"],
                "attribute_not_exists(last_inbound_at) OR last_inbound_at < :last_inbound_at",
            ),
            (
                "last_referral_at",
                &[],
                "attribute_not_exists(last_referral_at) OR last_referral_at < :last_referral_at",
            ),
            (
                "first_touch_at",
                &["first_touch"],
                "attribute_not_exists(first_touch_at) OR first_touch_at > :first_touch_at",
            ),
            (
                "edited_at",
                &[
                    "stage",
                    "owner",
                    "owner_reason",
                    "owner_at",
                    "tags",
                    "custom_fields",
                ],
                "attribute_not_exists(edited_at) OR edited_at < :edited_at",
            ),
        ];
        for (time, with, condition) in aspects {
            let Some(t) = from.get(time) else { continue };
            let mut sets = vec![format!("#{time} = :{time}")];
            let mut values = HashMap::from([(format!(":{time}"), t.clone())]);
            let mut names = HashMap::from([(format!("#{time}"), time.to_string())]);
            let mut removes = Vec::new();
            for a in with {
                names.insert(format!("#{a}"), a.to_string());
                match from.get(*a) {
                    Some(v) => {
                        sets.push(format!("#{a} = :{a}"));
                        values.insert(format!(":{a}"), v.clone());
                    }
                    // A more recent edit that cleared a field clears it here too.
                    None => removes.push(format!("#{a}")),
                }
            }
            let mut expr = format!("SET {}", sets.join(", "));
            if !removes.is_empty() {
                expr.push_str(&format!(" REMOVE {}", removes.join(", ")));
            }
            steps.push(Step {
                expr,
                condition: Some(condition),
                values,
                names,
            });
        }
        // An automatic owner: the earliest assignment, unless a manager has edited the lead.
        if let (Some(owner), Some(at), None) = (
            from.get("owner"),
            from.get("owner_at"),
            from.get("edited_at"),
        ) {
            let mut values =
                HashMap::from([(":owner".into(), owner.clone()), (":at".into(), at.clone())]);
            if let Some(r) = from.get("owner_reason") {
                values.insert(":reason".into(), r.clone());
            }
            let reason = if values.contains_key(":reason") {
                ", owner_reason = :reason"
            } else {
                ""
            };
            steps.push(Step {
                expr: format!("SET #owner = :owner, owner_at = :at{reason}"),
                condition: Some(
                    "attribute_not_exists(edited_at) AND \
                     (attribute_not_exists(#owner) OR owner_at > :at)",
                ),
                values,
                names: HashMap::from([("#owner".into(), "owner".into())]),
            });
        }
        for step in steps {
            self.step(lead, step).await?;
        }
        Ok(())
    }
}

impl IdentityStore for DynamoDbIdentityStore {
    async fn link(&self, ids: &BTreeSet<String>) -> Result<(Person, bool), StoreError> {
        if ids.len() < 2 {
            let id = ids.iter().next().map(String::as_str).unwrap_or_default();
            return Ok((self.person(id).await?, false));
        }
        // Already linked (the common case: every message of a person with two ids): one read.
        let first = ids.iter().next().map(String::as_str).unwrap_or_default();
        // A link writes the whole closure to every member, so that item is the person.
        if let Some(item) = self.get(first, PERSON_SK).await?
            && ids.is_subset(&ids_of(&item))
        {
            return Ok((Person { ids: ids_of(&item) }, false));
        }
        // The first id's item is written last, so the check above never takes a link that
        // died half-written (its batch is retried) for a finished one.
        for id in ids.iter().filter(|id| id.as_str() != first) {
            self.add_ids(id, ids).await?;
        }
        let (all, stored) = self.closure(ids).await?;
        for id in all.iter().filter(|id| id.as_str() != first) {
            if stored.get(id) != Some(&all) {
                self.add_ids(id, &all).await?;
            }
        }
        self.add_ids(first, &all).await?;
        Ok((Person { ids: all }, true))
    }

    async fn person(&self, id: &str) -> Result<Person, StoreError> {
        let (all, _) = self.closure(&BTreeSet::from([id.to_string()])).await?;
        Ok(Person { ids: all })
    }

    async fn merge(&self, person: &Person, refold: bool) -> Result<usize, StoreError> {
        let lead = person.lead_id().to_string();
        let mut folded = 0;
        for other in person.others() {
            let Some(profile) = self.get(other, PROFILE_SK).await? else {
                continue;
            };
            let merged = profile.get("merged_into").and_then(|v| v.as_s().ok()) == Some(&lead);
            // The WABAs a person wrote to (who may see the lead) only grow, and reach any of
            // their ids: every merge carries them over, a set union, idempotent.
            if let Some(wabas) = profile.get(LEAD_WABAS).filter(|v| v.as_ss().is_ok()) {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key(&lead, PROFILE_SK)))
                    .update_expression("ADD #w :w")
                    .expression_attribute_names("#w", LEAD_WABAS)
                    .expression_attribute_values(":w", wabas.clone())
                    .send()
                    .await
                    .map_err(store_error)?;
            }
            if merged && !refold {
                continue;
            }
            self.fold(&lead, &profile).await?;
            if !merged {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key(other, PROFILE_SK)))
                    .update_expression("SET merged_into = :lead")
                    .condition_expression("attribute_exists(pk)")
                    .expression_attribute_values(":lead", s(lead.as_str()))
                    .send()
                    .await
                    .map_err(store_error)?;
            }
            folded += 1;
        }
        Ok(folded)
    }

    async fn identity_map(&self, ids: &[String]) -> Result<IdentityMap, StoreError> {
        let unique: BTreeSet<&String> = ids.iter().collect();
        let keys = unique.into_iter().map(|id| key(id, PERSON_SK)).collect();
        let items = batch_get(&self.client, &self.table, keys, false).await?;
        Ok(IdentityMap::from_sets(
            items
                .iter()
                .map(|i| ids_of(i).into_iter().collect::<Vec<_>>()),
        ))
    }
}
