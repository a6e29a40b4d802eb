//! Chart data and headline figures built from the metrics families' rows. Nothing here
//! recomputes a metric from raw facts: every number is a sum or a ratio of row values.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Days;

use super::charts::{BarChart, Funnel, Series};
use super::locale::{Locale, Text, round_div};
use crate::domain::metrics::facts::waits;
use crate::domain::metrics::failures::LIMITED_BY_META;
use crate::domain::metrics::templates::MetaTemplate;
use crate::domain::metrics::{
    CampaignRow, ConsentAction, ConsentRow, ConsentSource, FailureRow, GroupBy, Inputs, Query,
    ReconciliationRow, ResponseKind, SpendRow, Spike, TemplateRow, VolumeRow, conversations,
    response_times, spend, volume,
};

/// Meta's "user stopped marketing messages" error: an opt-out signal, unlike 131049.
pub const STOPPED_MARKETING: i64 = 131_050;

/// At most this many bars in a category chart (failures, campaigns); the table has all.
pub const MAX_CATEGORIES: usize = 15;

/// Histogram bucket upper bounds in seconds (exclusive); the last bucket is open.
pub const WAIT_BUCKETS: [i64; 6] = [60, 300, 900, 3_600, 14_400, 86_400];

/// The period labels of the query, in order (the x axis of the time charts).
pub fn period_labels(q: &Query) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for day in q.days() {
        let l = q.day_label(day);
        if out.last() != Some(&l) {
            out.push(l);
        }
    }
    out
}

/// The previous period of equal length, ending the day before `q.from` (same zone, grouping,
/// filter and SLA).
pub fn previous_period(q: &Query) -> Query {
    let len = u64::try_from((q.to - q.from).num_days() + 1)
        .unwrap_or(1)
        .max(1);
    let to = q.from.checked_sub_days(Days::new(1)).unwrap_or(q.from);
    let from = to.checked_sub_days(Days::new(len - 1)).unwrap_or(to);
    Query {
        from,
        to,
        ..q.clone()
    }
}

/// The same query over the whole period (one row per key).
pub fn whole(q: &Query) -> Query {
    Query {
        group_by: GroupBy::None,
        ..q.clone()
    }
}

fn or_none<'a>(s: &'a str, t: &'a str) -> &'a str {
    if s.is_empty() { t } else { s }
}

/// The spend series of a row: `[country · ]category`.
fn spend_series(r: &SpendRow, by_country: bool, t: &Text) -> String {
    let cat = or_none(&r.category, t.no_category);
    if by_country {
        format!("{} · {cat}", or_none(&r.country, "?"))
    } else {
        cat.to_string()
    }
}

fn several_countries(rows: &[SpendRow]) -> bool {
    rows.iter()
        .map(|r| r.country.as_str())
        .collect::<BTreeSet<_>>()
        .len()
        > 1
}

/// Billed messages per period, paid vs free (two stacks), by category (and by country when
/// the rows have several). A period without any pricing row is missing (`None`), never 0.
pub fn spend_volume_chart(rows: &[SpendRow], periods: &[String], locale: Locale) -> BarChart {
    let t = locale.text();
    let by_country = several_countries(rows);
    let stack_of = |r: &SpendRow| match r.paid() {
        Some(true) => (0u8, t.paid),
        Some(false) => (1, t.free),
        None => (2, t.other_pricing),
    };
    let mut keys: BTreeSet<((u8, &str), String)> = BTreeSet::new();
    let mut sums: BTreeMap<(&str, (u8, &str), String), i64> = BTreeMap::new();
    for r in rows {
        let key = (stack_of(r), spend_series(r, by_country, t));
        keys.insert(key.clone());
        let e = sums.entry((r.period.as_str(), key.0, key.1)).or_default();
        *e = e.saturating_add(r.volume);
    }
    let with_rows: BTreeSet<&str> = rows.iter().map(|r| r.period.as_str()).collect();
    let series = keys
        .into_iter()
        .map(|(stack, name)| Series {
            values: periods
                .iter()
                .map(|p| {
                    with_rows.contains(p.as_str()).then(|| {
                        sums.get(&(p.as_str(), stack, name.clone()))
                            .copied()
                            .unwrap_or(0)
                    })
                })
                .collect(),
            name: format!("{name} ({})", stack.1),
            stack: stack.1.to_string(),
        })
        .collect();
    BarChart {
        labels: periods.to_vec(),
        series,
        scale: 0,
        marked: vec![false; periods.len()],
        mark_label: String::new(),
    }
}

/// Cost per period by category (and country), one stack, in micro units. A period without
/// pricing rows, or a category whose rows lack a cost, is missing (`None`), never 0.
pub fn spend_cost_chart(rows: &[SpendRow], periods: &[String], locale: Locale) -> BarChart {
    let t = locale.text();
    let by_country = several_countries(rows);
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut sums: BTreeMap<(&str, String), Option<i64>> = BTreeMap::new();
    for r in rows {
        let name = spend_series(r, by_country, t);
        names.insert(name.clone());
        let e = sums.entry((r.period.as_str(), name)).or_insert(Some(0));
        *e = match (*e, r.cost_e6) {
            (Some(a), Some(b)) => Some(a.saturating_add(b)),
            _ => None,
        };
    }
    let with_rows: BTreeSet<&str> = rows.iter().map(|r| r.period.as_str()).collect();
    let series = names
        .into_iter()
        .map(|name| Series {
            values: periods
                .iter()
                .map(|p| {
                    if with_rows.contains(p.as_str()) {
                        sums.get(&(p.as_str(), name.clone()))
                            .copied()
                            .unwrap_or(Some(0))
                    } else {
                        None
                    }
                })
                .collect(),
            name,
            stack: t.cost.to_string(),
        })
        .collect();
    BarChart {
        labels: periods.to_vec(),
        series,
        scale: 6,
        marked: vec![false; periods.len()],
        mark_label: String::new(),
    }
}

fn spiked(r: &VolumeRow) -> bool {
    match r.spike {
        Spike::Flag(f) => f,
        Spike::Days(n) => n > 0,
    }
}

/// Inbound and outbound messages per period, side by side, spike periods marked.
pub fn volume_chart(rows: &[VolumeRow], locale: Locale) -> BarChart {
    let t = locale.text();
    let col = |f: fn(&VolumeRow) -> u64| -> Vec<Option<i64>> {
        rows.iter()
            .map(|r| Some(i64::try_from(f(r)).unwrap_or(i64::MAX)))
            .collect()
    };
    BarChart {
        labels: rows.iter().map(|r| r.period.clone()).collect(),
        series: vec![
            Series {
                name: t.inbound.to_string(),
                stack: "inbound".to_string(),
                values: col(|r| r.inbound),
            },
            Series {
                name: t.outbound.to_string(),
                stack: "outbound".to_string(),
                values: col(|r| r.outbound),
            },
        ],
        scale: 0,
        marked: rows.iter().map(spiked).collect(),
        mark_label: t.spike.to_string(),
    }
}

/// New leads and conversions per period, side by side (same periods as the volume chart).
pub fn conversions_chart(rows: &[VolumeRow], locale: Locale) -> BarChart {
    let t = locale.text();
    let col = |f: fn(&VolumeRow) -> u64| -> Vec<Option<i64>> {
        rows.iter()
            .map(|r| Some(i64::try_from(f(r)).unwrap_or(i64::MAX)))
            .collect()
    };
    BarChart {
        labels: rows.iter().map(|r| r.period.clone()).collect(),
        series: vec![
            Series {
                name: t.new_leads.to_string(),
                stack: "leads".to_string(),
                values: col(|r| r.new_leads),
            },
            Series {
                name: t.conversions.to_string(),
                stack: "conversions".to_string(),
                values: col(|r| r.conversions),
            },
        ],
        scale: 0,
        marked: rows.iter().map(spiked).collect(),
        mark_label: t.spike.to_string(),
    }
}

/// Sum of an optional Meta field over the rows that have Meta figures: `None` when no row has
/// them or any of them lacks the field (missing is never zero).
pub fn meta_sum(rows: &[TemplateRow], f: fn(&MetaTemplate) -> Option<i64>) -> Option<i64> {
    let mut any = false;
    let mut sum: i64 = 0;
    for m in rows.iter().filter_map(|r| r.meta.as_ref()) {
        any = true;
        sum = sum.saturating_add(f(m)?);
    }
    any.then_some(sum)
}

/// Template totals beside each other: the webhook's and Meta's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TemplateTotals {
    pub sent: u64,
    pub delivered: u64,
    pub read: u64,
    pub replied: u64,
    /// Any row has Meta figures.
    pub meta_present: bool,
    pub meta_sent: Option<i64>,
    pub meta_delivered: Option<i64>,
    pub meta_read: Option<i64>,
    pub meta_clicked: Option<i64>,
    pub meta_url_clicks: Option<i64>,
    pub meta_cost_e6: Option<i64>,
    /// Some row's clicks are `unavailable_in_region`.
    pub clicks_unavailable: bool,
}

impl TemplateTotals {
    pub fn of(rows: &[TemplateRow]) -> TemplateTotals {
        TemplateTotals {
            sent: rows.iter().map(|r| r.sent).sum(),
            delivered: rows.iter().map(|r| r.delivered).sum(),
            read: rows.iter().map(|r| r.read).sum(),
            replied: rows.iter().map(|r| r.replied).sum(),
            meta_present: rows.iter().any(|r| r.meta.is_some()),
            meta_sent: meta_sum(rows, |m| m.sent),
            meta_delivered: meta_sum(rows, |m| m.delivered),
            meta_read: meta_sum(rows, |m| m.read),
            meta_clicked: meta_sum(rows, |m| m.clicked),
            meta_url_clicks: meta_sum(rows, |m| m.url_clicks),
            meta_cost_e6: meta_sum(rows, |m| m.cost_e6),
            clicks_unavailable: rows
                .iter()
                .filter_map(|r| r.meta.as_ref())
                .any(clicks_unavailable),
        }
    }
}

/// Meta reported clicks as unavailable for (some of) the template's days.
pub fn clicks_unavailable(m: &MetaTemplate) -> bool {
    m.clicks_state == "unavailable_in_region" || (m.clicks_state == "mixed" && m.clicked.is_none())
}

/// `cost / n` in micro units, rounded half away from zero; `None` when either is missing or
/// `n <= 0` (the CSV's rule for cost per delivered / per URL click).
pub fn cost_per(cost_e6: Option<i64>, n: Option<i64>) -> Option<i64> {
    let (cost, n) = (cost_e6?, n?);
    if n <= 0 {
        return None;
    }
    i64::try_from(round_div(i128::from(cost), i128::from(n))).ok()
}

fn count(v: u64) -> Option<i64> {
    Some(i64::try_from(v).unwrap_or(i64::MAX))
}

/// The template funnel sent → delivered → read → clicked → replied: the webhook's series
/// (no clicks: the webhook does not see them) beside Meta's (no replies: Meta does not report
/// them), Meta's only when some row has Meta figures.
pub fn template_funnel(rows: &[TemplateRow], locale: Locale) -> Funnel {
    let t = locale.text();
    let tot = TemplateTotals::of(rows);
    let mut series = vec![Series {
        name: t.webhook.to_string(),
        stack: "webhook".to_string(),
        values: vec![
            count(tot.sent),
            count(tot.delivered),
            count(tot.read),
            None,
            count(tot.replied),
        ],
    }];
    if tot.meta_present {
        series.push(Series {
            name: t.meta.to_string(),
            stack: "meta".to_string(),
            values: vec![
                tot.meta_sent,
                tot.meta_delivered,
                tot.meta_read,
                tot.meta_clicked,
                None,
            ],
        });
    }
    Funnel {
        stages: vec![
            t.sent.to_string(),
            t.delivered.to_string(),
            t.read.to_string(),
            t.clicked.to_string(),
            t.replied.to_string(),
        ],
        series,
    }
}

/// The bucket labels of [`WAIT_BUCKETS`] (`< 1 min`, `1–5 min`, …, `≥ 24 h`).
pub fn bucket_labels(locale: Locale) -> Vec<String> {
    let mut out = Vec::with_capacity(WAIT_BUCKETS.len() + 1);
    let mut lo: Option<i64> = None;
    for hi in WAIT_BUCKETS {
        out.push(match lo {
            None => format!("< {}", locale.duration_s(hi)),
            Some(lo) => format!("{}–{}", locale.duration_s(lo), locale.duration_s(hi)),
        });
        lo = Some(hi);
    }
    out.push(format!("≥ {}", locale.duration_s(lo.unwrap_or(0))));
    out
}

/// The bucket of a wait.
pub fn bucket_of(wait_s: i64) -> usize {
    WAIT_BUCKETS
        .iter()
        .position(|&hi| wait_s < hi)
        .unwrap_or(WAIT_BUCKETS.len())
}

/// The distribution of waits, bot vs human side by side: samples whose wait started in the
/// period (the rule of the `response_times` rows, so the counts add up to their `responses`).
pub fn response_histogram(inputs: &Inputs, q: &Query, locale: Locale) -> BarChart {
    let t = locale.text();
    let labels = bucket_labels(locale);
    let facts = inputs.person_facts();
    let mut series = Vec::new();
    for (kind, name) in [(ResponseKind::Bot, t.bot), (ResponseKind::Human, t.human)] {
        let mut counts = vec![0i64; labels.len()];
        for (started_at, _, wait_s, n) in waits(&facts, q).filter(|w| w.1 == kind) {
            if q.period_of(started_at).is_some()
                && let Some(c) = counts.get_mut(bucket_of(wait_s))
            {
                *c += n;
            }
        }
        series.push(Series {
            name: name.to_string(),
            stack: kind.as_str().to_string(),
            values: counts.into_iter().map(Some).collect(),
        });
    }
    BarChart {
        marked: vec![false; labels.len()],
        labels,
        series,
        scale: 0,
        mark_label: String::new(),
    }
}

/// Failed messages per error code over the rows (all periods, titles and categories),
/// most frequent first; 131049 ("limited by Meta") is marked. At most [`MAX_CATEGORIES`].
pub fn failures_chart(rows: &[FailureRow], locale: Locale) -> BarChart {
    let t = locale.text();
    let by_code = failures_by_code(rows);
    let shown = by_code.iter().take(MAX_CATEGORIES);
    BarChart {
        labels: shown
            .clone()
            .map(|(code, _, _)| code_label(*code, t))
            .collect(),
        series: vec![Series {
            name: t.failed.to_string(),
            stack: "failed".to_string(),
            values: shown
                .clone()
                .map(|(_, _, n)| Some(i64::try_from(*n).unwrap_or(i64::MAX)))
                .collect(),
        }],
        scale: 0,
        marked: shown
            .map(|(code, _, _)| *code == Some(LIMITED_BY_META))
            .collect(),
        mark_label: t.limited_by_meta.to_string(),
    }
}

/// The label of an error code.
pub fn code_label(code: Option<i64>, t: &Text) -> String {
    code.map(|c| c.to_string())
        .unwrap_or_else(|| t.no_code.to_string())
}

/// (code, first non-empty title, failed) per code, most failed first, then by code.
pub fn failures_by_code(rows: &[FailureRow]) -> Vec<(Option<i64>, String, u64)> {
    let mut acc: BTreeMap<Option<i64>, (String, u64)> = BTreeMap::new();
    for r in rows {
        let e = acc.entry(r.error_code).or_default();
        if e.0.is_empty() {
            e.0 = r.error_title.clone();
        }
        e.1 += r.failed;
    }
    let mut out: Vec<(Option<i64>, String, u64)> = acc
        .into_iter()
        .map(|(c, (title, n))| (c, title, n))
        .collect();
    out.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    out
}

/// A campaign's label: its non-empty utm parts joined with ` / `.
pub fn campaign_label(r: &CampaignRow, t: &Text) -> String {
    let parts: Vec<&str> = [&r.utm_campaign, &r.utm_source, &r.utm_medium]
        .into_iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        t.no_campaign.to_string()
    } else {
        parts.join(" / ")
    }
}

/// Leads, converted leads and conversions per campaign, side by side (most leads first, at
/// most [`MAX_CATEGORIES`]).
pub fn campaigns_chart(rows: &[CampaignRow], locale: Locale) -> BarChart {
    let t = locale.text();
    let mut sorted: Vec<&CampaignRow> = rows.iter().collect();
    sorted.sort_by_key(|r| std::cmp::Reverse(r.leads));
    sorted.truncate(MAX_CATEGORIES);
    let col = |f: fn(&CampaignRow) -> u64| -> Vec<Option<i64>> {
        sorted.iter().map(|r| count(f(r))).collect()
    };
    BarChart {
        labels: sorted.iter().map(|r| campaign_label(r, t)).collect(),
        series: vec![
            Series {
                name: t.leads.to_string(),
                stack: "leads".to_string(),
                values: col(|r| r.leads),
            },
            Series {
                name: t.converted_leads.to_string(),
                stack: "converted".to_string(),
                values: col(|r| r.converted_leads),
            },
            Series {
                name: t.conversions.to_string(),
                stack: "conversions".to_string(),
                values: col(|r| r.conversions),
            },
        ],
        scale: 0,
        marked: vec![false; sorted.len()],
        mark_label: String::new(),
    }
}

pub fn action_label(a: ConsentAction, t: &Text) -> &'static str {
    match a {
        ConsentAction::OptIn => t.opt_in,
        ConsentAction::OptOut => t.opt_out,
        ConsentAction::Resume => t.resume,
    }
}

pub fn source_label(s: ConsentSource, t: &Text) -> &'static str {
    match s {
        ConsentSource::Keyword => t.src_keyword,
        ConsentSource::UserPreferences => t.src_user_preferences,
        ConsentSource::Api => t.src_api,
        ConsentSource::Import => t.src_import,
    }
}

/// Consent events per period: one stack per action (opt-in, opt-out, resume), stacked by
/// source. Pass rows computed without categories (see `super::consent_events`) so an event
/// with several categories counts once. A period without events is a real 0.
pub fn consent_chart(rows: &[ConsentRow], periods: &[String], locale: Locale) -> BarChart {
    let t = locale.text();
    let mut keys: BTreeSet<(ConsentAction, ConsentSource)> = BTreeSet::new();
    let mut sums: BTreeMap<(&str, ConsentAction, ConsentSource), u64> = BTreeMap::new();
    for r in rows {
        keys.insert((r.action, r.source));
        *sums
            .entry((r.period.as_str(), r.action, r.source))
            .or_default() += r.events;
    }
    let series = keys
        .into_iter()
        .map(|(a, s)| Series {
            name: format!("{} · {}", action_label(a, t), source_label(s, t)),
            stack: action_label(a, t).to_string(),
            values: periods
                .iter()
                .map(|p| count(sums.get(&(p.as_str(), a, s)).copied().unwrap_or(0)))
                .collect(),
        })
        .collect();
    BarChart {
        labels: periods.to_vec(),
        series,
        scale: 0,
        marked: vec![false; periods.len()],
        mark_label: String::new(),
    }
}

/// The row's webhook and Meta figures differ where Meta reported one.
pub fn disagrees(r: &ReconciliationRow) -> bool {
    let differs = |w: i64, m: Option<i64>| m.is_some_and(|m| m != w);
    differs(r.webhook_sent, r.meta_sent)
        || differs(r.webhook_delivered, r.meta_delivered)
        || differs(r.webhook_paid, r.meta_paid_volume)
}

/// Sent per period, webhook vs Meta side by side (summed over WABAs); Meta is missing for a
/// period where any row lacks it; periods where any row disagrees are marked.
pub fn reconciliation_chart(
    rows: &[ReconciliationRow],
    periods: &[String],
    locale: Locale,
) -> BarChart {
    let t = locale.text();
    let mut webhook = Vec::with_capacity(periods.len());
    let mut meta = Vec::with_capacity(periods.len());
    let mut marked = Vec::with_capacity(periods.len());
    for p in periods {
        let in_p: Vec<&ReconciliationRow> = rows.iter().filter(|r| &r.period == p).collect();
        webhook.push(Some(
            in_p.iter()
                .fold(0i64, |a, r| a.saturating_add(r.webhook_sent)),
        ));
        let mut m: Option<i64> = (!in_p.is_empty()).then_some(0);
        for r in &in_p {
            m = match (m, r.meta_sent) {
                (Some(a), Some(b)) => Some(a.saturating_add(b)),
                _ => None,
            };
        }
        meta.push(m);
        marked.push(in_p.iter().any(|r| disagrees(r)));
    }
    BarChart {
        labels: periods.to_vec(),
        series: vec![
            Series {
                name: t.webhook.to_string(),
                stack: "webhook".to_string(),
                values: webhook,
            },
            Series {
                name: t.meta.to_string(),
                stack: "meta".to_string(),
                values: meta,
            },
        ],
        scale: 0,
        marked,
        mark_label: t.disagrees.to_string(),
    }
}

/// One headline figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    Count(i64),
    /// `num / den`.
    Rate {
        num: i64,
        den: i64,
    },
    /// Micro units.
    Money(i64),
    /// Half seconds (a median × 2).
    Duration(i128),
    /// Nothing to measure (no message, no response…).
    NoData,
    /// No pricing row at all for the period.
    PricingNotPulled,
    /// `missing` of the period's `days` have no pricing row.
    PricingDaysMissing {
        missing: usize,
        days: usize,
    },
    /// `missing` of `rows` spend rows have no cost.
    CostMissing {
        missing: usize,
        rows: usize,
    },
}

impl Figure {
    /// A count, money or duration as an exact number in its own unit (rates are compared
    /// separately, as fractions).
    fn numeric(self) -> Option<i128> {
        match self {
            Figure::Count(v) | Figure::Money(v) => Some(i128::from(v)),
            Figure::Duration(v) => Some(v),
            _ => None,
        }
    }
}

/// Which headline number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Sent,
    DeliveryRate,
    ReadRate,
    PaidMessages,
    Spend,
    NewLeads,
    Conversions,
    MedianResponse,
}

/// A headline number with its previous-period value (`None` when no previous facts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadlineItem {
    pub metric: Metric,
    pub current: Figure,
    pub previous: Option<Figure>,
}

/// The change of a headline number: absolute (in the figure's unit; tenths of a percentage
/// point for rates) and relative (tenths of a percent, `None` when the previous is 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub absolute: i128,
    pub relative_tenths: Option<i128>,
}

impl HeadlineItem {
    /// `None` when there is no previous value or either side is not a number.
    pub fn change(&self) -> Option<Change> {
        let (c, p) = (self.current, self.previous?);
        match (c, p) {
            (Figure::Rate { num: cn, den: cd }, Figure::Rate { num: pn, den: pd })
                if cd > 0 && pd > 0 =>
            {
                let (cn, cd, pn, pd) = (
                    i128::from(cn),
                    i128::from(cd),
                    i128::from(pn),
                    i128::from(pd),
                );
                let cross = cn * pd - pn * cd;
                Some(Change {
                    // percentage points in tenths: (c − p) × 100 × 10
                    absolute: round_div(cross * 1_000, cd * pd),
                    relative_tenths: (pn > 0).then(|| round_div(cross * 1_000, pn * cd)),
                })
            }
            (Figure::Rate { .. }, _) | (_, Figure::Rate { .. }) => None,
            _ => {
                let (c, p) = (c.numeric()?, p.numeric()?);
                let diff = c - p;
                Some(Change {
                    absolute: diff,
                    relative_tenths: (p != 0).then(|| round_div(diff * 1_000, p.abs())),
                })
            }
        }
    }
}

/// The days of the period without any pricing row (from the `spend` rows by day).
pub fn pricing_days_missing(inputs: &Inputs, q: &Query) -> Vec<String> {
    let by_day = Query {
        group_by: GroupBy::Day,
        ..q.clone()
    };
    let have: BTreeSet<String> = spend(inputs, &by_day)
        .into_iter()
        .map(|r| r.period)
        .collect();
    period_labels(&by_day)
        .into_iter()
        .filter(|d| !have.contains(d))
        .collect()
}

/// The figures of one period, from the family functions.
fn figures(inputs: &Inputs, q: &Query) -> [(Metric, Figure); 8] {
    let all = whole(q);
    let conv = conversations(inputs, &all);
    let sum = |f: fn(&crate::domain::metrics::ConversationRow) -> u64| -> i64 {
        i64::try_from(conv.iter().map(f).sum::<u64>()).unwrap_or(i64::MAX)
    };
    let (sent, delivered, read, paid) = (
        sum(|r| r.sent),
        sum(|r| r.delivered),
        sum(|r| r.read),
        sum(|r| r.paid),
    );
    let rate = |num: i64, den: i64| {
        if den > 0 {
            Figure::Rate { num, den }
        } else {
            Figure::NoData
        }
    };
    let spend_rows = spend(inputs, &all);
    let missing = spend_rows.iter().filter(|r| r.cost_e6.is_none()).count();
    let days_missing = pricing_days_missing(inputs, q).len();
    let spend_fig = if spend_rows.is_empty() {
        Figure::PricingNotPulled
    } else if days_missing > 0 {
        Figure::PricingDaysMissing {
            missing: days_missing,
            days: q.days().len(),
        }
    } else if missing > 0 {
        Figure::CostMissing {
            missing,
            rows: spend_rows.len(),
        }
    } else {
        Figure::Money(
            spend_rows
                .iter()
                .fold(0i64, |a, r| a.saturating_add(r.cost_e6.unwrap_or(0))),
        )
    };
    let vol = volume(inputs, &all);
    let leads: u64 = vol.iter().map(|r| r.new_leads).sum();
    let convs: u64 = vol.iter().map(|r| r.conversions).sum();
    let median = response_times(inputs, &all)
        .into_iter()
        .find(|r| r.responder == ResponseKind::Any)
        .map_or(Figure::NoData, |r| Figure::Duration(r.median_x2));
    [
        (Metric::Sent, Figure::Count(sent)),
        (Metric::DeliveryRate, rate(delivered, sent)),
        (Metric::ReadRate, rate(read, delivered)),
        (Metric::PaidMessages, Figure::Count(paid)),
        (Metric::Spend, spend_fig),
        (
            Metric::NewLeads,
            Figure::Count(i64::try_from(leads).unwrap_or(i64::MAX)),
        ),
        (
            Metric::Conversions,
            Figure::Count(i64::try_from(convs).unwrap_or(i64::MAX)),
        ),
        (Metric::MedianResponse, median),
    ]
}

/// The headline numbers of the period, each with the previous period's value when its facts
/// are given (computed over [`previous_period`]).
pub fn headline(inputs: &Inputs, q: &Query, previous: Option<&Inputs>) -> Vec<HeadlineItem> {
    let prev = previous.map(|p| figures(p, &previous_period(q)));
    figures(inputs, q)
        .into_iter()
        .enumerate()
        .map(|(i, (metric, current))| HeadlineItem {
            metric,
            current,
            previous: prev.as_ref().and_then(|p| p.get(i)).map(|(_, f)| *f),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    #[test]
    fn previous_period_has_equal_length() {
        let q = Query::new(d("2026-11-01"), d("2026-11-30"), chrono_tz::Tz::UTC);
        let p = previous_period(&q);
        assert_eq!((p.from, p.to), (d("2026-10-02"), d("2026-10-31")));
        let one = Query::new(d("2026-03-01"), d("2026-03-01"), chrono_tz::Tz::UTC);
        let p = previous_period(&one);
        assert_eq!((p.from, p.to), (d("2026-02-28"), d("2026-02-28")));
    }

    #[test]
    fn period_labels_follow_the_grouping() {
        let mut q = Query::new(d("2026-11-01"), d("2026-11-10"), chrono_tz::Tz::UTC);
        assert_eq!(period_labels(&q).len(), 10);
        q.group_by = GroupBy::Week;
        assert_eq!(
            period_labels(&q),
            ["2026-10-26", "2026-11-02", "2026-11-09"]
        );
        q.group_by = GroupBy::None;
        assert_eq!(period_labels(&q), ["all"]);
    }

    #[test]
    fn changes_absolute_and_relative() {
        let item = |c, p| HeadlineItem {
            metric: Metric::Sent,
            current: c,
            previous: p,
        };
        let ch = item(Figure::Count(120), Some(Figure::Count(100))).change();
        assert_eq!(
            ch,
            Some(Change {
                absolute: 20,
                relative_tenths: Some(200)
            })
        );
        let ch = item(Figure::Count(5), Some(Figure::Count(0))).change();
        assert_eq!(ch.map(|c| c.relative_tenths), Some(None));
        // 90% vs 80%: +10.0 pp, +12.5%.
        let ch = item(
            Figure::Rate { num: 9, den: 10 },
            Some(Figure::Rate { num: 4, den: 5 }),
        )
        .change();
        assert_eq!(
            ch,
            Some(Change {
                absolute: 100,
                relative_tenths: Some(125)
            })
        );
        assert_eq!(item(Figure::Count(1), None).change(), None);
        assert_eq!(
            item(Figure::PricingNotPulled, Some(Figure::Money(1))).change(),
            None
        );
        assert_eq!(
            item(Figure::Duration(10), Some(Figure::Duration(20)))
                .change()
                .map(|c| (c.absolute, c.relative_tenths)),
            Some((-10, Some(-500)))
        );
    }

    #[test]
    fn buckets() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(59), 0);
        assert_eq!(bucket_of(60), 1);
        assert_eq!(bucket_of(900), 3);
        assert_eq!(bucket_of(86_400), 6);
        assert_eq!(bucket_of(-5), 0);
        let l = bucket_labels(Locale::En);
        assert_eq!(l.len(), 7);
        assert_eq!(l[0], "< 1 min");
        assert_eq!(l[2], "5 min–15 min");
        assert_eq!(l[6], "≥ 24 h");
    }
}
