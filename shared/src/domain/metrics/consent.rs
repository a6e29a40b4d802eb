//! Consent: events and distinct people per period × action × source × category.

use std::collections::{BTreeMap, HashSet};

use super::format::{CsvRow, safe_cell};
use super::input::{ConsentAction, ConsentSource, Inputs};
use super::query::Query;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub period: String,
    pub action: ConsentAction,
    pub source: ConsentSource,
    /// Empty for an event without categories.
    pub category: String,
    pub events: u64,
    pub people: u64,
}

/// An event with several categories counts once in each; one without any counts under an
/// empty category. A category listed twice in one event counts once.
pub fn consent(inputs: &Inputs, q: &Query) -> Vec<ConsentRow> {
    type Key<'a> = (String, ConsentAction, ConsentSource, &'a str);
    let mut groups: BTreeMap<Key<'_>, (u64, HashSet<&str>)> = BTreeMap::new();
    for e in &inputs.consent {
        if !q.phone_matches(&e.phone_number_id) {
            continue;
        }
        let Some(period) = q.period_of(e.at) else {
            continue;
        };
        let mut cats: Vec<&str> = e.categories.iter().map(String::as_str).collect();
        cats.sort_unstable();
        cats.dedup();
        if cats.is_empty() {
            cats.push("");
        }
        for cat in cats {
            let acc = groups
                .entry((period.clone(), e.action, e.source, cat))
                .or_default();
            acc.0 += 1;
            acc.1.insert(e.person.as_str());
        }
    }
    groups
        .into_iter()
        .map(
            |((period, action, source, category), (events, people))| ConsentRow {
                period,
                action,
                source,
                category: category.to_string(),
                events,
                people: people.len() as u64,
            },
        )
        .collect()
}

impl CsvRow for ConsentRow {
    fn header() -> &'static [&'static str] {
        &["period", "action", "source", "category", "events", "people"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.period.clone(),
            self.action.as_str().to_string(),
            self.source.as_str().to_string(),
            safe_cell(&self.category),
            self.events.to_string(),
            self.people.to_string(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::input::ConsentEvt;
    use super::super::message::testkit::*;
    use super::super::query::GroupBy;
    use super::*;
    use chrono_tz::Tz;

    fn evt(person: &str, at: i64, action: ConsentAction, cats: &[&str]) -> ConsentEvt {
        ConsentEvt {
            person: person.to_string(),
            phone_number_id: "P1".to_string(),
            at,
            action,
            source: ConsentSource::Keyword,
            categories: cats.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn events_and_distinct_people() {
        let t = ts("2026-11-20T10:00:00");
        let mut api = evt("c", t, ConsentAction::OptIn, &["marketing"]);
        api.source = ConsentSource::Api;
        let mut other_number = evt("d", t, ConsentAction::OptOut, &[]);
        other_number.phone_number_id = "P2".to_string();
        let inputs = Inputs {
            consent: vec![
                evt("a", t, ConsentAction::OptOut, &["marketing", "utility"]),
                evt("a", t + 60, ConsentAction::OptOut, &["marketing"]),
                evt("b", t + 120, ConsentAction::OptOut, &["marketing"]),
                evt("b", t + 86_400, ConsentAction::Resume, &[]), // the next day
                api,
                other_number,
            ],
            ..Inputs::default()
        };
        let mut q = Query::new(d("2026-11-20"), d("2026-11-20"), Tz::UTC);
        q.phone_number_id = Some("P1".to_string());
        let rows: Vec<Vec<String>> = consent(&inputs, &q).iter().map(CsvRow::cells).collect();
        assert_eq!(
            rows,
            vec![
                vec!["2026-11-20", "opt_in", "api", "marketing", "1", "1"],
                vec!["2026-11-20", "opt_out", "keyword", "marketing", "3", "2"],
                vec!["2026-11-20", "opt_out", "keyword", "utility", "1", "1"],
            ]
        );
        q.to = d("2026-11-21");
        q.group_by = GroupBy::Week;
        q.phone_number_id = None;
        let rows = consent(&inputs, &q);
        // 2026-11-20 is a Friday: both days are in the week of Monday 2026-11-16.
        assert!(rows.iter().all(|r| r.period == "2026-11-16"));
        let resume = rows
            .iter()
            .find(|r| r.action == ConsentAction::Resume)
            .expect("resume row");
        assert_eq!((resume.category.as_str(), resume.events), ("", 1));
        let opt_out_none = rows
            .iter()
            .find(|r| r.action == ConsentAction::OptOut && r.category.is_empty())
            .expect("other number's opt-out");
        assert_eq!(opt_out_none.people, 1);
    }
}
