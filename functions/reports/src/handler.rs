//! The reports API's router and auth; one module per resource does the work (`create`:
//! `POST /v1/reports`; `read`: `GET /v1/reports/{id}` and `GET /v1/reports`; `links`: the
//! report object with a fresh link), over `shared::reports::ReportService`. Request
//! parsing is `shared::domain::report`; the answers are in `answers`.
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
//!
//! Storage is the report ports: `ReportsApi::from_sdk` (called by `main.rs` at cold start)
//! wires DynamoDB and S3, the handler tests (`tests/handler.rs`) the ports in memory.

use crate::answers::{Resp, bad_request, error, not_allowed, strict_query, valid_id};
use lambda_http::Request;
use lambda_http::http::{Method, StatusCode, header};
use shared::adapters::dynamodb::reports::{DynamoDbReportSource, DynamoDbReportStore};
use shared::adapters::s3_reports::S3ReportObjects;
use shared::config::{ApiAuth, ReportsConfig};
use shared::domain::access::{AccessError, Caller};
use shared::ports::{ReportObjects, ReportSource, ReportStore};
use shared::reports::ReportService;
use std::time::Duration;

/// The reports API over a report source `S`, record store `R` and file store `O` (the
/// defaults are the deployed adapters).
pub struct ReportsApi<S = DynamoDbReportSource, R = DynamoDbReportStore, O = S3ReportObjects> {
    pub service: ReportService<S, R, O>,
    pub auth: ApiAuth,
    /// How long `POST /v1/reports` works before handing the report over (`202`).
    pub inline: Duration,
}

impl ReportsApi {
    /// Cold start: the service over DynamoDB and S3.
    pub fn from_sdk(config: &ReportsConfig, sdk: &aws_config::SdkConfig) -> Self {
        Self::new(shared::reports::live_service(config, sdk), config)
    }
}

impl<S: ReportSource, R: ReportStore, O: ReportObjects> ReportsApi<S, R, O> {
    /// Over any service, with the auth and inline time of `config`.
    pub fn new(service: ReportService<S, R, O>, config: &ReportsConfig) -> Self {
        Self {
            service,
            auth: config.auth.clone(),
            inline: Duration::from_secs(config.inline_seconds),
        }
    }

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
}
