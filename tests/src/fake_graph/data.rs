//! Deterministic data in Meta's shapes: pricing, messaging and template analytics points.

use super::config::*;
use super::*;
use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn mix(parts: &[u64]) -> u64 {
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
    for p in parts {
        h ^= p.wrapping_add(0x9E37_79B9_7F4A_7C15);
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
    }
    h
}

pub(super) fn text_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Buckets `[start, end)` overlapping the window, aligned like Meta's.
pub(super) fn buckets(start: i64, end: i64, granularity: &str, offset: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    match granularity.to_ascii_uppercase().as_str() {
        "HALF_HOUR" => {
            let mut b = start.div_euclid(1800) * 1800;
            while b < end {
                out.push((b, b + 1800));
                b += 1800;
            }
        }
        "MONTHLY" | "MONTH" => {
            let Some(first) = DateTime::from_timestamp(start - offset, 0) else {
                return out;
            };
            let (mut y, mut m) = (first.year(), first.month());
            loop {
                let at = |y: i32, m: u32| {
                    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0)
                        .single()
                        .map(|d| d.timestamp() + offset)
                };
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                let (Some(b), Some(e)) = (at(y, m), at(ny, nm)) else {
                    break;
                };
                if b >= end {
                    break;
                }
                out.push((b, e));
                (y, m) = (ny, nm);
            }
        }
        // DAILY / DAY and anything else.
        _ => {
            let mut b = (start - offset).div_euclid(DAY) * DAY + offset;
            while b < end {
                out.push((b, b + DAY));
                b += DAY;
            }
        }
    }
    out
}

/// The market × category combinations of the corpus example (country, tier, pricing type,
/// pricing category, price per message in millionths).
pub(super) const PRICING_COMBOS: [(&str, Option<&str>, &str, &str, u64); 8] = [
    ("US", Some("0:MAX"), "REGULAR", "MARKETING", 25_000),
    ("US", Some("0:MAX"), "REGULAR", "MARKETING_LITE", 20_000),
    ("US", Some("0:2"), "REGULAR", "UTILITY", 4_000),
    ("US", Some("0:2"), "REGULAR", "AUTHENTICATION", 13_500),
    ("US", None, "FREE_CUSTOMER_SERVICE", "SERVICE", 0),
    ("US", None, "FREE_ENTRY_POINT", "SERVICE", 0),
    (
        "IN",
        Some("0:750000"),
        "REGULAR",
        "AUTHENTICATION_INTERNATIONAL",
        28_000,
    ),
    ("IN", None, "FREE_CUSTOMER_SERVICE", "UTILITY", 0),
];

/// Pricing points for one WABA: generated per phone × combination × bucket, then summed over
/// the dimensions not requested (as Meta does), zero volumes left out.
pub(super) fn pricing_points(
    waba: &FakeWaba,
    start: i64,
    end: i64,
    granularity: &str,
    dims: &BTreeSet<String>,
) -> Vec<Value> {
    let has = |d: &str| dims.contains(d);
    let tier_shown = has("TIER") && has("PRICING_CATEGORY") && has("COUNTRY");
    // (bucket start, bucket end, phone, country, type, category, tier) → (volume, cost µ)
    type Key = (
        i64,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let mut sums: BTreeMap<Key, (u64, u64)> = BTreeMap::new();
    for (bs, be) in buckets(start, end, granularity, PACIFIC_OFFSET) {
        let span = ((be - bs) / 1800).max(1) as u64;
        for phone in &waba.phone_numbers {
            for (i, (country, tier, ptype, category, price)) in PRICING_COMBOS.iter().enumerate() {
                let h = mix(&[waba.seed, text_hash(phone), i as u64, bs as u64]);
                if h.is_multiple_of(5) {
                    continue;
                }
                // Volume grows with the bucket's length so monthly ≈ sum of days.
                let volume = (h >> 8) % 40 * span / 48 + 1;
                let key = (
                    bs,
                    be,
                    has("PHONE").then(|| phone.clone()),
                    has("COUNTRY").then(|| country.to_string()),
                    has("PRICING_TYPE").then(|| ptype.to_string()),
                    has("PRICING_CATEGORY").then(|| category.to_string()),
                    if tier_shown {
                        tier.map(str::to_string)
                    } else {
                        None
                    },
                );
                let e = sums.entry(key).or_default();
                e.0 += volume;
                e.1 += volume * price;
            }
        }
    }
    sums.into_iter()
        .map(
            |((bs, be, phone, country, ptype, category, tier), (volume, micros))| {
                let mut p = json!({ "start": bs, "end": be });
                for (k, v) in [
                    ("phone_number", phone),
                    ("country", country),
                    ("tier", tier),
                    ("pricing_type", ptype),
                    ("pricing_category", category),
                ] {
                    if let Some(v) = v {
                        p[k] = json!(v);
                    }
                }
                p["volume"] = json!(volume);
                if waba.cost_reported {
                    p["cost"] = json!(micros as f64 / 1_000_000.0);
                }
                p
            },
        )
        .collect()
}

/// Sent/delivered per bucket: delivered = the pricing volume, sent a little more.
pub(super) fn messaging_points(
    waba: &FakeWaba,
    start: i64,
    end: i64,
    granularity: &str,
) -> Vec<Value> {
    let granularity = match granularity {
        "DAY" => "DAILY",
        "MONTH" => "MONTHLY",
        g => g,
    };
    buckets(start, end, granularity, PACIFIC_OFFSET)
        .into_iter()
        .map(|(bs, be)| {
            let delivered: u64 = pricing_points(waba, bs, be, granularity, &BTreeSet::new())
                .iter()
                .filter_map(|p| p["volume"].as_u64())
                .sum();
            let sent = delivered + mix(&[waba.seed, bs as u64, 7]) % (delivered / 10 + 1);
            json!({ "start": bs, "end": be, "sent": sent, "delivered": delivered })
        })
        .collect()
}

/// Template points per requested template × UTC day, in Meta's key order.
pub(super) fn template_points(
    waba: &FakeWaba,
    ids: &[String],
    start: i64,
    end: i64,
    metrics: &[String],
) -> Vec<Value> {
    let wants = |m: &str| metrics.is_empty() || metrics.iter().any(|x| x.eq_ignore_ascii_case(m));
    let mut out = Vec::new();
    for id in ids {
        let Some(t) = waba.templates.iter().find(|t| &t.id == id) else {
            continue;
        };
        if !t.has_insights {
            continue;
        }
        for (bs, be) in buckets(start, end, "DAILY", 0) {
            let h = mix(&[waba.seed, text_hash(&t.id), bs as u64]);
            let sent = h % 200 + 1;
            let delivered = sent - (h >> 8) % (sent / 10 + 1);
            let read = delivered - (h >> 16) % (delivered / 3 + 1);
            let mut p = json!({ "template_id": t.id, "start": bs, "end": be });
            if wants("SENT") {
                p["sent"] = json!(sent);
            }
            if wants("DELIVERED") {
                p["delivered"] = json!(delivered);
            }
            if wants("READ") {
                p["read"] = json!(read);
            }
            let clickable = matches!(t.category.as_str(), "MARKETING" | "UTILITY");
            let url_clicks = (h >> 24) % (read / 4 + 1);
            let mut clicked = Vec::new();
            if wants("CLICKED") && clickable && waba.clicks_available {
                if t.has_button("URL") {
                    clicked.push(json!({"type": "url_button", "button_content": "Tell me more", "count": url_clicks}));
                    clicked.push(json!({"type": "unique_url_button", "button_content": "Tell me more", "count": url_clicks * 3 / 4}));
                }
                if t.has_button("QUICK_REPLY") {
                    clicked.push(json!({"type": "quick_reply_button", "button_content": "Contact Support", "count": (h >> 32) % (read / 5 + 1)}));
                }
                if !clicked.is_empty() {
                    p["clicked"] = json!(clicked);
                }
            }
            if wants("COST") && waba.cost_reported {
                let price = match t.category.as_str() {
                    "MARKETING" => 25_000,
                    "UTILITY" => 4_000,
                    "AUTHENTICATION" => 13_500,
                    _ => 0,
                };
                let spent = (delivered * price) as f64 / 1_000_000.0;
                let mut cost = vec![
                    json!({"type": "amount_spent", "value": spent}),
                    json!({"type": "cost_per_delivered", "value": round4(spent / delivered as f64)}),
                ];
                if t.has_button("URL") && url_clicks > 0 {
                    cost.push(json!({"type": "cost_per_url_button_click", "value": round4(spent / url_clicks as f64)}));
                }
                p["cost"] = json!(cost);
            }
            out.push(p);
        }
    }
    out
}

pub(super) fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// A catalogue entry with only the requested fields (`id` always), components in the
/// corpus's shapes.
pub(super) fn template_json(t: &FakeTemplate, fields: &[String]) -> Value {
    let want = |f: &str| fields.iter().any(|x| x == f);
    let mut v = json!({});
    if want("name") {
        v["name"] = json!(t.name);
    }
    if want("parameter_format") {
        v["parameter_format"] = json!("POSITIONAL");
    }
    if want("components") {
        let mut components = vec![
            json!({"type": "HEADER", "format": "TEXT", "text": "Hello {{1}}", "example": {"header_text": ["Pablo"]}}),
            json!({"type": "BODY", "text": format!("{} body {{{{1}}}}", t.name), "example": {"body_text": [["SUMMER20"]]}}),
            json!({"type": "FOOTER", "text": "Lucky Shrub"}),
        ];
        if !t.buttons.is_empty() {
            let buttons: Vec<Value> = t
                .buttons
                .iter()
                .map(|b| match b.as_str() {
                    "URL" => json!({"type": "URL", "text": "Tell me more", "url": "https://www.luckyshrub.com/deals"}),
                    "PHONE_NUMBER" => json!({"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+16467043595"}),
                    "OTP" => json!({"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}),
                    other => json!({"type": other, "text": "Contact Support"}),
                })
                .collect();
            components.push(json!({"type": "BUTTONS", "buttons": buttons}));
        }
        v["components"] = json!(components);
    }
    if want("language") {
        v["language"] = json!(t.language);
    }
    if want("status") {
        v["status"] = json!(t.status);
    }
    if want("category") {
        v["category"] = json!(t.category);
    }
    if want("sub_category")
        && let Some(s) = &t.sub_category
    {
        v["sub_category"] = json!(s);
    }
    if want("previous_category")
        && let Some(s) = &t.previous_category
    {
        v["previous_category"] = json!(s);
    }
    if want("quality_score") {
        let score = match t.status.as_str() {
            "APPROVED" => "GREEN",
            "PAUSED" => "RED",
            _ => "UNKNOWN",
        };
        v["quality_score"] = json!({"score": score, "date": 1_748_761_200});
    }
    v["id"] = json!(t.id);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn pricing_is_deterministic_and_aggregates_unrequested_dimensions() {
        let w = &FakeGraphConfig::standard().wabas[0];
        let all: BTreeSet<String> = [
            "COUNTRY",
            "PHONE",
            "PRICING_CATEGORY",
            "PRICING_TYPE",
            "TIER",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let a = pricing_points(w, 1748761200, 1748761200 + 3 * DAY, "DAILY", &all);
        let b = pricing_points(w, 1748761200, 1748761200 + 3 * DAY, "DAILY", &all);
        assert_eq!(a, b);
        let none = pricing_points(
            w,
            1748761200,
            1748761200 + 3 * DAY,
            "DAILY",
            &BTreeSet::new(),
        );
        assert_eq!(none.len(), 3, "one point per day without dimensions");
        let total = |v: &[Value]| v.iter().map(|p| p["volume"].as_u64().unwrap()).sum::<u64>();
        assert_eq!(total(&a), total(&none));
        assert!(
            a.iter()
                .all(|p| p["start"].as_i64().unwrap() % DAY == PACIFIC_OFFSET)
        );
    }
}
