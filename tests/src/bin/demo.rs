//! `make demo`: the product as it stands, on the local stack. Starts moto and the webhook
//! (over real HTTP), performs Meta's handshake, sends every corpus webhook and a generated
//! batch of signed traffic (each body 3×, shuffled, one 1,000-status POST), plus a forged
//! and an unparseable POST, then prints what was stored per kind and checks the headline
//! numbers against the generator's ground truth. Then runs meta-sync against the fake Graph
//! API and prints what it stored. Then reports: a generated ten-day week through the webhook,
//! the table stream (aggregator, report-jobs) and the leads API on the same moto, and one
//! report of every kind from the reports API over HTTP, each CSV downloaded by its link and
//! compared with the generator's truth. Stops everything it started.

use futures_util::stream::{self, StreamExt};
use integration_tests::corpus::{corpus_files, is_webhook};
use integration_tests::fake_graph::{FAKE_GRAPH_TOKEN, FakeGraph};
use integration_tests::harness::{LOCAL_APP_SECRET, LOCAL_VERIFY_TOKEN, Stack};
use integration_tests::server::{Functions, serve};
use integration_tests::sync_summary::{print_report, print_stored};
use integration_tests::traffic::{DeliveryOpts, TrafficSpec, deliveries, generate, sign};
use integration_tests::verify::{
    Figures, consent_states, differences, kept_kinds, kinds, leads_by_campaign,
};
use integration_tests::week::WeekSpec;
use meta_sync::handler::{MetaSync, Outcome, SyncSettings};
use shared::adapters::dynamodb::analytics::DynamoDbAnalyticsStore;
use shared::adapters::graph::{GraphClient, GraphConfig};
use shared::adapters::s3::S3RawStore;
use shared::config::Secret;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("RUST_LOG").is_none() {
        // SAFETY: single-threaded at this point; set before any thread reads the env.
        unsafe { std::env::set_var("RUST_LOG", "error") };
    }
    shared::telemetry::init();
    let started = Instant::now();
    println!("== wa-insights demo: webhook ingestion on the local stack ==");
    let stack = Stack::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/webhook", listener.local_addr()?);
    let (table, bucket, dynamodb, s3, counter) = (
        stack.table.clone(),
        stack.bucket.clone(),
        stack.dynamodb.clone(),
        stack.s3.clone(),
        stack.counter.clone(),
    );
    let endpoint = stack.endpoint.clone();
    let Stack { moto, webhook, .. } = stack;
    let server = tokio::spawn(serve(
        Arc::new(Functions {
            webhook,
            leads: None,
            reports: None,
        }),
        listener,
    ));
    println!(
        "moto {} · webhook {url} · table {table}",
        moto.as_ref().map(|m| m.url()).unwrap_or_default()
    );
    let http = reqwest::Client::new();
    let post = |body: Vec<u8>| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let sig = sign(LOCAL_APP_SECRET.as_bytes(), &body);
            let resp = http
                .post(&url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", sig)
                .body(body)
                .send()
                .await;
            resp.map(|r| r.status().as_u16()).unwrap_or(0)
        }
    };

    // 1. Meta's verification handshake.
    let ok = http
        .get(format!("{url}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={LOCAL_VERIFY_TOKEN}"))
        .send()
        .await?;
    let bad = http
        .get(format!(
            "{url}?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope"
        ))
        .send()
        .await?;
    println!(
        "\nhandshake: right token → {} {:?}; wrong token → {}",
        ok.status().as_u16(),
        ok.text().await?,
        bad.status().as_u16()
    );

    // 2. Every corpus webhook.
    let mut corpus_codes: BTreeMap<u16, usize> = BTreeMap::new();
    let files: Vec<_> = corpus_files()
        .into_iter()
        .filter(|(rel, _)| is_webhook(rel))
        .collect();
    for (_, path) in &files {
        *corpus_codes
            .entry(post(std::fs::read(path)?).await)
            .or_default() += 1;
    }
    println!(
        "corpus: {} webhook files POSTed → {corpus_codes:?}",
        files.len()
    );

    // 3. Generated traffic: duplicates ×3, shuffled, one 1,000-status POST.
    let spec = TrafficSpec {
        outbound_messages: 2000,
        inbound_users: 300,
        ..TrafficSpec::default()
    };
    let traffic = generate(&spec);
    let bodies = deliveries(
        &spec,
        &traffic,
        &DeliveryOpts {
            seed: 5,
            duplicate_factor: 3,
            shuffle: true,
            big_batch: 1000,
        },
    );
    let statuses_in_traffic: usize = traffic
        .events
        .iter()
        .filter(|e| matches!(e, integration_tests::traffic::Event::Status(_)))
        .count();
    counter.reset();
    let t = Instant::now();
    let codes: Vec<u16> = stream::iter(bodies.clone())
        .map(post)
        .buffer_unordered(4)
        .collect()
        .await;
    let mut traffic_codes: BTreeMap<u16, usize> = BTreeMap::new();
    for c in codes {
        *traffic_codes.entry(c).or_default() += 1;
    }
    println!(
        "traffic: {} events ({} statuses) in {} POSTs incl. duplicates → {traffic_codes:?} in {:.1} s",
        traffic.events.len(),
        statuses_in_traffic,
        bodies.len(),
        t.elapsed().as_secs_f64()
    );
    println!(
        "DynamoDB requests for the traffic: {} writes, {} reads ({:.2} writes per delivered event incl. duplicates)",
        counter.writes(),
        counter.reads(),
        counter.writes() as f64 / (traffic.events.len() * 3) as f64
    );

    // 4. A forged POST and a signed-but-unparseable one.
    let forged = http
        .post(&url)
        .header("x-hub-signature-256", format!("sha256={}", "0".repeat(64)))
        .body("{}")
        .send()
        .await?;
    let broken = post(b"{\"object\":\"whatsapp_business_account\",\"entry\":[".to_vec()).await;
    println!(
        "forged POST → {}; signed but unparseable POST → {broken} (kept raw in S3)",
        forged.status().as_u16()
    );

    // 5. What was stored.
    let items = integration_tests::harness::scan_table(&dynamodb, &table).await;
    println!("\nstored items by kind:");
    for (k, n) in kinds(&items) {
        println!("  {k:<16} {n:>6}");
    }
    println!("kept raw (unmodelled, named):");
    for (k, n) in kept_kinds(&items) {
        println!("  {k:<40} {n:>4}");
    }
    let quarantined = s3
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("quarantine/")
        .send()
        .await?
        .key_count()
        .unwrap_or(0);
    println!("quarantined bodies in s3://{bucket}/quarantine/: {quarantined}");

    let generated: Vec<_> = items
        .iter()
        .filter(|i| {
            let pk = i
                .get("pk")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                .unwrap_or("");
            i.get("sk")
                .and_then(|v| v.as_s().ok())
                .is_some_and(|s| s == "OUT")
                && traffic
                    .truth
                    .outbound
                    .contains_key(pk.trim_start_matches("MSG#"))
        })
        .collect();
    let stored = Figures::of(generated);
    let truth = Figures::of_truth(&traffic.truth);
    println!("\ngenerated outbound messages   stored  truth");
    for (name, a, b) in [
        ("sent", stored.sent, truth.sent),
        (
            "delivered (delivered ∨ read)",
            stored.delivered,
            truth.delivered,
        ),
        ("read", stored.read, truth.read),
        ("failed (last status)", stored.failed, truth.failed),
        ("paid", stored.paid, truth.paid),
        ("free", stored.free, truth.free),
    ] {
        println!(
            "  {name:<28} {a:>6} {b:>6} {}",
            if a == b { "✓" } else { "✗" }
        );
    }
    println!("\nleads by first-touch utm_campaign:");
    for (c, n) in leads_by_campaign(&items) {
        println!("  {c:<20} {n:>5}");
    }
    println!("consent state (category, state) → users:");
    for ((cat, state), n) in consent_states(&items) {
        println!("  {cat:<10} {state:<8} {n:>5}");
    }
    let diffs = differences(&traffic.truth, &items);

    // meta-sync: the real handler against the fake Graph API and the same table and bucket.
    println!("\n== meta-sync: Meta's pricing and template analytics (fake Graph API) ==");
    let graph = FakeGraph::standard().await?;
    let graph_config = graph.handle.config();
    let settings = SyncSettings {
        waba_ids: graph_config.wabas.iter().map(|w| w.id.clone()).collect(),
        snapshot_prefix: "snapshots/".into(),
        clicks_unavailable: graph_config
            .wabas
            .iter()
            .filter(|w| !w.clicks_available)
            .map(|w| w.id.clone())
            .collect(),
        chunk_days: 30,
    };
    let sync = MetaSync::new(
        GraphClient::new(GraphConfig::new(
            graph.url.clone(),
            Secret::new(FAKE_GRAPH_TOKEN),
        ))?,
        DynamoDbAnalyticsStore::new(dynamodb.clone(), &table),
        S3RawStore::new(s3.clone(), &bucket),
        settings,
    );
    // The last four weeks (a first scheduled run would pull Meta's whole year; slow on moto).
    let today = chrono::Utc::now().date_naive();
    let payload = serde_json::json!({
        "mode": "backfill",
        "from": (today - chrono::Duration::days(27)).to_string(),
        "to": today.to_string(),
    });
    let report = sync.handle(payload, chrono::Utc::now()).await?;
    print_report(&report);
    print_stored(&dynamodb, &table).await;
    let snapshots = s3
        .list_objects_v2()
        .bucket(&bucket)
        .prefix("snapshots/")
        .send()
        .await?
        .key_count()
        .unwrap_or(0);
    println!("raw Graph snapshots in s3://{bucket}/snapshots/: {snapshots}");
    drop(graph);

    // Reports: a generated week through the real webhook, stream and APIs (a table of its own
    // on the same moto; see `demo_reports`), every kind in Asia/Jakarta against the truth.
    let week_spec = WeekSpec {
        days: 10,
        ..Default::default()
    };
    let report_diffs = integration_tests::demo_reports::run(&endpoint, &week_spec).await?;
    server.abort();
    drop(moto);
    println!(
        "\nground truth check: {}",
        if diffs.is_empty() {
            "exact ✓".to_string()
        } else {
            format!("{} differences ✗", diffs.len())
        }
    );
    for d in diffs.iter().take(10) {
        println!("  {d}");
    }
    println!(
        "reports check: {}",
        if report_diffs.is_empty() {
            "every report equals the truth ✓".to_string()
        } else {
            format!("{} differences ✗", report_diffs.len())
        }
    );
    for d in report_diffs.iter().take(10) {
        println!("  {d}");
    }
    println!(
        "done in {:.1} s; local stack stopped",
        started.elapsed().as_secs_f64()
    );
    if !diffs.is_empty()
        || !report_diffs.is_empty()
        || corpus_codes.keys().any(|c| *c != 200)
        || report.outcome != Outcome::Complete
    {
        std::process::exit(1);
    }
    Ok(())
}
