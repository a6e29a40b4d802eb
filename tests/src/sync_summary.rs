//! Prints a meta-sync report and what it stored (`make demo`, `make pull`).

use crate::harness::scan_table;
use meta_sync::handler::SyncReport;
use std::collections::BTreeMap;

/// One line per WABA × kind: outcome, window, pages, rows, watermark, and why.
pub fn print_report(report: &SyncReport) {
    println!(
        "meta-sync run {} ({}): {}",
        report.run_id,
        report.mode,
        report.outcome.as_str()
    );
    println!(
        "  {:<16} {:<10} {:<9} {:<23} {:>5} {:>6} {:<11}",
        "waba", "kind", "outcome", "window", "pages", "rows", "watermark"
    );
    for r in &report.results {
        let window = r
            .window
            .map_or("-".to_string(), |w| format!("{}..{}", w.first, w.last));
        let watermark = r.watermark_after.map_or("-".to_string(), |w| w.to_string());
        println!(
            "  {:<16} {:<10} {:<9} {:<23} {:>5} {:>6} {:<11}",
            r.waba_id,
            r.kind,
            r.outcome.as_str(),
            window,
            r.pages,
            r.rows_stored,
            watermark
        );
        if let Some(reason) = &r.reason {
            println!("      why: {}", shorten(reason, 220));
        }
        for n in &r.notes {
            println!("      note: {}", shorten(n, 220));
        }
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

/// Spend per WABA and pricing category, and the most-sent templates, from the stored rows.
pub async fn print_stored(client: &aws_sdk_dynamodb::Client, table: &str) {
    let items = scan_table(client, table).await;
    let text = |i: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
                k: &str| {
        i.get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let number =
        |i: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
         k: &str| {
            i.get(k)
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<f64>().ok())
        };
    let mut spend: BTreeMap<(String, String), (f64, f64, usize)> = BTreeMap::new();
    let mut sent: BTreeMap<String, f64> = BTreeMap::new();
    let mut unknown_cost = 0usize;
    for i in &items {
        match text(i, "item_kind").as_str() {
            "pricing_day" => {
                let e = spend
                    .entry((text(i, "waba_id"), text(i, "pricing_category")))
                    .or_default();
                e.0 += number(i, "volume").unwrap_or(0.0);
                match number(i, "cost") {
                    Some(c) => e.1 += c,
                    None => {
                        e.2 += 1;
                        unknown_cost += 1;
                    }
                }
            }
            "template_day" => {
                *sent.entry(text(i, "template_id")).or_default() +=
                    number(i, "sent").unwrap_or(0.0);
            }
            _ => {}
        }
    }
    println!("spend from pricing_analytics (waba, category → delivered, cost):");
    for ((waba, category), (volume, cost, unknown)) in &spend {
        let cost = if *unknown > 0 {
            format!("unknown on {unknown} rows (not returned by Meta)")
        } else {
            format!("{cost:.2}")
        };
        println!("  {waba:<16} {category:<30} {volume:>7} {cost}");
    }
    if unknown_cost > 0 {
        println!("  ({unknown_cost} rows have cost_state = not_returned: credit-line WABA)");
    }
    let mut top: Vec<_> = sent.into_iter().collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!("templates by sent (template_analytics):");
    for (id, n) in top.iter().take(5) {
        println!("  {id:<18} {n:>8}");
    }
}
