//! CSV formatting of the `messages` export on one core: an outbound message → its row
//! (`metrics::message_row`) → RFC 4180 CSV bytes (the `csv` writer, CRLF), the work the
//! report service does per row before upload. Budget: ≥ 200,000 rows/s.
//! Run: `make bench` (or `cargo bench -p shared --bench report`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shared::domain::metrics::input::{MsgPricing, OutboundMsg, Times};
use shared::domain::metrics::{CsvRow, message_row};
use std::hint::black_box;

fn message(i: u64) -> OutboundMsg {
    let sent = 1_795_000_000 + i as i64;
    OutboundMsg {
        wamid: format!("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI{i:010}QTRBQjg4MjI2OUYA"),
        person: Some(format!("6281234{:06}", i % 1_000_000)),
        waba_id: "102290129340398".into(),
        phone_number_id: "106540352242922".into(),
        times: Times {
            sent_at: Some(sent),
            delivered_at: Some(sent + 3),
            read_at: i.is_multiple_of(3).then_some(sent + 60),
            played_at: None,
            failed_at: None,
        },
        pricing: Some(MsgPricing {
            model: Some("PMP".into()),
            category: Some("marketing".into()),
            pricing_type: Some("regular".into()),
            billable: Some(true),
            paid: Some(true),
        }),
        tag: Some("template=spring_sale:id;campaign=spring;by=bot".into()),
        error_code: None,
        error_title: None,
    }
}

fn bench(c: &mut Criterion) {
    const ROWS: u64 = 10_000;
    let messages: Vec<OutboundMsg> = (0..ROWS).map(message).collect();
    let mut group = c.benchmark_group("messages_export");
    group.throughput(Throughput::Elements(ROWS));
    group.bench_function("row_to_csv", |b| {
        let mut out = Vec::with_capacity(4 * 1024 * 1024);
        b.iter(|| {
            out.clear();
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(&mut out);
            for m in &messages {
                let row = message_row(m, None);
                w.write_record(row.cells()).expect("in-memory write");
            }
            w.flush().expect("in-memory flush");
            drop(w);
            black_box(out.len());
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
