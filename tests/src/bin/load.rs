//! `make bench` (load): the webhook under load on this machine, DynamoDB in dynalite (a
//! DynamoDB-compatible store in one Node process; moto answers ~60 writes/s), S3 in moto.
//!
//! 1. Handler time of a 1,000-status POST (request in → response out through the real
//!    handler, in process): against dynalite, and against a loopback DynamoDB endpoint that
//!    answers every call at once (what is left is the handler's own time: verify, parse, plan,
//!    build, serialise, sign and send 1,000 requests, read 1,000 answers).
//! 2. Load over loopback HTTP ([`Served`]): mixed traffic with 200 signed POSTs in flight; a
//!    burst of ≥ 10,000 statuses in 1,000-status POSTs all at once; a broadcast (one template
//!    to 10,000 people, then their statuses in 1,000-status batches, each sent twice,
//!    shuffled). After each, the stored items are read back and compared with the generator's
//!    truth (exact, or the run fails), and every answer must be a 200.
//!
//! `cargo run --release -p integration-tests --bin load` (part of `make bench`).

use integration_tests::harness::{LOCAL_APP_SECRET, Stack, signed_post, webhook_config};
use integration_tests::load::{Outcome, Served};
use integration_tests::loopback::InstantDynamoDb;
use integration_tests::traffic::{
    DeliveryOpts, Event, Traffic, TrafficSpec, broadcast, deliveries, envelope, generate,
    in_batches, numbered_status, statuses_body,
};
use shared::config::{DEFAULT_WRITE_CONCURRENCY, WebhookConfig};
use std::time::{Duration, Instant};

/// As the webhook binary ships: request building is allocation-bound (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 10;

/// The deployed write fan-out (the tests' default is smaller, for moto).
fn production(table: &str, bucket: &str) -> WebhookConfig {
    with_concurrency(DEFAULT_WRITE_CONCURRENCY)(table, bucket)
}

/// The webhook's config with `n` DynamoDB writes in flight per POST.
fn with_concurrency(n: usize) -> impl Fn(&str, &str) -> WebhookConfig {
    move |table, bucket| WebhookConfig {
        write_concurrency: n,
        ..webhook_config(table, bucket)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    if std::env::var_os("RUST_LOG").is_none() {
        // SAFETY: single-threaded at this point; set before any thread reads the env.
        unsafe { std::env::set_var("RUST_LOG", "error") };
    }
    shared::telemetry::init();
    handler_time().await;
    load().await;
}

/// CPU time this process has used, user + system (`/proc/self/stat`, in clock ticks of
/// 10 ms: summed over the runs, not per POST).
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or("")
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

/// Times `RUNS` fresh 1,000-status POSTs (new wamids each run: every write changes an item)
/// and then each again (Meta's retry: every write fails its condition), in process.
async fn time_posts(stack: &Stack, label: &str) {
    let (mut fresh, mut again) = (Vec::new(), Vec::new());
    let mut cpu = [Duration::ZERO; 2];
    for run in 0..RUNS {
        let statuses: Vec<_> = (0..1000)
            .map(|i| numbered_status(&format!("load{run}."), i))
            .collect();
        let body = statuses_body(&statuses);
        for (k, times) in [&mut fresh, &mut again].into_iter().enumerate() {
            stack.counter.reset();
            let request = signed_post(&body, LOCAL_APP_SECRET.as_bytes());
            let (t, c) = (Instant::now(), process_cpu());
            let response = stack.webhook.handle(request).await.expect("an answer");
            times.push(t.elapsed());
            cpu[k] += process_cpu() - c;
            assert_eq!(response.status().as_u16(), 200, "{label}: run {run}");
            assert_eq!(
                stack.counter.writes(),
                1000,
                "{label}: one write per status"
            );
        }
    }
    for ((what, times), cpu) in [("new statuses", fresh), ("same POST again", again)]
        .into_iter()
        .zip(cpu)
    {
        let mut sorted = times.clone();
        sorted.sort();
        println!(
            "{label:<28} {what:<16} median {:>7.1} ms   min {:>7.1}   max {:>7.1}   CPU of this process {:>5.0} ms/POST   runs: {}",
            ms((sorted[RUNS / 2 - 1] + sorted[RUNS / 2]) / 2),
            ms(sorted[0]),
            ms(sorted[RUNS - 1]),
            ms(cpu / RUNS as u32),
            times
                .iter()
                .map(|d| format!("{:.0}", ms(*d)))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
}

async fn handler_time() {
    println!(
        "1,000-status POST, handler time (request in → response out, in process; {RUNS} runs; \
         write concurrency {DEFAULT_WRITE_CONCURRENCY}; budget ≤ 250 ms)\n"
    );
    let stack = Stack::on_dynalite(production).await;
    time_posts(&stack, "DynamoDB = dynalite").await;
    drop(stack);
    let instant = InstantDynamoDb::start().await;
    let stack = Stack::split(instant.url.clone(), None, production).await;
    let before = instant.requests.load(std::sync::atomic::Ordering::Relaxed);
    time_posts(&stack, "DynamoDB = instant loopback").await;
    let answered = instant.requests.load(std::sync::atomic::Ordering::Relaxed) - before;
    assert_eq!(answered, 2 * RUNS as u64 * 1000, "every write reached it");
    println!("(the instant endpoint answered {answered} requests: 1,000 per POST)\n");
}

struct Scenario<'a> {
    name: &'a str,
    traffic: Traffic,
    bodies: Vec<Vec<u8>>,
    /// Status updates in the bodies, copies included.
    statuses: usize,
    /// Events (statuses, inbound messages, preferences) in the bodies, copies included.
    events: usize,
    in_flight: usize,
    /// DynamoDB writes in flight per POST (`WRITE_CONCURRENCY`).
    write_concurrency: usize,
}

async fn load() {
    println!(
        "load over loopback HTTP (DynamoDB = dynalite, S3 = moto; POST latency = client send → response read)\n"
    );
    println!(
        "{:<40} {:>6} {:>9} {:>6} {:>8} {:>7} {:>8} {:>8} {:>8} {:>11} {:>10} {:>6}",
        "scenario",
        "POSTs",
        "in flight",
        "writes",
        "events",
        "wall s",
        "POST/s",
        "p50 ms",
        "p99 ms",
        "statuses/s",
        "req/event",
        "not 200"
    );
    let mut failures = Vec::new();
    for scenario in [mixed(), burst(), broadcast_run()] {
        let stack = Stack::on_dynalite(with_concurrency(scenario.write_concurrency)).await;
        let served = Served::start(stack).await;
        let outcome = served.post_all(&scenario.bodies, scenario.in_flight).await;
        let requests = served.counter.writes() + served.counter.reads();
        print_row(&scenario, &outcome, requests);
        let diffs = served.check(&scenario.traffic.truth).await;
        println!(
            "    stored state vs the generator's truth ({} messages, {} inbound, {} leads): {}; reads on ingest: {}",
            scenario.traffic.truth.outbound.len(),
            scenario.traffic.truth.inbound_wamids.len(),
            scenario.traffic.truth.users.len(),
            if diffs.is_empty() {
                "exact".to_string()
            } else {
                format!(
                    "{} differences, first {:?}",
                    diffs.len(),
                    &diffs[..diffs.len().min(3)]
                )
            },
            served.counter.reads()
        );
        if !diffs.is_empty() || !outcome.not_ok().is_empty() {
            failures.push(scenario.name.to_string());
        }
    }
    assert!(failures.is_empty(), "failed: {failures:?}");
}

fn print_row(s: &Scenario<'_>, o: &Outcome, requests: u64) {
    let secs = o.wall.as_secs_f64();
    println!(
        "{:<40} {:>6} {:>9} {:>6} {:>8} {:>7.2} {:>8.0} {:>8.1} {:>8.1} {:>11.0} {:>10.3} {:>6}",
        s.name,
        o.posts(),
        o.peak_in_flight,
        s.write_concurrency,
        s.events,
        secs,
        o.posts() as f64 / secs,
        ms(o.percentile(50)),
        ms(o.percentile(99)),
        s.statuses as f64 / secs,
        requests as f64 / s.events as f64,
        if o.not_ok().is_empty() {
            "0".to_string()
        } else {
            o.not_ok().join(", ")
        }
    );
}

fn count(traffic: &Traffic, status: bool) -> usize {
    traffic
        .events
        .iter()
        .filter(|e| !status || matches!(e, Event::Status(_)))
        .count()
}

/// Generated traffic (outbound ladders, inbound users with ads and keywords, preferences),
/// batched 1–20 per body, each body 3×, shuffled; 200 POSTs in flight.
fn mixed() -> Scenario<'static> {
    let spec = TrafficSpec {
        seed: 31,
        outbound_messages: 4_000,
        inbound_users: 400,
        ..TrafficSpec::default()
    };
    let traffic = generate(&spec);
    let opts = DeliveryOpts {
        seed: 8,
        duplicate_factor: 3,
        shuffle: true,
        big_batch: 0,
    };
    Scenario {
        name: "mixed traffic, each body 3×, shuffled",
        bodies: deliveries(&spec, &traffic, &opts),
        statuses: 3 * count(&traffic, true),
        events: 3 * count(&traffic, false),
        traffic,
        in_flight: 200,
        // 200 POSTs × 32 writes would keep 6,400 requests queued at one Node process: dynalite,
        // not the webhook, then answers after the SDK's 5 s stall guard (→ 503). 8 keeps the
        // store's queue at ≤ 1,600.
        write_concurrency: 8,
    }
}

/// ≥ 10,000 distinct statuses in 1,000-status bodies (Meta's largest), all sent at once.
fn burst() -> Scenario<'static> {
    let spec = TrafficSpec {
        seed: 41,
        outbound_messages: 4_600,
        inbound_users: 0,
        ..TrafficSpec::default()
    };
    let traffic = generate(&spec);
    let statuses: Vec<&Event> = traffic
        .events
        .iter()
        .filter(|e| matches!(e, Event::Status(_)))
        .collect();
    assert!(statuses.len() >= 10_000, "{} statuses", statuses.len());
    let bodies: Vec<Vec<u8>> = statuses
        .chunks(1_000)
        .map(|c| envelope(&spec, c).to_string().into_bytes())
        .collect();
    Scenario {
        name: "burst: 1,000-status POSTs all at once",
        in_flight: bodies.len(),
        bodies,
        statuses: statuses.len(),
        events: statuses.len(),
        traffic,
        write_concurrency: DEFAULT_WRITE_CONCURRENCY,
    }
}

/// One template to 10,000 people; their statuses in 1,000-status batches, each batch 2×,
/// shuffled (a `read` may come before its `sent`), all in flight.
fn broadcast_run() -> Scenario<'static> {
    let spec = TrafficSpec {
        seed: 51,
        ..TrafficSpec::default()
    };
    let traffic = broadcast(&spec, 10_000);
    let opts = DeliveryOpts {
        seed: 9,
        duplicate_factor: 2,
        shuffle: true,
        big_batch: 0,
    };
    let bodies = in_batches(&spec, &traffic, 1_000, &opts);
    let statuses = 2 * count(&traffic, true);
    Scenario {
        name: "broadcast: 10,000 recipients, batches 2×",
        in_flight: bodies.len(),
        bodies,
        statuses,
        events: statuses,
        traffic,
        write_concurrency: DEFAULT_WRITE_CONCURRENCY,
    }
}
