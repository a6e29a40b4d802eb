//! Chart data as plain structs and their hand-drawn inline SVG.
//!
//! Every drawn value is a `<rect class="bar" data-series=… data-label=… data-value=…>` whose
//! `data-value` is the exact value (plain `.` decimal, `scale` decimals at most), so tests and
//! the browser check can compare the picture with the report's rows. A value of zero draws
//! no bar (zero is a real zero, shown as such in the table); a missing value (`None`) draws
//! no bar either but a visible "n/a" mark, never a zero bar.

use super::html::escape;
use super::locale::Locale;

/// Colour-blind-safe palette (Okabe–Ito, yellow darkened for contrast on white).
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#B8A200", "#6E6E6E",
];

/// Colour of series `i`.
pub fn colour(i: usize) -> &'static str {
    PALETTE.get(i % PALETTE.len()).copied().unwrap_or("#6E6E6E")
}

/// One named series: one value per label (`None` = missing data, never zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub name: String,
    /// Series with the same stack key are stacked; different keys stand side by side.
    pub stack: String,
    pub values: Vec<Option<i64>>,
}

/// A bar chart: labels along the x axis, grouped and/or stacked series.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BarChart {
    pub labels: Vec<String>,
    pub series: Vec<Series>,
    /// Values are integers in units of 10^-scale (6 for money in micro units).
    pub scale: u32,
    /// Labels to highlight (spike days, disagreeing days, …), one flag per label.
    pub marked: Vec<bool>,
    /// What a highlight means (its tooltip and the table's marker).
    pub mark_label: String,
}

impl BarChart {
    /// The value of series `s` at label `i`.
    pub fn value(&self, s: usize, i: usize) -> Option<i64> {
        self.series
            .get(s)
            .and_then(|s| s.values.get(i).copied().flatten())
    }

    /// Whether label `i` is highlighted.
    pub fn is_marked(&self, i: usize) -> bool {
        self.marked.get(i).copied().unwrap_or(false)
    }

    /// The distinct stack keys, in order of first appearance.
    pub fn stacks(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for s in &self.series {
            if !out.contains(&s.stack.as_str()) {
                out.push(s.stack.as_str());
            }
        }
        out
    }

    /// Nothing to draw: no label, or every value missing or zero.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
            || self
                .series
                .iter()
                .all(|s| s.values.iter().all(|v| v.unwrap_or(0) == 0))
    }
}

/// A funnel: stages top to bottom, one horizontal bar per series and stage.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Funnel {
    pub stages: Vec<String>,
    pub series: Vec<Series>,
}

/// The exact value as a plain decimal (`1.25`, `7`) for `data-value`.
pub fn plain(v: i64, scale: u32) -> String {
    let p = 10u128.pow(scale.min(30));
    let a = i128::from(v).unsigned_abs();
    let sign = if v < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{a}");
    }
    let frac = format!("{:0w$}", a % p, w = scale as usize);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{sign}{}", a / p)
    } else {
        format!("{sign}{}.{frac}", a / p)
    }
}

/// A value for people: money-like scales keep two decimals, counts none.
pub fn human(v: i64, scale: u32, locale: Locale) -> String {
    if scale == 0 {
        locale.int(i128::from(v))
    } else {
        locale.decimal(i128::from(v), scale, 2)
    }
}

/// A "nice" axis step (1, 2 or 5 × 10^k raw units) so that `ticks` steps cover `max`.
fn nice_step(max: i128, ticks: i128) -> i128 {
    let target = ((max + ticks - 1) / ticks).max(1);
    let mut p: i128 = 1;
    while p * 10 <= target {
        p *= 10;
    }
    [1, 2, 5, 10]
        .iter()
        .map(|m| m * p)
        .find(|s| *s >= target)
        .unwrap_or(10 * p)
}

/// The width every chart is drawn at (SVG user units). On narrow screens the style sheet
/// keeps the SVG at this many CSS pixels (`CSS`: `min-width`) so that its 11-unit text
/// renders at 11 px, scrolling sideways inside its `.cw` box instead of shrinking.
pub const CHART_WIDTH: u32 = 600;
const W: f64 = CHART_WIDTH as f64;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 18.0;
const PLOT_H: f64 = 190.0;

/// The SVG of a bar chart. `id` must be unique in the page; `title` and `desc` become the
/// chart's accessible name and description.
pub fn bar_svg(chart: &BarChart, id: &str, title: &str, desc: &str, locale: Locale) -> String {
    let t = locale.text();
    let n = chart.labels.len().max(1);
    let stacks = chart.stacks();
    let k = stacks.len().max(1);
    // Tallest stack.
    let mut max: i128 = 0;
    for i in 0..chart.labels.len() {
        for st in &stacks {
            let total: i128 = chart
                .series
                .iter()
                .enumerate()
                .filter(|(_, s)| s.stack == *st)
                .map(|(si, _)| i128::from(chart.value(si, i).unwrap_or(0).max(0)))
                .sum();
            max = max.max(total);
        }
    }
    let step = nice_step(max, 4);
    let ticks = ((max + step - 1) / step).max(1);
    let top_value = (step * ticks) as f64;
    let long_labels = chart.labels.iter().any(|l| l.chars().count() > 7) || n > 12;
    let bottom = if long_labels { 78.0 } else { 30.0 };
    let h = TOP + PLOT_H + bottom;
    let pw = W - LEFT - RIGHT;
    let gw = pw / n as f64;
    let bw = gw * 0.8 / k as f64;
    let y_of = |v: f64| TOP + PLOT_H - (v / top_value) * PLOT_H;

    let mut s = format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {h}\" \
         role=\"img\" aria-labelledby=\"{id}-t {id}-d\" data-chart=\"{id}\">\
         <title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        escape(title),
        escape(desc)
    );
    // Highlight bands first, behind everything.
    for i in 0..chart.labels.len() {
        if chart.is_marked(i) {
            let x = LEFT + i as f64 * gw;
            s.push_str(&format!(
                "<rect class=\"mark\" x=\"{x:.1}\" y=\"{TOP:.1}\" width=\"{gw:.1}\" \
                 height=\"{PLOT_H:.1}\"><title>{}</title></rect>\
                 <text class=\"mark-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">▲</text>",
                escape(&format!(
                    "{}: {}",
                    chart.labels.get(i).map(String::as_str).unwrap_or(""),
                    chart.mark_label
                )),
                x + gw / 2.0,
                TOP - 4.0
            ));
        }
    }
    // Grid and y ticks.
    s.push_str("<g class=\"y\">");
    for tick in 0..=ticks {
        let v = step * tick;
        let y = y_of(v as f64);
        s.push_str(&format!(
            "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            escape(&human(
                i64::try_from(v).unwrap_or(i64::MAX),
                chart.scale,
                locale
            ))
        ));
    }
    s.push_str("</g><g class=\"bars\">");
    for (i, label) in chart.labels.iter().enumerate() {
        let mut missing: Vec<&str> = Vec::new();
        let mut tallest: i128 = 0;
        for (ki, st) in stacks.iter().enumerate() {
            let x = LEFT + i as f64 * gw + gw * 0.1 + ki as f64 * bw;
            let mut acc: i128 = 0;
            for (si, series) in chart.series.iter().enumerate() {
                if series.stack != *st {
                    continue;
                }
                let Some(v) = series.values.get(i).copied().flatten() else {
                    if series.values.get(i).is_some() {
                        missing.push(series.name.as_str());
                    }
                    continue;
                };
                if v == 0 {
                    continue;
                }
                let y0 = y_of(acc as f64);
                acc += i128::from(v.max(0));
                let y1 = y_of(acc as f64);
                s.push_str(&format!(
                    "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y1:.1}\" width=\"{:.1}\" \
                     height=\"{:.1}\" fill=\"{}\" data-series=\"{}\" data-label=\"{}\" \
                     data-value=\"{}\"><title>{}</title></rect>",
                    (bw - 1.0).max(0.5),
                    (y0 - y1).max(0.0),
                    colour(si),
                    escape(&series.name),
                    escape(label),
                    plain(v, chart.scale),
                    escape(&format!(
                        "{label} · {}: {}",
                        series.name,
                        human(v, chart.scale, locale)
                    )),
                ));
            }
            tallest = tallest.max(acc);
        }
        // One vertical "n/a" per label with missing values (its tooltip names them).
        if !missing.is_empty() {
            let cx = LEFT + i as f64 * gw + gw / 2.0 + 4.0;
            let y = y_of(tallest as f64) - 4.0;
            s.push_str(&format!(
                "<text class=\"missing\" x=\"{cx:.1}\" y=\"{y:.1}\" \
                 transform=\"rotate(-90 {cx:.1} {y:.1})\" data-label=\"{}\">{}<title>{}</title></text>",
                escape(label),
                escape(t.no_data_short),
                escape(&format!("{label}: {} ({})", t.no_data, missing.join(", "))),
            ));
        }
    }
    s.push_str("</g><g class=\"x\">");
    let every = n.div_ceil(16).max(1);
    for (i, label) in chart.labels.iter().enumerate() {
        if i % every != 0 {
            continue;
        }
        let cx = LEFT + i as f64 * gw + gw / 2.0;
        let y = TOP + PLOT_H + 14.0;
        let shown: String = if label.chars().count() > 18 {
            let mut c: String = label.chars().take(17).collect();
            c.push('…');
            c
        } else {
            label.clone()
        };
        if long_labels {
            s.push_str(&format!(
                "<text x=\"{cx:.1}\" y=\"{y:.1}\" text-anchor=\"end\" \
                 transform=\"rotate(-40 {cx:.1} {y:.1})\">{}</text>",
                escape(&shown)
            ));
        } else {
            s.push_str(&format!(
                "<text x=\"{cx:.1}\" y=\"{y:.1}\" text-anchor=\"middle\">{}</text>",
                escape(&shown)
            ));
        }
    }
    s.push_str("</g></svg>");
    s
}

/// The SVG of a funnel: per stage, one centred bar per series, width ∝ value, value printed
/// beside it; a missing value prints "n/a" and draws nothing.
pub fn funnel_svg(f: &Funnel, id: &str, title: &str, desc: &str, locale: Locale) -> String {
    let t = locale.text();
    let k = f.series.len().max(1);
    let bar_h = 14.0;
    let row_h = bar_h * k as f64 + 12.0;
    let h = 8.0 + row_h * f.stages.len().max(1) as f64;
    let (area_x, area_w, val_x) = (130.0, 330.0, 470.0);
    let max = f
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut s = format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {h}\" \
         role=\"img\" aria-labelledby=\"{id}-t {id}-d\" data-chart=\"{id}\">\
         <title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        escape(title),
        escape(desc)
    );
    for (i, stage) in f.stages.iter().enumerate() {
        let y = 8.0 + i as f64 * row_h;
        s.push_str(&format!(
            "<text x=\"0\" y=\"{:.1}\">{}</text>",
            y + row_h / 2.0,
            escape(stage)
        ));
        for (si, series) in f.series.iter().enumerate() {
            let by = y + si as f64 * bar_h;
            let cy = by + bar_h / 2.0 + 4.0;
            match series.values.get(i).copied().flatten() {
                Some(v) => {
                    let w = (v.max(0) as f64 / max * area_w).max(if v > 0 { 1.0 } else { 0.0 });
                    if v != 0 {
                        s.push_str(&format!(
                            "<rect class=\"bar\" x=\"{:.1}\" y=\"{by:.1}\" width=\"{w:.1}\" \
                             height=\"{:.1}\" fill=\"{}\" data-series=\"{}\" data-label=\"{}\" \
                             data-value=\"{v}\"><title>{}</title></rect>",
                            area_x + (area_w - w) / 2.0,
                            bar_h - 2.0,
                            colour(si),
                            escape(&series.name),
                            escape(stage),
                            escape(&format!(
                                "{stage} · {}: {}",
                                series.name,
                                locale.int(i128::from(v))
                            )),
                        ));
                    }
                    s.push_str(&format!(
                        "<text class=\"val\" x=\"{val_x}\" y=\"{cy:.1}\">{}: {}</text>",
                        escape(&series.name),
                        locale.int(i128::from(v))
                    ));
                }
                None => s.push_str(&format!(
                    "<text class=\"missing\" x=\"{val_x}\" y=\"{cy:.1}\" data-label=\"{}\">{}: {}</text>",
                    escape(stage),
                    escape(&series.name),
                    escape(t.no_data_short)
                )),
            }
        }
    }
    s.push_str("</svg>");
    s
}

/// The HTML legend of a chart's series (real text beside colour swatches).
pub fn legend(series: &[Series]) -> String {
    let mut h = String::from("<ul class=\"legend\">");
    for (i, s) in series.iter().enumerate() {
        h.push_str(&format!(
            "<li><span class=\"sw\" style=\"background:{}\" aria-hidden=\"true\"></span>{}</li>",
            colour(i),
            escape(&s.name)
        ));
    }
    h.push_str("</ul>");
    h
}

/// `(data-value, data-series, data-label)` of every `<rect class="bar"` in an SVG, in order.
/// Test helper, also used by the example's self-check.
pub fn bars_in(svg: &str) -> Vec<(String, String, String)> {
    let attr = |tag: &str, name: &str| -> String {
        let key = format!(" {name}=\"");
        tag.find(&key)
            .map(|i| {
                let rest = &tag[i + key.len()..];
                rest[..rest.find('"').unwrap_or(rest.len())].to_string()
            })
            .unwrap_or_default()
    };
    svg.split("<rect class=\"bar\"")
        .skip(1)
        .map(|chunk| {
            let tag = &chunk[..chunk.find('>').unwrap_or(chunk.len())];
            (
                attr(tag, "data-value"),
                attr(tag, "data-series"),
                attr(tag, "data-label"),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> BarChart {
        BarChart {
            labels: vec!["2026-11-20".into(), "2026-11-21".into(), "<x>".into()],
            series: vec![
                Series {
                    name: "a".into(),
                    stack: "s".into(),
                    values: vec![Some(3), Some(0), None],
                },
                Series {
                    name: "b\"".into(),
                    stack: "s".into(),
                    values: vec![Some(2), Some(5), None],
                },
            ],
            scale: 0,
            marked: vec![false, true, false],
            mark_label: "spike".into(),
        }
    }

    #[test]
    fn one_bar_per_non_zero_value_and_missing_is_marked_not_zero() {
        let svg = bar_svg(&chart(), "c1", "T<", "D", Locale::En);
        let bars = bars_in(&svg);
        let values: Vec<&str> = bars.iter().map(|b| b.0.as_str()).collect();
        assert_eq!(values, ["3", "2", "5"]);
        assert_eq!(bars[1].1, "b&quot;");
        assert_eq!(svg.matches("class=\"missing\"").count(), 1);
        assert!(svg.contains("data-label=\"&lt;x&gt;\""));
        assert_eq!(svg.matches("class=\"mark\"").count(), 1);
        assert!(svg.contains("<title id=\"c1-t\">T&lt;</title>"));
        assert!(svg.contains("viewBox=\"0 0 600 "));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn empty_and_extreme_charts_do_not_panic() {
        let empty = BarChart::default();
        assert!(empty.is_empty());
        assert!(bars_in(&bar_svg(&empty, "e", "", "", Locale::Id)).is_empty());
        let huge = BarChart {
            labels: vec!["x".into()],
            series: vec![Series {
                name: "n".into(),
                stack: "s".into(),
                values: vec![Some(i64::MAX)],
            }],
            scale: 6,
            ..BarChart::default()
        };
        let svg = bar_svg(&huge, "h", "", "", Locale::PtBr);
        assert_eq!(bars_in(&svg)[0].0, "9223372036854.775807");
        let neg = Funnel {
            stages: vec!["s".into()],
            series: vec![Series {
                name: "n".into(),
                stack: String::new(),
                values: vec![Some(-4)],
            }],
        };
        assert_eq!(bars_in(&funnel_svg(&neg, "f", "", "", Locale::En)).len(), 1);
    }

    #[test]
    fn plain_values_and_nice_steps() {
        assert_eq!(plain(1_250_000, 6), "1.25");
        assert_eq!(plain(3_000_000, 6), "3");
        assert_eq!(plain(-5, 1), "-0.5");
        assert_eq!(plain(42, 0), "42");
        assert_eq!(nice_step(0, 4), 1);
        assert_eq!(nice_step(7, 4), 2);
        assert_eq!(nice_step(100, 4), 50);
        assert_eq!(nice_step(1_000_001, 4), 500_000);
    }
}
