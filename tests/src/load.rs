//! Load on the webhook over loopback HTTP: the real handler served as a Function URL serves it
//! ([`crate::server::serve`]), many signed POSTs in flight at once, each POST's latency as the
//! client sees it, and the stored state read back and compared with the generator's truth.
//! Used by the load smoke test (`tests/tests/it/load.rs`) and the load bench
//! (`tests/src/bin/load.rs`).

use crate::harness::{LOCAL_APP_SECRET, Stack, scan_table};
use crate::server::{Functions, serve};
use crate::traffic::{GroundTruth, sign};
use crate::verify::{Figures, differences};
use futures_util::stream::{self, StreamExt};
use shared::telemetry::RequestCounter;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A stack's webhook served over loopback HTTP; its stores live as long as it does.
pub struct Served {
    pub url: String,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub table: String,
    /// Every DynamoDB request of the served handler (its SDK client's interceptor).
    pub counter: RequestCounter,
    http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    _stack: (
        Option<crate::harness::Moto>,
        Option<crate::harness::Dynalite>,
    ),
}

/// What a run of POSTs got back.
#[derive(Debug)]
pub struct Outcome {
    /// Responses by HTTP status; 0 = no response (connection error).
    pub codes: BTreeMap<u16, usize>,
    /// Per POST, send → whole response read, sorted.
    pub latencies: Vec<Duration>,
    /// First POST sent → last response read.
    pub wall: Duration,
    /// The most POSTs the client had in flight at once.
    pub peak_in_flight: usize,
}

impl Outcome {
    pub fn posts(&self) -> usize {
        self.latencies.len()
    }

    /// Nearest-rank percentile of the POST latencies (`p` in 0..=100).
    pub fn percentile(&self, p: usize) -> Duration {
        let n = self.latencies.len();
        if n == 0 {
            return Duration::ZERO;
        }
        self.latencies[((p * n).div_ceil(100)).clamp(1, n) - 1]
    }

    /// Every response that is not a 200, as `status × count` (empty = all acknowledged).
    pub fn not_ok(&self) -> Vec<String> {
        self.codes
            .iter()
            .filter(|(c, _)| **c != 200)
            .map(|(c, n)| format!("{n} × {c}"))
            .collect()
    }
}

impl Served {
    /// Serves the stack's own handler (and its request counter) on a free loopback port.
    pub async fn start(stack: Stack) -> Served {
        let Stack {
            moto,
            dynalite,
            webhook,
            dynamodb,
            table,
            counter,
            ..
        } = stack;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let url = format!(
            "http://{}/webhook",
            listener.local_addr().expect("local address")
        );
        let server = tokio::spawn(serve(
            Arc::new(Functions {
                webhook,
                leads: None,
                reports: None,
            }),
            listener,
        ));
        Served {
            url,
            dynamodb,
            table,
            counter,
            http: reqwest::Client::new(),
            server,
            _stack: (moto, dynalite),
        }
    }

    /// POSTs every body signed with the local app secret, `in_flight` at a time (all of the
    /// first `in_flight` are sent before any answer is awaited).
    pub async fn post_all(&self, bodies: &[Vec<u8>], in_flight: usize) -> Outcome {
        let (now, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let started = Instant::now();
        let results: Vec<(u16, Duration)> = stream::iter(bodies)
            .map(|body| {
                let (now, peak) = (&now, &peak);
                async move {
                    let sig = sign(LOCAL_APP_SECRET.as_bytes(), body);
                    peak.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    let t = Instant::now();
                    let sent = self
                        .http
                        .post(&self.url)
                        .header("content-type", "application/json")
                        .header("x-hub-signature-256", sig)
                        .body(body.clone())
                        .send()
                        .await;
                    let code = match sent {
                        Ok(r) => {
                            let code = r.status().as_u16();
                            r.bytes().await.map(|_| code).unwrap_or(0)
                        }
                        Err(_) => 0,
                    };
                    let elapsed = t.elapsed();
                    now.fetch_sub(1, Ordering::SeqCst);
                    (code, elapsed)
                }
            })
            .buffer_unordered(in_flight.max(1))
            .collect()
            .await;
        let wall = started.elapsed();
        let mut codes = BTreeMap::new();
        for (code, _) in &results {
            *codes.entry(*code).or_default() += 1;
        }
        let mut latencies: Vec<Duration> = results.into_iter().map(|(_, d)| d).collect();
        latencies.sort();
        Outcome {
            codes,
            latencies,
            wall,
            peak_in_flight: peak.into_inner(),
        }
    }

    /// Every difference between the stored items and `truth` (empty = exact): each expected
    /// outbound message (its ladder, failure, pricing), inbound message, lead (first touch)
    /// and consent event ([`differences`]); the headline figures; and no message item or lead
    /// that the truth does not have.
    pub async fn check(&self, truth: &GroundTruth) -> Vec<String> {
        let items = scan_table(&self.dynamodb, &self.table).await;
        let mut diffs = differences(truth, &items);
        let sk = |i: &crate::verify::Item| {
            i.get("sk")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        let outbound: Vec<_> = items.iter().filter(|i| sk(i) == "OUT").collect();
        let (figures, expected) = (
            Figures::of(outbound.iter().copied()),
            Figures::of_truth(truth),
        );
        if figures != expected {
            diffs.push(format!(
                "figures: stored {figures:?}, expected {expected:?}"
            ));
        }
        for (what, stored, want) in [
            ("outbound messages", outbound.len(), truth.outbound.len()),
            (
                "inbound messages",
                items.iter().filter(|i| sk(i) == "IN").count(),
                truth.inbound_wamids.len(),
            ),
            (
                "leads",
                items.iter().filter(|i| sk(i) == "PROFILE").count(),
                truth.users.len(),
            ),
        ] {
            if stored != want {
                diffs.push(format!("{what}: stored {stored}, expected {want}"));
            }
        }
        diffs
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.server.abort();
    }
}
