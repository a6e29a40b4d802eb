//! `MemoryIdentityStore`: the [`IdentityStore`] port in memory, for handler tests of the
//! aggregator. Same contract as `DynamoDbIdentityStore` for who is who: links are closed
//! (every id of a person names all of them), a link already known writes nothing, merges
//! are idempotent (a profile folded once is folded again only with `refold`). Not modelled:
//! the lead profiles themselves (a merge counts the ids it would fold; the lead store in
//! memory keeps each id's lead apart). Failures on demand ([`MemoryIdentityStore::fail`]).

use crate::domain::identity::{IdentityMap, Person};
use crate::ports::{IdentityStore, StoreError};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Default)]
struct State {
    /// Disjoint sets of ids, one per person known by more than one id.
    people: Vec<BTreeSet<String>>,
    /// Ids whose profile was folded into their person's lead.
    merged: BTreeSet<String>,
    /// Calls still to fail.
    failures: usize,
}

#[derive(Debug, Clone, Default)]
pub struct MemoryIdentityStore {
    state: Arc<Mutex<State>>,
}

impl MemoryIdentityStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next `times` calls fail with [`StoreError::Unavailable`].
    pub fn fail(&self, times: usize) {
        self.lock().failures += times;
    }

    fn open(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        let mut state = self.lock();
        if state.failures > 0 {
            state.failures -= 1;
            return Err(StoreError::Unavailable(
                "memory: unavailable on demand".into(),
            ));
        }
        Ok(state)
    }

    /// Ids whose profiles were folded into their person's lead.
    pub fn merged(&self) -> BTreeSet<String> {
        self.lock().merged.clone()
    }
}

impl State {
    fn person(&self, id: &str) -> Person {
        self.people
            .iter()
            .find(|p| p.contains(id))
            .map_or_else(|| Person::single(id), |ids| Person { ids: ids.clone() })
    }
}

impl IdentityStore for MemoryIdentityStore {
    async fn link(&self, ids: &BTreeSet<String>) -> Result<(Person, bool), StoreError> {
        let mut state = self.open()?;
        if ids.len() < 2 {
            let id = ids.iter().next().map(String::as_str).unwrap_or_default();
            return Ok((state.person(id), false));
        }
        if let Some(known) = state.people.iter().find(|p| ids.is_subset(p)) {
            return Ok((Person { ids: known.clone() }, false));
        }
        let mut all = ids.clone();
        state.people.retain(|p| {
            if p.is_disjoint(ids) {
                true
            } else {
                all.extend(p.iter().cloned());
                false
            }
        });
        state.people.push(all.clone());
        Ok((Person { ids: all }, true))
    }

    async fn person(&self, id: &str) -> Result<Person, StoreError> {
        Ok(self.open()?.person(id))
    }

    async fn merge(&self, person: &Person, refold: bool) -> Result<usize, StoreError> {
        let mut state = self.open()?;
        let mut folded = 0;
        for other in person.others() {
            if state.merged.insert(other.to_string()) || refold {
                folded += 1;
            }
        }
        Ok(folded)
    }

    async fn identity_map(&self, ids: &[String]) -> Result<IdentityMap, StoreError> {
        let state = self.open()?;
        Ok(IdentityMap::from_sets(ids.iter().map(|id| {
            state.person(id).ids.into_iter().collect::<Vec<_>>()
        })))
    }
}
