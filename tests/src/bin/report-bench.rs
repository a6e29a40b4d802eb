//! `make bench` (reports): the budgets of issue 11, measured.
//!
//! 1. A `messages` export of `rows` outbound messages (default 1,000,000) spread evenly over
//!    30 days, through the real `ReportService` and the real `S3ReportObjects` against a local
//!    moto. The `ReportSource` is synthetic and in-process: `outbound_between(lo, hi)` generates
//!    the messages of that slice deterministically, so the source holds nothing beyond one
//!    slice. Prints rows, bytes, parts, wall time, rows/s end to end and the process's peak RSS
//!    (VmHWM, reset before each run through `/proc/self/clear_refs`; VmRSS is sampled during
//!    the run too). The same export at a tenth of the rows runs first: memory must not grow
//!    with rows. A third run writes to a null object store (parts dropped) to separate the
//!    service's own CPU from moto's S3.
//! 2. What a report of every other kind reads: 200, then 400, outbound messages over 30 days
//!    written through the real webhook handler and the real aggregator (stream → markers),
//!    then one report of each kind through the real `DynamoDbReportSource` over a client whose
//!    requests are counted by operation (`shared::telemetry::RequestCounter`).
//!
//! Run: `cargo run --release -p integration-tests --bin report-bench -- [rows]`; `-- reads` runs
//! only part 2 (request counts do not depend on the build profile).

use aggregator::handler::Aggregator;
use integration_tests::harness::{Moto, Stack, local_sdk_config};
use integration_tests::streams::{StreamReader, pump};
use serde_json::{Value, json};
use shared::adapters::aws::{dynamodb_client, s3_client};
use shared::adapters::dynamodb::reports::{DynamoDbReportSource, DynamoDbReportStore};
use shared::adapters::s3::create_bucket;
use shared::adapters::s3_reports::S3ReportObjects;
use shared::domain::leads::LeadView;
use shared::domain::metrics::input::{
    ConsentAction, ConsentEvt, ConsentSource, Inputs, MsgPricing, OutboundMsg, Times,
};
use shared::domain::report::{
    LinkPolicy, ReportKind, ReportRecord, ReportRequest, ReportRequestBody, ReportStatus,
};
use shared::ports::{
    ObjectUpload, PresignedLink, ReportObjects, ReportSource, ReportStore, ReportWindow, StoreError,
};
use shared::reports::{ReportService, ReportSettings};
use shared::telemetry::RequestCounter;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DAY: i64 = 86_400;
const DAYS: i64 = 30;
const FROM: &str = "2026-10-01";
const TO: &str = "2026-10-30";
const WABA: &str = "102290129340398";
const PHONE_NUMBER_ID: &str = "106540352242922";

// ---------------------------------------------------------------------------------------
// Process memory
// ---------------------------------------------------------------------------------------

/// A `/proc/self/status` field in KiB (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':').map(str::to_string))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Resets the peak RSS (`VmHWM`) to the current RSS (Linux ≥ 4.0). False if refused.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Samples VmRSS every 20 ms while a run lasts: (seconds, rows produced so far, KiB).
struct Sampler {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Vec<(f64, u64, u64)>>,
}

impl Sampler {
    fn start(progress: Arc<AtomicU64>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let t0 = Instant::now();
            let mut samples = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                samples.push((
                    t0.elapsed().as_secs_f64(),
                    progress.load(Ordering::Relaxed),
                    status_kib("VmRSS"),
                ));
                std::thread::sleep(Duration::from_millis(20));
            }
            samples
        });
        Self { stop, handle }
    }

    fn finish(self) -> Vec<(f64, u64, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------
// The synthetic source
// ---------------------------------------------------------------------------------------

/// `rows` outbound messages spread evenly over `DAYS` days from `base`: message `i` is sent at
/// `base + i × span / rows`, to person `i mod people` (10 messages per person).
struct SyntheticSource {
    base: i64,
    rows: u64,
    people: u64,
    /// People who opt out (by keyword) an hour after their third message.
    opt_outs: u64,
    /// Messages handed out so far (the sampler reads it).
    produced: Arc<AtomicU64>,
}

impl SyntheticSource {
    fn new(base: i64, rows: u64) -> Self {
        Self {
            base,
            rows,
            people: (rows / 10).max(1),
            opt_outs: 5,
            produced: Arc::new(AtomicU64::new(0)),
        }
    }

    fn span(&self) -> i64 {
        DAYS * DAY
    }

    fn time(&self, i: u64) -> i64 {
        self.base + (i128::from(i) * i128::from(self.span()) / i128::from(self.rows)) as i64
    }

    fn person(&self, i: u64) -> String {
        format!("6281234{:07}", i % self.people)
    }

    /// Indices whose time is in `lo..=hi`.
    fn indices(&self, lo: i64, hi: i64) -> std::ops::Range<u64> {
        let (n, span) = (i128::from(self.rows), i128::from(self.span()));
        // i ≥ ceil((lo − base) × n / span); i < ceil((hi − base + 1) × n / span).
        let ceil = |t: i64| -> u64 {
            let x = i128::from(t - self.base) * n;
            let q = x.div_euclid(span) + i128::from(x.rem_euclid(span) != 0);
            q.clamp(0, n) as u64
        };
        ceil(lo)..ceil(hi.saturating_add(1))
    }

    fn message(&self, i: u64) -> OutboundMsg {
        let sent = self.time(i);
        let failed = i % 50 == 7;
        let read = !failed && i.is_multiple_of(3);
        OutboundMsg {
            wamid: format!("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI{i:010}QTRBQjg4MjI2OUYA"),
            person: Some(self.person(i)),
            waba_id: WABA.into(),
            phone_number_id: PHONE_NUMBER_ID.into(),
            times: Times {
                sent_at: Some(sent),
                delivered_at: (!failed).then_some(sent + 3),
                read_at: read.then_some(sent + 60),
                played_at: None,
                failed_at: failed.then_some(sent + 2),
            },
            pricing: Some(MsgPricing {
                model: Some("PMP".into()),
                category: Some(
                    if i.is_multiple_of(4) {
                        "utility"
                    } else {
                        "marketing"
                    }
                    .into(),
                ),
                pricing_type: Some("regular".into()),
                billable: Some(!failed),
                paid: Some(!failed),
            }),
            tag: Some(match i % 3 {
                0 => "template=spring_sale:id;campaign=spring;by=bot".into(),
                1 => "template=order_update:id;by=human;agent=ana".into(),
                _ => "campaign=autumn".into(),
            }),
            error_code: failed.then_some(131_026),
            error_title: failed.then(|| "Message undeliverable".into()),
        }
    }
}

impl ReportSource for SyntheticSource {
    async fn inputs(&self, _window: &ReportWindow) -> Result<Inputs, StoreError> {
        Ok(Inputs::default())
    }

    async fn outbound_between(&self, lo: i64, hi: i64) -> Result<Vec<OutboundMsg>, StoreError> {
        let range = self.indices(lo, hi);
        self.produced
            .fetch_add(range.end - range.start, Ordering::Relaxed);
        Ok(range.map(|i| self.message(i)).collect())
    }

    async fn opt_out_facts(
        &self,
        lo: i64,
        hi: i64,
    ) -> Result<(Vec<ConsentEvt>, Vec<OutboundMsg>), StoreError> {
        let mut consent = Vec::new();
        let mut stubs = Vec::new();
        for p in 0..self.opt_outs.min(self.people) {
            // Person p's messages: p, p + people, p + 2 × people, …
            let theirs: Vec<u64> = (p..self.rows).step_by(self.people as usize).collect();
            let Some(&third) = theirs.get(2).or(theirs.last()) else {
                continue;
            };
            let at = self.time(third) + 3_600;
            if !(lo..=hi).contains(&at) {
                continue;
            }
            consent.push(ConsentEvt {
                person: self.person(p),
                phone_number_id: PHONE_NUMBER_ID.into(),
                at,
                action: ConsentAction::OptOut,
                source: ConsentSource::Keyword,
                categories: vec!["marketing".into()],
            });
            stubs.extend(theirs.iter().map(|&i| OutboundMsg {
                times: Times {
                    sent_at: Some(self.time(i)),
                    ..Times::default()
                },
                pricing: None,
                tag: None,
                error_code: None,
                error_title: None,
                ..self.message(i)
            }));
        }
        Ok((consent, stubs))
    }

    async fn leads_created(&self, _lo: i64, _hi: i64) -> Result<Vec<LeadView>, StoreError> {
        Ok(Vec::new())
    }
    // Reports here run for a caller who sees every WABA: nothing asks whose a lead is.
    async fn tenancy(
        &self,
        _: &[String],
        _: &[String],
    ) -> Result<shared::domain::access::Tenancy, StoreError> {
        Ok(shared::domain::access::Tenancy::default())
    }
}

// ---------------------------------------------------------------------------------------
// In-memory record store, null object store
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct MemoryStore(Mutex<HashMap<String, ReportRecord>>);

impl ReportStore for MemoryStore {
    async fn put(&self, record: &ReportRecord) -> Result<(), StoreError> {
        self.0
            .lock()
            .expect("store lock")
            .insert(record.id.clone(), record.clone());
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<ReportRecord>, StoreError> {
        Ok(self.0.lock().expect("store lock").get(id).cloned())
    }

    async fn recent(&self, _limit: i32) -> Result<Vec<ReportRecord>, StoreError> {
        Ok(self
            .0
            .lock()
            .expect("store lock")
            .values()
            .cloned()
            .collect())
    }
}

/// Drops every part (counts them): the service's own cost, without S3.
#[derive(Default, Clone)]
struct NullObjects {
    parts: Arc<AtomicU64>,
}

struct NullUpload {
    parts: Arc<AtomicU64>,
}

impl ObjectUpload for NullUpload {
    async fn part(&mut self, bytes: Vec<u8>) -> Result<(), StoreError> {
        std::hint::black_box(bytes);
        self.parts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    async fn finish(self, last: Vec<u8>) -> Result<(), StoreError> {
        std::hint::black_box(last);
        self.parts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    async fn abort(self) {}
}

impl ReportObjects for NullObjects {
    type Upload = NullUpload;

    async fn start(
        &self,
        _key: &str,
        _content_type: &str,
        _metadata: &[(&str, &str)],
    ) -> Result<NullUpload, StoreError> {
        Ok(NullUpload {
            parts: self.parts.clone(),
        })
    }

    async fn presign_get(
        &self,
        _key: &str,
        expires_in: i64,
        _filename: &str,
    ) -> Result<PresignedLink, StoreError> {
        Ok(PresignedLink {
            url: String::new(),
            expires_at: expires_in,
        })
    }

    async fn read(&self, _key: &str) -> Result<Vec<u8>, StoreError> {
        Ok(Vec::new())
    }
}

// ---------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------

fn request(kind: &str) -> ReportRequest {
    let body = ReportRequestBody {
        kind: kind.into(),
        from: FROM.into(),
        to: TO.into(),
        tz: Some("UTC".into()),
        group_by: Some("day".into()),
        phone_number_id: None,
        expires_in: None,
        locale: None,
    };
    ReportRequest::parse(body, LinkPolicy::default()).expect("a valid request")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

struct ExportRun {
    rows: u64,
    bytes: u64,
    parts: u64,
    seconds: f64,
    base_rss_kib: u64,
    peak_kib: u64,
    peak_reset: bool,
    samples: Vec<(f64, u64, u64)>,
}

impl ExportRun {
    fn print(&self, label: &str) {
        let sampled_max = self.samples.iter().map(|s| s.2).max().unwrap_or(0);
        println!(
            "{label:<28} {:>10} {:>12} {:>6} {:>9.2} {:>11.0} {:>10.1} {:>10.1} {:>10.1}{}",
            self.rows,
            self.bytes,
            self.parts,
            self.seconds,
            self.rows as f64 / self.seconds,
            mib(self.base_rss_kib),
            mib(sampled_max),
            mib(self.peak_kib),
            if self.peak_reset {
                ""
            } else {
                " (VmHWM not reset: peak of the whole process)"
            },
        );
    }

    fn print_samples(&self) {
        let n = self.samples.len();
        let picks: Vec<&(f64, u64, u64)> = (0..=10)
            .filter_map(|k| self.samples.get((k * n.saturating_sub(1)) / 10))
            .collect();
        let line: Vec<String> = picks
            .iter()
            .map(|(t, rows, kib)| format!("{t:.1}s/{}k/{:.0}MiB", rows / 1000, mib(*kib)))
            .collect();
        println!("    VmRSS (time/rows/RSS): {}", line.join("  "));
    }
}

/// One `messages` export of `rows` rows into `objects`.
async fn export<O: ReportObjects>(objects: O, rows: u64) -> (ExportRun, O) {
    let req = request("messages");
    let (lo, _) = req.bounds();
    let source = SyntheticSource::new(lo, rows);
    let progress = source.produced.clone();
    let service = ReportService {
        source,
        store: MemoryStore::default(),
        objects,
        settings: ReportSettings::default(),
    };
    let rec = service.new_record(
        format!("bench-{rows}-{}", now()),
        &req,
        "report-bench",
        "api",
        now(),
    );
    let base_rss_kib = status_kib("VmRSS");
    let peak_reset = reset_peak();
    let sampler = Sampler::start(progress);
    let t = Instant::now();
    let rec = service.run(rec, now).await;
    let seconds = t.elapsed().as_secs_f64();
    let samples = sampler.finish();
    let peak_kib = status_kib("VmHWM");
    assert_eq!(
        rec.status,
        ReportStatus::Ready,
        "report failed: {:?}",
        rec.reason
    );
    let run = ExportRun {
        rows: rec.rows.unwrap_or(0),
        bytes: rec.bytes.unwrap_or(0),
        // Counted by the caller (from the stored object, or by the null store).
        parts: 0,
        seconds,
        base_rss_kib,
        peak_kib,
        peak_reset,
        samples,
    };
    (run, service.objects)
}

/// Parts of a stored object: the `-N` suffix of a multipart ETag (1 for a single PUT).
async fn s3_parts(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> (u64, i64) {
    let head = s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("head report object");
    let parts = head
        .e_tag()
        .and_then(|e| e.trim_matches('"').rsplit_once('-'))
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(1);
    (parts, head.content_length().unwrap_or(0))
}

async fn messages_exports(rows: u64) {
    println!(
        "== messages export: synthetic source, real ReportService, real S3ReportObjects on moto =="
    );
    println!(
        "   {} days ({FROM}..{TO} UTC), messages spread evenly; 8 MiB parts; system allocator (as the reports functions ship)\n",
        DAYS
    );
    let moto = Moto::start();
    let sdk = local_sdk_config(&moto.url()).await;
    let s3 = s3_client(&sdk);
    let bucket = "report-bench";
    create_bucket(&s3, bucket).await.expect("create bucket");
    let objects = S3ReportObjects::new(s3.clone(), bucket, sdk.credentials_provider());
    println!(
        "{:<28} {:>10} {:>12} {:>6} {:>9} {:>11} {:>10} {:>10} {:>10}",
        "run", "rows", "bytes", "parts", "wall s", "rows/s", "RSS0 MiB", "maxRSS MiB", "VmHWM MiB"
    );
    let mut runs = Vec::new();
    for (label, n) in [("S3 on moto, rows/10", rows / 10), ("S3 on moto", rows)] {
        let (mut run, _) = export(objects.clone(), n).await;
        let key = latest_key(&s3, bucket).await;
        let (parts, len) = s3_parts(&s3, bucket, &key).await;
        assert_eq!(len as u64, run.bytes, "stored size = counted bytes");
        run.parts = parts;
        run.print(label);
        runs.push(run);
    }
    let null = NullObjects::default();
    let (mut run, null) = export(null, rows).await;
    run.parts = null.parts.load(Ordering::Relaxed);
    run.print("null object store");
    runs.push(run);
    println!();
    for (label, run) in ["S3 on moto, rows/10", "S3 on moto", "null object store"]
        .iter()
        .zip(&runs)
    {
        println!("  {label}:");
        run.print_samples();
    }
    println!(
        "\n  peak RSS growth from {} to {} rows: {:+.1} MiB (VmHWM), {:+.1} MiB (sampled VmRSS max)",
        runs[0].rows,
        runs[1].rows,
        mib(runs[1].peak_kib) - mib(runs[0].peak_kib),
        mib(runs[1].samples.iter().map(|s| s.2).max().unwrap_or(0))
            - mib(runs[0].samples.iter().map(|s| s.2).max().unwrap_or(0)),
    );
    drop(moto);
    let n = 200_000;
    let (kib, per_item) = marker_items_rss(n);
    println!(
        "\n  not covered by the synthetic source: DynamoDbReportSource::opt_out_facts collects every by_time item of the\n  \
         period + 3 days before keeping the consent events; {n} marker items as SDK maps take {:.1} MiB ({per_item:.0} B each),\n  \
         so a {rows}-message month would hold ≈ {:.0} MiB of them at once (estimate: items only, not the response pages)",
        mib(kib),
        per_item * rows as f64 * 33.0 / 30.0 / 1_048_576.0,
    );
}

/// The newest object key in the bucket (the export just written).
async fn latest_key(s3: &aws_sdk_s3::Client, bucket: &str) -> String {
    let out = s3
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("list objects");
    out.contents()
        .iter()
        .max_by_key(|o| o.last_modified().map(|t| (t.secs(), t.subsec_nanos())))
        .and_then(|o| o.key().map(str::to_string))
        .expect("the export's object")
}

/// What `DynamoDbReportSource::opt_out_facts` holds: it reads the whole `by_time` index of
/// the period + 3 days (every OUT#/IN# marker, not only the consent events it keeps) into one
/// `Vec` of SDK items before filtering. Builds `n` marker items as the Query returns them (the
/// index projects ALL: 9 attributes) and measures the RSS they take.
fn marker_items_rss(n: u64) -> (u64, f64) {
    use aws_sdk_dynamodb::types::AttributeValue as Av;
    let s = |v: String| Av::S(v);
    let before = status_kib("VmRSS");
    let items: Vec<HashMap<String, Av>> = (0..n)
        .map(|i| {
            let wamid = format!("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI{i:010}QTRBQjg4MjI2OUYA");
            HashMap::from([
                (
                    "pk".to_string(),
                    s(format!("USER#6281234{:07}", i % 100_000)),
                ),
                ("sk".to_string(), s(format!("OUT#{wamid}"))),
                ("item_kind".to_string(), s("lead_activity".into())),
                ("direction".to_string(), s("out".into())),
                ("wamid".to_string(), s(wamid)),
                ("at".to_string(), Av::N((1_790_812_800 + i).to_string())),
                (
                    "time_bucket".to_string(),
                    s(format!("T#2026-10-01#{}", i % 8)),
                ),
                ("phone_number_id".to_string(), s(PHONE_NUMBER_ID.into())),
                ("waba_id".to_string(), s(WABA.into())),
            ])
        })
        .collect();
    let after = status_kib("VmRSS");
    std::hint::black_box(&items);
    let per_item = after.saturating_sub(before) as f64 * 1024.0 / n as f64;
    drop(items);
    (after.saturating_sub(before), per_item)
}

// ---------------------------------------------------------------------------------------
// Reads per report kind
// ---------------------------------------------------------------------------------------

fn envelope(value: Value) -> Vec<u8> {
    let mut value = value;
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] =
        json!({"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID});
    serde_json::to_vec(
        &json!({"object": "whatsapp_business_account", "entry": [{"id": WABA,
        "changes": [{"field": "messages", "value": value}]}]}),
    )
    .expect("json")
}

/// Outbound messages `indices` of `total` spread evenly over the 30 days (sent, delivered,
/// read one in two), to 20 people; every fifth message gets a reply. Bodies of 50 statuses.
fn traffic(base: i64, indices: impl Iterator<Item = u64>, total: u64) -> Vec<Vec<u8>> {
    let span = DAYS * DAY;
    let phone = |i: u64| format!("1650555{:04}", i % 20);
    let mut statuses = Vec::new();
    let mut bodies = Vec::new();
    for i in indices {
        let t = base + 600 + (i128::from(i) * i128::from(span - 7_200) / i128::from(total)) as i64;
        let pricing = json!({"billable": true, "pricing_model": "PMP", "type": "regular",
            "category": if i % 4 == 0 { "utility" } else { "marketing" }});
        let wamid = format!("wamid.reportbench{i:06}");
        statuses.push(
            json!({"id": wamid, "status": "sent", "timestamp": t.to_string(),
            "recipient_id": phone(i), "pricing": pricing,
            "biz_opaque_callback_data": "template=spring_sale:id;campaign=spring;by=bot"}),
        );
        statuses.push(
            json!({"id": wamid, "status": "delivered", "timestamp": (t + 5).to_string(),
            "recipient_id": phone(i), "pricing": pricing}),
        );
        if (i / 2) % 2 == 0 {
            statuses.push(json!({"id": wamid, "status": "read",
                "timestamp": (t + 60).to_string(), "recipient_id": phone(i)}));
        }
        if i % 5 == 0 {
            bodies.push(envelope(json!({
                "contacts": [{"profile": {"name": "Bench"}, "wa_id": phone(i)}],
                "messages": [{"from": phone(i), "id": format!("wamid.reportbenchin{i:06}"),
                    "timestamp": (t + 120).to_string(), "type": "text", "text": {"body": "thanks"}}]})));
        }
    }
    for chunk in statuses.chunks(50) {
        bodies.push(envelope(json!({ "statuses": chunk })));
    }
    bodies
}

async fn reads_per_kind() {
    println!(
        "\n== reads per report ({FROM}..{TO} UTC, group_by day): real webhook → aggregator → DynamoDbReportSource on moto =="
    );
    let stack = Stack::start().await;
    let aggregator = Aggregator::over(stack.dynamodb.clone(), &stack.table);
    let mut reader = StreamReader::new(&stack.endpoint, &stack.table);
    let counter = RequestCounter::new();
    let client = dynamodb_client(&stack.sdk, Some(counter.clone()));
    let service = ReportService {
        source: DynamoDbReportSource::new(client.clone(), &stack.table),
        store: DynamoDbReportStore::new(client, &stack.table),
        objects: S3ReportObjects::new(
            stack.s3.clone(),
            &stack.bucket,
            stack.sdk.credentials_provider(),
        ),
        settings: ReportSettings {
            wabas: vec![WABA.to_string()],
            ..ReportSettings::default()
        },
    };
    let (lo, _) = request("conversations").bounds();
    let window_days = {
        let w = service.window(&request("conversations"));
        (w.hi.div_euclid(DAY) - w.lo.div_euclid(DAY) + 1) as u64
    };
    let total = 400;
    for (round, messages) in [200u64, 400].into_iter().enumerate() {
        let t = Instant::now();
        // Even messages first, then odd ones: both rounds span the whole 30 days.
        for body in traffic(lo, (round as u64..total).step_by(2), total) {
            let (status, text) = stack.post(&body).await;
            assert_eq!(status, 200, "webhook: {text}");
        }
        let records = pump(&mut reader, &aggregator).await;
        println!(
            "\n{messages} outbound messages ({} inbound) over {DAYS} days in the table; wrote them and {records} stream records in {:.1} s",
            messages / 5,
            t.elapsed().as_secs_f64()
        );
        println!(
            "{:<16} {:>6} {:>6} {:>9} {:>9} {:>7} {:>6}  what was read",
            "kind", "rows", "Query", "BatchGet", "GetItem", "PutItem", "total"
        );
        let kinds: Vec<ReportKind> = if messages == 200 {
            ReportKind::ALL.to_vec()
        } else {
            vec![ReportKind::Conversations, ReportKind::ResponseTimes]
        };
        for kind in kinds {
            let req = request(kind.as_str());
            let window = service.window(&req);
            counter.reset();
            // The rolled-up kinds do not read the window's messages: no "inputs alone".
            // Every kind but the two exports reads no message item (the service's
            // `rolled_inputs`, for this all-WABA caller).
            let rolled = !matches!(kind, ReportKind::Messages | ReportKind::Leads);
            let inputs = if rolled || matches!(kind, ReportKind::Messages | ReportKind::Leads) {
                None
            } else {
                Some(service.source.inputs(&window).await.expect("inputs"))
            };
            let input_reads = counter.snapshot();
            counter.reset();
            let rec = service.new_record(
                format!("reads-{}-{messages}", kind.as_str()),
                &req,
                "report-bench",
                "api",
                now(),
            );
            let rec = service.run(rec, now).await;
            assert_eq!(
                rec.status,
                ReportStatus::Ready,
                "{}: {:?}",
                kind.as_str(),
                rec.reason
            );
            let ops = counter.snapshot();
            let op = |k: &str| ops.get(k).copied().unwrap_or(0);
            let total_requests: u64 = ops.values().sum();
            let what = match &inputs {
                Some(i) => format!(
                    "{} outbound, {} inbound, {} consent, {} leads, {} pricing days, {} messaging days",
                    i.outbound.len(),
                    i.inbound.len(),
                    i.consent.len(),
                    i.leads.len(),
                    i.pricing.len(),
                    i.messaging.len()
                ),
                None if kind == ReportKind::Leads => "the leads index, 8 shards".into(),
                None if rolled => {
                    let per_day = match kind {
                        ReportKind::Consent | ReportKind::Campaigns | ReportKind::Spend => {
                            "the event partition"
                        }
                        ReportKind::Templates | ReportKind::ResponseTimes => {
                            "message slots, 4 fact-sum partitions, the event partition"
                        }
                        ReportKind::Summary => {
                            "message slots, 4 fact-sum partitions, the event partition (two windows)"
                        }
                        _ => "message slots, the event partition",
                    };
                    format!(
                        "per UTC day of the {window_days}-day window: {per_day}; the events' identity links, the leads index, Meta's days"
                    )
                }
                None => format!(
                    "opt-out facts: by_time (events and markers) over {} days; {} six-hour slices × 8 shards; a BatchGet per slice with messages",
                    DAYS + 3,
                    DAYS * 4
                ),
            };
            println!(
                "{:<16} {:>6} {:>6} {:>9} {:>9} {:>7} {:>6}  {what}",
                kind.as_str(),
                rec.rows.unwrap_or(0),
                op("Query"),
                op("BatchGetItem"),
                op("GetItem"),
                op("PutItem"),
                total_requests,
            );
            let extra: BTreeMap<&String, &u64> = ops
                .iter()
                .filter(|(k, _)| {
                    !matches!(k.as_str(), "Query" | "BatchGetItem" | "GetItem" | "PutItem")
                })
                .collect();
            if !extra.is_empty() {
                println!("{:<16} other operations: {extra:?}", "");
            }
            let mut reads = ops.clone();
            reads.remove("PutItem");
            if inputs.is_some() && input_reads != reads {
                println!("{:<16} (inputs alone: {input_reads:?})", "");
            }
        }
    }
    println!(
        "\nEvery kind but the exports reads the rollups (no marker, no message), per UTC day of the window:\n\
         1 Query on ROLLUP#<day> (message slots: conversations, failures, reconciliation, volume, templates, summary),\n\
         4 on FACTSUM#<day>#<0..3> (person facts: templates' replies, response_times, summary),\n\
         1 on the by_time event partition E#<day> (consent events, conversions: every kind) (+1 per extra page of 1 MB);\n\
         + 8 lead shards + per WABA PRICING# + MSGDAY# (+ TPLS# and 1 per listed template for templates);\n\
         BatchGetItem only for the identity links of the people with consent events or conversions (100 per request):\n\
         O(days), whatever the messages. The summary reads two such windows (the period and the one before).\n\
         The window is the period ({DAYS} days) + 8 days before + 3 days and 1 s after = {window_days} UTC days.\n\
         messages = the by_time index for the opt-out facts over the whole period + 3 days (9 × days Queries, only consent events returned),\n\
         + 1 partition Query per person who opted out, + per 6-hour slice 8 Queries and ceil(slice messages / 100) BatchGets;\n\
         leads = the leads index, 8 shards. Plus 1 PutItem for the report record."
    );
}

#[tokio::main]
async fn main() {
    if std::env::var_os("RUST_LOG").is_none() {
        // SAFETY: single-threaded at this point; set before any thread reads the env.
        unsafe { std::env::set_var("RUST_LOG", "warn") };
    }
    shared::telemetry::init();
    // `reads`: only the request counts (they do not depend on the build profile).
    let arg = std::env::args().nth(1);
    if arg.as_deref() == Some("reads") {
        reads_per_kind().await;
        return;
    }
    let rows: u64 = arg
        .map(|a| a.replace(['_', ','], "").parse().expect("rows: a number"))
        .unwrap_or(1_000_000);
    messages_exports(rows).await;
    reads_per_kind().await;
}
