//! Volume: inbound and outbound messages, new leads and conversions per period (or local
//! hour), with the spike rule.
//!
//! Spike rule: a day's total is inbound + outbound messages (outbound by anchor day). Its
//! trailing window is the 7 calendar days before it; days without messages count as 0. The day
//! is a spike when total > mean + 3σ of the window (population σ), computed exactly in
//! integers. A day is only judged when its whole window lies on or after the first day with
//! any message in the inputs (the caller supplies history before `from`); otherwise it is not
//! a spike and its trailing means are empty. Grouped by week, month or none, `spike` is the
//! number of spike days in the period; by day (and hour) it is the day's `1` (a spike) or `0`.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};

use super::format::{CsvRow, fixed, round_div};
use super::input::Inputs;
use super::query::{GroupBy, Query};
use super::tally::Cell;

/// Trailing window length in days.
pub const TRAILING_DAYS: u64 = 7;

/// The `spike` cell: a flag for a day (or an hour of that day), a count of spike days for a
/// longer period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spike {
    Flag(bool),
    Days(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeRow {
    pub period: String,
    pub inbound: u64,
    pub outbound: u64,
    pub new_leads: u64,
    pub conversions: u64,
    pub spike: Spike,
    /// Trailing 7-day mean of daily totals, in tenths (day rows with a full window only).
    pub trailing_mean_tenths: Option<i128>,
    /// Trailing 7-day mean of daily conversions, in tenths (same condition).
    pub conversions_trailing_mean_tenths: Option<i128>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    inbound: u64,
    outbound: u64,
    new_leads: u64,
    conversions: u64,
}

/// Per-day counts over all the inputs (not only the period), phone filter applied.
struct Daily {
    days: BTreeMap<NaiveDate, Counts>,
    first_message_day: Option<NaiveDate>,
}

impl Daily {
    fn new(inputs: &Inputs, q: &Query) -> Daily {
        let mut days: BTreeMap<NaiveDate, Counts> = BTreeMap::new();
        let mut first: Option<NaiveDate> = None;
        let mut seen = |day: NaiveDate| first = Some(first.map_or(day, |f| f.min(day)));
        for t in inputs.message_tallies().iter() {
            if !q.phone_matches(t.cell.phone_number_id()) {
                continue;
            }
            if let Some(day) = q.local_day(t.at) {
                let c = days.entry(day).or_default();
                let n = t.counts.messages;
                match t.cell {
                    Cell::Inbound { .. } => c.inbound = c.inbound.saturating_add_signed(n),
                    Cell::Outbound(_) => c.outbound = c.outbound.saturating_add_signed(n),
                    Cell::Conversion => {
                        if q.phone_number_id.is_none() {
                            c.conversions = c.conversions.saturating_add_signed(n);
                        }
                        continue;
                    }
                    // Person facts live in `Inputs::facts`, never among the message tallies.
                    Cell::Wait { .. } | Cell::Replied { .. } => continue,
                }
                seen(day);
            }
        }
        for l in inputs
            .leads
            .iter()
            .filter(|l| q.phone_matches_opt(l.phone_number_id.as_deref()))
        {
            if let Some(day) = q.local_day(l.created_at) {
                days.entry(day).or_default().new_leads += 1;
            }
        }
        for c in conversions_in_scope(inputs, q) {
            if let Some(day) = q.local_day(c) {
                days.entry(day).or_default().conversions += 1;
            }
        }
        Daily {
            days,
            first_message_day: first,
        }
    }

    fn get(&self, day: NaiveDate) -> Counts {
        self.days.get(&day).copied().unwrap_or_default()
    }

    /// The 7 days before `day`, when all lie on or after the first day with messages.
    fn window(&self, day: NaiveDate) -> Option<Vec<Counts>> {
        let start = day.checked_sub_days(Days::new(TRAILING_DAYS))?;
        if self.first_message_day.is_none_or(|f| start < f) {
            return None;
        }
        let mut out = Vec::with_capacity(TRAILING_DAYS as usize);
        let mut d = start;
        while d < day {
            out.push(self.get(d));
            d = d.succ_opt()?;
        }
        Some(out)
    }

    /// (spike, trailing mean of totals in tenths, trailing mean of conversions in tenths).
    fn judge(&self, day: NaiveDate) -> (bool, Option<i128>, Option<i128>) {
        let Some(window) = self.window(day) else {
            return (false, None, None);
        };
        let n = window.len() as i128;
        let totals: Vec<i128> = window
            .iter()
            .map(|c| i128::from(c.inbound) + i128::from(c.outbound))
            .collect();
        let s: i128 = totals.iter().sum();
        let sq: i128 = totals.iter().map(|t| t * t).sum();
        let today = self.get(day);
        let total = i128::from(today.inbound) + i128::from(today.outbound);
        // total > S/n + 3·sqrt(n·Q − S²)/n  ⇔  n·total − S > 3·sqrt(n·Q − S²)
        let lhs = n * total - s;
        let spike = lhs > 0 && lhs * lhs > 9 * (n * sq - s * s);
        let conv: i128 = window.iter().map(|c| i128::from(c.conversions)).sum();
        (
            spike,
            Some(round_div(s * 10, n)),
            Some(round_div(conv * 10, n)),
        )
    }
}

/// Times of the conversions the phone filter admits (through their lead's number).
/// Without a filter, conversions are counted from the tallies (`Cell::Conversion`) instead.
fn conversions_in_scope(inputs: &Inputs, q: &Query) -> Vec<i64> {
    if q.phone_number_id.is_none() {
        return Vec::new();
    }
    let lead_phone: HashMap<&str, Option<&str>> = inputs
        .leads
        .iter()
        .map(|l| (l.lead_id.as_str(), l.phone_number_id.as_deref()))
        .collect();
    inputs
        .conversions
        .iter()
        .filter(|c| {
            lead_phone
                .get(c.lead_id.as_str())
                .is_some_and(|p| q.phone_matches_opt(*p))
        })
        .map(|c| c.at)
        .collect()
}

/// Volume per period: every period of `from..=to` gets a row (zeros included); grouped by
/// hour, only local hours with something to count get a row.
pub fn volume(inputs: &Inputs, q: &Query) -> Vec<VolumeRow> {
    let daily = Daily::new(inputs, q);
    if q.group_by == GroupBy::Hour {
        return hourly(inputs, q, &daily);
    }
    let mut rows: Vec<VolumeRow> = Vec::new();
    for day in q.days() {
        let c = daily.get(day);
        let (spike, trailing, conv_trailing) = daily.judge(day);
        let period = q.day_label(day);
        let row = match rows.last_mut() {
            Some(r) if r.period == period => r,
            _ => {
                let per_day = q.group_by == GroupBy::Day;
                rows.push(VolumeRow {
                    period,
                    inbound: 0,
                    outbound: 0,
                    new_leads: 0,
                    conversions: 0,
                    spike: if per_day {
                        Spike::Flag(false)
                    } else {
                        Spike::Days(0)
                    },
                    trailing_mean_tenths: if per_day { trailing } else { None },
                    conversions_trailing_mean_tenths: if per_day { conv_trailing } else { None },
                });
                match rows.last_mut() {
                    Some(r) => r,
                    None => continue,
                }
            }
        };
        row.inbound += c.inbound;
        row.outbound += c.outbound;
        row.new_leads += c.new_leads;
        row.conversions += c.conversions;
        row.spike = match row.spike {
            Spike::Flag(f) => Spike::Flag(f || spike),
            Spike::Days(n) => Spike::Days(n + u64::from(spike)),
        };
    }
    rows
}

fn hourly(inputs: &Inputs, q: &Query, daily: &Daily) -> Vec<VolumeRow> {
    let mut hours: BTreeMap<String, Counts> = BTreeMap::new();
    for t in inputs.message_tallies().iter() {
        if !q.phone_matches(t.cell.phone_number_id()) {
            continue;
        }
        let n = t.counts.messages;
        if let Some(h) = q.hour_of(t.at) {
            let c = hours.entry(h).or_default();
            match t.cell {
                Cell::Inbound { .. } => c.inbound = c.inbound.saturating_add_signed(n),
                Cell::Outbound(_) => c.outbound = c.outbound.saturating_add_signed(n),
                Cell::Conversion if q.phone_number_id.is_none() => {
                    c.conversions = c.conversions.saturating_add_signed(n)
                }
                Cell::Conversion | Cell::Wait { .. } | Cell::Replied { .. } => {}
            }
        }
    }
    let mut add = |ts: i64, f: fn(&mut Counts)| {
        if let Some(h) = q.hour_of(ts) {
            f(hours.entry(h).or_default());
        }
    };
    for l in &inputs.leads {
        if q.phone_matches_opt(l.phone_number_id.as_deref()) {
            add(l.created_at, |c| c.new_leads += 1);
        }
    }
    for at in conversions_in_scope(inputs, q) {
        add(at, |c| c.conversions += 1);
    }
    hours
        .into_iter()
        .map(|(period, c)| {
            let day = period
                .get(..10)
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
            let spike = day.is_some_and(|d| daily.judge(d).0);
            VolumeRow {
                period,
                inbound: c.inbound,
                outbound: c.outbound,
                new_leads: c.new_leads,
                conversions: c.conversions,
                spike: Spike::Flag(spike),
                trailing_mean_tenths: None,
                conversions_trailing_mean_tenths: None,
            }
        })
        .collect()
}

impl CsvRow for VolumeRow {
    fn header() -> &'static [&'static str] {
        &[
            "period",
            "inbound",
            "outbound",
            "new_leads",
            "conversions",
            "spike",
            "trailing_mean",
            "conversions_trailing_mean",
        ]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.period.clone(),
            self.inbound.to_string(),
            self.outbound.to_string(),
            self.new_leads.to_string(),
            self.conversions.to_string(),
            match self.spike {
                Spike::Flag(f) => u8::from(f).to_string(),
                Spike::Days(n) => n.to_string(),
            },
            self.trailing_mean_tenths
                .map(|t| fixed(t, 1))
                .unwrap_or_default(),
            self.conversions_trailing_mean_tenths
                .map(|t| fixed(t, 1))
                .unwrap_or_default(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::input::{ConversionRow, LeadRow};
    use super::super::message::testkit::*;
    use super::*;
    use chrono_tz::Tz;

    /// `n` inbound messages at noon UTC of `day`.
    fn inbound_on(inputs: &mut Inputs, day: &str, n: usize) {
        let t = ts(&format!("{day}T12:00:00"));
        for i in 0..n {
            inputs
                .inbound
                .push(inb(&format!("{day}-{i}"), "p", t + i as i64));
        }
    }

    #[test]
    fn spike_rule() {
        // Window 11-13..11-19: totals 10,10,10,10,10,10,4 → S = 64, Q = 616,
        // mean 9.142857, σ² = 616/7 − 9.142857² = 4.408163, σ = 2.0996, fence = 15.44:
        // 16 is a spike, 15 is not.
        let mut inputs = Inputs::default();
        for (day, n) in [
            ("2026-11-13", 10),
            ("2026-11-14", 10),
            ("2026-11-15", 10),
            ("2026-11-16", 10),
            ("2026-11-17", 10),
            ("2026-11-18", 10),
            ("2026-11-19", 4),
        ] {
            inbound_on(&mut inputs, day, n);
        }
        let mut fifteen = inputs.clone();
        inbound_on(&mut fifteen, "2026-11-20", 15);
        inbound_on(&mut inputs, "2026-11-20", 8);
        // 8 inbound + 8 outbound = 16.
        let t = ts("2026-11-20T13:00:00");
        for i in 0..8 {
            inputs.outbound.push(out(&format!("o{i}"), "p", t));
        }
        inputs.conversions.push(ConversionRow {
            lead_id: "l".to_string(),
            at: ts("2026-11-19T09:00:00"),
            ..ConversionRow::default()
        });
        let q = Query::new(d("2026-11-19"), d("2026-11-20"), Tz::UTC);
        let rows: Vec<Vec<String>> = volume(&inputs, &q).iter().map(CsvRow::cells).collect();
        assert_eq!(
            rows,
            vec![
                // 11-19's window starts 11-12, before the first day with data: not judged.
                vec!["2026-11-19", "4", "0", "0", "1", "0", "", ""],
                vec!["2026-11-20", "8", "8", "0", "0", "1", "9.1", "0.1"],
            ]
        );
        let rows = volume(&fifteen, &q);
        assert_eq!(rows[1].spike, Spike::Flag(false));

        // A flat window (σ = 0): anything above the mean is a spike.
        let mut flat = Inputs::default();
        for day in 13..=19 {
            inbound_on(&mut flat, &format!("2026-11-{day}"), 3);
        }
        inbound_on(&mut flat, "2026-11-20", 4);
        inbound_on(&mut flat, "2026-11-21", 3);
        let mut q = Query::new(d("2026-11-20"), d("2026-11-21"), Tz::UTC);
        let flags: Vec<Spike> = volume(&flat, &q).iter().map(|r| r.spike).collect();
        assert_eq!(flags, vec![Spike::Flag(true), Spike::Flag(false)]);
        // Grouped by month: the number of spike days.
        q.group_by = GroupBy::Month;
        let rows = volume(&flat, &q);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].cells(),
            vec!["2026-11", "7", "0", "0", "0", "1", "", ""]
        );
    }

    #[test]
    fn days_without_messages_count_as_zero_and_every_day_gets_a_row() {
        let mut inputs = Inputs::default();
        inbound_on(&mut inputs, "2026-11-01", 1);
        inbound_on(&mut inputs, "2026-11-09", 1);
        inputs.leads.push(LeadRow {
            lead_id: "l".to_string(),
            created_at: ts("2026-11-08T10:00:00"),
            ..LeadRow::default()
        });
        let q = Query::new(d("2026-11-08"), d("2026-11-09"), Tz::UTC);
        let rows: Vec<Vec<String>> = volume(&inputs, &q).iter().map(CsvRow::cells).collect();
        // 11-09's window (11-02..11-08) is all zeros after the first day (11-01): 1 > 0.
        assert_eq!(
            rows,
            vec![
                vec!["2026-11-08", "0", "0", "1", "0", "0", "0.1", "0.0"],
                vec!["2026-11-09", "1", "0", "0", "0", "1", "0.0", "0.0"],
            ]
        );
    }

    #[test]
    fn week_and_none_labels_and_hours() {
        let mut inputs = Inputs::default();
        inbound_on(&mut inputs, "2026-11-01", 2); // Sunday
        inbound_on(&mut inputs, "2026-11-02", 3); // Monday
        let mut q = Query::new(d("2026-11-01"), d("2026-11-02"), Tz::UTC);
        q.group_by = GroupBy::Week;
        let periods: Vec<(String, u64)> = volume(&inputs, &q)
            .into_iter()
            .map(|r| (r.period, r.inbound))
            .collect();
        assert_eq!(
            periods,
            vec![("2026-10-26".to_string(), 2), ("2026-11-02".to_string(), 3)]
        );
        q.group_by = GroupBy::None;
        let rows = volume(&inputs, &q);
        assert_eq!((rows[0].period.as_str(), rows[0].inbound), ("all", 5));
        // Hours in Kathmandu (+5:45): 12:00Z is 17:45 local.
        q.group_by = GroupBy::Hour;
        q.tz = chrono_tz::Asia::Kathmandu;
        let rows: Vec<(String, u64)> = volume(&inputs, &q)
            .into_iter()
            .map(|r| (r.period, r.inbound))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("2026-11-01T17".to_string(), 2),
                ("2026-11-02T17".to_string(), 3)
            ]
        );
    }
}
