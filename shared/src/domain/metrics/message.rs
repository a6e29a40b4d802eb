//! Per-message facts derived from the stored status ladder, independent of the order the
//! statuses arrived in: anchor time (its day), delivered / read / failed, pricing, replies.

use std::collections::HashMap;

use super::input::{InboundMsg, MsgPricing, OutboundMsg, Times};
use super::query::Query;

/// 72 hours: the reply window after a message's anchor time.
pub const REPLY_WINDOW_S: i64 = 72 * 3600;

/// The ladder's last state, as the `messages` export prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Sent => "sent",
            Status::Delivered => "delivered",
            Status::Read => "read",
            Status::Failed => "failed",
        }
    }
}

impl Times {
    /// `sent_at`, else the earliest status time; `None` when the message has no status.
    pub fn anchor(&self) -> Option<i64> {
        self.sent_at.or_else(|| {
            [
                self.delivered_at,
                self.read_at,
                self.played_at,
                self.failed_at,
            ]
            .into_iter()
            .flatten()
            .min()
        })
    }

    /// Delivered, read or played (Meta skips `delivered` when a message is read at once).
    pub fn is_delivered(&self) -> bool {
        self.delivered_at.is_some() || self.read_at.is_some() || self.played_at.is_some()
    }

    pub fn is_read(&self) -> bool {
        self.read_at.is_some()
    }

    /// The last status is `failed`: no delivered/read/played time later than `failed_at`
    /// (a tie is a failure).
    pub fn is_failed(&self) -> bool {
        let Some(failed_at) = self.failed_at else {
            return false;
        };
        [self.delivered_at, self.read_at, self.played_at]
            .into_iter()
            .flatten()
            .all(|t| t <= failed_at)
    }

    /// failed > read > delivered (or played) > sent.
    pub fn status(&self) -> Status {
        if self.is_failed() {
            Status::Failed
        } else if self.read_at.is_some() {
            Status::Read
        } else if self.is_delivered() {
            Status::Delivered
        } else {
            Status::Sent
        }
    }
}

impl OutboundMsg {
    /// See [`Times::anchor`].
    pub fn anchor(&self) -> Option<i64> {
        self.times.anchor()
    }

    pub fn is_failed(&self) -> bool {
        self.times.is_failed()
    }

    /// The pricing that counts: none for a failed message.
    pub fn effective_pricing(&self) -> Option<&MsgPricing> {
        if self.is_failed() {
            None
        } else {
            self.pricing.as_ref()
        }
    }

    /// Pricing category (empty for a failed or unpriced message).
    pub fn category(&self) -> &str {
        self.effective_pricing()
            .and_then(|p| p.category.as_deref())
            .unwrap_or("")
    }

    /// Pricing type (empty for a failed or unpriced message).
    pub fn pricing_type(&self) -> &str {
        self.effective_pricing()
            .and_then(|p| p.pricing_type.as_deref())
            .unwrap_or("")
    }

    /// `Some(true)` paid, `Some(false)` free, `None` neither (failed, unpriced, or unknown).
    pub fn paid(&self) -> Option<bool> {
        self.effective_pricing().and_then(|p| p.paid)
    }
}

/// Sort key of the total order of message events: (time, inbound before outbound at the same
/// second, wamid).
pub(crate) fn event_key(at: i64, inbound: bool, wamid: &str) -> (i64, u8, &str) {
    (at, if inbound { 0 } else { 1 }, wamid)
}

/// Inbound times per person, sorted, for the reply test.
pub(crate) struct ReplyIndex<'a> {
    by_person: HashMap<&'a str, Vec<i64>>,
}

impl<'a> ReplyIndex<'a> {
    /// Indexes the inbound messages the query's phone filter admits.
    pub(crate) fn new(inbound: &'a [InboundMsg], q: &Query) -> ReplyIndex<'a> {
        let mut by_person: HashMap<&'a str, Vec<i64>> = HashMap::new();
        for m in inbound
            .iter()
            .filter(|m| q.phone_matches(&m.phone_number_id))
        {
            by_person.entry(m.person.as_str()).or_default().push(m.at);
        }
        for v in by_person.values_mut() {
            v.sort_unstable();
        }
        ReplyIndex { by_person }
    }

    /// Replied: delivered, and an inbound message of the same person with
    /// `anchor < at <= anchor + 72 h` (an inbound message in the same second precedes the
    /// outbound one in the total order, so it is not a reply).
    pub(crate) fn replied(&self, m: &OutboundMsg) -> bool {
        let (Some(person), Some(anchor)) = (m.person.as_deref(), m.anchor()) else {
            return false;
        };
        if !m.times.is_delivered() {
            return false;
        }
        let Some(times) = self.by_person.get(person) else {
            return false;
        };
        let i = times.partition_point(|&t| t <= anchor);
        times
            .get(i)
            .is_some_and(|&t| t <= anchor.saturating_add(REPLY_WINDOW_S))
    }
}

#[cfg(test)]
pub(crate) mod testkit {
    //! Builders shared by the family tests.
    use super::super::input::*;
    use chrono::NaiveDate;

    pub fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    /// Epoch seconds of a UTC `YYYY-MM-DDTHH:MM:SS`.
    pub fn ts(s: &str) -> i64 {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
            .expect("test time")
            .and_utc()
            .timestamp()
    }

    pub fn out(wamid: &str, person: &str, sent_at: i64) -> OutboundMsg {
        OutboundMsg {
            wamid: wamid.to_string(),
            person: Some(person.to_string()),
            waba_id: "W1".to_string(),
            phone_number_id: "P1".to_string(),
            times: Times {
                sent_at: Some(sent_at),
                ..Times::default()
            },
            ..OutboundMsg::default()
        }
    }

    pub fn inb(wamid: &str, person: &str, at: i64) -> InboundMsg {
        InboundMsg {
            wamid: wamid.to_string(),
            person: person.to_string(),
            waba_id: "W1".to_string(),
            phone_number_id: "P1".to_string(),
            at,
        }
    }

    pub fn pricing(category: &str, pricing_type: &str, paid: Option<bool>) -> MsgPricing {
        MsgPricing {
            model: Some("PMP".to_string()),
            category: Some(category.to_string()),
            pricing_type: Some(pricing_type.to_string()),
            billable: paid,
            paid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;
    use chrono_tz::Tz;

    #[test]
    fn anchor_is_sent_else_earliest_status() {
        let mut t = Times {
            delivered_at: Some(20),
            read_at: Some(15),
            ..Times::default()
        };
        assert_eq!(t.anchor(), Some(15));
        t.sent_at = Some(30);
        assert_eq!(t.anchor(), Some(30));
        assert_eq!(Times::default().anchor(), None);
    }

    #[test]
    fn read_without_delivered_counts_as_delivered() {
        let t = Times {
            sent_at: Some(1),
            read_at: Some(2),
            ..Times::default()
        };
        assert!(t.is_delivered() && t.is_read() && !t.is_failed());
        assert_eq!(t.status(), Status::Read);
        let played = Times {
            sent_at: Some(1),
            played_at: Some(2),
            ..Times::default()
        };
        assert!(played.is_delivered() && !played.is_read());
        assert_eq!(played.status(), Status::Delivered);
    }

    #[test]
    fn failed_is_the_last_status() {
        let t = |delivered_at, failed_at| Times {
            sent_at: Some(1),
            delivered_at,
            failed_at,
            ..Times::default()
        };
        assert!(t(None, Some(5)).is_failed());
        assert!(t(Some(5), Some(5)).is_failed(), "a tie is a failure");
        assert!(t(Some(3), Some(5)).is_failed());
        assert!(!t(Some(6), Some(5)).is_failed());
        assert_eq!(t(Some(6), Some(5)).status(), Status::Delivered);
    }

    #[test]
    fn failed_after_sent_with_pricing_has_no_pricing() {
        let mut m = out("w", "p", 100);
        m.pricing = Some(pricing("marketing", "regular", Some(true)));
        assert_eq!(m.paid(), Some(true));
        assert_eq!(m.category(), "marketing");
        m.times.failed_at = Some(110);
        assert_eq!(m.paid(), None);
        assert_eq!(m.category(), "");
        assert_eq!(m.pricing_type(), "");
    }

    #[test]
    fn reply_window_edges() {
        let q = Query::new(d("2026-11-20"), d("2026-11-20"), Tz::UTC);
        let t0 = ts("2026-11-20T10:00:00");
        let mut m = out("w", "p", t0);
        m.times.delivered_at = Some(t0 + 5);
        let check = |at: i64, m: &OutboundMsg| {
            let inbound = vec![inb("i", "p", at)];
            ReplyIndex::new(&inbound, &q).replied(m)
        };
        assert!(check(t0 + REPLY_WINDOW_S, &m), "exactly 72 h counts");
        assert!(!check(t0 + REPLY_WINDOW_S + 1, &m), "72 h + 1 s does not");
        assert!(!check(t0, &m), "the same second precedes the message");
        assert!(check(t0 + 1, &m));
        assert!(!check(t0 - 10, &m));
        let mut undelivered = m.clone();
        undelivered.times.delivered_at = None;
        assert!(
            !check(t0 + 60, &undelivered),
            "only delivered messages are replied"
        );
        let other = vec![inb("i", "someone-else", t0 + 60)];
        assert!(!ReplyIndex::new(&other, &q).replied(&m));
    }
}
