//! HTML building blocks: escaping, safe links, tables and the page's inline style sheet.

/// Escapes text for HTML content and (double- or single-quoted) attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A link target fit for `href`: `https://`, `http://` or a relative path (no scheme, no
/// `//` host). Anything else (`javascript:`, `data:`, …) is refused.
pub fn safe_href(url: &str) -> Option<String> {
    let u = url.trim();
    if u.is_empty() || u.chars().any(char::is_control) {
        return None;
    }
    let lower = u.to_ascii_lowercase();
    let ok = lower.starts_with("https://")
        || lower.starts_with("http://")
        || (!lower.starts_with("//") && !scheme_like(&lower));
    ok.then(|| escape(u))
}

/// Has a `scheme:` before any `/`, `?` or `#`.
fn scheme_like(u: &str) -> bool {
    match u.find(':') {
        Some(i) => !u[..i].contains(['/', '?', '#']),
        None => false,
    }
}

/// One table body row: cells of HTML already escaped, the first one a row header, and an
/// optional class for the `<tr>`.
pub struct Row {
    pub cells: Vec<String>,
    pub class: Option<&'static str>,
}

impl Row {
    pub fn new(cells: Vec<String>) -> Row {
        Row { cells, class: None }
    }
}

/// A `<table>` with a caption, column headers (escaped here) and rows (cells already HTML).
/// Numeric columns (all but the first) are right-aligned by the style sheet.
pub fn table(caption: &str, head: &[&str], rows: &[Row]) -> String {
    let mut h = String::from("<div class=\"tw\"><table>");
    if !caption.is_empty() {
        h.push_str(&format!("<caption>{}</caption>", escape(caption)));
    }
    h.push_str("<thead><tr>");
    for c in head {
        h.push_str(&format!("<th scope=\"col\">{}</th>", escape(c)));
    }
    h.push_str("</tr></thead><tbody>");
    for r in rows {
        match r.class {
            Some(c) => h.push_str(&format!("<tr class=\"{c}\">")),
            None => h.push_str("<tr>"),
        }
        for (i, c) in r.cells.iter().enumerate() {
            if i == 0 {
                h.push_str(&format!("<th scope=\"row\">{c}</th>"));
            } else {
                h.push_str(&format!("<td>{c}</td>"));
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table></div>");
    h
}

/// A paragraph of escaped text with a class (`note`, `missing`, …).
pub fn para(class: &str, text: &str) -> String {
    format!("<p class=\"{class}\">{}</p>", escape(text))
}

/// The page's only style sheet: grid/flex layout that works from 375 px to wide screens,
/// scalable SVGs (on screens up to 700 px wide a chart keeps its drawn width,
/// [`super::charts::CHART_WIDTH`] px, and scrolls inside its `.cw` box, so its text stays
/// 11 px), and an A4 print layout that keeps each section on one page when it fits.
pub const CSS: &str = r#"
:root{--fg:#1f2328;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa;--card:#fff;--accent:#0b6e4f;--warn:#9a3412;--warnbg:#fff4e5}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Helvetica Neue",Arial,sans-serif}
header,main,footer{max-width:1240px;margin:0 auto;padding:12px 16px}
h1{font-size:1.5rem;margin:.25rem 0}
h2{font-size:1.15rem;margin:0}
h3{font-size:1rem;margin:.75rem 0 .25rem}
.meta{display:flex;flex-wrap:wrap;gap:4px 20px;margin:0;color:var(--muted)}
.meta div{display:flex;gap:6px}.meta dt{font-weight:600}.meta dd{margin:0}
nav ol{display:flex;flex-wrap:wrap;gap:4px 14px;list-style:none;padding:0;margin:.5rem 0 0}
a{color:#0550ae}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,540px),1fr));gap:16px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;min-width:0;break-inside:avoid;page-break-inside:avoid}
section.wide{grid-column:1/-1}
.sh{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:4px 12px;margin-bottom:8px}
.csv{font-size:.9rem;white-space:nowrap}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,170px),1fr));gap:10px;margin:0;padding:0;list-style:none}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 10px}
.card .k{color:var(--muted);font-size:.85rem}
.card .v{font-size:1.35rem;font-weight:650;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.card .d{font-size:.85rem;color:var(--muted);font-variant-numeric:tabular-nums}
.card .v.missing{font-size:.95rem;font-weight:500;color:var(--warn)}
.figs{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));gap:12px}
figure{margin:0;min-width:0}
figcaption{font-weight:600;font-size:.92rem;margin-bottom:4px}
.cw{overflow-x:auto;max-width:100%}
svg.chart{display:block;width:100%;max-width:100%;height:auto}
.chart text{font-size:11px;fill:#57606a}
.chart .axis{stroke:#d0d7de;stroke-width:1}
.chart .mark{fill:#fde68a;opacity:.55}
.chart .mark-label{fill:#9a3412;font-weight:700}
.chart .missing{fill:#9a3412;font-style:italic}
.chart .val{fill:#1f2328}
.legend{display:flex;flex-wrap:wrap;gap:2px 14px;list-style:none;padding:0;margin:4px 0;font-size:.85rem}
.legend li{display:flex;align-items:center;gap:5px}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;flex:none}
details{margin:6px 0}
summary{cursor:pointer;color:#0550ae;font-size:.9rem}
.tw{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;font-size:.85rem;font-variant-numeric:tabular-nums}
caption{text-align:left;color:var(--muted);font-size:.8rem;padding:2px 0}
th,td{padding:3px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
thead th{background:var(--bg)}
tbody th{font-weight:500}
tr.flag{background:var(--warnbg)}
tr.flag th::before{content:"≠ ";color:var(--warn);font-weight:700}
.missing{color:var(--warn)}
p.note,p.missing{margin:.35rem 0;font-size:.9rem}
p.missing{background:var(--warnbg);border-left:3px solid var(--warn);padding:6px 10px}
.callouts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,200px),1fr));gap:8px;margin:0 0 8px;padding:0;list-style:none}
.callouts li{border:1px solid var(--line);border-radius:6px;padding:6px 10px}
.callouts .v{font-weight:650;font-size:1.1rem}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
footer{color:var(--muted);font-size:.85rem}
@media screen and (max-width:700px){.cw>svg.chart{min-width:600px}}
@page{size:A4;margin:12mm}
@media print{
body{background:#fff;font-size:10.5pt;-webkit-print-color-adjust:exact;print-color-adjust:exact}
header,main,footer{max-width:none;padding:0}
nav{display:none}
.grid{display:block}
section{border:none;border-top:1px solid #999;border-radius:0;padding:6px 0;margin:0 0 8px;break-inside:avoid;page-break-inside:avoid}
h2{break-after:avoid;page-break-after:avoid}
figure,table,.cards{break-inside:avoid;page-break-inside:avoid}
summary{display:none}
a{color:inherit;text-decoration:none}
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_and_quotes() {
        // GIVEN hostile text, WHEN escaped, THEN no tag or attribute can be opened.
        let s = escape("<script>alert(\"x\" + 'y')</script> & co");
        assert_eq!(
            s,
            "&lt;script&gt;alert(&quot;x&quot; + &#39;y&#39;)&lt;/script&gt; &amp; co"
        );
        assert!(!s.contains(['<', '>', '"', '\'']));
        assert_eq!(escape("Pesan terkirim — ok ✓"), "Pesan terkirim — ok ✓");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn only_http_and_relative_links() {
        assert_eq!(
            safe_href("https://b.s3.amazonaws.com/r.csv?X-Amz-Signature=a&b=1").as_deref(),
            Some("https://b.s3.amazonaws.com/r.csv?X-Amz-Signature=a&amp;b=1")
        );
        assert_eq!(
            safe_href("reports/r1.csv").as_deref(),
            Some("reports/r1.csv")
        );
        assert_eq!(safe_href("/r.csv?a=b:c").as_deref(), Some("/r.csv?a=b:c"));
        assert_eq!(safe_href("javascript:alert(1)"), None);
        assert_eq!(safe_href(" JavaScript:alert(1)"), None);
        assert_eq!(safe_href("data:text/html,x"), None);
        assert_eq!(safe_href("//evil.example/x"), None);
        assert_eq!(
            safe_href("https://x/\"onmouseover=\"a").as_deref(),
            Some("https://x/&quot;onmouseover=&quot;a")
        );
        assert_eq!(safe_href("java\nscript:x"), None);
        assert_eq!(safe_href(""), None);
    }

    #[test]
    fn narrow_screens_keep_charts_at_their_drawn_width_inside_a_scroll_box() {
        let w = super::super::charts::CHART_WIDTH;
        assert!(CSS.contains(&format!(
            "@media screen and (max-width:700px){{.cw>svg.chart{{min-width:{w}px}}}}"
        )));
        assert!(CSS.contains(".cw{overflow-x:auto;max-width:100%}"));
    }

    #[test]
    fn table_escapes_headers_and_marks_row_headers() {
        let t = table(
            "<cap>",
            &["a<b", "n"],
            &[Row {
                cells: vec!["x".into(), "1".into()],
                class: Some("flag"),
            }],
        );
        assert!(t.contains("<caption>&lt;cap&gt;</caption>"));
        assert!(t.contains("<th scope=\"col\">a&lt;b</th>"));
        assert!(t.contains("<tr class=\"flag\"><th scope=\"row\">x</th><td>1</td></tr>"));
    }
}
