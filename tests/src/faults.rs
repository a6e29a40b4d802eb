//! A loopback HTTP proxy in front of moto that injects storage faults on demand: after N
//! requests of one service (DynamoDB, DynamoDB Streams, S3) it answers every further request
//! of that service with a server error, or drops the connection without an answer, until it
//! is healed. The SDK under test is pointed at the proxy instead of moto, so the fault hits
//! a chosen write of a real request sequence (moto answers one request at a time, so with a
//! write concurrency of 1 the N-th write is always the same write). What passes is forwarded
//! byte for byte.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// Which AWS service a request is for (moto serves them all on one port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Service {
    DynamoDb,
    DynamoDbStreams,
    S3,
}

impl Service {
    fn of(headers: &http::HeaderMap) -> Service {
        match headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
            Some(t) if t.starts_with("DynamoDBStreams_") => Service::DynamoDbStreams,
            Some(t) if t.starts_with("DynamoDB_") => Service::DynamoDb,
            _ => Service::S3,
        }
    }
}

/// How a failing request fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The service's own "internal error" answer: DynamoDB's 500 `InternalServerError`, S3's
    /// 503 `ServiceUnavailable`.
    ServerError,
    /// The connection is closed before any answer (a process killed mid-request).
    Drop,
}

#[derive(Debug, Clone, Copy)]
struct Rule {
    pass: u64,
    fail: Option<u64>,
    fault: Fault,
}

#[derive(Debug, Default)]
struct State {
    /// Per service: requests still let through before failing, how many then fail (`None`:
    /// every one until healed), and how.
    rules: BTreeMap<Service, Rule>,
    /// Per service: requests forwarded to moto / failed.
    passed: BTreeMap<Service, u64>,
    failed: BTreeMap<Service, u64>,
}

/// The proxy; it serves until dropped.
pub struct FaultProxy {
    pub port: u16,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// A proxy on a free loopback port forwarding to `upstream` (`http://127.0.0.1:<port>`).
    pub async fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy port");
        let port = listener.local_addr().expect("proxy address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let upstream = upstream.trim_end_matches('/').to_string();
        let http = reqwest::Client::new();
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                let (state, upstream, http) = (shared.clone(), upstream.clone(), http.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req| {
                        let (state, upstream, http) =
                            (state.clone(), upstream.clone(), http.clone());
                        async move { forward(&state, &upstream, &http, req).await }
                    });
                    // A dropped request ends the connection with an error: nothing to do.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(conn), svc)
                        .await;
                });
            }
        });
        FaultProxy { port, state, task }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// From now on, `service` lets `n` more requests through, then fails every request with
    /// `fault` until [`FaultProxy::heal`].
    pub fn fail_after(&self, service: Service, n: u64, fault: Fault) {
        let rule = Rule {
            pass: n,
            fail: None,
            fault,
        };
        self.state().rules.insert(service, rule);
    }

    /// A blip: `service` lets `pass` more requests through, fails the next `fail`, then
    /// heals by itself.
    pub fn blip(&self, service: Service, pass: u64, fail: u64, fault: Fault) {
        let rule = Rule {
            pass,
            fail: Some(fail),
            fault,
        };
        self.state().rules.insert(service, rule);
    }

    /// `service` is down: every request fails with `fault`.
    pub fn fail(&self, service: Service, fault: Fault) {
        self.fail_after(service, 0, fault);
    }

    /// `service` is back: everything passes.
    pub fn heal(&self, service: Service) {
        self.state().rules.remove(&service);
    }

    /// Requests of `service` forwarded to moto so far.
    pub fn passed(&self, service: Service) -> u64 {
        self.state().passed.get(&service).copied().unwrap_or(0)
    }

    /// Requests of `service` failed so far.
    pub fn failed(&self, service: Service) -> u64 {
        self.state().failed.get(&service).copied().unwrap_or(0)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `Err` closes the connection without an answer (hyper drops it on a service error).
async fn forward(
    state: &Mutex<State>,
    upstream: &str,
    http: &reqwest::Client,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, std::io::Error> {
    let service = Service::of(req.headers());
    let fault = {
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        let fault = match s.rules.get_mut(&service) {
            Some(rule) if rule.pass > 0 => {
                rule.pass -= 1;
                None
            }
            Some(rule) => {
                let fault = rule.fault;
                match &mut rule.fail {
                    Some(1) => {
                        s.rules.remove(&service);
                    }
                    Some(left) => *left -= 1,
                    None => {}
                }
                Some(fault)
            }
            None => None,
        };
        let count = if fault.is_some() {
            &mut s.failed
        } else {
            &mut s.passed
        };
        *count.entry(service).or_default() += 1;
        fault
    };
    match fault {
        Some(Fault::Drop) => {
            return Err(std::io::Error::other("injected: connection dropped"));
        }
        Some(Fault::ServerError) => return Ok(server_error(service)),
        None => {}
    }
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = http.request(parts.method, format!("{upstream}{path}"));
    for (name, value) in &parts.headers {
        if !matches!(
            name.as_str(),
            "host" | "content-length" | "connection" | "transfer-encoding"
        ) {
            out = out.header(name, value);
        }
    }
    let resp = out.body(body).send().await.map_err(std::io::Error::other)?;
    let mut answer = hyper::Response::builder().status(resp.status());
    for (name, value) in resp.headers() {
        if !matches!(
            name.as_str(),
            "content-length" | "connection" | "transfer-encoding"
        ) {
            answer = answer.header(name, value);
        }
    }
    let bytes = resp.bytes().await.map_err(std::io::Error::other)?;
    Ok(answer.body(Full::new(bytes)).expect("valid response"))
}

fn server_error(service: Service) -> hyper::Response<Full<Bytes>> {
    let (status, content_type, body) = match service {
        Service::DynamoDb | Service::DynamoDbStreams => (
            500,
            "application/x-amz-json-1.0",
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error (injected)"}"#,
        ),
        Service::S3 => (
            503,
            "application/xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>ServiceUnavailable</Code><Message>injected</Message></Error>",
        ),
    };
    hyper::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("valid response")
}
