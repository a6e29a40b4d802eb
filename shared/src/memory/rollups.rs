//! `MemoryRollupStore`: the [`RollupStore`] port in memory, for fast tests of the aggregator's
//! rollup step. Same contract as `DynamoDbRollupStore` (per-shard guards, a slot takes a
//! record once), plus failures on demand ([`MemoryRollupStore::fail_next`]). Clones share one
//! store.

use crate::domain::metrics::tally::{Cell, Counts, Tally};
use crate::ports::{RollupStore, SlotDelta, StoreError};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Default)]
struct Slot {
    guards: HashMap<String, String>,
    cells: BTreeMap<Cell, Counts>,
}

#[derive(Debug, Default)]
struct State {
    slots: BTreeMap<i64, Slot>,
    /// Applies to refuse before the next one succeeds.
    failures: usize,
}

#[derive(Debug, Clone, Default)]
pub struct MemoryRollupStore {
    state: Arc<Mutex<State>>,
}

impl MemoryRollupStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next `n` applies fail as `Unavailable` (nothing is added).
    pub fn fail_next(&self, n: usize) {
        self.lock().failures = n;
    }
}

impl RollupStore for MemoryRollupStore {
    async fn apply(&self, delta: &SlotDelta) -> Result<usize, StoreError> {
        let mut state = self.lock();
        if state.failures > 0 {
            state.failures -= 1;
            return Err(StoreError::Unavailable("rollups: failure on demand".into()));
        }
        let slot = state.slots.entry(delta.slot).or_default();
        let guard = slot.guards.get(&delta.shard).cloned();
        let mut applied = 0;
        for (seq, tallies) in &delta.records {
            if guard.as_ref().is_some_and(|g| seq <= g) {
                continue;
            }
            for t in tallies {
                slot.cells
                    .entry(t.cell.clone())
                    .or_default()
                    .add(&t.counts, 1);
            }
            slot.guards.insert(delta.shard.clone(), seq.clone());
            applied += 1;
        }
        Ok(applied)
    }

    /// Not modelled: the in-memory store has no message items to rebuild from.
    async fn rebuild(&self, _total_segments: i32) -> Result<u64, StoreError> {
        Err(StoreError::Unavailable(
            "the in-memory rollups have no message items to rebuild from".into(),
        ))
    }

    async fn slots(&self, lo: i64, hi: i64) -> Result<Vec<Tally>, StoreError> {
        let state = self.lock();
        Ok(state
            .slots
            .range(lo..=hi.max(lo))
            .filter(|_| lo <= hi)
            .flat_map(|(at, slot)| {
                slot.cells
                    .iter()
                    .filter(|(_, c)| !c.is_zero())
                    .map(|(cell, counts)| Tally {
                        at: *at,
                        cell: cell.clone(),
                        counts: *counts,
                    })
            })
            .collect())
    }
}
