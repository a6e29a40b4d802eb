//! Routes, auth and JSON for the reports API; the work is `shared::reports::ReportService`.
//!
//! `POST /v1/reports` validates the request, records it and generates the report within
//! `REPORT_INLINE_SECONDS`: done → `200` with a fresh presigned link; not done → the record
//! is marked `queued` (the jobs function picks it up from the table stream and finishes it)
//! and the answer is `202` with `status: running`. `GET /v1/reports/{id}` answers the same
//! object, with a new link on every call for a ready report. `GET /v1/reports` lists the
//! newest reports (on demand and scheduled), without links.

use chrono::Utc;
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{Value, json};
use shared::config::{ApiAuth, ReportsConfig};
use shared::domain::report::{
    ReportRecord, ReportRequest, ReportRequestBody, ReportStatus, new_report_id,
};
use shared::ports::{ReportObjects, ReportSource, ReportStore};
use shared::reports::{ReportError, ReportService};
use std::time::Duration;
use subtle::ConstantTimeEq;

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
        shared::adapters::dynamodb_reports::DynamoDbReportSource,
        shared::adapters::dynamodb_reports::DynamoDbReportStore,
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
    fn caller(&self, req: &Request) -> Option<String> {
        match &self.auth {
            ApiAuth::Jwt => match req.request_context_ref() {
                Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                    .authorizer
                    .as_ref()
                    .and_then(|a| a.jwt.as_ref())
                    .and_then(|j| j.claims.get("sub").cloned()),
                _ => None,
            },
            ApiAuth::Token(token) => {
                let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
                let presented = value.strip_prefix("Bearer ")?;
                bool::from(presented.as_bytes().ct_eq(token.expose().as_bytes()))
                    .then(|| "api-token".to_string())
            }
        }
    }

    pub async fn handle(&self, req: Request) -> Result<Resp, std::convert::Infallible> {
        Ok(self.route(req).await)
    }

    pub async fn route(&self, req: Request) -> Resp {
        let Some(actor) = self.caller(&req) else {
            let mut r = error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or invalid credentials: send Authorization: Bearer <token>",
            );
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("valid"));
            return r;
        };
        let path = req.uri().path().trim_end_matches('/').to_string();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let query: Vec<(String, String)> = req
            .uri()
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        match (req.method().clone(), segments.as_slice()) {
            (Method::POST, ["v1", "reports"]) => self.create(&req, &actor).await,
            (Method::GET, ["v1", "reports"]) => self.list(&query).await,
            (_, ["v1", "reports"]) => not_allowed("GET, POST"),
            (Method::GET, ["v1", "reports", id]) if valid_id(id) => self.get(id, &query).await,
            (Method::GET, ["v1", "reports", _]) => error(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                "a report id is <10 digits>-<16 lowercase hex digits>",
            ),
            (_, ["v1", "reports", _]) => not_allowed("GET"),
            _ => error(StatusCode::NOT_FOUND, "not_found", "no such route"),
        }
    }

    fn body(req: &Request) -> Result<ReportRequestBody, Box<Resp>> {
        let bytes: &[u8] = match req.body() {
            Body::Empty => b"",
            Body::Text(t) => t.as_bytes(),
            Body::Binary(b) => b,
            _ => b"",
        };
        serde_json::from_slice(bytes).map_err(|e| {
            Box::new(error(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                format!("the body must be a JSON report request: {e}"),
            ))
        })
    }

    async fn create(&self, req: &Request, actor: &str) -> Resp {
        let body = match Self::body(req) {
            Ok(b) => b,
            Err(r) => return *r,
        };
        let request = match ReportRequest::parse(body, self.service.settings.links) {
            Ok(r) => r,
            Err(e) => return error(StatusCode::BAD_REQUEST, e.code, e.message),
        };
        let now = Utc::now().timestamp();
        let id = new_report_id(now, shared::reports::random_u64());
        let rec = self.service.new_record(id, &request, actor, "api", now);
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

    async fn get(&self, id: &str, query: &[(String, String)]) -> Resp {
        let expires_in = match query.iter().find(|(k, _)| k == "expires_in") {
            None => None,
            Some((_, v)) => match v.parse::<i64>() {
                Ok(n) if (60..=self.service.settings.links.max_seconds).contains(&n) => Some(n),
                _ => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "bad_expires_in",
                        format!(
                            "expires_in must be between 60 and {} seconds",
                            self.service.settings.links.max_seconds
                        ),
                    );
                }
            },
        };
        match self.service.store.get(id).await {
            Ok(Some(rec)) => self.answer(&rec, expires_in).await,
            Ok(None) => error(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("report {id} not found"),
            ),
            Err(e) => unavailable(e),
        }
    }

    async fn list(&self, query: &[(String, String)]) -> Resp {
        let limit = match query.iter().find(|(k, _)| k == "limit") {
            None => 50,
            Some((_, v)) => match v.parse::<i32>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "invalid_parameter",
                        "limit must be between 1 and 100",
                    );
                }
            },
        };
        match self.service.store.recent(limit).await {
            Ok(recs) => json_response(
                StatusCode::OK,
                &json!({"reports": recs.iter().map(summary).collect::<Vec<_>>()}),
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
