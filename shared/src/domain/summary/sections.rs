//! The page's sections: each calls the metrics family functions, builds its chart data
//! (see [`super::data`]) and renders heading, CSV link, chart, table fallback and the notes
//! that say what is missing.

use super::SectionLinks;
use super::charts::{BarChart, Funnel, bar_svg, funnel_svg, human, legend};
use super::data::{
    self, Figure, HeadlineItem, MAX_CATEGORIES, Metric, STOPPED_MARKETING, TemplateTotals, cost_per,
};
use super::html::{Row, escape, para, safe_href, table};
use super::locale::{Locale, Text};
use crate::domain::metrics::failures::LIMITED_BY_META;
use crate::domain::metrics::{
    ConsentAction, ConsentRow, Inputs, Query, ResponseKind, campaigns, consent, failures,
    reconciliation, response_times, spend, templates, volume,
};

/// What every section needs.
pub(super) struct Ctx<'a> {
    pub inputs: &'a Inputs,
    /// The report query (hour grouping already turned into day).
    pub q: &'a Query,
    /// The same query over the whole period.
    pub all: &'a Query,
    pub periods: &'a [String],
    pub links: &'a SectionLinks,
    pub locale: Locale,
    pub t: &'static Text,
}

const DASH: &str = "—";

/// A section with its heading and CSV link (when present and safe).
fn section(
    id: &str,
    class: &str,
    heading: &str,
    link: Option<&str>,
    t: &Text,
    body: &str,
) -> String {
    let link = link
        .and_then(safe_href)
        .map(|href| {
            format!(
                "<a class=\"csv\" href=\"{href}\">{}<span class=\"vh\"> — {}</span></a>",
                escape(t.download_csv),
                escape(heading)
            )
        })
        .unwrap_or_default();
    format!(
        "<section id=\"{id}\" class=\"{class}\" aria-labelledby=\"{id}-h\">\
         <div class=\"sh\"><h2 id=\"{id}-h\">{}</h2>{link}</div>{body}</section>",
        escape(heading)
    )
}

/// A chart figure: caption, SVG (in its own sideways-scrolling box, `.cw`, for narrow
/// screens), legend and the table fallback in a `<details>`.
fn figure(ctx: &Ctx<'_>, caption: &str, svg: String, legend_html: String, tbl: String) -> String {
    format!(
        "<figure><figcaption>{}</figcaption><div class=\"cw\">{svg}</div>{legend_html}<details><summary>{}</summary>{tbl}</details></figure>",
        escape(caption),
        escape(ctx.t.show_table)
    )
}

/// A bar chart with its legend and its table fallback (same numbers, `—` for missing).
fn bar_figure(ctx: &Ctx<'_>, id: &str, caption: &str, chart: &BarChart, first_col: &str) -> String {
    let svg = bar_svg(chart, id, caption, ctx.t.chart_desc, ctx.locale);
    let tbl = chart_table(chart, caption, first_col, ctx.locale);
    figure(ctx, caption, svg, legend(&chart.series), tbl)
}

/// The table of a bar chart: one row per label, one column per series, a marker column
/// when some label is highlighted.
pub(super) fn chart_table(
    chart: &BarChart,
    caption: &str,
    first_col: &str,
    locale: Locale,
) -> String {
    let any_mark = chart.marked.iter().any(|m| *m);
    let mut head: Vec<&str> = vec![first_col];
    head.extend(chart.series.iter().map(|s| s.name.as_str()));
    if any_mark {
        head.push(chart.mark_label.as_str());
    }
    let rows: Vec<Row> = chart
        .labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let mut cells = vec![escape(label)];
            for si in 0..chart.series.len() {
                cells.push(match chart.value(si, i) {
                    Some(v) => human(v, chart.scale, locale),
                    None => DASH.to_string(),
                });
            }
            if any_mark {
                cells.push(if chart.is_marked(i) {
                    "▲".to_string()
                } else {
                    String::new()
                });
            }
            Row {
                cells,
                class: chart.is_marked(i).then_some("flag"),
            }
        })
        .collect();
    table(caption, &head, &rows)
}

fn signed(s: String, positive: bool) -> String {
    if positive { format!("+{s}") } else { s }
}

/// A headline figure as text, and whether it says something is missing.
fn figure_text(f: Figure, locale: Locale) -> (String, bool) {
    let t = locale.text();
    match f {
        Figure::Count(v) => (locale.int(i128::from(v)), false),
        Figure::Rate { num, den } => (
            locale
                .percent(i128::from(num), i128::from(den))
                .unwrap_or_else(|| DASH.to_string()),
            false,
        ),
        Figure::Money(v) => (locale.money_e6(v), false),
        Figure::Duration(x2) => (locale.duration_x2(x2), false),
        Figure::NoData => (DASH.to_string(), false),
        Figure::PricingNotPulled => (t.pricing_not_pulled_short.to_string(), true),
        Figure::PricingDaysMissing { missing, days } => (
            t.pricing_days_missing
                .replace("{n}", &locale.int(missing as i128))
                .replace("{m}", &locale.int(days as i128)),
            true,
        ),
        Figure::CostMissing { missing, rows } => (
            t.cost_missing
                .replace("{n}", &locale.int(missing as i128))
                .replace("{m}", &locale.int(rows as i128)),
            true,
        ),
    }
}

/// The change of a headline item as text: `+20 (+20.0%)`, `+1.5 pp (+2.0%)`, or `—`.
pub(super) fn change_text(item: &HeadlineItem, locale: Locale) -> String {
    let Some(ch) = item.change() else {
        return DASH.to_string();
    };
    let a = ch.absolute;
    let abs = match item.current {
        Figure::Rate { .. } => format!("{} {}", locale.fixed(a, 1), locale.text().pp),
        Figure::Money(_) => locale.money_e6(i64::try_from(a).unwrap_or(i64::MAX)),
        Figure::Duration(_) => locale.duration_x2(a),
        _ => locale.int(a),
    };
    let abs = signed(abs, a > 0);
    match ch.relative_tenths {
        Some(r) => format!("{abs} ({}%)", signed(locale.fixed(r, 1), r > 0)),
        None => abs,
    }
}

fn metric_label(m: Metric, t: &Text) -> &'static str {
    match m {
        Metric::Sent => t.sent,
        Metric::DeliveryRate => t.delivery_rate,
        Metric::ReadRate => t.read_rate,
        Metric::PaidMessages => t.paid_messages,
        Metric::Spend => t.spend,
        Metric::NewLeads => t.new_leads,
        Metric::Conversions => t.conversions,
        Metric::MedianResponse => t.median_response,
    }
}

pub(super) fn headline(ctx: &Ctx<'_>, previous: Option<&Inputs>) -> String {
    let (t, l) = (ctx.t, ctx.locale);
    let items = data::headline(ctx.inputs, ctx.q, previous);
    let prev_q = data::previous_period(ctx.q);
    let mut body = String::from("<ul class=\"cards\">");
    let mut rows = Vec::new();
    for item in &items {
        let label = metric_label(item.metric, t);
        let (value, missing) = figure_text(item.current, l);
        let change = change_text(item, l);
        body.push_str(&format!(
            "<li class=\"card\" data-metric=\"{:?}\"><div class=\"k\">{}</div>\
             <div class=\"v{}\">{}</div><div class=\"d\"><span class=\"vh\">{}: </span>{}</div></li>",
            item.metric,
            escape(label),
            if missing { " missing" } else { "" },
            escape(&value),
            escape(t.change),
            escape(&change)
        ));
        rows.push(Row::new(vec![
            escape(label),
            escape(&value),
            escape(
                &item
                    .previous
                    .map(|p| figure_text(p, l).0)
                    .unwrap_or_else(|| DASH.to_string()),
            ),
            escape(&change),
        ]));
    }
    body.push_str("</ul>");
    body.push_str(&match previous {
        Some(_) => para(
            "note",
            &format!(
                "{}: {} – {}",
                t.previous_period,
                prev_q.from.format("%Y-%m-%d"),
                prev_q.to.format("%Y-%m-%d")
            ),
        ),
        None => para("note", t.no_previous),
    });
    body.push_str(&format!(
        "<details><summary>{}</summary>{}</details>",
        escape(t.show_table),
        table(
            t.h_headline,
            &[t.metric, t.this_period, t.previous_period, t.change],
            &rows
        )
    ));
    section(
        "headline",
        "wide",
        t.h_headline,
        ctx.links.conversations.as_deref(),
        t,
        &body,
    )
}

pub(super) fn spend_section(ctx: &Ctx<'_>) -> String {
    let (t, l) = (ctx.t, ctx.locale);
    let rows = spend(ctx.inputs, ctx.q);
    let body = if rows.is_empty() {
        para("missing", t.pricing_not_pulled)
    } else {
        let vol = data::spend_volume_chart(&rows, ctx.periods, l);
        let cost = data::spend_cost_chart(&rows, ctx.periods, l);
        let mut b = String::from("<div class=\"figs\">");
        b.push_str(&bar_figure(
            ctx,
            "c-spend-volume",
            t.spend_volume_chart,
            &vol,
            t.periods,
        ));
        b.push_str(&bar_figure(
            ctx,
            "c-spend-cost",
            t.spend_cost_chart,
            &cost,
            t.periods,
        ));
        b.push_str("</div>");
        let days = data::pricing_days_missing(ctx.inputs, ctx.q);
        if !days.is_empty() {
            b.push_str(&para(
                "missing",
                &t.pricing_not_pulled_for.replace("{list}", &days.join(", ")),
            ));
        }
        if rows.iter().any(|r| r.cost_e6.is_none()) {
            b.push_str(&para("missing", t.spend_cost_partial));
        }
        b.push_str(&para("note", t.spend_currency_note));
        b.push_str(&para("note", t.missing_legend));
        b
    };
    section(
        "spend",
        "wide",
        t.h_spend,
        ctx.links.spend.as_deref(),
        t,
        &body,
    )
}

pub(super) fn volume_section(ctx: &Ctx<'_>) -> String {
    let (t, l) = (ctx.t, ctx.locale);
    let rows = volume(ctx.inputs, ctx.q);
    let vol = data::volume_chart(&rows, l);
    let conv = data::conversions_chart(&rows, l);
    let mut b = String::from("<div class=\"figs\">");
    b.push_str(&bar_figure(
        ctx,
        "c-volume",
        t.volume_chart,
        &vol,
        t.periods,
    ));
    b.push_str(&bar_figure(
        ctx,
        "c-conversions",
        t.conversions_chart,
        &conv,
        t.periods,
    ));
    b.push_str("</div>");
    b.push_str(&para("note", t.spike_note));
    section(
        "volume",
        "wide",
        t.h_volume,
        ctx.links.volume.as_deref(),
        t,
        &b,
    )
}

fn opt_count(v: Option<i64>, l: Locale) -> String {
    v.map(|v| l.int(i128::from(v)))
        .unwrap_or_else(|| DASH.to_string())
}

fn opt_money(v: Option<i64>, l: Locale) -> String {
    v.map(|v| l.money_e6(v)).unwrap_or_else(|| DASH.to_string())
}

/// The funnel's table: per stage, each series' value and its rate (delivered ÷ sent, the
/// later steps ÷ delivered).
fn funnel_table(f: &Funnel, caption: &str, l: Locale) -> String {
    let t = l.text();
    let mut head: Vec<String> = vec![t.stage.to_string()];
    for s in &f.series {
        head.push(s.name.clone());
        head.push(format!("{} · {}", s.name, t.rate));
    }
    let head_refs: Vec<&str> = head.iter().map(String::as_str).collect();
    let rows: Vec<Row> = f
        .stages
        .iter()
        .enumerate()
        .map(|(i, stage)| {
            let mut cells = vec![escape(stage)];
            for s in &f.series {
                let v = s.values.get(i).copied().flatten();
                let base = match i {
                    0 => None,
                    1 => s.values.first().copied().flatten(),
                    _ => s.values.get(1).copied().flatten(),
                };
                cells.push(opt_count(v, l));
                cells.push(match (v, base) {
                    (Some(v), Some(b)) => l
                        .percent(i128::from(v), i128::from(b))
                        .unwrap_or_else(|| DASH.to_string()),
                    _ => DASH.to_string(),
                });
            }
            Row::new(cells)
        })
        .collect();
    table(caption, &head_refs, &rows)
}

pub(super) fn templates_section(ctx: &Ctx<'_>) -> String {
    let (t, l) = (ctx.t, ctx.locale);
    let rows = templates(ctx.inputs, ctx.all);
    let body = if rows.is_empty() {
        para("note", t.no_templates)
    } else {
        let tot = TemplateTotals::of(&rows);
        let funnel = data::template_funnel(&rows, l);
        let svg = funnel_svg(&funnel, "c-funnel", t.funnel_chart, t.chart_desc, l);
        let mut b = figure(
            ctx,
            t.funnel_chart,
            svg,
            legend(&funnel.series),
            funnel_table(&funnel, t.funnel_chart, l),
        );
        b.push_str(&para("note", t.rate_note));
        if !tot.meta_present {
            b.push_str(&para("missing", t.template_analytics_not_pulled));
        }
        if tot.clicks_unavailable {
            b.push_str(&para("missing", t.clicks_unavailable));
        }
        if tot.meta_present {
            b.push_str(&format!(
                "<ul class=\"callouts\"><li>{}<br><span class=\"v\">{}</span></li>\
                 <li>{}<br><span class=\"v\">{}</span></li></ul>",
                escape(&format!("{} ({})", t.cost_per_delivered, t.meta)),
                escape(&opt_money(
                    cost_per(tot.meta_cost_e6, tot.meta_delivered),
                    l
                )),
                escape(&format!("{} ({})", t.cost_per_url_click, t.meta)),
                escape(&opt_money(
                    cost_per(tot.meta_cost_e6, tot.meta_url_clicks),
                    l
                )),
            ));
        }
        let per: Vec<Row> = rows
            .iter()
            .map(|r| {
                let m = r.meta.clone().unwrap_or_default();
                let has = r.meta.is_some();
                let mv = |v: Option<i64>| {
                    if has {
                        opt_count(v, l)
                    } else {
                        DASH.to_string()
                    }
                };
                Row::new(vec![
                    escape(&r.template),
                    l.int(i128::from(r.sent)),
                    l.int(i128::from(r.delivered)),
                    l.int(i128::from(r.read)),
                    l.int(i128::from(r.replied)),
                    l.percent(i128::from(r.replied), i128::from(r.delivered))
                        .unwrap_or_else(|| DASH.to_string()),
                    mv(m.sent),
                    mv(m.delivered),
                    mv(m.read),
                    mv(m.clicked),
                    escape(&opt_money(cost_per(m.cost_e6, m.delivered), l)),
                    escape(&opt_money(cost_per(m.cost_e6, m.url_clicks), l)),
                ])
            })
            .collect();
        let wh = |s: &str| format!("{s} ({})", t.webhook);
        let me = |s: &str| format!("{s} ({})", t.meta);
        let head = [
            t.template.to_string(),
            wh(t.sent),
            wh(t.delivered),
            wh(t.read),
            wh(t.replied),
            format!("{} · {}", t.replied, t.rate),
            me(t.sent),
            me(t.delivered),
            me(t.read),
            me(t.clicked),
            t.cost_per_delivered.to_string(),
            t.cost_per_url_click.to_string(),
        ];
        let head_refs: Vec<&str> = head.iter().map(String::as_str).collect();
        b.push_str(&format!(
            "<details><summary>{}</summary>{}</details>",
            escape(t.per_template),
            table(t.per_template, &head_refs, &per)
        ));
        b
    };
    section(
        "templates",
        "",
        t.h_templates,
        ctx.links.templates.as_deref(),
        t,
        &body,
    )
}

pub(super) fn response_section(ctx: &Ctx<'_>) -> String {
    let (t, l) = (ctx.t, ctx.locale);
    let rows = response_times(ctx.inputs, ctx.all);
    let body = if rows.is_empty() {
        para("note", t.no_responses)
    } else {
        let stats: Vec<Row> = rows
            .iter()
            .map(|r| {
                let who = match r.responder {
                    ResponseKind::Any => t.responder_any,
                    ResponseKind::Bot => t.bot,
                    ResponseKind::Human => t.human,
                };
                Row::new(vec![
                    escape(who),
                    l.int(i128::from(r.responses)),
                    escape(&l.duration_x2(r.median_x2)),
                    escape(&l.duration_s(r.p90_s)),
                    format!(
                        "{} ({})",
                        l.int(i128::from(r.over_sla)),
                        l.percent(i128::from(r.over_sla), i128::from(r.responses))
                            .unwrap_or_else(|| DASH.to_string())
                    ),
                    l.int(i128::from(r.outliers)),
                ])
            })
            .collect();
        let mut b = table(
            &format!("{}: {}", t.sla, l.duration_s(ctx.q.sla_seconds)),
            &[
                t.responder,
                t.responses,
                t.median,
                t.p90,
                t.over_sla,
                t.outliers,
            ],
            &stats,
        );
        let hist = data::response_histogram(ctx.inputs, ctx.q, l);
        b.push_str(&bar_figure(
            ctx,
            "c-response",
            t.histogram_chart,
            &hist,
            t.wait,
        ));
        b
    };
    section(
        "response-times",
        "",
        t.h_response,
        ctx.links.response_times.as_deref(),
        t,
        &body,
    )
}

/// Consent rows counted per event (an event with several categories counts once): the
/// `consent` family over the same events without their categories.
pub(super) fn consent_events(inputs: &Inputs, q: &Query) -> Vec<ConsentRow> {
    let stripped = Inputs {
        consent: inputs
            .consent
            .iter()
            .map(|e| {
                let mut e = e.clone();
                e.categories.clear();
                e
            })
            .collect(),
        ..Inputs::default()
    };
    consent(&stripped, q)
}

pub(super) fn failures_section(ctx: &Ctx<'_>) -> String {
    let (t, l) = (ctx.t, ctx.locale);
    let rows = failures(ctx.inputs, ctx.all);
    let body = if rows.is_empty() {
        para("note", t.no_failures)
    } else {
        let by_code = data::failures_by_code(&rows);
        let sum = |pred: &dyn Fn(Option<i64>) -> bool| -> u64 {
            by_code
                .iter()
                .filter(|(c, _, _)| pred(*c))
                .map(|(_, _, n)| n)
                .sum()
        };
        let limited = sum(&|c| c == Some(LIMITED_BY_META));
        let stopped = sum(&|c| c == Some(STOPPED_MARKETING));
        let other = sum(&|c| c != Some(LIMITED_BY_META) && c != Some(STOPPED_MARKETING));
        let opt_outs: u64 = consent_events(ctx.inputs, ctx.all)
            .iter()
            .filter(|r| r.action == ConsentAction::OptOut)
            .map(|r| r.events)
            .sum();
        let callout = |label: &str, v: u64| {
            format!(
                "<li>{}<br><span class=\"v\">{}</span></li>",
                escape(label),
                l.int(i128::from(v))
            )
        };
        let mut b = format!(
            "<ul class=\"callouts\">{}{}{}{}</ul>",
            callout(t.limited_by_meta, limited),
            callout(t.stopped_marketing, stopped),
            callout(t.other_errors, other),
            callout(t.opt_outs_consent, opt_outs),
        );
        if limited > 0 {
            b.push_str(&para("note", t.limited_note));
        }
        let chart = data::failures_chart(&rows, l);
        let svg = bar_svg(&chart, "c-failures", t.failures_chart, t.chart_desc, l);
        let all_rows: Vec<Row> = by_code
            .iter()
            .map(|(code, title, n)| Row {
                cells: vec![
                    escape(&data::code_label(*code, t)),
                    escape(title),
                    l.int(i128::from(*n)),
                ],
                class: (*code == Some(LIMITED_BY_META)).then_some("flag"),
            })
            .collect();
        let tbl = table(
            t.failures_chart,
            &[t.error_code, t.error_title, t.failed],
            &all_rows,
        );
        b.push_str(&figure(
            ctx,
            t.failures_chart,
            svg,
            legend(&chart.series),
            tbl,
        ));
        if by_code.len() > MAX_CATEGORIES {
            b.push_str(&para(
                "note",
                &t.chart_first_n.replace("{n}", &MAX_CATEGORIES.to_string()),
            ));
        }
        b
    };
    section(
        "failures",
        "",
        t.h_failures,
        ctx.links.failures.as_deref(),
        t,
        &body,
    )
}

pub(super) fn campaigns_section(ctx: &Ctx<'_>) -> String {
    let (t, l) = (ctx.t, ctx.locale);
    let rows = campaigns(ctx.inputs, ctx.q);
    let body = if rows.is_empty() {
        para("note", t.no_leads)
    } else {
        let leads: u64 = rows.iter().map(|r| r.leads).sum();
        let converted: u64 = rows.iter().map(|r| r.converted_leads).sum();
        let conversions: u64 = rows.iter().map(|r| r.conversions).sum();
        let mut b = format!(
            "<ul class=\"callouts\"><li>{}<br><span class=\"v\">{} → {} → {}</span></li>\
             <li>{}<br><span class=\"v\">{}</span></li></ul>",
            escape(t.campaigns_chart),
            l.int(i128::from(leads)),
            l.int(i128::from(converted)),
            l.int(i128::from(conversions)),
            escape(t.conversion_rate),
            l.percent(i128::from(converted), i128::from(leads))
                .unwrap_or_else(|| DASH.to_string()),
        );
        let chart = data::campaigns_chart(&rows, l);
        let svg = bar_svg(&chart, "c-campaigns", t.campaigns_chart, t.chart_desc, l);
        let table_rows: Vec<Row> = rows
            .iter()
            .map(|r| {
                let value = match (r.value_e4, r.currency.as_str()) {
                    (_, "mixed") => t.mixed_currencies.to_string(),
                    (Some(v), "") => l.money_e4(v),
                    (Some(v), cur) => format!("{} {cur}", l.money_e4(v)),
                    (None, _) => DASH.to_string(),
                };
                Row::new(vec![
                    escape(&data::campaign_label(r, t)),
                    l.int(i128::from(r.leads)),
                    l.int(i128::from(r.converted_leads)),
                    l.int(i128::from(r.conversions)),
                    l.percent(i128::from(r.converted_leads), i128::from(r.leads))
                        .unwrap_or_else(|| DASH.to_string()),
                    escape(&value),
                ])
            })
            .collect();
        let tbl = table(
            t.campaigns_chart,
            &[
                t.campaign,
                t.leads,
                t.converted_leads,
                t.conversions,
                t.conversion_rate,
                t.value,
            ],
            &table_rows,
        );
        b.push_str(&figure(
            ctx,
            t.campaigns_chart,
            svg,
            legend(&chart.series),
            tbl,
        ));
        if rows.len() > MAX_CATEGORIES {
            b.push_str(&para(
                "note",
                &t.chart_first_n.replace("{n}", &MAX_CATEGORIES.to_string()),
            ));
        }
        b
    };
    section(
        "campaigns",
        "",
        t.h_campaigns,
        ctx.links.campaigns.as_deref(),
        t,
        &body,
    )
}

pub(super) fn consent_section(ctx: &Ctx<'_>) -> String {
    let (t, l) = (ctx.t, ctx.locale);
    let rows = consent_events(ctx.inputs, ctx.q);
    let body = if rows.is_empty() {
        para("note", t.no_consent)
    } else {
        let chart = data::consent_chart(&rows, ctx.periods, l);
        bar_figure(ctx, "c-consent", t.consent_chart, &chart, t.periods)
    };
    section(
        "consent",
        "wide",
        t.h_consent,
        ctx.links.consent.as_deref(),
        t,
        &body,
    )
}

pub(super) fn reconciliation_section(ctx: &Ctx<'_>) -> String {
    let (t, l) = (ctx.t, ctx.locale);
    let rows = reconciliation(ctx.inputs, ctx.q);
    let body = if rows.is_empty() {
        para("note", t.no_messages)
    } else {
        let mut b = String::new();
        let pulled = ctx.inputs.messaging.iter().any(|m| ctx.q.in_period(m.day));
        if !pulled {
            b.push_str(&para("missing", t.messaging_not_pulled));
        } else {
            let unpulled: Vec<&str> = ctx
                .periods
                .iter()
                .filter(|p| {
                    !rows.iter().any(|r| {
                        &r.period == *p && (r.meta_sent.is_some() || r.meta_delivered.is_some())
                    })
                })
                .map(String::as_str)
                .collect();
            if !unpulled.is_empty() {
                b.push_str(&para(
                    "missing",
                    &t.messaging_not_pulled_for
                        .replace("{list}", &unpulled.join(", ")),
                ));
            }
        }
        let chart = data::reconciliation_chart(&rows, ctx.periods, l);
        let svg = bar_svg(
            &chart,
            "c-reconciliation",
            t.reconciliation_chart,
            t.chart_desc,
            l,
        );
        let diff = |w: i64, m: Option<i64>| {
            m.map(|m| signed(l.int(i128::from(w) - i128::from(m)), w > m))
                .unwrap_or_else(|| DASH.to_string())
        };
        let table_rows: Vec<Row> = rows
            .iter()
            .map(|r| Row {
                cells: vec![
                    escape(&r.period),
                    escape(&r.waba_id),
                    l.int(i128::from(r.webhook_sent)),
                    opt_count(r.meta_sent, l),
                    diff(r.webhook_sent, r.meta_sent),
                    l.int(i128::from(r.webhook_delivered)),
                    opt_count(r.meta_delivered, l),
                    diff(r.webhook_delivered, r.meta_delivered),
                    l.int(i128::from(r.webhook_paid)),
                    opt_count(r.meta_paid_volume, l),
                    diff(r.webhook_paid, r.meta_paid_volume),
                ],
                class: data::disagrees(r).then_some("flag"),
            })
            .collect();
        let h = |a: &str, b: &str| format!("{a} ({b})");
        let head = [
            t.periods.to_string(),
            t.waba.to_string(),
            h(t.sent, t.webhook),
            h(t.sent, t.meta),
            t.difference.to_string(),
            h(t.delivered, t.webhook),
            h(t.delivered, t.meta),
            t.difference.to_string(),
            h(t.paid_volume, t.webhook),
            h(t.paid_volume, t.meta),
            t.difference.to_string(),
        ];
        let head_refs: Vec<&str> = head.iter().map(String::as_str).collect();
        let tbl = table(t.reconciliation_chart, &head_refs, &table_rows);
        b.push_str(&figure(
            ctx,
            t.reconciliation_chart,
            svg,
            legend(&chart.series),
            tbl,
        ));
        let bad: Vec<&str> = chart
            .labels
            .iter()
            .enumerate()
            .filter(|(i, _)| chart.is_marked(*i))
            .map(|(_, p)| p.as_str())
            .collect();
        if bad.is_empty() {
            b.push_str(&para("note", t.all_agree));
        } else {
            b.push_str(&para(
                "missing",
                &format!("{}: {}", t.disagree_days, bad.join(", ")),
            ));
        }
        b.push_str(&para("note", t.meta_day_note));
        b.push_str(&para("note", t.missing_legend));
        b
    };
    section(
        "reconciliation",
        "wide",
        t.h_reconciliation,
        ctx.links.reconciliation.as_deref(),
        t,
        &body,
    )
}
