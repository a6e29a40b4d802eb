//! Conversations / messages: per period × phone_number_id × pricing category × pricing type.

use std::collections::BTreeMap;

use super::format::{CsvRow, rate, safe_cell};
use super::input::Inputs;
use super::query::Query;
use super::tally::Cell;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationRow {
    pub period: String,
    pub phone_number_id: String,
    /// Empty for failed or unpriced messages.
    pub category: String,
    pub pricing_type: String,
    pub sent: u64,
    pub delivered: u64,
    pub read: u64,
    pub failed: u64,
    pub paid: u64,
    pub free: u64,
}

/// Outbound messages by their anchor day (see [`super`]), summed from the message tallies.
pub fn conversations(inputs: &Inputs, q: &Query) -> Vec<ConversationRow> {
    let tallies = inputs.message_tallies();
    let mut groups: BTreeMap<(String, &str, &str, &str), ConversationRow> = BTreeMap::new();
    for t in tallies.iter() {
        let Cell::Outbound(c) = &t.cell else {
            continue;
        };
        if !q.phone_matches(&c.phone_number_id) {
            continue;
        }
        let Some(period) = q.period_of(t.at) else {
            continue;
        };
        let key = (
            period,
            c.phone_number_id.as_str(),
            c.effective_category(),
            c.pricing_type.as_str(),
        );
        let row = groups.entry(key).or_insert_with_key(|k| ConversationRow {
            period: k.0.clone(),
            phone_number_id: k.1.to_string(),
            category: k.2.to_string(),
            pricing_type: k.3.to_string(),
            ..ConversationRow::default()
        });
        let n = &t.counts;
        let failed = if c.failed { n.messages } else { 0 };
        for (sum, add) in [
            (&mut row.sent, n.messages),
            (&mut row.delivered, n.delivered),
            (&mut row.read, n.read),
            (&mut row.failed, failed),
            (&mut row.paid, n.paid),
            (&mut row.free, n.free),
        ] {
            *sum = sum.saturating_add_signed(add);
        }
    }
    groups.into_values().collect()
}

impl CsvRow for ConversationRow {
    fn header() -> &'static [&'static str] {
        &[
            "period",
            "phone_number_id",
            "category",
            "pricing_type",
            "sent",
            "delivered",
            "read",
            "failed",
            "paid",
            "free",
            "delivery_rate",
            "read_rate",
        ]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.period.clone(),
            safe_cell(&self.phone_number_id),
            safe_cell(&self.category),
            safe_cell(&self.pricing_type),
            self.sent.to_string(),
            self.delivered.to_string(),
            self.read.to_string(),
            self.failed.to_string(),
            self.paid.to_string(),
            self.free.to_string(),
            rate(self.delivered as i64, self.sent as i64),
            rate(self.read as i64, self.delivered as i64),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::message::testkit::*;
    use super::super::query::GroupBy;
    use super::*;
    use chrono_tz::Tz;

    fn cells(rows: &[ConversationRow]) -> Vec<Vec<String>> {
        rows.iter().map(CsvRow::cells).collect()
    }

    #[test]
    fn day_assignment_in_kathmandu_kolkata_and_new_york() {
        // 2026-11-20T18:20:00Z: Kolkata 23:50 on the 20th, Kathmandu 00:05 on the 21st.
        let m = out("w1", "p", ts("2026-11-20T18:20:00"));
        // Across the New York DST end (2026-11-01 06:00Z): 03:30Z is Oct 31 23:30 EDT,
        // 04:30Z is Nov 1 00:30 EDT, and Nov 2 04:30Z is Nov 1 23:30 EST.
        let ny = [
            out("n1", "p", ts("2026-11-01T03:30:00")),
            out("n2", "p", ts("2026-11-01T04:30:00")),
            out("n3", "p", ts("2026-11-02T04:30:00")),
            out("n4", "p", ts("2026-11-02T05:30:00")),
        ];
        let inputs = Inputs {
            outbound: [vec![m], ny.to_vec()].concat(),
            ..Inputs::default()
        };
        let per_day = |tz: Tz, from: &str, to: &str| -> Vec<(String, u64)> {
            let q = Query::new(d(from), d(to), tz);
            conversations(&inputs, &q)
                .into_iter()
                .map(|r| (r.period, r.sent))
                .collect()
        };
        let day = |s: &str, n: u64| (s.to_string(), n);
        assert_eq!(
            per_day(chrono_tz::Asia::Kolkata, "2026-11-20", "2026-11-21"),
            vec![day("2026-11-20", 1)]
        );
        assert_eq!(
            per_day(chrono_tz::Asia::Kathmandu, "2026-11-20", "2026-11-21"),
            vec![day("2026-11-21", 1)]
        );
        assert_eq!(
            per_day(chrono_tz::America::New_York, "2026-10-31", "2026-11-02"),
            vec![
                day("2026-10-31", 1),
                day("2026-11-01", 2),
                day("2026-11-02", 1)
            ]
        );
        // The same instants in UTC.
        assert_eq!(
            per_day(Tz::UTC, "2026-11-01", "2026-11-02"),
            vec![day("2026-11-01", 2), day("2026-11-02", 2)]
        );
    }

    #[test]
    fn counts_rates_and_pricing() {
        let t = ts("2026-11-20T10:00:00");
        let priced = pricing("marketing", "regular", Some(true));
        // Read three days later: a read of its sent day.
        let mut late_read = out("a", "p1", t);
        late_read.pricing = Some(priced.clone());
        late_read.times.delivered_at = Some(t + 10);
        late_read.times.read_at = Some(t + 3 * 86_400);
        // Read without delivered: delivered too.
        let mut read_only = out("b", "p2", t);
        read_only.pricing = Some(priced.clone());
        read_only.times.read_at = Some(t + 20);
        // Failed after sent, with pricing: no pricing, neither paid nor free.
        let mut failed = out("c", "p3", t);
        failed.pricing = Some(priced.clone());
        failed.times.failed_at = Some(t + 5);
        // Free service message, only sent.
        let mut free = out("e", "p4", t);
        free.pricing = Some(pricing("service", "free_customer_service", Some(false)));
        // No sent status: anchored on its earliest status (delivered on the 21st).
        let mut late = out("f", "p5", 0);
        late.times.sent_at = None;
        late.times.delivered_at = Some(t + 86_400);
        late.pricing = Some(priced);
        // Another number, filtered out below.
        let mut other = out("g", "p6", t);
        other.phone_number_id = "P2".to_string();
        let inputs = Inputs {
            outbound: vec![late_read, read_only, failed, free, late, other],
            ..Inputs::default()
        };
        let mut q = Query::new(d("2026-11-20"), d("2026-11-21"), Tz::UTC);
        q.phone_number_id = Some("P1".to_string());
        assert_eq!(
            cells(&conversations(&inputs, &q)),
            vec![
                vec![
                    "2026-11-20",
                    "P1",
                    "",
                    "",
                    "1",
                    "0",
                    "0",
                    "1",
                    "0",
                    "0",
                    "0.0000",
                    ""
                ],
                vec![
                    "2026-11-20",
                    "P1",
                    "marketing",
                    "regular",
                    "2",
                    "2",
                    "2",
                    "0",
                    "2",
                    "0",
                    "1.0000",
                    "1.0000"
                ],
                vec![
                    "2026-11-20",
                    "P1",
                    "service",
                    "free_customer_service",
                    "1",
                    "0",
                    "0",
                    "0",
                    "0",
                    "1",
                    "0.0000",
                    ""
                ],
                vec![
                    "2026-11-21",
                    "P1",
                    "marketing",
                    "regular",
                    "1",
                    "1",
                    "0",
                    "0",
                    "1",
                    "0",
                    "1.0000",
                    "0.0000"
                ],
            ]
        );
        q.group_by = GroupBy::Month;
        q.phone_number_id = None;
        let rows = conversations(&inputs, &q);
        assert!(rows.iter().all(|r| r.period == "2026-11"));
        assert_eq!(rows.iter().map(|r| r.sent).sum::<u64>(), 6);
    }
}
