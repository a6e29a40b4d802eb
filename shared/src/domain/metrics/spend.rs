//! Spend from Meta's `pricing_analytics`: per period (by Meta's own day bucket) × phone number
//! × country × category × pricing type × tier. Missing cost is never zero.

use std::collections::BTreeMap;

use super::format::{CsvRow, money_e6, safe_cell};
use super::input::Inputs;
use super::query::Query;

/// Combines per-row states: the common state, or `mixed` when they differ.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StateAcc(Option<String>);

impl StateAcc {
    pub(crate) fn add(&mut self, state: &str) {
        match &self.0 {
            None => self.0 = Some(state.to_string()),
            Some(s) if s == state => {}
            Some(_) => self.0 = Some("mixed".to_string()),
        }
    }

    pub(crate) fn get(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }
}

/// Sums optional values; the sum is missing when any value is (or none was added).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct OptSum {
    sum: i64,
    rows: u64,
    missing: bool,
}

impl OptSum {
    pub(crate) fn add(&mut self, v: Option<i64>) {
        self.rows += 1;
        match v {
            Some(v) => self.sum = self.sum.saturating_add(v),
            None => self.missing = true,
        }
    }

    pub(crate) fn get(&self) -> Option<i64> {
        (self.rows > 0 && !self.missing).then_some(self.sum)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpendRow {
    pub period: String,
    pub phone_number: String,
    pub country: String,
    pub category: String,
    pub pricing_type: String,
    /// `-` when none.
    pub tier: String,
    pub volume: i64,
    /// Cost × 10^6; `None` when any row's cost is missing.
    pub cost_e6: Option<i64>,
    /// The rows' common state, `mixed` if they differ.
    pub cost_state: String,
}

impl SpendRow {
    /// Free vs paid from the pricing type: `regular` paid, `free_*` free, else unknown.
    pub fn paid(&self) -> Option<bool> {
        if self.pricing_type == "regular" {
            Some(true)
        } else if self.pricing_type.starts_with("free") {
            Some(false)
        } else {
            None
        }
    }
}

/// Pricing rows whose day is in the period. Not filtered by `phone_number_id` (Meta's rows
/// carry the display number, not the id).
pub fn spend(inputs: &Inputs, q: &Query) -> Vec<SpendRow> {
    type Key<'a> = (String, &'a str, &'a str, &'a str, &'a str, &'a str);
    let mut groups: BTreeMap<Key<'_>, (i64, OptSum, StateAcc)> = BTreeMap::new();
    for p in &inputs.pricing {
        if !q.in_period(p.day) {
            continue;
        }
        let key = (
            q.day_label(p.day),
            p.phone_number.as_str(),
            p.country.as_str(),
            p.category.as_str(),
            p.pricing_type.as_str(),
            p.tier.as_str(),
        );
        let acc = groups.entry(key).or_default();
        acc.0 = acc.0.saturating_add(p.volume);
        acc.1.add(p.cost_e6);
        acc.2.add(&p.cost_state);
    }
    groups
        .into_iter()
        .map(
            |((period, phone, country, category, pricing_type, tier), (volume, cost, state))| {
                SpendRow {
                    period,
                    phone_number: phone.to_string(),
                    country: country.to_string(),
                    category: category.to_string(),
                    pricing_type: pricing_type.to_string(),
                    tier: tier.to_string(),
                    volume,
                    cost_e6: cost.get(),
                    cost_state: state.get().to_string(),
                }
            },
        )
        .collect()
}

impl CsvRow for SpendRow {
    fn header() -> &'static [&'static str] {
        &[
            "period",
            "phone_number",
            "country",
            "category",
            "pricing_type",
            "tier",
            "volume",
            "cost",
            "cost_state",
            "paid",
        ]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.period.clone(),
            safe_cell(&self.phone_number),
            safe_cell(&self.country),
            safe_cell(&self.category),
            safe_cell(&self.pricing_type),
            // `-` is the contract's "no tier", not a formula.
            if self.tier == "-" {
                self.tier.clone()
            } else {
                safe_cell(&self.tier)
            },
            self.volume.to_string(),
            self.cost_e6.map(money_e6).unwrap_or_default(),
            safe_cell(&self.cost_state),
            self.paid().map(|b| b.to_string()).unwrap_or_default(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::input::PricingDay;
    use super::super::message::testkit::*;
    use super::super::query::GroupBy;
    use super::*;
    use chrono_tz::Tz;

    fn row(day: &str, pt: &str, volume: i64, cost: Option<i64>, state: &str) -> PricingDay {
        PricingDay {
            waba_id: "W1".to_string(),
            day: d(day),
            phone_number: "+15550001".to_string(),
            country: "IN".to_string(),
            category: "marketing".to_string(),
            pricing_type: pt.to_string(),
            tier: "-".to_string(),
            volume,
            cost_e6: cost,
            cost_state: state.to_string(),
        }
    }

    #[test]
    fn sums_volume_and_cost_missing_is_never_zero() {
        let inputs = Inputs {
            pricing: vec![
                row("2026-11-20", "regular", 10, Some(1_250_000), "reported"),
                row("2026-11-21", "regular", 5, Some(625_000), "reported"),
                row("2026-11-20", "free_entry_point", 3, None, "not_returned"),
                row("2026-11-21", "free_entry_point", 2, Some(0), "reported"),
                row("2026-11-22", "regular", 99, Some(1), "reported"), // outside
            ],
            ..Inputs::default()
        };
        let mut q = Query::new(d("2026-11-20"), d("2026-11-21"), Tz::UTC);
        q.group_by = GroupBy::None;
        let rows: Vec<Vec<String>> = spend(&inputs, &q).iter().map(CsvRow::cells).collect();
        assert_eq!(
            rows,
            vec![
                vec![
                    "all",
                    "'+15550001",
                    "IN",
                    "marketing",
                    "free_entry_point",
                    "-",
                    "5",
                    "",
                    "mixed",
                    "false"
                ],
                vec![
                    "all",
                    "'+15550001",
                    "IN",
                    "marketing",
                    "regular",
                    "-",
                    "15",
                    "1.875",
                    "reported",
                    "true"
                ],
            ]
        );
    }
}
