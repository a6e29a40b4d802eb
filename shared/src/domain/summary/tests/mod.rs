//! Tests of the summary page: for every chart, the SVG's bars equal the family rows; the
//! page as a whole (escaping, missing data, locales, no external request); and the realistic
//! example, written to `$SUMMARY_EXAMPLE_OUT` when that variable is set.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};

use super::charts::plain;
use super::data::{bucket_of, campaign_label};
use super::sections::consent_events;
use super::*;
use crate::domain::metrics::message::testkit::{d, inb, out, pricing, ts};
use crate::domain::metrics::{
    ConsentAction, ConsentEvt, ConsentSource, ConversionRow, LeadRow, MessagingDay, OutboundMsg,
    PricingDay, ResponseKind, Spike, TemplateDay, campaigns, failures, reconciliation,
    response_times, spend, templates, volume,
};

type Bar = (String, String, String);

/// The bars of an SVG as sorted (value, series, label).
fn bars(svg: &str) -> Vec<Bar> {
    let mut b = bars_in(svg);
    b.sort();
    b
}

/// Expected bars, sorted, zero values left out (a zero draws no bar).
fn expected(v: impl IntoIterator<Item = (i64, String, String)>) -> Vec<Bar> {
    let mut out: Vec<Bar> = v
        .into_iter()
        .filter(|(v, _, _)| *v != 0)
        .map(|(v, s, l)| (v.to_string(), escape(&s), escape(&l)))
        .collect();
    out.sort();
    out
}

fn utc(from: &str, to: &str) -> Query {
    Query::new(d(from), d(to), chrono_tz::Tz::UTC)
}

fn meta_pricing(
    day: &str,
    country: &str,
    cat: &str,
    pt: &str,
    vol: i64,
    cost: Option<i64>,
) -> PricingDay {
    PricingDay {
        waba_id: "W1".into(),
        day: d(day),
        phone_number: "+6281100".into(),
        country: country.into(),
        category: cat.into(),
        pricing_type: pt.into(),
        tier: "-".into(),
        volume: vol,
        cost_e6: cost,
        cost_state: if cost.is_some() {
            "reported"
        } else {
            "not_returned"
        }
        .into(),
    }
}

#[test]
fn spend_charts_bars_equal_the_spend_rows_and_missing_is_not_zero() {
    // GIVEN pricing rows in two countries on the 20th and 21st, none on the 22nd, and one
    // row without cost.
    let inputs = Inputs {
        pricing: vec![
            meta_pricing(
                "2026-11-20",
                "ID",
                "marketing",
                "regular",
                30,
                Some(1_233_000),
            ),
            meta_pricing(
                "2026-11-20",
                "BR",
                "marketing",
                "regular",
                10,
                Some(625_000),
            ),
            meta_pricing(
                "2026-11-20",
                "ID",
                "service",
                "free_customer_service",
                44,
                Some(0),
            ),
            meta_pricing(
                "2026-11-21",
                "ID",
                "marketing",
                "regular",
                12,
                Some(493_200),
            ),
            meta_pricing("2026-11-21", "ID", "utility", "regular", 7, None),
            meta_pricing(
                "2026-11-21",
                "BR",
                "service",
                "free_entry_point",
                0,
                Some(0),
            ),
        ],
        ..Inputs::default()
    };
    let q = utc("2026-11-20", "2026-11-22");
    let periods = period_labels(&q);
    // WHEN the rows, the chart data and the SVG are built
    let rows = spend(&inputs, &q);
    let vol = spend_volume_chart(&rows, &periods, Locale::En);
    let svg = bar_svg(&vol, "v", "t", "d", Locale::En);
    // THEN one bar per non-zero row volume, named country · category (paid/free)
    let want = expected(rows.iter().map(|r| {
        let kind = if r.paid() == Some(true) {
            "paid"
        } else {
            "free"
        };
        (
            r.volume,
            format!("{} · {} ({kind})", r.country, r.category),
            r.period.clone(),
        )
    }));
    assert_eq!(bars(&svg), want);
    assert_eq!(want.len(), 5);
    // The 22nd has no pricing row: one "n/a" mark for the day, no bar.
    assert_eq!(svg.matches("class=\"missing\"").count(), 1);
    assert!(vol.series.iter().all(|s| s.values[2].is_none()));

    let cost = spend_cost_chart(&rows, &periods, Locale::En);
    let svg = bar_svg(&cost, "c", "t", "d", Locale::En);
    let want: Vec<Bar> = {
        let mut v: Vec<Bar> = rows
            .iter()
            .filter_map(|r| {
                let c = r.cost_e6.filter(|c| *c != 0)?;
                Some((
                    plain(c, 6),
                    format!("{} · {}", r.country, r.category),
                    r.period.clone(),
                ))
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(bars(&svg), want);
    assert!(want.iter().any(|b| b.0 == "1.233"));
    // Missing cost (utility on the 21st) and the unpulled 22nd: marked, never a bar.
    assert_eq!(svg.matches("class=\"missing\"").count(), 2);

    // The headline says what is missing rather than summing part of the spend.
    let spend_of = |q: &Query| {
        headline(&inputs, q, None)
            .into_iter()
            .find(|i| i.metric == Metric::Spend)
            .map(|i| i.current)
    };
    assert_eq!(
        spend_of(&q),
        Some(Figure::PricingDaysMissing {
            missing: 1,
            days: 3
        })
    );
    assert_eq!(
        spend_of(&utc("2026-11-20", "2026-11-21")),
        Some(Figure::CostMissing {
            missing: 1,
            rows: 5
        })
    );
    assert_eq!(
        spend_of(&utc("2026-11-20", "2026-11-20")),
        Some(Figure::Money(1_858_000))
    );
    assert_eq!(
        spend_of(&utc("2026-11-23", "2026-11-23")),
        Some(Figure::PricingNotPulled)
    );
    let page = render_summary(
        &inputs,
        &utc("2026-11-20", "2026-11-21"),
        None,
        &SectionLinks::default(),
        Locale::Id,
    );
    assert!(page.contains("Meta tidak mengirim biaya untuk 1 dari 5 baris harga"));
}

/// `n` inbound messages at noon UTC of `day`, and `o` outbound.
fn traffic(inputs: &mut Inputs, day: &str, n: usize, o: usize) {
    let t = ts(&format!("{day}T12:00:00"));
    for i in 0..n {
        inputs
            .inbound
            .push(inb(&format!("{day}-i{i}"), &format!("p{i}"), t + i as i64));
    }
    for i in 0..o {
        inputs.outbound.push(out(
            &format!("{day}-o{i}"),
            &format!("p{i}"),
            t + 60 + i as i64,
        ));
    }
}

#[test]
fn volume_and_conversion_bars_equal_the_volume_rows_with_spikes_marked() {
    let mut inputs = Inputs::default();
    for day in 1..=14 {
        let n = if day == 12 { 40 } else { 5 + day % 3 };
        traffic(&mut inputs, &format!("2026-11-{day:02}"), n, n / 2);
    }
    inputs.leads.push(LeadRow {
        lead_id: "l1".into(),
        created_at: ts("2026-11-10T08:00:00"),
        ..LeadRow::default()
    });
    inputs.conversions.push(ConversionRow {
        lead_id: "l1".into(),
        at: ts("2026-11-12T08:00:00"),
        ..ConversionRow::default()
    });
    let q = utc("2026-11-09", "2026-11-14");
    let rows = volume(&inputs, &q);
    let chart = volume_chart(&rows, Locale::En);
    let svg = bar_svg(&chart, "v", "t", "d", Locale::En);
    let want = expected(rows.iter().flat_map(|r| {
        [
            (r.inbound as i64, "Inbound".to_string(), r.period.clone()),
            (r.outbound as i64, "Outbound".to_string(), r.period.clone()),
        ]
    }));
    assert_eq!(bars(&svg), want);
    assert_eq!(want.len(), 12);
    let spikes = rows.iter().filter(|r| r.spike == Spike::Flag(true)).count();
    assert_eq!(spikes, 1, "the 12th is a spike");
    assert_eq!(svg.matches("<rect class=\"mark\"").count(), spikes);

    let conv = conversions_chart(&rows, Locale::En);
    let svg = bar_svg(&conv, "c", "t", "d", Locale::En);
    let want = expected(rows.iter().flat_map(|r| {
        [
            (
                r.new_leads as i64,
                "New leads".to_string(),
                r.period.clone(),
            ),
            (
                r.conversions as i64,
                "Conversions".to_string(),
                r.period.clone(),
            ),
        ]
    }));
    assert_eq!(bars(&svg), want);
    assert_eq!(want.len(), 2);
}

fn tagged(wamid: &str, person: &str, at: i64, tag: &str) -> OutboundMsg {
    let mut m = out(wamid, person, at);
    m.tag = Some(tag.to_string());
    m
}

fn template_day(id: &str, name: &str, day: &str, clicks: Option<i64>, state: &str) -> TemplateDay {
    TemplateDay {
        template_id: id.into(),
        name: Some(name.into()),
        language: Some("id".into()),
        day: d(day),
        sent: Some(10),
        delivered: Some(9),
        read: Some(6),
        clicked: clicks,
        url_clicks: clicks.map(|c| c / 2),
        clicks_state: state.into(),
        cost_e6: Some(369_900),
        cost_state: "reported".into(),
    }
}

#[test]
fn funnel_bars_equal_the_template_rows_from_both_sources() {
    let t = ts("2026-11-20T10:00:00");
    let mut outbound = Vec::new();
    for i in 0..6 {
        let mut m = tagged(
            &format!("a{i}"),
            &format!("p{i}"),
            t,
            "template=promo;by=bot",
        );
        m.times.delivered_at = Some(t + 2);
        if i < 4 {
            m.times.read_at = Some(t + 60);
        }
        outbound.push(m);
    }
    outbound.push(tagged("x", "q", t, "template=unknown"));
    let inputs = Inputs {
        outbound,
        inbound: vec![inb("r0", "p0", t + 600), inb("r1", "p1", t + 900)],
        templates: vec![
            template_day("100", "promo", "2026-11-20", Some(4), "reported"),
            template_day("100", "promo", "2026-11-21", Some(2), "reported"),
        ],
        ..Inputs::default()
    };
    let q = data::whole(&utc("2026-11-20", "2026-11-21"));
    let rows = templates(&inputs, &q);
    let f = template_funnel(&rows, Locale::En);
    let svg = funnel_svg(&f, "f", "t", "d", Locale::En);
    let sum =
        |g: fn(&crate::domain::metrics::TemplateRow) -> u64| rows.iter().map(g).sum::<u64>() as i64;
    let meta = |g: fn(&crate::domain::metrics::templates::MetaTemplate) -> Option<i64>| {
        rows.iter()
            .filter_map(|r| r.meta.as_ref())
            .map(|m| g(m).unwrap_or(0))
            .sum::<i64>()
    };
    let w = |v: i64, stage: &str| (v, "Webhook".to_string(), stage.to_string());
    let m = |v: i64, stage: &str| (v, "Meta".to_string(), stage.to_string());
    let want = expected([
        w(sum(|r| r.sent), "Sent"),
        w(sum(|r| r.delivered), "Delivered"),
        w(sum(|r| r.read), "Read"),
        w(sum(|r| r.replied), "Replied"),
        m(meta(|m| m.sent), "Sent"),
        m(meta(|m| m.delivered), "Delivered"),
        m(meta(|m| m.read), "Read"),
        m(meta(|m| m.clicked), "Clicked"),
    ]);
    assert_eq!(bars(&svg), want);
    assert_eq!(
        want.iter().map(|b| b.0.as_str()).collect::<Vec<_>>().len(),
        8
    );
    assert!(want.contains(&("7".into(), "Webhook".into(), "Sent".into())));
    assert!(want.contains(&("6".into(), "Meta".into(), "Clicked".into())));
    // The webhook has no clicks, Meta no replies: "n/a", never a zero bar.
    assert_eq!(svg.matches("class=\"missing\"").count(), 2);

    // Clicks unavailable in the region: no Meta click bar, and the page says why.
    let mut region = inputs.clone();
    region.templates[1] = template_day("100", "promo", "2026-11-21", None, "unavailable_in_region");
    let rows = templates(&region, &q);
    let svg = funnel_svg(
        &template_funnel(&rows, Locale::En),
        "f",
        "t",
        "d",
        Locale::En,
    );
    assert!(!bars(&svg).iter().any(|b| b.1 == "Meta" && b.2 == "Clicked"));
    let page = render_summary(&region, &q, None, &SectionLinks::default(), Locale::En);
    assert!(page.contains("Meta does not report clicks in this region."));
    let page = render_summary(&region, &q, None, &SectionLinks::default(), Locale::PtBr);
    assert!(page.contains("A Meta não informa cliques nesta região."));
}

#[test]
fn histogram_bars_add_up_to_the_response_time_rows() {
    let t = ts("2026-11-20T08:00:00");
    let mut inputs = Inputs::default();
    // Bot answers after 5, 30, 200 s; humans after 100, 1000, 4000 and 90000 s.
    for (i, (w, by)) in [
        (5, "bot"),
        (30, "bot"),
        (200, "bot"),
        (100, "human"),
        (1_000, "human"),
        (4_000, "human"),
        (90_000, "human"),
    ]
    .into_iter()
    .enumerate()
    {
        let p = format!("p{i}");
        inputs.inbound.push(inb(&format!("i{i}"), &p, t));
        inputs
            .outbound
            .push(tagged(&format!("o{i}"), &p, t + w, &format!("by={by}")));
    }
    // A wait that started the day before the period is not counted.
    inputs.inbound.push(inb("old", "z", t - 86_400));
    inputs
        .outbound
        .push(tagged("oz", "z", t - 86_000, "by=bot"));
    let q = utc("2026-11-20", "2026-11-20");
    let rows = response_times(&inputs, &data::whole(&q));
    let hist = response_histogram(&inputs, &q, Locale::En);
    let svg = bar_svg(&hist, "h", "t", "d", Locale::En);
    let got = bars(&svg);
    for (kind, name) in [(ResponseKind::Bot, "Bot"), (ResponseKind::Human, "Human")] {
        let total: i64 = got
            .iter()
            .filter(|b| b.1 == name)
            .map(|b| b.0.parse::<i64>().unwrap_or(0))
            .sum();
        let row = rows
            .iter()
            .find(|r| r.responder == kind)
            .map(|r| r.responses);
        assert_eq!(Some(total as u64), row, "{name}");
    }
    let labels = data::bucket_labels(Locale::En);
    let want = expected([
        (2, "Bot".to_string(), labels[bucket_of(5)].clone()),
        (1, "Bot".to_string(), labels[bucket_of(200)].clone()),
        (1, "Human".to_string(), labels[bucket_of(100)].clone()),
        (1, "Human".to_string(), labels[bucket_of(1_000)].clone()),
        (1, "Human".to_string(), labels[bucket_of(4_000)].clone()),
        (1, "Human".to_string(), labels[bucket_of(90_000)].clone()),
    ]);
    assert_eq!(got, want);
}

fn failed(w: &str, at: i64, code: i64, title: &str) -> OutboundMsg {
    let mut m = out(w, "p", at);
    m.times.failed_at = Some(at + 3);
    m.error_code = Some(code);
    m.error_title = Some(title.into());
    m.pricing = Some(pricing("marketing", "regular", Some(true)));
    m
}

#[test]
fn failure_bars_equal_the_rows_per_code_and_131049_stands_apart() {
    let t = ts("2026-11-20T10:00:00");
    let inputs = Inputs {
        outbound: vec![
            failed("a", t, 131_049, "Healthy ecosystem"),
            failed("b", t + 86_400, 131_049, "Healthy ecosystem"),
            failed("c", t, 131_049, "other title"),
            failed("e", t, 131_050, "Stopped marketing"),
            failed("f", t, 131_026, "Undeliverable"),
            failed("g", t + 86_400, 131_026, "Undeliverable"),
        ],
        consent: vec![ConsentEvt {
            person: "p".into(),
            phone_number_id: "P1".into(),
            at: t,
            action: ConsentAction::OptOut,
            source: ConsentSource::Keyword,
            categories: vec!["marketing".into(), "utility".into()],
        }],
        ..Inputs::default()
    };
    let q = utc("2026-11-20", "2026-11-21");
    let rows = failures(&inputs, &data::whole(&q));
    let chart = failures_chart(&rows, Locale::En);
    let svg = bar_svg(&chart, "f", "t", "d", Locale::En);
    let mut per_code: BTreeMap<String, i64> = BTreeMap::new();
    for r in &rows {
        *per_code
            .entry(r.error_code.map(|c| c.to_string()).unwrap_or_default())
            .or_default() += r.failed as i64;
    }
    let want = expected(
        per_code
            .into_iter()
            .map(|(c, n)| (n, "Failed".to_string(), c)),
    );
    assert_eq!(bars(&svg), want);
    assert!(want.contains(&("3".into(), "Failed".into(), "131049".into())));
    assert_eq!(svg.matches("<rect class=\"mark\"").count(), 1);
    // The page: 131049 apart from 131050 (opt-out signal) and from consent opt-outs, which
    // count once per event even with two categories.
    let page = render_summary(&inputs, &q, None, &SectionLinks::default(), Locale::En);
    let section = &page[page.find("id=\"failures\"").unwrap_or(0)..];
    let callouts = &section[..section.find("</ul>").unwrap_or(section.len())];
    assert!(callouts.contains("Limited by Meta (131049)<br><span class=\"v\">3</span>"));
    assert!(callouts.contains("(131050)<br><span class=\"v\">1</span>"));
    assert!(callouts.contains("Other errors<br><span class=\"v\">2</span>"));
    assert!(callouts.contains("(consent)<br><span class=\"v\">1</span>"));
}

#[test]
fn campaign_bars_equal_the_campaign_rows() {
    let t = ts("2026-11-20T10:00:00");
    let lead = |id: &str, campaign: Option<&str>| LeadRow {
        lead_id: id.into(),
        created_at: t,
        phone_number_id: Some("P1".into()),
        utm_source: campaign.map(|_| "facebook".into()),
        utm_medium: campaign.map(|_| "cpc".into()),
        utm_campaign: campaign.map(str::to_string),
        source_id: None,
    };
    let conv = |id: &str, v: Option<i64>| ConversionRow {
        lead_id: id.into(),
        at: t + 3_600,
        conversion_type: "purchase".into(),
        value_e4: v,
        currency: v.map(|_| "IDR".into()),
    };
    let inputs = Inputs {
        leads: vec![
            lead("a", Some("black_friday")),
            lead("b", Some("black_friday")),
            lead("c", Some("black_friday")),
            lead("e", Some("\"><script>x</script>")),
            lead("f", None),
        ],
        conversions: vec![
            conv("a", Some(1_500_000_000)),
            conv("a", None),
            conv("b", Some(990_000_000)),
        ],
        ..Inputs::default()
    };
    let q = utc("2026-11-20", "2026-11-20");
    let rows = campaigns(&inputs, &q);
    let chart = campaigns_chart(&rows, Locale::En);
    let svg = bar_svg(&chart, "c", "t", "d", Locale::En);
    let t_en = Locale::En.text();
    let want = expected(rows.iter().flat_map(|r| {
        let l = campaign_label(r, t_en);
        [
            (r.leads as i64, "Leads".to_string(), l.clone()),
            (
                r.converted_leads as i64,
                "Converted leads".to_string(),
                l.clone(),
            ),
            (r.conversions as i64, "Conversions".to_string(), l),
        ]
    }));
    assert_eq!(bars(&svg), want);
    assert_eq!(want.len(), 5);
    assert!(!svg.contains("<script>"));
    let page = render_summary(&inputs, &q, None, &SectionLinks::default(), Locale::Id);
    // 150,000 + 99,000 IDR in Indonesian notation; rate 2/3.
    assert!(page.contains("249.000,00 IDR"), "value in id notation");
    assert!(page.contains("66,7%"));
}

#[test]
fn consent_bars_count_each_event_once_per_period_action_and_source() {
    let t = ts("2026-11-20T10:00:00");
    let evt = |p: &str, at: i64, action, source, cats: &[&str]| ConsentEvt {
        person: p.into(),
        phone_number_id: "P1".into(),
        at,
        action,
        source,
        categories: cats.iter().map(|c| c.to_string()).collect(),
    };
    use ConsentAction::*;
    use ConsentSource::*;
    let inputs = Inputs {
        consent: vec![
            evt("a", t, OptOut, Keyword, &["marketing", "utility"]),
            evt("b", t, OptOut, Keyword, &[]),
            evt("c", t, OptOut, UserPreferences, &["marketing"]),
            evt("d", t, OptIn, Api, &["marketing"]),
            evt("e", t + 86_400, OptIn, Import, &[]),
            evt("a", t + 86_400, Resume, Keyword, &[]),
        ],
        ..Inputs::default()
    };
    let q = utc("2026-11-20", "2026-11-22");
    let rows = consent_events(&inputs, &q);
    let chart = consent_chart(&rows, &period_labels(&q), Locale::En);
    let svg = bar_svg(&chart, "c", "t", "d", Locale::En);
    let tx = Locale::En.text();
    let want = expected(rows.iter().map(|r| {
        (
            r.events as i64,
            format!(
                "{} · {}",
                data::action_label(r.action, tx),
                data::source_label(r.source, tx)
            ),
            r.period.clone(),
        )
    }));
    assert_eq!(bars(&svg), want);
    assert!(want.contains(&("2".into(), "opt-out · keyword".into(), "2026-11-20".into())));
    assert_eq!(want.len(), 5);
    // A day without events is a real zero, not missing.
    assert_eq!(svg.matches("class=\"missing\"").count(), 0);
}

#[test]
fn reconciliation_bars_equal_the_rows_and_disagreeing_days_are_marked() {
    let mut inputs = Inputs::default();
    traffic(&mut inputs, "2026-11-20", 0, 5);
    traffic(&mut inputs, "2026-11-21", 0, 3);
    traffic(&mut inputs, "2026-11-22", 0, 2);
    let md = |day: &str, sent: i64| MessagingDay {
        waba_id: "W1".into(),
        day: d(day),
        sent: Some(sent),
        delivered: Some(0),
    };
    inputs.messaging = vec![md("2026-11-20", 5), md("2026-11-21", 4)];
    let q = utc("2026-11-20", "2026-11-22");
    let rows = reconciliation(&inputs, &q);
    let chart = reconciliation_chart(&rows, &period_labels(&q), Locale::En);
    let svg = bar_svg(&chart, "r", "t", "d", Locale::En);
    let want = expected(rows.iter().flat_map(|r| {
        [
            (r.webhook_sent, "Webhook".to_string(), r.period.clone()),
            (
                r.meta_sent.unwrap_or(0),
                "Meta".to_string(),
                r.period.clone(),
            ),
        ]
    }));
    assert_eq!(bars(&svg), want);
    assert_eq!(want.len(), 5);
    // The 21st disagrees (3 vs 4); Meta has nothing for the 22nd: "n/a", not zero.
    assert_eq!(svg.matches("<rect class=\"mark\"").count(), 1);
    assert_eq!(chart.marked, [false, true, false]);
    assert_eq!(svg.matches("class=\"missing\"").count(), 1);
    let page = render_summary(&inputs, &q, None, &SectionLinks::default(), Locale::En);
    assert!(page.contains("Periods where the sources disagree: 2026-11-21"));
    // Without Meta's rows at all: said in words.
    inputs.messaging.clear();
    let page = render_summary(&inputs, &q, None, &SectionLinks::default(), Locale::En);
    assert!(page.contains("Meta&#39;s messaging analytics have not been pulled for this period."));
}

mod page;
