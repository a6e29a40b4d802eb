//! Reconciliation: webhook-derived figures beside Meta's, per period × WABA.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::format::{CsvRow, opt_int, safe_cell};
use super::input::Inputs;
use super::query::Query;
use super::spend::OptSum;
use super::tally::Cell;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconciliationRow {
    pub period: String,
    pub waba_id: String,
    /// The single phone_number_id of the WABA's messages in the report's whole range (the
    /// same on every row of the WABA), else `*`.
    pub phone_number_id: String,
    pub webhook_sent: i64,
    pub meta_sent: Option<i64>,
    pub webhook_delivered: i64,
    pub meta_delivered: Option<i64>,
    pub webhook_paid: i64,
    /// Meta's pricing volume with pricing type `regular`; `None` when Meta has no pricing row
    /// for the WABA in the period.
    pub meta_paid_volume: Option<i64>,
}

fn diff(webhook: i64, meta: Option<i64>) -> String {
    meta.map(|m| webhook.saturating_sub(m).to_string())
        .unwrap_or_default()
}

#[derive(Default)]
struct Acc {
    sent: i64,
    delivered: i64,
    paid: i64,
    meta_sent: OptSum,
    meta_delivered: OptSum,
    pricing_rows: bool,
    meta_paid: i64,
}

/// Webhook counts by anchor day; Meta's messaging and pricing rows by Meta's day. Meta
/// columns are empty when Meta has no row (missing is not zero). With a phone filter, only
/// WABAs that have messages on that number are reported (Meta's rows are per WABA and are not
/// filtered further).
pub fn reconciliation(inputs: &Inputs, q: &Query) -> Vec<ReconciliationRow> {
    let mut groups: BTreeMap<(String, &str), Acc> = BTreeMap::new();
    let mut wabas: HashSet<&str> = HashSet::new();
    let mut waba_phones: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let tallies = inputs.message_tallies();
    for t in tallies.iter() {
        if t.cell == Cell::Conversion {
            continue;
        }
        let (waba, phone) = (t.cell.waba_id(), t.cell.phone_number_id());
        if !q.phone_matches(phone) {
            continue;
        }
        wabas.insert(waba);
        if !matches!(t.cell, Cell::Outbound(_)) {
            continue;
        }
        let Some(period) = q.period_of(t.at) else {
            continue;
        };
        waba_phones.entry(waba).or_default().insert(phone);
        let acc = groups.entry((period, waba)).or_default();
        acc.sent = acc.sent.saturating_add(t.counts.messages);
        acc.delivered = acc.delivered.saturating_add(t.counts.delivered);
        acc.paid = acc.paid.saturating_add(t.counts.paid);
    }
    let admitted = |waba: &str| q.phone_number_id.is_none() || wabas.contains(waba);
    for r in &inputs.messaging {
        if q.in_period(r.day) && admitted(&r.waba_id) {
            let acc = groups
                .entry((q.day_label(r.day), r.waba_id.as_str()))
                .or_default();
            acc.meta_sent.add(r.sent);
            acc.meta_delivered.add(r.delivered);
        }
    }
    for r in &inputs.pricing {
        if q.in_period(r.day) && admitted(&r.waba_id) {
            let acc = groups
                .entry((q.day_label(r.day), r.waba_id.as_str()))
                .or_default();
            acc.pricing_rows = true;
            if r.pricing_type == "regular" {
                acc.meta_paid = acc.meta_paid.saturating_add(r.volume);
            }
        }
    }
    groups
        .into_iter()
        .map(|((period, waba), acc)| ReconciliationRow {
            period,
            waba_id: waba.to_string(),
            phone_number_id: match waba_phones.get(waba).map(|p| (p.len(), p.first())) {
                Some((1, Some(p))) => p.to_string(),
                _ => "*".to_string(),
            },
            webhook_sent: acc.sent,
            meta_sent: acc.meta_sent.get(),
            webhook_delivered: acc.delivered,
            meta_delivered: acc.meta_delivered.get(),
            webhook_paid: acc.paid,
            meta_paid_volume: acc.pricing_rows.then_some(acc.meta_paid),
        })
        .collect()
}

impl CsvRow for ReconciliationRow {
    fn header() -> &'static [&'static str] {
        &[
            "period",
            "phone_number_id",
            "webhook_sent",
            "meta_sent",
            "sent_diff",
            "webhook_delivered",
            "meta_delivered",
            "delivered_diff",
            "webhook_paid",
            "meta_paid_volume",
            "paid_diff",
            "waba_id",
        ]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.period.clone(),
            if self.phone_number_id == "*" {
                self.phone_number_id.clone()
            } else {
                safe_cell(&self.phone_number_id)
            },
            self.webhook_sent.to_string(),
            opt_int(self.meta_sent),
            diff(self.webhook_sent, self.meta_sent),
            self.webhook_delivered.to_string(),
            opt_int(self.meta_delivered),
            diff(self.webhook_delivered, self.meta_delivered),
            self.webhook_paid.to_string(),
            opt_int(self.meta_paid_volume),
            diff(self.webhook_paid, self.meta_paid_volume),
            safe_cell(&self.waba_id),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::input::{MessagingDay, PricingDay};
    use super::super::message::testkit::*;
    use super::*;
    use chrono_tz::Tz;

    #[test]
    fn webhook_beside_meta_missing_is_not_zero() {
        let t = ts("2026-11-20T10:00:00");
        let mut paid = out("a", "p", t);
        paid.times.delivered_at = Some(t + 1);
        paid.pricing = Some(pricing("marketing", "regular", Some(true)));
        let mut second_number = out("b", "p", t);
        second_number.phone_number_id = "P2".to_string();
        let mut other_waba = out("c", "p", t);
        other_waba.waba_id = "W2".to_string();
        let inputs = Inputs {
            outbound: vec![paid, second_number, other_waba],
            messaging: vec![MessagingDay {
                waba_id: "W1".to_string(),
                day: d("2026-11-20"),
                sent: Some(3),
                delivered: None,
            }],
            pricing: vec![
                PricingDay {
                    waba_id: "W1".to_string(),
                    day: d("2026-11-20"),
                    pricing_type: "regular".to_string(),
                    volume: 1,
                    ..PricingDay::default()
                },
                PricingDay {
                    waba_id: "W1".to_string(),
                    day: d("2026-11-20"),
                    pricing_type: "free_entry_point".to_string(),
                    volume: 7,
                    ..PricingDay::default()
                },
            ],
            ..Inputs::default()
        };
        let q = Query::new(d("2026-11-20"), d("2026-11-20"), Tz::UTC);
        let rows: Vec<Vec<String>> = reconciliation(&inputs, &q)
            .iter()
            .map(CsvRow::cells)
            .collect();
        let e = "";
        assert_eq!(
            rows,
            vec![
                vec![
                    "2026-11-20",
                    "*",
                    "2",
                    "3",
                    "-1",
                    "1",
                    e,
                    e,
                    "1",
                    "1",
                    "0",
                    "W1"
                ],
                vec!["2026-11-20", "P1", "1", e, e, "0", e, e, "0", e, e, "W2"],
            ]
        );
    }
}
