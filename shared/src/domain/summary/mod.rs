//! The `summary` report: one self-contained HTML page (inline CSS and SVG, no script, font,
//! image or request) that managers read before the CSVs.
//!
//! Pure: facts in ([`Inputs`], [`Query`], the previous period's facts), a `String` out. Every
//! number comes from the metrics family functions (`crate::domain::metrics`); this module only
//! sums, divides and draws their rows. Missing data is said in words and never drawn as zero.
//!
//! - [`render_summary`] renders the page;
//! - the chart data are plain structs ([`BarChart`], [`Funnel`]) built from family rows by
//!   [`spend_volume_chart`], [`spend_cost_chart`], [`volume_chart`], [`conversions_chart`],
//!   [`template_funnel`], [`response_histogram`], [`failures_chart`], [`campaigns_chart`],
//!   [`consent_chart`] and [`reconciliation_chart`], drawn by [`bar_svg`] / [`funnel_svg`];
//!   every drawn value is a `<rect class="bar" data-value=…>` (see [`charts`]);
//! - numbers follow the [`Locale`] (`en` 1,234.5; `id` and `pt-BR` 1.234,5); dates are
//!   `YYYY-MM-DD` everywhere.
//!
//! Accessibility: real text, each chart an `role="img"` SVG with `<title>`/`<desc>` and a
//! `<details>` table with the same numbers; a grid that reflows from 375 px to wide screens;
//! an A4 print style. A Content-Security-Policy `<meta>` forbids any fetch.

pub mod charts;
pub mod data;
pub mod html;
pub mod locale;
mod sections;

use serde::{Deserialize, Serialize};

pub use self::charts::{BarChart, Funnel, Series, bar_svg, bars_in, funnel_svg};
pub use self::data::{
    Change, Figure, HeadlineItem, Metric, campaigns_chart, consent_chart, conversions_chart,
    failures_chart, headline, period_labels, previous_period, reconciliation_chart,
    response_histogram, spend_cost_chart, spend_volume_chart, template_funnel, volume_chart,
};
pub use self::html::escape;
pub use self::locale::Locale;

use self::html::CSS;
use self::sections::Ctx;
use crate::domain::metrics::{GroupBy, Inputs, Query};

/// The URL of each section's CSV (a presigned link, valid as long as the page's); a section
/// shows its link when present. Only `http(s)` and relative URLs are rendered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionLinks {
    /// Shown on the headline section (its counts come from the conversations family).
    pub conversations: Option<String>,
    pub templates: Option<String>,
    pub spend: Option<String>,
    pub response_times: Option<String>,
    pub volume: Option<String>,
    pub failures: Option<String>,
    pub consent: Option<String>,
    pub campaigns: Option<String>,
    pub reconciliation: Option<String>,
}

/// Section ids, in page order (the anchors of the page's table of contents).
pub const SECTION_IDS: [&str; 9] = [
    "headline",
    "spend",
    "volume",
    "templates",
    "response-times",
    "failures",
    "campaigns",
    "consent",
    "reconciliation",
];

/// Renders the summary page of `q`'s period. `previous` holds the facts of the previous
/// period of equal length ([`previous_period`]; the same `Inputs` may be passed when it holds
/// that history) for the headline changes; without it the changes read "—".
/// `GroupBy::Hour` is drawn per day.
pub fn render_summary(
    inputs: &Inputs,
    q: &Query,
    previous: Option<&Inputs>,
    links: &SectionLinks,
    locale: Locale,
) -> String {
    let mut q = q.clone();
    if q.group_by == GroupBy::Hour {
        q.group_by = GroupBy::Day;
    }
    let all = data::whole(&q);
    let periods = period_labels(&q);
    let t = locale.text();
    let ctx = Ctx {
        inputs,
        q: &q,
        all: &all,
        periods: &periods,
        links,
        locale,
        t,
    };
    let (from, to) = (q.from.format("%Y-%m-%d"), q.to.format("%Y-%m-%d"));
    let grouped = match q.group_by {
        GroupBy::Day | GroupBy::Hour => t.group_day,
        GroupBy::Week => t.group_week,
        GroupBy::Month => t.group_month,
        GroupBy::None => t.group_none,
    };
    let headings = [
        t.h_headline,
        t.h_spend,
        t.h_volume,
        t.h_templates,
        t.h_response,
        t.h_failures,
        t.h_campaigns,
        t.h_consent,
        t.h_reconciliation,
    ];

    let mut h = String::with_capacity(96 * 1024);
    h.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <meta name=\"color-scheme\" content=\"light\">\
         <title>{} {from} – {to}</title><style>{CSS}</style></head><body>",
        locale.tag(),
        html::escape(t.title),
    ));
    h.push_str(&format!(
        "<header><h1>{}</h1><dl class=\"meta\"><div><dt>{}</dt><dd>{from} – {to}</dd></div>\
         <div><dt>{}</dt><dd>{}</dd></div><div><dt>{}</dt><dd>{}</dd></div>",
        html::escape(t.title),
        html::escape(t.period),
        html::escape(t.time_zone),
        html::escape(q.tz.name()),
        html::escape(t.grouped_by),
        html::escape(grouped),
    ));
    if let Some(p) = &q.phone_number_id {
        h.push_str(&format!(
            "<div><dt>{}</dt><dd>{}</dd></div>",
            html::escape(t.phone_number),
            html::escape(p)
        ));
    }
    h.push_str(&format!(
        "</dl><nav aria-label=\"{}\"><ol>",
        html::escape(t.contents)
    ));
    for (id, heading) in SECTION_IDS.iter().zip(headings) {
        h.push_str(&format!(
            "<li><a href=\"#{id}\">{}</a></li>",
            html::escape(heading)
        ));
    }
    h.push_str("</ol></nav></header><main><div class=\"grid\">");
    h.push_str(&sections::headline(&ctx, previous));
    h.push_str(&sections::spend_section(&ctx));
    h.push_str(&sections::volume_section(&ctx));
    h.push_str(&sections::templates_section(&ctx));
    h.push_str(&sections::response_section(&ctx));
    h.push_str(&sections::failures_section(&ctx));
    h.push_str(&sections::campaigns_section(&ctx));
    h.push_str(&sections::consent_section(&ctx));
    h.push_str(&sections::reconciliation_section(&ctx));
    h.push_str(&format!(
        "</div></main><footer><p>{}</p></footer></body></html>\n",
        html::escape(t.footer)
    ));
    h
}

#[cfg(test)]
mod tests;
