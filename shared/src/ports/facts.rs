//! The person rollups: each person's facts (`domain::metrics::facts`) stored per 15-minute
//! slot, and their sums per slot, kept equal by construction (`crate::facts`).

use crate::domain::metrics::input::{InboundMsg, OutboundMsg};
use crate::domain::metrics::tally::Tally;
use crate::ports::StoreError;
use std::collections::BTreeMap;
use std::future::Future;

/// One slot's change of one person's facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactsCommit {
    /// The person's lead id.
    pub person: String,
    /// The claim this change was computed under ([`PersonFactsStore::claim`]).
    pub claim: u64,
    /// Slot start (epoch seconds).
    pub slot: i64,
    /// The person's stored facts in the slot, as read after the claim.
    pub old: Vec<Tally>,
    /// The person's facts in the slot now (empty: none left).
    pub new: Vec<Tally>,
}

pub trait PersonFactsStore: Send + Sync {
    /// Claims the next recompute of `person`'s facts: returns the claim's number, greater
    /// than any earlier claim. From then on a commit under an earlier claim fails.
    fn claim(&self, person: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The person's stored facts, per slot start (consistent read).
    fn stored(
        &self,
        person: &str,
    ) -> impl Future<Output = Result<BTreeMap<i64, Vec<Tally>>, StoreError>> + Send;

    /// Atomically: if `c.claim` is still the person's latest claim, stores `c.new` as the
    /// person's facts in the slot and adds `c.new − c.old` to the slot's sums. `Ok(false)`
    /// when a later claim exists (its recompute supersedes this one), nothing written.
    fn commit(&self, c: &FactsCommit) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The non-zero fact sums of the slots starting in `lo..=hi`, at each slot's start.
    fn slots(
        &self,
        lo: i64,
        hi: i64,
    ) -> impl Future<Output = Result<Vec<Tally>, StoreError>> + Send;

    /// Deletes every person's stored facts and every slot sum (a rebuild then recomputes
    /// every person from nothing). Returns the items deleted.
    fn clear(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// Every message of one person, read consistently (what the facts are computed from).
pub trait PersonHistory: Send + Sync {
    /// The inbound and outbound messages filed under any of `ids` (the person's ids), each
    /// `person` set to `lead` (the person's lead id).
    fn history(
        &self,
        lead: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<(Vec<InboundMsg>, Vec<OutboundMsg>), StoreError>> + Send;

    /// Whether any of `ids` ever sent an inbound message (a consistent read of their message
    /// counters). A person who never wrote has no facts, so most recipients of a broadcast
    /// cost this read and nothing else.
    fn has_inbound(&self, ids: &[String]) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
