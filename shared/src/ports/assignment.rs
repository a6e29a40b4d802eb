//! The owner assignment's I/O (the service step is `crate::assignment`): the round-robin
//! counter's ticket, and one lead's assignment committed all or nothing.

use super::StoreError;
use std::future::Future;

/// One lead's owner as decided, to commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerAssignment<'a> {
    pub lead_id: &'a str,
    pub owner: &'a str,
    /// Why: `rule:<name>` or `round_robin` (the lead's `owner_reason`, the history's `reason`).
    pub reason: &'a str,
    /// Epoch seconds: the lead's first message's time (Meta's clock), so the history sorts
    /// with the lead's other events whatever the delivery delay.
    pub at: i64,
    /// The round-robin ticket this assignment spends (the counter moves from it to the next
    /// one); `None` for a rule's owner.
    pub ticket: Option<u64>,
}

/// What committing an assignment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    /// The owner, its history item and (round robin) the counter's move are stored.
    Assigned,
    /// Nothing written: the lead has an owner already (another delivery of its message, a
    /// manager, an import), its assignment history exists, or it does not exist. Done.
    AlreadyOwned,
    /// Nothing written: the ticket was taken by another lead meanwhile, or a concurrent
    /// transaction conflicted. Take a fresh ticket and try again.
    Contended,
}

/// Where owners of new leads are recorded.
pub trait AssignmentStore: Send + Sync {
    /// The round-robin counter's current ticket (0 before the first). Not spent by reading:
    /// [`commit`](Self::commit) spends it.
    fn round_robin_ticket(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Stores the lead's owner, its history entry and, with a ticket, the counter's move to
    /// the next ticket, all or nothing: only while the lead exists and has no owner, and the
    /// counter still holds the ticket. So a ticket is spent exactly when a lead gets it,
    /// concurrent deliveries of one lead assign it once, and a crash leaves all of it or
    /// none of it.
    fn commit(
        &self,
        assignment: &OwnerAssignment<'_>,
    ) -> impl Future<Output = Result<Committed, StoreError>> + Send;
}
