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
    response_samples, response_times, spend, templates, volume,
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
    let samples = response_samples(&inputs, &q);
    let hist = response_histogram(&samples, &q, Locale::En);
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

// ---- The page as a whole -------------------------------------------------------------

#[test]
fn empty_inputs_say_what_is_missing_and_draw_no_bar() {
    let q = utc("2026-11-01", "2026-11-07");
    let page = render_summary(
        &Inputs::default(),
        &q,
        None,
        &SectionLinks::default(),
        Locale::En,
    );
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Meta&#39;s pricing data has not been pulled for this period."));
    assert!(page.contains("No template messages in this period."));
    assert!(page.contains("No responses measured in this period."));
    assert!(page.contains("No failed messages in this period."));
    assert!(page.contains("No leads created in this period."));
    assert!(page.contains("No consent changes in this period."));
    assert!(page.contains("No messages in this period."));
    assert!(page.contains("Pricing not pulled"));
    assert!(page.contains("No previous period to compare with."));
    assert_eq!(page.matches("<rect class=\"bar\"").count(), 0);
    assert_eq!(page.matches("<section ").count(), 9);
}

#[test]
fn every_text_value_is_escaped() {
    let t = ts("2026-11-20T10:00:00");
    let mut m = tagged("a", "p", t, "template=<script>alert('x')</script>;by=bot");
    m.times.failed_at = Some(t + 1);
    m.error_code = Some(131_026);
    m.error_title = Some("\"><img src=x onerror=alert(1)>".into());
    let mut q = utc("2026-11-20", "2026-11-20");
    q.phone_number_id = Some("P1\"<b>".into());
    let mut inputs = Inputs {
        outbound: vec![m],
        ..Inputs::default()
    };
    inputs.outbound[0].phone_number_id = "P1\"<b>".into();
    let links = SectionLinks {
        templates: Some("javascript:alert(1)".into()),
        failures: Some("https://bucket.s3.amazonaws.com/f.csv?a=1&b=\"2\"".into()),
        ..SectionLinks::default()
    };
    let page = render_summary(&inputs, &q, None, &links, Locale::En);
    assert!(!page.contains("<script"));
    assert!(!page.contains("<img"));
    assert!(!page.contains("<b>"));
    assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(page.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!page.contains("javascript:"));
    assert!(
        page.contains("href=\"https://bucket.s3.amazonaws.com/f.csv?a=1&amp;b=&quot;2&quot;\"")
    );
}

/// Every `href`/`src`/`url(` of the page: only in-page anchors and the given CSV links.
fn assert_self_contained(page: &str, links: &SectionLinks) {
    let allowed: Vec<String> = [
        &links.conversations,
        &links.templates,
        &links.spend,
        &links.response_times,
        &links.volume,
        &links.failures,
        &links.consent,
        &links.campaigns,
        &links.reconciliation,
    ]
    .into_iter()
    .flatten()
    .map(|l| escape(l))
    .collect();
    for chunk in page.split("href=\"").skip(1) {
        let target = &chunk[..chunk.find('"').unwrap_or(0)];
        assert!(
            target.starts_with('#') || allowed.iter().any(|a| a == target),
            "unexpected href {target}"
        );
    }
    for banned in [
        "<script",
        " src=",
        "url(",
        "@import",
        "<link",
        "<img",
        "<iframe",
        "@font-face",
    ] {
        assert!(!page.contains(banned), "{banned}");
    }
    // The only other URL is the SVG namespace, which is a name, not a request.
    let others = page.matches("http").count()
        - page.matches("http://www.w3.org/2000/svg").count()
        - page.matches("http-equiv").count()
        - allowed
            .iter()
            .map(|a| page.matches(a.as_str()).count())
            .sum::<usize>();
    assert_eq!(others, 0);
}

/// Every chart has a title, a description and a table fallback.
fn assert_accessible(page: &str) {
    let svgs = page.matches("<svg class=\"chart\"").count();
    assert!(svgs > 0);
    assert_eq!(page.matches("role=\"img\"").count(), svgs);
    assert_eq!(page.matches("<figure>").count(), svgs);
    for fig in page.split("<figure>").skip(1) {
        let fig = &fig[..fig.find("</figure>").unwrap_or(fig.len())];
        assert!(fig.contains("<title id="), "title");
        assert!(fig.contains("<desc id="), "desc");
        assert!(fig.contains("<details><summary>"), "details");
        assert!(fig.contains("<table>"), "table");
    }
    assert!(page.contains("@page{size:A4"));
    assert!(page.contains("@media print"));
    assert!(page.contains("name=\"viewport\""));
    assert!(page.contains("max-width:100%"));
}

// ---- The realistic example -------------------------------------------------------------

/// Eight weeks of a Jakarta shop's facts (the summary covers the last four, the first four
/// are the previous period and the spike rule's history).
fn example() -> (Inputs, Query) {
    let q = Query::new(d("2026-11-01"), d("2026-11-28"), chrono_tz::Asia::Jakarta);
    let start = d("2026-10-04");
    let not_pulled_from = d("2026-11-27");
    let mut inp = Inputs::default();
    let templates = [
        ("1001", "promo_nov", "marketing", 41_100i64),
        ("1002", "welcome", "marketing", 41_100),
        ("1003", "order_update", "utility", 20_000),
    ];
    let mut msg = 0usize;
    for day_i in 0..56u64 {
        let day = start.checked_add_days(Days::new(day_i)).unwrap_or(start);
        let ds = day.format("%Y-%m-%d").to_string();
        // 09:00 in Jakarta.
        let base = ts(&format!("{ds}T02:00:00"));
        let (mut sent, mut delivered, mut paid_mkt, mut paid_util, mut free) =
            (0i64, 0i64, 0i64, 0i64, 0i64);
        let mut per_tpl = [(0i64, 0i64, 0i64); 3];
        // Template sends.
        let sends = 36 + (day_i % 5) * 4;
        for i in 0..sends {
            msg += 1;
            let k = (i % 3) as usize;
            let (_, name, cat, _) = templates[k];
            let person = format!("c{day_i}_{i}");
            let at = base + i as i64 * 45;
            let mut m = tagged(
                &format!("o{msg}"),
                &person,
                at,
                &format!("template={name};campaign=nov;by=bot"),
            );
            sent += 1;
            per_tpl[k].0 += 1;
            let code = if msg.is_multiple_of(17) {
                Some((
                    131_049,
                    "This message was not delivered to maintain healthy ecosystem engagement.",
                ))
            } else if msg.is_multiple_of(29) {
                Some((131_050, "User has stopped marketing messages"))
            } else if msg.is_multiple_of(41) {
                Some((131_026, "Message undeliverable"))
            } else {
                None
            };
            m.pricing = Some(pricing(cat, "regular", Some(true)));
            if let Some((code, title)) = code {
                m.times.failed_at = Some(at + 4);
                m.error_code = Some(code);
                m.error_title = Some(title.into());
            } else {
                m.times.delivered_at = Some(at + 5);
                delivered += 1;
                per_tpl[k].1 += 1;
                if cat == "marketing" {
                    paid_mkt += 1
                } else {
                    paid_util += 1
                }
                if i % 4 != 3 {
                    m.times.read_at = Some(at + 600);
                    per_tpl[k].2 += 1;
                }
                if i % 5 == 0 {
                    inp.inbound
                        .push(inb(&format!("r{msg}"), &person, at + 1_800));
                }
            }
            inp.outbound.push(m);
        }
        // Conversations started by customers (a spike on 2026-11-17).
        let mut chats = [10u64, 12, 12, 11, 13, 7, 5][(day_i % 7) as usize] * 3;
        if ds == "2026-11-17" {
            chats *= 4;
        }
        for i in 0..chats {
            let person = format!("u{day_i}_{i}");
            let at = base + 3_600 + i as i64 * 97;
            inp.inbound
                .push(inb(&format!("in{day_i}_{i}"), &person, at));
            let reply = |w: String, after: i64, tag: &str, inp: &mut Inputs| {
                let mut m = tagged(&w, &person, at + after, tag);
                m.times.delivered_at = Some(at + after + 2);
                m.pricing = Some(pricing("service", "free_customer_service", Some(false)));
                inp.outbound.push(m);
            };
            if i % 10 < 7 {
                reply(
                    format!("b{day_i}_{i}"),
                    5 + (i as i64 * 13) % 40,
                    "by=bot",
                    &mut inp,
                );
                sent += 1;
                delivered += 1;
                free += 1;
            }
            if i % 3 == 0 || i % 10 >= 7 {
                let after = 120 + (i as i64 * 211 + day_i as i64 * 37) % 2_400;
                reply(
                    format!("h{day_i}_{i}"),
                    after,
                    "by=human;agent=a1",
                    &mut inp,
                );
                sent += 1;
                delivered += 1;
                free += 1;
            }
            let (src, med, camp, ad) = match i % 4 {
                0 | 1 => (Some("facebook"), Some("cpc"), Some("nov_promo"), None),
                2 => (
                    Some("meta"),
                    Some("ctwa"),
                    Some("black_friday"),
                    Some("ad_77"),
                ),
                _ => (None, None, None, None),
            };
            inp.leads.push(LeadRow {
                lead_id: person.clone(),
                created_at: at,
                phone_number_id: Some("P1".into()),
                utm_source: src.map(str::to_string),
                utm_medium: med.map(str::to_string),
                utm_campaign: camp.map(str::to_string),
                source_id: ad.map(str::to_string),
            });
            if i % 5 == 0 {
                inp.conversions.push(ConversionRow {
                    lead_id: person.clone(),
                    at: at + 2 * 86_400,
                    conversion_type: "purchase".into(),
                    value_e4: Some(1_500_000_000 + (i as i64 % 3) * 250_000_000),
                    currency: Some("IDR".into()),
                });
            }
            let consent = |action, source, cats: &[&str]| ConsentEvt {
                person: person.clone(),
                phone_number_id: "P1".into(),
                at: at + 60,
                action,
                source,
                categories: cats.iter().map(|c| c.to_string()).collect(),
            };
            if i % 23 == 0 {
                inp.consent.push(consent(
                    ConsentAction::OptOut,
                    ConsentSource::Keyword,
                    &["marketing"],
                ));
            }
            if i % 31 == 5 {
                inp.consent.push(consent(
                    ConsentAction::OptOut,
                    ConsentSource::UserPreferences,
                    &[],
                ));
            }
            if i % 13 == 0 {
                inp.consent.push(consent(
                    ConsentAction::OptIn,
                    ConsentSource::Api,
                    &["marketing", "utility"],
                ));
            }
            if i == 1 && day_i % 7 == 0 {
                inp.consent
                    .push(consent(ConsentAction::Resume, ConsentSource::Keyword, &[]));
            }
        }
        // Meta's side (UTC days; every message above falls on the same UTC day).
        if day < not_pulled_from {
            let id_mkt = paid_mkt * 3 / 4;
            let br_cost = if ds == "2026-11-12" {
                None
            } else {
                Some((paid_mkt - id_mkt) * 62_500)
            };
            inp.pricing.extend([
                meta_pricing(
                    &ds,
                    "ID",
                    "marketing",
                    "regular",
                    id_mkt,
                    Some(id_mkt * 41_100),
                ),
                meta_pricing(
                    &ds,
                    "BR",
                    "marketing",
                    "regular",
                    paid_mkt - id_mkt,
                    br_cost,
                ),
                meta_pricing(
                    &ds,
                    "ID",
                    "utility",
                    "regular",
                    paid_util,
                    Some(paid_util * 20_000),
                ),
                meta_pricing(&ds, "ID", "service", "free_customer_service", free, Some(0)),
            ]);
            let drift = match ds.as_str() {
                "2026-11-09" => 3,
                "2026-11-20" => -2,
                _ => 0,
            };
            inp.messaging.push(MessagingDay {
                waba_id: "W1".into(),
                day,
                sent: Some(sent + drift),
                delivered: Some(delivered),
            });
        }
        for (k, (id, name, _, price)) in templates.iter().enumerate() {
            let (s, dl, r) = per_tpl[k];
            let (clicked, url, state) = match k {
                0 => (Some(s / 5), Some(s / 6), "reported"),
                1 => (None, None, "unavailable_in_region"),
                _ => (Some(0), Some(0), "reported"),
            };
            inp.templates.push(TemplateDay {
                template_id: id.to_string(),
                name: Some(name.to_string()),
                language: Some("id".into()),
                day,
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

fn example_links() -> SectionLinks {
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

#[test]
fn realistic_example_renders_every_section_in_every_locale() {
    let (inputs, q) = example();
    let links = example_links();
    let mut pages = Vec::new();
    for locale in [Locale::En, Locale::Id, Locale::PtBr] {
        let page = render_summary(&inputs, &q, Some(&inputs), &links, locale);
        assert!(page.contains(&format!("<html lang=\"{}\">", locale.tag())));
        assert_eq!(page.matches("<section ").count(), 9);
        assert_eq!(page.matches("class=\"csv\"").count(), 9);
        assert_self_contained(&page, &links);
        assert_accessible(&page);
        // Ten charts: spend ×2, volume ×2, funnel, histogram, failures, campaigns, consent,
        // reconciliation.
        assert_eq!(page.matches("<svg class=\"chart\"").count(), 10);
        // Dates stay ISO in every locale.
        assert!(page.contains("2026-11-01 – 2026-11-28"));
        // The spike day, the unpulled days and the disagreeing days are all visible.
        assert!(page.contains("<rect class=\"mark\""));
        assert!(page.contains("2026-11-09, 2026-11-20") || page.contains("2026-11-09"));
        pages.push((locale, page));
    }
    let en = &pages[0].1;
    assert!(en.contains("Meta does not report clicks in this region."));
    assert!(en.contains("Meta did not return every cost"));
    assert!(en.contains("Previous period: 2026-10-04 – 2026-10-31"));
    assert!(en.contains("Pricing not pulled for 2 of 28 days"));
    assert!(
        en.contains("Meta&#39;s pricing data has not been pulled for: 2026-11-27, 2026-11-28.")
    );
    assert!(en.contains(
        "Meta&#39;s messaging analytics have not been pulled for: 2026-11-27, 2026-11-28."
    ));
    let id = &pages[1].1;
    assert!(id.contains("Angka utama") && id.contains("Ringkasan WhatsApp"));
    let pt = &pages[2].1;
    assert!(pt.contains("Números principais") && pt.contains("Gastos ao longo do tempo"));

    // The headline's sent count and its change come from the conversations family.
    let all = data::whole(&q);
    let sent: u64 = crate::domain::metrics::conversations(&inputs, &all)
        .iter()
        .map(|r| r.sent)
        .sum();
    assert!(sent > 1_000);
    assert!(en.contains(&format!(
        "<div class=\"v\">{}</div>",
        Locale::En.int(i128::from(sent))
    )));
    assert!(id.contains(&format!(
        "<div class=\"v\">{}</div>",
        Locale::Id.int(i128::from(sent))
    )));
    let items = headline(&inputs, &q, Some(&inputs));
    assert!(items.iter().all(|i| i.previous.is_some()));
    assert!(items[0].change().is_some());

    // Every chart on the page draws exactly the family rows (spot check: volume).
    let rows = volume(&inputs, &q);
    let drawn: Vec<Bar> = bars(&bar_svg(
        &volume_chart(&rows, Locale::En),
        "c-volume",
        "x",
        "x",
        Locale::En,
    ));
    let vol_svg = &en[en.find("data-chart=\"c-volume\"").unwrap_or(0)..];
    let vol_svg = &vol_svg[..vol_svg.find("</svg>").unwrap_or(0)];
    assert_eq!(bars(vol_svg), drawn);
    assert!(rows.iter().any(|r| r.spike == Spike::Flag(true)));

    if let Ok(path) = std::env::var("SUMMARY_EXAMPLE_OUT") {
        for (locale, page) in &pages {
            let p = match locale {
                Locale::En => path.clone(),
                other => path.replace(".html", &format!("-{}.html", other.tag())),
            };
            std::fs::write(&p, page).expect("write the example page");
        }
    }
}

#[test]
fn hour_grouping_is_drawn_per_day_and_weeks_group_labels() {
    let (inputs, mut q) = example();
    q.group_by = GroupBy::Hour;
    let page = render_summary(&inputs, &q, None, &SectionLinks::default(), Locale::En);
    assert!(!page.contains("T09\""), "no hour labels");
    q.group_by = GroupBy::Week;
    let page = render_summary(&inputs, &q, None, &SectionLinks::default(), Locale::En);
    assert!(page.contains("data-label=\"2026-10-26\""));
    assert!(page.contains("week (from Monday)"));
}

#[test]
fn headline_change_without_previous_is_a_dash() {
    let (inputs, q) = example();
    let page = render_summary(&inputs, &q, None, &SectionLinks::default(), Locale::En);
    assert!(page.contains("<span class=\"vh\">Change: </span>—</div>"));
    let page = render_summary(
        &inputs,
        &q,
        Some(&Inputs::default()),
        &SectionLinks::default(),
        Locale::En,
    );
    // Against an empty previous period: an absolute change, no percentage (from zero).
    let sent = &page[page.find("data-metric=\"Sent\"").unwrap_or(0)..];
    let sent = &sent[..sent.find("</li>").unwrap_or(0)];
    assert!(sent.contains("Change: </span>+"));
    assert!(!sent.contains('%'));
}

#[test]
fn dates_and_numbers_in_the_query_range_edge_cases_do_not_panic() {
    let q = Query::new(NaiveDate::MAX, NaiveDate::MAX, chrono_tz::Tz::UTC);
    let _ = render_summary(
        &Inputs::default(),
        &q,
        Some(&Inputs::default()),
        &SectionLinks::default(),
        Locale::Id,
    );
    let q = Query::new(d("2026-11-05"), d("2026-11-01"), chrono_tz::Tz::UTC);
    let _ = render_summary(
        &Inputs::default(),
        &q,
        None,
        &SectionLinks::default(),
        Locale::PtBr,
    );
}
