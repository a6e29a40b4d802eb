//! The reports API's answers: JSON bodies, errors, the strict query string and the small
//! parsers every resource shares, and the report object as the API shows it.

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde_json::{Value, json};
use shared::domain::report::ReportRecord;

pub(crate) type Resp = Response<Body>;

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Resp {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Text(body.to_string()))
        .expect("valid response")
}

pub(crate) fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Resp {
    json_response(
        status,
        &json!({"error": {"code": code, "message": message.into()}}),
    )
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> Resp {
    tracing::error!(error = %e, "storage unavailable");
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "storage is unavailable; retry later",
    )
}

pub(crate) fn not_allowed(allow: &str) -> Resp {
    let mut r = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("allowed: {allow}"),
    );
    r.headers_mut()
        .insert(header::ALLOW, allow.parse().expect("valid header"));
    r
}

pub(crate) fn bad_request(code: &str, message: impl Into<String>) -> Resp {
    error(StatusCode::BAD_REQUEST, code, message)
}

/// The query string of an operation that knows `allowed` parameters: each at most once,
/// never empty, nothing else. A raw query that is not valid form encoding (a lone `%`) is
/// read the way browsers read it (lossily), so it still ends in one of these answers.
pub(crate) fn strict_query<'a>(
    raw: Option<&str>,
    allowed: &[&'a str],
) -> Result<Vec<(&'a str, String)>, Box<Resp>> {
    let mut out: Vec<(&'a str, String)> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let Some(name) = allowed.iter().copied().find(|a| *a == k) else {
            let known = if allowed.is_empty() {
                "this operation takes no query parameters".to_string()
            } else {
                format!("known: {}", allowed.join(", "))
            };
            return Err(Box::new(bad_request(
                "unknown_parameter",
                format!("unknown query parameter {k:?}; {known}"),
            )));
        };
        if out.iter().any(|(n, _)| *n == name) {
            return Err(Box::new(bad_request(
                "invalid_parameter",
                format!("query parameter {name} is repeated"),
            )));
        }
        if v.is_empty() {
            return Err(Box::new(bad_request(
                "invalid_parameter",
                format!("query parameter {name} is empty"),
            )));
        }
        out.push((name, v.into_owned()));
    }
    Ok(out)
}

/// A query integer: ASCII digits with an optional leading `-`, nothing else.
pub(crate) fn query_int(v: &str) -> Option<i64> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// Whether a `Content-Type` is JSON (`application/json`, any parameters, any case).
pub(crate) fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|c| c.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// A report id: `<10 digits>-<16 hex>`.
pub(crate) fn valid_id(id: &str) -> bool {
    let Some((t, r)) = id.split_once('-') else {
        return false;
    };
    t.len() == 10
        && t.bytes().all(|b| b.is_ascii_digit())
        && r.len() == 16
        && r.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

pub(crate) fn iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A report as the API shows it (without a link).
pub(crate) fn summary(rec: &ReportRecord) -> Value {
    let mut v = json!({
        "id": rec.id,
        "kind": rec.kind.as_str(),
        "status": rec.status.public(),
        "origin": rec.origin,
        "created_at": iso(rec.created_at),
    });
    if let Ok(req) = serde_json::from_str::<Value>(&rec.request_json) {
        v["request"] = req;
    }
    if let Some(r) = rec.rows {
        v["rows"] = json!(r);
    }
    if let Some(b) = rec.bytes {
        v["bytes"] = json!(b);
    }
    if let Some(c) = &rec.sha256 {
        v["sha256"] = json!(c);
    }
    if let Some(r) = &rec.reason {
        v["reason"] = json!(r);
    }
    if let Some(t) = rec.finished_at {
        v["finished_at"] = json!(iso(t));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_integers_are_plain_digits() {
        assert_eq!(query_int("60"), Some(60));
        assert_eq!(query_int("-1"), Some(-1));
        for bad in [
            "",
            "-",
            "+60",
            "6e1",
            "60.0",
            " 60",
            "٦٠",
            "99999999999999999999",
        ] {
            assert_eq!(query_int(bad), None, "{bad:?}");
        }
    }
}
