//! Whole ingest path against ground truth: generated traffic (users, ads, STOP keywords,
//! every status ladder), each body delivered 3×, shuffled so statuses arrive out of order,
//! one 1,000-status POST — the stored numbers must equal the truth exactly.

use futures_util::stream::{self, StreamExt};
use integration_tests::harness::Stack;
use integration_tests::traffic::{DeliveryOpts, TrafficSpec, deliveries, generate};
use integration_tests::verify::{Figures, differences};

#[tokio::test]
async fn duplicated_reordered_batched_traffic_matches_ground_truth() {
    let stack = Stack::start().await;
    let spec = TrafficSpec {
        outbound_messages: 1200,
        inbound_users: 120,
        ..TrafficSpec::default()
    };
    let traffic = generate(&spec);
    let bodies = deliveries(
        &spec,
        &traffic,
        &DeliveryOpts {
            seed: 3,
            duplicate_factor: 3,
            shuffle: true,
            big_batch: 1000,
        },
    );
    assert!(
        bodies.iter().any(|b| b.len() > 200_000),
        "a 1,000-status POST is part of the traffic"
    );
    let codes: Vec<u16> = stream::iter(bodies.iter())
        .map(|b| stack.post(b))
        .buffer_unordered(8)
        .map(|(c, _)| c)
        .collect()
        .await;
    assert!(
        codes.iter().all(|c| *c == 200),
        "every delivery acknowledged"
    );
    let items = stack.scan().await;
    let diffs = differences(&traffic.truth, &items);
    assert!(
        diffs.is_empty(),
        "{} differences, first: {:?}",
        diffs.len(),
        &diffs[..diffs.len().min(5)]
    );
    let outbound: Vec<_> = items
        .iter()
        .filter(|i| {
            i.get("sk")
                .and_then(|v| v.as_s().ok())
                .is_some_and(|s| s == "OUT")
        })
        .collect();
    assert_eq!(Figures::of(outbound), Figures::of_truth(&traffic.truth));
    assert_eq!(stack.counter.reads(), 0, "no reads on ingest");
}
