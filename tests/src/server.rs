//! Serves the real Lambda handlers over local HTTP, converting requests the way a Function
//! URL / API Gateway HTTP API does: the URI (path and raw query string) and the headers are
//! kept as sent, the query string is also parsed into parameters (repeated keys keep every
//! value), and non-UTF-8 bodies are kept as binary.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::{Body, Request, RequestExt};
use leads::handler::Leads;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;
use webhook::handler::LiveWebhook;

/// Larger than the webhook cap, so the handler (not the server) answers 413 for 4–8 MB.
const READ_LIMIT: usize = 8 * 1024 * 1024;

pub struct Functions {
    pub webhook: LiveWebhook,
    /// The managers' leads API, served under `/v1/` when present.
    pub leads: Option<Leads>,
    /// The managers' reports API, served under `/v1/reports` when present.
    pub reports: Option<LiveReportsApi>,
}

/// The reports API over DynamoDB and S3.
pub type LiveReportsApi = reports::handler::ReportsApi<
    shared::adapters::dynamodb::reports::DynamoDbReportSource,
    shared::adapters::dynamodb::reports::DynamoDbReportStore,
    shared::adapters::s3_reports::S3ReportObjects,
>;

/// Accepts connections until the task is dropped. Routes: `/webhook` → webhook function,
/// `/v1/...` → leads function (when configured; its 401/404/405 are the handler's own).
pub async fn serve(functions: Arc<Functions>, listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let functions = functions.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let functions = functions.clone();
                async move { Ok::<_, Infallible>(route(&functions, req).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

async fn route(
    functions: &Functions,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let path = req.uri().path();
    if under(path, "/webhook") {
        let request = match to_lambda(req).await {
            Ok(r) => r,
            Err(resp) => return resp,
        };
        let response = functions
            .webhook
            .handle(request)
            .await
            .expect("handler never errors");
        return from_lambda(response);
    }
    if under(path, "/v1/reports")
        && let Some(reports) = &functions.reports
    {
        let request = match to_lambda(req).await {
            Ok(r) => r,
            Err(resp) => return resp,
        };
        let Ok(response) = reports.handle(request).await;
        return from_lambda(response);
    }
    if under(path, "/v1") {
        let Some(leads) = &functions.leads else {
            return plain(404, "not found: the leads API is not served here");
        };
        let request = match to_lambda(req).await {
            Ok(r) => r,
            Err(resp) => return resp,
        };
        let Ok(response) = leads.handle(request).await;
        return from_lambda(response);
    }
    plain(
        404,
        "not found: the webhook is served at /webhook, the leads API under /v1/",
    )
}

/// The request as Lambda hands it to a handler: method, URI (with the raw query string),
/// headers and body as sent, plus the parsed query string parameters.
async fn to_lambda(
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<Request, hyper::Response<Full<Bytes>>> {
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, READ_LIMIT).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => return Err(plain(413, "payload too large")),
    };
    let mut query: HashMap<String, Vec<String>> = HashMap::new();
    if let Some(q) = parts.uri.query() {
        for (k, v) in url::form_urlencoded::parse(q.as_bytes()).into_owned() {
            query.entry(k).or_default().push(v);
        }
    }
    let body = match std::str::from_utf8(&bytes) {
        Ok("") => Body::Empty,
        Ok(s) => Body::Text(s.to_string()),
        Err(_) => Body::Binary(bytes.to_vec()),
    };
    Ok(http::Request::from_parts(parts, body).with_query_string_parameters(query))
}

fn from_lambda(response: lambda_http::Response<Body>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        Body::Text(t) => Bytes::from(t),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}

fn plain(status: u16, text: &'static str) -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .status(status)
        .body(Full::new(Bytes::from_static(text.as_bytes())))
        .expect("valid")
}
