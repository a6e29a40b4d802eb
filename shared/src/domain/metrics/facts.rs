//! Person facts: the figures that depend on a person's whole conversation rather than on one
//! message: response waits (`response_times`) and replied template messages (`templates`).
//!
//! They are not additive per message, but they are per person: [`person_facts`] turns one
//! person's every message into tallies ([`Cell::Wait`], [`Cell::Replied`]) with the same
//! functions the report runs ([`response_samples`], [`ReplyIndex`]). So the same code serves
//! two sources:
//! - [`facts_of`]: every person of [`Inputs`] (the per-message path);
//! - the person rollups: the aggregator recomputes a person's facts whenever one of their
//!   messages changes in a way [`relevant`] to them, and moves the difference between the
//!   stored and the new facts into the slots (`shared::facts`).
//!
//! Each fact is counted once per scope: across all of the person's business numbers (what an
//! unfiltered report shows) and on each number alone (what a report filtered to that number
//! shows), so a phone-filtered report reads facts too.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::input::{InboundMsg, Inputs, OutboundMsg};
use super::message::ReplyIndex;
use super::query::Query;
use super::response_times::{ResponseKind, response_samples};
use super::tag::parse_opt_tag;
use super::tally::{Cell, Counts, Tally};

/// A query that only filters by number (the facts do not depend on the period or zone).
fn scope_query(scope: Option<&str>) -> Query {
    let day = NaiveDate::default();
    let mut q = Query::new(day, day, Tz::UTC);
    q.phone_number_id = scope.map(str::to_string);
    q
}

fn one(at: i64, cell: Cell) -> Tally {
    Tally {
        at,
        cell,
        counts: Counts {
            messages: 1,
            ..Counts::default()
        },
    }
}

/// The facts of one person, from every message of theirs (`person` already resolved to the
/// lead; outbound messages without a person are ignored by the caller). One tally per wait
/// and per replied template message, in each scope, at the fact's own time.
pub fn person_facts(inbound: &[InboundMsg], outbound: &[OutboundMsg]) -> Vec<Tally> {
    let inputs = Inputs {
        inbound: inbound.to_vec(),
        outbound: outbound.to_vec(),
        ..Inputs::default()
    };
    let numbers: BTreeSet<&str> = inbound
        .iter()
        .map(|m| m.phone_number_id.as_str())
        .chain(outbound.iter().map(|m| m.phone_number_id.as_str()))
        .collect();
    let mut out = Vec::new();
    for scope in std::iter::once(None).chain(numbers.iter().map(|n| Some(*n))) {
        let q = scope_query(scope);
        for s in response_samples(&inputs, &q) {
            out.push(one(
                s.started_at,
                Cell::Wait {
                    scope: scope.map(str::to_string),
                    kind: s.kind,
                    wait_s: s.wait_s,
                },
            ));
        }
        let replies = ReplyIndex::new(&inputs.inbound, &q);
        for m in outbound {
            if !q.phone_matches(&m.phone_number_id) {
                continue;
            }
            let (Some(template), Some(anchor)) =
                (parse_opt_tag(m.tag.as_deref()).template, m.anchor())
            else {
                continue;
            };
            if replies.replied(m) {
                out.push(one(
                    anchor,
                    Cell::Replied {
                        waba_id: m.waba_id.clone(),
                        phone_number_id: m.phone_number_id.clone(),
                        template,
                        same_number: scope.is_some(),
                    },
                ));
            }
        }
    }
    out
}

/// The facts of every person of the inputs (their `person` fields already resolved).
pub fn facts_of(inputs: &Inputs) -> Vec<Tally> {
    type Messages<'a> = (Vec<InboundMsg>, Vec<OutboundMsg>);
    let mut people: BTreeMap<&str, Messages<'_>> = BTreeMap::new();
    for m in &inputs.inbound {
        people.entry(&m.person).or_default().0.push(m.clone());
    }
    for m in &inputs.outbound {
        if let Some(p) = m.person.as_deref() {
            people.entry(p).or_default().1.push(m.clone());
        }
    }
    people
        .values()
        .flat_map(|(i, o)| person_facts(i, o))
        .collect()
}

/// What of an outbound message the facts depend on: its person, anchor, failure, number and
/// tag, and for a template message its delivery (the reply test). A change that keeps this
/// (a `read` after `delivered`, a pricing update, any delivery of a non-template message)
/// cannot change any fact.
pub fn outbound_projection(
    m: &OutboundMsg,
) -> (Option<&str>, Option<i64>, bool, bool, &str, Option<&str>) {
    let template = parse_opt_tag(m.tag.as_deref()).template.is_some();
    (
        m.person.as_deref(),
        m.anchor(),
        m.is_failed(),
        template && m.times.is_delivered(),
        &m.phone_number_id,
        m.tag.as_deref(),
    )
}

/// Whether a change of an outbound message can change its person's facts.
pub fn relevant(before: Option<&OutboundMsg>, after: Option<&OutboundMsg>) -> bool {
    before.map(outbound_projection) != after.map(outbound_projection)
}

impl Inputs {
    /// The person facts the `response_times` and `templates` families read: the rolled-up
    /// ones when the source supplied them, else computed from the messages.
    pub fn person_facts(&self) -> Cow<'_, [Tally]> {
        match &self.facts {
            Some(t) => Cow::Borrowed(t.as_slice()),
            None => Cow::Owned(facts_of(self)),
        }
    }
}

/// The waits of a query's scope: (start time, kind, wait, how many).
pub fn waits<'a>(
    facts: &'a [Tally],
    q: &'a Query,
) -> impl Iterator<Item = (i64, ResponseKind, i64, i64)> + 'a {
    facts.iter().filter_map(move |t| match &t.cell {
        Cell::Wait {
            scope,
            kind,
            wait_s,
        } if *scope == q.phone_number_id => Some((t.at, *kind, *wait_s, t.counts.messages)),
        _ => None,
    })
}

/// The replied template messages of a query's scope: (anchor, template, how many).
pub fn replied<'a>(
    facts: &'a [Tally],
    q: &'a Query,
) -> impl Iterator<Item = (i64, &'a str, i64)> + 'a {
    facts.iter().filter_map(move |t| match &t.cell {
        Cell::Replied {
            phone_number_id,
            template,
            same_number,
            ..
        } if *same_number == q.phone_number_id.is_some() && q.phone_matches(phone_number_id) => {
            Some((t.at, template.as_str(), t.counts.messages))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::input::Times;
    use super::super::message::testkit::*;
    use super::*;

    #[test]
    fn only_changes_a_fact_can_see_are_relevant() {
        let t = ts("2026-11-20T10:00:00");
        let plain = out("o", "p", t);
        let mut delivered = plain.clone();
        delivered.times.delivered_at = Some(t + 5);
        assert!(
            !relevant(Some(&plain), Some(&delivered)),
            "no template: delivery is no fact"
        );
        let mut tpl = plain.clone();
        tpl.tag = Some("template=hello".into());
        let mut tpl_delivered = tpl.clone();
        tpl_delivered.times.delivered_at = Some(t + 5);
        assert!(
            relevant(Some(&tpl), Some(&tpl_delivered)),
            "a template's delivery: replies"
        );
        let mut read = tpl_delivered.clone();
        read.times.read_at = Some(t + 9);
        assert!(!relevant(Some(&tpl_delivered), Some(&read)));
        let mut failed = plain.clone();
        failed.times.failed_at = Some(t + 1);
        assert!(
            relevant(Some(&plain), Some(&failed)),
            "a failure takes an answer away"
        );
        let mut earlier = plain.clone();
        earlier.times = Times {
            sent_at: Some(t - 30),
            ..Times::default()
        };
        assert!(relevant(Some(&plain), Some(&earlier)), "the anchor moved");
        assert!(relevant(None, Some(&plain)), "a new message");
    }
}
