//! `MemoryFactsStore` and `MemoryHistory`: the person-rollup ports in memory, for fast tests
//! of the recompute protocol (`crate::facts`) and the aggregator. Same contract as the
//! DynamoDB adapter: claims only rise, a commit under an old claim changes nothing, a commit
//! stores the slot's facts and moves the sums at once. Clones share one store.

use crate::domain::metrics::input::{InboundMsg, OutboundMsg};
use crate::domain::metrics::tally::{Cell, Counts, Tally};
use crate::ports::StoreError;
use crate::ports::facts::{FactsCommit, PersonFactsStore, PersonHistory};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Default)]
struct State {
    claims: HashMap<String, u64>,
    stored: HashMap<String, BTreeMap<i64, Vec<Tally>>>,
    sums: BTreeMap<(i64, Cell), Counts>,
    /// Commits to refuse (as `Unavailable`) before the next one succeeds.
    failures: usize,
}

#[derive(Debug, Clone, Default)]
pub struct MemoryFactsStore {
    state: Arc<Mutex<State>>,
}

impl MemoryFactsStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next `n` commits fail as `Unavailable` (nothing is written).
    pub fn fail_next(&self, n: usize) {
        self.lock().failures = n;
    }

    /// Every person's stored facts, summed per (slot, cell): what the sums must equal.
    pub fn stored_sums(&self) -> Vec<Tally> {
        let state = self.lock();
        let mut sums: BTreeMap<(i64, Cell), Counts> = BTreeMap::new();
        for slots in state.stored.values() {
            for t in slots.values().flatten() {
                sums.entry((t.at, t.cell.clone()))
                    .or_default()
                    .add(&t.counts, 1);
            }
        }
        sums.into_iter()
            .filter(|(_, c)| !c.is_zero())
            .map(|((at, cell), counts)| Tally { at, cell, counts })
            .collect()
    }
}

impl PersonFactsStore for MemoryFactsStore {
    async fn claim(&self, person: &str) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let c = state.claims.entry(person.to_string()).or_default();
        *c += 1;
        Ok(*c)
    }

    async fn stored(&self, person: &str) -> Result<BTreeMap<i64, Vec<Tally>>, StoreError> {
        Ok(self.lock().stored.get(person).cloned().unwrap_or_default())
    }

    async fn commit(&self, c: &FactsCommit) -> Result<bool, StoreError> {
        let mut state = self.lock();
        if state.failures > 0 {
            state.failures -= 1;
            return Err(StoreError::Unavailable("facts: failure on demand".into()));
        }
        if state.claims.get(&c.person).copied() != Some(c.claim) {
            return Ok(false);
        }
        for (t, sign) in c
            .old
            .iter()
            .map(|t| (t, -1))
            .chain(c.new.iter().map(|t| (t, 1)))
        {
            state
                .sums
                .entry((c.slot, t.cell.clone()))
                .or_default()
                .add(&t.counts, sign);
        }
        let slots = state.stored.entry(c.person.clone()).or_default();
        if c.new.is_empty() {
            slots.remove(&c.slot);
        } else {
            slots.insert(c.slot, c.new.clone());
        }
        Ok(true)
    }

    async fn slots(&self, lo: i64, hi: i64) -> Result<Vec<Tally>, StoreError> {
        let state = self.lock();
        Ok(state
            .sums
            .iter()
            .filter(|((at, _), c)| (lo..=hi).contains(at) && !c.is_zero())
            .map(|((at, cell), counts)| Tally {
                at: *at,
                cell: cell.clone(),
                counts: *counts,
            })
            .collect())
    }

    async fn clear(&self) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let n =
            state.stored.values().map(|s| s.len() as u64).sum::<u64>() + state.sums.len() as u64;
        state.stored.clear();
        state.sums.clear();
        Ok(n)
    }
}

/// Messages by the id they are filed under (a test sets them as its stream would).
#[derive(Debug, Clone, Default)]
pub struct MemoryHistory {
    messages: Arc<Mutex<(Vec<InboundMsg>, Vec<OutboundMsg>)>>,
}

impl MemoryHistory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores an inbound message (filed under its `person`).
    pub fn inbound(&self, m: InboundMsg) {
        let mut g = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        g.0.retain(|x| x.wamid != m.wamid);
        g.0.push(m);
    }

    /// Stores an outbound message's current state (filed under its `person`), replacing the
    /// earlier one.
    pub fn outbound(&self, m: OutboundMsg) {
        let mut g = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        g.1.retain(|x| x.wamid != m.wamid);
        g.1.push(m);
    }
}

impl PersonHistory for MemoryHistory {
    async fn history(
        &self,
        lead: &str,
        ids: &[String],
    ) -> Result<(Vec<InboundMsg>, Vec<OutboundMsg>), StoreError> {
        let g = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        let mine = |p: &str| ids.iter().any(|i| i == p);
        let inbound =
            g.0.iter()
                .filter(|m| mine(&m.person))
                .map(|m| InboundMsg {
                    person: lead.to_string(),
                    ..m.clone()
                })
                .collect();
        let outbound =
            g.1.iter()
                .filter(|m| m.person.as_deref().is_some_and(mine))
                .map(|m| OutboundMsg {
                    person: Some(lead.to_string()),
                    ..m.clone()
                })
                .collect();
        Ok((inbound, outbound))
    }

    async fn has_inbound(&self, ids: &[String]) -> Result<bool, StoreError> {
        let g = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        Ok(g.0.iter().any(|m| ids.contains(&m.person)))
    }
}
