//! `make bench` (cold start): starts each function's **release** binary as Lambda would,
//! against a fake Lambda Runtime API on loopback, with the local stack (moto) behind it, and
//! measures, over several runs: process start → its first `GET …/invocation/next` (init: config,
//! secrets, SDK clients, the first TLS-free connection to moto) and that first invocation's
//! event → its response (the first request, cold). Also the size of each binary zipped the
//! way SAM deploys it (`bootstrap` in a zip, deflate).
//!
//! Build first: `cargo build --release -p webhook -p aggregator -p leads -p reports
//! -p report-jobs -p conversions -p lead-imports -p meta-sync` (host target; see BENCHMARKS.md for why not arm64).
//! `cargo run --release -p integration-tests --bin cold-start -- [runs]`.

use integration_tests::harness::{LOCAL_APP_SECRET, LOCAL_VERIFY_TOKEN, Stack, workspace_root};
use integration_tests::loopback::read_request;
use serde_json::{Value, json};
use shared::domain::signature::sign;
use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const TOKEN: &str = "cold-start-token-0123456789";

/// What the fake Runtime API saw, in order.
#[derive(Debug)]
enum Seen {
    Next,
    Response(String),
    Error(String),
}

/// A minimal Lambda Runtime API: the first `/next` gets `event`, later ones wait forever;
/// responses and errors are reported on the channel.
async fn runtime_api(event: Value) -> (String, mpsc::UnboundedReceiver<(Instant, Seen)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::unbounded_channel();
    let body = event.to_string();
    tokio::spawn(async move {
        let mut served = false;
        while let Ok((mut conn, _)) = listener.accept().await {
            let tx = tx.clone();
            let first = !served;
            let body = body.clone();
            tokio::spawn(async move {
                loop {
                    let Some((head, payload)) = read_request(&mut conn).await else {
                        return;
                    };
                    let line = head.lines().next().unwrap_or_default().to_string();
                    if line.starts_with("GET") && line.contains("/invocation/next") {
                        let _ = tx.send((Instant::now(), Seen::Next));
                        if !first {
                            // Later polls: never answered (the process is killed).
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                            return;
                        }
                        let deadline = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap()
                            .as_millis()
                            + 30_000;
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                             lambda-runtime-aws-request-id: req-1\r\n\
                             lambda-runtime-deadline-ms: {deadline}\r\n\
                             lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:000000000000:function:f\r\n\
                             lambda-runtime-trace-id: Root=1-00000000-000000000000000000000000\r\n\
                             content-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = conn.write_all(resp.as_bytes()).await;
                    } else {
                        let seen = if line.contains("/response") {
                            Seen::Response(payload)
                        } else {
                            Seen::Error(format!("{line} {payload}"))
                        };
                        let _ = tx.send((Instant::now(), seen));
                        let _ = conn
                            .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
                            .await;
                    }
                }
            });
            served = true;
        }
    });
    (addr, rx)
}

fn http_event(method: &str, path: &str, headers: Value, body: Option<&[u8]>) -> Value {
    use base64::Engine;
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous", "apiId": "abc", "domainName": "abc.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abc", "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1", "userAgent": "cold-start"},
            "requestId": "r1", "routeKey": "$default", "stage": "$default",
            "time": "29/Nov/2026:00:00:00 +0000", "timeEpoch": 1_796_000_000_000_i64
        },
        "body": body.map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
        "isBase64Encoded": body.is_some()
    })
}

/// Each function, the event of its first invocation.
fn functions() -> Vec<(&'static str, Value)> {
    let status = serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "1",
        "changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": "2"},
        "statuses": [{"id": "wamid.cold", "status": "sent", "timestamp": "1796000000", "recipient_id": "5511"}]}}]}]}))
    .unwrap();
    let bearer = json!({"authorization": format!("Bearer {TOKEN}")});
    vec![
        (
            "webhook",
            http_event(
                "POST",
                "/",
                json!({"content-type": "application/json",
                       "x-hub-signature-256": sign(LOCAL_APP_SECRET.as_bytes(), &status)}),
                Some(&status),
            ),
        ),
        (
            "leads",
            http_event("GET", "/v1/leads", bearer.clone(), None),
        ),
        ("reports", http_event("GET", "/v1/reports", bearer, None)),
        (
            "aggregator",
            json!({"Records": [{"eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1", "dynamodb": {"Keys": {"pk": {"S": "MSG#x"}, "sk": {"S": "IN"}},
                "NewImage": {"pk": {"S": "MSG#x"}, "sk": {"S": "IN"}, "user_key": {"S": "5511"},
                "at": {"N": "1796000000"}, "msg_type": {"S": "text"}},
                "SequenceNumber": "1", "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES"}}]}),
        ),
        ("report-jobs", json!({"Records": []})),
        ("conversions", json!({"Records": []})),
        (
            "lead-imports",
            json!({"detail": {"object": {"key": "imports/not-a-job.csv"}}}),
        ),
        ("meta-sync", json!({"mode": "scheduled", "wabas": []})),
    ]
}

/// The next thing the Runtime API saw, waiting at most 30 s.
async fn wait(
    rx: &mut mpsc::UnboundedReceiver<(Instant, Seen)>,
) -> Result<Option<(Instant, Seen)>, tokio::time::error::Elapsed> {
    tokio::time::timeout(Duration::from_secs(30), rx.recv()).await
}

struct Sample {
    init: Duration,
    first: Duration,
}

async fn run_once(binary: &Path, stack: &Stack, event: Value) -> Result<Sample, String> {
    let (api, mut seen) = runtime_api(event).await;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "cold-start")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", &stack.endpoint)
        .env("TABLE_NAME", &stack.table)
        .env("BUCKET_NAME", &stack.bucket)
        .env("META_APP_SECRET", LOCAL_APP_SECRET)
        .env("WEBHOOK_VERIFY_TOKEN", LOCAL_VERIFY_TOKEN)
        .env("AUTH_MODE", "token")
        .env("API_TOKEN", TOKEN)
        .env("WABA_IDS", "1")
        .env("CAPI_DATASET_ID", "1")
        .env("META_ACCESS_TOKEN", "cold-start")
        .env("GRAPH_URL", "http://127.0.0.1:9")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let next = match wait(&mut seen).await {
        Ok(Some((t, Seen::Next))) => t,
        other => {
            let _ = child.kill().await;
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err).await;
            }
            return Err(format!(
                "no /next from {}: {other:?} {err}",
                binary.display()
            ));
        }
    };
    let done = match wait(&mut seen).await {
        Ok(Some((t, Seen::Response(payload)))) => {
            // An HTTP function's answer must be a success, not a quick error.
            let status = serde_json::from_str::<Value>(&payload)
                .ok()
                .and_then(|v| v["statusCode"].as_u64());
            if status.is_some_and(|s| s != 200) {
                let _ = child.kill().await;
                return Err(format!("{}: answered {payload}", binary.display()));
            }
            t
        }
        Ok(Some((_, Seen::Error(e)))) => {
            let _ = child.kill().await;
            return Err(format!("{}: invocation error {e}", binary.display()));
        }
        other => {
            let _ = child.kill().await;
            return Err(format!("{}: first invocation: {other:?}", binary.display()));
        }
    };
    let _ = child.kill().await;
    Ok(Sample {
        init: next - started,
        first: done - next,
    })
}

fn zipped_size(binary: &Path) -> u64 {
    let bytes = std::fs::read(binary).expect("binary");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options).expect("zip entry");
    zip.write_all(&bytes).expect("zip write");
    zip.finish().expect("zip").into_inner().len() as u64
}

fn stats(mut v: Vec<Duration>) -> (f64, f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(v[v.len() / 2]), ms(v[0]), ms(v[v.len() - 1]))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    let stack = Stack::start().await;
    let release = workspace_root().join("target/release");
    println!(
        "cold start against a loopback Runtime API and moto, {runs} runs each (median / min / max)\n"
    );
    println!(
        "{:<12} {:>10} {:>10} {:>28} {:>28}",
        "function", "binary MB", "zip MB", "init ms (start → /next)", "first invocation ms"
    );
    for (name, event) in functions() {
        let binary = release.join(name);
        if !binary.exists() {
            return Err(format!(
                "{} is missing: cargo build --release -p {name} first",
                binary.display()
            )
            .into());
        }
        let mut samples = Vec::new();
        for _ in 0..runs {
            samples.push(run_once(&binary, &stack, event.clone()).await?);
        }
        let (i_med, i_min, i_max) = stats(samples.iter().map(|s| s.init).collect());
        let (f_med, f_min, f_max) = stats(samples.iter().map(|s| s.first).collect());
        let mb = |b: u64| b as f64 / 1_048_576.0;
        println!(
            "{name:<12} {:>10.1} {:>10.1} {:>28} {:>28}",
            mb(std::fs::metadata(&binary)?.len()),
            mb(zipped_size(&binary)),
            format!("{i_med:.1} / {i_min:.1} / {i_max:.1}"),
            format!("{f_med:.1} / {f_min:.1} / {f_max:.1}"),
        );
    }
    Ok(())
}
