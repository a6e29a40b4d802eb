//! Stream folding on one core: what the aggregator does per DynamoDB stream record before
//! any write — read both images and decide whether the record gives a lead marker (a new
//! message, or an earlier time for it). Most status updates give none. Budget: ≥ 50,000
//! records/s. Run: `make bench` (or `cargo bench -p shared --bench fold`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shared::domain::activity::activity_change;
use std::collections::HashMap;
use std::hint::black_box;

type Image = HashMap<String, String>;

fn image(pairs: &[(&str, String)]) -> Image {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// A broadcast's stream: per message a `sent` insert, then `delivered` and `read` updates,
/// plus inbound replies — the mix a 1,000 msg/s campaign produces.
fn records(n: usize) -> Vec<(Image, Image)> {
    let mut out = Vec::with_capacity(n);
    let mut i = 0usize;
    while out.len() < n {
        let pk = format!("MSG#wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI{i:010}QTRBQjg4MjI2OUYA");
        let base = vec![
            ("pk", pk.clone()),
            ("sk", "OUT".to_string()),
            ("recipient_phone", format!("6281234{:06}", i % 1_000_000)),
            ("phone_number_id", "106540352242922".to_string()),
            ("waba_id", "102290129340398".to_string()),
        ];
        let t = 1_795_000_000 + i as i64;
        let mut sent = base.clone();
        sent.push(("sent_at", t.to_string()));
        let mut delivered = sent.clone();
        delivered.push(("delivered_at", (t + 2).to_string()));
        let mut read = delivered.clone();
        read.push(("read_at", (t + 30).to_string()));
        out.push((Image::new(), image(&sent)));
        out.push((image(&sent), image(&delivered)));
        out.push((image(&delivered), image(&read)));
        if i.is_multiple_of(10) {
            let inbound = image(&[
                ("pk", format!("MSG#wamid.in.{i:010}")),
                ("sk", "IN".to_string()),
                ("user_key", format!("6281234{:06}", i % 1_000_000)),
                ("at", (t + 60).to_string()),
                ("msg_type", "text".to_string()),
            ]);
            out.push((Image::new(), inbound));
        }
        i += 1;
    }
    out.truncate(n);
    out
}

fn bench(c: &mut Criterion) {
    const N: usize = 10_000;
    let batch = records(N);
    let mut group = c.benchmark_group("stream_fold");
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("activity_change", |b| {
        b.iter(|| {
            let mut markers = 0usize;
            for (old, new) in &batch {
                if activity_change(|k| old.get(k).cloned(), |k| new.get(k).cloned()).is_some() {
                    markers += 1;
                }
            }
            black_box(markers)
        })
    });
    // What each record then costs the rollups and the person facts: its message's tally
    // before and after (the slot move) and whether the change can touch its person's facts
    // (`facts::relevant`), from the images as SDK attributes (the aggregator converts them
    // once per record either way).
    type Attrs = HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;
    let attrs = |i: &Image| -> Option<Attrs> {
        (!i.is_empty()).then(|| {
            i.iter()
                .map(|(k, v)| {
                    let v = if k.ends_with("_at") || k == "at" {
                        aws_sdk_dynamodb::types::AttributeValue::N(v.clone())
                    } else {
                        aws_sdk_dynamodb::types::AttributeValue::S(v.clone())
                    };
                    (k.clone(), v)
                })
                .collect()
        })
    };
    let sdk_batch: Vec<(Option<Attrs>, Option<Attrs>)> =
        batch.iter().map(|(o, n)| (attrs(o), attrs(n))).collect();
    group.bench_function("tally_delta_and_fact_relevance", |b| {
        use shared::adapters::dynamodb::reports::outbound_from_item;
        use shared::adapters::dynamodb::rollups::tally_of_item;
        use shared::domain::metrics::facts::relevant;
        use shared::domain::metrics::tally::delta;
        b.iter(|| {
            let (mut moves, mut recomputes) = (0usize, 0usize);
            for (old, new) in &sdk_batch {
                let tally = |a: &Option<Attrs>| a.as_ref().and_then(tally_of_item);
                moves += delta(tally(old).as_ref(), tally(new).as_ref()).len();
                let msg = |a: &Option<Attrs>| a.as_ref().and_then(outbound_from_item);
                recomputes += usize::from(relevant(msg(old).as_ref(), msg(new).as_ref()));
            }
            black_box((moves, recomputes))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
