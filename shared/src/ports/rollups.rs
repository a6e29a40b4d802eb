//! The message rollups: per 15-minute slot, the sums of every message's tally
//! (`domain::metrics::tally`), kept exact under the stream's at-least-once delivery.

use crate::domain::metrics::tally::Tally;
use crate::ports::StoreError;
use std::future::Future;

/// A stream position: the shard and the record's sequence number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StreamPosition {
    pub shard: String,
    /// Left-padded with zeros to [`StreamPosition::WIDTH`] digits, so that text order is
    /// number order (DynamoDB Streams sequence numbers have 21 to 40 digits).
    pub sequence: String,
}

impl StreamPosition {
    pub const WIDTH: usize = 40;

    /// `None` when the sequence number is not 1–40 decimal digits.
    pub fn new(shard: &str, sequence: &str) -> Option<StreamPosition> {
        let ok = !shard.is_empty()
            && !sequence.is_empty()
            && sequence.len() <= Self::WIDTH
            && sequence.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| StreamPosition {
            shard: shard.to_string(),
            sequence: format!("{sequence:0>40}"),
        })
    }
}

/// What one stream batch adds to one slot: its records touching the slot, in stream order,
/// each with the tallies it moves (`tally::delta`, already at the slot's start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotDelta {
    pub slot: i64,
    pub shard: String,
    /// (padded sequence number, tallies), sequence ascending.
    pub records: Vec<(String, Vec<Tally>)>,
}

pub trait RollupStore: Send + Sync {
    /// Adds the records of `delta` that the slot has not taken yet from this shard (those
    /// above its guard), and moves the guard to the last one, atomically: a retried or
    /// re-split batch adds nothing twice. Returns how many records were added.
    fn apply(&self, delta: &SlotDelta) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// The non-zero tallies of the slots starting in `lo..=hi` (epoch seconds), at each
    /// slot's start.
    fn slots(
        &self,
        lo: i64,
        hi: i64,
    ) -> impl Future<Output = Result<Vec<Tally>, StoreError>> + Send;

    /// Recomputes every slot from the source of truth (the message and conversion items),
    /// keeping the guards; returns the slots written. Exact only while no stream record is
    /// pending (docs/RUNBOOK.md, "Rebuilding the rollups").
    fn rebuild(&self, total_segments: i32) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
