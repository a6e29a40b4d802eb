//! Message tallies: the additive part of each message, counted by time and dimension.
//!
//! The conversations, failures, reconciliation and volume families only ever add up
//! per-message facts (sent, delivered, read, failed, paid, free, inbound) under a period and a
//! few dimensions. A [`Tally`] is such a sum for one [`Cell`] (the dimensions) at one time.
//! Those families read tallies, never messages, so the same code runs on two sources:
//! - [`tallies_of`]: one tally per message of [`Inputs`], at the message's own anchor time
//!   (the per-message path, and the ground the rollups are checked against);
//! - the rollups: the aggregator adds each stream record's [`delta`] to its
//!   [`SLOT_SECONDS`] slot, and a report reads one tally per (slot, cell), at the slot's start.
//!
//! **Why 15-minute UTC slots are exact in any zone**: every offset in use today is a multiple
//! of 15 minutes (+05:45, +12:45, −09:30 …) and zone transitions happen on such boundaries, so
//! a time and the start of its slot always have the same local day and local hour.
//! [`slots_are_exact`] checks a report's zone over its window; a zone that fails it (a
//! historical local mean time) is read message by message.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::input::{InboundMsg, Inputs, OutboundMsg};
use super::response_times::ResponseKind;
use super::tag::parse_opt_tag;

/// Rollup slot length: 15 minutes.
pub const SLOT_SECONDS: i64 = 900;

/// The start of the slot holding `at`.
pub fn slot_of(at: i64) -> i64 {
    at - at.rem_euclid(SLOT_SECONDS)
}

/// What a tally is counted under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Cell {
    /// One-to-one outbound messages, by anchor time.
    Outbound(OutboundCell),
    /// Inbound (user → business) messages, by arrival time.
    Inbound {
        waba_id: String,
        phone_number_id: String,
    },
    /// Conversions, by their time. No dimension: the families that filter conversions by
    /// number or tenancy read them one by one (`Inputs::conversions`).
    Conversion,
    /// A person fact (`super::facts`): response waits of one length, by the time of the
    /// inbound message that started them. `scope` is the business number the wait was
    /// measured on alone (`None`: across all of the person's numbers, the unfiltered view).
    Wait {
        scope: Option<String>,
        kind: ResponseKind,
        wait_s: i64,
    },
    /// A person fact (`super::facts`): delivered template messages that were replied to, by
    /// the message's anchor time. `same_number`: the reply test saw only inbound messages on
    /// the message's own number (what a report filtered to that number counts); otherwise
    /// inbound messages on any number (the unfiltered view).
    Replied {
        waba_id: String,
        phone_number_id: String,
        template: String,
        same_number: bool,
    },
}

impl Cell {
    pub fn waba_id(&self) -> &str {
        match self {
            Cell::Outbound(c) => &c.waba_id,
            Cell::Inbound { waba_id, .. } | Cell::Replied { waba_id, .. } => waba_id,
            Cell::Conversion | Cell::Wait { .. } => "",
        }
    }

    pub fn phone_number_id(&self) -> &str {
        match self {
            Cell::Outbound(c) => &c.phone_number_id,
            Cell::Inbound {
                phone_number_id, ..
            }
            | Cell::Replied {
                phone_number_id, ..
            } => phone_number_id,
            Cell::Wait { scope, .. } => scope.as_deref().unwrap_or(""),
            Cell::Conversion => "",
        }
    }
}

/// The dimensions of an outbound message that some family groups by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OutboundCell {
    pub waba_id: String,
    pub phone_number_id: String,
    /// The stored pricing category, failed or not (`failures` reports it; `conversations`
    /// shows a failed message without one).
    pub category: String,
    /// The stored pricing type; empty for a failed message (no family reports it then).
    pub pricing_type: String,
    pub failed: bool,
    /// Failed messages only.
    pub error_code: Option<i64>,
    /// Failed messages only; empty when Meta gave none.
    pub error_title: String,
    /// The sender tag's `template` (the `templates` family's row key); `None` without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

impl OutboundCell {
    /// The category `conversations` shows: none for a failed message.
    pub fn effective_category(&self) -> &str {
        if self.failed { "" } else { &self.category }
    }
}

/// Sums under one cell. Signed: a stream record's delta takes a message out of its old cell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Counts {
    /// Messages (outbound: sent, i.e. every message with a status; inbound: received).
    pub messages: i64,
    pub delivered: i64,
    pub read: i64,
    pub paid: i64,
    pub free: i64,
}

impl Counts {
    pub const FIELDS: [&'static str; 5] = ["messages", "delivered", "read", "paid", "free"];

    /// The values in [`Counts::FIELDS`] order.
    pub fn values(&self) -> [i64; 5] {
        [
            self.messages,
            self.delivered,
            self.read,
            self.paid,
            self.free,
        ]
    }

    pub fn from_values(v: [i64; 5]) -> Counts {
        Counts {
            messages: v[0],
            delivered: v[1],
            read: v[2],
            paid: v[3],
            free: v[4],
        }
    }

    pub fn is_zero(&self) -> bool {
        self.values() == [0; 5]
    }

    pub fn add(&mut self, o: &Counts, sign: i64) {
        let (a, b) = (self.values(), o.values());
        let mut out = [0i64; 5];
        for i in 0..5 {
            out[i] = a[i].saturating_add(b[i].saturating_mul(sign));
        }
        *self = Counts::from_values(out);
    }
}

/// The counts of one cell at one time (a message's anchor, or a slot's start).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tally {
    pub at: i64,
    pub cell: Cell,
    pub counts: Counts,
}

/// An outbound message's tally; `None` without any status time.
pub fn outbound_tally(m: &OutboundMsg) -> Option<Tally> {
    let at = m.anchor()?;
    let failed = m.is_failed();
    let raw = m.pricing.as_ref();
    let cell = OutboundCell {
        waba_id: m.waba_id.clone(),
        phone_number_id: m.phone_number_id.clone(),
        category: raw.and_then(|p| p.category.clone()).unwrap_or_default(),
        pricing_type: if failed {
            String::new()
        } else {
            raw.and_then(|p| p.pricing_type.clone()).unwrap_or_default()
        },
        failed,
        error_code: if failed { m.error_code } else { None },
        error_title: if failed {
            m.error_title.clone().unwrap_or_default()
        } else {
            String::new()
        },
        template: parse_opt_tag(m.tag.as_deref()).template,
    };
    let t = &m.times;
    Some(Tally {
        at,
        cell: Cell::Outbound(cell),
        counts: Counts {
            messages: 1,
            delivered: i64::from(t.is_delivered()),
            read: i64::from(t.is_read()),
            paid: i64::from(m.paid() == Some(true)),
            free: i64::from(m.paid() == Some(false)),
        },
    })
}

pub fn inbound_tally(m: &InboundMsg) -> Tally {
    Tally {
        at: m.at,
        cell: Cell::Inbound {
            waba_id: m.waba_id.clone(),
            phone_number_id: m.phone_number_id.clone(),
        },
        counts: Counts {
            messages: 1,
            ..Counts::default()
        },
    }
}

/// A conversion's tally.
pub fn conversion_tally(at: i64) -> Tally {
    Tally {
        at,
        cell: Cell::Conversion,
        counts: Counts {
            messages: 1,
            ..Counts::default()
        },
    }
}

/// One tally per message and conversion of the inputs, at its own time.
pub fn tallies_of(inputs: &Inputs) -> Vec<Tally> {
    inputs
        .outbound
        .iter()
        .filter_map(outbound_tally)
        .chain(inputs.inbound.iter().map(inbound_tally))
        .chain(inputs.conversions.iter().map(|c| conversion_tally(c.at)))
        .collect()
}

impl Inputs {
    /// The message tallies the additive families read: the rolled-up ones when the source
    /// supplied them, else one per message.
    pub fn message_tallies(&self) -> Cow<'_, [Tally]> {
        match &self.tallies {
            Some(t) => Cow::Borrowed(t.as_slice()),
            None => Cow::Owned(tallies_of(self)),
        }
    }
}

/// What one change of a message moves between slots: `after − before`, each tally moved to
/// its slot start. Cells whose sum is zero are left out (a status that changes nothing a
/// family counts yields nothing).
pub fn delta(before: Option<&Tally>, after: Option<&Tally>) -> Vec<Tally> {
    let taken_out = before.map(|t| {
        let mut counts = Counts::default();
        counts.add(&t.counts, -1);
        Tally {
            at: t.at,
            cell: t.cell.clone(),
            counts,
        }
    });
    fold_into_slots(taken_out.into_iter().chain(after.cloned()))
}

/// Adds tallies up per (slot, cell), dropping sums of zero.
pub fn fold_into_slots(tallies: impl IntoIterator<Item = Tally>) -> Vec<Tally> {
    let mut sums: BTreeMap<(i64, Cell), Counts> = BTreeMap::new();
    for t in tallies {
        sums.entry((slot_of(t.at), t.cell))
            .or_default()
            .add(&t.counts, 1);
    }
    sums.into_iter()
        .filter(|(_, c)| !c.is_zero())
        .map(|((at, cell), counts)| Tally { at, cell, counts })
        .collect()
}

/// Every UTC offset `tz` takes between `lo` and `hi` (epoch seconds) is a whole number of
/// slots, so slot starts keep each time's local day and hour. Checked at each local hour of
/// the window, which sees every transition (none is closer than an hour to the next).
pub fn slots_are_exact(tz: Tz, lo: i64, hi: i64) -> bool {
    let mut at = lo;
    while at <= hi.saturating_add(3600) {
        let Some(utc) = DateTime::from_timestamp(at, 0) else {
            return false;
        };
        let offset = tz
            .offset_from_utc_datetime(&utc.naive_utc())
            .fix()
            .local_minus_utc();
        if i64::from(offset).rem_euclid(SLOT_SECONDS) != 0 {
            return false;
        }
        at = at.saturating_add(3600);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::super::message::testkit::*;
    use super::super::query::GroupBy;
    use super::super::{
        Query, conversations, failures, input::Times, reconciliation, response_times, templates,
        volume,
    };
    use super::*;

    /// A few hundred messages over a week with every status shape, many zones' day edges.
    fn week() -> Inputs {
        let t0 = ts("2026-11-16T00:00:00");
        let mut inputs = Inputs::default();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for i in 0..400 {
            let at = t0 + (next(7 * 86_400) as i64);
            let mut m = out(&format!("o{i}"), &format!("p{}", next(40)), at);
            m.phone_number_id = ["P1", "P2"][next(2) as usize].to_string();
            m.waba_id = if m.phone_number_id == "P1" {
                "W1"
            } else {
                "W2"
            }
            .to_string();
            if next(5) == 0 {
                m.times.sent_at = None;
                m.times.delivered_at = Some(at + 30);
            }
            match next(6) {
                0 => m.times.delivered_at = Some(at + 5),
                1 => m.times.read_at = Some(at + 90_000),
                2 => {
                    m.times.failed_at = Some(at + 2);
                    m.error_code = Some([131_049, 131_026][next(2) as usize]);
                    m.error_title = Some("Limited".to_string());
                }
                3 => {
                    m.times.delivered_at = Some(at + 5);
                    m.times.failed_at = Some(at + 1);
                }
                _ => {}
            }
            if next(3) > 0 {
                let cat = ["marketing", "utility", "service"][next(3) as usize];
                let typ = ["regular", "free_customer_service"][next(2) as usize];
                m.pricing = Some(pricing(cat, typ, Some(typ == "regular")));
            }
            if next(10) == 0 {
                m.times = Times::default();
            }
            m.tag = [
                None,
                Some("template=welcome;by=bot"),
                Some("template=promo_nov"),
                Some("by=bot"),
                Some("template=welcome;by=human"),
            ][i % 5]
                .map(str::to_string);
            inputs.outbound.push(m);
        }
        for i in 0..300 {
            let mut m = inb(
                &format!("i{i}"),
                &format!("p{}", next(40)),
                t0 + next(7 * 86_400) as i64,
            );
            m.phone_number_id = ["P1", "P2"][next(2) as usize].to_string();
            inputs.inbound.push(m);
        }
        for i in 0..50 {
            inputs.conversions.push(super::super::input::ConversionRow {
                lead_id: format!("p{}", next(40)),
                at: t0 + next(7 * 86_400) as i64 + i,
                ..Default::default()
            });
        }
        inputs
    }

    #[test]
    fn slot_tallies_give_the_same_rows_as_messages_in_every_zone() {
        let inputs = week();
        let rolled = Inputs {
            tallies: Some(fold_into_slots(tallies_of(&inputs))),
            facts: Some(fold_into_slots(super::super::facts::facts_of(&inputs))),
            outbound: vec![],
            inbound: vec![],
            conversions: vec![],
            ..inputs.clone()
        };
        let zones = [
            chrono_tz::Asia::Kathmandu,
            chrono_tz::Pacific::Chatham,
            chrono_tz::Australia::Darwin,
            chrono_tz::America::St_Johns,
            chrono_tz::America::New_York,
            chrono_tz::UTC,
        ];
        for tz in zones {
            for group_by in [GroupBy::Day, GroupBy::Week, GroupBy::None, GroupBy::Hour] {
                let mut q = Query::new(d("2026-11-17"), d("2026-11-21"), tz);
                q.group_by = group_by;
                assert_eq!(conversations(&inputs, &q), conversations(&rolled, &q));
                assert_eq!(failures(&inputs, &q), failures(&rolled, &q));
                assert_eq!(reconciliation(&inputs, &q), reconciliation(&rolled, &q));
                assert_eq!(templates(&inputs, &q), templates(&rolled, &q));
                assert_eq!(response_times(&inputs, &q), response_times(&rolled, &q));
                assert_eq!(
                    volume(&inputs, &q),
                    volume(&rolled, &q),
                    "{tz} {group_by:?}"
                );
                // With a number filter, volume's conversions need their leads: not rolled.
                let mut q = Query::new(d("2026-11-17"), d("2026-11-21"), tz);
                q.group_by = group_by;
                q.phone_number_id = Some("P2".to_string());
                let rolled = Inputs {
                    conversions: inputs.conversions.clone(),
                    ..rolled.clone()
                };
                assert_eq!(conversations(&inputs, &q), conversations(&rolled, &q));
                assert_eq!(failures(&inputs, &q), failures(&rolled, &q));
                assert_eq!(reconciliation(&inputs, &q), reconciliation(&rolled, &q));
                assert_eq!(templates(&inputs, &q), templates(&rolled, &q));
                assert_eq!(response_times(&inputs, &q), response_times(&rolled, &q));
            }
            assert!(slots_are_exact(
                tz,
                ts("2026-01-01T00:00:00"),
                ts("2026-12-31T00:00:00")
            ));
        }
        let q = Query::new(d("2026-11-17"), d("2026-11-21"), chrono_tz::UTC);
        assert!(!conversations(&inputs, &q).is_empty());
        // The facts are there to compare: waits of each kind and replied template messages.
        let rows = response_times(&inputs, &q);
        assert!(rows.iter().any(|r| r.responder == ResponseKind::Bot));
        assert!(rows.iter().any(|r| r.responder == ResponseKind::Human));
        assert!(templates(&inputs, &q).iter().any(|r| r.replied > 0));
        let mut p2 = q.clone();
        p2.phone_number_id = Some("P2".to_string());
        assert_ne!(
            response_times(&inputs, &q),
            response_times(&inputs, &p2),
            "a number's own waits differ from the unfiltered ones"
        );
        // Monrovia kept −00:44:30 until 1972: its slots would cut days wrongly.
        assert!(!slots_are_exact(chrono_tz::Africa::Monrovia, 0, 86_400));
    }

    #[test]
    fn deltas_of_a_messages_changes_add_up_to_its_last_tally() {
        let t0 = ts("2026-11-20T10:14:50");
        let mut m = out("w", "p", t0);
        m.times.sent_at = None;
        m.times.delivered_at = Some(t0 + 20); // anchor in the next slot first
        let mut states = vec![m.clone()];
        m.times.sent_at = Some(t0); // sent arrives late: the anchor moves a slot back
        states.push(m.clone());
        m.pricing = Some(pricing("marketing", "regular", Some(true)));
        states.push(m.clone());
        m.times.read_at = Some(t0 + 4000);
        states.push(m.clone());
        m.times.failed_at = Some(t0 + 5000);
        states.push(m.clone());
        let mut sum: Vec<Tally> = Vec::new();
        let mut before: Option<Tally> = None;
        for s in &states {
            let after = outbound_tally(s);
            sum.extend(delta(before.as_ref(), after.as_ref()));
            before = after;
        }
        let last = outbound_tally(&m)
            .map(|t| fold_into_slots([t]))
            .unwrap_or_default();
        assert_eq!(fold_into_slots(sum), last);
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].at, ts("2026-11-20T10:00:00"));
        assert!(delta(before.as_ref(), before.as_ref()).is_empty());
    }
}
