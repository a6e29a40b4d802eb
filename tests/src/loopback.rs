//! The tests' own loopback endpoints: a bare HTTP/1.1 request reader (the fake Lambda Runtime
//! API of the cold-start harness, the SNS subscriber of the report-schedule test), and a
//! DynamoDB endpoint that answers at once (the load bench's handler-only time).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// Reads one request: its head (request line and headers) and its body (`content-length`
/// bytes). `None` when the connection closes first.
pub async fn read_request(conn: &mut TcpStream) -> Option<(String, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        let length = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        if buf.len() >= end + 4 + length {
            let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).to_string();
            return Some((head, body));
        }
    }
}

/// A DynamoDB endpoint on loopback that reads each request whole and answers it at once with
/// an empty success (`200 {}`: the item was written, its condition held), over keep-alive
/// HTTP/1.1 like a real endpoint. The real handler and the real DynamoDB adapter run
/// unchanged against it (requests built, serialised, signed, sent, answers parsed), so what
/// is left of a POST's time is the handler's own. Nothing is stored.
pub struct InstantDynamoDb {
    pub url: String,
    /// Requests answered.
    pub requests: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl InstantDynamoDb {
    pub async fn start() -> InstantDynamoDb {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let requests = Arc::new(AtomicU64::new(0));
        let counted = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let counted = counted.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let counted = counted.clone();
                            async move {
                                let _ = req.into_body().collect().await;
                                counted.fetch_add(1, Ordering::Relaxed);
                                hyper::Response::builder()
                                    .header("content-type", "application/x-amz-json-1.0")
                                    .body(Full::new(Bytes::from_static(b"{}")))
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        InstantDynamoDb {
            url,
            requests,
            task,
        }
    }
}

impl Drop for InstantDynamoDb {
    fn drop(&mut self) {
        self.task.abort();
    }
}
