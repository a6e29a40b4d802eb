//! A fake Meta Graph API for the analytics pulls, served over local HTTP.
//!
//! It answers, for any date range and several WABAs, with deterministic data in Meta's
//! shapes (keys, categories, tiers, cost and click types taken from the corpus examples):
//! - `GET /<v>/<WABA>?fields=pricing_analytics.start(..).end(..).granularity(..).dimensions([..])`
//! - `GET /<v>/<WABA>?fields=analytics.start(..).end(..).granularity(..)`
//! - `GET /<v>/<WABA>/template_analytics?start=&end=&granularity=&metric_types=&template_ids=`
//! - `GET /<v>/<WABA>/message_templates?fields=&limit=`
//! - `GET /<v>/<WABA>?fields=is_enabled_for_insights`, `POST /<v>/<WABA>?is_enabled_for_insights=true`
//!
//! Paging uses a configurable page size, `paging.next` full URLs back to this server and
//! `paging.cursors.after`. A bearer token is checked (wrong → 401 / code 190). Faults are
//! injected through [`FakeGraphHandle`]: the next N requests are throttled (codes 4, 17,
//! 80007, 130429 or a bare HTTP 429), get an expired token (190), a 5xx, or a delay. Every
//! request is recorded (method, path, query) so tests can assert paging and windows.

use bytes::Bytes;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

pub const FAKE_GRAPH_TOKEN: &str = "fake-graph-token";

/// Daily pricing and messaging buckets start at 07:00 UTC (00:00 US Pacific), as in Meta's
/// examples; template analytics days start at 00:00 UTC.
const PACIFIC_OFFSET: i64 = 7 * 3600;
const DAY: i64 = 86_400;

/// One template in a fake WABA's catalogue.
#[derive(Debug, Clone)]
pub struct FakeTemplate {
    pub id: String,
    pub name: String,
    pub language: String,
    pub status: String,
    pub category: String,
    pub sub_category: Option<String>,
    pub previous_category: Option<String>,
    /// Button types: `URL`, `QUICK_REPLY`, `PHONE_NUMBER`, `OTP`.
    pub buttons: Vec<String>,
    /// `false`: Meta returns no template_analytics data points for it (e.g. never sent).
    pub has_insights: bool,
}

impl FakeTemplate {
    fn new(id: &str, name: &str, category: &str, status: &str, buttons: &[&str]) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            language: "en_US".into(),
            status: status.into(),
            category: category.into(),
            sub_category: None,
            previous_category: None,
            buttons: buttons.iter().map(|b| b.to_string()).collect(),
            has_insights: status == "APPROVED",
        }
    }

    fn has_button(&self, kind: &str) -> bool {
        self.buttons.iter().any(|b| b == kind)
    }
}

/// A WhatsApp Business Account as the fake knows it.
#[derive(Debug, Clone)]
pub struct FakeWaba {
    pub id: String,
    pub phone_numbers: Vec<String>,
    pub templates: Vec<FakeTemplate>,
    /// `is_enabled_for_insights`; when false template_analytics answers with no data.
    pub insights_enabled: bool,
    /// `false` for a WABA where Meta reports no clicks (EU, UK, Japan).
    pub clicks_available: bool,
    /// `false` for a WABA on a Solution Partner's credit line: COST is never returned.
    pub cost_reported: bool,
    /// Varies the generated volumes per WABA.
    pub seed: u64,
}

#[derive(Debug, Clone)]
pub struct FakeGraphConfig {
    pub token: String,
    /// Data points (or templates) per page.
    pub page_size: usize,
    /// `false`: pages carry only `cursors` (like Meta's template_analytics example), never
    /// `next`.
    pub links_next: bool,
    pub wabas: Vec<FakeWaba>,
}

impl Default for FakeGraphConfig {
    fn default() -> Self {
        Self::standard()
    }
}

impl FakeGraphConfig {
    /// Three WABAs: the corpus one (US/IN numbers, 10+ templates, everything reported), an
    /// EU one on a partner's credit line (no clicks, no cost), and one without template
    /// insights enabled.
    pub fn standard() -> Self {
        let mut promo = FakeTemplate::new(
            "1304694804498707",
            "coupon_expiration_reminder_number_vars",
            "MARKETING",
            "APPROVED",
            &["URL", "QUICK_REPLY"],
        );
        promo.language = "en".into();
        promo.sub_category = Some("CUSTOM".into());
        let mut hello = FakeTemplate::new(
            "1192339204654487",
            "hello_world",
            "MARKETING",
            "APPROVED",
            &[],
        );
        hello.previous_category = Some("ACCOUNT_UPDATE".into());
        let main = FakeWaba {
            id: "102290129340398".into(),
            phone_numbers: vec!["16505550111".into(), "16505550112".into()],
            templates: vec![
                FakeTemplate::new(
                    "1387372356726668",
                    "reservation_confirmation",
                    "UTILITY",
                    "APPROVED",
                    &["URL", "PHONE_NUMBER", "QUICK_REPLY"],
                ),
                promo,
                FakeTemplate::new(
                    "1625063511800527",
                    "coupon_expiration_reminder_named_vars",
                    "MARKETING",
                    "APPROVED",
                    &["URL"],
                ),
                FakeTemplate::new(
                    "1137051647947973",
                    "address_update",
                    "UTILITY",
                    "PENDING",
                    &[],
                ),
                FakeTemplate::new(
                    "1166414785519855",
                    "reservation_confirmation_short_banner",
                    "UTILITY",
                    "REJECTED",
                    &["URL"],
                ),
                hello,
                FakeTemplate::new(
                    "920070352646140",
                    "2023_april_promo",
                    "MARKETING",
                    "APPROVED",
                    &["QUICK_REPLY"],
                ),
                FakeTemplate::new(
                    "1421988012088524",
                    "login_code",
                    "AUTHENTICATION",
                    "APPROVED",
                    &["OTP"],
                ),
                FakeTemplate::new(
                    "2632273056924580",
                    "support_follow_up",
                    "UTILITY",
                    "APPROVED",
                    &["URL", "QUICK_REPLY"],
                ),
                FakeTemplate::new(
                    "1000000000000010",
                    "order_shipped",
                    "UTILITY",
                    "APPROVED",
                    &["URL"],
                ),
                FakeTemplate::new(
                    "1000000000000011",
                    "winter_sale",
                    "MARKETING",
                    "PAUSED",
                    &["URL"],
                ),
                FakeTemplate::new(
                    "1000000000000012",
                    "cart_reminder",
                    "MARKETING",
                    "APPROVED",
                    &["URL", "QUICK_REPLY"],
                ),
            ],
            insights_enabled: true,
            clicks_available: true,
            cost_reported: true,
            seed: 1,
        };
        let eu = FakeWaba {
            id: "209876543210987".into(),
            phone_numbers: vec!["4915123456789".into()],
            templates: vec![
                FakeTemplate::new(
                    "2000000000000001",
                    "angebot_der_woche",
                    "MARKETING",
                    "APPROVED",
                    &["URL"],
                ),
                FakeTemplate::new(
                    "2000000000000002",
                    "versand_info",
                    "UTILITY",
                    "APPROVED",
                    &["QUICK_REPLY"],
                ),
            ],
            insights_enabled: true,
            clicks_available: false,
            cost_reported: false,
            seed: 2,
        };
        let no_insights = FakeWaba {
            id: "301122334455667".into(),
            phone_numbers: vec!["5511987654321".into()],
            templates: vec![
                FakeTemplate::new(
                    "3000000000000001",
                    "boas_vindas",
                    "MARKETING",
                    "APPROVED",
                    &["URL"],
                ),
                FakeTemplate::new(
                    "3000000000000002",
                    "codigo_acesso",
                    "AUTHENTICATION",
                    "APPROVED",
                    &["OTP"],
                ),
            ],
            insights_enabled: false,
            clicks_available: true,
            cost_reported: true,
            seed: 3,
        };
        Self {
            token: FAKE_GRAPH_TOKEN.into(),
            page_size: 25,
            links_next: true,
            wabas: vec![main, eu, no_insights],
        }
    }
}

/// A fault answered instead of (or before) the normal response.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// HTTP 400 with a Graph error of this code (4, 17, 32, 613, 80007, 130429) and an
    /// `x-business-use-case-usage` header asking to wait `regain_minutes`.
    Throttle { code: i64, regain_minutes: u64 },
    /// A bare HTTP 429 without a Graph body.
    TooManyRequests,
    /// This status (429 or 5xx) with a plain-text body and a `Retry-After: <seconds>` header
    /// (what a proxy in front of Graph answers), no usage header.
    RetryAfter { status: u16, seconds: u64 },
    /// HTTP 401, code 190 subcode 463: the session has expired.
    ExpiredToken,
    /// This status (500: Graph's transient JSON error; others: a plain-text proxy page).
    ServerError(u16),
    /// Answers normally after this delay.
    Slow(Duration),
}

impl Fault {
    pub fn throttle(code: i64) -> Self {
        Fault::Throttle {
            code,
            regain_minutes: 0,
        }
    }
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The query decoded.
    pub params: BTreeMap<String, String>,
    pub authorized: bool,
    /// The request body (POSTs to the Conversions API).
    pub body: String,
    /// When it arrived (retries are spaced by the client's backoff).
    pub at: std::time::Instant,
}

impl RecordedRequest {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

struct State {
    config: FakeGraphConfig,
    base_url: String,
    faults: VecDeque<Fault>,
    requests: Vec<RecordedRequest>,
}

/// Shared control of a running fake: faults, recorded requests, data changes.
#[derive(Clone)]
pub struct FakeGraphHandle {
    state: Arc<Mutex<State>>,
}

impl FakeGraphHandle {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next `times` requests get `fault` (after any already queued).
    pub fn inject(&self, fault: Fault, times: usize) {
        let mut s = self.lock();
        s.faults.extend(std::iter::repeat_n(fault, times));
    }

    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    pub fn set_page_size(&self, n: usize) {
        self.lock().config.page_size = n.max(1);
    }

    pub fn set_links_next(&self, on: bool) {
        self.lock().config.links_next = on;
    }

    /// Changes a template's status (approvals, pauses) so catalogue history can be tested.
    pub fn set_template_status(&self, waba: &str, template_id: &str, status: &str) {
        let mut s = self.lock();
        if let Some(t) = s
            .config
            .wabas
            .iter_mut()
            .filter(|w| w.id == waba)
            .flat_map(|w| w.templates.iter_mut())
            .find(|t| t.id == template_id)
        {
            t.status = status.to_string();
        }
    }

    pub fn config(&self) -> FakeGraphConfig {
        self.lock().config.clone()
    }

    /// The pricing data points the fake serves for this window and dimensions (ground
    /// truth for tests).
    pub fn pricing_points(
        &self,
        waba: &str,
        start: i64,
        end: i64,
        granularity: &str,
        dimensions: &[&str],
    ) -> Vec<Value> {
        let s = self.lock();
        let dims: BTreeSet<String> = dimensions.iter().map(|d| d.to_string()).collect();
        s.config
            .wabas
            .iter()
            .find(|w| w.id == waba)
            .map(|w| pricing_points(w, start, end, granularity, &dims))
            .unwrap_or_default()
    }

    /// The template_analytics data points the fake serves (ground truth for tests).
    pub fn template_points(
        &self,
        waba: &str,
        template_ids: &[String],
        start: i64,
        end: i64,
    ) -> Vec<Value> {
        let s = self.lock();
        s.config
            .wabas
            .iter()
            .find(|w| w.id == waba)
            .map(|w| template_points(w, template_ids, start, end, &[]))
            .unwrap_or_default()
    }
}

/// A running fake Graph API on 127.0.0.1. Stops when dropped.
pub struct FakeGraph {
    /// `http://127.0.0.1:<port>`: the client's base URL.
    pub url: String,
    pub handle: FakeGraphHandle,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGraph {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGraph {
    pub async fn start(config: FakeGraphConfig) -> std::io::Result<Self> {
        Self::start_at(config, "127.0.0.1:0").await
    }

    /// On a given address (`make local` uses a fixed port so `GRAPH_URL` stays put).
    pub async fn start_at(config: FakeGraphConfig, addr: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let handle = FakeGraphHandle {
            state: Arc::new(Mutex::new(State {
                config,
                base_url: url.clone(),
                faults: VecDeque::new(),
                requests: Vec::new(),
            })),
        };
        let task = tokio::spawn(serve(handle.clone(), listener));
        Ok(Self { url, handle, task })
    }

    pub async fn standard() -> std::io::Result<Self> {
        Self::start(FakeGraphConfig::standard()).await
    }
}

async fn serve(handle: FakeGraphHandle, listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let handle = handle.clone();
                async move { Ok::<_, Infallible>(answer(&handle, req).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

type Response = hyper::Response<Full<Bytes>>;

fn respond(status: u16, headers: &[(&str, String)], body: Value) -> Response {
    let mut b = hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json");
    for (k, v) in headers {
        b = b.header(*k, v);
    }
    b.body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}

fn graph_error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> Response {
    let mut error = json!({
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AfakeTrace0001",
    });
    if let Some(s) = subcode {
        error["error_subcode"] = json!(s);
    }
    respond(status, &[], json!({ "error": error }))
}

async fn answer(handle: &FakeGraphHandle, req: hyper::Request<hyper::body::Incoming>) -> Response {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let params: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let body = http_body_util::BodyExt::collect(req.into_body())
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    let (fault, authorized) = {
        let mut s = handle.lock();
        let authorized = bearer.as_deref() == Some(s.config.token.as_str());
        s.requests.push(RecordedRequest {
            method: method.clone(),
            path: path.clone(),
            query,
            params: params.clone(),
            authorized,
            body: body.clone(),
            at: std::time::Instant::now(),
        });
        (s.faults.pop_front(), authorized)
    };
    match fault {
        Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
        Some(f) => return fault_response(&f, &path),
        None => {}
    }
    if !authorized {
        return graph_error(
            401,
            190,
            None,
            "Invalid OAuth access token - Cannot parse access token",
        );
    }
    if method == "POST" && path.ends_with("/events") {
        return conversion_events(&body);
    }
    let mut s = handle.lock();
    route(&mut s, &method, &path, &params)
}

/// `POST /<v>/<dataset id>/events`: the Conversions API for business messaging. Checks what
/// Meta requires of a WhatsApp event and answers `events_received`.
fn conversion_events(body: &str) -> Response {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return graph_error(400, 100, None, "(#100) The request body is not JSON");
    };
    let Some(events) = v["data"].as_array().filter(|d| !d.is_empty()) else {
        return graph_error(400, 100, None, "(#100) The parameter data is required");
    };
    const NAMES: [&str; 6] = [
        "Purchase",
        "LeadSubmitted",
        "InitiateCheckout",
        "AddToCart",
        "ViewContent",
        "OrderCreated",
    ];
    for e in events {
        let ok = e["action_source"] == "business_messaging"
            && e["messaging_channel"] == "whatsapp"
            && e["event_time"].is_i64()
            && e["event_name"].as_str().is_some_and(|n| NAMES.contains(&n))
            && e["user_data"]["ctwa_clid"].is_string()
            && e["user_data"]["whatsapp_business_account_id"].is_string();
        if !ok {
            return graph_error(
                400,
                100,
                Some(2804066),
                "(#100) Invalid parameter: messaging event is missing a required field",
            );
        }
    }
    respond(
        200,
        &[],
        json!({"events_received": events.len(), "messages": [], "fbtrace_id": "AfakeTrace0002"}),
    )
}

fn fault_response(fault: &Fault, path: &str) -> Response {
    let waba = path
        .split('/')
        .find(|seg| !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or("0");
    match fault {
        Fault::Throttle {
            code,
            regain_minutes,
        } => {
            let usage = json!({ waba: [{
                "type": "whatsapp_business_management",
                "call_count": 100,
                "total_cputime": 12,
                "total_time": 15,
                "estimated_time_to_regain_access": regain_minutes,
            }]});
            let message = match code {
                4 => "(#4) Application request limit reached".to_string(),
                17 => "(#17) User request limit reached".to_string(),
                80007 => "(#80007) There have been too many calls to this WhatsApp Business account. Wait a bit and try again.".to_string(),
                130429 => "(#130429) Rate limit hit".to_string(),
                c => format!("(#{c}) Calls to this API have exceeded the rate limit."),
            };
            let mut r = graph_error(400, *code, None, &message);
            r.headers_mut().insert(
                "x-business-use-case-usage",
                usage.to_string().parse().expect("header"),
            );
            r
        }
        Fault::TooManyRequests => hyper::Response::builder()
            .status(429)
            .header("content-type", "text/plain")
            .body(Full::new(Bytes::from_static(b"Too Many Requests")))
            .expect("valid"),
        Fault::RetryAfter { status, seconds } => hyper::Response::builder()
            .status(*status)
            .header("content-type", "text/plain")
            .header("retry-after", seconds.to_string())
            .body(Full::new(Bytes::from_static(b"Slow down")))
            .expect("valid"),
        Fault::ExpiredToken => graph_error(
            401,
            190,
            Some(463),
            "Error validating access token: Session has expired on Tuesday, 01-Jul-25 10:00:00 PDT. The current time is Wednesday, 02-Jul-25 09:00:00 PDT.",
        ),
        Fault::ServerError(500) => {
            let mut r = graph_error(
                500,
                2,
                None,
                "An unexpected error has occurred. Please retry your request later.",
            );
            *r.body_mut() = Full::new(Bytes::from(
                json!({"error": {"message": "An unexpected error has occurred. Please retry your request later.",
                    "type": "OAuthException", "is_transient": true, "code": 2, "fbtrace_id": "AfakeTrace0002"}})
                .to_string(),
            ));
            r
        }
        Fault::ServerError(status) => hyper::Response::builder()
            .status(*status)
            .header("content-type", "text/html")
            .body(Full::new(Bytes::from_static(
                b"<html><body>Service Unavailable</body></html>",
            )))
            .expect("valid"),
        Fault::Slow(_) => unreachable!("slow answers normally"),
    }
}

fn route(s: &mut State, method: &str, path: &str, params: &BTreeMap<String, String>) -> Response {
    // `/<version>/<waba>[/<edge>]`; the version segment is optional.
    let segs: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let segs = match segs.first() {
        Some(v) if v.starts_with('v') && v[1..].contains('.') => &segs[1..],
        _ => &segs[..],
    };
    let Some(waba_id) = segs.first() else {
        return graph_error(400, 100, None, "Unsupported request - no node");
    };
    if method == "POST"
        && segs.len() == 1
        && params.get("is_enabled_for_insights").map(String::as_str) == Some("true")
        && let Some(w) = s.config.wabas.iter_mut().find(|w| w.id == *waba_id)
    {
        // Meta: once confirmed, template analytics cannot be disabled. The id is a number.
        w.insights_enabled = true;
        return respond(
            200,
            &[],
            json!({ "id": w.id.parse::<u64>().unwrap_or_default() }),
        );
    }
    let s = &*s;
    let Some(waba) = s.config.wabas.iter().find(|w| w.id == *waba_id) else {
        return graph_error(
            400,
            100,
            Some(33),
            &format!(
                "Unsupported get request. Object with ID '{waba_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."
            ),
        );
    };
    let self_url = format!("{}{path}", s.base_url);
    match (method, segs.get(1).copied()) {
        ("GET", None) => {
            let fields = params.get("fields").map(String::as_str).unwrap_or("");
            if let Some(spec) = fields.strip_prefix("pricing_analytics.") {
                let f = expansion(spec);
                let (Some(start), Some(end)) = (num(&f, "start"), num(&f, "end")) else {
                    return graph_error(400, 100, None, "(#100) start and end are required");
                };
                let granularity = f.get("granularity").cloned().unwrap_or_default();
                let dims: BTreeSet<String> = list(f.get("dimensions").map_or("", |d| d))
                    .into_iter()
                    .collect();
                let points = pricing_points(waba, start, end, &granularity, &dims);
                let (page, paging) = paginate(s, &self_url, params, points);
                let mut analytics = json!({ "data": [{ "data_points": page }] });
                if let Some(p) = paging {
                    analytics["paging"] = p;
                }
                respond(
                    200,
                    &[],
                    json!({ "pricing_analytics": analytics, "id": waba.id }),
                )
            } else if let Some(spec) = fields.strip_prefix("analytics.") {
                let f = expansion(spec);
                let (Some(start), Some(end)) = (num(&f, "start"), num(&f, "end")) else {
                    return graph_error(400, 100, None, "(#100) start and end are required");
                };
                let granularity = f.get("granularity").cloned().unwrap_or_default();
                let points = messaging_points(waba, start, end, &granularity);
                respond(
                    200,
                    &[],
                    json!({ "analytics": {
                        "phone_numbers": waba.phone_numbers,
                        "granularity": granularity,
                        "data_points": points,
                    }, "id": waba.id }),
                )
            } else if fields == "is_enabled_for_insights" {
                respond(
                    200,
                    &[],
                    json!({ "is_enabled_for_insights": waba.insights_enabled, "id": waba.id }),
                )
            } else {
                graph_error(
                    400,
                    100,
                    None,
                    &format!("(#100) Tried accessing nonexisting field ({fields})"),
                )
            }
        }
        ("GET", Some("template_analytics")) => {
            let (Some(start), Some(end)) = (
                params.get("start").and_then(|v| day_or_unix(v)),
                params.get("end").and_then(|v| day_or_unix(v)),
            ) else {
                return graph_error(400, 100, None, "(#100) The parameter start is required");
            };
            let ids = list(params.get("template_ids").map_or("", |v| v));
            if ids.is_empty() || ids.len() > 10 {
                return graph_error(
                    400,
                    100,
                    None,
                    "(#100) Param template_ids must be an array of 1 to 10 template ids",
                );
            }
            let metrics = list(params.get("metric_types").map_or("", |v| v));
            if !waba.insights_enabled {
                // Meta does not document this answer; no data lets the pull tell "not
                // enabled" (from is_enabled_for_insights) apart from zero sends.
                return respond(200, &[], json!({ "data": [] }));
            }
            let points = template_points(waba, &ids, start, end, &metrics);
            let (page, paging) = paginate(s, &self_url, params, points);
            let mut body = json!({ "data": [{
                "granularity": "DAILY",
                "product_type": "cloud_api",
                "data_points": page,
            }]});
            if let Some(p) = paging {
                body["paging"] = p;
            }
            respond(200, &[], body)
        }
        ("GET", Some("message_templates")) => {
            let fields: Vec<String> = params
                .get("fields")
                .map(|f| f.split(',').map(|s| s.trim().to_string()).collect())
                .unwrap_or_else(|| {
                    [
                        "name",
                        "parameter_format",
                        "components",
                        "language",
                        "status",
                        "category",
                        "sub_category",
                        "previous_category",
                        "id",
                    ]
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
                });
            let templates: Vec<Value> = waba
                .templates
                .iter()
                .map(|t| template_json(t, &fields))
                .collect();
            let mut params = params.clone();
            if let Some(limit) = params.get("limit").and_then(|l| l.parse::<usize>().ok()) {
                // The request's limit wins over the configured page size, as with Meta.
                params.insert("__page_size".into(), limit.to_string());
            }
            let (page, paging) = paginate(s, &self_url, &params, templates);
            let mut body = json!({ "data": page });
            if let Some(p) = paging {
                body["paging"] = p;
            }
            respond(200, &[], body)
        }
        _ => graph_error(
            400,
            100,
            None,
            &format!("Unsupported {method} request on {path}"),
        ),
    }
}

/// Cuts `items` at `after` (an opaque cursor) into one page and its `paging` object:
/// cursors always, `next` (a full URL back here with the same query) when more remain.
fn paginate(
    s: &State,
    self_url: &str,
    params: &BTreeMap<String, String>,
    items: Vec<Value>,
) -> (Vec<Value>, Option<Value>) {
    let size = params
        .get("__page_size")
        .and_then(|v| v.parse().ok())
        .unwrap_or(s.config.page_size)
        .max(1);
    let offset = params
        .get("after")
        .and_then(|c| decode_cursor(c))
        .unwrap_or(0);
    if offset >= items.len() {
        // Past the end: an empty page without paging, as Graph answers a spent cursor.
        return (Vec::new(), None);
    }
    let end = (offset + size).min(items.len());
    let page: Vec<Value> = items[offset..end].to_vec();
    let mut paging = json!({ "cursors": {
        "before": encode_cursor(offset),
        "after": encode_cursor(end),
    }});
    if end < items.len() && s.config.links_next {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params
            .iter()
            .filter(|(k, _)| *k != "after" && *k != "__page_size")
        {
            q.append_pair(k, v);
        }
        q.append_pair("after", &encode_cursor(end));
        paging["next"] = json!(format!("{self_url}?{}", q.finish()));
    }
    (page, Some(paging))
}

fn encode_cursor(offset: usize) -> String {
    format!("QVFIU{offset:x}")
}

fn decode_cursor(c: &str) -> Option<usize> {
    usize::from_str_radix(c.strip_prefix("QVFIU")?, 16).ok()
}

/// `start(1).end(2).granularity(DAILY).dimensions(["A","B"])` → map.
fn expansion(spec: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = spec;
    while let Some(open) = rest.find('(') {
        let name = rest[..open].trim_start_matches('.').to_string();
        let Some(close) = rest[open..].find(')') else {
            break;
        };
        out.insert(name, rest[open + 1..open + close].to_string());
        rest = &rest[open + close + 1..];
    }
    out
}

fn num(f: &BTreeMap<String, String>, key: &str) -> Option<i64> {
    f.get(key).and_then(|v| day_or_unix(v))
}

/// Unix seconds or `YYYY-MM-DD` (UTC midnight).
fn day_or_unix(v: &str) -> Option<i64> {
    v.trim().parse::<i64>().ok().or_else(|| {
        NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
            .ok()
            .map(|d| {
                d.and_hms_opt(0, 0, 0)
                    .expect("midnight")
                    .and_utc()
                    .timestamp()
            })
    })
}

/// `["A","B"]`, `['A','B']`, `[1,2]` or `A,B` → items.
fn list(v: &str) -> Vec<String> {
    v.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|s| s.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// splitmix64 over the parts: the same inputs always give the same number.
fn mix(parts: &[u64]) -> u64 {
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
    for p in parts {
        h ^= p.wrapping_add(0x9E37_79B9_7F4A_7C15);
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
    }
    h
}

fn text_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Buckets `[start, end)` overlapping the window, aligned like Meta's.
fn buckets(start: i64, end: i64, granularity: &str, offset: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    match granularity.to_ascii_uppercase().as_str() {
        "HALF_HOUR" => {
            let mut b = start.div_euclid(1800) * 1800;
            while b < end {
                out.push((b, b + 1800));
                b += 1800;
            }
        }
        "MONTHLY" | "MONTH" => {
            let Some(first) = DateTime::from_timestamp(start - offset, 0) else {
                return out;
            };
            let (mut y, mut m) = (first.year(), first.month());
            loop {
                let at = |y: i32, m: u32| {
                    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0)
                        .single()
                        .map(|d| d.timestamp() + offset)
                };
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                let (Some(b), Some(e)) = (at(y, m), at(ny, nm)) else {
                    break;
                };
                if b >= end {
                    break;
                }
                out.push((b, e));
                (y, m) = (ny, nm);
            }
        }
        // DAILY / DAY and anything else.
        _ => {
            let mut b = (start - offset).div_euclid(DAY) * DAY + offset;
            while b < end {
                out.push((b, b + DAY));
                b += DAY;
            }
        }
    }
    out
}

/// The market × category combinations of the corpus example (country, tier, pricing type,
/// pricing category, price per message in millionths).
const PRICING_COMBOS: [(&str, Option<&str>, &str, &str, u64); 8] = [
    ("US", Some("0:MAX"), "REGULAR", "MARKETING", 25_000),
    ("US", Some("0:MAX"), "REGULAR", "MARKETING_LITE", 20_000),
    ("US", Some("0:2"), "REGULAR", "UTILITY", 4_000),
    ("US", Some("0:2"), "REGULAR", "AUTHENTICATION", 13_500),
    ("US", None, "FREE_CUSTOMER_SERVICE", "SERVICE", 0),
    ("US", None, "FREE_ENTRY_POINT", "SERVICE", 0),
    (
        "IN",
        Some("0:750000"),
        "REGULAR",
        "AUTHENTICATION_INTERNATIONAL",
        28_000,
    ),
    ("IN", None, "FREE_CUSTOMER_SERVICE", "UTILITY", 0),
];

/// Pricing points for one WABA: generated per phone × combination × bucket, then summed over
/// the dimensions not requested (as Meta does), zero volumes left out.
fn pricing_points(
    waba: &FakeWaba,
    start: i64,
    end: i64,
    granularity: &str,
    dims: &BTreeSet<String>,
) -> Vec<Value> {
    let has = |d: &str| dims.contains(d);
    let tier_shown = has("TIER") && has("PRICING_CATEGORY") && has("COUNTRY");
    // (bucket start, bucket end, phone, country, type, category, tier) → (volume, cost µ)
    type Key = (
        i64,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let mut sums: BTreeMap<Key, (u64, u64)> = BTreeMap::new();
    for (bs, be) in buckets(start, end, granularity, PACIFIC_OFFSET) {
        let span = ((be - bs) / 1800).max(1) as u64;
        for phone in &waba.phone_numbers {
            for (i, (country, tier, ptype, category, price)) in PRICING_COMBOS.iter().enumerate() {
                let h = mix(&[waba.seed, text_hash(phone), i as u64, bs as u64]);
                if h.is_multiple_of(5) {
                    continue;
                }
                // Volume grows with the bucket's length so monthly ≈ sum of days.
                let volume = (h >> 8) % 40 * span / 48 + 1;
                let key = (
                    bs,
                    be,
                    has("PHONE").then(|| phone.clone()),
                    has("COUNTRY").then(|| country.to_string()),
                    has("PRICING_TYPE").then(|| ptype.to_string()),
                    has("PRICING_CATEGORY").then(|| category.to_string()),
                    if tier_shown {
                        tier.map(str::to_string)
                    } else {
                        None
                    },
                );
                let e = sums.entry(key).or_default();
                e.0 += volume;
                e.1 += volume * price;
            }
        }
    }
    sums.into_iter()
        .map(
            |((bs, be, phone, country, ptype, category, tier), (volume, micros))| {
                let mut p = json!({ "start": bs, "end": be });
                for (k, v) in [
                    ("phone_number", phone),
                    ("country", country),
                    ("tier", tier),
                    ("pricing_type", ptype),
                    ("pricing_category", category),
                ] {
                    if let Some(v) = v {
                        p[k] = json!(v);
                    }
                }
                p["volume"] = json!(volume);
                if waba.cost_reported {
                    p["cost"] = json!(micros as f64 / 1_000_000.0);
                }
                p
            },
        )
        .collect()
}

/// Sent/delivered per bucket: delivered = the pricing volume, sent a little more.
fn messaging_points(waba: &FakeWaba, start: i64, end: i64, granularity: &str) -> Vec<Value> {
    let granularity = match granularity {
        "DAY" => "DAILY",
        "MONTH" => "MONTHLY",
        g => g,
    };
    buckets(start, end, granularity, PACIFIC_OFFSET)
        .into_iter()
        .map(|(bs, be)| {
            let delivered: u64 = pricing_points(waba, bs, be, granularity, &BTreeSet::new())
                .iter()
                .filter_map(|p| p["volume"].as_u64())
                .sum();
            let sent = delivered + mix(&[waba.seed, bs as u64, 7]) % (delivered / 10 + 1);
            json!({ "start": bs, "end": be, "sent": sent, "delivered": delivered })
        })
        .collect()
}

/// Template points per requested template × UTC day, in Meta's key order.
fn template_points(
    waba: &FakeWaba,
    ids: &[String],
    start: i64,
    end: i64,
    metrics: &[String],
) -> Vec<Value> {
    let wants = |m: &str| metrics.is_empty() || metrics.iter().any(|x| x.eq_ignore_ascii_case(m));
    let mut out = Vec::new();
    for id in ids {
        let Some(t) = waba.templates.iter().find(|t| &t.id == id) else {
            continue;
        };
        if !t.has_insights {
            continue;
        }
        for (bs, be) in buckets(start, end, "DAILY", 0) {
            let h = mix(&[waba.seed, text_hash(&t.id), bs as u64]);
            let sent = h % 200 + 1;
            let delivered = sent - (h >> 8) % (sent / 10 + 1);
            let read = delivered - (h >> 16) % (delivered / 3 + 1);
            let mut p = json!({ "template_id": t.id, "start": bs, "end": be });
            if wants("SENT") {
                p["sent"] = json!(sent);
            }
            if wants("DELIVERED") {
                p["delivered"] = json!(delivered);
            }
            if wants("READ") {
                p["read"] = json!(read);
            }
            let clickable = matches!(t.category.as_str(), "MARKETING" | "UTILITY");
            let url_clicks = (h >> 24) % (read / 4 + 1);
            let mut clicked = Vec::new();
            if wants("CLICKED") && clickable && waba.clicks_available {
                if t.has_button("URL") {
                    clicked.push(json!({"type": "url_button", "button_content": "Tell me more", "count": url_clicks}));
                    clicked.push(json!({"type": "unique_url_button", "button_content": "Tell me more", "count": url_clicks * 3 / 4}));
                }
                if t.has_button("QUICK_REPLY") {
                    clicked.push(json!({"type": "quick_reply_button", "button_content": "Contact Support", "count": (h >> 32) % (read / 5 + 1)}));
                }
                if !clicked.is_empty() {
                    p["clicked"] = json!(clicked);
                }
            }
            if wants("COST") && waba.cost_reported {
                let price = match t.category.as_str() {
                    "MARKETING" => 25_000,
                    "UTILITY" => 4_000,
                    "AUTHENTICATION" => 13_500,
                    _ => 0,
                };
                let spent = (delivered * price) as f64 / 1_000_000.0;
                let mut cost = vec![
                    json!({"type": "amount_spent", "value": spent}),
                    json!({"type": "cost_per_delivered", "value": round4(spent / delivered as f64)}),
                ];
                if t.has_button("URL") && url_clicks > 0 {
                    cost.push(json!({"type": "cost_per_url_button_click", "value": round4(spent / url_clicks as f64)}));
                }
                p["cost"] = json!(cost);
            }
            out.push(p);
        }
    }
    out
}

fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// A catalogue entry with only the requested fields (`id` always), components in the
/// corpus's shapes.
fn template_json(t: &FakeTemplate, fields: &[String]) -> Value {
    let want = |f: &str| fields.iter().any(|x| x == f);
    let mut v = json!({});
    if want("name") {
        v["name"] = json!(t.name);
    }
    if want("parameter_format") {
        v["parameter_format"] = json!("POSITIONAL");
    }
    if want("components") {
        let mut components = vec![
            json!({"type": "HEADER", "format": "TEXT", "text": "Hello {{1}}", "example": {"header_text": ["Pablo"]}}),
            json!({"type": "BODY", "text": format!("{} body {{{{1}}}}", t.name), "example": {"body_text": [["SUMMER20"]]}}),
            json!({"type": "FOOTER", "text": "Lucky Shrub"}),
        ];
        if !t.buttons.is_empty() {
            let buttons: Vec<Value> = t
                .buttons
                .iter()
                .map(|b| match b.as_str() {
                    "URL" => json!({"type": "URL", "text": "Tell me more", "url": "https://www.luckyshrub.com/deals"}),
                    "PHONE_NUMBER" => json!({"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+16467043595"}),
                    "OTP" => json!({"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}),
                    other => json!({"type": other, "text": "Contact Support"}),
                })
                .collect();
            components.push(json!({"type": "BUTTONS", "buttons": buttons}));
        }
        v["components"] = json!(components);
    }
    if want("language") {
        v["language"] = json!(t.language);
    }
    if want("status") {
        v["status"] = json!(t.status);
    }
    if want("category") {
        v["category"] = json!(t.category);
    }
    if want("sub_category")
        && let Some(s) = &t.sub_category
    {
        v["sub_category"] = json!(s);
    }
    if want("previous_category")
        && let Some(s) = &t.previous_category
    {
        v["previous_category"] = json!(s);
    }
    if want("quality_score") {
        let score = match t.status.as_str() {
            "APPROVED" => "GREEN",
            "PAUSED" => "RED",
            _ => "UNKNOWN",
        };
        v["quality_score"] = json!({"score": score, "date": 1_748_761_200});
    }
    v["id"] = json!(t.id);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_expansion_and_lists_parse() {
        let f = expansion(
            r#"start(1748761200).end(1749279600).granularity(DAILY).dimensions(["COUNTRY","PHONE"])"#,
        );
        assert_eq!(f["start"], "1748761200");
        assert_eq!(list(&f["dimensions"]), vec!["COUNTRY", "PHONE"]);
        assert_eq!(list("[1924084211297547,954638012257287]").len(), 2);
        assert_eq!(day_or_unix("2024-06-11"), Some(1718064000));
    }

    #[test]
    fn pricing_is_deterministic_and_aggregates_unrequested_dimensions() {
        let w = &FakeGraphConfig::standard().wabas[0];
        let all: BTreeSet<String> = [
            "COUNTRY",
            "PHONE",
            "PRICING_CATEGORY",
            "PRICING_TYPE",
            "TIER",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let a = pricing_points(w, 1748761200, 1748761200 + 3 * DAY, "DAILY", &all);
        let b = pricing_points(w, 1748761200, 1748761200 + 3 * DAY, "DAILY", &all);
        assert_eq!(a, b);
        let none = pricing_points(
            w,
            1748761200,
            1748761200 + 3 * DAY,
            "DAILY",
            &BTreeSet::new(),
        );
        assert_eq!(none.len(), 3, "one point per day without dimensions");
        let total = |v: &[Value]| v.iter().map(|p| p["volume"].as_u64().unwrap()).sum::<u64>();
        assert_eq!(total(&a), total(&none));
        assert!(
            a.iter()
                .all(|p| p["start"].as_i64().unwrap() % DAY == PACIFIC_OFFSET)
        );
    }
}
