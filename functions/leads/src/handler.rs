//! The leads API's router and auth; one module per resource does the work (`leads`: list, show, update; `imports`: import and export; `consent`; `check`: the
//! consent check; `conversions`). Storage is the `LeadStore` port and uploads the
//! `ImportFiles` port: `Leads::from_sdk` (called by `main.rs` at cold start) wires
//! `DynamoDbLeadStore` and `S3ImportFiles`, the handler tests in-memory ones; rules are in
//! `shared::domain::{leads, consent_check}`.
//!
//! Auth: no anonymous access. In AWS (`AUTH_MODE=jwt`) API Gateway's JWT authorizer has
//! already verified the token; the caller is the token's `sub`, and a request without
//! authorizer claims is refused. Locally (`AUTH_MODE=token`) a bearer token from config
//! (`API_TOKEN`), compared in constant time.

use chrono::{DateTime, Utc};
use lambda_http::Request;
use lambda_http::http::{Method, StatusCode, header};
use shared::adapters::dynamodb::leads::DynamoDbLeadStore;
use shared::adapters::s3_imports::S3ImportFiles;
use shared::domain::access::{Access, AccessError, Caller};
use shared::ports::{ImportFiles, LeadStore};

pub(crate) use crate::answers::*;

pub use shared::config::LeadsConfig;

/// The leads API over a lead store `S` and the import uploads `F` (the defaults are the
/// deployed adapters).
pub struct Leads<S = DynamoDbLeadStore, F = S3ImportFiles> {
    pub(crate) store: S,
    pub(crate) config: LeadsConfig,
    /// Where large imports are uploaded (`BUCKET_NAME`); `None`: asynchronous imports are
    /// not offered.
    pub(crate) files: Option<F>,
}

/// The largest CSV import accepted in one request (bytes, data rows).
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_IMPORT_ROWS: usize = 50_000;

impl Leads {
    /// Cold start: the DynamoDB store and, with a bucket, S3 uploads.
    pub fn from_sdk(config: LeadsConfig, sdk: &aws_config::SdkConfig) -> Self {
        let client = shared::adapters::aws::dynamodb_client(sdk, None);
        let store = DynamoDbLeadStore::new(client, &config.table_name);
        let files = config.bucket_name.as_ref().map(|b| {
            S3ImportFiles::new(
                shared::adapters::aws::s3_client(sdk),
                b,
                sdk.credentials_provider(),
            )
        });
        Self {
            store,
            config,
            files,
        }
    }
}

impl<S: LeadStore> Leads<S> {
    /// Without asynchronous imports.
    pub fn new(store: S, config: LeadsConfig) -> Self {
        Self {
            store,
            config,
            files: None,
        }
    }
}

impl<S: LeadStore, F: ImportFiles> Leads<S, F> {
    /// Over any store and uploads (`files`: `None` when asynchronous imports are off).
    pub fn with_files(store: S, config: LeadsConfig, files: Option<F>) -> Self {
        Self {
            store,
            config,
            files,
        }
    }

    /// The caller: `Ok(None)` when not authenticated, `Err` when the token may not use
    /// the API (scope, tenant).
    fn caller(&self, req: &Request) -> Result<Option<Caller>, AccessError> {
        shared::http::caller(&self.config.auth, req)
    }

    /// `Some(404)` when the caller may not see the person `id` names (as if absent),
    /// `Some(503)` when that cannot be read, `None` to go on.
    pub(crate) async fn hidden(&self, id: &str, access: &Access) -> Option<Resp> {
        match self.store.visible(id, access).await {
            Ok(true) => None,
            Ok(false) => Some(not_found(id)),
            Err(e) => Some(from_leads_error(e)),
        }
    }

    /// For a caller restricted to some WABAs: `None` when the business number is one of
    /// theirs, else the refusal (403 `forbidden_phone_number`; a number no message has
    /// named yet cannot be placed, so it is refused too).
    pub(crate) async fn foreign_number(
        &self,
        phone_number_id: &str,
        access: &Access,
    ) -> Option<Resp> {
        match shared::imports::number_allowed(&self.store, phone_number_id, access).await {
            Ok(true) => None,
            Ok(false) => Some(error(
                StatusCode::FORBIDDEN,
                "forbidden_phone_number",
                format!(
                    "phone_number_id {phone_number_id} is not a number of your WABAs (or no message has named it yet)"
                ),
            )),
            Err(e) => Some(from_leads_error(e)),
        }
    }

    pub async fn handle(&self, req: Request) -> Result<Resp, std::convert::Infallible> {
        Ok(self.route(req, Utc::now()).await)
    }

    pub async fn route(&self, req: Request, now: DateTime<Utc>) -> Resp {
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
        let actor = caller.name.as_str();
        let access = &caller.access;
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
            (Method::GET, ["v1", "leads"]) => self.list(&query, access, now).await,
            (Method::GET, ["v1", "leads", "export"]) => self.export(&query, access, now).await,
            (Method::POST, ["v1", "leads", "import"]) => {
                self.import(&req, &query, &caller, now).await
            }
            (Method::POST, ["v1", "leads", "imports"]) => {
                self.start_import_job(&req, &query, &caller, now).await
            }
            (Method::GET, ["v1", "leads", "imports", id]) => {
                self.import_job(id, &query, &caller).await
            }
            (_, ["v1", "leads", "imports"] | ["v1", "leads", "import"]) => {
                not_allowed(req.method(), &path, "POST")
            }
            (_, ["v1", "leads", "export"]) => not_allowed(req.method(), &path, "GET"),
            (Method::POST, ["v1", "leads", id, "conversions"]) if valid_id(id) => {
                match self.hidden(id, access).await {
                    Some(r) => r,
                    None => self.conversion(id, &req, now).await,
                }
            }
            (Method::POST, ["v1", "consent"]) => self.consent(&req, &caller, now).await,
            (_, ["v1", "leads", id] | ["v1", "leads", id, "conversions"]) if !valid_id(id) => {
                error(
                    StatusCode::BAD_REQUEST,
                    "invalid_parameter",
                    "lead_id is 1 to 160 letters, digits, '.', '_', ':' or '-'",
                )
            }
            (Method::GET, ["v1", "leads", id]) if valid_id(id) => self.show(id, access).await,
            (Method::PATCH, ["v1", "leads", id]) if valid_id(id) => {
                match self.hidden(id, access).await {
                    Some(r) => r,
                    None => self.update(id, &req, actor, now).await,
                }
            }
            (Method::GET, ["v1", "consent", "check"]) => {
                self.consent_check(&query, access, now).await
            }
            (_, ["v1", "leads"] | ["v1", "consent", "check"]) => {
                not_allowed(req.method(), &path, "GET")
            }
            (_, ["v1", "leads", _, "conversions"] | ["v1", "consent"]) => {
                not_allowed(req.method(), &path, "POST")
            }
            (_, ["v1", "leads", "imports", _]) => not_allowed(req.method(), &path, "GET"),
            (_, ["v1", "leads", _]) => not_allowed(req.method(), &path, "GET, PATCH"),
            _ => error(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no route for {path}"),
            ),
        }
    }
}
