//! The time-ordered index (`by_time` GSI) that reports read: which items carry it, how its
//! partition key is formed, and which partitions cover a time range.
//!
//! Items in the index carry a `time_bucket` and a numeric `at` (epoch seconds, the index's
//! sort key). Two families of partitions share the index, so that a reader of one never
//! reads the other:
//! - **Message markers**, `T#<UTC day>#<shard>` ([`time_bucket`], [`buckets_covering`]): the
//!   aggregator's per-lead markers, one per inbound message and per one-to-one outbound
//!   message, `at` = the message's anchor time. A UTC day is split over [`TIME_SHARDS`]
//!   partitions (by a stable hash of the item's own key) so that a 1,000 msg/s broadcast puts
//!   at most ~125 writes/s on one index partition (the partition limit is 1,000).
//! - **Events**, `E#<UTC day>` ([`event_bucket`], [`event_buckets_covering`]): consent events
//!   and conversions, one partition per UTC day. They are rare (far below 1,000 writes/s),
//!   so they need no shards, and kept apart from the markers a report reads a window's
//!   consent events and conversions without reading any message marker (the rolled-up
//!   reports read no marker at all). Items written before the split carry a `T#` bucket
//!   until `rebuild-rollups` moves them (`DynamoDbRollupStore`); readers of markers still
//!   count them, exactly once.
//!
//! Nothing else carries `time_bucket`, so the index is sparse and a status write never
//! touches it. A reader queries every partition of every UTC day that overlaps its range,
//! with `at BETWEEN lo AND hi`, and merges: days in any time zone (including +05:45 and DST
//! days) are then exact, because the filter is on the timestamp itself, not on the bucket.

use chrono::DateTime;

/// Name of the global secondary index (hash `time_bucket`, range `at`).
pub const TIME_INDEX: &str = "by_time";
/// The index's partition-key attribute.
pub const TIME_BUCKET_ATTR: &str = "time_bucket";
/// Index partitions per UTC day.
pub const TIME_SHARDS: u32 = 8;

/// FNV-1a (64-bit): a stable, dependency-free hash for spreading keys over shards.
pub fn fnv1a(key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The shard of an item, from a key that never changes for it (a wamid, a lead id plus an
/// event id).
pub fn shard_of(key: &str) -> u32 {
    (fnv1a(key) % u64::from(TIME_SHARDS)) as u32
}

/// The UTC day (`YYYY-MM-DD`) of an epoch-seconds time; `None` outside chrono's range.
pub fn utc_day(at: i64) -> Option<String> {
    DateTime::from_timestamp(at, 0).map(|t| t.format("%Y-%m-%d").to_string())
}

/// `time_bucket` of an item at `at` whose stable key is `shard_key`.
pub fn time_bucket(at: i64, shard_key: &str) -> String {
    let day = utc_day(at).unwrap_or_else(|| "0000-00-00".to_string());
    crate::keys::time_bucket_key(&day, shard_of(shard_key))
}

/// `time_bucket` of a consent event or a conversion at `at`: its UTC day's event partition.
pub fn event_bucket(at: i64) -> String {
    let day = utc_day(at).unwrap_or_else(|| "0000-00-00".to_string());
    crate::keys::event_bucket_key(&day)
}

/// The event bucket of an index item that is a consent event or a conversion (by its sort
/// key `sk`) but still sits in a message-marker partition `bucket` (written before the event
/// partitions existed): where `rebuild-rollups` moves it. `None` for markers, for events
/// already in their event partition, and for items outside the index.
pub fn misplaced_event_bucket(sk: &str, bucket: &str, at: i64) -> Option<String> {
    use crate::keys::{CONSENT_PREFIX, CONVERSION_PREFIX, MARKER_BUCKET_PREFIX};
    let event = sk.starts_with(CONSENT_PREFIX) || sk.starts_with(CONVERSION_PREFIX);
    (event && bucket.starts_with(MARKER_BUCKET_PREFIX)).then(|| event_bucket(at))
}

/// Every UTC day (`YYYY-MM-DD`) overlapping `lo..=hi`, in order. Empty when `lo > hi`.
fn utc_days_covering(lo: i64, hi: i64) -> Vec<String> {
    let mut out = Vec::new();
    if lo > hi {
        return out;
    }
    let (Some(first), Some(last)) = (
        DateTime::from_timestamp(lo, 0),
        DateTime::from_timestamp(hi, 0),
    ) else {
        return out;
    };
    let mut day = first.date_naive();
    let last = last.date_naive();
    while day <= last {
        out.push(day.format("%Y-%m-%d").to_string());
        match day.succ_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    out
}

/// Every message-marker partition holding items with `lo <= at <= hi`, in time order (day,
/// then shard). Empty when `lo > hi`.
pub fn buckets_covering(lo: i64, hi: i64) -> Vec<String> {
    utc_days_covering(lo, hi)
        .iter()
        .flat_map(|day| (0..TIME_SHARDS).map(|shard| crate::keys::time_bucket_key(day, shard)))
        .collect()
}

/// Every event partition (consent events, conversions) holding items with
/// `lo <= at <= hi`, one per UTC day, in time order. Empty when `lo > hi`.
pub fn event_buckets_covering(lo: i64, hi: i64) -> Vec<String> {
    utc_days_covering(lo, hi)
        .iter()
        .map(|day| crate::keys::event_bucket_key(day))
        .collect()
}

/// Name of the per-person, time-ordered global secondary index (hash [`LEAD_TIME_ATTR`],
/// range `at`, keys only): a lead's outbound markers and conversions by time, so the
/// timeline and the consent check read the few items they need with `Limit`.
pub const LEAD_INDEX: &str = "by_lead";
/// The per-person index's partition-key attribute.
pub const LEAD_TIME_ATTR: &str = "lead_time";

/// What a person's time-ordered index partition holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadSeries {
    /// One-to-one outbound message markers (`at` = the message's anchor time).
    Outbound,
    /// Conversions (`at` = when the conversion happened).
    Conversions,
}

/// `lead_time` of an item of `series` in the partition of user id `user_key`.
pub fn lead_time(user_key: &str, series: LeadSeries) -> String {
    let suffix = match series {
        LeadSeries::Outbound => "#OUT",
        LeadSeries::Conversions => "#CONV",
    };
    crate::keys::lead_time_key(user_key, suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_is_the_utc_day_and_a_stable_shard() {
        // 2026-11-20T23:59:59Z and 2026-11-21T00:00:00Z fall on different days.
        assert!(time_bucket(1_795_219_199, "wamid.A").starts_with("T#2026-11-20#"));
        assert!(time_bucket(1_795_219_200, "wamid.A").starts_with("T#2026-11-21#"));
        assert_eq!(time_bucket(5, "k"), time_bucket(5, "k"));
        assert!(shard_of("anything") < TIME_SHARDS);
    }

    #[test]
    fn a_persons_series_are_distinct_partitions() {
        assert_eq!(lead_time("5511", LeadSeries::Outbound), "5511#OUT");
        assert_eq!(lead_time("5511", LeadSeries::Conversions), "5511#CONV");
        assert_ne!(
            lead_time("BR.x", LeadSeries::Outbound),
            lead_time("BR.x#OUT", LeadSeries::Conversions)
        );
    }

    #[test]
    fn shards_spread_keys() {
        let mut seen = [0u32; TIME_SHARDS as usize];
        for i in 0..8_000 {
            seen[shard_of(&format!("wamid.HBgL{i}")) as usize] += 1;
        }
        // Every shard gets between 10% and 15% of 8,000 keys (uniform is 12.5%).
        assert!(seen.iter().all(|n| (800..1_200).contains(n)), "{seen:?}");
    }

    #[test]
    fn covering_buckets_span_every_day_and_shard() {
        let b = buckets_covering(1_795_219_199, 1_795_219_200);
        assert_eq!(b.len(), 2 * TIME_SHARDS as usize);
        assert_eq!(b[0], "T#2026-11-20#0");
        assert_eq!(b[b.len() - 1], format!("T#2026-11-21#{}", TIME_SHARDS - 1));
        assert!(buckets_covering(10, 9).is_empty());
    }

    #[test]
    fn an_event_bucket_is_its_utc_day_without_a_shard() {
        // 2026-11-20T23:59:59Z and 2026-11-21T00:00:00Z fall on different days.
        assert_eq!(event_bucket(1_795_219_199), "E#2026-11-20");
        assert_eq!(event_bucket(1_795_219_200), "E#2026-11-21");
        assert!(!event_bucket(5).starts_with(crate::keys::MARKER_BUCKET_PREFIX));
    }

    #[test]
    fn only_events_left_in_a_marker_partition_are_misplaced() {
        let at = 1_795_219_200;
        let legacy = time_bucket(at, "u|x");
        assert_eq!(
            misplaced_event_bucket("CONSENT#106#1795219200#keyword#x", &legacy, at),
            Some("E#2026-11-21".to_string())
        );
        assert_eq!(
            misplaced_event_bucket("CONV#order-1", &legacy, at),
            Some("E#2026-11-21".to_string())
        );
        // Already moved, a marker, a consent state (never in the index).
        assert_eq!(
            misplaced_event_bucket("CONV#order-1", &event_bucket(at), at),
            None
        );
        assert_eq!(misplaced_event_bucket("IN#wamid.A", &legacy, at), None);
        assert_eq!(
            misplaced_event_bucket("CONSENT_STATE#106#marketing", "", at),
            None
        );
    }

    #[test]
    fn covering_event_buckets_are_one_per_utc_day() {
        assert_eq!(
            event_buckets_covering(1_795_219_199, 1_795_219_200),
            ["E#2026-11-20", "E#2026-11-21"]
        );
        // One second: one day.
        assert_eq!(
            event_buckets_covering(1_795_219_200, 1_795_219_200),
            ["E#2026-11-21"]
        );
        // 2026-11-21 in Asia/Kathmandu (+05:45) is 2026-11-20T18:15Z..2026-11-21T18:14:59Z:
        // two UTC days.
        let lo = 1_795_219_200 - 5 * 3_600 - 45 * 60;
        let hi = lo + 86_399;
        assert_eq!(
            event_buckets_covering(lo, hi),
            ["E#2026-11-20", "E#2026-11-21"]
        );
        // Every event of the range is in one of its buckets.
        for at in [lo, lo + 1, 1_795_219_199, 1_795_219_200, hi] {
            assert!(event_buckets_covering(lo, hi).contains(&event_bucket(at)));
        }
        assert!(event_buckets_covering(10, 9).is_empty());
    }
}
