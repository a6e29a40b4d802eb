//! The Meta Graph API client for the analytics pulls: `pricing_analytics`,
//! `template_analytics`, messaging `analytics`, the `message_templates` catalogue and the
//! template-insights flag.
//!
//! - reqwest over rustls; base URL and API version come from [`GraphConfig`], so tests and the
//!   local stack point it at the fake Graph server.
//! - The access token travels only in the `Authorization` header; it never appears in URLs,
//!   recorded requests, errors or logs.
//! - Paging follows `paging.next` (a full URL) or, when the server never sends `next`,
//!   `paging.cursors.after`, until the last page; every page is returned with its raw body so
//!   the caller can keep a snapshot (Meta forgets after 90 days / 1 year).
//! - Throttling (codes 4, 17, 32, 613, 80004, 80007, 130429, HTTP 429) and transient failures (5xx,
//!   codes 1/2, timeouts, connection errors) are retried with exponential backoff and jitter,
//!   a bounded number of times; an expired or invalid token (190) stops at once with an error
//!   naming the WABA and the fix.

use crate::config::{ConfigError, Secret};
use crate::domain::analytics::{
    ConversionEventsResponse, EnableInsightsResponse, Granularity, GraphResponseKind,
    InsightsFlagResponse, MAX_TEMPLATE_IDS_PER_REQUEST, MessageTemplatesResponse,
    MessagingAnalyticsResponse, Paged, PricingAnalyticsResponse, PricingDimension,
    TemplateAnalyticsResponse, TemplateMetric, parse,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::header::HeaderMap;
use reqwest::{Method, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com";
pub const DEFAULT_API_VERSION: &str = "v23.0";

/// Graph error codes that mean "slow down": app (4), user (17), BUC (32, 80004, 80007),
/// per-call (613) and Cloud API (130429) rate limits.
pub const THROTTLE_CODES: [i64; 7] = [4, 17, 32, 613, 80004, 80007, 130429];
/// Expired, revoked or invalid access token.
pub const AUTH_CODE: i64 = 190;
/// "Unknown error" / "service temporarily unavailable": Meta says wait and retry.
const TRANSIENT_CODES: [i64; 2] = [1, 2];

/// How often and how long to retry throttled and transient requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included (1 = no retry).
    pub max_attempts: u32,
    /// The first backoff; doubles per attempt, with jitter.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The longest `estimated_time_to_regain_access` worth waiting for inside one run; a
    /// longer one stops the request at once (waiting less would only be throttled again).
    pub max_regain_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_regain_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Backoff before attempt `attempt + 1`: `base × 2^(attempt−1)`, capped, then "equal
    /// jitter" (half fixed, half random) so parallel pulls do not retry in lockstep.
    pub fn backoff(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        let half = exp / 2;
        let jitter_ms = rng.random_range(0..=half.as_millis().max(1) as u64);
        half + Duration::from_millis(jitter_ms).min(exp - half)
    }
}

/// Where and how to call the Graph API.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// `https://graph.facebook.com`, or the fake server locally.
    pub base_url: String,
    /// `v23.0`.
    pub api_version: String,
    pub access_token: Secret,
    /// Per request (connect + response body).
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Stops a paging loop that never ends (a server bug would otherwise spin the run).
    pub max_pages: usize,
}

impl GraphConfig {
    pub fn new(base_url: impl Into<String>, access_token: Secret) -> Self {
        Self {
            base_url: base_url.into(),
            api_version: DEFAULT_API_VERSION.into(),
            access_token,
            timeout: Duration::from_secs(20),
            retry: RetryPolicy::default(),
            max_pages: 1_000,
        }
    }

    /// `META_ACCESS_TOKEN` (required), `GRAPH_URL`, `GRAPH_API_VERSION`, `GRAPH_TIMEOUT_MS`,
    /// `GRAPH_MAX_ATTEMPTS`, `GRAPH_RETRY_BASE_MS`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let token = get("META_ACCESS_TOKEN").ok_or(ConfigError::Missing("META_ACCESS_TOKEN"))?;
        let mut c = Self::new(
            get("GRAPH_URL").unwrap_or_else(|| DEFAULT_GRAPH_URL.into()),
            Secret::new(token),
        );
        if let Some(v) = get("GRAPH_API_VERSION") {
            c.api_version = v;
        }
        let num = |name: &'static str| -> Result<Option<u64>, ConfigError> {
            get(name)
                .map(|v| {
                    v.trim().parse::<u64>().map_err(|_| ConfigError::Invalid {
                        name,
                        reason: format!("{v:?} is not a number"),
                    })
                })
                .transpose()
        };
        if let Some(ms) = num("GRAPH_TIMEOUT_MS")? {
            c.timeout = Duration::from_millis(ms);
        }
        if let Some(n) = num("GRAPH_MAX_ATTEMPTS")? {
            c.retry.max_attempts = n.clamp(1, 10) as u32;
        }
        if let Some(ms) = num("GRAPH_RETRY_BASE_MS")? {
            c.retry.base_delay = Duration::from_millis(ms);
        }
        Ok(c)
    }
}

/// The body of a Graph error: `{"error":{"message","type","code","error_subcode","fbtrace_id"}}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct GraphApiError {
    #[serde(default)]
    pub message: String,
    #[serde(default, rename = "type")]
    pub error_type: Option<String>,
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub error_subcode: Option<i64>,
    #[serde(default)]
    pub fbtrace_id: Option<String>,
    #[serde(default)]
    pub is_transient: Option<bool>,
}

impl GraphApiError {
    /// `None` when the body is not a Graph error (a proxy's HTML page, an empty 429).
    pub fn from_body(body: &str) -> Option<Self> {
        #[derive(Deserialize)]
        struct Envelope {
            error: GraphApiError,
        }
        serde_json::from_str::<Envelope>(body).ok().map(|e| e.error)
    }
}

pub use crate::ports::graph::{ErrorClass, GraphError, GraphPage, GraphPull, is_permission_code};

/// Classifies an HTTP status and, when present, Graph's error body. The Graph code wins over
/// the status because Meta sends rate limits as 400/403 with a code.
pub fn classify(http_status: u16, error: Option<&GraphApiError>) -> ErrorClass {
    let code = error.and_then(|e| e.code);
    match code {
        Some(c) if THROTTLE_CODES.contains(&c) => ErrorClass::Throttled,
        Some(AUTH_CODE) => ErrorClass::Auth,
        Some(c) if TRANSIENT_CODES.contains(&c) => ErrorClass::Transient,
        Some(c) if is_permission_code(c) => ErrorClass::Permission,
        _ if http_status == 429 => ErrorClass::Throttled,
        None if http_status == 401 => ErrorClass::Auth,
        _ if http_status >= 500 => ErrorClass::Transient,
        _ if error.and_then(|e| e.is_transient) == Some(true) => ErrorClass::Transient,
        _ => ErrorClass::Other,
    }
}

/// The longest wait any `x-business-use-case-usage` entry asks for
/// (`estimated_time_to_regain_access`, in minutes), or `Retry-After` seconds.
pub fn regain_access_after(headers: &HeaderMap) -> Option<Duration> {
    #[derive(Deserialize)]
    struct Usage {
        #[serde(default)]
        estimated_time_to_regain_access: Option<u64>,
    }
    let buc = headers
        .get("x-business-use-case-usage")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| serde_json::from_str::<HashMap<String, Vec<Usage>>>(v).ok())
        .and_then(|m| {
            m.values()
                .flatten()
                .filter_map(|u| u.estimated_time_to_regain_access)
                .max()
        })
        .map(|minutes| Duration::from_secs(minutes * 60));
    let retry_after = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    buc.max(retry_after).filter(|d| !d.is_zero())
}

/// The Graph API over HTTPS. Build once per cold start and share.
pub struct GraphClient {
    http: reqwest::Client,
    base: Url,
    api_version: String,
    token: Secret,
    retry: RetryPolicy,
    max_pages: usize,
    rng: Mutex<StdRng>,
}

impl fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphClient")
            .field("base", &self.base.as_str())
            .field("api_version", &self.api_version)
            .field("token", &self.token)
            .field("retry", &self.retry)
            .finish()
    }
}

/// What one attempt produced, before deciding whether to retry.
struct Failure {
    class: ErrorClass,
    http_status: Option<u16>,
    api: Option<GraphApiError>,
    reason: String,
    regain: Option<Duration>,
}

impl GraphClient {
    pub fn new(config: GraphConfig) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid {
            name: "GRAPH_URL",
            reason,
        };
        let mut base = Url::parse(&config.base_url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("must be an http(s) URL".into()));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("wa-insights/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| invalid(format!("HTTP client: {e}")))?;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Ok(Self {
            http,
            base,
            api_version: config.api_version.trim_matches('/').to_string(),
            token: config.access_token,
            retry: config.retry,
            max_pages: config.max_pages.max(1),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        })
    }

    /// `{base}/{version}/{waba}[/{edge}]`.
    fn waba_url(&self, waba: &str, edge: Option<&str>) -> Result<Url, GraphError> {
        let invalid = |reason: &str| GraphError::InvalidRequest {
            waba: waba.to_string(),
            reason: reason.to_string(),
        };
        if waba.is_empty() || !waba.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(invalid("a WABA id is letters and digits only"));
        }
        let path = match edge {
            Some(edge) => format!("{}/{waba}/{edge}", self.api_version),
            None => format!("{}/{waba}", self.api_version),
        };
        self.base
            .join(&path)
            .map_err(|e| invalid(&format!("cannot build the URL: {e}")))
    }

    /// `pricing_analytics` for `[start, end)` (Unix seconds): volume and cost per bucket ×
    /// requested dimension combination.
    pub async fn pricing_analytics(
        &self,
        waba: &str,
        start: i64,
        end: i64,
        granularity: Granularity,
        dimensions: &[PricingDimension],
    ) -> Result<GraphPull<PricingAnalyticsResponse>, GraphError> {
        check_window(waba, start, end)?;
        let mut field = format!(
            "pricing_analytics.start({start}).end({end}).granularity({})",
            granularity.pricing_param()
        );
        if !dimensions.is_empty() {
            field.push_str(&format!(
                ".dimensions({})",
                quoted_list(dimensions.iter().map(|d| d.as_str()))
            ));
        }
        let mut url = self.waba_url(waba, None)?;
        url.query_pairs_mut().append_pair("fields", &field);
        self.get_all(waba, GraphResponseKind::PricingAnalytics, url)
            .await
    }

    /// `template_analytics` (DAILY) for at most [`MAX_TEMPLATE_IDS_PER_REQUEST`] templates.
    pub async fn template_analytics(
        &self,
        waba: &str,
        template_ids: &[String],
        start: i64,
        end: i64,
        metric_types: &[TemplateMetric],
    ) -> Result<GraphPull<TemplateAnalyticsResponse>, GraphError> {
        check_window(waba, start, end)?;
        if template_ids.is_empty() || template_ids.len() > MAX_TEMPLATE_IDS_PER_REQUEST {
            return Err(GraphError::InvalidRequest {
                waba: waba.to_string(),
                reason: format!(
                    "template_analytics takes 1 to {MAX_TEMPLATE_IDS_PER_REQUEST} template ids per request, got {}; split them with template_id_batches",
                    template_ids.len()
                ),
            });
        }
        let ids = if template_ids
            .iter()
            .all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        {
            format!("[{}]", template_ids.join(","))
        } else {
            quoted_list(template_ids.iter().map(String::as_str))
        };
        let mut url = self.waba_url(waba, Some("template_analytics"))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("start", &start.to_string())
                .append_pair("end", &end.to_string())
                .append_pair("granularity", Granularity::Daily.pricing_param());
            if !metric_types.is_empty() {
                q.append_pair(
                    "metric_types",
                    &quoted_list(metric_types.iter().map(|m| m.as_str())),
                );
            }
            q.append_pair("template_ids", &ids);
        }
        self.get_all(waba, GraphResponseKind::TemplateAnalytics, url)
            .await
    }

    /// The template catalogue, every page.
    pub async fn message_templates(
        &self,
        waba: &str,
        fields: &[&str],
        limit: u32,
    ) -> Result<GraphPull<MessageTemplatesResponse>, GraphError> {
        let mut url = self.waba_url(waba, Some("message_templates"))?;
        {
            let mut q = url.query_pairs_mut();
            if !fields.is_empty() {
                q.append_pair("fields", &fields.join(","));
            }
            if limit > 0 {
                q.append_pair("limit", &limit.to_string());
            }
        }
        self.get_all(waba, GraphResponseKind::MessageTemplates, url)
            .await
    }

    /// Messaging `analytics` (sent/delivered per bucket), the cross-check for our counts.
    pub async fn messaging_analytics(
        &self,
        waba: &str,
        start: i64,
        end: i64,
        granularity: Granularity,
    ) -> Result<GraphPull<MessagingAnalyticsResponse>, GraphError> {
        check_window(waba, start, end)?;
        let field = format!(
            "analytics.start({start}).end({end}).granularity({})",
            granularity.messaging_param()
        );
        let mut url = self.waba_url(waba, None)?;
        url.query_pairs_mut().append_pair("fields", &field);
        self.get_all(waba, GraphResponseKind::MessagingAnalytics, url)
            .await
    }

    /// Whether template analytics are enabled on the WABA (`is_enabled_for_insights`).
    pub async fn insights_enabled(
        &self,
        waba: &str,
    ) -> Result<GraphPage<InsightsFlagResponse>, GraphError> {
        let mut url = self.waba_url(waba, None)?;
        url.query_pairs_mut()
            .append_pair("fields", "is_enabled_for_insights");
        self.send(
            waba,
            GraphResponseKind::EnableInsights,
            Method::GET,
            url,
            None,
        )
        .await
    }

    /// Turns template analytics on. Meta: once confirmed, it cannot be disabled.
    pub async fn enable_insights(
        &self,
        waba: &str,
    ) -> Result<GraphPage<EnableInsightsResponse>, GraphError> {
        let mut url = self.waba_url(waba, None)?;
        url.query_pairs_mut()
            .append_pair("is_enabled_for_insights", "true");
        self.send(
            waba,
            GraphResponseKind::EnableInsights,
            Method::POST,
            url,
            None,
        )
        .await
    }

    /// Sends events to the Conversions API (`POST /<dataset id>/events`, `{"data": [...]}`).
    /// Transient failures and throttling are retried like every call; Meta deduplicates
    /// retried events by `event_id`.
    pub async fn send_conversion_events(
        &self,
        dataset_id: &str,
        events: &[serde_json::Value],
    ) -> Result<GraphPage<ConversionEventsResponse>, GraphError> {
        let url = self.waba_url(dataset_id, Some("events"))?;
        let body = serde_json::json!({ "data": events });
        self.send(
            dataset_id,
            GraphResponseKind::ConversionEvents,
            Method::POST,
            url,
            Some(&body),
        )
        .await
    }

    /// Follows paging to the end and returns every page.
    async fn get_all<T: DeserializeOwned + Paged>(
        &self,
        waba: &str,
        kind: GraphResponseKind,
        first: Url,
    ) -> Result<GraphPull<T>, GraphError> {
        let mut pages: Vec<GraphPage<T>> = Vec::new();
        let mut url = first.clone();
        let mut seen_cursors = HashSet::new();
        // Once the server has sent a `next` link, its absence is the end (Graph's contract);
        // cursor-only paging (template_analytics examples) ends on an empty page instead.
        let mut server_links_next = false;
        loop {
            if pages.len() >= self.max_pages {
                return Err(GraphError::PagingRunaway {
                    waba: waba.to_string(),
                    pages: pages.len(),
                });
            }
            let page: GraphPage<T> = self.send(waba, kind, Method::GET, url, None).await?;
            let paging = page.value.paging();
            let after = paging
                .and_then(|p| p.cursors.as_ref())
                .and_then(|c| c.after.clone());
            let next = match paging.and_then(|p| p.next.as_deref()) {
                Some(next) => {
                    server_links_next = true;
                    Some(self.follow(waba, next, &first, after.as_deref())?)
                }
                None if server_links_next => None,
                None => match after {
                    Some(a) if page.value.item_count() > 0 && seen_cursors.insert(a.clone()) => {
                        Some(with_after(&first, &a))
                    }
                    _ => None,
                },
            };
            pages.push(page);
            match next {
                Some(n) => url = n,
                None => break,
            }
        }
        Ok(GraphPull {
            waba: waba.to_string(),
            kind,
            pages,
        })
    }

    /// The URL to fetch for a `next` link. The bearer token goes to whatever we fetch, so a
    /// link to another origin is replaced by our own URL with the `after` cursor.
    fn follow(
        &self,
        waba: &str,
        next: &str,
        first: &Url,
        after: Option<&str>,
    ) -> Result<Url, GraphError> {
        match Url::parse(next) {
            Ok(url) if url.origin() == self.base.origin() => Ok(without_token(url)),
            _ => match after {
                Some(a) => Ok(with_after(first, a)),
                None => Err(GraphError::Api {
                    waba: waba.to_string(),
                    http_status: 200,
                    code: None,
                    subcode: None,
                    message:
                        "paging.next points outside the Graph base URL and no cursor was given"
                            .into(),
                    fbtrace_id: None,
                }),
            },
        }
    }

    /// One request with bounded retries for throttled and transient failures.
    async fn send<T: DeserializeOwned>(
        &self,
        waba: &str,
        kind: GraphResponseKind,
        method: Method,
        url: Url,
        json_body: Option<&serde_json::Value>,
    ) -> Result<GraphPage<T>, GraphError> {
        let request = request_label(&url);
        let max_attempts = self.retry.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failure = match self.attempt(method.clone(), url.clone(), json_body).await {
                Ok((status, _, body)) if (200..300).contains(&status) => {
                    return match parse::<T>(kind.as_str(), body.as_bytes()) {
                        Ok(parsed) => Ok(GraphPage {
                            request,
                            body,
                            value: parsed.value,
                            unknown_fields: parsed.unknown_fields,
                            attempts: attempt,
                        }),
                        Err(e) => Err(GraphError::Unreadable {
                            waba: waba.to_string(),
                            kind,
                            reason: e.to_string(),
                            body,
                        }),
                    };
                }
                Ok((status, regain, body)) => {
                    let api = GraphApiError::from_body(&body);
                    Failure {
                        class: classify(status, api.as_ref()),
                        http_status: Some(status),
                        reason: api
                            .as_ref()
                            .map_or_else(|| format!("HTTP {status}"), |e| e.message.clone()),
                        api,
                        regain,
                    }
                }
                Err(e) => Failure {
                    class: ErrorClass::Transient,
                    http_status: None,
                    api: None,
                    reason: if e.is_timeout() {
                        "timed out".to_string()
                    } else if e.is_connect() {
                        "could not connect".to_string()
                    } else {
                        // without_url: never echo URLs into errors and logs.
                        e.without_url().to_string()
                    },
                    regain: None,
                },
            };
            let retryable = matches!(failure.class, ErrorClass::Throttled | ErrorClass::Transient);
            let too_long = failure
                .regain
                .is_some_and(|r| r > self.retry.max_regain_wait);
            if !retryable || attempt >= max_attempts || too_long {
                return Err(self.give_up(waba, failure, attempt));
            }
            let backoff = {
                let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
                self.retry.backoff(attempt, &mut *rng)
            };
            let wait = failure.regain.map_or(backoff, |r| r.max(backoff));
            tracing::warn!(
                waba,
                kind = kind.as_str(),
                class = failure.class.as_str(),
                code = failure.api.as_ref().and_then(|e| e.code),
                http_status = failure.http_status,
                attempt,
                wait_ms = wait.as_millis() as u64,
                "graph request failed, retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(
        &self,
        method: Method,
        url: Url,
        json_body: Option<&serde_json::Value>,
    ) -> Result<(u16, Option<Duration>, String), reqwest::Error> {
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(self.token.expose());
        if let Some(body) = json_body {
            request = request.json(body);
        }
        let resp = request.send().await?;
        let status = resp.status().as_u16();
        let regain = regain_access_after(resp.headers());
        let body = resp.text().await?;
        Ok((status, regain, body))
    }

    fn give_up(&self, waba: &str, f: Failure, attempts: u32) -> GraphError {
        let waba = waba.to_string();
        let api = f.api.unwrap_or_default();
        match f.class {
            ErrorClass::Throttled => GraphError::Throttled {
                waba,
                detail: match api.code {
                    Some(c) => format!("code {c}: {}", f.reason),
                    None => f.reason,
                },
                code: api.code,
                http_status: f.http_status.unwrap_or(0),
                attempts,
                retry_after: f.regain,
            },
            ErrorClass::Auth => GraphError::Auth {
                waba,
                code: api.code,
                subcode: api.error_subcode,
                message: if api.message.is_empty() {
                    f.reason
                } else {
                    api.message
                },
                fbtrace_id: api.fbtrace_id,
            },
            ErrorClass::Transient => GraphError::Transient {
                waba,
                reason: f.reason,
                http_status: f.http_status,
                attempts,
            },
            // A permission error is an API refusal like any other; its code says which
            // (`GraphError::class`).
            ErrorClass::Other | ErrorClass::Permission => GraphError::Api {
                waba,
                http_status: f.http_status.unwrap_or(0),
                code: api.code,
                subcode: api.error_subcode,
                message: f.reason,
                fbtrace_id: api.fbtrace_id,
            },
        }
    }
}

fn check_window(waba: &str, start: i64, end: i64) -> Result<(), GraphError> {
    if start >= end {
        return Err(GraphError::InvalidRequest {
            waba: waba.to_string(),
            reason: format!("window start {start} is not before end {end}"),
        });
    }
    Ok(())
}

/// `["A","B"]`, the array spelling Graph accepts in field expansion and query parameters.
fn quoted_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.map(|i| format!("\"{i}\"")).collect();
    format!("[{}]", items.join(","))
}

fn with_after(first: &Url, after: &str) -> Url {
    let mut url = first.clone();
    let pairs: Vec<(String, String)> = first
        .query_pairs()
        .filter(|(k, _)| k != "after")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair("after", after);
    url
}

/// Drops an `access_token` query parameter (the header carries ours).
fn without_token(mut url: Url) -> Url {
    if url.query_pairs().any(|(k, _)| k == "access_token") {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "access_token")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url
}

/// Path and query of a request, for the snapshot and logs.
fn request_label(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// The deployed source: every call goes to the inherent method of the same name.
impl crate::ports::GraphSource for GraphClient {
    async fn pricing_analytics(
        &self,
        waba: &str,
        start: i64,
        end: i64,
        granularity: Granularity,
        dimensions: &[PricingDimension],
    ) -> Result<GraphPull<PricingAnalyticsResponse>, GraphError> {
        GraphClient::pricing_analytics(self, waba, start, end, granularity, dimensions).await
    }

    async fn template_analytics(
        &self,
        waba: &str,
        template_ids: &[String],
        start: i64,
        end: i64,
        metric_types: &[TemplateMetric],
    ) -> Result<GraphPull<TemplateAnalyticsResponse>, GraphError> {
        GraphClient::template_analytics(self, waba, template_ids, start, end, metric_types).await
    }

    async fn message_templates(
        &self,
        waba: &str,
        fields: &[&str],
        limit: u32,
    ) -> Result<GraphPull<MessageTemplatesResponse>, GraphError> {
        GraphClient::message_templates(self, waba, fields, limit).await
    }

    async fn messaging_analytics(
        &self,
        waba: &str,
        start: i64,
        end: i64,
        granularity: Granularity,
    ) -> Result<GraphPull<MessagingAnalyticsResponse>, GraphError> {
        GraphClient::messaging_analytics(self, waba, start, end, granularity).await
    }

    async fn insights_enabled(
        &self,
        waba: &str,
    ) -> Result<GraphPage<InsightsFlagResponse>, GraphError> {
        GraphClient::insights_enabled(self, waba).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: i64) -> GraphApiError {
        GraphApiError {
            code: Some(code),
            ..GraphApiError::default()
        }
    }

    #[test]
    fn classifies_graph_errors() {
        for code in THROTTLE_CODES {
            assert_eq!(classify(400, Some(&err(code))), ErrorClass::Throttled);
        }
        assert_eq!(classify(429, None), ErrorClass::Throttled);
        assert_eq!(classify(401, Some(&err(190))), ErrorClass::Auth);
        assert_eq!(classify(400, Some(&err(190))), ErrorClass::Auth);
        assert_eq!(classify(401, None), ErrorClass::Auth);
        assert_eq!(classify(503, None), ErrorClass::Transient);
        assert_eq!(classify(500, Some(&err(1))), ErrorClass::Transient);
        assert_eq!(classify(400, Some(&err(100))), ErrorClass::Other);
        for code in [10, 200, 294, 299] {
            assert_eq!(classify(403, Some(&err(code))), ErrorClass::Permission);
        }
        assert_eq!(classify(400, Some(&err(300))), ErrorClass::Other);
        let parsed = GraphApiError::from_body(
            r#"{"error":{"message":"Rate limit hit","type":"OAuthException","code":130429,"error_subcode":2494055,"fbtrace_id":"Az"}}"#,
        )
        .unwrap();
        assert_eq!(parsed.code, Some(130429));
        assert_eq!(parsed.error_subcode, Some(2494055));
        assert_eq!(GraphApiError::from_body("<html>busy</html>"), None);
    }

    #[test]
    fn reads_regain_access_from_usage_header() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-business-use-case-usage",
            r#"{"102290129340398":[{"type":"whatsapp_business_management","call_count":100,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":3}]}"#
                .parse()
                .unwrap(),
        );
        assert_eq!(regain_access_after(&h), Some(Duration::from_secs(180)));
        h.insert(
            "x-business-use-case-usage",
            r#"{"1":[{"estimated_time_to_regain_access":0}]}"#.parse().unwrap(),
        );
        assert_eq!(regain_access_after(&h), None, "0 means no wait");
        h.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(regain_access_after(&h), Some(Duration::from_secs(7)));
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1_000),
            max_regain_wait: Duration::from_secs(1),
        };
        let mut rng = StdRng::seed_from_u64(7);
        for attempt in 1..=10 {
            let exp = (100u64 << (attempt - 1)).min(1_000);
            let d = policy.backoff(attempt, &mut rng).as_millis() as u64;
            assert!(
                d >= exp / 2 && d <= exp,
                "attempt {attempt}: {d} ms not in [{}, {exp}]",
                exp / 2
            );
        }
    }

    #[test]
    fn token_never_prints_and_urls_are_built_from_config() {
        let mut config = GraphConfig::new("http://127.0.0.1:9/graph", Secret::new("EAAG-secret"));
        config.api_version = "v23.0".into();
        let client = GraphClient::new(config.clone()).unwrap();
        assert!(!format!("{client:?}{config:?}").contains("EAAG-secret"));
        let url = client
            .waba_url("102290129340398", Some("template_analytics"))
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/graph/v23.0/102290129340398/template_analytics"
        );
        assert!(client.waba_url("../x", None).is_err());
        let next = Url::parse(
            "http://127.0.0.1:9/graph/v23.0/1/message_templates?after=b&access_token=EAAG-secret",
        )
        .unwrap();
        let followed = client.follow("1", next.as_str(), &url, None).unwrap();
        assert!(
            !followed.as_str().contains("EAAG"),
            "token stripped from next links"
        );
        let foreign = client
            .follow("1", "https://evil.example/x", &url, Some("cur"))
            .unwrap();
        assert_eq!(
            foreign.origin(),
            url.origin(),
            "never send the token elsewhere"
        );
        assert_eq!(foreign.query(), Some("after=cur"));
    }

    #[test]
    fn config_from_env() {
        let c = GraphConfig::from_lookup(|k| match k {
            "META_ACCESS_TOKEN" => Some("t".into()),
            "GRAPH_URL" => Some("http://127.0.0.1:1".into()),
            "GRAPH_MAX_ATTEMPTS" => Some("2".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.retry.max_attempts, 2);
        assert_eq!(c.api_version, DEFAULT_API_VERSION);
        let e = GraphConfig::from_lookup(|_| None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "missing environment variable META_ACCESS_TOKEN"
        );
    }
}
