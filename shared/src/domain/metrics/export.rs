//! The row-level `messages` export: one row per outbound message whose anchor day is in the
//! period, in time order, with the opt-out it led to.

use std::collections::HashMap;

use super::format::{CsvRow, opt_bool, opt_int, opt_iso, safe_cell, safe_opt};
use super::input::{ConsentAction, ConsentEvt, Inputs, OutboundMsg, Times};
use super::message::Status;
use super::query::Query;
use super::tag::{Responder, parse_opt_tag};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub wamid: String,
    /// The person (lead key); empty for a group message.
    pub lead_id: String,
    pub phone_number_id: String,
    pub waba_id: String,
    pub template: Option<String>,
    pub campaign: Option<String>,
    pub agent: Option<String>,
    pub responder: Responder,
    /// Empty for failed or unpriced messages.
    pub category: String,
    pub pricing_type: String,
    pub paid: Option<bool>,
    pub status: Status,
    pub times: Times,
    pub error_code: Option<i64>,
    pub error_title: Option<String>,
    pub opted_out_at: Option<i64>,
}

/// Attributes each opt-out (action `OptOut`) to its person's latest outbound message whose
/// anchor is at or before the opt-out time (ties in the same second: the largest wamid, as in
/// the total order). A message credited with several opt-outs shows the earliest. Opt-outs
/// with no earlier message are not attributed. Matching is by person only.
pub fn opt_out_attribution(
    outbound: &[OutboundMsg],
    consent: &[ConsentEvt],
) -> HashMap<String, i64> {
    let mut per_person: HashMap<&str, Vec<(i64, &str)>> = HashMap::new();
    for m in outbound {
        if let (Some(p), Some(a)) = (m.person.as_deref(), m.anchor()) {
            per_person.entry(p).or_default().push((a, m.wamid.as_str()));
        }
    }
    for v in per_person.values_mut() {
        v.sort_unstable();
    }
    let mut out: HashMap<String, i64> = HashMap::new();
    for e in consent.iter().filter(|e| e.action == ConsentAction::OptOut) {
        let Some(msgs) = per_person.get(e.person.as_str()) else {
            continue;
        };
        let i = msgs.partition_point(|&(a, _)| a <= e.at);
        let Some(&(_, wamid)) = i.checked_sub(1).and_then(|i| msgs.get(i)) else {
            continue;
        };
        out.entry(wamid.to_string())
            .and_modify(|t| *t = (*t).min(e.at))
            .or_insert(e.at);
    }
    out
}

/// One export row (pure; callers stream messages through it).
pub fn message_row(m: &OutboundMsg, opted_out_at: Option<i64>) -> MessageRow {
    let tag = parse_opt_tag(m.tag.as_deref());
    MessageRow {
        wamid: m.wamid.clone(),
        lead_id: m.person.clone().unwrap_or_default(),
        phone_number_id: m.phone_number_id.clone(),
        waba_id: m.waba_id.clone(),
        template: tag.template,
        campaign: tag.campaign,
        agent: tag.agent,
        responder: tag.by,
        category: m.category().to_string(),
        pricing_type: m.pricing_type().to_string(),
        paid: m.paid(),
        status: m.times.status(),
        times: m.times,
        error_code: m.error_code,
        error_title: m.error_title.clone(),
        opted_out_at,
    }
}

/// Every outbound message anchored in the period (phone filter applied), ordered by
/// (anchor, wamid).
pub fn messages(inputs: &Inputs, q: &Query) -> Vec<MessageRow> {
    let opt_outs = opt_out_attribution(&inputs.outbound, &inputs.consent);
    let mut selected: Vec<(i64, &OutboundMsg)> = inputs
        .outbound
        .iter()
        .filter(|m| q.phone_matches(&m.phone_number_id))
        .filter_map(|m| {
            let a = m.anchor()?;
            q.local_day(a)
                .is_some_and(|day| q.in_period(day))
                .then_some((a, m))
        })
        .collect();
    selected.sort_unstable_by(|a, b| (a.0, &a.1.wamid).cmp(&(b.0, &b.1.wamid)));
    selected
        .into_iter()
        .map(|(_, m)| message_row(m, opt_outs.get(&m.wamid).copied()))
        .collect()
}

impl CsvRow for MessageRow {
    fn header() -> &'static [&'static str] {
        &[
            "wamid",
            "lead_id",
            "phone_number_id",
            "template",
            "campaign",
            "responder",
            "category",
            "pricing_type",
            "paid",
            "status",
            "sent_at",
            "delivered_at",
            "read_at",
            "failed_at",
            "error_code",
            "error_title",
            "opted_out_at",
            "waba_id",
            "played_at",
            "agent",
        ]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            safe_cell(&self.wamid),
            safe_cell(&self.lead_id),
            safe_cell(&self.phone_number_id),
            safe_opt(self.template.as_deref()),
            safe_opt(self.campaign.as_deref()),
            self.responder.as_str().to_string(),
            safe_cell(&self.category),
            safe_cell(&self.pricing_type),
            opt_bool(self.paid),
            self.status.as_str().to_string(),
            opt_iso(self.times.sent_at),
            opt_iso(self.times.delivered_at),
            opt_iso(self.times.read_at),
            opt_iso(self.times.failed_at),
            opt_int(self.error_code),
            safe_opt(self.error_title.as_deref()),
            opt_iso(self.opted_out_at),
            safe_cell(&self.waba_id),
            opt_iso(self.times.played_at),
            safe_opt(self.agent.as_deref()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::input::ConsentSource;
    use super::super::message::testkit::*;
    use super::*;
    use chrono_tz::Tz;

    fn opt_out(person: &str, at: i64) -> ConsentEvt {
        ConsentEvt {
            person: person.to_string(),
            phone_number_id: "P1".to_string(),
            at,
            action: ConsentAction::OptOut,
            source: ConsentSource::Keyword,
            categories: vec![],
        }
    }

    #[test]
    fn opt_outs_go_to_the_latest_earlier_message() {
        let t = ts("2026-11-20T10:00:00");
        let outbound = vec![
            out("m1", "p", t),
            out("m2", "p", t + 100),
            out("m3", "p", t + 500),
            out("x1", "q", t + 100),
        ];
        let consent = vec![
            opt_out("p", t + 200),
            opt_out("p", t + 150), // earlier opt-out on the same message wins
            opt_out("p", t + 100), // at the anchor second: m2
            opt_out("q", t + 50),  // before q's only message: not attributed
            {
                let mut e = opt_out("p", t + 600);
                e.action = ConsentAction::OptIn;
                e
            },
        ];
        let map = opt_out_attribution(&outbound, &consent);
        assert_eq!(map.len(), 1);
        assert_eq!(map.get("m2"), Some(&(t + 100)));
    }

    #[test]
    fn rows_statuses_and_cells() {
        let t = ts("2026-11-20T10:00:00");
        let mut a = out("wa", "=lead", t + 10);
        a.tag = Some("template=welcome;campaign=@bf;by=bot".to_string());
        a.pricing = Some(pricing("marketing", "regular", Some(true)));
        a.times.played_at = Some(t + 20);
        let mut b = out("wb", "p2", t);
        b.times.failed_at = Some(t + 1);
        b.pricing = Some(pricing("marketing", "regular", Some(true)));
        b.error_code = Some(131_049);
        b.error_title = Some("-limited".to_string());
        let mut c = out("wc", "p3", t + 5);
        c.times.read_at = Some(t + 3 * 86_400);
        let mut late = out("wd", "p4", ts("2026-11-21T00:00:00")); // next day
        late.times.read_at = Some(t);
        let inputs = Inputs {
            outbound: vec![a, b, c, late],
            consent: vec![opt_out("=lead", t + 30)],
            ..Inputs::default()
        };
        let q = Query::new(d("2026-11-20"), d("2026-11-20"), Tz::UTC);
        let rows = messages(&inputs, &q);
        let statuses: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.wamid.as_str(), r.status.as_str()))
            .collect();
        assert_eq!(
            statuses,
            vec![("wb", "failed"), ("wc", "read"), ("wa", "delivered")]
        );
        let e = "";
        assert_eq!(
            rows[0].cells(),
            vec![
                "wb",
                "p2",
                "P1",
                e,
                e,
                "human",
                e,
                e,
                e,
                "failed",
                "2026-11-20T10:00:00Z",
                e,
                e,
                "2026-11-20T10:00:01Z",
                "131049",
                "'-limited",
                e,
                "W1",
                e,
                e
            ]
        );
        assert_eq!(
            rows[2].cells(),
            vec![
                "wa",
                "'=lead",
                "P1",
                "welcome",
                "'@bf",
                "bot",
                "marketing",
                "regular",
                "true",
                "delivered",
                "2026-11-20T10:00:10Z",
                e,
                e,
                e,
                e,
                e,
                "2026-11-20T10:00:30Z",
                "W1",
                "2026-11-20T10:00:20Z",
                e
            ]
        );
    }
}
