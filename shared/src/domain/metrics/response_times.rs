//! Response times per person, split `any` / `bot` / `human` (see the module docs of
//! [`super`] for the definitions), and their statistics per period.

use std::collections::{BTreeMap, HashMap};

use super::facts::waits;
use super::format::{CsvRow, fixed, round_div};
use super::input::Inputs;
use super::message::event_key;
use super::query::Query;
use super::stats;
use super::tag::{Responder, parse_opt_tag};

/// Which wait a sample measures.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum ResponseKind {
    /// First unanswered inbound → first outbound message at or after it.
    Any,
    /// The `any` samples answered by a `by=bot` message.
    Bot,
    /// First inbound not yet answered by a human → first non-bot outbound message.
    Human,
}

impl ResponseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseKind::Any => "any",
            ResponseKind::Bot => "bot",
            ResponseKind::Human => "human",
        }
    }
}

/// One measured wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseSample {
    pub person: String,
    pub kind: ResponseKind,
    /// The inbound message that started the wait.
    pub started_at: i64,
    /// The answering outbound message's anchor time.
    pub answered_at: i64,
    pub wait_s: i64,
}

/// Every wait of every person, in any period (unanswered waits yield nothing). Group
/// messages and failed outbound messages are ignored; the phone filter applies to both sides.
pub fn response_samples(inputs: &Inputs, q: &Query) -> Vec<ResponseSample> {
    // (time, inbound-first rank, wamid, None = inbound | Some(responder))
    type Event<'a> = ((i64, u8, &'a str), Option<Responder>);
    let mut per_person: HashMap<&str, Vec<Event<'_>>> = HashMap::new();
    for m in &inputs.inbound {
        if q.phone_matches(&m.phone_number_id) {
            per_person
                .entry(m.person.as_str())
                .or_default()
                .push((event_key(m.at, true, &m.wamid), None));
        }
    }
    for m in &inputs.outbound {
        let (Some(person), Some(anchor)) = (m.person.as_deref(), m.anchor()) else {
            continue;
        };
        if m.is_failed() || !q.phone_matches(&m.phone_number_id) {
            continue;
        }
        let by = parse_opt_tag(m.tag.as_deref()).by;
        per_person
            .entry(person)
            .or_default()
            .push((event_key(anchor, false, &m.wamid), Some(by)));
    }
    let mut people: Vec<_> = per_person.into_iter().collect();
    people.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut out = Vec::new();
    for (person, mut events) in people {
        events.sort_unstable();
        let mut any_wait: Option<i64> = None;
        let mut human_wait: Option<i64> = None;
        let mut push = |kind, started_at: i64, answered_at: i64| {
            out.push(ResponseSample {
                person: person.to_string(),
                kind,
                started_at,
                answered_at,
                wait_s: answered_at.saturating_sub(started_at),
            })
        };
        for ((at, _, _), by) in events {
            match by {
                None => {
                    any_wait.get_or_insert(at);
                    human_wait.get_or_insert(at);
                }
                Some(by) => {
                    if let Some(start) = any_wait.take() {
                        push(ResponseKind::Any, start, at);
                        if by == Responder::Bot {
                            push(ResponseKind::Bot, start, at);
                        }
                    }
                    if by == Responder::Human
                        && let Some(start) = human_wait.take()
                    {
                        push(ResponseKind::Human, start, at);
                    }
                }
            }
        }
    }
    out
}

/// Statistics of one (period, responder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseTimeRow {
    pub period: String,
    pub responder: ResponseKind,
    pub responses: u64,
    /// Mean in tenths of a second, rounded half up.
    pub mean_tenths: i128,
    /// Median × 2 (mean of the two middle values for an even count).
    pub median_x2: i128,
    /// Nearest rank.
    pub p90_s: i64,
    pub max_s: i64,
    /// Samples above the SLA.
    pub over_sla: u64,
    /// Samples above Q3 + 1.5 × IQR (see [`super::stats`] for the quartile method).
    pub outliers: u64,
}

/// Response-time statistics per period × responder; a sample belongs to the period of the
/// inbound message that started its wait (waits started outside the period are left out).
/// Only (period, responder) pairs with at least one sample get a row.
pub fn response_times(inputs: &Inputs, q: &Query) -> Vec<ResponseTimeRow> {
    let mut groups: BTreeMap<(String, ResponseKind), Vec<i64>> = BTreeMap::new();
    let facts = inputs.person_facts();
    for (started_at, kind, wait_s, n) in waits(&facts, q) {
        if let Some(period) = q.period_of(started_at) {
            let w = groups.entry((period, kind)).or_default();
            w.extend(std::iter::repeat_n(wait_s, usize::try_from(n).unwrap_or(0)));
        }
    }
    let mut rows = Vec::with_capacity(groups.len());
    for ((period, responder), mut waits) in groups {
        waits.sort_unstable();
        let (Some(median_x2), Some(p90_s), Some(&max_s)) =
            (stats::median_x2(&waits), stats::p90(&waits), waits.last())
        else {
            continue;
        };
        let n = waits.len();
        let sum: i128 = waits.iter().map(|&w| i128::from(w)).sum();
        rows.push(ResponseTimeRow {
            period,
            responder,
            responses: n as u64,
            mean_tenths: round_div(sum * 10, n as i128),
            median_x2,
            p90_s,
            max_s,
            over_sla: waits.iter().filter(|&&w| w > q.sla_seconds).count() as u64,
            outliers: stats::outliers(&waits) as u64,
        });
    }
    rows
}

impl CsvRow for ResponseTimeRow {
    fn header() -> &'static [&'static str] {
        &[
            "period",
            "responder",
            "responses",
            "mean_s",
            "median_s",
            "p90_s",
            "max_s",
            "over_sla",
            "outliers",
        ]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.period.clone(),
            self.responder.as_str().to_string(),
            self.responses.to_string(),
            fixed(self.mean_tenths, 1),
            fixed(self.median_x2 * 5, 1),
            self.p90_s.to_string(),
            self.max_s.to_string(),
            self.over_sla.to_string(),
            self.outliers.to_string(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::message::testkit::*;
    use super::*;
    use chrono_tz::Tz;

    fn tagged(wamid: &str, person: &str, at: i64, tag: &str) -> super::super::input::OutboundMsg {
        let mut m = out(wamid, person, at);
        m.tag = Some(tag.to_string());
        m
    }

    fn row(rows: &[ResponseTimeRow], kind: ResponseKind) -> &ResponseTimeRow {
        rows.iter()
            .find(|r| r.responder == kind)
            .expect("row present")
    }

    #[test]
    fn any_bot_human_with_a_bot_hand_off() {
        let t = ts("2026-11-20T10:00:00");
        let inputs = Inputs {
            inbound: vec![
                inb("i1", "p", t),
                inb("i2", "p", t + 60),
                // Same second as the human answer: inbound first, so it is answered at once.
                inb("i3", "q", t + 100),
            ],
            outbound: vec![
                tagged("o1", "p", t + 5, "by=bot"),
                tagged("o2", "p", t + 660, "by=human;agent=a1"),
                out("o3", "q", t + 100),
                // A failed message never answers; a group message is ignored.
                {
                    let mut f = out("o4", "q", t + 50);
                    f.times.failed_at = Some(t + 51);
                    f
                },
            ],
            ..Inputs::default()
        };
        let q = Query::new(d("2026-11-20"), d("2026-11-20"), Tz::UTC);
        let samples = response_samples(&inputs, &q);
        let waits = |kind| -> Vec<i64> {
            samples
                .iter()
                .filter(|s| s.kind == kind)
                .map(|s| s.wait_s)
                .collect()
        };
        // p: i1 → bot o1 (5 s, any and bot); i2 starts a new `any` wait → o2 (600 s);
        // the human wait started at i1 (the bot did not answer it) → o2 (660 s).
        // q: i3 → o3 in the same second (0 s); the failed o4 answered nothing.
        assert_eq!(waits(ResponseKind::Any), vec![5, 600, 0]);
        assert_eq!(waits(ResponseKind::Bot), vec![5]);
        assert_eq!(waits(ResponseKind::Human), vec![660, 0]);

        let rows = response_times(&inputs, &q);
        assert_eq!(rows.len(), 3);
        let any = row(&rows, ResponseKind::Any);
        assert_eq!(any.responses, 3);
        // mean 605 / 3 = 201.67 → 201.7; median 5; p90 = ceil(2.7) = 3rd = 600.
        assert_eq!(
            any.cells(),
            [
                "2026-11-20",
                "any",
                "3",
                "201.7",
                "5.0",
                "600",
                "600",
                "0",
                "0"
            ]
        );
        let human = row(&rows, ResponseKind::Human);
        // [0, 660]: mean 330.0, median 330, p90 = 2nd = 660, over SLA 900: none.
        assert_eq!(
            human.cells(),
            [
                "2026-11-20",
                "human",
                "2",
                "330.0",
                "330.0",
                "660",
                "660",
                "0",
                "0"
            ]
        );
        assert_eq!(row(&rows, ResponseKind::Bot).responses, 1);
    }

    #[test]
    fn waits_started_outside_the_period_are_excluded_and_unanswered_yield_nothing() {
        let t = ts("2026-11-20T23:59:00");
        let inputs = Inputs {
            inbound: vec![
                inb("i1", "p", t),       // day before the period
                inb("i2", "p", t + 120), // already waiting: not a new wait
                inb("i3", "r", t + 200), // never answered
            ],
            outbound: vec![out("o1", "p", t + 300)],
            ..Inputs::default()
        };
        let q = Query::new(d("2026-11-21"), d("2026-11-21"), Tz::UTC);
        assert!(response_times(&inputs, &q).is_empty());
        let q20 = Query::new(d("2026-11-20"), d("2026-11-20"), Tz::UTC);
        let rows = response_times(&inputs, &q20);
        assert_eq!(rows.len(), 2); // any and human, both 300 s
        assert!(rows.iter().all(|r| r.max_s == 300));
    }

    fn waits_inputs(waits: &[i64]) -> Inputs {
        let t = ts("2026-11-20T08:00:00");
        let mut inputs = Inputs::default();
        for (i, w) in waits.iter().enumerate() {
            let p = format!("p{i}");
            inputs.inbound.push(inb(&format!("i{i}"), &p, t));
            inputs.outbound.push(out(&format!("o{i}"), &p, t + w));
        }
        inputs
    }

    #[test]
    fn statistics_even_median_sla_and_outliers() {
        // Ten people, one wait each.
        let inputs = waits_inputs(&[10, 20, 30, 40, 50, 60, 70, 80, 90, 2000]);
        let mut q = Query::new(d("2026-11-20"), d("2026-11-20"), Tz::UTC);
        q.sla_seconds = 85;
        let rows = response_times(&inputs, &q);
        // sum 2450 → mean 245.0; median (50+60)/2 = 55; p90 = 9th = 90; max 2000;
        // over 85 s: 90 and 2000; Q1 = median[10..50] = 30, Q3 = median[60..2000] = 80,
        // fence 80 + 1.5 × 50 = 155: only 2000 is an outlier.
        assert_eq!(
            row(&rows, ResponseKind::Any).cells(),
            [
                "2026-11-20",
                "any",
                "10",
                "245.0",
                "55.0",
                "90",
                "2000",
                "2",
                "1"
            ]
        );
    }

    #[test]
    fn median_odd_even_and_half() {
        let q = Query::new(d("2026-11-20"), d("2026-11-20"), Tz::UTC);
        let median = |waits: &[i64]| {
            let rows = response_times(&waits_inputs(waits), &q);
            row(&rows, ResponseKind::Any).cells()[4].clone()
        };
        assert_eq!(median(&[7, 1, 3]), "3.0");
        assert_eq!(median(&[1, 3, 5, 7]), "4.0");
        assert_eq!(median(&[1, 3, 4, 7]), "3.5");
        // mean of [1, 2] = 1.5 printed with one decimal; [1, 1, 2] = 1.33 → 1.3.
        let rows = response_times(&waits_inputs(&[1, 1, 2]), &q);
        assert_eq!(row(&rows, ResponseKind::Any).cells()[3], "1.3");
        let rows = response_times(&waits_inputs(&[1, 2]), &q);
        assert_eq!(row(&rows, ResponseKind::Any).cells()[3], "1.5");
    }
}
