//! Routing a Graph request to its answer: field expansions, paging, cursors.

use super::data::*;
use super::server::*;
use chrono::NaiveDate;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn route(
    s: &mut State,
    method: &str,
    path: &str,
    params: &BTreeMap<String, String>,
) -> Response {
    // `/<version>/<waba>[/<edge>]`; the version segment is optional.
    let segs: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let segs = match segs.first() {
        Some(v) if v.starts_with('v') && v[1..].contains('.') => &segs[1..],
        _ => &segs[..],
    };
    let Some(waba_id) = segs.first() else {
        return graph_error(400, 100, None, "Unsupported request - no node");
    };
    if method == "POST"
        && segs.len() == 1
        && params.get("is_enabled_for_insights").map(String::as_str) == Some("true")
        && let Some(w) = s.config.wabas.iter_mut().find(|w| w.id == *waba_id)
    {
        // Meta: once confirmed, template analytics cannot be disabled. The id is a number.
        w.insights_enabled = true;
        return respond(
            200,
            &[],
            json!({ "id": w.id.parse::<u64>().unwrap_or_default() }),
        );
    }
    let s = &*s;
    let Some(waba) = s.config.wabas.iter().find(|w| w.id == *waba_id) else {
        return graph_error(
            400,
            100,
            Some(33),
            &format!(
                "Unsupported get request. Object with ID '{waba_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."
            ),
        );
    };
    let self_url = format!("{}{path}", s.base_url);
    match (method, segs.get(1).copied()) {
        ("GET", None) => {
            let fields = params.get("fields").map(String::as_str).unwrap_or("");
            if let Some(spec) = fields.strip_prefix("pricing_analytics.") {
                let f = expansion(spec);
                let (Some(start), Some(end)) = (num(&f, "start"), num(&f, "end")) else {
                    return graph_error(400, 100, None, "(#100) start and end are required");
                };
                let granularity = f.get("granularity").cloned().unwrap_or_default();
                let dims: BTreeSet<String> = list(f.get("dimensions").map_or("", |d| d))
                    .into_iter()
                    .collect();
                let points = pricing_points(waba, start, end, &granularity, &dims);
                let (page, paging) = paginate(s, &self_url, params, points);
                let mut analytics = json!({ "data": [{ "data_points": page }] });
                if let Some(p) = paging {
                    analytics["paging"] = p;
                }
                respond(
                    200,
                    &[],
                    json!({ "pricing_analytics": analytics, "id": waba.id }),
                )
            } else if let Some(spec) = fields.strip_prefix("analytics.") {
                let f = expansion(spec);
                let (Some(start), Some(end)) = (num(&f, "start"), num(&f, "end")) else {
                    return graph_error(400, 100, None, "(#100) start and end are required");
                };
                let granularity = f.get("granularity").cloned().unwrap_or_default();
                let points = messaging_points(waba, start, end, &granularity);
                respond(
                    200,
                    &[],
                    json!({ "analytics": {
                        "phone_numbers": waba.phone_numbers,
                        "granularity": granularity,
                        "data_points": points,
                    }, "id": waba.id }),
                )
            } else if fields == "is_enabled_for_insights" {
                respond(
                    200,
                    &[],
                    json!({ "is_enabled_for_insights": waba.insights_enabled, "id": waba.id }),
                )
            } else {
                graph_error(
                    400,
                    100,
                    None,
                    &format!("(#100) Tried accessing nonexisting field ({fields})"),
                )
            }
        }
        ("GET", Some("template_analytics")) => {
            let (Some(start), Some(end)) = (
                params.get("start").and_then(|v| day_or_unix(v)),
                params.get("end").and_then(|v| day_or_unix(v)),
            ) else {
                return graph_error(400, 100, None, "(#100) The parameter start is required");
            };
            let ids = list(params.get("template_ids").map_or("", |v| v));
            if ids.is_empty() || ids.len() > 10 {
                return graph_error(
                    400,
                    100,
                    None,
                    "(#100) Param template_ids must be an array of 1 to 10 template ids",
                );
            }
            let metrics = list(params.get("metric_types").map_or("", |v| v));
            if !waba.insights_enabled {
                // Meta does not document this answer; no data lets the pull tell "not
                // enabled" (from is_enabled_for_insights) apart from zero sends.
                return respond(200, &[], json!({ "data": [] }));
            }
            let points = template_points(waba, &ids, start, end, &metrics);
            let (page, paging) = paginate(s, &self_url, params, points);
            let mut body = json!({ "data": [{
                "granularity": "DAILY",
                "product_type": "cloud_api",
                "data_points": page,
            }]});
            if let Some(p) = paging {
                body["paging"] = p;
            }
            respond(200, &[], body)
        }
        ("GET", Some("message_templates")) => {
            let fields: Vec<String> = params
                .get("fields")
                .map(|f| f.split(',').map(|s| s.trim().to_string()).collect())
                .unwrap_or_else(|| {
                    [
                        "name",
                        "parameter_format",
                        "components",
                        "language",
                        "status",
                        "category",
                        "sub_category",
                        "previous_category",
                        "id",
                    ]
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
                });
            let templates: Vec<Value> = waba
                .templates
                .iter()
                .map(|t| template_json(t, &fields))
                .collect();
            let mut params = params.clone();
            if let Some(limit) = params.get("limit").and_then(|l| l.parse::<usize>().ok()) {
                // The request's limit wins over the configured page size, as with Meta.
                params.insert("__page_size".into(), limit.to_string());
            }
            let (page, paging) = paginate(s, &self_url, &params, templates);
            let mut body = json!({ "data": page });
            if let Some(p) = paging {
                body["paging"] = p;
            }
            respond(200, &[], body)
        }
        _ => graph_error(
            400,
            100,
            None,
            &format!("Unsupported {method} request on {path}"),
        ),
    }
}

/// Cuts `items` at `after` (an opaque cursor) into one page and its `paging` object:
/// cursors always, `next` (a full URL back here with the same query) when more remain.
pub(super) fn paginate(
    s: &State,
    self_url: &str,
    params: &BTreeMap<String, String>,
    items: Vec<Value>,
) -> (Vec<Value>, Option<Value>) {
    let size = params
        .get("__page_size")
        .and_then(|v| v.parse().ok())
        .unwrap_or(s.config.page_size)
        .max(1);
    let offset = params
        .get("after")
        .and_then(|c| decode_cursor(c))
        .unwrap_or(0);
    if offset >= items.len() {
        // Past the end: an empty page without paging, as Graph answers a spent cursor.
        return (Vec::new(), None);
    }
    let end = (offset + size).min(items.len());
    let page: Vec<Value> = items[offset..end].to_vec();
    let mut paging = json!({ "cursors": {
        "before": encode_cursor(offset),
        "after": encode_cursor(end),
    }});
    if end < items.len() && s.config.links_next {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params
            .iter()
            .filter(|(k, _)| *k != "after" && *k != "__page_size")
        {
            q.append_pair(k, v);
        }
        q.append_pair("after", &encode_cursor(end));
        paging["next"] = json!(format!("{self_url}?{}", q.finish()));
    }
    (page, Some(paging))
}

pub(super) fn encode_cursor(offset: usize) -> String {
    format!("QVFIU{offset:x}")
}

pub(super) fn decode_cursor(c: &str) -> Option<usize> {
    usize::from_str_radix(c.strip_prefix("QVFIU")?, 16).ok()
}

/// `start(1).end(2).granularity(DAILY).dimensions(["A","B"])` → map.
pub(super) fn expansion(spec: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = spec;
    while let Some(open) = rest.find('(') {
        let name = rest[..open].trim_start_matches('.').to_string();
        let Some(close) = rest[open..].find(')') else {
            break;
        };
        out.insert(name, rest[open + 1..open + close].to_string());
        rest = &rest[open + close + 1..];
    }
    out
}

pub(super) fn num(f: &BTreeMap<String, String>, key: &str) -> Option<i64> {
    f.get(key).and_then(|v| day_or_unix(v))
}

/// Unix seconds or `YYYY-MM-DD` (UTC midnight).
pub(super) fn day_or_unix(v: &str) -> Option<i64> {
    v.trim().parse::<i64>().ok().or_else(|| {
        NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
            .ok()
            .map(|d| {
                d.and_hms_opt(0, 0, 0)
                    .expect("midnight")
                    .and_utc()
                    .timestamp()
            })
    })
}

/// `["A","B"]`, `['A','B']`, `[1,2]` or `A,B` → items.
pub(super) fn list(v: &str) -> Vec<String> {
    v.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|s| s.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_expansion_and_lists_parse() {
        let f = expansion(
            r#"start(1748761200).end(1749279600).granularity(DAILY).dimensions(["COUNTRY","PHONE"])"#,
        );
        assert_eq!(f["start"], "1748761200");
        assert_eq!(list(&f["dimensions"]), vec!["COUNTRY", "PHONE"]);
        assert_eq!(list("[1924084211297547,954638012257287]").len(), 2);
        assert_eq!(day_or_unix("2024-06-11"), Some(1718064000));
    }
}
