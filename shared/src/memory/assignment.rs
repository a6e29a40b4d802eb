//! [`MemoryAssignmentStore`]: the owner assignment's [`AssignmentStore`] port in memory.

use crate::ports::{AssignmentStore, Committed, OwnerAssignment, StoreError};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A lead's owner as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOwner {
    pub owner: String,
    /// `rule:<name>`, `round_robin`, or `manager` for one given with
    /// [`MemoryAssignmentStore::set_owner`].
    pub reason: String,
    pub at: i64,
}

#[derive(Debug, Default)]
struct State {
    owners: BTreeMap<String, StoredOwner>,
    /// The assignment history entries, one per lead (`HIST#…` written once).
    history: BTreeMap<String, StoredOwner>,
    next_ticket: u64,
    unavailable: bool,
    contended: usize,
}

/// The assignment store in memory, with the DynamoDB one's conditions: a commit lands only
/// while the lead has no owner and no assignment history, and (round robin) the counter
/// still holds its ticket; then owner, history and the counter's move land together.
///
/// Clones share one store. Not modelled: the lead's existence (every lead id is taken as an
/// existing lead: the service only assigns leads the event store just reported).
#[derive(Debug, Clone, Default)]
pub struct MemoryAssignmentStore {
    state: Arc<Mutex<State>>,
}

impl MemoryAssignmentStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An owner given outside the assignment (a manager through the API, an import).
    pub fn set_owner(&self, lead_id: &str, owner: &str) {
        self.state().owners.insert(
            lead_id.to_string(),
            StoredOwner {
                owner: owner.to_string(),
                reason: "manager".to_string(),
                at: 0,
            },
        );
    }

    /// Every lead's owner.
    pub fn owners(&self) -> BTreeMap<String, StoredOwner> {
        self.state().owners.clone()
    }

    /// The assignment history entries, by lead.
    pub fn history(&self) -> BTreeMap<String, StoredOwner> {
        self.state().history.clone()
    }

    /// The round-robin counter: the next ticket to spend.
    pub fn next_ticket(&self) -> u64 {
        self.state().next_ticket
    }

    /// While `true`, every call fails with [`StoreError::Unavailable`] and writes nothing.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.state().unavailable = unavailable;
    }

    /// The next `n` commits conflict with a concurrent transaction
    /// ([`Committed::Contended`]) and write nothing.
    pub fn contend(&self, n: usize) {
        self.state().contended = n;
    }
}

impl AssignmentStore for MemoryAssignmentStore {
    async fn round_robin_ticket(&self) -> Result<u64, StoreError> {
        let state = self.state();
        if state.unavailable {
            return Err(StoreError::Unavailable(
                "the in-memory assignment store is set unavailable".into(),
            ));
        }
        Ok(state.next_ticket)
    }

    async fn commit(&self, a: &OwnerAssignment<'_>) -> Result<Committed, StoreError> {
        let mut state = self.state();
        if state.unavailable {
            return Err(StoreError::Unavailable(
                "the in-memory assignment store is set unavailable".into(),
            ));
        }
        if state.contended > 0 {
            state.contended -= 1;
            return Ok(Committed::Contended);
        }
        // The owner's and the history's conditions are reported before the counter's.
        if state.owners.contains_key(a.lead_id) || state.history.contains_key(a.lead_id) {
            return Ok(Committed::AlreadyOwned);
        }
        if a.ticket.is_some_and(|t| t != state.next_ticket) {
            return Ok(Committed::Contended);
        }
        let stored = StoredOwner {
            owner: a.owner.to_string(),
            reason: a.reason.to_string(),
            at: a.at,
        };
        state.owners.insert(a.lead_id.to_string(), stored.clone());
        state.history.insert(a.lead_id.to_string(), stored);
        if let Some(t) = a.ticket {
            state.next_ticket = t + 1;
        }
        Ok(Committed::Assigned)
    }
}
