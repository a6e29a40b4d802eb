//! Routes, auth and JSON for the leads API; storage is `DynamoDbLeadStore`, rules are in
//! `shared::domain::{leads, consent_check}`.
//!
//! Auth: no anonymous access. In AWS (`AUTH_MODE=jwt`) API Gateway's JWT authorizer has
//! already verified the token; the caller is the token's `sub`, and a request without
//! authorizer claims is refused. Locally (`AUTH_MODE=token`) a bearer token from config
//! (`API_TOKEN`), compared in constant time.

use chrono::{DateTime, Utc};
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{Value, json};
use shared::adapters::dynamodb_leads::{DynamoDbLeadStore, LeadPatch, LeadsError};
use shared::config::{ConfigError, Secret};
use shared::domain::consent_check::{CheckInput, MessageCategory, check};
use shared::domain::leads::{LeadFilter, Lifecycle};
use subtle::ConstantTimeEq;

#[derive(Debug, Clone)]
pub enum Auth {
    /// API Gateway verified a JWT; trust its claims.
    Jwt,
    /// A static bearer token (local stack).
    Token(Secret),
}

#[derive(Debug, Clone)]
pub struct LeadsConfig {
    pub table_name: String,
    pub auth: Auth,
    pub lifecycle: Lifecycle,
}

impl LeadsConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// `TABLE_NAME`, `AUTH_MODE` (`jwt` | `token`), `API_TOKEN` (token mode), `LIFECYCLE`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let auth = match get("AUTH_MODE").as_deref().unwrap_or("token") {
            "jwt" => Auth::Jwt,
            "token" => {
                let token = get("API_TOKEN").ok_or(ConfigError::Missing("API_TOKEN"))?;
                if token.len() < 16 {
                    return Err(ConfigError::Invalid {
                        name: "API_TOKEN",
                        reason: "use at least 16 characters".into(),
                    });
                }
                Auth::Token(Secret::new(token))
            }
            other => {
                return Err(ConfigError::Invalid {
                    name: "AUTH_MODE",
                    reason: format!("{other:?}: expected jwt or token"),
                });
            }
        };
        let lifecycle = match get("LIFECYCLE") {
            Some(v) => Lifecycle::from_config(&v).map_err(|e| ConfigError::Invalid {
                name: "LIFECYCLE",
                reason: e.to_string(),
            })?,
            None => Lifecycle::default(),
        };
        Ok(Self {
            table_name: get("TABLE_NAME").ok_or(ConfigError::Missing("TABLE_NAME"))?,
            auth,
            lifecycle,
        })
    }
}

pub struct Leads {
    store: DynamoDbLeadStore,
    config: LeadsConfig,
}

type Resp = Response<Body>;

fn json_response(status: StatusCode, body: &Value) -> Resp {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body.to_string()))
        .expect("valid response")
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Resp {
    json_response(
        status,
        &json!({"error": {"code": code, "message": message.into()}}),
    )
}

fn from_leads_error(e: LeadsError) -> Resp {
    match e {
        LeadsError::NotFound(id) => error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("lead {id} not found"),
        ),
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
        LeadsError::Invalid(m) => error(StatusCode::BAD_REQUEST, "invalid_request", m),
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

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
}

impl Leads {
    pub fn from_sdk(config: LeadsConfig, sdk: &aws_config::SdkConfig) -> Self {
        let client = shared::adapters::aws::dynamodb_client(sdk, None);
        Self::new(DynamoDbLeadStore::new(client, &config.table_name), config)
    }

    pub fn new(store: DynamoDbLeadStore, config: LeadsConfig) -> Self {
        Self { store, config }
    }

    /// The caller's name for history (`by`), or `None` when not authenticated.
    fn caller(&self, req: &Request) -> Option<String> {
        match &self.config.auth {
            Auth::Jwt => match req.request_context_ref() {
                Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                    .authorizer
                    .as_ref()
                    .and_then(|a| a.jwt.as_ref())
                    .and_then(|j| j.claims.get("sub").cloned()),
                _ => None,
            },
            Auth::Token(token) => {
                let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
                let presented = value.strip_prefix("Bearer ")?;
                bool::from(presented.as_bytes().ct_eq(token.expose().as_bytes()))
                    .then(|| "api-token".to_string())
            }
        }
    }

    pub async fn handle(&self, req: Request) -> Result<Resp, std::convert::Infallible> {
        Ok(self.route(req, Utc::now()).await)
    }

    pub async fn route(&self, req: Request, now: DateTime<Utc>) -> Resp {
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
            (Method::GET, ["v1", "leads"]) => self.list(&query, now).await,
            (Method::GET, ["v1", "leads", id]) if valid_id(id) => match self.store.get(id).await {
                Ok((lead, timeline)) => {
                    json_response(StatusCode::OK, &json!({"lead": lead, "timeline": timeline}))
                }
                Err(e) => from_leads_error(e),
            },
            (Method::PATCH, ["v1", "leads", id]) if valid_id(id) => {
                self.update(id, &req, &actor, now).await
            }
            (Method::GET, ["v1", "consent", "check"]) => self.consent_check(&query, now).await,
            (_, ["v1", "leads"] | ["v1", "leads", _] | ["v1", "consent", "check"]) => error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{} is not supported on {path}", req.method()),
            ),
            _ => error(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no route for {path}"),
            ),
        }
    }

    async fn list(&self, query: &[(String, String)], now: DateTime<Utc>) -> Resp {
        let filter = match LeadFilter::from_query(query) {
            Ok(f) => f,
            Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_filter", e.to_string()),
        };
        if let Err(e) = filter.check_stage(&self.config.lifecycle) {
            return error(StatusCode::BAD_REQUEST, "invalid_filter", e.to_string());
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
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return error(
                StatusCode::BAD_REQUEST,
                "unsupported_media_type",
                "send the update as application/json",
            );
        }
        let patch: LeadPatch = match serde_json::from_slice(req.body().as_ref()) {
            Ok(p) => p,
            Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_json", e.to_string()),
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
        match self
            .store
            .update(id, &patch, actor, &self.config.lifecycle, now)
            .await
        {
            Ok(lead) => json_response(StatusCode::OK, &json!({"lead": lead})),
            Err(e) => from_leads_error(e),
        }
    }

    async fn consent_check(&self, query: &[(String, String)], now: DateTime<Utc>) -> Resp {
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
                        "invalid_query",
                        format!("unknown parameter {other:?}"),
                    );
                }
            };
            if slot.replace(v.clone()).is_some() {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    format!("{k} given twice"),
                );
            }
        }
        let (Some(user), Some(number), Some(category)) = (user, number, category) else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "user, phone_number_id and category are required",
            );
        };
        if !valid_id(&user) || !valid_id(&number) {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "invalid user or phone_number_id",
            );
        }
        let category: MessageCategory = match category.parse() {
            Ok(c) => c,
            Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_query", format!("{e}")),
        };
        let now = match at.map(|a| DateTime::parse_from_rfc3339(&a)) {
            None => now,
            Some(Ok(t)) => t.with_timezone(&Utc),
            Some(Err(e)) => {
                return error(StatusCode::BAD_REQUEST, "invalid_query", format!("at: {e}"));
            }
        };
        // Consent is recorded per category; service replies have none of their own.
        let consent_category = match category {
            MessageCategory::Marketing => "marketing",
            _ => "utility",
        };
        let (consent, last_inbound_at, entry_point) = match self
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
        json_response(StatusCode::OK, &json!(decision))
    }
}
