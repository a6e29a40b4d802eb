//! CPU per status event on the webhook hot path: verify the signature over the raw bytes,
//! parse every item, plan the writes and build every DynamoDB request — everything the
//! handler does before I/O. Run: `make bench` (or `cargo bench -p shared --bench ingest`).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use shared::adapters::dynamodb::{DEFAULT_INITIAL_STAGE, request};
use shared::domain::consent::ConsentKeywords;
use shared::domain::ingest::plan;
use shared::domain::signature::{SignatureVerifier, sign};
use shared::domain::webhook::parse;
use std::hint::black_box;

/// The allocator the webhook binary ships with (request building is allocation-bound).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECRET: &[u8] = b"bench-app-secret";

/// A realistic batch: PMP pricing on sent and delivered, a conversation on FEP statuses,
/// the mix Meta sends for a broadcast.
fn statuses_body(n: usize) -> Vec<u8> {
    let statuses: Vec<String> = (0..n)
        .map(|i| {
            let (status, pricing) = match i % 3 {
                0 => ("sent", r#","pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}"#),
                1 => ("delivered", r#","pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"}"#),
                _ => ("read", ""),
            };
            format!(
                r#"{{"id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI{i:010}QTRBQjg4MjI2OUYA","status":"{status}","timestamp":"{}","recipient_id":"1650555{:04}"{pricing},"biz_opaque_callback_data":"campaign=spring;sender=bot"}}"#,
                1_763_600_000 + i,
                i % 10_000
            )
        })
        .collect();
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"102290129340398","changes":[{{"value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550783881","phone_number_id":"106540352242922"}},"statuses":[{}]}},"field":"messages"}}]}}]}}"#,
        statuses.join(",")
    )
    .into_bytes()
}

fn hot_path(
    verifier: &SignatureVerifier,
    keywords: &ConsentKeywords,
    header: &str,
    body: &[u8],
) -> usize {
    verifier
        .verify(Some(header.as_bytes()), body)
        .expect("signed");
    let batch = parse(body).expect("parses");
    let plan = plan(&batch, keywords);
    let mut built = 0;
    for write in &plan.writes {
        black_box(request(write, None, DEFAULT_INITIAL_STAGE));
        built += 1;
    }
    built
}

fn bench(c: &mut Criterion) {
    let verifier = SignatureVerifier::new(&[SECRET]).unwrap();
    let keywords = ConsentKeywords::default();
    let mut group = c.benchmark_group("webhook_hot_path");
    for n in [1usize, 100, 1000] {
        let body = statuses_body(n);
        let header = sign(SECRET, &body);
        assert_eq!(hot_path(&verifier, &keywords, &header, &body), n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(
            BenchmarkId::new("verify_parse_build", n),
            &body,
            |b, body| b.iter(|| hot_path(&verifier, &keywords, &header, black_box(body))),
        );
    }
    let body = statuses_body(1000);
    let header = sign(SECRET, &body);
    group.throughput(Throughput::Elements(1000));
    group.bench_function("verify_only/1000", |b| {
        b.iter(|| {
            verifier
                .verify(Some(header.as_bytes()), black_box(&body))
                .unwrap()
        })
    });
    group.bench_function("parse_only/1000", |b| {
        b.iter(|| parse(black_box(&body)).unwrap().events.len())
    });
    let batch = parse(&body).unwrap();
    group.bench_function("parse_plan/1000", |b| {
        b.iter(|| {
            let batch = parse(black_box(&body)).unwrap();
            plan(&batch, &keywords).writes.len()
        })
    });
    let planned = plan(&batch, &keywords);
    group.bench_function("build_only/1000", |b| {
        b.iter(|| {
            for w in &planned.writes {
                black_box(request(w, None, DEFAULT_INITIAL_STAGE));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
