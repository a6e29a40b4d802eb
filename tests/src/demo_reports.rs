//! The `== reports ==` part of `make demo`: a generated ten-day week POSTed signed to the
//! real webhook, the table stream folded by the real aggregator (and report-jobs), the
//! week's consent and conversion calls made through the leads API, then one report of every
//! kind asked from the reports API over HTTP in `Asia/Jakarta`, each CSV downloaded by its
//! presigned link and compared with the generator's truth ([`Week::expected`]) on the
//! contract's columns. Then a few headline figures beside the truth, and the HTML summary
//! when the product has that kind.
//!
//! The week gets its own table and bucket on the demo's moto, served by its own webhook,
//! leads and reports APIs: (1) the demo's meta-sync pulls the last four weeks of the wall
//! clock for the same WABA, which can overlap the generated days (2026-10-26..11-04), and
//! Meta's rows would then rightly appear in the templates and reconciliation reports, which
//! the generator's truth does not model; (2) moto answers a GSI query by scanning the whole
//! table, and a report makes ~90 of them, so on the demo's big table each report took ~2 min.
//!
//! [`Week::expected`]: crate::week::Week::expected

use crate::harness::{
    LOCAL_APP_SECRET, Stack, report_jobs, reports_api, reports_config, unique_name, webhook_config,
    workspace_root,
};
use crate::server::{Functions, serve};
use crate::streams::{LiveReportJobs, StreamReader, pump_with_jobs};
use crate::traffic::sign;
use crate::week::{WeekSpec, generate_week, header};
use aggregator::handler::Aggregator;
use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use leads::handler::{Leads, LeadsConfig};
use serde_json::{Value, json};
use shared::config::ApiAuth as Auth;
use shared::config::Secret;
use shared::domain::leads::Lifecycle;
use shared::domain::report::ReportKind;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Rows = Vec<Vec<String>>;
type DemoResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The zone of every report of this part (UTC+7, no DST).
pub const TZ: Tz = Tz::Asia__Jakarta;

/// The bearer token of the part's leads and reports APIs.
const API_TOKEN: &str = "demo-api-token-0123456789";

/// Runs the part against the moto at `endpoint` (a table and bucket of its own, served over
/// HTTP until it returns); returns every difference from the truth (empty: all equal).
pub async fn run(endpoint: &str, spec: &WeekSpec) -> DemoResult<Vec<String>> {
    let stack = Stack::with_names(
        endpoint.to_string(),
        None,
        unique_name("wa-insights-week"),
        unique_name("wa-insights-week-raw"),
        webhook_config,
    )
    .await;
    let leads = Leads::from_sdk(
        LeadsConfig {
            table_name: stack.table.clone(),
            auth: Auth::Token(Secret::new(API_TOKEN)),
            lifecycle: Lifecycle::default(),
            forward_conversions: false,
            bucket_name: None,
        },
        &stack.sdk,
    );
    let config = reports_config(
        &stack.table,
        &stack.bucket,
        API_TOKEN,
        std::slice::from_ref(&spec.waba_id),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let mut demo = ReportsDemo {
        base: base.clone(),
        token: API_TOKEN.to_string(),
        reader: StreamReader::new(&stack.endpoint, &stack.table),
        aggregator: Aggregator::over(stack.dynamodb.clone(), &stack.table),
        jobs: report_jobs(&stack.sdk, &config),
        http: reqwest::Client::builder().no_proxy().build()?,
    };
    let reports = reports_api(&stack.sdk, &config);
    let Stack { webhook, table, .. } = stack;
    let server = tokio::spawn(serve(
        Arc::new(Functions {
            webhook,
            leads: Some(leads),
            reports: Some(reports),
        }),
        listener,
    ));
    println!("\n== reports ==");
    println!(
        "webhook {base}/webhook · leads API {base}/v1 · reports API {base}/v1/reports · table {table}"
    );
    let result = demo.run(spec).await;
    server.abort();
    result
}

struct ReportsDemo {
    /// `http://host:port` of the server that serves `/webhook`, `/v1/...` and `/v1/reports`.
    base: String,
    /// The bearer token of the leads and reports APIs.
    token: String,
    reader: StreamReader,
    aggregator: Aggregator,
    jobs: LiveReportJobs,
    http: reqwest::Client,
}

/// One asked report: its object and the CSV behind its link.
struct Fetched {
    report: Value,
    rows: Rows,
    bytes: usize,
}

impl ReportsDemo {
    async fn run(&mut self, spec: &WeekSpec) -> DemoResult<Vec<String>> {
        let started = Instant::now();
        let mut diffs = Vec::new();
        let week = generate_week(spec);
        let stats = week.stats();
        let first = first_day(spec).ok_or("week start out of range")?;
        let last = first + chrono::Duration::days(i64::from(spec.days) - 1);
        println!(
            "generated week {first}..{last}: {} people ({} leads), {} outbound, {} inbound, {} statuses, \
             {} user_preferences, {} consent calls, {} conversions",
            stats.people,
            stats.leads,
            stats.outbound,
            stats.inbound,
            stats.statuses,
            stats.user_preferences,
            stats.consent_calls,
            stats.conversions
        );

        // 1. The week's bodies, signed, to the demo's webhook; the stream; the API calls.
        let t = Instant::now();
        let mut codes: BTreeMap<u16, usize> = BTreeMap::new();
        for body in &week.bodies {
            let status = self
                .http
                .post(format!("{}/webhook", self.base))
                .header("content-type", "application/json")
                .header(
                    "x-hub-signature-256",
                    sign(LOCAL_APP_SECRET.as_bytes(), body),
                )
                .body(body.clone())
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            *codes.entry(status).or_default() += 1;
        }
        println!(
            "webhook: {} POSTs ({} distinct bodies) → {codes:?} in {:.1} s",
            stats.bodies,
            stats.distinct_bodies,
            t.elapsed().as_secs_f64()
        );
        if codes.keys().any(|c| *c != 200) {
            diffs.push(format!("week webhook POSTs answered {codes:?}"));
        }
        let t = Instant::now();
        let folded = self.pump().await;
        println!(
            "stream: {folded} records folded by the aggregator in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        let mut api_codes: BTreeMap<String, usize> = BTreeMap::new();
        for call in &week.api_calls {
            let mut req = self
                .http
                .post(format!("{}{}", self.base, call.path()))
                .bearer_auth(&self.token)
                .json(&call.body());
            if let Some(key) = call.idempotency_key() {
                req = req.header("idempotency-key", key);
            }
            let status = req.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
            let what = if call.path().ends_with("/conversions") {
                "conversions"
            } else {
                "consent"
            };
            *api_codes.entry(format!("{what} {status}")).or_default() += 1;
            if !(200..300).contains(&status) {
                diffs.push(format!("{} {} → {status}", call.path(), call.body()));
            }
        }
        self.pump().await;
        println!("leads API calls: {api_codes:?}");

        // 2. Every kind over the week in Jakarta, by day.
        println!(
            "\nreports {first}..{last}, tz {}, group_by day (CSV vs the generator's truth on the contract's columns):",
            TZ.name()
        );
        let mut fetched: BTreeMap<&str, Fetched> = BTreeMap::new();
        let mut truths: BTreeMap<&str, Rows> = BTreeMap::new();
        let request = |kind: &str, group_by: &str| {
            json!({"kind": kind, "from": first.to_string(), "to": last.to_string(),
                   "tz": TZ.name(), "group_by": group_by})
        };
        for kind in ReportKind::ALL.map(ReportKind::as_str) {
            if kind == "summary" {
                continue;
            }
            let f = match self.fetch(request(kind, "day")).await {
                Ok(f) => f,
                Err(e) => {
                    println!("  {kind:<15} ✗ {e}");
                    diffs.push(format!("{kind}: {e}"));
                    continue;
                }
            };
            let r = &f.report;
            println!(
                "  {kind:<15} {:<6} rows {:>5} · bytes {:>7}",
                r["status"].as_str().unwrap_or("?"),
                r["rows"]
                    .as_u64()
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                r["bytes"]
                    .as_u64()
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
            );
            println!("      link {}", r["url"].as_str().unwrap_or("-"));
            if r["rows"].as_u64() != Some(f.rows.len().saturating_sub(1) as u64)
                || r["bytes"].as_u64() != Some(f.bytes as u64)
            {
                let d = format!(
                    "{kind}: the report says {} rows, {} bytes; its link gave {} rows, {} bytes",
                    r["rows"],
                    r["bytes"],
                    f.rows.len().saturating_sub(1),
                    f.bytes
                );
                println!("      ✗ {d}");
                diffs.push(d);
            }
            if header(kind).is_some() {
                let expected = week.expected(kind, TZ, "day", first, last);
                match compare(&f.rows, &expected) {
                    None => println!("      = truth ({} rows)", expected.len() - 1),
                    Some(d) => {
                        println!("      ≠ truth: {d}");
                        diffs.push(format!("{kind}: {d}"));
                    }
                }
                truths.insert(kind, expected);
            } else {
                println!("      (no generator truth for {kind})");
            }
            fetched.insert(kind, f);
        }

        // 3. Headline figures from the downloaded CSVs beside the truth.
        let any_median = match self.fetch(request("response_times", "none")).await {
            Ok(f) => {
                let expected = week.expected("response_times", TZ, "none", first, last);
                let product = cell(&f.rows, "responder", "any", "median_s");
                let truth = cell(&expected, "responder", "any", "median_s");
                Some((product, truth))
            }
            Err(e) => {
                diffs.push(format!("response_times (group_by none): {e}"));
                None
            }
        };
        println!(
            "\nheadline figures {first}..{last} ({})   product    truth  ok",
            TZ.name()
        );
        let mut figures: Vec<(&str, Option<String>, Option<String>)> = Vec::new();
        for (name, kind, column) in [
            ("sent", "conversations", "sent"),
            ("delivered", "conversations", "delivered"),
            ("read", "conversations", "read"),
            ("failed", "conversations", "failed"),
            ("paid", "conversations", "paid"),
            ("free", "conversations", "free"),
            ("replies", "templates", "replied"),
        ] {
            figures.push((
                name,
                fetched.get(kind).map(|f| sum(&f.rows, column, None)),
                truths.get(kind).map(|t| sum(t, column, None)),
            ));
        }
        figures.push((
            "response median s (any)",
            any_median.as_ref().map(|(p, _)| p.clone()),
            any_median.as_ref().map(|(_, t)| t.clone()),
        ));
        for (name, kind, column, only) in [
            ("spike days", "volume", "spike", None),
            ("opt-outs", "consent", "events", Some(("action", "opt_out"))),
            ("campaign conversions", "campaigns", "conversions", None),
        ] {
            figures.push((
                name,
                fetched.get(kind).map(|f| sum(&f.rows, column, only)),
                truths.get(kind).map(|t| sum(t, column, only)),
            ));
        }
        for (name, product, truth) in figures {
            let ok = product.is_some() && product == truth;
            println!(
                "  {name:<30} {:>8} {:>8}  {}",
                product.as_deref().unwrap_or("-"),
                truth.as_deref().unwrap_or("-"),
                if ok { "✓" } else { "✗" }
            );
            if !ok {
                diffs.push(format!(
                    "headline {name}: product {product:?}, truth {truth:?}"
                ));
            }
        }

        // 4. The HTML summary, when the product has that kind.
        if ReportKind::ALL.iter().any(|k| k.as_str() == "summary") {
            let body = json!({"kind": "summary", "from": first.to_string(),
                              "to": last.to_string(), "tz": TZ.name()});
            match self.fetch_raw(body).await {
                Ok((report, bytes)) => {
                    let path = workspace_root().join(".local/demo-summary.html");
                    std::fs::create_dir_all(path.parent().ok_or("no parent")?)?;
                    std::fs::write(&path, &bytes)?;
                    println!(
                        "\nsummary: {} bytes of HTML → {}\n  link {}",
                        bytes.len(),
                        path.display(),
                        report["url"].as_str().unwrap_or("-")
                    );
                }
                Err(e) => {
                    println!("\nsummary ✗ {e}");
                    diffs.push(format!("summary: {e}"));
                }
            }
        }

        println!(
            "\nreports check: {} in {:.1} s",
            if diffs.is_empty() {
                "every report equals the truth ✓".to_string()
            } else {
                format!("{} differences ✗", diffs.len())
            },
            started.elapsed().as_secs_f64()
        );
        Ok(diffs)
    }

    async fn pump(&mut self) -> usize {
        pump_with_jobs(&mut self.reader, &self.aggregator, &self.jobs).await
    }

    /// Asks for a report and downloads its CSV.
    async fn fetch(&mut self, body: Value) -> DemoResult<Fetched> {
        let (report, bytes) = self.fetch_raw(body).await?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes.as_slice());
        let rows = reader
            .records()
            .map(|r| r.map(|r| r.iter().map(str::to_string).collect()))
            .collect::<Result<Rows, _>>()?;
        Ok(Fetched {
            report,
            rows,
            bytes: bytes.len(),
        })
    }

    /// Asks for a report (a `202` is finished by report-jobs from the stream, then fetched by
    /// id) and downloads what its link points at.
    async fn fetch_raw(&mut self, body: Value) -> DemoResult<(Value, Vec<u8>)> {
        let resp = self
            .http
            .post(format!("{}/v1/reports", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = resp.status().as_u16();
        let mut report: Value = resp.json().await?;
        if status == 202 {
            let id = report["id"]
                .as_str()
                .ok_or("a 202 without an id")?
                .to_string();
            let deadline = Instant::now() + Duration::from_secs(600);
            while report["status"] == "running" && Instant::now() < deadline {
                self.pump().await;
                report = self
                    .http
                    .get(format!("{}/v1/reports/{id}", self.base))
                    .bearer_auth(&self.token)
                    .send()
                    .await?
                    .json()
                    .await?;
                if report["status"] == "running" {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        } else if status != 200 {
            let text: String = report.to_string().chars().take(300).collect();
            return Err(format!("HTTP {status}: {text}").into());
        }
        if report["status"] != "ready" {
            let reason: String = report["reason"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect();
            return Err(
                format!("report {} is {}: {reason}", report["id"], report["status"]).into(),
            );
        }
        let url = report["url"]
            .as_str()
            .ok_or("a ready report without a url")?;
        let bytes = self.http.get(url).send().await?.bytes().await?.to_vec();
        Ok((report, bytes))
    }
}

/// `None` when the product's rows, cut to the truth's columns and sorted, equal the truth;
/// else the first differing row.
fn compare(got: &Rows, expected: &Rows) -> Option<String> {
    let width = expected.first().map(Vec::len).unwrap_or(0);
    let mut got: Rows = got
        .iter()
        .map(|r| r.iter().take(width).cloned().collect())
        .collect();
    if got.len() > 1 {
        got[1..].sort();
    }
    if got == *expected {
        return None;
    }
    let at = (0..got.len().max(expected.len()))
        .find(|i| got.get(*i) != expected.get(*i))
        .unwrap_or(0);
    let show = |r: Option<&Vec<String>>| r.map(|r| r.join(",")).unwrap_or("(none)".into());
    Some(format!(
        "{} rows vs {} in the truth; first difference at row {at}: got [{}], truth [{}]",
        got.len().saturating_sub(1),
        expected.len().saturating_sub(1),
        show(got.get(at)),
        show(expected.get(at)),
    ))
}

fn column(rows: &Rows, name: &str) -> Option<usize> {
    rows.first()?.iter().position(|c| c == name)
}

/// The sum of an integer column over the data rows (where `only` = (column, value) holds).
fn sum(rows: &Rows, name: &str, only: Option<(&str, &str)>) -> String {
    let Some(i) = column(rows, name) else {
        return format!("no {name}");
    };
    let filter = only.map(|(c, v)| (column(rows, c), v));
    let mut total: i64 = 0;
    for r in rows.iter().skip(1) {
        if let Some((c, v)) = filter
            && c.and_then(|c| r.get(c)).map(String::as_str) != Some(v)
        {
            continue;
        }
        match r.get(i).map(|s| s.parse::<i64>()) {
            Some(Ok(n)) => total += n,
            Some(Err(_)) => return format!("bad {name} {:?}", r[i]),
            None => return format!("short row {r:?}"),
        }
    }
    total.to_string()
}

/// The `value` column of the row whose `key` column is `key_value`.
fn cell(rows: &Rows, key: &str, key_value: &str, value: &str) -> String {
    let (Some(k), Some(v)) = (column(rows, key), column(rows, value)) else {
        return format!("no {key}/{value}");
    };
    rows.iter()
        .skip(1)
        .find(|r| r.get(k).map(String::as_str) == Some(key_value))
        .and_then(|r| r.get(v).cloned())
        .unwrap_or_else(|| format!("no {key_value} row"))
}

/// The week's first day (UTC) as a date.
pub fn first_day(spec: &WeekSpec) -> Option<NaiveDate> {
    DateTime::from_timestamp(spec.start, 0).map(|d| d.date_naive())
}
