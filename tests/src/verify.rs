//! Compares what the table holds with the traffic generator's ground truth: the numbers a
//! report would show (sent, delivered, read, failed, paid, free, leads, first touch) must be
//! exact.

use crate::traffic::GroundTruth;
use aws_sdk_dynamodb::types::AttributeValue as Av;
use shared::domain::ladder::MessageTimes;
use std::collections::{BTreeMap, HashMap};

pub type Item = HashMap<String, Av>;

fn s<'a>(i: &'a Item, k: &str) -> Option<&'a str> {
    i.get(k).and_then(|v| v.as_s().ok()).map(String::as_str)
}
fn n(i: &Item, k: &str) -> Option<i64> {
    i.get(k)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}
fn m<'a>(i: &'a Item, map: &str) -> Option<&'a HashMap<String, Av>> {
    i.get(map).and_then(|v| v.as_m().ok())
}

pub fn message_times(i: &Item) -> MessageTimes {
    MessageTimes {
        sent_at: n(i, "sent_at"),
        delivered_at: n(i, "delivered_at"),
        read_at: n(i, "read_at"),
        played_at: n(i, "played_at"),
        failed_at: n(i, "failed_at"),
    }
}

pub fn paid(i: &Item) -> Option<bool> {
    m(i, "pricing")
        .and_then(|p| p.get("paid"))
        .and_then(|v| v.as_bool().ok())
        .copied()
}

/// Headline figures over outbound message items.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Figures {
    pub sent: usize,
    pub delivered: usize,
    pub read: usize,
    pub failed: usize,
    pub paid: usize,
    pub free: usize,
}

impl Figures {
    pub fn of<'a>(items: impl IntoIterator<Item = &'a Item>) -> Figures {
        let mut f = Figures::default();
        for i in items {
            let t = message_times(i);
            f.sent += t.sent() as usize;
            f.delivered += t.delivered() as usize;
            f.read += t.read() as usize;
            f.failed += t.failed() as usize;
            match paid(i) {
                Some(true) => f.paid += 1,
                Some(false) => f.free += 1,
                None => {}
            }
        }
        f
    }

    pub fn of_truth(t: &GroundTruth) -> Figures {
        Figures {
            sent: t.sent(),
            delivered: t.delivered(),
            read: t.read(),
            failed: t.failed(),
            paid: t.paid(),
            free: t.free(),
        }
    }
}

/// Every difference between the table and the truth, as readable lines (empty = exact).
pub fn differences(truth: &GroundTruth, items: &[Item]) -> Vec<String> {
    let mut diffs = Vec::new();
    let by_key: BTreeMap<(&str, &str), &Item> = items
        .iter()
        .map(|i| ((s(i, "pk").unwrap_or(""), s(i, "sk").unwrap_or("")), i))
        .collect();
    for (wamid, want) in &truth.outbound {
        let pk = format!("MSG#{wamid}");
        let Some(item) = by_key.get(&(pk.as_str(), "OUT")) else {
            diffs.push(format!("{wamid}: outbound item missing"));
            continue;
        };
        let t = message_times(item);
        let got = (t.sent(), t.delivered(), t.read(), t.failed(), paid(item));
        let exp = (want.sent, want.delivered, want.read, want.failed, want.paid);
        if got != exp {
            diffs.push(format!(
                "{wamid}: (sent, delivered, read, failed, paid) stored {got:?}, expected {exp:?}"
            ));
        }
        if want.failed && n(item, "error_code") != want.error_code {
            diffs.push(format!(
                "{wamid}: error_code {:?}, expected {:?}",
                n(item, "error_code"),
                want.error_code
            ));
        }
        let category = m(item, "pricing")
            .and_then(|p| p.get("category"))
            .and_then(|v| v.as_s().ok());
        if category.map(String::as_str) != want.pricing_category.as_deref() {
            diffs.push(format!(
                "{wamid}: pricing category {category:?}, expected {:?}",
                want.pricing_category
            ));
        }
    }
    for wamid in &truth.inbound_wamids {
        let pk = format!("MSG#{wamid}");
        if !by_key.contains_key(&(pk.as_str(), "IN")) {
            diffs.push(format!("{wamid}: inbound item missing"));
        }
    }
    for (key, want) in &truth.users {
        let pk = format!("USER#{key}");
        let Some(lead) = by_key.get(&(pk.as_str(), "PROFILE")) else {
            diffs.push(format!("{key}: lead missing"));
            continue;
        };
        if s(lead, "phone") != want.phone.as_deref() {
            diffs.push(format!(
                "{key}: phone {:?}, expected {:?}",
                s(lead, "phone"),
                want.phone
            ));
        }
        let touch = m(lead, "first_touch");
        let field = |k: &str| {
            touch
                .and_then(|t| t.get(k))
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
        };
        match &want.first_touch {
            None if touch.is_some() => diffs.push(format!("{key}: unexpected first touch")),
            None => {}
            Some(ft) => {
                let got = (
                    field("source_id"),
                    field("utm_campaign"),
                    field("ctwa_clid"),
                    field("utm_term"),
                );
                let exp = (
                    Some(ft.source_id.as_str()),
                    ft.utm_campaign.as_deref(),
                    ft.ctwa_clid.as_deref(),
                    ft.utm_term.as_deref(),
                );
                if got != exp {
                    diffs.push(format!("{key}: first touch {got:?}, expected {exp:?}"));
                }
            }
        }
    }
    // Only the generated users' consent events: the demo also ingests the corpus.
    let generated: std::collections::BTreeSet<&str> = truth
        .users
        .iter()
        .flat_map(|(key, u)| [Some(key.as_str()), u.phone.as_deref(), u.user_id.as_deref()])
        .flatten()
        .collect();
    let consent_events = items
        .iter()
        .filter(|i| s(i, "item_kind") == Some("consent_event"))
        .filter(|i| s(i, "user_key").is_some_and(|k| generated.contains(k)))
        .count();
    if consent_events != truth.consent_events {
        diffs.push(format!(
            "consent events: stored {consent_events}, expected {}",
            truth.consent_events
        ));
    }
    diffs
}

/// An item's kind: `item_kind`, or `outbound` for message items (their sk is `OUT…`; the
/// hottest write leaves the redundant attribute out).
pub fn item_kind(i: &Item) -> &str {
    s(i, "item_kind").unwrap_or_else(|| {
        if s(i, "sk").is_some_and(|sk| sk.starts_with("OUT")) {
            "outbound"
        } else {
            "<none>"
        }
    })
}

/// Items per kind.
pub fn kinds(items: &[Item]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for i in items {
        *out.entry(item_kind(i).to_string()).or_default() += 1;
    }
    out
}

/// Kept-raw items per kind.
pub fn kept_kinds(items: &[Item]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for i in items
        .iter()
        .filter(|i| s(i, "item_kind") == Some("kept_raw"))
    {
        *out.entry(s(i, "kind").unwrap_or("?").to_string())
            .or_default() += 1;
    }
    out
}

/// Leads per first-touch `utm_campaign` (`(none)` without a referral or UTM).
pub fn leads_by_campaign(items: &[Item]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for lead in items.iter().filter(|i| s(i, "item_kind") == Some("lead")) {
        let campaign = m(lead, "first_touch")
            .and_then(|t| t.get("utm_campaign"))
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_else(|| "(none)".into());
        *out.entry(campaign).or_default() += 1;
    }
    out
}

/// Current consent state counts: (category, opt_in/opt_out) → users.
pub fn consent_states(items: &[Item]) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    for c in items
        .iter()
        .filter(|i| s(i, "item_kind") == Some("consent_state"))
    {
        let key = (
            s(c, "category").unwrap_or("?").to_string(),
            s(c, "consent").unwrap_or("?").to_string(),
        );
        *out.entry(key).or_default() += 1;
    }
    out
}

/// A table snapshot that compares by content: string and number sets sorted (DynamoDB keeps
/// no order inside a set, and two tables may list the same set differently), nested maps
/// and lists normalised the same way. Items stay in the scan's key order. The person-rollup
/// claim counters (`FACTS#<id>` / `CLAIM`) are left out: they count recomputes (a fence, not
/// a fact), and a retried batch recomputes again by design.
pub fn canonical(items: &[Item]) -> Vec<Item> {
    fn value(v: &Av) -> Av {
        match v {
            Av::Ss(v) => Av::Ss(sorted(v)),
            Av::Ns(v) => Av::Ns(sorted(v)),
            Av::M(m) => Av::M(m.iter().map(|(k, v)| (k.clone(), value(v))).collect()),
            Av::L(l) => Av::L(l.iter().map(value).collect()),
            other => other.clone(),
        }
    }
    fn sorted(v: &[String]) -> Vec<String> {
        let mut v = v.to_vec();
        v.sort();
        v
    }
    let claim = |i: &&Item| {
        i.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str)
            == Some(shared::keys::FACTS_CLAIM_SK)
            && i.get("pk")
                .and_then(|v| v.as_s().ok())
                .is_some_and(|pk| pk.starts_with(shared::keys::FACTS_PREFIX))
    };
    items
        .iter()
        .filter(|i| !claim(i))
        .map(|i| i.iter().map(|(k, v)| (k.clone(), value(v))).collect())
        .collect()
}

/// The items two snapshots disagree on, by key: `(pk, sk): left | right` (a missing side as
/// `-`), so a failed comparison names what differs instead of printing two tables.
pub fn item_differences(left: &[Item], right: &[Item]) -> Vec<String> {
    let by_key = |items: &[Item]| -> BTreeMap<(String, String), Item> {
        items
            .iter()
            .map(|i| {
                let key = (
                    s(i, "pk").unwrap_or_default().to_string(),
                    s(i, "sk").unwrap_or_default().to_string(),
                );
                (key, i.clone())
            })
            .collect()
    };
    let (l, r) = (by_key(left), by_key(right));
    let keys: std::collections::BTreeSet<_> = l.keys().chain(r.keys()).collect();
    let show = |i: Option<&Item>| match i {
        Some(i) => format!("{:?}", i.iter().collect::<BTreeMap<_, _>>()),
        None => "-".to_string(),
    };
    keys.into_iter()
        .filter(|k| l.get(*k) != r.get(*k))
        .map(|k| match (l.get(k), r.get(k)) {
            // Both sides hold the item: only the attributes that differ.
            (Some(a), Some(b)) => {
                let names: std::collections::BTreeSet<_> = a.keys().chain(b.keys()).collect();
                let attrs: Vec<String> = names
                    .into_iter()
                    .filter(|n| a.get(*n) != b.get(*n))
                    .map(|n| format!("{n}: {:?} | {:?}", a.get(n), b.get(n)))
                    .collect();
                format!("{k:?}: {}", attrs.join("; "))
            }
            (a, b) => format!("{k:?}: {} | {}", show(a), show(b)),
        })
        .collect()
}
