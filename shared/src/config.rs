//! Typed configuration, read from the environment once at cold start. A missing or invalid
//! variable fails init with its name.

use crate::domain::access::{AccessError, AccessPolicy, Caller, caller_from_claims};
use std::fmt;

/// A variable of the process environment: the only place the crate reads it (each function's
/// typed config goes through here once, at init).
pub fn env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// Running inside AWS Lambda (the runtime sets `AWS_LAMBDA_FUNCTION_NAME`): JSON logs and
/// metrics on, rather than the local stack's readable output.
pub fn in_lambda() -> bool {
    env("AWS_LAMBDA_FUNCTION_NAME").is_some()
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("missing environment variable {0}")]
    Missing(&'static str),
    #[error("invalid value for {name}: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error(
        "no webhook secrets configured: set WEBHOOK_SECRET_ID (Secrets Manager) or META_APP_SECRET and WEBHOOK_VERIFY_TOKEN"
    )]
    NoSecrets,
    #[error("could not load secret {id}: {reason}")]
    SecretLoad { id: String, reason: String },
}

/// A secret value that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Where the webhook's secrets come from.
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// Local runs: `META_APP_SECRET`, optional `META_APP_SECRET_PREVIOUS`, `WEBHOOK_VERIFY_TOKEN`.
    Env {
        app_secret: Secret,
        app_secret_previous: Option<Secret>,
        verify_token: Secret,
    },
    /// AWS: a Secrets Manager secret holding
    /// `{"app_secret": "...", "app_secret_previous": "...", "verify_token": "..."}`.
    SecretsManager { secret_id: String },
}

#[derive(Debug, Clone)]
pub struct WebhookSecrets {
    /// Current first, then the previous one during a rotation.
    pub app_secrets: Vec<Secret>,
    pub verify_token: Secret,
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub table_name: String,
    pub bucket_name: String,
    pub quarantine_prefix: String,
    pub max_body_bytes: usize,
    pub write_concurrency: usize,
    pub secrets: SecretSource,
    pub stop_keywords: Option<Vec<String>>,
    pub start_keywords: Option<Vec<String>>,
    /// `ASSIGNMENT_RULES`: owner assignment for new leads (JSON, see
    /// `domain::leads::AssignmentRules`); absent = leads stay unowned.
    pub assignment: Option<crate::domain::leads::AssignmentRules>,
    /// `LIFECYCLE` (same format as the leads API's): new leads start in its first stage.
    pub lifecycle: crate::domain::leads::Lifecycle,
    /// How a warm instance re-reads secrets from Secrets Manager (ignored for env secrets).
    pub secret_refresh: SecretRefresh,
}

/// When the webhook re-reads its secrets, so a rotated app secret takes effect and a revoked
/// one stops working without a cold start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretRefresh {
    /// `SECRET_REFRESH_SECONDS` (60): after a signature mismatch, re-read if the secrets were
    /// read longer ago than this (a flood of forged POSTs costs at most one read per interval).
    pub on_mismatch_seconds: u64,
    /// `SECRET_MAX_AGE_SECONDS` (900): re-read before verifying when older than this, so a
    /// secret removed from Secrets Manager stops working even if no POST fails.
    pub max_age_seconds: u64,
}

impl Default for SecretRefresh {
    fn default() -> Self {
        Self {
            on_mismatch_seconds: 60,
            max_age_seconds: 900,
        }
    }
}

pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// `WRITE_CONCURRENCY` when unset: DynamoDB requests in flight per POST.
pub const DEFAULT_WRITE_CONCURRENCY: usize = 32;

impl WebhookConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env)
    }

    /// Same as [`from_env`](Self::from_env) over any lookup (tests, the local stack).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let required = |k: &'static str| get(k).ok_or(ConfigError::Missing(k));
        let secrets = match (get("WEBHOOK_SECRET_ID"), get("META_APP_SECRET")) {
            (_, Some(app_secret)) => SecretSource::Env {
                app_secret: Secret(app_secret),
                app_secret_previous: get("META_APP_SECRET_PREVIOUS").map(Secret),
                verify_token: Secret(required("WEBHOOK_VERIFY_TOKEN")?),
            },
            (Some(secret_id), None) => SecretSource::SecretsManager { secret_id },
            (None, None) => return Err(ConfigError::NoSecrets),
        };
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            bucket_name: required("BUCKET_NAME")?,
            quarantine_prefix: get("QUARANTINE_PREFIX").unwrap_or_else(|| "quarantine/".into()),
            max_body_bytes: parse_num(
                get("MAX_BODY_BYTES"),
                "MAX_BODY_BYTES",
                DEFAULT_MAX_BODY_BYTES,
                1..=6 * 1024 * 1024,
            )?,
            write_concurrency: parse_num(
                get("WRITE_CONCURRENCY"),
                "WRITE_CONCURRENCY",
                DEFAULT_WRITE_CONCURRENCY,
                1..=256,
            )?,
            secrets,
            secret_refresh: SecretRefresh {
                on_mismatch_seconds: parse_num(
                    get("SECRET_REFRESH_SECONDS"),
                    "SECRET_REFRESH_SECONDS",
                    60,
                    0..=86_400,
                )? as u64,
                max_age_seconds: parse_num(
                    get("SECRET_MAX_AGE_SECONDS"),
                    "SECRET_MAX_AGE_SECONDS",
                    900,
                    0..=86_400,
                )? as u64,
            },
            stop_keywords: get("STOP_KEYWORDS").map(|v| split_list(&v)),
            start_keywords: get("START_KEYWORDS").map(|v| split_list(&v)),
            assignment: assignment_rules(get("ASSIGNMENT_RULES"))?,
            lifecycle: lifecycle(get("LIFECYCLE"))?,
        })
    }
}

/// `ASSIGNMENT_RULES`, when set.
fn assignment_rules(
    v: Option<String>,
) -> Result<Option<crate::domain::leads::AssignmentRules>, ConfigError> {
    v.map(|v| {
        crate::domain::leads::AssignmentRules::from_json(&v).map_err(|e| ConfigError::Invalid {
            name: "ASSIGNMENT_RULES",
            reason: e.to_string(),
        })
    })
    .transpose()
}

/// `LIFECYCLE`, or the default stages.
fn lifecycle(v: Option<String>) -> Result<crate::domain::leads::Lifecycle, ConfigError> {
    match v {
        Some(v) => {
            crate::domain::leads::Lifecycle::from_config(&v).map_err(|e| ConfigError::Invalid {
                name: "LIFECYCLE",
                reason: e.to_string(),
            })
        }
        None => Ok(crate::domain::leads::Lifecycle::default()),
    }
}

/// The aggregator: the table whose stream it folds (and whose markers and identity links
/// its maintenance actions re-derive).
#[derive(Debug, Clone)]
pub struct AggregatorConfig {
    pub table_name: String,
}

impl AggregatorConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env)
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: get("TABLE_NAME")
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing("TABLE_NAME"))?,
        })
    }
}

/// The replay (`crate::replay`, run by the `replay` function and `make replay`): where the
/// webhook kept the bodies it could not store, and the same ingest rules as the webhook (the
/// same variables), so a replayed body makes the webhook's writes.
#[derive(Debug, Clone)]
pub struct ReplayConfig {
    pub table_name: String,
    pub bucket_name: String,
    /// `QUARANTINE_PREFIX` (`quarantine/`): the only prefix a replay reads.
    pub quarantine_prefix: String,
    pub write_concurrency: usize,
    pub stop_keywords: Option<Vec<String>>,
    pub start_keywords: Option<Vec<String>>,
    pub assignment: Option<crate::domain::leads::AssignmentRules>,
    pub lifecycle: crate::domain::leads::Lifecycle,
}

impl ReplayConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env)
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let required = |k: &'static str| get(k).ok_or(ConfigError::Missing(k));
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            bucket_name: required("BUCKET_NAME")?,
            quarantine_prefix: get("QUARANTINE_PREFIX").unwrap_or_else(|| "quarantine/".into()),
            write_concurrency: parse_num(
                get("WRITE_CONCURRENCY"),
                "WRITE_CONCURRENCY",
                32,
                1..=256,
            )?,
            stop_keywords: get("STOP_KEYWORDS").map(|v| split_list(&v)),
            start_keywords: get("START_KEYWORDS").map(|v| split_list(&v)),
            assignment: assignment_rules(get("ASSIGNMENT_RULES"))?,
            lifecycle: lifecycle(get("LIFECYCLE"))?,
        })
    }
}

/// The meta-sync function: which WABAs to pull, where to store, how to reach the Graph API.
/// The Graph settings themselves are read by `GraphConfig::from_lookup`.
#[derive(Debug, Clone)]
pub struct MetaSyncConfig {
    pub table_name: String,
    pub bucket_name: String,
    /// `WABA_IDS`: comma-separated; several WABAs may be configured.
    pub waba_ids: Vec<String>,
    /// `GRAPH_TOKEN_SECRET_ID` (AWS): a Secrets Manager secret holding the access token, as
    /// a plain string or `{"access_token": "..."}`. Locally `META_ACCESS_TOKEN` is used.
    pub token_secret_id: Option<String>,
    /// `SNAPSHOT_PREFIX`, default `snapshots/`.
    pub snapshot_prefix: String,
    /// `CLICKS_UNAVAILABLE_WABAS`: WABAs in regions where Meta reports no button clicks
    /// (EU, UK, Japan); their missing clicks are stored as `unavailable_in_region`.
    pub clicks_unavailable_wabas: Vec<String>,
    /// `SYNC_CHUNK_DAYS`: days per Graph request window (default 30).
    pub chunk_days: usize,
}

impl MetaSyncConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env)
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let required = |k: &'static str| get(k).ok_or(ConfigError::Missing(k));
        let waba_ids = split_list(&required("WABA_IDS")?);
        if let Some(bad) = waba_ids
            .iter()
            .find(|w| !w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err(ConfigError::Invalid {
                name: "WABA_IDS",
                reason: format!("{bad:?} is not a WABA id (letters and digits only)"),
            });
        }
        if waba_ids.is_empty() {
            return Err(ConfigError::Missing("WABA_IDS"));
        }
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            bucket_name: required("BUCKET_NAME")?,
            waba_ids,
            token_secret_id: get("GRAPH_TOKEN_SECRET_ID"),
            snapshot_prefix: get("SNAPSHOT_PREFIX").unwrap_or_else(|| "snapshots/".into()),
            clicks_unavailable_wabas: get("CLICKS_UNAVAILABLE_WABAS")
                .map(|v| split_list(&v))
                .unwrap_or_default(),
            chunk_days: parse_num(get("SYNC_CHUNK_DAYS"), "SYNC_CHUNK_DAYS", 30, 1..=90)?,
        })
    }
}

/// The leads API function.
#[derive(Debug, Clone)]
pub struct LeadsConfig {
    pub table_name: String,
    pub auth: ApiAuth,
    pub lifecycle: crate::domain::leads::Lifecycle,
    /// `CAPI_ENABLED=true`: new conversions are recorded `pending`, and the `conversions`
    /// function forwards them to Meta's Conversions API (off the request path).
    pub forward_conversions: bool,
    /// `BUCKET_NAME`: where large imports are uploaded (`imports/`); without it
    /// `POST /v1/leads/imports` answers 503.
    pub bucket_name: Option<String>,
}

impl LeadsConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env)
    }

    /// `TABLE_NAME`, `AUTH_MODE` (`jwt` | `token`), `API_TOKEN` (token mode), `LIFECYCLE`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let auth = ApiAuth::from_lookup(get)?;
        let lifecycle = lifecycle(get("LIFECYCLE"))?;
        let forward_conversions = match get("CAPI_ENABLED").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "CAPI_ENABLED",
                    reason: format!("{other:?}: expected true or false"),
                });
            }
        };
        Ok(Self {
            table_name: get("TABLE_NAME").ok_or(ConfigError::Missing("TABLE_NAME"))?,
            auth,
            lifecycle,
            forward_conversions,
            bucket_name: get("BUCKET_NAME"),
        })
    }
}

/// The conversions function: forwards recorded conversions to Meta's Conversions API.
#[derive(Debug, Clone)]
pub struct ConversionsConfig {
    pub table_name: String,
    /// `CAPI_DATASET_ID`: the Conversions API dataset the events go to.
    pub dataset_id: String,
    /// `GRAPH_TOKEN_SECRET_ID` (AWS), else `META_ACCESS_TOKEN` (locally).
    pub graph_token_secret_id: Option<String>,
}

impl ConversionsConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env)
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let dataset_id = get("CAPI_DATASET_ID").ok_or(ConfigError::Missing("CAPI_DATASET_ID"))?;
        if !dataset_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigError::Invalid {
                name: "CAPI_DATASET_ID",
                reason: format!("{dataset_id:?} is not a dataset id (digits)"),
            });
        }
        Ok(Self {
            table_name: get("TABLE_NAME").ok_or(ConfigError::Missing("TABLE_NAME"))?,
            dataset_id,
            graph_token_secret_id: get("GRAPH_TOKEN_SECRET_ID"),
        })
    }
}

/// The lead-imports function: runs asynchronous CSV imports from the bucket.
#[derive(Debug, Clone)]
pub struct LeadImportsConfig {
    pub table_name: String,
    pub bucket_name: String,
    /// `LIFECYCLE`, as the leads API reads it (an import's stages are checked against it).
    pub lifecycle: crate::domain::leads::Lifecycle,
}

impl LeadImportsConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env)
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let lifecycle = lifecycle(get("LIFECYCLE"))?;
        Ok(Self {
            table_name: get("TABLE_NAME").ok_or(ConfigError::Missing("TABLE_NAME"))?,
            bucket_name: get("BUCKET_NAME").ok_or(ConfigError::Missing("BUCKET_NAME"))?,
            lifecycle,
        })
    }
}

/// Reads the Graph token secret: a plain string, or JSON `{"access_token": "..."}`.
pub fn graph_token_from_secret(id: &str, value: &str) -> Result<Secret, ConfigError> {
    let value = value.trim();
    let token = if value.starts_with('{') {
        #[derive(serde::Deserialize)]
        struct Shape {
            access_token: String,
        }
        serde_json::from_str::<Shape>(value)
            .map_err(|e| ConfigError::SecretLoad {
                id: id.to_string(),
                reason: format!("expected {{\"access_token\": \"...\"}}: {e}"),
            })?
            .access_token
    } else {
        value.to_string()
    };
    if token.trim().is_empty() {
        return Err(ConfigError::SecretLoad {
            id: id.to_string(),
            reason: "the access token is empty".into(),
        });
    }
    Ok(Secret(token))
}

fn parse_num(
    v: Option<String>,
    name: &'static str,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, ConfigError> {
    let Some(v) = v else { return Ok(default) };
    let n: usize = v.trim().parse().map_err(|_| ConfigError::Invalid {
        name,
        reason: format!("{v:?} is not a number"),
    })?;
    if !range.contains(&n) {
        return Err(ConfigError::Invalid {
            name,
            reason: format!("{n} is outside {range:?}"),
        });
    }
    Ok(n)
}

fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Reads the webhook secret JSON (the Secrets Manager shape).
pub fn webhook_secrets_from_json(id: &str, json: &str) -> Result<WebhookSecrets, ConfigError> {
    #[derive(serde::Deserialize)]
    struct Shape {
        #[serde(default)]
        app_secret: String,
        #[serde(default)]
        app_secret_previous: String,
        #[serde(default)]
        verify_token: String,
    }
    let fail = |reason: &str| ConfigError::SecretLoad {
        id: id.to_string(),
        reason: reason.to_string(),
    };
    let shape: Shape =
        serde_json::from_str(json).map_err(|_| fail("secret is not the expected JSON object"))?;
    if shape.app_secret.is_empty() {
        return Err(fail(
            "app_secret is empty: put the Meta app secret into the secret",
        ));
    }
    if shape.verify_token.is_empty() {
        return Err(fail("verify_token is empty"));
    }
    let mut app_secrets = vec![Secret(shape.app_secret)];
    if !shape.app_secret_previous.is_empty() {
        app_secrets.push(Secret(shape.app_secret_previous));
    }
    Ok(WebhookSecrets {
        app_secrets,
        verify_token: Secret(shape.verify_token),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::{AccessPolicy, Caller};
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn local_config_from_env() {
        let c = WebhookConfig::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("BUCKET_NAME", "b"),
            ("META_APP_SECRET", "s3cr3t"),
            ("WEBHOOK_VERIFY_TOKEN", "v"),
            ("STOP_KEYWORDS", "stop, alto ,"),
        ]))
        .unwrap();
        assert_eq!(c.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert_eq!(
            c.stop_keywords,
            Some(vec!["stop".to_string(), "alto".to_string()])
        );
        assert!(
            !format!("{c:?}").contains("s3cr3t"),
            "secrets must not print"
        );
    }

    #[test]
    fn missing_and_invalid_variables_are_named() {
        let e = WebhookConfig::from_lookup(lookup(&[
            ("META_APP_SECRET", "s"),
            ("WEBHOOK_VERIFY_TOKEN", "v"),
        ]))
        .unwrap_err();
        assert_eq!(e.to_string(), "missing environment variable TABLE_NAME");
        let e = WebhookConfig::from_lookup(lookup(&[("TABLE_NAME", "t"), ("BUCKET_NAME", "b")]))
            .unwrap_err();
        assert!(matches!(e, ConfigError::NoSecrets));
        let e = WebhookConfig::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("BUCKET_NAME", "b"),
            ("WEBHOOK_SECRET_ID", "arn"),
            ("MAX_BODY_BYTES", "lots"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("MAX_BODY_BYTES"));
    }

    #[test]
    fn secret_json_shape() {
        let s = webhook_secrets_from_json(
            "id",
            r#"{"app_secret":"a","app_secret_previous":"b","verify_token":"v"}"#,
        )
        .unwrap();
        assert_eq!(s.app_secrets.len(), 2);
        let e =
            webhook_secrets_from_json("id", r#"{"app_secret":"","verify_token":"v"}"#).unwrap_err();
        assert!(e.to_string().contains("app_secret is empty"));
    }

    #[test]
    fn api_auth_reads_the_scope_and_tenant_claim() {
        let lookup = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let ApiAuth::Jwt(p) = ApiAuth::from_lookup(lookup(&[("AUTH_MODE", "jwt")])).unwrap() else {
            panic!("jwt mode")
        };
        assert_eq!(p, AccessPolicy::default());
        let ApiAuth::Jwt(p) = ApiAuth::from_lookup(lookup(&[
            ("AUTH_MODE", "jwt"),
            ("AUTH_SCOPE", "none"),
            ("AUTH_TENANT_CLAIM", "wabas"),
        ]))
        .unwrap() else {
            panic!("jwt mode")
        };
        assert_eq!((p.required_scope, p.tenant_claim.as_str()), (None, "wabas"));
        let e = ApiAuth::from_lookup(lookup(&[("AUTH_MODE", "jwt"), ("AUTH_SCOPE", "a b")]))
            .unwrap_err();
        assert!(e.to_string().contains("AUTH_SCOPE"));
        let token = ApiAuth::Token(Secret::new("0123456789abcdef"));
        assert_eq!(
            token.caller(None, Some("Bearer 0123456789abcdef")).unwrap(),
            Some(Caller::local())
        );
        assert_eq!(token.caller(None, Some("Bearer wrong")).unwrap(), None);
        assert_eq!(
            ApiAuth::Jwt(AccessPolicy::default())
                .caller(None, None)
                .unwrap(),
            None
        );
    }
}

/// How the managers' APIs authenticate and authorize callers.
#[derive(Debug, Clone)]
pub enum ApiAuth {
    /// API Gateway's JWT authorizer verified the token; its claims must satisfy the policy
    /// (scope and tenant, `crate::domain::access`).
    Jwt(AccessPolicy),
    /// A static bearer token (local stack), compared in constant time; it sees every WABA.
    Token(Secret),
}

impl ApiAuth {
    /// `AUTH_MODE` (`jwt` | `token`, default `token`); token mode: `API_TOKEN` (≥ 16
    /// characters); jwt mode: `AUTH_SCOPE` (the scope or group every token must carry,
    /// default `wa-insights/api`, `none` to require none) and `AUTH_TENANT_CLAIM` (the claim
    /// listing the caller's WABA ids or `*`, default `custom:waba_ids`).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        match get("AUTH_MODE").as_deref().unwrap_or("token") {
            "jwt" => {
                let required_scope = match get("AUTH_SCOPE") {
                    None => Some(crate::domain::access::DEFAULT_SCOPE.to_string()),
                    Some(v) if v.trim() == "none" => None,
                    Some(v) if v.trim().contains(char::is_whitespace) => {
                        return Err(ConfigError::Invalid {
                            name: "AUTH_SCOPE",
                            reason: format!("{v:?}: one scope or group, without spaces"),
                        });
                    }
                    Some(v) => Some(v.trim().to_string()),
                };
                let tenant_claim = get("AUTH_TENANT_CLAIM")
                    .map(|v| v.trim().to_string())
                    .unwrap_or_else(|| crate::domain::access::DEFAULT_TENANT_CLAIM.to_string());
                Ok(ApiAuth::Jwt(AccessPolicy {
                    required_scope,
                    tenant_claim,
                }))
            }
            "token" => {
                let token = get("API_TOKEN").ok_or(ConfigError::Missing("API_TOKEN"))?;
                if token.len() < 16 {
                    return Err(ConfigError::Invalid {
                        name: "API_TOKEN",
                        reason: "use at least 16 characters".into(),
                    });
                }
                Ok(ApiAuth::Token(Secret::new(token)))
            }
            other => Err(ConfigError::Invalid {
                name: "AUTH_MODE",
                reason: format!("{other:?}: expected jwt or token"),
            }),
        }
    }

    /// The caller of a request: `claims` are the JWT authorizer's (jwt mode),
    /// `authorization` the `Authorization` header (token mode). `Ok(None)`: not
    /// authenticated (401); `Err`: authenticated but not allowed (403).
    pub fn caller(
        &self,
        claims: Option<&std::collections::HashMap<String, String>>,
        authorization: Option<&str>,
    ) -> Result<Option<Caller>, AccessError> {
        match self {
            ApiAuth::Jwt(policy) => match claims {
                None => Ok(None),
                Some(c) => caller_from_claims(c, policy).map(Some),
            },
            ApiAuth::Token(token) => {
                use subtle::ConstantTimeEq;
                let Some(presented) = authorization.and_then(|v| v.strip_prefix("Bearer ")) else {
                    return Ok(None);
                };
                Ok(
                    bool::from(presented.as_bytes().ct_eq(token.expose().as_bytes()))
                        .then(Caller::local),
                )
            }
        }
    }
}

/// The reports functions (API and jobs).
#[derive(Debug, Clone)]
pub struct ReportsConfig {
    pub table_name: String,
    pub bucket_name: String,
    pub auth: ApiAuth,
    /// WABAs whose pulled Meta data reports read (`WABA_IDS`, optional).
    pub waba_ids: Vec<String>,
    /// `REPORT_LINK_SECONDS` (900): a link's default life.
    pub link_default_seconds: i64,
    /// `REPORT_LINK_MAX_SECONDS` (3600, at most 604800): the longest life a caller may ask.
    pub link_max_seconds: i64,
    /// `REPORT_RETENTION_DAYS` (30): how long report records and files are kept.
    pub retention_days: i64,
    /// `REPORT_INLINE_SECONDS` (20): how long `POST /v1/reports` works before answering 202
    /// and handing the report to the jobs function.
    pub inline_seconds: u64,
    /// `SLA_SECONDS` (900): the response-time SLA.
    pub sla_seconds: i64,
    /// `REPORT_CSV_BOM` (`false`): start CSVs with a UTF-8 byte-order mark (for Excel).
    pub csv_bom: bool,
    /// `REPORT_TOPIC_ARN` (optional): the SNS topic that announces scheduled reports.
    pub topic_arn: Option<String>,
    /// `REPORTS_API_URL` (optional): the managers' API base URL, named in announcements.
    pub api_url: Option<String>,
}

impl ReportsConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env)
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let required = |k: &'static str| get(k).ok_or(ConfigError::Missing(k));
        let number =
            |k: &'static str, default: i64, min: i64, max: i64| -> Result<i64, ConfigError> {
                match get(k) {
                    None => Ok(default),
                    Some(v) => v
                        .trim()
                        .parse::<i64>()
                        .ok()
                        .filter(|n| (min..=max).contains(n))
                        .ok_or_else(|| ConfigError::Invalid {
                            name: k,
                            reason: format!("{v:?}: expected a whole number from {min} to {max}"),
                        }),
                }
            };
        let link_max_seconds = number("REPORT_LINK_MAX_SECONDS", 3_600, 60, 604_800)?;
        let link_default_seconds = number("REPORT_LINK_SECONDS", 900, 60, link_max_seconds)?;
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            bucket_name: required("BUCKET_NAME")?,
            auth: ApiAuth::from_lookup(get)?,
            waba_ids: get("WABA_IDS").map(|v| split_list(&v)).unwrap_or_default(),
            link_default_seconds,
            link_max_seconds,
            retention_days: number("REPORT_RETENTION_DAYS", 30, 1, 3_650)?,
            inline_seconds: number("REPORT_INLINE_SECONDS", 20, 0, 900)? as u64,
            sla_seconds: number("SLA_SECONDS", 900, 1, 86_400)?,
            csv_bom: matches!(get("REPORT_CSV_BOM").as_deref(), Some("true" | "1")),
            topic_arn: get("REPORT_TOPIC_ARN"),
            api_url: get("REPORTS_API_URL"),
        })
    }
}
