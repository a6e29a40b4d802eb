//! The leads API's answers: JSON bodies, the one mapping from errors to responses, and the
//! request checks every resource shares.

use chrono::{DateTime, Utc};
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use shared::domain::leads::FilterError;
use shared::ports::LeadsError;

pub(crate) type Resp = Response<Body>;

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Resp {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body.to_string()))
        .expect("valid response")
}

pub(crate) fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Resp {
    json_response(
        status,
        &json!({"error": {"code": code, "message": message.into()}}),
    )
}

/// `405` with the methods the path takes in `Allow`.
pub(crate) fn not_allowed(method: &Method, path: &str, allow: &'static str) -> Resp {
    let mut r = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not supported on {path}"),
    );
    r.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allow));
    r
}

/// A list or export filter's error: an unknown parameter, or a bad, empty or repeated value.
pub(crate) fn filter_error(e: &FilterError) -> Resp {
    let code = match e {
        FilterError::Unknown { .. } => "unknown_parameter",
        _ => "invalid_parameter",
    };
    error(StatusCode::BAD_REQUEST, code, e.to_string())
}

/// A lead that does not exist, or that the caller may not see: the same answer, so a
/// scoped caller learns nothing of other WABAs' leads.
pub(crate) fn not_found(id: &str) -> Resp {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("lead {id} not found"),
    )
}

pub(crate) fn from_leads_error(e: LeadsError) -> Resp {
    match e {
        LeadsError::NotFound(id) => not_found(&id),
        LeadsError::VersionConflict { expected, current } => json_response(
            StatusCode::CONFLICT,
            &json!({"error": {
                "code": "version_conflict",
                "message": format!("the lead changed since version {expected}; read it again (current version {current}) and retry"),
                "current_version": current,
            }}),
        ),
        LeadsError::Stage(e) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_transition",
            e.to_string(),
        ),
        LeadsError::Invalid(m) => error(StatusCode::BAD_REQUEST, "invalid_cursor", m),
        LeadsError::IdempotencyConflict(key) => error(
            StatusCode::CONFLICT,
            "idempotency_conflict",
            format!("idempotency key {key:?} was already used with a different conversion"),
        ),
        // Storage errors by kind; their text stays in the log, never in the answer.
        LeadsError::Store(e @ shared::ports::StoreError::Rejected(_)) => {
            tracing::error!(error = %e, "leads store refused a request");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the request could not be stored; it was logged for the operator",
            )
        }
        LeadsError::Store(e) => {
            tracing::error!(error = %e, "leads store unavailable");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "storage is unavailable; retry later",
            )
        }
    }
}

pub(crate) fn content_type_is(req: &Request, expected: &str) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case(expected))
        })
}

/// A JSON body of type `T`, or the 400 that says what is wrong with it.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, Box<Resp>> {
    if !content_type_is(req, "application/json") {
        return Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "unsupported_media_type",
            "send the body as application/json",
        )));
    }
    serde_json::from_slice(req.body().as_ref()).map_err(|e| {
        // Not JSON at all is a syntax error (400); JSON of the wrong shape breaks the
        // request schema (422), as the OpenAPI document says.
        Box::new(match e.classify() {
            serde_json::error::Category::Data => error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                e.to_string(),
            ),
            _ => error(StatusCode::BAD_REQUEST, "malformed_body", e.to_string()),
        })
    })
}

pub(crate) fn parse_time(
    name: &str,
    v: Option<&str>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, Box<Resp>> {
    let Some(v) = v else { return Ok(now) };
    let t = DateTime::parse_from_rfc3339(v)
        .map_err(|e| {
            Box::new(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_time",
                format!("{name}: {e}"),
            ))
        })?
        .with_timezone(&Utc);
    if t > now + chrono::Duration::seconds(60) {
        return Err(Box::new(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "time_in_future",
            format!("{name} {v} is in the future"),
        )));
    }
    Ok(t)
}

pub(crate) fn valid_id(id: &str) -> bool {
    shared::domain::identity::valid_id(id)
}
