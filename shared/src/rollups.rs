//! The rollup step of the stream consumer: each record of a batch moves its message's tally
//! (`domain::metrics::tally::delta`); the batch becomes one guarded update per slot it touches
//! (`ports::RollupStore::apply`). Exact under Lambda's at-least-once delivery: a slot takes
//! each record of a shard once, whatever retries, splits or crashes happen.
//!
//! The guard needs the stream shard, which Lambda names only with tumbling windows on
//! (`shardId` of the time-window event): the template turns them on for the aggregator.

use std::collections::BTreeMap;

use crate::domain::metrics::tally::{Tally, delta, slot_of};
use crate::ports::{RollupStore, SlotDelta, StoreError, StreamPosition};

/// One stream record as the rollups see it: its sequence number and its message's tally
/// before and after (`None`: not a counted message then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordChange {
    pub sequence: String,
    pub before: Option<Tally>,
    pub after: Option<Tally>,
}

/// Why a batch could not be folded into the rollups.
#[derive(Debug, thiserror::Error)]
pub enum RollupError {
    /// The event does not name its shard or a record's sequence number is not one: nothing
    /// can be guarded, so nothing is added.
    #[error("cannot guard the rollups: {0}")]
    Unguarded(String),
    /// A slot's update failed: records from `sequence` on are to be retried (what was
    /// applied before stays; the guards skip it on the retry).
    #[error("rollup slot update failed from record {sequence}: {error}")]
    Store { sequence: String, error: StoreError },
}

/// The batch's delta for each slot it touches, records in stream order.
pub fn slot_deltas(shard: &str, changes: &[RecordChange]) -> Result<Vec<SlotDelta>, RollupError> {
    let mut slots: BTreeMap<i64, SlotDelta> = BTreeMap::new();
    for c in changes {
        let Some(position) = StreamPosition::new(shard, &c.sequence) else {
            return Err(RollupError::Unguarded(format!(
                "shard {shard:?}, sequence number {:?}",
                c.sequence
            )));
        };
        let moved = delta(c.before.as_ref(), c.after.as_ref());
        let mut per_slot: BTreeMap<i64, Vec<Tally>> = BTreeMap::new();
        for t in moved {
            per_slot.entry(slot_of(t.at)).or_default().push(t);
        }
        for (slot, tallies) in per_slot {
            slots
                .entry(slot)
                .or_insert_with(|| SlotDelta {
                    slot,
                    shard: shard.to_string(),
                    records: Vec::new(),
                })
                .records
                .push((position.sequence.clone(), tallies));
        }
    }
    let mut out: Vec<SlotDelta> = slots.into_values().collect();
    for d in &mut out {
        d.records.sort_by(|a, b| a.0.cmp(&b.0));
    }
    Ok(out)
}

/// Applies a batch. On failure, names the earliest record of a slot that was not updated,
/// so the caller reports it (and everything after it) for retry.
pub async fn fold_batch<R: RollupStore>(
    store: &R,
    shard: Option<&str>,
    changes: &[RecordChange],
) -> Result<usize, RollupError> {
    if changes
        .iter()
        .all(|c| c.before.is_none() && c.after.is_none())
    {
        return Ok(0);
    }
    let Some(shard) = shard.filter(|s| !s.is_empty()) else {
        return Err(RollupError::Unguarded(
            "the event has no shardId (tumbling windows off?)".to_string(),
        ));
    };
    let deltas = slot_deltas(shard, changes)?;
    let mut applied = 0;
    let mut failed: Option<(String, StoreError)> = None;
    for d in &deltas {
        match store.apply(d).await {
            Ok(n) => applied += n,
            Err(error) => {
                let first = d.records.first().map(|r| r.0.clone()).unwrap_or_default();
                if failed.as_ref().is_none_or(|(s, _)| first < *s) {
                    failed = Some((first, error));
                }
            }
        }
    }
    match failed {
        None => Ok(applied),
        Some((padded, error)) => Err(RollupError::Store {
            sequence: padded.trim_start_matches('0').to_string(),
            error,
        }),
    }
}

#[cfg(all(test, feature = "test-util"))]
mod tests {
    use super::*;
    use crate::domain::metrics::input::{OutboundMsg, Times};
    use crate::domain::metrics::tally::{fold_into_slots, outbound_tally};
    use crate::memory::rollups::MemoryRollupStore;

    fn msg(wamid: &str, sent: i64, delivered: Option<i64>) -> Option<Tally> {
        outbound_tally(&OutboundMsg {
            wamid: wamid.into(),
            person: Some("p".into()),
            waba_id: "W".into(),
            phone_number_id: "P".into(),
            times: Times {
                sent_at: Some(sent),
                delivered_at: delivered,
                ..Times::default()
            },
            ..OutboundMsg::default()
        })
    }

    /// Ten messages, each sent then delivered: twenty records, sequence 100.. in order.
    fn changes() -> Vec<RecordChange> {
        let mut out = Vec::new();
        for i in 0..10 {
            let at = 1_795_000_000 + i * 400;
            out.push(RecordChange {
                sequence: (100 + 2 * i).to_string(),
                before: None,
                after: msg(&format!("m{i}"), at, None),
            });
            out.push(RecordChange {
                sequence: (101 + 2 * i).to_string(),
                before: msg(&format!("m{i}"), at, None),
                after: msg(&format!("m{i}"), at, Some(at + 5)),
            });
        }
        out
    }

    fn truth() -> Vec<Tally> {
        fold_into_slots((0..10).filter_map(|i| {
            let at = 1_795_000_000 + i * 400;
            msg(&format!("m{i}"), at, Some(at + 5))
        }))
    }

    #[tokio::test]
    async fn retried_and_resplit_batches_add_each_record_once() {
        let store = MemoryRollupStore::new();
        let all = changes();
        // The first half, then the whole batch again (a retry after a partial failure),
        // then a re-split of the tail, then everything once more.
        fold_batch(&store, Some("s1"), &all[..7])
            .await
            .expect("applied");
        fold_batch(&store, Some("s1"), &all).await.expect("applied");
        fold_batch(&store, Some("s1"), &all[12..])
            .await
            .expect("applied");
        assert_eq!(
            fold_batch(&store, Some("s1"), &all).await.expect("applied"),
            0
        );
        let got = store.slots(0, i64::MAX).await.expect("read");
        assert_eq!(got, truth());
        // A failed slot update names the earliest record of that slot.
        let other = MemoryRollupStore::new();
        other.fail_next(1);
        match fold_batch(&other, Some("s1"), &all).await {
            Err(RollupError::Store { sequence, .. }) => assert_eq!(sequence, "100"),
            other => panic!("expected a store failure, got {other:?}"),
        }
        fold_batch(&other, Some("s1"), &all).await.expect("applied");
        assert_eq!(other.slots(0, i64::MAX).await.expect("read"), truth());
    }

    #[tokio::test]
    async fn a_batch_without_its_shard_adds_nothing() {
        let store = MemoryRollupStore::new();
        assert!(matches!(
            fold_batch(&store, None, &changes()).await,
            Err(RollupError::Unguarded(_))
        ));
        let mut bad = changes();
        bad[3].sequence = "12a".into();
        assert!(matches!(
            fold_batch(&store, Some("s1"), &bad).await,
            Err(RollupError::Unguarded(_))
        ));
        assert!(store.slots(0, i64::MAX).await.expect("read").is_empty());
    }
}
