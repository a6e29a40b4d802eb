//! `DynamoDbFactsStore` (the person rollups, `crate::facts`) and `DynamoDbPersonHistory`
//! (a person's every message, and whether they ever wrote, read consistently).
//!
//! Items (keys in `crate::keys`):
//! - `FACTS#<lead id>` / `CLAIM`: `claim`, the person's claim counter (`ADD 1` per claim).
//! - `FACTS#<lead id>` / `SLOT#<YYYY-MM-DDTHH:MM>`: `facts`, the JSON of the person's fact
//!   tallies in that slot; absent when none.
//! - `FACTSUM#<UTC day>#<shard>` / `<HH:MM>#<cell id>`: one fact cell's sums in one slot
//!   over the people of one shard (by the person's hash; a report adds the shards up):
//!   `cell` (its JSON) and `n0`…`n4` (`Counts::FIELDS` order; facts use `n0`), `slot` (the
//!   slot start). `<cell id>` = 16 hex digits of the cell JSON's FNV-1a hash; every update
//!   requires `cell` to be absent or equal, so a hash collision fails loudly.
//!
//! A commit is one `TransactWriteItems`: a condition check that the claim is still the
//! latest, the person's slot item (put, or deleted when no fact is left), and one `ADD` per
//! changed cell. At most [`MAX_CELLS_PER_COMMIT`] changed cells per (person, slot).

use super::attrs::{Attrs, int, key, s, text};
use super::identity::batch_get;
use crate::domain::metrics::input::{InboundMsg, OutboundMsg};
use crate::domain::metrics::tally::{Cell, Counts, Tally};
use crate::domain::timeindex::fnv1a;
use crate::keys::{
    ACTIVITY_SK, FACT_SUM_PREFIX, FACTS_CLAIM_SK, FACTS_PREFIX, INBOUND_MARKER, OUTBOUND_MARKER,
    fact_sum_key, fact_sum_partitions, fact_sum_slot_of, facts_pk, facts_slot_of, facts_slot_sk,
    message_pk, user_pk,
};
use crate::ports::StoreError;
use crate::ports::facts::{FactsCommit, PersonFactsStore, PersonHistory};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue as Av, ConditionCheck, Delete, Put, ReturnValue, TransactWriteItem, Update,
};
use std::collections::{BTreeMap, HashMap};

/// A transaction holds at most 100 actions: the claim check, the person's item, the cells.
pub const MAX_CELLS_PER_COMMIT: usize = 98;

fn error<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    super::attrs::store_error(e)
}

fn build(e: aws_smithy_types::error::operation::BuildError) -> StoreError {
    super::attrs::build_error(e)
}

fn cell_json(cell: &Cell) -> String {
    serde_json::to_string(cell).unwrap_or_default()
}

#[derive(Debug, Clone)]
pub struct DynamoDbFactsStore {
    client: Client,
    table: String,
}

impl DynamoDbFactsStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn query_all(&self, pk: String, consistent: bool) -> Result<Vec<Attrs>, StoreError> {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(pk))
            .consistent_read(consistent)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(error)
    }
}

/// The per-cell changes of a commit: `new − old`, zero sums left out.
fn changes(c: &FactsCommit) -> BTreeMap<&Cell, Counts> {
    let mut sums: BTreeMap<&Cell, Counts> = BTreeMap::new();
    for (t, sign) in c
        .old
        .iter()
        .map(|t| (t, -1))
        .chain(c.new.iter().map(|t| (t, 1)))
    {
        sums.entry(&t.cell).or_default().add(&t.counts, sign);
    }
    sums.retain(|_, v| !v.is_zero());
    sums
}

impl PersonFactsStore for DynamoDbFactsStore {
    async fn claim(&self, person: &str) -> Result<u64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(facts_pk(person), FACTS_CLAIM_SK)))
            .update_expression("ADD claim :one")
            .expression_attribute_values(":one", Av::N("1".into()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(error)?;
        out.attributes
            .as_ref()
            .and_then(|a| int(a, "claim"))
            .and_then(|c| u64::try_from(c).ok())
            .ok_or_else(|| StoreError::Unavailable("claim counter not returned".into()))
    }

    async fn stored(&self, person: &str) -> Result<BTreeMap<i64, Vec<Tally>>, StoreError> {
        let mut out = BTreeMap::new();
        for item in self.query_all(facts_pk(person), true).await? {
            let Some(slot) = text(&item, "sk").and_then(|sk| facts_slot_of(&sk)) else {
                continue;
            };
            let facts: Vec<Tally> = text(&item, "facts")
                .and_then(|j| serde_json::from_str(&j).ok())
                .ok_or_else(|| {
                    StoreError::Rejected(format!("unreadable facts of {person} at slot {slot}"))
                })?;
            out.insert(slot, facts);
        }
        Ok(out)
    }

    async fn commit(&self, c: &FactsCommit) -> Result<bool, StoreError> {
        let cells = changes(c);
        if cells.len() > MAX_CELLS_PER_COMMIT {
            return Err(StoreError::Rejected(format!(
                "{} fact cells changed in one slot of one person (at most {MAX_CELLS_PER_COMMIT})",
                cells.len()
            )));
        }
        let Some(sk) = facts_slot_sk(c.slot) else {
            return Err(StoreError::Rejected(format!("no slot for time {}", c.slot)));
        };
        let table = self.table.as_str();
        let check = ConditionCheck::builder()
            .table_name(table)
            .set_key(Some(key(facts_pk(&c.person), FACTS_CLAIM_SK)))
            .condition_expression("claim = :claim")
            .expression_attribute_values(":claim", Av::N(c.claim.to_string()))
            .build()
            .map_err(build)?;
        let mut actions = vec![TransactWriteItem::builder().condition_check(check).build()];
        let person_item = if c.new.is_empty() {
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(table)
                        .set_key(Some(key(facts_pk(&c.person), sk)))
                        .build()
                        .map_err(build)?,
                )
                .build()
        } else {
            let json = serde_json::to_string(&c.new)
                .map_err(|e| StoreError::Rejected(format!("facts not serialized: {e}")))?;
            let mut item = key(facts_pk(&c.person), sk);
            item.insert("facts".into(), s(json));
            item.insert("slot".into(), Av::N(c.slot.to_string()));
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(item))
                        .build()
                        .map_err(build)?,
                )
                .build()
        };
        actions.push(person_item);
        for (cell, counts) in &cells {
            let json = cell_json(cell);
            let id = format!("{:016x}", fnv1a(&json));
            let Some((pk, sk)) = fact_sum_key(c.slot, fnv1a(&c.person), &id) else {
                return Err(StoreError::Rejected(format!("no slot for time {}", c.slot)));
            };
            let mut update = Update::builder()
                .table_name(table)
                .set_key(Some(key(pk, sk)))
                .condition_expression("attribute_not_exists(#cell) OR #cell = :cell")
                .expression_attribute_names("#cell", "cell")
                .expression_attribute_values(":cell", s(json))
                .expression_attribute_values(":slot", Av::N(c.slot.to_string()));
            let mut add = Vec::new();
            for (k, v) in counts.values().into_iter().enumerate() {
                if v != 0 {
                    update = update
                        .expression_attribute_names(format!("#n{k}"), format!("n{k}"))
                        .expression_attribute_values(format!(":n{k}"), Av::N(v.to_string()));
                    add.push(format!("#n{k} :n{k}"));
                }
            }
            let update = update
                .update_expression(format!(
                    "SET #cell = :cell, slot = :slot ADD {}",
                    add.join(", ")
                ))
                .build()
                .map_err(build)?;
            actions.push(TransactWriteItem::builder().update(update).build());
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                if let Some(TransactWriteItemsError::TransactionCanceledException(t)) =
                    e.as_service_error()
                {
                    let codes: Vec<&str> = t
                        .cancellation_reasons()
                        .iter()
                        .map(|r| r.code().unwrap_or("None"))
                        .collect();
                    if codes.first() == Some(&"ConditionalCheckFailed") {
                        return Ok(false);
                    }
                    if codes.iter().skip(2).any(|c| *c == "ConditionalCheckFailed") {
                        return Err(StoreError::Rejected(format!(
                            "fact cell hash collision in slot {} ({codes:?})",
                            c.slot
                        )));
                    }
                }
                Err(super::attrs::transaction_error(e))
            }
        }
    }

    async fn slots(&self, lo: i64, hi: i64) -> Result<Vec<Tally>, StoreError> {
        let mut sums: BTreeMap<(i64, Cell), Counts> = BTreeMap::new();
        if lo > hi {
            return Ok(Vec::new());
        }
        let mut day = lo - lo.rem_euclid(86_400);
        while day <= hi {
            for pk in fact_sum_partitions(day) {
                for item in self.query_all(pk, false).await? {
                    let (Some(pk), Some(sk)) = (text(&item, "pk"), text(&item, "sk")) else {
                        continue;
                    };
                    let Some(slot) = fact_sum_slot_of(&pk, &sk).filter(|t| (lo..=hi).contains(t))
                    else {
                        continue;
                    };
                    let Some(cell) =
                        text(&item, "cell").and_then(|j| serde_json::from_str::<Cell>(&j).ok())
                    else {
                        continue;
                    };
                    let mut v = [0i64; 5];
                    for (k, slot_v) in v.iter_mut().enumerate() {
                        *slot_v = int(&item, &format!("n{k}")).unwrap_or(0);
                    }
                    sums.entry((slot, cell))
                        .or_default()
                        .add(&Counts::from_values(v), 1);
                }
            }
            day += 86_400;
        }
        Ok(sums
            .into_iter()
            .filter(|(_, c)| !c.is_zero())
            .map(|((at, cell), counts)| Tally { at, cell, counts })
            .collect())
    }

    async fn clear(&self) -> Result<u64, StoreError> {
        let items: Vec<Attrs> = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(pk, :a) OR begins_with(pk, :b)")
            .expression_attribute_values(":a", s(FACTS_PREFIX))
            .expression_attribute_values(":b", s(FACT_SUM_PREFIX))
            .projection_expression("pk, sk")
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(error)?;
        let mut deleted = 0;
        for item in &items {
            let (Some(pk), Some(sk)) = (text(item, "pk"), text(item, "sk")) else {
                continue;
            };
            // The claim counters stay: a claim number must never go back.
            if sk == FACTS_CLAIM_SK {
                continue;
            }
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key(pk, sk)))
                .send()
                .await
                .map_err(error)?;
            deleted += 1;
        }
        Ok(deleted)
    }
}

/// A person's messages from their lead markers (`USER#<id>` / `IN#…`, `OUT#…`) and the
/// outbound message items, all read consistently.
#[derive(Debug, Clone)]
pub struct DynamoDbPersonHistory {
    client: Client,
    table: String,
}

impl DynamoDbPersonHistory {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn markers(&self, id: &str, prefix: &str) -> Result<Vec<Attrs>, StoreError> {
        self.client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
            .expression_attribute_values(":pk", s(user_pk(id)))
            .expression_attribute_values(":p", s(prefix))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(error)
    }
}

impl PersonHistory for DynamoDbPersonHistory {
    async fn history(
        &self,
        lead: &str,
        ids: &[String],
    ) -> Result<(Vec<InboundMsg>, Vec<OutboundMsg>), StoreError> {
        let mut inbound: HashMap<String, InboundMsg> = HashMap::new();
        let mut wamids = std::collections::BTreeSet::new();
        for id in ids {
            for item in self.markers(id, INBOUND_MARKER).await? {
                if let Some(mut m) = super::reports::inbound_from_marker(&item) {
                    m.person = lead.to_string();
                    inbound.insert(m.wamid.clone(), m);
                }
            }
            for item in self.markers(id, OUTBOUND_MARKER).await? {
                if let Some(w) = text(&item, "sk")
                    .and_then(|sk| sk.strip_prefix(OUTBOUND_MARKER).map(str::to_string))
                {
                    wamids.insert(w);
                }
            }
        }
        let keys = wamids.iter().map(|w| key(message_pk(w), "OUT")).collect();
        let mut outbound: Vec<OutboundMsg> = batch_get(&self.client, &self.table, keys, true)
            .await?
            .iter()
            .filter_map(super::reports::outbound_from_item)
            .collect();
        for m in &mut outbound {
            m.person = Some(lead.to_string());
        }
        outbound.sort_by(|a, b| a.wamid.cmp(&b.wamid));
        let mut inbound: Vec<InboundMsg> = inbound.into_values().collect();
        inbound.sort_by(|a, b| a.wamid.cmp(&b.wamid));
        Ok((inbound, outbound))
    }

    async fn has_inbound(&self, ids: &[String]) -> Result<bool, StoreError> {
        let keys = ids.iter().map(|id| key(user_pk(id), ACTIVITY_SK)).collect();
        Ok(batch_get(&self.client, &self.table, keys, true)
            .await?
            .iter()
            .any(|item| int(item, "inbound_count").is_some_and(|n| n > 0)))
    }
}
