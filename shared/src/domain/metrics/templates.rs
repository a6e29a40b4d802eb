//! Templates: webhook figures by `template` tag beside Meta's `template_analytics`.
//!
//! Matching a tag to a Meta template id (in this order): the tag equals a template id; the tag
//! equals `name:language` of exactly one template id; the tag equals the name of exactly one
//! template id. Names and languages come from all the Meta rows in the inputs (the latest
//! day's non-empty value). A matched tag's row carries the template's Meta figures (several
//! tags matching one id in a period share one row, labelled by the smallest tag); an unmatched
//! tag has webhook figures only; a Meta template no tag matched gets its own row labelled
//! `name:language` (`name` without a language, the id without a name). Template versions
//! (ids) are never merged.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;

use super::facts::replied;
use super::format::{CsvRow, money_e6, opt_int, rate, round_div, safe_cell};
use super::input::{Inputs, TemplateDay};
use super::query::Query;
use super::spend::{OptSum, StateAcc};
use super::tally::Cell;

/// Meta's figures for one template over a period (summed over Meta's day buckets).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaTemplate {
    /// Each `None` when any day's value was missing (missing is never zero).
    pub sent: Option<i64>,
    pub delivered: Option<i64>,
    pub read: Option<i64>,
    /// All buttons; `None` unless every day's `clicks_state` is `reported`.
    pub clicked: Option<i64>,
    /// Same condition as `clicked`.
    pub url_clicks: Option<i64>,
    /// The days' common clicks state, `mixed` if they differ.
    pub clicks_state: String,
    pub cost_e6: Option<i64>,
    pub cost_state: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateRow {
    pub period: String,
    /// The tag (or the Meta template's `name:language` when no tag matched it).
    pub template: String,
    pub template_id: Option<String>,
    pub language: Option<String>,
    pub sent: u64,
    pub delivered: u64,
    pub read: u64,
    pub failed: u64,
    pub replied: u64,
    /// `None` when Meta has no row for this template in the period.
    pub meta: Option<MetaTemplate>,
}

/// Meta's template catalogue, from the inputs' `template_analytics` rows.
struct Catalogue<'a> {
    /// id → (name, language)
    info: HashMap<&'a str, (Option<&'a str>, Option<&'a str>)>,
    by_name: HashMap<&'a str, BTreeSet<&'a str>>,
    by_name_lang: HashMap<String, BTreeSet<&'a str>>,
}

impl<'a> Catalogue<'a> {
    fn new(rows: &'a [TemplateDay]) -> Catalogue<'a> {
        // Latest day's non-empty value wins; ties broken by the larger value (order-free).
        type Pick<'a> = Option<(NaiveDate, &'a str)>;
        fn pick<'a>(slot: &mut Pick<'a>, day: NaiveDate, v: Option<&'a str>) {
            if let Some(v) = v.filter(|v| !v.is_empty())
                && slot.is_none_or(|cur| (day, v) > cur)
            {
                *slot = Some((day, v));
            }
        }
        let mut picks: HashMap<&str, (Pick<'_>, Pick<'_>)> = HashMap::new();
        for r in rows {
            let e = picks.entry(r.template_id.as_str()).or_default();
            pick(&mut e.0, r.day, r.name.as_deref());
            pick(&mut e.1, r.day, r.language.as_deref());
        }
        let mut cat = Catalogue {
            info: HashMap::new(),
            by_name: HashMap::new(),
            by_name_lang: HashMap::new(),
        };
        for (id, (name, lang)) in picks {
            let (name, lang) = (name.map(|p| p.1), lang.map(|p| p.1));
            cat.info.insert(id, (name, lang));
            if let Some(name) = name {
                cat.by_name.entry(name).or_default().insert(id);
                if let Some(lang) = lang {
                    cat.by_name_lang
                        .entry(format!("{name}:{lang}"))
                        .or_default()
                        .insert(id);
                }
            }
        }
        cat
    }

    fn resolve(&self, tag: &str) -> Option<&'a str> {
        if let Some((&id, _)) = self.info.get_key_value(tag) {
            return Some(id);
        }
        let unique = |set: Option<&BTreeSet<&'a str>>| {
            set.filter(|s| s.len() == 1)
                .and_then(|s| s.iter().next().copied())
        };
        unique(self.by_name_lang.get(tag)).or_else(|| unique(self.by_name.get(tag)))
    }

    fn label(&self, id: &str) -> String {
        match self.info.get(id) {
            Some((Some(name), Some(lang))) => format!("{name}:{lang}"),
            Some((Some(name), None)) => name.to_string(),
            _ => id.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum RowKey {
    Id(String),
    Tag(String),
}

#[derive(Default)]
struct MetaAcc {
    sent: OptSum,
    delivered: OptSum,
    read: OptSum,
    clicked: OptSum,
    url_clicks: OptSum,
    clicks_state: StateAcc,
    clicks_all_reported: bool,
    cost: OptSum,
    cost_state: StateAcc,
}

type Rows = BTreeMap<(String, RowKey), TemplateRow>;

/// The row of a tag at a time (`None` outside the period), labelled by the smallest tag that
/// reached it (tags are never empty).
fn row_of<'r>(
    rows: &'r mut Rows,
    cat: &Catalogue<'_>,
    q: &Query,
    at: i64,
    tag: &str,
) -> Option<&'r mut TemplateRow> {
    let period = q.period_of(at)?;
    let key = match cat.resolve(tag) {
        Some(id) => RowKey::Id(id.to_string()),
        None => RowKey::Tag(tag.to_string()),
    };
    let row = rows.entry((period, key)).or_default();
    if row.template.is_empty() || *tag < *row.template {
        row.template = tag.to_string();
    }
    Some(row)
}

/// Webhook rows (messages with a `template` tag, by anchor day) beside Meta's rows (days in
/// the period, Meta's buckets as they are). Messages without a template tag are left out.
pub fn templates(inputs: &Inputs, q: &Query) -> Vec<TemplateRow> {
    let cat = Catalogue::new(&inputs.templates);
    let mut rows = Rows::new();
    for t in inputs.message_tallies().iter() {
        let Cell::Outbound(c) = &t.cell else {
            continue;
        };
        let Some(tag) = c.template.as_deref() else {
            continue;
        };
        if !q.phone_matches(&c.phone_number_id) {
            continue;
        }
        let Some(row) = row_of(&mut rows, &cat, q, t.at, tag) else {
            continue;
        };
        let n = &t.counts;
        row.sent = row.sent.saturating_add_signed(n.messages);
        row.delivered = row.delivered.saturating_add_signed(n.delivered);
        row.read = row.read.saturating_add_signed(n.read);
        if c.failed {
            row.failed = row.failed.saturating_add_signed(n.messages);
        }
    }
    let facts = inputs.person_facts();
    for (at, tag, n) in replied(&facts, q) {
        if let Some(row) = row_of(&mut rows, &cat, q, at, tag) {
            row.replied = row.replied.saturating_add_signed(n);
        }
    }
    let mut meta: BTreeMap<(String, String), MetaAcc> = BTreeMap::new();
    for r in &inputs.templates {
        if !q.in_period(r.day) {
            continue;
        }
        let acc = meta
            .entry((q.day_label(r.day), r.template_id.clone()))
            .or_insert_with(|| MetaAcc {
                clicks_all_reported: true,
                ..MetaAcc::default()
            });
        acc.sent.add(r.sent);
        acc.delivered.add(r.delivered);
        acc.read.add(r.read);
        acc.clicked.add(r.clicked);
        acc.url_clicks.add(r.url_clicks);
        acc.clicks_state.add(&r.clicks_state);
        acc.clicks_all_reported &= r.clicks_state == "reported";
        acc.cost.add(r.cost_e6);
        acc.cost_state.add(&r.cost_state);
    }
    for ((period, id), acc) in meta {
        let row = rows.entry((period, RowKey::Id(id))).or_default();
        let clicks = |s: OptSum| s.get().filter(|_| acc.clicks_all_reported);
        row.meta = Some(MetaTemplate {
            sent: acc.sent.get(),
            delivered: acc.delivered.get(),
            read: acc.read.get(),
            clicked: clicks(acc.clicked),
            url_clicks: clicks(acc.url_clicks),
            clicks_state: acc.clicks_state.get().to_string(),
            cost_e6: acc.cost.get(),
            cost_state: acc.cost_state.get().to_string(),
        });
    }
    let mut out: Vec<TemplateRow> = rows
        .into_iter()
        .map(|((period, key), mut row)| {
            if row.template.is_empty() {
                row.template = match &key {
                    RowKey::Id(id) => cat.label(id),
                    RowKey::Tag(tag) => tag.clone(),
                };
            }
            if let RowKey::Id(id) = key {
                row.language = cat
                    .info
                    .get(id.as_str())
                    .and_then(|i| i.1)
                    .map(str::to_string);
                row.template_id = Some(id);
            }
            row.period = period;
            row
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.period, &a.template, &a.template_id).cmp(&(&b.period, &b.template, &b.template_id))
    });
    out
}

/// `cost / n` in micro units, rounded half up; `None` when either is missing or n is 0.
fn cost_per(cost_e6: Option<i64>, n: Option<i64>) -> Option<i64> {
    let (cost, n) = (cost_e6?, n?);
    if n <= 0 {
        return None;
    }
    i64::try_from(round_div(i128::from(cost), i128::from(n))).ok()
}

impl CsvRow for TemplateRow {
    fn header() -> &'static [&'static str] {
        &[
            "period",
            "template",
            "sent",
            "delivered",
            "read",
            "failed",
            "replied",
            "delivery_rate",
            "read_rate",
            "reply_rate",
            "meta_sent",
            "meta_delivered",
            "meta_read",
            "meta_clicked",
            "meta_cost",
            "cost_per_delivered",
            "cost_per_url_click",
            "template_id",
            "language",
            "clicks_state",
            "meta_url_clicks",
            "meta_cost_state",
        ]
    }

    fn cells(&self) -> Vec<String> {
        let m = self.meta.clone().unwrap_or_default();
        let money = |v: Option<i64>| v.map(money_e6).unwrap_or_default();
        vec![
            self.period.clone(),
            safe_cell(&self.template),
            self.sent.to_string(),
            self.delivered.to_string(),
            self.read.to_string(),
            self.failed.to_string(),
            self.replied.to_string(),
            rate(self.delivered as i64, self.sent as i64),
            rate(self.read as i64, self.delivered as i64),
            rate(self.replied as i64, self.delivered as i64),
            opt_int(m.sent),
            opt_int(m.delivered),
            opt_int(m.read),
            opt_int(m.clicked),
            money(m.cost_e6),
            money(cost_per(m.cost_e6, m.delivered)),
            money(cost_per(m.cost_e6, m.url_clicks)),
            self.template_id
                .as_deref()
                .map(safe_cell)
                .unwrap_or_default(),
            self.language.as_deref().map(safe_cell).unwrap_or_default(),
            safe_cell(&m.clicks_state),
            opt_int(m.url_clicks),
            safe_cell(&m.cost_state),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::input::OutboundMsg;
    use super::super::message::testkit::*;
    use super::*;
    use chrono_tz::Tz;

    fn meta_day(id: &str, name: &str, lang: &str, day: &str) -> TemplateDay {
        TemplateDay {
            template_id: id.to_string(),
            name: Some(name.to_string()),
            language: Some(lang.to_string()),
            day: d(day),
            sent: Some(10),
            delivered: Some(8),
            read: Some(4),
            clicked: Some(2),
            url_clicks: Some(1),
            clicks_state: "reported".to_string(),
            cost_e6: Some(400_000),
            cost_state: "reported".to_string(),
        }
    }

    fn tagged(wamid: &str, person: &str, at: i64, template: &str) -> OutboundMsg {
        let mut m = out(wamid, person, at);
        m.tag = Some(format!("template={template};by=bot"));
        m.times.delivered_at = Some(at + 1);
        m
    }

    #[test]
    fn matching_by_id_name_and_name_language() {
        let t = ts("2026-11-20T10:00:00");
        let mut unavailable = meta_day("300", "promo", "es", "2026-11-20");
        unavailable.clicks_state = "unavailable_in_region".to_string();
        let inputs = Inputs {
            templates: vec![
                meta_day("100", "welcome", "en", "2026-11-20"),
                meta_day("100", "welcome", "en", "2026-11-21"),
                meta_day("200", "promo", "en", "2026-11-20"),
                unavailable,
                meta_day("400", "lonely", "pt_BR", "2026-11-20"),
                meta_day("100", "welcome", "en", "2026-11-25"), // outside the period
            ],
            outbound: vec![
                tagged("a", "p1", t, "100"),           // by id
                tagged("b", "p2", t, "welcome"),       // by unique name → 100
                tagged("c", "p3", t, "promo:es"),      // by name:language → 300
                tagged("e", "p4", t, "promo"),         // ambiguous name → unmatched
                tagged("f", "p5", t, "=HYPERLINK(1)"), // unmatched, escaped
                out("g", "p6", t),                     // no template tag
            ],
            inbound: vec![inb("r", "p1", t + 3600)],
            ..Inputs::default()
        };
        let mut q = Query::new(d("2026-11-20"), d("2026-11-21"), Tz::UTC);
        q.group_by = super::super::query::GroupBy::None;
        let rows: Vec<Vec<String>> = templates(&inputs, &q).iter().map(CsvRow::cells).collect();
        let e = "";
        assert_eq!(
            rows,
            vec![
                // Tags "100" and "welcome" share template 100's row (label: smallest tag).
                // Meta: two days summed: sent 20, delivered 16, read 8, clicked 4,
                // url 2, cost 0.8 → 0.05 per delivered, 0.4 per URL click.
                vec![
                    "all", "100", "2", "2", "0", "0", "1", "1.0000", "0.0000", "0.5000", "20",
                    "16", "8", "4", "0.8", "0.05", "0.4", "100", "en", "reported", "2", "reported"
                ],
                vec![
                    "all",
                    "'=HYPERLINK(1)",
                    "1",
                    "1",
                    "0",
                    "0",
                    "0",
                    "1.0000",
                    "0.0000",
                    "0.0000",
                    e,
                    e,
                    e,
                    e,
                    e,
                    e,
                    e,
                    e,
                    e,
                    e,
                    e,
                    e
                ],
                // Meta-only template: its own row keyed name:language.
                vec![
                    "all",
                    "lonely:pt_BR",
                    "0",
                    "0",
                    "0",
                    "0",
                    "0",
                    e,
                    e,
                    e,
                    "10",
                    "8",
                    "4",
                    "2",
                    "0.4",
                    "0.05",
                    "0.4",
                    "400",
                    "pt_BR",
                    "reported",
                    "1",
                    "reported"
                ],
                vec![
                    "all", "promo", "1", "1", "0", "0", "0", "1.0000", "0.0000", "0.0000", e, e, e,
                    e, e, e, e, e, e, e, e, e
                ],
                // Meta-only template 200 (its name is ambiguous, so the tag "promo" did not
                // match it).
                vec![
                    "all", "promo:en", "0", "0", "0", "0", "0", e, e, e, "10", "8", "4", "2",
                    "0.4", "0.05", "0.4", "200", "en", "reported", "1", "reported"
                ],
                // promo:es matched 300; clicks unavailable in region: never zero, empty.
                vec![
                    "all",
                    "promo:es",
                    "1",
                    "1",
                    "0",
                    "0",
                    "0",
                    "1.0000",
                    "0.0000",
                    "0.0000",
                    "10",
                    "8",
                    "4",
                    e,
                    "0.4",
                    "0.05",
                    e,
                    "300",
                    "es",
                    "unavailable_in_region",
                    e,
                    "reported"
                ],
            ]
        );
    }
}
