//! Load smoke: 200 signed POSTs in flight at once over loopback HTTP against the real
//! webhook, the table in dynalite (installed by `make setup`; missing → the harness panics
//! naming the fix), the bucket in moto. Generated traffic (outbound ladders, inbound users
//! with ads and STOP keywords, preferences), each body delivered twice, shuffled: every answer
//! is a 200 and the stored state equals the generator's truth exactly. Figures under load
//! are `make bench`'s (`tests/src/bin/load.rs`), never asserted here.

use integration_tests::harness::{Stack, webhook_config};
use integration_tests::load::Served;
use integration_tests::traffic::{DeliveryOpts, TrafficSpec, deliveries, generate};

const IN_FLIGHT: usize = 200;

#[tokio::test]
async fn two_hundred_concurrent_signed_posts_store_exactly_the_truth() {
    let served = Served::start(Stack::on_dynalite(webhook_config).await).await;
    let spec = TrafficSpec {
        seed: 21,
        outbound_messages: 600,
        inbound_users: 80,
        ..TrafficSpec::default()
    };
    let traffic = generate(&spec);
    let bodies = deliveries(
        &spec,
        &traffic,
        &DeliveryOpts {
            seed: 4,
            duplicate_factor: 2,
            shuffle: true,
            big_batch: 0,
        },
    );
    assert!(bodies.len() >= IN_FLIGHT, "{} bodies", bodies.len());
    let outcome = served.post_all(&bodies, IN_FLIGHT).await;
    assert_eq!(outcome.peak_in_flight, IN_FLIGHT, "POSTs in flight at once");
    assert!(
        outcome.not_ok().is_empty(),
        "every POST answered 200: {:?}",
        outcome.not_ok()
    );
    let diffs = served.check(&traffic.truth).await;
    assert!(
        diffs.is_empty(),
        "{} differences, first: {:?}",
        diffs.len(),
        &diffs[..diffs.len().min(5)]
    );
    assert_eq!(served.counter.reads(), 0, "no reads on ingest");
}
