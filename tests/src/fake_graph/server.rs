//! The local HTTP server: the handle tests steer it with, request recording, faults.

use super::config::*;
use super::data::*;
use super::routes::*;
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

pub(super) struct State {
    pub(super) config: FakeGraphConfig,
    pub(super) base_url: String,
    pub(super) faults: VecDeque<Fault>,
    pub(super) requests: Vec<RecordedRequest>,
}

/// Shared control of a running fake: faults, recorded requests, data changes.
#[derive(Clone)]
pub struct FakeGraphHandle {
    pub(super) state: Arc<Mutex<State>>,
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
    pub(super) task: tokio::task::JoinHandle<()>,
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

pub(super) async fn serve(handle: FakeGraphHandle, listener: TcpListener) {
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

pub(super) type Response = hyper::Response<Full<Bytes>>;

pub(super) fn respond(status: u16, headers: &[(&str, String)], body: Value) -> Response {
    let mut b = hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json");
    for (k, v) in headers {
        b = b.header(*k, v);
    }
    b.body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}

pub(super) fn graph_error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> Response {
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

pub(super) async fn answer(
    handle: &FakeGraphHandle,
    req: hyper::Request<hyper::body::Incoming>,
) -> Response {
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
pub(super) fn conversion_events(body: &str) -> Response {
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

pub(super) fn fault_response(fault: &Fault, path: &str) -> Response {
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
