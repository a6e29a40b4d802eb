//! Serves the real Lambda handlers over local HTTP, converting requests the way a Function
//! URL does (query string parsed into parameters, non-UTF-8 bodies kept as binary).

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::{Body, RequestExt};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;
use webhook::handler::LiveWebhook;

/// Larger than the webhook cap, so the handler (not the server) answers 413 for 4–8 MB.
const READ_LIMIT: usize = 8 * 1024 * 1024;

pub struct Functions {
    pub webhook: LiveWebhook,
}

/// Accepts connections until the task is dropped. Routes: `/webhook` → webhook function.
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

async fn route(
    functions: &Functions,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    if !(path == "/webhook" || path.starts_with("/webhook/")) {
        return plain(404, "not found: the webhook is served at /webhook");
    }
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, READ_LIMIT).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => return plain(413, "payload too large"),
    };
    let query: HashMap<String, String> = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let body = match std::str::from_utf8(&bytes) {
        Ok("") => Body::Empty,
        Ok(s) => Body::Text(s.to_string()),
        Err(_) => Body::Binary(bytes.to_vec()),
    };
    let request = http::Request::from_parts(parts, body).with_query_string_parameters(query);
    let response = functions
        .webhook
        .handle(request)
        .await
        .expect("handler never errors");
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
