//! `DynamoDbRollupStore`: the message rollups (`ROLLUP#<UTC day>` / `SLOT#<HH:MM>`, see
//! `keys::rollup_key`).
//!
//! One item per 15-minute slot holds every cell of the slot:
//! - `c#<id>`: the cell (its JSON), `<id>` = 16 hex digits of its FNV-1a hash. Every update
//!   that adds to a cell also requires `c#<id>` to be absent or equal, so two cells can never
//!   share counters: a hash collision fails the update loudly instead.
//! - `n#<id>#<k>`: the cell's k-th count (`Counts::FIELDS` order), numbers added with `ADD`.
//! - `g#<shard>`: the sequence number (padded to 40 digits) of the last record of that stream
//!   shard the slot has taken. Each update is conditioned on it, so a retried batch adds
//!   nothing twice (DESIGN invariant 5).
//!
//! One update per (batch, slot), split in chunks of [`CELLS_PER_UPDATE`] cells so each
//! expression stays under DynamoDB's 4 KB limit; each chunk moves the guard to its own last
//! record, so a crash between chunks leaves a consistent prefix.
//!
//! The rebuild's Scan also moves the consent events and conversions written before the
//! `by_time` index had event partitions from their `T#` bucket to their `E#` bucket
//! (`domain::timeindex`): it is the one maintenance action that reads the whole table.

use super::attrs::{Attrs, key, s, text};
use crate::domain::metrics::tally::{Cell, Counts, Tally};
use crate::domain::timeindex::{TIME_BUCKET_ATTR, fnv1a, misplaced_event_bucket};
use crate::keys::{rollup_key, rollup_slot_of};
use crate::ports::{RollupStore, SlotDelta, StoreError};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue as Av;
use std::collections::BTreeMap;

/// Cells per UpdateItem (each brings up to 5 `ADD`s and a condition term).
pub const CELLS_PER_UPDATE: usize = 20;

/// Concurrent UpdateItems moving events to their event partition.
const MOVE_CONCURRENCY: usize = 16;

const CELL_PREFIX: &str = "c#";
const COUNT_PREFIX: &str = "n#";
const GUARD_PREFIX: &str = "g#";

#[derive(Debug, Clone)]
pub struct DynamoDbRollupStore {
    client: Client,
    table: String,
}

fn cell_json(cell: &Cell) -> String {
    serde_json::to_string(cell).unwrap_or_default()
}

fn cell_id(json: &str) -> String {
    format!("{:016x}", fnv1a(json))
}

fn error<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e.as_service_error().and_then(|s| s.code()) {
        Some(code @ "ValidationException") => StoreError::Rejected(format!(
            "{code}: {}",
            e.as_service_error().and_then(|s| s.message()).unwrap_or("")
        )),
        _ => StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string()),
    }
}

/// A conditional update's outcome: `true` applied, `false` its condition failed.
fn applied<O, R>(
    sent: Result<O, SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError, R>>,
) -> Result<bool, StoreError>
where
    R: std::fmt::Debug,
{
    match sent {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(error(e)),
    }
}

/// Where the slot's guard for this shard stands, as far as this call knows.
enum Guard {
    /// Not read: try the batch as if the slot had taken nothing of it.
    Unknown,
    Absent,
    At(String),
}

impl DynamoDbRollupStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// One conditional update adding `records` (all above the guard as `guard` says).
    async fn update(
        &self,
        item_key: &Attrs,
        shard: &str,
        guard: &Guard,
        records: &[&(String, Vec<Tally>)],
    ) -> Result<bool, StoreError> {
        let (Some(first), Some(last)) = (records.first(), records.last()) else {
            return Ok(true);
        };
        let mut sums: BTreeMap<&Cell, Counts> = BTreeMap::new();
        for (_, tallies) in records {
            for t in tallies {
                sums.entry(&t.cell).or_default().add(&t.counts, 1);
            }
        }
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_key.clone()))
            .expression_attribute_names("#g", format!("{GUARD_PREFIX}{shard}"))
            .expression_attribute_values(":last", s(last.0.clone()));
        let mut condition = match guard {
            Guard::Unknown => {
                req = req.expression_attribute_values(":first", s(first.0.clone()));
                "(attribute_not_exists(#g) OR #g < :first)".to_string()
            }
            Guard::Absent => "attribute_not_exists(#g)".to_string(),
            Guard::At(g) => {
                req = req.expression_attribute_values(":prev", s(g.clone()));
                "#g = :prev".to_string()
            }
        };
        let mut set = vec!["#g = :last".to_string()];
        let mut add = Vec::new();
        for (i, (cell, counts)) in sums.iter().enumerate() {
            let json = cell_json(cell);
            let id = cell_id(&json);
            req = req
                .expression_attribute_names(format!("#c{i}"), format!("{CELL_PREFIX}{id}"))
                .expression_attribute_values(format!(":c{i}"), s(json));
            condition.push_str(&format!(
                " AND (attribute_not_exists(#c{i}) OR #c{i} = :c{i})"
            ));
            set.push(format!("#c{i} = :c{i}"));
            for (k, v) in counts.values().into_iter().enumerate() {
                if v != 0 {
                    req = req
                        .expression_attribute_names(
                            format!("#n{i}_{k}"),
                            format!("{COUNT_PREFIX}{id}#{k}"),
                        )
                        .expression_attribute_values(format!(":n{i}_{k}"), Av::N(v.to_string()));
                    add.push(format!("#n{i}_{k} :n{i}_{k}"));
                }
            }
        }
        let mut expr = format!("SET {}", set.join(", "));
        if !add.is_empty() {
            expr.push_str(&format!(" ADD {}", add.join(", ")));
        }
        applied(
            req.update_expression(expr)
                .condition_expression(condition)
                .send()
                .await,
        )
    }

    /// The slot's guard for `shard`, after checking that no cell of `records` collides with
    /// a stored cell of another value.
    async fn read_guard(
        &self,
        item_key: &Attrs,
        shard: &str,
        records: &[&(String, Vec<Tally>)],
    ) -> Result<Guard, StoreError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item_key.clone()))
            .consistent_read(true)
            .send()
            .await
            .map_err(error)?
            .item
            .unwrap_or_default();
        for (_, tallies) in records {
            for t in tallies {
                let json = cell_json(&t.cell);
                let stored = text(&item, &format!("{CELL_PREFIX}{}", cell_id(&json)));
                if stored.as_ref().is_some_and(|j| *j != json) {
                    return Err(StoreError::Rejected(format!(
                        "rollup cell hash collision: {json} and {}",
                        stored.unwrap_or_default()
                    )));
                }
            }
        }
        Ok(match text(&item, &format!("{GUARD_PREFIX}{shard}")) {
            Some(g) => Guard::At(g),
            None => Guard::Absent,
        })
    }
}

impl RollupStore for DynamoDbRollupStore {
    async fn apply(&self, delta: &SlotDelta) -> Result<usize, StoreError> {
        let Some((pk, sk)) = rollup_key(delta.slot) else {
            return Err(StoreError::Rejected(format!(
                "no rollup slot for time {}",
                delta.slot
            )));
        };
        let item_key = key(pk, sk);
        let mut guard = Guard::Unknown;
        let mut applied = 0;
        // Each pass either applies everything above the guard or learns where it stands.
        for _ in 0..4 {
            let pending: Vec<&(String, Vec<Tally>)> = delta
                .records
                .iter()
                .filter(|(seq, _)| match &guard {
                    Guard::At(g) => seq > g,
                    _ => true,
                })
                .collect();
            let mut rest = pending.as_slice();
            let mut conflict = false;
            while !rest.is_empty() {
                let mut cells = std::collections::BTreeSet::new();
                let mut take = 0;
                for (_, tallies) in rest {
                    let mut with = cells.clone();
                    with.extend(tallies.iter().map(|t| &t.cell));
                    if take > 0 && with.len() > CELLS_PER_UPDATE {
                        break;
                    }
                    cells = with;
                    take += 1;
                }
                let (chunk, after) = rest.split_at(take);
                if !self.update(&item_key, &delta.shard, &guard, chunk).await? {
                    guard = self.read_guard(&item_key, &delta.shard, chunk).await?;
                    conflict = true;
                    break;
                }
                applied += chunk.len();
                if let Some(last) = chunk.last() {
                    guard = Guard::At(last.0.clone());
                }
                rest = after;
            }
            if !conflict {
                return Ok(applied);
            }
        }
        Err(StoreError::Unavailable(format!(
            "rollup slot {} kept changing under shard {}",
            delta.slot, delta.shard
        )))
    }

    async fn rebuild(&self, total_segments: i32) -> Result<u64, StoreError> {
        Ok(self.rebuild_from_scan(total_segments).await?.slots)
    }

    async fn slots(&self, lo: i64, hi: i64) -> Result<Vec<Tally>, StoreError> {
        let mut out = Vec::new();
        if lo > hi {
            return Ok(out);
        }
        let (Some((first, _)), Some((last, _))) = (rollup_key(lo), rollup_key(hi)) else {
            return Ok(out);
        };
        let mut day = lo - lo.rem_euclid(86_400);
        while let Some((pk, _)) = rollup_key(day) {
            if pk > last {
                break;
            }
            if pk >= first {
                let items: Vec<Attrs> = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", s(pk.clone()))
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect()
                    .await
                    .map_err(error)?;
                for item in &items {
                    out.extend(slot_tallies(item).filter(|t| (lo..=hi).contains(&t.at)));
                }
            }
            day += 86_400;
        }
        Ok(out)
    }
}

/// The non-zero cells of one slot item.
fn slot_tallies(item: &Attrs) -> impl Iterator<Item = Tally> + '_ {
    let slot = text(item, "pk")
        .zip(text(item, "sk"))
        .and_then(|(pk, sk)| rollup_slot_of(&pk, &sk));
    let mut counts: BTreeMap<&str, [i64; 5]> = BTreeMap::new();
    for (name, v) in item {
        let Some(rest) = name.strip_prefix(COUNT_PREFIX) else {
            continue;
        };
        let Some((id, k)) = rest.split_once('#') else {
            continue;
        };
        let (Ok(k), Some(v)) = (
            k.parse::<usize>(),
            v.as_n().ok().and_then(|n| n.parse().ok()),
        ) else {
            continue;
        };
        if let Some(c) = counts.entry(id).or_default().get_mut(k) {
            *c = v;
        }
    }
    counts.into_iter().filter_map(move |(id, values)| {
        let counts = Counts::from_values(values);
        let cell: Cell = serde_json::from_str(&text(item, &format!("{CELL_PREFIX}{id}"))?).ok()?;
        (!counts.is_zero()).then_some(Tally {
            at: slot?,
            cell,
            counts,
        })
    })
}

/// The tally of a message item as stored (a stream image): an inbound message or a
/// one-to-one outbound message that has a lead marker (`domain::activity::activity_of`); none
/// for anything else (group messages, system messages, other items).
pub fn tally_of_item(item: &Attrs) -> Option<Tally> {
    use crate::domain::activity::{Direction, activity_of};
    use crate::domain::metrics::input::InboundMsg;
    use crate::domain::metrics::tally::{inbound_tally, outbound_tally};
    let attr = |k: &str| match item.get(k)? {
        Av::S(v) | Av::N(v) => Some(v.clone()),
        _ => None,
    };
    if attr("sk").is_some_and(|sk| sk.starts_with(crate::keys::CONVERSION_PREFIX)) {
        return Some(crate::domain::metrics::tally::conversion_tally(
            attr("at")?.parse().ok()?,
        ));
    }
    let activity = activity_of(attr)?;
    match activity.direction {
        Direction::Inbound => Some(inbound_tally(&InboundMsg {
            wamid: activity.wamid,
            person: activity.user_key,
            waba_id: activity.waba_id.unwrap_or_default(),
            phone_number_id: activity.phone_number_id.unwrap_or_default(),
            at: activity.at,
        })),
        Direction::Outbound => outbound_tally(&super::reports::outbound_from_item(item)?),
    }
}

/// What [`DynamoDbRollupStore::rebuild_from_scan`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    /// Slot items written.
    pub slots: u64,
    /// Consent events and conversions moved from a `T#` to their `E#` bucket.
    pub moved_events: u64,
}

/// A consent event or conversion to move: its key, the bucket it is in, where it belongs.
struct Move {
    key: Attrs,
    from: String,
    to: String,
}

impl DynamoDbRollupStore {
    /// Recomputes every rollup slot from the source of truth (the message and conversion
    /// items, one parallel Scan of the table) and replaces each slot item with it, keeping
    /// its shard guards. For a table written before the rollups existed, or after records
    /// were lost (the stream keeps 24 hours). Exact when no stream record is pending while it
    /// runs (docs/RUNBOOK.md pauses the webhook and lets the stream drain first): a record the
    /// scan sees and the aggregator folds afterwards would count twice.
    ///
    /// The same Scan finds the consent events and conversions still in a message-marker
    /// bucket (`T#`, written before the event buckets) and moves each to its `E#` bucket
    /// (`domain::timeindex`): one UpdateItem conditioned on the old bucket being still
    /// there, so a second run, or a concurrent one, moves nothing twice. Moving changes no
    /// tally (a conversion's tally is its `at`), so the stream records it makes fold to
    /// nothing.
    pub async fn rebuild_from_scan(&self, total_segments: i32) -> Result<Rebuilt, StoreError> {
        use crate::domain::metrics::tally::fold_into_slots;
        let total_segments = total_segments.clamp(1, 64);
        let mut tallies = Vec::new();
        let mut guards: BTreeMap<i64, Attrs> = BTreeMap::new();
        let mut moves = Vec::new();
        for segment in 0..total_segments {
            let items: Vec<Attrs> = self
                .client
                .scan()
                .table_name(&self.table)
                .segment(segment)
                .total_segments(total_segments)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(error)?;
            for item in &items {
                let (Some(pk), Some(sk)) = (text(item, "pk"), text(item, "sk")) else {
                    continue;
                };
                if let (Some(from), Some(at)) = (
                    text(item, TIME_BUCKET_ATTR),
                    item.get("at")
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse().ok()),
                ) && let Some(to) = misplaced_event_bucket(&sk, &from, at)
                {
                    moves.push(Move {
                        key: key(pk.clone(), sk.clone()),
                        from,
                        to,
                    });
                }
                if let Some(slot) = rollup_slot_of(&pk, &sk) {
                    let kept: Attrs = item
                        .iter()
                        .filter(|(k, _)| k.starts_with(GUARD_PREFIX))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    guards.insert(slot, kept);
                } else if let Some(t) = tally_of_item(item) {
                    // Folded as they come: memory holds slot sums, not the scan.
                    tallies.push(t);
                    if tallies.len() >= 100_000 {
                        tallies = fold_into_slots(std::mem::take(&mut tallies));
                    }
                }
            }
        }
        let mut slots: BTreeMap<i64, Vec<Tally>> = BTreeMap::new();
        for t in fold_into_slots(tallies) {
            slots.entry(t.at).or_default().push(t);
        }
        let every: std::collections::BTreeSet<i64> =
            slots.keys().chain(guards.keys()).copied().collect();
        let mut written = 0;
        for slot in every {
            let Some((pk, sk)) = rollup_key(slot) else {
                continue;
            };
            let mut item = key(pk, sk);
            item.extend(guards.remove(&slot).unwrap_or_default());
            for t in slots.remove(&slot).unwrap_or_default() {
                let json = cell_json(&t.cell);
                let id = cell_id(&json);
                for (k, v) in t.counts.values().into_iter().enumerate() {
                    if v != 0 {
                        item.insert(format!("{COUNT_PREFIX}{id}#{k}"), Av::N(v.to_string()));
                    }
                }
                item.insert(format!("{CELL_PREFIX}{id}"), s(json));
            }
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .send()
                .await
                .map_err(error)?;
            written += 1;
        }
        let moved_events = self.move_events(moves).await?;
        tracing::info!(
            slots = written,
            moved_events,
            "rollups rebuilt; legacy events moved to their event bucket"
        );
        Ok(Rebuilt {
            slots: written,
            moved_events,
        })
    }

    /// Moves each event to its bucket if it is still in the one the Scan saw. Returns how
    /// many moved (an event moved or deleted meanwhile is left as it is).
    async fn move_events(&self, moves: Vec<Move>) -> Result<u64, StoreError> {
        use futures_util::stream::{StreamExt, TryStreamExt};
        let moved: Vec<bool> = futures_util::stream::iter(moves)
            .map(|m| async move {
                applied(
                    self.client
                        .update_item()
                        .table_name(&self.table)
                        .set_key(Some(m.key))
                        .update_expression("SET #b = :to")
                        .condition_expression("#b = :from")
                        .expression_attribute_names("#b", TIME_BUCKET_ATTR)
                        .expression_attribute_values(":from", s(m.from))
                        .expression_attribute_values(":to", s(m.to))
                        .send()
                        .await,
                )
            })
            .buffer_unordered(MOVE_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(moved.into_iter().filter(|m| *m).count() as u64)
    }
}
