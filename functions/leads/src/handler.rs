//! Routes, auth and JSON for the leads API; storage is `DynamoDbLeadStore`, rules are in
//! `shared::domain::{leads, consent_check}`.
//!
//! Auth: no anonymous access. In AWS (`AUTH_MODE=jwt`) API Gateway's JWT authorizer has
//! already verified the token; the caller is the token's `sub`, and a request without
//! authorizer claims is refused. Locally (`AUTH_MODE=token`) a bearer token from config
//! (`API_TOKEN`), compared in constant time.

use crate::imports::{idempotency_key, import_result};
use chrono::{DateTime, Utc};
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{Value, json};
use shared::adapters::dynamodb::leads::{
    ConsentRecord, Conversion, DynamoDbLeadStore, LeadPatch, LeadsError,
};
use shared::adapters::s3_imports::S3ImportFiles;
use shared::domain::access::{Access, AccessError, Caller};
use shared::domain::capi::ForwardState;
use shared::domain::consent_check::{CheckInput, MessageCategory, check};
use shared::domain::leads::{
    FilterError, LeadFilter, check_custom_fields, check_tags, export_csv, parse_import,
};

pub use shared::config::LeadsConfig;

pub struct Leads {
    pub(crate) store: DynamoDbLeadStore,
    pub(crate) config: LeadsConfig,
    /// Where large imports are uploaded (`BUCKET_NAME`); `None`: asynchronous imports are
    /// not offered.
    pub(crate) files: Option<S3ImportFiles>,
}

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
fn not_allowed(method: &Method, path: &str, allow: &'static str) -> Resp {
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
fn filter_error(e: &FilterError) -> Resp {
    let code = match e {
        FilterError::Unknown { .. } => "unknown_parameter",
        _ => "invalid_parameter",
    };
    error(StatusCode::BAD_REQUEST, code, e.to_string())
}

/// The WABA an import files its leads under: the `waba_id` query parameter (one of the
/// caller's), else the caller's only WABA; `None` for a caller who sees every WABA and names
/// none (the leads are then visible to such callers only). No other parameter is accepted.
pub(crate) fn import_waba(
    query: &[(String, String)],
    access: &Access,
) -> Result<Option<String>, Box<Resp>> {
    let mut waba = None;
    for (k, v) in query {
        if k != "waba_id" {
            return Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                "unknown_parameter",
                format!("{k}: an import takes only the waba_id parameter"),
            )));
        }
        if waba.is_some() || !valid_id(v) {
            return Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                "waba_id is given once, as an id (letters, digits, . _ : -)",
            )));
        }
        waba = Some(v.clone());
    }
    match (waba, access) {
        (Some(w), a) if !a.allows(&w) => Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "forbidden_waba",
            format!("waba_id {w} is not one of your WABAs"),
        ))),
        (Some(w), _) => Ok(Some(w)),
        (None, Access::All) => Ok(None),
        (None, a) => match a.single() {
            Some(w) => Ok(Some(w.to_string())),
            None => Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                "waba_required",
                "you may see several WABAs: name the one to file the leads under (?waba_id=)",
            ))),
        },
    }
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

fn parse_time(name: &str, v: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>, Box<Resp>> {
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

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentBody {
    user: String,
    phone_number_id: String,
    action: String,
    categories: Vec<String>,
    source: String,
    #[serde(default)]
    proof: Option<String>,
    #[serde(default)]
    at: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConversionBody {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    value: Option<f64>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    idempotency_key: Option<String>,
}

/// The largest conversion value accepted.
const MAX_VALUE: f64 = 1e12;

const CONSENT_SOURCES: [&str; 7] = ["api", "web_form", "qr", "in_app", "sms", "store", "other"];
const CONVERSION_TYPES: [&str; 5] = [
    "purchase",
    "booking",
    "lead_submitted",
    "payment_confirmed",
    "other",
];

/// The largest CSV import accepted in one request (bytes, data rows).
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_IMPORT_ROWS: usize = 50_000;

pub(crate) fn valid_id(id: &str) -> bool {
    shared::domain::identity::valid_id(id)
}

impl Leads {
    /// Cold start.
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

    pub fn new(store: DynamoDbLeadStore, config: LeadsConfig) -> Self {
        Self {
            store,
            config,
            files: None,
        }
    }

    /// The caller: `Ok(None)` when not authenticated, `Err` when the token may not use
    /// the API (scope, tenant).
    fn caller(&self, req: &Request) -> Result<Option<Caller>, AccessError> {
        let claims = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .map(|j| &j.claims),
            _ => None,
        };
        let authorization = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        self.config.auth.caller(claims, authorization)
    }

    /// `Some(404)` when the caller may not see the person `id` names (as if absent),
    /// `Some(503)` when that cannot be read, `None` to go on.
    async fn hidden(&self, id: &str, access: &Access) -> Option<Resp> {
        match self.store.visible(id, access).await {
            Ok(true) => None,
            Ok(false) => Some(not_found(id)),
            Err(e) => Some(from_leads_error(e)),
        }
    }

    /// For a caller restricted to some WABAs: `None` when the business number is one of
    /// theirs, else the refusal (403 `forbidden_phone_number`; a number no message has
    /// named yet cannot be placed, so it is refused too).
    async fn foreign_number(&self, phone_number_id: &str, access: &Access) -> Option<Resp> {
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
            (Method::GET, ["v1", "leads", id]) if valid_id(id) => match self.store.get(id).await {
                Ok((lead, _)) if !lead.visible_to(access) => not_found(id),
                Ok((lead, timeline)) => {
                    json_response(StatusCode::OK, &json!({"lead": lead, "timeline": timeline}))
                }
                Err(e) => from_leads_error(e),
            },
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

    async fn list(&self, query: &[(String, String)], access: &Access, now: DateTime<Utc>) -> Resp {
        let filter = match LeadFilter::from_query(query) {
            Ok(f) => LeadFilter {
                access: access.clone(),
                ..f
            },
            Err(e) => return filter_error(&e),
        };
        if let Err(e) = filter.check_stage(&self.config.lifecycle) {
            return filter_error(&e);
        }
        match self.store.list(&filter, now).await {
            Ok((leads, next)) => json_response(
                StatusCode::OK,
                &json!({"leads": leads, "next_cursor": next}),
            ),
            Err(e) => from_leads_error(e),
        }
    }

    async fn update(&self, id: &str, req: &Request, actor: &str, now: DateTime<Utc>) -> Resp {
        let patch: LeadPatch = match json_body(req) {
            Ok(p) => p,
            Err(r) => return *r,
        };
        if patch.stage.is_none()
            && patch.owner.is_none()
            && patch.tags.is_none()
            && patch.custom_fields.is_none()
        {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "nothing_to_change",
                "name at least one of stage, owner, tags, custom_fields",
            );
        }
        if let Some(Some(owner)) = &patch.owner
            && (owner.trim().is_empty() || owner.eq_ignore_ascii_case("none") || owner.len() > 128)
        {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_owner",
                "owner is 1 to 128 characters and not \"none\" (use null to unassign)",
            );
        }
        if let Some(Err(m)) = patch
            .tags
            .as_ref()
            .map(|t| check_tags(&shared::domain::leads::normalize_tags(t)))
        {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", m);
        }
        if let Some(Err(m)) = patch.custom_fields.as_ref().map(check_custom_fields) {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", m);
        }
        match self
            .store
            .update(id, &patch, actor, &self.config.lifecycle, now)
            .await
        {
            Ok(lead) => json_response(StatusCode::OK, &json!({"lead": lead})),
            Err(e) => from_leads_error(e),
        }
    }

    async fn export(
        &self,
        query: &[(String, String)],
        access: &Access,
        now: DateTime<Utc>,
    ) -> Resp {
        if let Some((k, _)) = query.iter().find(|(k, _)| k == "limit" || k == "cursor") {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_filter",
                format!("{k} does not apply to the export (it returns every matching lead)"),
            );
        }
        let filter = match LeadFilter::from_query(query) {
            Ok(f) => LeadFilter {
                access: access.clone(),
                ..f
            },
            Err(e) => return filter_error(&e),
        };
        if let Err(e) = filter.check_stage(&self.config.lifecycle) {
            return filter_error(&e);
        }
        let leads = match self.store.all(&filter, now).await {
            Ok(l) => l,
            Err(e) => return from_leads_error(e),
        };
        let mut out = Vec::new();
        if let Err(e) = export_csv(leads.iter(), &mut out) {
            tracing::error!(error = %e, "export not written");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "export_failed",
                "the export could not be written; retry later",
            );
        }
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
            .body(Body::Text(String::from_utf8_lossy(&out).into_owned()))
            .expect("valid response")
    }

    async fn import(
        &self,
        req: &Request,
        query: &[(String, String)],
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Resp {
        let waba = match import_waba(query, &caller.access) {
            Ok(w) => w,
            Err(r) => return *r,
        };
        if !content_type_is(req, "text/csv") {
            return error(
                StatusCode::BAD_REQUEST,
                "unsupported_media_type",
                "send the file as text/csv",
            );
        }
        let bytes: &[u8] = req.body().as_ref();
        if bytes.len() > MAX_IMPORT_BYTES {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "the file is {} bytes; an import takes at most {MAX_IMPORT_BYTES} bytes (split it)",
                    bytes.len()
                ),
            );
        }
        let outcome = parse_import(bytes, &self.config.lifecycle, now);
        let rows = outcome.rows.len() + outcome.errors.iter().filter(|e| e.line > 1).count();
        if rows > MAX_IMPORT_ROWS {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "too_many_rows",
                format!(
                    "the file has {rows} rows; an import takes at most {MAX_IMPORT_ROWS} (split it); nothing was applied"
                ),
            );
        }
        if outcome.rows.is_empty()
            && let Some(header_error) = outcome.errors.iter().find(|e| e.line <= 1)
        {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_header",
                header_error.message.clone(),
            );
        }
        let key = match idempotency_key(req) {
            Ok(k) => k,
            Err(r) => return *r,
        };
        match key {
            Some(key) => {
                self.import_once(&key, bytes, outcome, waba, caller, now)
                    .await
            }
            None => match shared::imports::apply_rows(
                &self.store,
                &self.config.lifecycle,
                outcome,
                &caller.access,
                waba.as_deref(),
                &caller.name,
                now,
            )
            .await
            {
                Ok((counts, errors)) => json_response(
                    StatusCode::OK,
                    &import_result(
                        counts.imported as u64,
                        counts.updated as u64,
                        &errors,
                        false,
                    ),
                ),
                Err(e) => from_leads_error(e),
            },
        }
    }

    async fn consent(&self, req: &Request, caller: &Caller, now: DateTime<Utc>) -> Resp {
        let actor = caller.name.as_str();
        let body: ConsentBody = match json_body(req) {
            Ok(b) => b,
            Err(r) => return *r,
        };
        let invalid = |m: String| error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_consent", m);
        if !valid_id(&body.user) || !valid_id(&body.phone_number_id) {
            return invalid("user and phone_number_id are ids (letters, digits, . _ : -)".into());
        }
        if let Some(r) = self
            .foreign_number(&body.phone_number_id, &caller.access)
            .await
        {
            return r;
        }
        if !matches!(body.action.as_str(), "opt_in" | "opt_out") {
            return invalid(format!(
                "action {:?}: expected opt_in or opt_out",
                body.action
            ));
        }
        let mut categories = body.categories.clone();
        categories.sort();
        categories.dedup();
        if categories.is_empty()
            || categories.len() != body.categories.len()
            || categories
                .iter()
                .any(|c| c != "marketing" && c != "utility")
        {
            return invalid("categories: one or both of marketing, utility, each once".into());
        }
        if !CONSENT_SOURCES.contains(&body.source.as_str()) {
            return invalid(format!(
                "source {:?}: expected one of {}",
                body.source,
                CONSENT_SOURCES.join(", ")
            ));
        }
        let proof = body.proof.filter(|p| !p.trim().is_empty());
        if body.action == "opt_in" && proof.is_none() {
            return invalid("an opt-in needs its proof (the text the user agreed to, the form, the QR campaign)".into());
        }
        if proof.as_ref().is_some_and(|p| p.chars().count() > 2000) {
            return invalid("proof is at most 2000 characters".into());
        }
        let at = match parse_time("at", body.at.as_deref(), now) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let record = ConsentRecord {
            user: body.user,
            phone_number_id: body.phone_number_id,
            action: body.action,
            categories,
            source: body.source,
            proof,
            at,
            recorded_by: actor.to_string(),
            via: "api",
        };
        match self.store.record_consent(&record).await {
            Ok((event, state)) => json_response(
                StatusCode::CREATED,
                &json!({"event": event, "state": state}),
            ),
            Err(e) => from_leads_error(e),
        }
    }

    async fn conversion(&self, lead_id: &str, req: &Request, now: DateTime<Utc>) -> Resp {
        let body: ConversionBody = match json_body(req) {
            Ok(b) => b,
            Err(r) => return *r,
        };
        let invalid = |m: String| error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_conversion", m);
        let header_key = req
            .headers()
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let key = match (header_key, body.idempotency_key) {
            (Some(h), Some(b)) if h != b => {
                return invalid("the Idempotency-Key header and idempotency_key differ".into());
            }
            (Some(k), _) | (None, Some(k)) => k,
            (None, None) => {
                return invalid(
                    "an idempotency key is required (Idempotency-Key header or idempotency_key)"
                        .into(),
                );
            }
        };
        if key.is_empty() || key.len() > 128 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return invalid("the idempotency key is 1 to 128 printable ASCII characters".into());
        }
        if !CONVERSION_TYPES.contains(&body.kind.as_str()) {
            return invalid(format!(
                "type {:?}: expected one of {}",
                body.kind,
                CONVERSION_TYPES.join(", ")
            ));
        }
        if body
            .value
            .is_some_and(|v| !v.is_finite() || !(0.0..=MAX_VALUE).contains(&v))
        {
            return invalid(format!("value is a number from 0 to {MAX_VALUE}"));
        }
        // Six decimals: every amount in any currency, and always a number DynamoDB stores.
        let value = body.value.map(|v| (v * 1e6).round() / 1e6);
        if let Some(c) = &body.currency
            && !(c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return invalid(format!(
                "currency {c:?} is not an ISO 4217 code such as USD"
            ));
        }
        if body.value.is_some() && body.currency.is_none() {
            return invalid("a value needs its currency".into());
        }
        let at = match parse_time("at", body.at.as_deref(), now) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        // The request as sent: a retry that leaves `at` out is the same request later.
        let fingerprint = format!(
            "{}|{}|{}|{}",
            body.kind,
            body.value.map_or(String::new(), |v| v.to_string()),
            body.currency.as_deref().unwrap_or(""),
            body.at
                .as_deref()
                .map_or(String::new(), |_| at.timestamp().to_string())
        );
        let conversion = Conversion {
            conversion_id: format!("{lead_id}:{key}"),
            kind: body.kind,
            value,
            currency: body.currency,
            at,
            idempotency_key: key,
            recorded_at: now,
            forwarded: ForwardState::initial(self.config.forward_conversions)
                .as_str()
                .into(),
            forward_error: None,
        };
        match self
            .store
            .record_conversion(lead_id, &conversion, &fingerprint)
            .await
        {
            // Sending a conversion that failed to forward again is how it is retried.
            Ok((mut c, true)) if c.forwarded == ForwardState::Failed.as_str() => {
                match self
                    .store
                    .transition_forward(
                        lead_id,
                        &c.idempotency_key,
                        ForwardState::Failed,
                        ForwardState::Pending,
                        None,
                    )
                    .await
                {
                    Ok(_) => {
                        c.forwarded = ForwardState::Pending.as_str().into();
                        c.forward_error = None;
                        json_response(StatusCode::OK, &json!({"conversion": c, "replayed": true}))
                    }
                    Err(e) => from_leads_error(e),
                }
            }
            Ok((c, replayed)) => json_response(
                if replayed {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                },
                &json!({"conversion": c, "replayed": replayed}),
            ),
            Err(e) => from_leads_error(e),
        }
    }

    async fn consent_check(
        &self,
        query: &[(String, String)],
        access: &Access,
        now: DateTime<Utc>,
    ) -> Resp {
        let mut user = None;
        let mut number = None;
        let mut category = None;
        let mut at = None;
        for (k, v) in query {
            let slot = match k.as_str() {
                "user" => &mut user,
                "phone_number_id" => &mut number,
                "category" => &mut category,
                "at" => &mut at,
                other => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "unknown_parameter",
                        format!("unknown parameter {other:?}"),
                    );
                }
            };
            if slot.replace(v.clone()).is_some() {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_parameter",
                    format!("{k} given twice"),
                );
            }
        }
        let (Some(user), Some(number), Some(category)) = (user, number, category) else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                "user, phone_number_id and category are required",
            );
        };
        if !valid_id(&user) || !valid_id(&number) {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                "invalid user or phone_number_id",
            );
        }
        if let Some(r) = self.foreign_number(&number, access).await {
            return r;
        }
        let category: MessageCategory = match category.parse() {
            Ok(c) => c,
            Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_parameter", format!("{e}")),
        };
        let now = match at.map(|a| DateTime::parse_from_rfc3339(&a)) {
            None => now,
            Some(Ok(t)) => t.with_timezone(&Utc),
            Some(Err(e)) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_parameter",
                    format!("at: {e}"),
                );
            }
        };
        // Consent is recorded per category; service replies have none of their own.
        let consent_category = match category {
            MessageCategory::Marketing => "marketing",
            _ => "utility",
        };
        let (consent, state, last_inbound_at, entry_point) = match self
            .store
            .consent_facts(&user, &number, consent_category)
            .await
        {
            Ok(f) => f,
            Err(e) => return from_leads_error(e),
        };
        let decision = check(&CheckInput {
            category,
            consent,
            last_inbound_at,
            entry_point,
            now,
        });
        let mut body = json!(decision);
        // The API's shape: `pricing.free_because` (null unless free) and the consent state
        // the answer rests on.
        let why = body["pricing"]
            .as_object_mut()
            .and_then(|p| p.remove("why"))
            .unwrap_or(Value::Null);
        body["pricing"]["free_because"] = why;
        body["consent"] = match category {
            MessageCategory::Marketing | MessageCategory::Utility => json!(state),
            _ => Value::Null,
        };
        json_response(StatusCode::OK, &body)
    }
}
