//! The summary page in a real browser: Debian's headless Chromium (`make setup` installs
//! it; a missing browser fails here with that fix, never skips) opens a realistic page in
//! `id` and `pt-BR` and checks what only a browser can tell:
//!
//! - **layout**: at 375 px and 1280 px the page has no horizontal overflow (a wrapper page
//!   loads it in iframes of those widths and measures `scrollWidth` against `clientWidth`;
//!   wide tables and, on a phone, charts scroll inside their own box, which is allowed);
//! - **readable charts**: at both widths every chart's text renders at 9 px or more (its
//!   computed `font-size` times the SVG's on-screen scale, and the box height of the y-axis
//!   labels), where a chart squeezed to a phone's width would draw its 11-unit text ≈ 5 px;
//! - **screenshots**: the page at 375 px and 1280 px wide, full height, saved as
//!   `.local/screenshots/summary-<locale>-<width>.png` for a look (checked: a PNG of that width);
//! - **no request**: every URL goes to a local recording proxy (DNS is switched off, so there
//!   is no other way out) and Chromium's NetLog says who asked for each: pages must ask for
//!   nothing but the wrapper's deliberate canary (seen at both, which proves the check works
//!   in that very run); whatever else reached the proxy must be the browser's own start-up
//!   traffic (`browser` module docs). A copy of the page with an injected external image
//!   shows that the page's Content-Security-Policy blocks it before the network;
//! - **no console error** from the page (Chromium's `--enable-logging=stderr` log);
//! - **print**: `--print-to-pdf` gives A4 pages (each `/MediaBox` 595 × 842 pt ± 1);
//! - **text**: the rendered (visible) text has every section heading in the locale, says the
//!   missing data in words, and formats numbers for the locale (`1.234`, `97,5%`).

use std::path::Path;
use std::time::Duration;

use chrono::{Days, NaiveDate, TimeZone};
use integration_tests::browser::{
    Chromium, NetRequest, RequestTrap, Scratch, file_url, netlog_requests, pdf_media_boxes,
    pdf_page_count, png_size, screenshots_dir,
};
use serde_json::Value;
use shared::domain::metrics::{
    ConsentAction, ConsentEvt, ConsentSource, ConversionRow, InboundMsg, Inputs, LeadRow,
    MsgPricing, OutboundMsg, PricingDay, Query, TemplateDay, Times, conversations,
};
use shared::domain::summary::{Locale, SECTION_IDS, SectionLinks, render_summary};

/// One browser run may take this long before it is killed (a run takes ≈ 1–3 s here).
const RUN_LIMIT: Duration = Duration::from_secs(60);
/// Virtual time the page gets to load (advanced instantly when the page is idle).
const VIRTUAL_TIME: &str = "--virtual-time-budget=10000";
/// The wrapper's deliberate request, which the trap must see.
const CANARY: &str = "canary.invalid";
/// The external image injected into a copy of the page, which its CSP must block.
const CSP_PROBE: &str = "csp-probe.invalid";
/// The smallest chart text, in CSS px, that counts as readable.
const MIN_CHART_TEXT_PX: f64 = 9.0;

// ---- A realistic page ---------------------------------------------------------------------

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

/// Epoch seconds of `d` at `h:00` UTC.
fn at(d: NaiveDate, h: u32) -> i64 {
    chrono::Utc
        .from_utc_datetime(&d.and_hms_opt(h, 0, 0).expect("hour"))
        .timestamp()
}

fn outbound(wamid: String, person: &str, sent_at: i64, tag: &str, p: MsgPricing) -> OutboundMsg {
    OutboundMsg {
        wamid,
        person: Some(person.to_string()),
        waba_id: "W1".into(),
        phone_number_id: "P1".into(),
        times: Times {
            sent_at: Some(sent_at),
            delivered_at: Some(sent_at + 3),
            ..Times::default()
        },
        pricing: Some(p),
        tag: Some(tag.to_string()),
        ..OutboundMsg::default()
    }
}

fn pricing(category: &str, pricing_type: &str, paid: bool) -> MsgPricing {
    MsgPricing {
        model: Some("PMP".into()),
        category: Some(category.into()),
        pricing_type: Some(pricing_type.into()),
        billable: Some(paid),
        paid: Some(paid),
    }
}

fn meta_pricing(d: NaiveDate, country: &str, cat: &str, pt: &str, n: i64, cost: i64) -> PricingDay {
    PricingDay {
        waba_id: "W1".into(),
        day: d,
        phone_number: "+62 811 0000 0001".into(),
        country: country.into(),
        category: cat.into(),
        pricing_type: pt.into(),
        tier: "-".into(),
        volume: n,
        cost_e6: Some(cost),
        cost_state: "reported".into(),
    }
}

/// Four weeks of a Jakarta shop's facts; the page covers the last two (the first two are the
/// previous period and the spike rule's history). Every section has data, but Meta's
/// messaging analytics were never pulled (the reconciliation section must say so in words)
/// and Meta reports no clicks for one template.
fn example() -> (Inputs, Query) {
    let q = Query::new(
        day("2026-11-02"),
        day("2026-11-15"),
        chrono_tz::Asia::Jakarta,
    );
    let start = day("2026-10-19");
    let templates = [
        ("1001", "promo_nov", "marketing", 41_100i64),
        ("1002", "welcome", "marketing", 41_100),
        ("1003", "order_update", "utility", 20_000),
    ];
    let mut inp = Inputs::default();
    let mut msg = 0u64;
    for i in 0..28u64 {
        let d = start.checked_add_days(Days::new(i)).expect("day");
        // 09:00 in Jakarta.
        let base = at(d, 2);
        let (mut mkt, mut util, mut free) = (0i64, 0i64, 0i64);
        let mut per_tpl = [(0i64, 0i64, 0i64); 3];
        for k in 0..(70 + (i % 5) * 6) {
            msg += 1;
            let t = (k % 3) as usize;
            let (_, name, cat, _) = templates[t];
            let person = format!("c{i}_{k}");
            let sent = base + k as i64 * 40;
            let mut m = outbound(
                format!("o{msg}"),
                &person,
                sent,
                &format!("template={name};campaign=nov;by=bot"),
                pricing(cat, "regular", true),
            );
            per_tpl[t].0 += 1;
            let fail = match msg {
                m if m % 17 == 0 => Some((131_049, "Not delivered to maintain engagement")),
                m if m % 29 == 0 => Some((131_050, "User has stopped marketing messages")),
                m if m % 41 == 0 => Some((131_026, "Message undeliverable")),
                _ => None,
            };
            if let Some((code, title)) = fail {
                m.times.delivered_at = None;
                m.times.failed_at = Some(sent + 4);
                m.error_code = Some(code);
                m.error_title = Some(title.into());
                m.pricing = None;
            } else {
                per_tpl[t].1 += 1;
                if cat == "marketing" {
                    mkt += 1;
                } else {
                    util += 1;
                }
                if k % 4 != 3 {
                    m.times.read_at = Some(sent + 600);
                    per_tpl[t].2 += 1;
                }
                if k % 5 == 0 {
                    inp.inbound.push(InboundMsg {
                        wamid: format!("r{msg}"),
                        person: person.clone(),
                        waba_id: "W1".into(),
                        phone_number_id: "P1".into(),
                        at: sent + 1_800,
                    });
                }
            }
            inp.outbound.push(m);
        }
        // Customers writing in, answered by the bot and/or a person; a spike on the 10th.
        let mut chats = [10u64, 12, 12, 11, 13, 7, 5][(i % 7) as usize] * 3;
        if d == day("2026-11-10") {
            chats *= 4;
        }
        for k in 0..chats {
            let person = format!("u{i}_{k}");
            let t0 = base + 3_600 + k as i64 * 97;
            inp.inbound.push(InboundMsg {
                wamid: format!("in{i}_{k}"),
                person: person.clone(),
                waba_id: "W1".into(),
                phone_number_id: "P1".into(),
                at: t0,
            });
            let free_reply = || pricing("service", "free_customer_service", false);
            if k % 10 < 7 {
                let after = 5 + (k as i64 * 13) % 40;
                inp.outbound.push(outbound(
                    format!("b{i}_{k}"),
                    &person,
                    t0 + after,
                    "by=bot",
                    free_reply(),
                ));
                free += 1;
            }
            if k % 3 == 0 || k % 10 >= 7 {
                let after = 120 + (k as i64 * 211 + i as i64 * 37) % 2_400;
                inp.outbound.push(outbound(
                    format!("h{i}_{k}"),
                    &person,
                    t0 + after,
                    "by=human;agent=a1",
                    free_reply(),
                ));
                free += 1;
            }
            let (src, med, camp) = match k % 4 {
                0 | 1 => (Some("facebook"), Some("cpc"), Some("nov_promo")),
                2 => (Some("meta"), Some("ctwa"), Some("black_friday")),
                _ => (None, None, None),
            };
            inp.leads.push(LeadRow {
                lead_id: person.clone(),
                created_at: t0,
                phone_number_id: Some("P1".into()),
                utm_source: src.map(str::to_string),
                utm_medium: med.map(str::to_string),
                utm_campaign: camp.map(str::to_string),
                source_id: (k % 4 == 2).then(|| "ad_77".to_string()),
            });
            if k % 5 == 0 {
                inp.conversions.push(ConversionRow {
                    lead_id: person.clone(),
                    at: t0 + 2 * 86_400,
                    conversion_type: "purchase".into(),
                    value_e4: Some(1_500_000_000 + (k as i64 % 3) * 250_000_000),
                    currency: Some("IDR".into()),
                });
            }
            let consent = |action, source, cats: &[&str]| ConsentEvt {
                person: person.clone(),
                phone_number_id: "P1".into(),
                at: t0 + 60,
                action,
                source,
                categories: cats.iter().map(|c| c.to_string()).collect(),
            };
            if k % 23 == 0 {
                inp.consent.push(consent(
                    ConsentAction::OptOut,
                    ConsentSource::Keyword,
                    &["marketing"],
                ));
            }
            if k % 13 == 0 {
                inp.consent.push(consent(
                    ConsentAction::OptIn,
                    ConsentSource::Api,
                    &["marketing", "utility"],
                ));
            }
        }
        // Meta's pricing and template analytics (every message above is on the same UTC day).
        let id_mkt = mkt * 3 / 4;
        inp.pricing.extend([
            meta_pricing(d, "ID", "marketing", "regular", id_mkt, id_mkt * 41_100),
            meta_pricing(
                d,
                "BR",
                "marketing",
                "regular",
                mkt - id_mkt,
                (mkt - id_mkt) * 62_500,
            ),
            meta_pricing(d, "ID", "utility", "regular", util, util * 20_000),
            meta_pricing(d, "ID", "service", "free_customer_service", free, 0),
        ]);
        for (t, (id, name, _, price)) in templates.iter().enumerate() {
            let (s, dl, r) = per_tpl[t];
            let (clicked, url, state) = match t {
                0 => (Some(s / 5), Some(s / 6), "reported"),
                1 => (None, None, "unavailable_in_region"),
                _ => (Some(0), Some(0), "reported"),
            };
            inp.templates.push(TemplateDay {
                template_id: id.to_string(),
                name: Some(name.to_string()),
                language: Some("id".into()),
                day: d,
                sent: Some(s),
                delivered: Some(dl),
                read: Some(r),
                clicked,
                url_clicks: url,
                clicks_state: state.into(),
                cost_e6: Some(dl * price),
                cost_state: "reported".into(),
            });
        }
    }
    (inp, q)
}

fn links() -> SectionLinks {
    let l = |k: &str| {
        Some(format!(
            "https://wa-insights-reports.s3.amazonaws.com/r/1/{k}.csv?X-Amz-Expires=3600&X-Amz-Signature=abc"
        ))
    };
    SectionLinks {
        conversations: l("conversations"),
        templates: l("templates"),
        spend: l("spend"),
        response_times: l("response_times"),
        volume: l("volume"),
        failures: l("failures"),
        consent: l("consent"),
        campaigns: l("campaigns"),
        reconciliation: l("reconciliation"),
    }
}

// ---- The wrapper page ---------------------------------------------------------------------

/// Loads the page at 375 px and 1280 px (iframes: the page's CSS sees those viewport widths)
/// and the CSP probe copy, then writes one JSON object into `<pre id="result">`: per width the
/// viewport and document widths, the elements sticking out on the right, the counts of
/// sections, charts and tables, the headline cards, the document's height, the rendered size
/// of the charts' text (the smallest computed `font-size` × on-screen scale of any chart
/// `<text>`, and the smallest box height of a y-axis label, with the chart it is in) and the
/// rendered text (`innerText`: only what is displayed). The JSON is pure ASCII with `<>&` escaped, so `--dump-dom` prints it
/// verbatim. The image is the deliberate canary request.
fn wrapper(page: &str, probe: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>wrapper</title></head>
<body style="margin:0">
<img src="http://{CANARY}/canary.png" alt="" width="1" height="1">
<iframe id="w375" src="{page}" style="display:block;border:0;width:375px;height:1200px"></iframe>
<iframe id="w1280" src="{page}" style="display:block;border:0;width:1280px;height:1200px"></iframe>
<iframe id="probe" src="{probe}" style="display:block;border:0;width:375px;height:200px"></iframe>
<pre id="result">pending</pre>
<script>
function path(n) {{
  var p = [];
  for (; n && n.nodeType === 1 && n.tagName !== 'BODY'; n = n.parentElement) {{
    var s = n.tagName.toLowerCase();
    if (n.id) s += '#' + n.id;
    if (n.className && typeof n.className === 'string') s += '.' + n.className.trim().split(/\s+/).join('.');
    p.unshift(s);
  }}
  return p.join(' > ');
}}
function clipped(n, win) {{
  for (var a = n.parentElement; a && a.tagName !== 'BODY'; a = a.parentElement) {{
    var o = win.getComputedStyle(a).overflowX;
    if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') return true;
  }}
  return false;
}}
function measure(id) {{
  var f = document.getElementById(id), d = f.contentDocument, w = f.contentWindow;
  if (!d || !d.body) return null;
  var e = d.documentElement, vw = e.clientWidth, out = [], scrollers = [];
  d.querySelectorAll('body *').forEach(function (n) {{
    var r = n.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 0.5 || r.left < -0.5) && !clipped(n, w))
      out.push(path(n) + ' [' + Math.round(r.left) + '..' + Math.round(r.right) + ']');
    if (n.scrollWidth > n.clientWidth + 1 && /auto|scroll/.test(w.getComputedStyle(n).overflowX))
      scrollers.push(path(n) + ' [' + n.clientWidth + ' < ' + n.scrollWidth + ']');
  }});
  var font = null, axis = null;
  d.querySelectorAll('svg.chart text').forEach(function (t) {{
    var r = t.getBoundingClientRect(), m = t.getScreenCTM();
    if (!(r.width > 0 && r.height > 0) || !m) return;
    var c = t.ownerSVGElement.getAttribute('data-chart');
    var px = parseFloat(w.getComputedStyle(t).fontSize) * Math.sqrt(m.a * m.a + m.b * m.b);
    if (!font || px < font.px) font = {{ px: px, chart: c, text: t.textContent }};
    if (t.parentElement.getAttribute('class') === 'y' && (!axis || r.height < axis.height))
      axis = {{ height: r.height, chart: c, text: t.textContent }};
  }});
  var cards = [];
  d.querySelectorAll('[data-metric]').forEach(function (c) {{
    var v = c.querySelector('.v');
    cards.push([c.getAttribute('data-metric'), v ? v.innerText : '']);
  }});
  return {{
    clientWidth: vw, scrollWidth: e.scrollWidth, bodyScrollWidth: d.body.scrollWidth,
    scrollHeight: e.scrollHeight, chartFont: font, axisLabel: axis,
    overflowing: out.slice(0, 25), scrollers: scrollers.slice(0, 25),
    sections: Array.prototype.map.call(d.querySelectorAll('section'), function (s) {{ return s.id; }}),
    charts: d.querySelectorAll('svg.chart').length, tables: d.querySelectorAll('table').length,
    bars: d.querySelectorAll('rect.bar').length, cards: cards,
    lang: e.lang, text: d.body.innerText
  }};
}}
window.addEventListener('load', function () {{
  var r = {{ w375: measure('w375'), w1280: measure('w1280'), probe: measure('probe') }};
  var json = JSON.stringify(r).replace(/[^\x20-\x7e]|[<>&]/g, function (c) {{
    return '\\u' + ('0000' + c.charCodeAt(0).toString(16)).slice(-4);
  }});
  document.getElementById('result').textContent = json;
}});
</script></body></html>
"#
    )
}

/// The JSON the wrapper wrote into the dumped DOM.
fn result_of(dom: &str) -> Value {
    let start = dom
        .find("<pre id=\"result\">")
        .unwrap_or_else(|| panic!("no result element in the dumped DOM:\n{dom}"));
    let rest = &dom[start + "<pre id=\"result\">".len()..];
    let json = &rest[..rest.find("</pre>").expect("end of the result element")];
    serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("the wrapper did not finish ({e}); it wrote: {json}"))
}

/// Console messages Chromium logged for `file` (`INFO:CONSOLE…] "…", source: file:///…`).
fn console_lines<'a>(stderr: &'a str, file: &str) -> Vec<&'a str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") && l.contains(file))
        .collect()
}

/// (b) In one run, pages asked for exactly the `expected` hosts (every NetLog request with an
/// initiator is one of them, and each of them was asked for), and every connection that reached
/// the network's edge (the trap) is one of those or one the browser opened on its own (NetLog:
/// no initiator, e.g. Google's time and account checks at start-up).
fn assert_only_requests(trap: &RequestTrap, netlog: &Path, expected: &[&str]) {
    let log = netlog_requests(netlog).unwrap_or_else(|e| panic!("{e}"));
    let by_pages: Vec<&NetRequest> = log.iter().filter(|r| r.initiator.is_some()).collect();
    let unexpected: Vec<&&NetRequest> = by_pages
        .iter()
        .filter(|r| !expected.contains(&r.host().as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "the page made requests (it must be self-contained): {unexpected:#?}"
    );
    let caught = trap.hosts();
    for host in expected {
        assert!(
            by_pages.iter().any(|r| r.host() == *host) && caught.iter().any(|h| h == host),
            "the deliberate request to {host} must show in the NetLog and at the trap, or \
             the check proves nothing; NetLog: {by_pages:?}; trap: {:?}",
            trap.requests()
        );
    }
    let browsers: Vec<String> = log
        .iter()
        .filter(|r| r.initiator.is_none())
        .map(NetRequest::host)
        .collect();
    let unexplained: Vec<&String> = caught
        .iter()
        .filter(|h| !expected.contains(&h.as_str()) && !browsers.contains(h))
        .collect();
    assert!(
        unexplained.is_empty(),
        "connections to {unexplained:?} that no NetLog entry of the browser explains; \
         trap: {:?}",
        trap.requests()
    );
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

// ---- The test -----------------------------------------------------------------------------

/// What [`open_in_browser`] leaves for further checks: the wrapper's measurements, the
/// scratch folder holding the page (`name`) and the request trap.
pub(crate) struct Opened {
    pub r: Value,
    pub scratch: Scratch,
    pub trap: RequestTrap,
    pub name: String,
}

/// Opens a summary page in headless Chromium at 375 px and 1280 px and checks what holds for
/// every summary page: no request leaves the page, nothing on the console, no horizontal
/// overflow, every section present with charts and tables, the page's `lang`, chart text of
/// at least 9 px; then saves full-page screenshots `summary-<tag>-<width>.png` under
/// `.local/screenshots/`.
pub(crate) fn open_in_browser(chromium: &Chromium, page: &str, tag: &str, lang: &str) -> Opened {
    let scratch = Scratch::new(&format!("summary-browser-{tag}")).expect("scratch");
    let dir = &scratch.path;
    let name = format!("summary-{tag}.html");
    std::fs::write(dir.join(&name), page).expect("write the page");
    // A copy with an external image: the page's CSP (`img-src data:`) must stop it.
    let probe_name = format!("probe-{tag}.html");
    let probe = page.replace(
        "</footer>",
        &format!("</footer><img src=\"http://{CSP_PROBE}/x.png\" alt=\"\">"),
    );
    assert_ne!(probe, page, "the probe copy has its image");
    std::fs::write(dir.join(&probe_name), &probe).expect("write the probe");
    let wrapper_path = dir.join("wrapper.html");
    std::fs::write(&wrapper_path, wrapper(&name, &probe_name)).expect("write the wrapper");

    // (a), (b), (d): the wrapper, with every request sent to the trap.
    let trap = RequestTrap::start().expect("request trap");
    let netlog = dir.join("wrapper-netlog.json");
    let mut flags = trap.flags();
    flags.push(format!("--log-net-log={}", netlog.display()));
    flags.extend(
        [
            "--allow-file-access-from-files",
            "--hide-scrollbars",
            "--window-size=1400,1000",
            "--enable-logging=stderr",
            "--v=0",
            VIRTUAL_TIME,
            "--dump-dom",
        ]
        .map(String::from),
    );
    let run = chromium
        .run(dir, &flags, &file_url(&wrapper_path), RUN_LIMIT)
        .expect("run chromium on the wrapper");
    assert!(
        run.status.success(),
        "chromium failed: {:?}\n{}",
        run.status,
        run.stderr
    );
    let r = result_of(&run.stdout);

    // (b) No request: only the wrapper's canary, which both the trap and the NetLog must see
    // (so this very run's requests do reach them); not the page's, nor the probe's image (the
    // page's CSP stops it before the network).
    assert_only_requests(&trap, &netlog, &[CANARY]);
    // The page logged nothing to the console; the probe logged its CSP refusal.
    let page_console = console_lines(&run.stderr, &name);
    assert!(
        page_console.is_empty(),
        "console messages: {page_console:#?}"
    );
    let probe_console = console_lines(&run.stderr, &probe_name);
    assert!(
        probe_console
            .iter()
            .any(|l| l.contains("Content Security Policy") && l.contains(CSP_PROBE)),
        "the probe's external image must be refused by the page's CSP; console: {probe_console:#?}"
    );

    // (a) Layout: no horizontal overflow at either width.
    for (key, width) in [("w375", 375), ("w1280", 1280)] {
        let m = &r[key];
        assert_eq!(m["clientWidth"], width, "{key}: viewport width: {m}");
        let (sw, bw) = (
            m["scrollWidth"].as_i64().unwrap_or(-1),
            m["bodyScrollWidth"].as_i64().unwrap_or(-1),
        );
        let overflowing = strings(&m["overflowing"]);
        assert!(
            sw <= width && bw <= width && overflowing.is_empty(),
            "{tag}: horizontal overflow at {width} px: document {sw} px, body {bw} px; \
             sticking out: {overflowing:#?}"
        );
        // Every section, chart and table is rendered.
        assert_eq!(strings(&m["sections"]), SECTION_IDS.map(String::from));
        // Sections without data say so in words instead of a chart (counts are checked
        // exactly by the callers that know their data).
        assert!(m["charts"].as_u64().unwrap_or(0) >= 1, "{key}: charts: {m}");
        assert!(m["tables"].as_u64().unwrap_or(0) >= 1, "{key}: tables");
        assert!(m["bars"].as_u64().unwrap_or(0) > 0, "{key}: bars");
        assert_eq!(m["lang"], lang);
        // Readable charts: no chart text under 9 px, measured two ways.
        let (font, axis) = (&m["chartFont"], &m["axisLabel"]);
        let font_px = font["px"].as_f64().unwrap_or(0.0);
        let axis_px = axis["height"].as_f64().unwrap_or(0.0);
        assert!(
            font_px >= MIN_CHART_TEXT_PX && axis_px >= MIN_CHART_TEXT_PX,
            "{tag}: chart text too small at {width} px: font {font}, y-axis label box {axis}"
        );
        // Wide tables (`.tw`) and, on a phone, charts (`.cw`) scroll inside their own box,
        // which is allowed; listed for a look.
        println!(
            "{tag} at {width} px: document {sw} px wide; smallest chart text {font_px:.1} px \
             ({}), y-axis label box {axis_px:.1} px; scrolling in their box: {:#?}",
            font["chart"],
            strings(&m["scrollers"])
        );
    }

    // Screenshots at both widths, full page height, for a look (same trap: the page still
    // fetches nothing).
    let shots = screenshots_dir().unwrap_or_else(|e| panic!("{e}"));
    for (key, width) in [("w375", 375u32), ("w1280", 1280)] {
        let height = r[key]["scrollHeight"].as_u64().unwrap_or(0);
        assert!(height > 1_000, "{key}: page height {height} px");
        let png_path = shots.join(format!("summary-{tag}-{width}.png"));
        let _ = std::fs::remove_file(&png_path);
        let netlog = dir.join(format!("shot-{width}-netlog.json"));
        let mut flags = trap.flags();
        flags.extend([
            format!("--log-net-log={}", netlog.display()),
            "--hide-scrollbars".to_string(),
            "--force-device-scale-factor=1".to_string(),
            format!("--window-size={width},{height}"),
            VIRTUAL_TIME.to_string(),
            format!("--screenshot={}", png_path.display()),
        ]);
        trap.clear();
        let run = chromium
            .run(dir, &flags, &file_url(&dir.join(&name)), RUN_LIMIT)
            .expect("run chromium for a screenshot");
        assert!(run.status.success(), "screenshot failed: {}", run.stderr);
        assert_only_requests(&trap, &netlog, &[]);
        let png = std::fs::read(&png_path)
            .unwrap_or_else(|e| panic!("no screenshot at {}: {e}", png_path.display()));
        let size = png_size(&png);
        assert!(
            matches!(size, Some((w, h)) if w == width && u64::from(h) == height),
            "{}: not a PNG {width} px wide and the page's height ({height} px): {size:?}",
            png_path.display()
        );
        println!("screenshot {} ({size:?})", png_path.display());
    }
    Opened {
        r,
        scratch,
        trap,
        name,
    }
}

fn check_locale(chromium: &Chromium, locale: Locale) {
    let started = std::time::Instant::now();
    let (inputs, q) = example();
    let page = render_summary(&inputs, &q, Some(&inputs), &links(), locale);
    let Opened {
        r,
        scratch,
        trap,
        name,
    } = open_in_browser(chromium, &page, locale.tag(), locale.tag());
    let dir = &scratch.path;
    for key in ["w375", "w1280"] {
        assert_eq!(r[key]["charts"], 10, "{key}: charts");
        assert!(
            r[key]["tables"].as_u64().unwrap_or(0) >= 10,
            "{key}: tables"
        );
        assert!(r[key]["bars"].as_u64().unwrap_or(0) > 50, "{key}: bars");
    }

    // (d) The displayed text: headings in the locale, the missing data in words, numbers in
    // the locale's format.
    let text = r["w375"]["text"].as_str().unwrap_or_default();
    let t = locale.text();
    for heading in [
        t.title,
        t.h_headline,
        t.h_spend,
        t.h_volume,
        t.h_templates,
        t.h_response,
        t.h_failures,
        t.h_campaigns,
        t.h_consent,
        t.h_reconciliation,
    ] {
        assert!(text.contains(heading), "heading {heading:?} not shown");
    }
    assert!(
        text.contains(t.messaging_not_pulled),
        "missing data not said"
    );
    assert!(text.contains(t.clicks_unavailable));
    assert!(text.contains("2026-11-02 – 2026-11-15"), "ISO dates");
    let whole = Query {
        group_by: shared::domain::metrics::GroupBy::None,
        ..q.clone()
    };
    let rows = conversations(&inputs, &whole);
    let sent: u64 = rows.iter().map(|r| r.sent).sum();
    let delivered: u64 = rows.iter().map(|r| r.delivered).sum();
    assert!(sent >= 1_000, "a number with a thousands separator");
    let sent_text = locale.int(i128::from(sent));
    assert!(
        sent_text.contains('.'),
        "{sent_text}: `.` groups thousands in id and pt-BR"
    );
    let cards: Vec<Vec<String>> = r["w375"]["cards"]
        .as_array()
        .map(|a| a.iter().map(strings).collect())
        .unwrap_or_default();
    assert!(
        cards.contains(&vec!["Sent".to_string(), sent_text.clone()]),
        "the Sent card shows {sent_text}: {cards:?}"
    );
    assert!(text.contains(&sent_text));
    assert!(
        !text.contains(&Locale::En.int(i128::from(sent))),
        "English digits"
    );
    let rate = locale
        .percent(i128::from(delivered), i128::from(sent))
        .expect("rate");
    assert!(rate.contains(','), "{rate}: `,` is the decimal mark");
    assert!(
        cards.contains(&vec!["DeliveryRate".to_string(), rate.clone()]),
        "the delivery-rate card shows {rate}: {cards:?}"
    );

    // (c) Print: A4 pages. The page's CSS says `@page{size:A4}`; Chromium's own default
    // is Letter (612 × 792), so this checks the CSS reaches the printer.
    let pdf_path = dir.join(format!("summary-{}.pdf", locale.tag()));
    let netlog = dir.join("print-netlog.json");
    let mut flags = trap.flags();
    flags.extend([
        format!("--log-net-log={}", netlog.display()),
        "--no-pdf-header-footer".to_string(),
        VIRTUAL_TIME.to_string(),
        format!("--print-to-pdf={}", pdf_path.display()),
    ]);
    trap.clear();
    let run = chromium
        .run(dir, &flags, &file_url(&dir.join(&name)), RUN_LIMIT)
        .expect("run chromium to print");
    assert!(run.status.success(), "print failed: {}", run.stderr);
    assert_only_requests(&trap, &netlog, &[]);
    let pdf = std::fs::read(&pdf_path).expect("the PDF");
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    let boxes = pdf_media_boxes(&pdf);
    let pages = pdf_page_count(&pdf);
    assert!(pages >= 2, "the page prints on several sheets: {pages}");
    assert_eq!(boxes.len(), pages, "one MediaBox per page: {boxes:?}");
    for b in &boxes {
        let (w, h) = (b[2] - b[0], b[3] - b[1]);
        assert!(
            (w - 595.0).abs() <= 1.0 && (h - 842.0).abs() <= 1.0,
            "not A4 portrait: {w} × {h} pt"
        );
    }
    println!(
        "{}: {} A4 pages; {:.1} s",
        locale.tag(),
        pages,
        started.elapsed().as_secs_f64()
    );
}

pub(crate) fn chromium() -> Chromium {
    let c = Chromium::find().unwrap_or_else(|e| panic!("{e}"));
    println!("{}", c.version().unwrap_or_default());
    c
}

#[test]
fn summary_in_indonesian_fits_375_and_1280_px_prints_on_a4_and_fetches_nothing() {
    check_locale(&chromium(), Locale::Id);
}

#[test]
fn summary_in_brazilian_portuguese_fits_375_and_1280_px_prints_on_a4_and_fetches_nothing() {
    check_locale(&chromium(), Locale::PtBr);
}
