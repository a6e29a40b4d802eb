//! `make bench` (second half): DynamoDB requests per status event, counted at the SDK by
//! an interceptor, for the shapes Meta sends: single-status POSTs, a 1,000-status POST, and
//! generated traffic with every body delivered 3×. Also prints the handler time of the
//! 1,000-status POST against the local stack (moto; informational, not AWS latency).

use integration_tests::harness::Stack;
use integration_tests::traffic::{
    DeliveryOpts, Event, TrafficSpec, deliveries, generate, numbered_status, statuses_body,
};
use serde_json::json;
use std::time::Instant;

#[tokio::main]
async fn main() {
    if std::env::var_os("RUST_LOG").is_none() {
        // SAFETY: single-threaded at this point; set before any thread reads the env.
        unsafe { std::env::set_var("RUST_LOG", "warn") };
    }
    shared::telemetry::init();
    println!("DynamoDB requests per status event (counted at the SDK)\n");
    println!(
        "{:<44} {:>8} {:>8} {:>7} {:>12}",
        "scenario", "statuses", "writes", "reads", "writes/status"
    );

    let stack = Stack::start().await;
    for i in 0..300 {
        assert_eq!(
            stack
                .post(&statuses_body(&[numbered_status("bench", i)]))
                .await
                .0,
            200
        );
    }
    report("300 single-status POSTs", 300, &stack);

    let stack = Stack::start().await;
    let body = statuses_body(
        &(0..1000)
            .map(|i| numbered_status("bench", i))
            .collect::<Vec<_>>(),
    );
    let t = Instant::now();
    assert_eq!(stack.post(&body).await.0, 200);
    let elapsed = t.elapsed();
    report("one 1,000-status POST", 1000, &stack);
    stack.counter.reset();
    assert_eq!(stack.post(&body).await.0, 200);
    report("the same 1,000-status POST again (duplicate)", 1000, &stack);

    let stack = Stack::start().await;
    let spec = TrafficSpec {
        outbound_messages: 600,
        inbound_users: 0,
        ..TrafficSpec::default()
    };
    let traffic = generate(&spec);
    let statuses = traffic
        .events
        .iter()
        .filter(|e| matches!(e, Event::Status(_)))
        .count();
    let bodies = deliveries(
        &spec,
        &traffic,
        &DeliveryOpts {
            seed: 1,
            duplicate_factor: 3,
            shuffle: true,
            big_batch: 0,
        },
    );
    for b in &bodies {
        assert_eq!(stack.post(b).await.0, 200);
    }
    report(
        "generated statuses, each body sent 3×",
        statuses * 3,
        &stack,
    );
    println!(
        "\nhandler time, 1,000-status POST against moto on this machine: {} ms (moto is a single Python process; \
         DynamoDB itself takes ~5 ms per write at 32-way concurrency)",
        elapsed.as_millis()
    );
    broadcast().await;
    identity().await;
}

/// What identity links cost: 100 people each send a message by phone only, then one carrying
/// phone and business-scoped id (the first time the pair is seen), the same again, then one by
/// business-scoped id only. Counts the webhook's requests per message and the aggregator's
/// per message of each kind (it links and merges off the ingest path).
async fn identity() {
    use aggregator::handler::Aggregator;
    use shared::adapters::aws::dynamodb_client;
    use shared::telemetry::RequestCounter;

    const PEOPLE: usize = 100;
    let stack = Stack::start().await;
    let counter = RequestCounter::new();
    let aggregator = Aggregator::over(
        dynamodb_client(&stack.sdk, Some(counter.clone())),
        &stack.table,
    );
    let mut reader = integration_tests::streams::StreamReader::new(&stack.endpoint, &stack.table);
    let message = |k: usize, n: usize, phone: bool, bsuid: bool| {
        let (p, b) = (format!("6281300{k:05}"), format!("ID.{k:05}q"));
        let mut m = json!({"from": if phone { p.as_str() } else { "" }, "id": format!("wamid.id{k}.{n}"),
            "timestamp": (1_795_000_000 + n * 60).to_string(), "type": "text", "text": {"body": "halo"}});
        let mut c =
            json!({"profile": {"name": "Sari"}, "wa_id": if phone { p.as_str() } else { "" }});
        if bsuid {
            m["from_user_id"] = json!(b);
            c["user_id"] = json!(b);
        }
        serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [c], "messages": [m]}}]}]}))
        .expect("json")
    };
    println!("
identity links: requests per inbound message, 100 people (webhook on the ingest path; aggregator off it)");
    println!(
        "{:<52} {:>9} {:>9} {:>11} {:>11}",
        "message", "wh writes", "wh reads", "agg writes", "agg reads"
    );
    for (n, label, phone, bsuid) in [
        (0, "by phone only (a new lead)", true, false),
        (1, "phone + BSUID, pair not linked yet", true, true),
        (2, "phone + BSUID again (already linked)", true, true),
        (3, "BSUID only (linked person)", false, true),
    ] {
        stack.counter.reset();
        counter.reset();
        for k in 0..PEOPLE {
            assert_eq!(stack.post(&message(k, n, phone, bsuid)).await.0, 200);
        }
        let (ww, wr) = (stack.counter.writes(), stack.counter.reads());
        integration_tests::streams::pump(&mut reader, &aggregator).await;
        let per = |x: u64| x as f64 / PEOPLE as f64;
        println!(
            "{label:<52} {:>9.2} {:>9.2} {:>11.2} {:>11.2}",
            per(ww),
            per(wr),
            per(counter.writes()),
            per(counter.reads())
        );
    }
}

/// A simulated broadcast: 1,000 messages sent in the same second to 1,000 people, each then
/// delivered and read (3,000 statuses), folded by the real aggregator from the table's
/// stream. Counts the aggregator's writes and the hottest item / index partition.
async fn broadcast() {
    use aggregator::handler::Aggregator;
    use shared::adapters::aws::dynamodb_client;
    use shared::telemetry::RequestCounter;
    use std::collections::BTreeMap;

    let stack = Stack::start().await;
    let second = 1_795_000_000i64;
    let statuses: Vec<serde_json::Value> = (0..3_000)
        .map(|i| {
            let (msg, state) = (i % 1_000, ["sent", "delivered", "read"][i / 1_000]);
            let mut s = json!({"id": format!("wamid.broadcast{msg:04}"), "status": state,
                "timestamp": (second + (i / 1_000) as i64 * 5).to_string(),
                "recipient_id": format!("6281200{msg:05}")});
            if state == "sent" {
                s["pricing"] = json!({"billable": true, "pricing_model": "PMP", "type": "regular", "category": "marketing"});
            }
            s
        })
        .collect();
    for chunk in statuses.chunks(1_000) {
        assert_eq!(stack.post(&statuses_body(chunk)).await.0, 200);
    }
    let counter = RequestCounter::new();
    let aggregator = Aggregator::over(
        dynamodb_client(&stack.sdk, Some(counter.clone())),
        &stack.table,
    );
    let mut reader = integration_tests::streams::StreamReader::new(&stack.endpoint, &stack.table);
    let records = integration_tests::streams::pump(&mut reader, &aggregator).await;
    let markers: Vec<_> = stack
        .scan()
        .await
        .into_iter()
        .filter(|i| {
            i.get("item_kind")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some("lead_activity")
        })
        .collect();
    let mut per_partition: BTreeMap<String, usize> = BTreeMap::new();
    for m in &markers {
        if let Some(b) = m.get("time_bucket").and_then(|v| v.as_s().ok()) {
            *per_partition.entry(b.clone()).or_default() += 1;
        }
    }
    let hottest = per_partition.values().copied().max().unwrap_or(0);
    println!(
        "\nsimulated broadcast: 1,000 messages in one second, 3,000 statuses → {records} stream records → \
         {} aggregator writes ({:.3} per message) and {} reads ({:.3} per message: who each recipient is \
         and whether they ever wrote, for the person rollups); {} markers, each written once",
        counter.writes(),
        counter.writes() as f64 / 1_000.0,
        counter.reads(),
        counter.reads() as f64 / 1_000.0,
        markers.len()
    );
    println!(
        "by_time index partitions written in that second: {} (hottest {hottest} writes = {hottest} writes/s; \
         budget ≤ 500 per item or partition): {per_partition:?}",
        per_partition.len()
    );
}

fn report(name: &str, statuses: usize, stack: &Stack) {
    let (w, r) = (stack.counter.writes(), stack.counter.reads());
    println!(
        "{name:<44} {statuses:>8} {w:>8} {r:>7} {:>12.3}",
        w as f64 / statuses as f64
    );
}
