//! Whole stack, a generated week: signed webhook bodies (each 1–3×, shuffled, late reads,
//! BSUID-only people, STOP/START, CTWA referrals, bot and human replies, failures) → the real
//! webhook → DynamoDB (moto) → the table stream → the real aggregator (markers, the time
//! index) → consent and conversions through the real leads API → reports through the real
//! reports API over HTTP → CSV downloaded by its presigned link. Every report of every kind,
//! in three zones whose days differ, equals the generator's independently computed truth;
//! replaying the whole stream and rebuilding the markers change nothing.

use aggregator::handler::Aggregator;
use chrono::NaiveDate;
use chrono_tz::Tz;
use integration_tests::harness::{
    LOCAL_APP_SECRET, Stack, report_jobs, reports_api, reports_config, scan_table,
};
use integration_tests::server::{Functions, serve};
use integration_tests::streams::{LiveReportJobs, StreamReader, pump_with_jobs};
use integration_tests::traffic::sign;
use integration_tests::week::{KINDS, Week, WeekSpec, generate_week};
use leads::handler::{Leads, LeadsConfig};
use serde_json::{Value, json};
use shared::adapters::dynamodb::facts::DynamoDbFactsStore;
use shared::adapters::dynamodb::rollups::DynamoDbRollupStore;
use shared::config::ApiAuth as Auth;
use shared::config::Secret;
use shared::domain::leads::Lifecycle;
use shared::ports::{PersonFactsStore, RollupStore};
use std::collections::BTreeMap;
use std::sync::Arc;

const TOKEN: &str = "reports-test-token-0123456789";

struct Served {
    base: String,
    http: reqwest::Client,
}

impl Served {
    /// Asks for a report; a `202` (longer than the API's inline budget) is finished by the
    /// report-jobs function from the table stream, as in AWS, and then fetched by id.
    async fn report(
        &self,
        body: Value,
        reader: &mut StreamReader,
        aggregator: &Aggregator,
        jobs: &LiveReportJobs,
    ) -> Value {
        let resp = self
            .http
            .post(format!("{}/v1/reports", self.base))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let mut v: Value = resp.json().await.unwrap();
        if status == 202 {
            assert_eq!(v["status"], "running", "{v}");
            pump_with_jobs(reader, aggregator, jobs).await;
            let id = v["id"].as_str().unwrap().to_string();
            v = self
                .http
                .get(format!("{}/v1/reports/{id}", self.base))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        } else {
            assert_eq!(status, 200, "{body} → {v}");
        }
        assert_eq!(v["status"], "ready", "{v}");
        v
    }

    /// The CSV behind a ready report's link, as rows of cells.
    async fn csv(&self, report: &Value) -> Vec<Vec<String>> {
        let url = report["url"].as_str().expect("a ready report has a url");
        let bytes = self
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let text = std::str::from_utf8(&bytes).expect("UTF-8");
        assert!(
            text.is_empty() || text.ends_with("\r\n"),
            "RFC 4180 lines end with CRLF"
        );
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_ref());
        reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }
}

/// The product's rows cut to the contract's columns (more may follow them), header first,
/// data rows sorted the way the generator sorts its truth.
fn contract_view(mut rows: Vec<Vec<String>>, width: usize) -> Vec<Vec<String>> {
    for r in &mut rows {
        r.truncate(width);
    }
    if rows.len() > 1 {
        rows[1..].sort();
    }
    rows
}

async fn markers(stack: &Stack) -> BTreeMap<(String, String), (String, String)> {
    scan_table(&stack.dynamodb, &stack.table)
        .await
        .into_iter()
        .filter(|i| {
            i.get("item_kind")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some("lead_activity")
        })
        .map(|i| {
            let t = |k: &str| i.get(k).map(|v| format!("{v:?}")).unwrap_or_default();
            ((t("pk"), t("sk")), (t("at"), t("time_bucket")))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_report_of_a_generated_week_equals_the_generators_truth_in_three_zones() {
    // GIVEN a generated week and the local stack serving webhook, leads and reports APIs
    // Ten days: the broadcast (the spike) falls on a day with a full 7-day trailing window.
    let spec = WeekSpec {
        days: 10,
        ..WeekSpec::default()
    };
    let week: Week = generate_week(&spec);
    let stats = week.stats();
    let stack = Stack::start().await;
    let leads = Leads::from_sdk(
        LeadsConfig {
            table_name: stack.table.clone(),
            auth: Auth::Token(Secret::new(TOKEN)),
            lifecycle: Lifecycle::default(),
            forward_conversions: false,
            bucket_name: None,
        },
        &stack.sdk,
    );
    let config = reports_config(
        &stack.table,
        &stack.bucket,
        TOKEN,
        std::slice::from_ref(&spec.waba_id),
    );
    let jobs = report_jobs(&stack.sdk, &config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let functions = Arc::new(Functions {
        webhook: integration_tests::harness::webhook_for(&stack).await,
        leads: Some(leads),
        reports: Some(reports_api(&stack.sdk, &config)),
    });
    let server = tokio::spawn(serve(functions, listener));
    let served = Served {
        base: base.clone(),
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
    };
    let aggregator = Aggregator::over(stack.dynamodb.clone(), &stack.table);
    let mut reader = StreamReader::new(&stack.endpoint, &stack.table);

    // WHEN every body is POSTed signed (duplicates and reordering included), the stream is
    // folded, and the API calls (consent, conversions) are made
    println!("week: {stats:?}");
    for body in &week.bodies {
        let resp = served
            .http
            .post(format!("{base}/webhook"))
            .header("content-type", "application/json")
            .header(
                "x-hub-signature-256",
                sign(LOCAL_APP_SECRET.as_bytes(), body),
            )
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }
    pump_with_jobs(&mut reader, &aggregator, &jobs).await;
    for call in &week.api_calls {
        let mut req = served
            .http
            .post(format!("{base}{}", call.path()))
            .bearer_auth(TOKEN)
            .json(&call.body());
        if let Some(key) = call.idempotency_key() {
            req = req.header("idempotency-key", key);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        assert!(
            status.is_success(),
            "{} {} → {status}: {}",
            call.path(),
            call.body(),
            resp.text().await.unwrap()
        );
    }
    pump_with_jobs(&mut reader, &aggregator, &jobs).await;

    // THEN every kind, in three zones, grouped by day (and by week / not at all in one zone),
    // equals the truth
    let first = NaiveDate::from_ymd_opt(2026, 10, 26).unwrap();
    let last = first + chrono::Duration::days(i64::from(spec.days) - 1);
    let zones: [Tz; 3] = [Tz::UTC, Tz::Asia__Kathmandu, Tz::America__New_York];
    let mut cases: Vec<(&str, Tz, &str)> = Vec::new();
    for tz in zones {
        for kind in KINDS {
            cases.push((kind, tz, "day"));
        }
    }
    for kind in ["conversations", "volume", "response_times", "consent"] {
        cases.push((kind, Tz::Asia__Kathmandu, "week"));
        cases.push((kind, Tz::America__New_York, "none"));
    }
    let mut mismatches = Vec::new();
    let mut checked_rows = 0;
    for (kind, tz, group_by) in &cases {
        let report = served
            .report(
                json!({"kind": kind, "from": first.to_string(), "to": last.to_string(),
                           "tz": tz.name(), "group_by": group_by}),
                &mut reader,
                &aggregator,
                &jobs,
            )
            .await;
        let expected = week.expected(kind, *tz, group_by, first, last);
        assert!(
            expected.len() > 1,
            "the truth has rows for {kind} {tz} {group_by}"
        );
        let got = contract_view(served.csv(&report).await, expected[0].len());
        assert_eq!(
            report["rows"].as_u64(),
            Some(got.len() as u64 - 1),
            "rows counted for {kind}"
        );
        checked_rows += expected.len() - 1;
        if got != expected {
            mismatches.push(format!(
                "{kind} {tz} {group_by}:\n  expected {expected:?}\n  got      {got:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} reports differ from the truth:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
    println!(
        "{} reports, {checked_rows} rows equal the truth",
        cases.len()
    );

    // AND replaying the whole stream (a retried, re-delivered history) changes no marker
    // and no rollup slot (each slot's shard guard skips what it already took)
    let before = markers(&stack).await;
    assert!(!before.is_empty());
    let rollups = DynamoDbRollupStore::new(stack.dynamodb.clone(), &stack.table);
    // Every slot the week can touch (reading slots is one Query per UTC day).
    let day_start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
    let (span_lo, span_hi) = (
        day_start(first - chrono::Duration::days(10)),
        day_start(last + chrono::Duration::days(10)),
    );
    let slots_before = rollups.slots(span_lo, span_hi).await.expect("rollups");
    assert!(!slots_before.is_empty());
    let people = DynamoDbFactsStore::new(stack.dynamodb.clone(), &stack.table);
    let facts_before = people
        .slots(span_lo, span_hi)
        .await
        .expect("person rollups");
    assert!(
        facts_before
            .iter()
            .any(|t| matches!(t.cell, shared::domain::metrics::tally::Cell::Replied { .. })),
        "waits and replied messages rolled up"
    );
    let mut replay = StreamReader::new(&stack.endpoint, &stack.table);
    pump_with_jobs(&mut replay, &aggregator, &jobs).await;
    assert_eq!(
        markers(&stack).await,
        before,
        "a replayed stream changes nothing"
    );
    assert_eq!(
        rollups.slots(span_lo, span_hi).await.expect("rollups"),
        slots_before,
        "a replayed stream adds nothing to the rollups"
    );
    assert_eq!(
        people
            .slots(span_lo, span_hi)
            .await
            .expect("person rollups"),
        facts_before,
        "a replayed stream leaves every person's facts as they were"
    );

    // AND the rollups rebuilt from the message items after losing them equal the
    // incremental ones
    stack
        .delete_where(|i| {
            i.get("pk")
                .and_then(|v| v.as_s().ok())
                .is_some_and(|pk| pk.starts_with("ROLLUP#") || pk.starts_with("FACT"))
        })
        .await;
    assert!(
        rollups
            .slots(span_lo, span_hi)
            .await
            .expect("rollups")
            .is_empty()
    );
    let rebuilt = aggregator
        .rebuild_rollups(4)
        .await
        .expect("rebuild rollups");
    let written = rebuilt["rebuilt_rollup_slots"].clone();
    assert_eq!(
        rollups.slots(span_lo, span_hi).await.expect("rollups"),
        slots_before,
        "rollups rebuilt = incremental"
    );
    assert_eq!(
        people
            .slots(span_lo, span_hi)
            .await
            .expect("person rollups"),
        facts_before,
        "person rollups rebuilt = incremental ({rebuilt})"
    );

    // AND a 30-day conversations report reads the rollup slots, the consent events and
    // conversions, leads and Meta's days: two requests per UTC day of its window (its slots,
    // its event partition) and a few more, no message item nor marker
    let to = first + chrono::Duration::days(29);
    let counted_report = async |kind: &str| {
        let counter = shared::telemetry::RequestCounter::new();
        let mut counted = shared::reports::live_service(&config, &stack.sdk);
        counted.source = shared::adapters::dynamodb::reports::DynamoDbReportSource::new(
            shared::adapters::aws::dynamodb_client(&stack.sdk, Some(counter.clone())),
            &stack.table,
        );
        let body: shared::domain::report::ReportRequestBody = serde_json::from_value(json!({
            "kind": kind, "from": first.to_string(), "to": to.to_string(),
            "tz": "Asia/Kathmandu"}))
        .expect("a request body");
        let req = shared::domain::report::ReportRequest::parse(body, counted.settings.links)
            .expect("a valid request");
        let rec = counted.new_record(format!("counted-{kind}"), &req, "test", "api", 0);
        counted.generate(&req, &rec).await.expect("a report");
        counter.snapshot()
    };
    let requests = counted_report("conversations").await;
    let window_days = 30 + 8 + 3 + 2;
    let wabas = config.waba_ids.len() as u64;
    let queries = requests.get("Query").copied().unwrap_or(0);
    println!(
        "30-day conversations report: {requests:?} for the week of {stats:?} ({written} slot items)"
    );
    // One BatchGetItem: the identity links (`PERSON`) of the people of the window's consent
    // events and conversions (fewer than 100); no `MSG#` item.
    assert!(
        requests.get("BatchGetItem").copied().unwrap_or(0) <= 1,
        "no message item read"
    );
    assert!(
        queries <= 2 * window_days + 8 + 8 * wabas,
        "{queries} queries for a 30-day report"
    );

    // AND so does a 30-day summary page, the person rollups included (response times,
    // replies): per UTC day of its window and of the previous period's, one Query for the
    // message slots, FACT_SUM_SHARDS for the fact sums and one for the consent events and
    // conversions; the leads index; Meta's days; and BatchGetItem only for the identity of
    // the people of the consent events and conversions (none of a message)
    let requests = counted_report("summary").await;
    let queries = requests.get("Query").copied().unwrap_or(0);
    println!("30-day summary page: {requests:?} for the week of {stats:?}");
    let per_day = 1 + shared::keys::FACT_SUM_SHARDS + 1;
    assert!(
        queries <= 2 * (window_days * per_day + 8 + 8 * wabas),
        "{queries} queries for a 30-day summary"
    );
    assert!(
        requests.get("BatchGetItem").copied().unwrap_or(0) <= 4,
        "identity of consent and conversion people only: {requests:?}"
    );

    // AND a rebuild from the message items after losing every marker gives the same markers
    // and the same reports
    stack
        .delete_where(|i| {
            i.get("item_kind")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some("lead_activity")
        })
        .await;
    assert!(markers(&stack).await.is_empty());
    aggregator.rebuild(4).await.expect("rebuild");
    assert_eq!(markers(&stack).await, before, "rebuild = incremental");
    for kind in ["response_times", "templates", "volume"] {
        let tz = Tz::Asia__Kathmandu;
        let report = served
            .report(
                json!({"kind": kind, "from": first.to_string(), "to": last.to_string(),
                           "tz": tz.name()}),
                &mut reader,
                &aggregator,
                &jobs,
            )
            .await;
        let expected = week.expected(kind, tz, "day", first, last);
        let got = contract_view(served.csv(&report).await, expected[0].len());
        assert_eq!(got, expected, "{kind} after a rebuild");
    }

    // AND the summary page (Asia/Jakarta, Indonesian) links one CSV per section, signed with
    // the page's link; each equals the truth of its kind; a new GET signs new links
    let jakarta = Tz::Asia__Jakarta;
    let page = served
        .report(
            json!({"kind": "summary", "from": first.to_string(), "to": last.to_string(),
                   "tz": jakarta.name(), "locale": "id"}),
            &mut reader,
            &aggregator,
            &jobs,
        )
        .await;
    let html = served
        .http
        .get(page["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("lang=\"id\""), "an Indonesian page");
    // The page as a manager's browser shows it: real headless Chromium at 375 px and 1280 px
    // (no request leaves it, nothing on the console, no overflow, every section, readable
    // chart text; screenshots `.local/screenshots/summary-week-id-{375,1280}.png`).
    tokio::task::block_in_place(|| {
        crate::summary_browser::open_in_browser(
            &crate::summary_browser::chromium(),
            &html,
            "week-id",
            "id",
        )
    });
    let links = section_links(&html);
    assert_eq!(links.len(), 9, "a CSV link per section: {links:?}");
    for kind in ["conversations", "response_times", "volume", "consent"] {
        let url = &links[kind];
        let rows = served.csv(&json!({"url": url})).await;
        let expected = week.expected(kind, jakarta, "day", first, last);
        assert_eq!(
            contract_view(rows, expected[0].len()),
            expected,
            "summary section {kind}"
        );
    }
    let again: Value = served
        .http
        .get(format!(
            "{base}/v1/reports/{}",
            page["id"].as_str().unwrap()
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["status"], "ready");
    let html_again = served
        .http
        .get(again["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(section_links(&html_again).len(), 9);
    server.abort();
}

/// The page's section CSV links by kind (`…/<kind>.csv?X-Amz-…`), HTML-unescaped.
fn section_links(html: &str) -> BTreeMap<&'static str, String> {
    let mut out = BTreeMap::new();
    for chunk in html.split("href=\"").skip(1) {
        let Some(end) = chunk.find('"') else { continue };
        let url = chunk[..end].replace("&amp;", "&");
        for kind in shared::reports::SUMMARY_SECTIONS {
            if url.contains(&format!("/{}.csv?", kind.as_str())) {
                out.insert(kind.as_str(), url.clone());
            }
        }
    }
    out
}
