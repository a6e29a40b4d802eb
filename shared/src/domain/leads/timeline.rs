//! A lead's timeline as the API answers it (`GET /v1/leads/{lead_id}`): first touch,
//! conversions, stage and owner history, consent history and state, message activity. Pure
//! types; the store adapters read them (`crate::ports::LeadStore::get`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::FirstTouch;

/// Entries a timeline list holds at most (the latest ones); older entries are in the
/// reports and exports.
pub const TIMELINE_ENTRIES: usize = 100;

/// One entry of a lead's change history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub from: Option<String>,
    pub to: Option<String>,
    pub by: String,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentEventView {
    pub consent: String,
    pub categories: Vec<String>,
    pub source: String,
    pub phone_number_id: String,
    pub at: DateTime<Utc>,
    pub keyword: Option<String>,
    pub proof: Option<String>,
    pub recorded_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentStateView {
    pub phone_number_id: String,
    pub category: String,
    pub consent: String,
    pub source: String,
    pub since: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageActivity {
    /// From the aggregator's markers; a message counts once the stream has been processed.
    pub inbound_count: Option<u64>,
    pub first_inbound_at: Option<DateTime<Utc>>,
    pub last_inbound_at: Option<DateTime<Utc>>,
    pub last_referral_at: Option<DateTime<Utc>>,
    pub outbound_count: Option<u64>,
    pub last_outbound_at: Option<DateTime<Utc>>,
    pub outbound_note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    pub first_touch: Option<FirstTouch>,
    pub conversions: Vec<Conversion>,
    pub stage_history: Vec<Change>,
    pub owner_history: Vec<Change>,
    pub consent_history: Vec<ConsentEventView>,
    pub consent_state: Vec<ConsentStateView>,
    pub messages: MessageActivity,
    /// The lists cut to their latest [`TIMELINE_ENTRIES`] entries: `history` (stage and
    /// owner changes together), `consent_history`, `conversions`.
    pub truncated: Vec<&'static str>,
}

/// A conversion as stored and returned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversion {
    pub conversion_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: Option<f64>,
    pub currency: Option<String>,
    pub at: DateTime<Utc>,
    pub idempotency_key: String,
    pub recorded_at: DateTime<Utc>,
    /// `not_configured`, `sent`, `failed`, `no_ctwa_clid`.
    pub forwarded: String,
    pub forward_error: Option<String>,
}

/// Keeps the latest `limit` entries (by time, then key), oldest first; `true` when some
/// were dropped. Entries with the same time and key are one entry (read twice).
pub fn keep_latest<T>(entries: &mut Vec<(i64, String, T)>, limit: usize) -> bool {
    entries.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    entries.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let dropped = entries.len().saturating_sub(limit);
    entries.drain(..dropped);
    dropped > 0
}

#[cfg(test)]
mod tests {
    use super::keep_latest;

    #[test]
    fn keeps_the_latest_entries_oldest_first() {
        let mut e: Vec<(i64, String, ())> = [(3, "c"), (1, "a"), (2, "b"), (2, "b"), (4, "d")]
            .iter()
            .map(|(t, k)| (*t, k.to_string(), ()))
            .collect();
        assert!(keep_latest(&mut e, 3));
        let kept: Vec<i64> = e.iter().map(|x| x.0).collect();
        assert_eq!(kept, vec![2, 3, 4]);
        assert!(!keep_latest(&mut e, 3), "nothing more to drop");
    }
}
