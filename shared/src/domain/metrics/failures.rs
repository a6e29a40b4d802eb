//! Failures: failed messages per period × error code × title × category.

use std::collections::BTreeMap;

use super::format::{CsvRow, opt_int, safe_cell};
use super::input::Inputs;
use super::query::Query;
use super::tally::Cell;

/// Meta's "limited by Meta" (healthy-ecosystem / per-user marketing limit) error, reported
/// apart from opt-outs.
pub const LIMITED_BY_META: i64 = 131_049;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureRow {
    pub period: String,
    pub error_code: Option<i64>,
    pub error_title: String,
    /// The pricing category the message would have had (`pricing.category`, else empty).
    pub category: String,
    pub failed: u64,
}

impl FailureRow {
    pub fn limited_by_meta(&self) -> bool {
        self.error_code == Some(LIMITED_BY_META)
    }
}

/// Failed messages (last status failed) by anchor day, summed from the message tallies.
pub fn failures(inputs: &Inputs, q: &Query) -> Vec<FailureRow> {
    let tallies = inputs.message_tallies();
    let mut groups: BTreeMap<(String, Option<i64>, &str, &str), u64> = BTreeMap::new();
    for t in tallies.iter() {
        let Cell::Outbound(c) = &t.cell else {
            continue;
        };
        if !c.failed || !q.phone_matches(&c.phone_number_id) {
            continue;
        }
        let Some(period) = q.period_of(t.at) else {
            continue;
        };
        let sum = groups
            .entry((period, c.error_code, &c.error_title, &c.category))
            .or_default();
        *sum = sum.saturating_add_signed(t.counts.messages);
    }
    groups
        .into_iter()
        .map(
            |((period, error_code, title, category), failed)| FailureRow {
                period,
                error_code,
                error_title: title.to_string(),
                category: category.to_string(),
                failed,
            },
        )
        .collect()
}

impl CsvRow for FailureRow {
    fn header() -> &'static [&'static str] {
        &[
            "period",
            "error_code",
            "error_title",
            "category",
            "failed",
            "limited_by_meta",
        ]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.period.clone(),
            opt_int(self.error_code),
            safe_cell(&self.error_title),
            safe_cell(&self.category),
            self.failed.to_string(),
            self.limited_by_meta().to_string(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::message::testkit::*;
    use super::*;
    use chrono_tz::Tz;

    #[test]
    fn failed_messages_by_code_title_and_category() {
        let t = ts("2026-11-20T10:00:00");
        let failed =
            |w: &str, code: i64, title: &str, cat: Option<&str>, delivered: Option<i64>| {
                let mut m = out(w, "p", t);
                m.times.failed_at = Some(t + 5);
                m.times.delivered_at = delivered;
                m.error_code = Some(code);
                m.error_title = Some(title.to_string());
                m.pricing = cat.map(|c| pricing(c, "regular", Some(true)));
                m
            };
        let inputs = Inputs {
            outbound: vec![
                failed("a", 131_049, "=cmd", Some("marketing"), None),
                failed("b", 131_049, "=cmd", Some("marketing"), None),
                failed("c", 131_026, "Undeliverable", None, None),
                // Delivered after the failure: not failed.
                failed("d", 131_026, "Undeliverable", None, Some(t + 9)),
                // Sent and nothing else: not failed.
                out("e", "p", t),
            ],
            ..Inputs::default()
        };
        let q = Query::new(d("2026-11-20"), d("2026-11-20"), Tz::UTC);
        let rows: Vec<Vec<String>> = failures(&inputs, &q).iter().map(CsvRow::cells).collect();
        assert_eq!(
            rows,
            vec![
                vec!["2026-11-20", "131026", "Undeliverable", "", "1", "false"],
                vec!["2026-11-20", "131049", "'=cmd", "marketing", "2", "true"],
            ]
        );
    }
}
