//! Routes, auth and JSON for the reports API; the work is `shared::reports::ReportService`.
//!
//! `POST /v1/reports` validates the request, records it and generates the report within
//! `REPORT_INLINE_SECONDS`: done → `200` with a fresh presigned link; not done → the record
//! is marked `queued` (the jobs function picks it up from the table stream and finishes it)
//! and the answer is `202` with `status: running`. `GET /v1/reports/{id}` answers the same
//! object, with a new link on every call for a ready report. `GET /v1/reports` lists the
//! newest reports (on demand and scheduled), without links.
//!
//! The contract is `docs/reports-openapi.yaml`: authentication first (401), then the route
//! and method (404, 405 with `Allow`), then strict query strings (`unknown_parameter`,
//! `invalid_parameter`), the path id, the body's media type and syntax
//! (`unsupported_media_type`, `malformed_body`) and the request's fields (their specific
//! codes, `shared::domain::report`). Client input never gets a 5xx.

use chrono::Utc;
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use shared::config::{ApiAuth, ReportsConfig};
use shared::domain::access::{Access, AccessError, Caller};
use shared::domain::report::{
    ReportRecord, ReportRequest, ReportRequestBody, ReportStatus, SIGV4_MAX_SECONDS, new_report_id,
};
use shared::ports::{ReportObjects, ReportSource, ReportStore};
use shared::reports::{ReportError, ReportService};
use std::time::Duration;

type Resp = Response<Body>;

fn json_response(status: StatusCode, body: &Value) -> Resp {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Text(body.to_string()))
        .expect("valid response")
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Resp {
    json_response(
        status,
        &json!({"error": {"code": code, "message": message.into()}}),
    )
}

fn unavailable(e: impl std::fmt::Display) -> Resp {
    tracing::error!(error = %e, "storage unavailable");
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "storage is unavailable; retry later",
    )
}

fn not_allowed(allow: &str) -> Resp {
    let mut r = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("allowed: {allow}"),
    );
    r.headers_mut()
        .insert(header::ALLOW, allow.parse().expect("valid header"));
    r
}

fn bad_request(code: &str, message: impl Into<String>) -> Resp {
    error(StatusCode::BAD_REQUEST, code, message)
}

/// The query string of an operation that knows `allowed` parameters: each at most once,
/// never empty, nothing else. A raw query that is not valid form encoding (a lone `%`) is
/// read the way browsers read it (lossily), so it still ends in one of these answers.
fn strict_query<'a>(
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
fn query_int(v: &str) -> Option<i64> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// Whether a `Content-Type` is JSON (`application/json`, any parameters, any case).
fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|c| c.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// A report id: `<10 digits>-<16 hex>`.
fn valid_id(id: &str) -> bool {
    let Some((t, r)) = id.split_once('-') else {
        return false;
    };
    t.len() == 10
        && t.bytes().all(|b| b.is_ascii_digit())
        && r.len() == 16
        && r.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

fn iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

pub struct ReportsApi<S, R, O> {
    pub service: ReportService<S, R, O>,
    pub auth: ApiAuth,
    pub inline: Duration,
}

impl
    ReportsApi<
        shared::adapters::dynamodb::reports::DynamoDbReportSource,
        shared::adapters::dynamodb::reports::DynamoDbReportStore,
        shared::adapters::s3_reports::S3ReportObjects,
    >
{
    pub fn from_sdk(config: &ReportsConfig, sdk: &aws_config::SdkConfig) -> Self {
        Self {
            service: shared::reports::live_service(config, sdk),
            auth: config.auth.clone(),
            inline: Duration::from_secs(config.inline_seconds),
        }
    }
}

impl<S: ReportSource, R: ReportStore, O: ReportObjects> ReportsApi<S, R, O> {
    /// The caller: `Ok(None)` when not authenticated, `Err` when the token may not use
    /// the API (scope, tenant).
    fn caller(&self, req: &Request) -> Result<Option<Caller>, AccessError> {
        shared::http::caller(&self.auth, req)
    }

    pub async fn handle(&self, req: Request) -> Result<Resp, std::convert::Infallible> {
        Ok(self.route(req).await)
    }

    pub async fn route(&self, req: Request) -> Resp {
        let caller = match self.caller(&req) {
            Ok(Some(c)) => c,
            Ok(None) => {
                let mut r = error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "missing or invalid credentials: send Authorization: Bearer <token>",
                );
                r.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("valid"));
                return r;
            }
            Err(e) => return error(StatusCode::FORBIDDEN, e.code(), e.to_string()),
        };
        let path = req.uri().path();
        let id = if path == "/v1/reports" {
            None
        } else if let Some(rest) = path.strip_prefix("/v1/reports/")
            && !rest.contains('/')
        {
            Some(rest.to_string())
        } else {
            return error(StatusCode::NOT_FOUND, "not_found", "no such route");
        };
        let query = req.uri().query();
        let method = req.method();
        match id {
            None if method == Method::POST => match strict_query(query, &[]) {
                Ok(_) => self.create(&req, &caller).await,
                Err(r) => *r,
            },
            None if method == Method::GET => match strict_query(query, &["limit"]) {
                Ok(q) => self.list(&q, &caller.access).await,
                Err(r) => *r,
            },
            None => not_allowed("GET, POST"),
            Some(id) if method == Method::GET => {
                let q = match strict_query(query, &["expires_in"]) {
                    Ok(q) => q,
                    Err(r) => return *r,
                };
                if !valid_id(&id) {
                    return bad_request(
                        "invalid_parameter",
                        "a report id is <10 digits>-<16 lowercase hex digits>",
                    );
                }
                self.get(&id, &q, &caller.access).await
            }
            Some(_) => not_allowed("GET"),
        }
    }

    /// The body of `POST /v1/reports`: JSON (by `Content-Type`), UTF-8, parseable, then
    /// read field by field.
    fn body(req: &Request) -> Result<ReportRequestBody, Box<Resp>> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if !is_json(content_type) {
            return Err(Box::new(bad_request(
                "unsupported_media_type",
                "send the report request as JSON with Content-Type: application/json",
            )));
        }
        let text = match req.body() {
            Body::Text(t) => t.as_str(),
            Body::Binary(b) => std::str::from_utf8(b)
                .map_err(|_| Box::new(bad_request("malformed_body", "the body is not UTF-8")))?,
            _ => "",
        };
        let value: Value = serde_json::from_str(text).map_err(|e| {
            Box::new(bad_request(
                "malformed_body",
                format!("the body is not JSON: {e}"),
            ))
        })?;
        ReportRequestBody::from_json(&value).map_err(|e| Box::new(bad_request(e.code, e.message)))
    }

    async fn create(&self, req: &Request, caller: &Caller) -> Resp {
        let body = match Self::body(req) {
            Ok(b) => b,
            Err(r) => return *r,
        };
        let request = match ReportRequest::parse(body, self.service.settings.links) {
            Ok(r) => r.for_access(&caller.access),
            Err(e) => return bad_request(e.code, e.message),
        };
        let now = Utc::now().timestamp();
        let id = new_report_id(now, shared::reports::random_u64());
        let rec = self
            .service
            .new_record(id, &request, &caller.name, "api", now);
        if let Err(e) = self.service.store.put(&rec).await {
            return unavailable(e);
        }
        let work = self.service.run(rec.clone(), || Utc::now().timestamp());
        match tokio::time::timeout(self.inline, work).await {
            Ok(done) => self.answer(&done, Some(request.expires_in)).await,
            Err(_) => {
                // Too long for the request: the jobs function finishes it (table stream).
                let mut queued = rec;
                queued.status = ReportStatus::Queued;
                if let Err(e) = self.service.store.put(&queued).await {
                    return unavailable(e);
                }
                json_response(StatusCode::ACCEPTED, &summary(&queued))
            }
        }
    }

    async fn get(&self, id: &str, query: &[(&str, String)], access: &Access) -> Resp {
        let cap = self
            .service
            .settings
            .links
            .max_seconds
            .min(SIGV4_MAX_SECONDS);
        let expires_in = match query.iter().find(|(k, _)| *k == "expires_in") {
            None => None,
            Some((_, v)) => match query_int(v) {
                Some(n) if (60..=cap).contains(&n) => Some(n),
                _ => {
                    return bad_request(
                        "bad_expires_in",
                        format!("expires_in must be a whole number from 60 to {cap} seconds"),
                    );
                }
            },
        };
        match self.service.store.get(id).await {
            // A report of WABAs the caller may not all see is answered as absent.
            Ok(Some(rec)) if access.covers(&rec.access()) => self.answer(&rec, expires_in).await,
            Ok(_) => error(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("report {id} not found"),
            ),
            Err(e) => unavailable(e),
        }
    }

    async fn list(&self, query: &[(&str, String)], access: &Access) -> Resp {
        let limit = match query.iter().find(|(k, _)| *k == "limit") {
            None => 50,
            Some((_, v)) => match query_int(v) {
                Some(n) if (1..=100).contains(&n) => n as i32,
                _ => {
                    return bad_request(
                        "invalid_parameter",
                        "limit must be a whole number from 1 to 100",
                    );
                }
            },
        };
        match self.service.store.recent(limit).await {
            Ok(recs) => json_response(
                StatusCode::OK,
                &json!({"reports": recs
                    .iter()
                    .filter(|r| access.covers(&r.access()))
                    .map(summary)
                    .collect::<Vec<_>>()}),
            ),
            Err(e) => unavailable(e),
        }
    }

    /// The report object; a ready report gets a fresh link.
    async fn answer(&self, rec: &ReportRecord, expires_in: Option<i64>) -> Resp {
        let mut body = summary(rec);
        if rec.status == ReportStatus::Ready {
            match self.service.link(rec, expires_in).await {
                Ok(link) => {
                    body["url"] = json!(link.url);
                    body["expires_at"] = json!(iso(link.expires_at));
                }
                Err(e @ (ReportError::Store(_) | ReportError::Csv(_))) => return unavailable(e),
                Err(e) => return error(StatusCode::CONFLICT, "not_ready", e.to_string()),
            }
        }
        json_response(StatusCode::OK, &body)
    }
}

/// A report as the API shows it (without a link).
fn summary(rec: &ReportRecord) -> Value {
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
    use shared::config::{ReportsConfig, Secret};

    const TOKEN: &str = "unit-test-token-0123456789";

    /// The live API over an SDK config that points nowhere: every request these tests send
    /// is answered before storage is touched.
    fn api() -> ReportsApi<
        shared::adapters::dynamodb::reports::DynamoDbReportSource,
        shared::adapters::dynamodb::reports::DynamoDbReportStore,
        shared::adapters::s3_reports::S3ReportObjects,
    > {
        let config = ReportsConfig {
            table_name: "t".into(),
            bucket_name: "b".into(),
            auth: ApiAuth::Token(Secret::new(TOKEN)),
            waba_ids: Vec::new(),
            link_default_seconds: 900,
            link_max_seconds: 3_600,
            retention_days: 30,
            inline_seconds: 1,
            sla_seconds: 900,
            csv_bom: false,
            topic_arn: None,
            api_url: None,
        };
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .endpoint_url("http://127.0.0.1:9")
            .build();
        ReportsApi::from_sdk(&config, &sdk)
    }

    fn request(method: &str, uri: &str, content_type: Option<&str>, body: Body) -> Request {
        let mut b = lambda_http::http::Request::builder()
            .method(method)
            .uri(format!("https://reports.example{uri}"))
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
        if let Some(c) = content_type {
            b = b.header(header::CONTENT_TYPE, c);
        }
        b.body(body).unwrap()
    }

    async fn answer(req: Request) -> (u16, Value, Option<String>) {
        let resp = api().route(req).await;
        let allow = resp
            .headers()
            .get(header::ALLOW)
            .map(|v| v.to_str().unwrap().to_string());
        let body = match resp.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap(),
            _ => Value::Null,
        };
        (resp.status().as_u16(), body, allow)
    }

    async fn code(req: Request) -> (u16, String) {
        let (status, body, _) = answer(req).await;
        let code = body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        (status, code)
    }

    fn post(content_type: Option<&str>, body: &str) -> Request {
        request(
            "POST",
            "/v1/reports",
            content_type,
            Body::Text(body.to_string()),
        )
    }

    #[tokio::test]
    async fn credentials_come_first() {
        let mut req = request("TRACE", "/v1/reports/nope", None, Body::Empty);
        req.headers_mut().remove(header::AUTHORIZATION);
        let resp = api().route(req).await;
        assert_eq!(resp.status(), 401);
        assert_eq!(resp.headers()[header::WWW_AUTHENTICATE], "Bearer");
        let mut req = request("GET", "/v1/reports", None, Body::Empty);
        req.headers_mut()
            .insert(header::AUTHORIZATION, "Bearer wrong".parse().unwrap());
        assert_eq!(code(req).await, (401, "unauthorized".into()));
    }

    #[tokio::test]
    async fn other_methods_are_405_with_allow_and_other_paths_404() {
        for method in [
            "PUT", "DELETE", "PATCH", "TRACE", "OPTIONS", "HEAD", "QUERY",
        ] {
            let (status, _, allow) =
                answer(request(method, "/v1/reports", None, Body::Empty)).await;
            assert_eq!(
                (status, allow.as_deref()),
                (405, Some("GET, POST")),
                "{method}"
            );
            let (status, _, allow) = answer(request(
                method,
                "/v1/reports/1764000000-0123456789abcdef",
                None,
                Body::Empty,
            ))
            .await;
            assert_eq!((status, allow.as_deref()), (405, Some("GET")), "{method}");
        }
        for path in ["/v1/reports/a/b", "/v1/reportsx", "/v1/other"] {
            let req = request("GET", path, None, Body::Empty);
            assert_eq!(code(req).await, (404, "not_found".into()), "{path}");
        }
        for id in [
            "",
            "nope",
            "1764000000-0123456789ABCDEF",
            "1764000000-0123456789abcdef0",
        ] {
            let req = request("GET", &format!("/v1/reports/{id}"), None, Body::Empty);
            assert_eq!(code(req).await, (400, "invalid_parameter".into()), "{id:?}");
        }
    }

    #[tokio::test]
    async fn query_strings_are_strict() {
        let get = |uri: &str| request("GET", uri, None, Body::Empty);
        let id = "/v1/reports/1764000000-0123456789abcdef";
        for (uri, expected) in [
            ("/v1/reports?limt=5", "unknown_parameter"),
            ("/v1/reports?limit", "invalid_parameter"),
            ("/v1/reports?limit=", "invalid_parameter"),
            ("/v1/reports?limit=5&limit=5", "invalid_parameter"),
            ("/v1/reports?limit=0", "invalid_parameter"),
            ("/v1/reports?limit=101", "invalid_parameter"),
            ("/v1/reports?limit=+5", "invalid_parameter"),
            ("/v1/reports?limit=5.0", "invalid_parameter"),
            ("/v1/reports?limit=%FF", "invalid_parameter"),
        ] {
            assert_eq!(code(get(uri)).await, (400, expected.into()), "{uri}");
        }
        for (query, expected) in [
            ("?expires_in=59", "bad_expires_in"),
            ("?expires_in=3601", "bad_expires_in"),
            ("?expires_in=six", "bad_expires_in"),
            ("?expires_in=", "invalid_parameter"),
            ("?expires_in=60&expires_in=60", "invalid_parameter"),
            ("?limit=5", "unknown_parameter"),
        ] {
            let uri = format!("{id}{query}");
            assert_eq!(code(get(&uri)).await, (400, expected.into()), "{uri}");
        }
        let req = request(
            "POST",
            "/v1/reports?kind=volume",
            Some("application/json"),
            Body::Text("{}".into()),
        );
        assert_eq!(code(req).await, (400, "unknown_parameter".into()));
    }

    #[tokio::test]
    async fn bodies_get_specific_codes() {
        let good = r#"{"kind":"volume","from":"2026-11-01","to":"2026-11-07"}"#;
        for (content_type, body, expected) in [
            (None, good, "unsupported_media_type"),
            (Some("text/plain"), good, "unsupported_media_type"),
            (Some("application/jsonx"), good, "unsupported_media_type"),
            (Some("application/json"), "", "malformed_body"),
            (Some("application/json"), "{\"kind\":", "malformed_body"),
            (Some("application/json"), "[1]", "malformed_body"),
            (
                Some("application/json; charset=utf-8"),
                r#"{"kind":"volume","from":"2026-11-01","to":"2026-11-07","x":1}"#,
                "unknown_field",
            ),
            (
                Some("Application/JSON"),
                r#"{"kind":"nope","from":"2026-11-01","to":"2026-11-07"}"#,
                "unknown_kind",
            ),
            (
                Some("application/json"),
                r#"{"kind":"spend","from":"2026-11-08","to":"2026-11-07"}"#,
                "from_after_to",
            ),
            (
                Some("application/json"),
                r#"{"kind":"spend","from":"2026-11-01","to":"2026-11-07","group_by":"hour"}"#,
                "bad_group_by",
            ),
        ] {
            let req = post(content_type, body);
            assert_eq!(
                code(req).await,
                (400, expected.into()),
                "{content_type:?} {body}"
            );
        }
        let req = request(
            "POST",
            "/v1/reports",
            Some("application/json"),
            Body::Binary(vec![b'{', 0xff, b'}']),
        );
        assert_eq!(code(req).await, (400, "malformed_body".into()));
    }

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
