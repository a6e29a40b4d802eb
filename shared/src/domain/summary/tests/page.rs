//! The page as a whole: missing data, escaping, self-containment, accessibility, and the
//! realistic example in every locale.

use super::*;

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
