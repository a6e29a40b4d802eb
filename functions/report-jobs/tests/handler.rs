//! The report jobs function driven with its two events through `LambdaEvent::new`: an
//! EventBridge Scheduler payload, and a table stream batch from a fixture
//! (`tests/fixtures/stream_queued_report.json`: one report record marked `queued` by the API,
//! one other item) against the report ports in memory (`shared::memory::reports`): no moto.
//! Expectations come from the facts fed and the fixture. The adapters and the whole stack
//! are tested against moto in `tests/tests/it/` (report_files, reports_openapi).

use chrono::{Duration, Utc};
use lambda_runtime::{Context, LambdaEvent};
use report_jobs::handler::ReportJobs;
use serde_json::{Value, json};
use shared::domain::announcement::Announcement;
use shared::domain::metrics::input::{OutboundMsg, Times};
use shared::domain::report::{LinkPolicy, ReportKind, ReportRecord, ReportRequest, ReportStatus};
use shared::memory::reports::{MemoryReportObjects, MemoryReportSource, MemoryReportStore};
use shared::ports::{ReportAnnouncer, ReportStore, StoreError};
use shared::reports::{ReportService, ReportSettings};
use std::sync::{Arc, Mutex};

const W1: &str = "1001";
const P1: &str = "5550001";
const P2: &str = "5550002";

/// The announcements made, kept for the test.
#[derive(Clone, Default)]
struct Announced(Arc<Mutex<Vec<Announcement>>>);

impl ReportAnnouncer for Announced {
    async fn announce(&self, a: &Announcement) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(a.clone());
        Ok(())
    }
}

type Jobs = ReportJobs<MemoryReportSource, MemoryReportStore, MemoryReportObjects, Announced>;

struct Given {
    jobs: Jobs,
    store: MemoryReportStore,
    objects: MemoryReportObjects,
    announced: Announced,
}

fn given(messages: Vec<OutboundMsg>) -> Given {
    let source = MemoryReportSource::new();
    source.outbound(messages);
    let (store, objects, announced) = (
        MemoryReportStore::new(),
        MemoryReportObjects::new(),
        Announced::default(),
    );
    let service = ReportService {
        source,
        store: store.clone(),
        objects: objects.clone(),
        settings: ReportSettings::default(),
    };
    Given {
        jobs: ReportJobs::new(service, announced.clone(), None),
        store,
        objects,
        announced,
    }
}

fn sent(wamid: &str, number: &str, at: i64) -> OutboundMsg {
    OutboundMsg {
        wamid: wamid.into(),
        person: Some(format!("person-{wamid}")),
        waba_id: W1.into(),
        phone_number_id: number.into(),
        times: Times {
            sent_at: Some(at),
            ..Times::default()
        },
        ..OutboundMsg::default()
    }
}

fn lambda(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

#[tokio::test]
async fn a_daily_schedule_writes_yesterdays_reports_under_scheduled() {
    // Yesterday in UTC: two messages on P1, one on P2; one the day before (not in the period).
    let yesterday = Utc::now().date_naive() - Duration::days(1);
    let noon = yesterday
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    let g = given(vec![
        sent("wamid.p1-a", P1, noon),
        sent("wamid.p1-b", P1, noon + 60),
        sent("wamid.p2-a", P2, noon + 120),
        sent("wamid.older", P1, noon - 86_400),
    ]);
    let schedule = json!({"schedule": "daily", "kinds": ["messages"], "tz": "UTC",
        "phone_number_ids": [P1, P2]});
    let out = g
        .jobs
        .handle(lambda(schedule))
        .await
        .expect("the schedule runs");
    assert_eq!(out["from"], yesterday.to_string());
    assert_eq!(out["to"], yesterday.to_string());
    let reports = out["reports"].as_array().unwrap();
    let rows: Vec<(&str, &Value, &Value)> = reports
        .iter()
        .map(|r| (r["kind"].as_str().unwrap(), &r["status"], &r["rows"]))
        .collect();
    assert_eq!(
        rows,
        [
            ("messages", &json!("ready"), &json!(2)),
            ("messages", &json!("ready"), &json!(1)),
        ]
    );
    let mut expected_keys: Vec<String> = reports
        .iter()
        .map(|r| {
            format!(
                "reports/scheduled/daily/{}/messages.csv",
                r["id"].as_str().unwrap()
            )
        })
        .collect();
    expected_keys.sort();
    assert_eq!(g.objects.keys(), expected_keys);
    for r in g.store.records() {
        assert_eq!(
            (r.origin.as_str(), r.status),
            ("scheduled:daily", ReportStatus::Ready)
        );
    }
    assert_eq!(out["announced"], true);
    assert_eq!(
        g.announced.0.lock().unwrap().len(),
        1,
        "one announcement of both"
    );
}

fn fixture() -> Value {
    let path = format!(
        "{}/tests/fixtures/stream_queued_report.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn a_queued_report_from_the_stream_is_finished_once() {
    // The record the API stored before handing it over: the fixture's id, a messages
    // report of 2026-11-01 with one message in it and one after.
    let id = "1795168800-00000000000000a1";
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let t = day.and_hms_opt(9, 0, 0).unwrap().and_utc().timestamp();
    let g = given(vec![
        sent("wamid.in", P1, t),
        sent("wamid.after", P1, t + 86_400),
    ]);
    let request = ReportRequest::parse(
        shared::domain::report::ReportRequestBody {
            kind: "messages".into(),
            from: day.to_string(),
            to: day.to_string(),
            tz: None,
            group_by: None,
            phone_number_id: None,
            expires_in: None,
            locale: None,
        },
        LinkPolicy::default(),
    )
    .unwrap();
    let key = format!("reports/ondemand/{id}/messages.csv");
    let queued = ReportRecord {
        id: id.into(),
        kind: ReportKind::Messages,
        request_json: serde_json::to_string(&request).unwrap(),
        status: ReportStatus::Queued,
        created_at: 1_795_168_800,
        created_by: "manager-1".into(),
        origin: "api".into(),
        object_key: Some(key.clone()),
        rows: None,
        bytes: None,
        sha256: None,
        reason: None,
        finished_at: None,
        expires_at: None,
    };
    g.store.put(&queued).await.unwrap();

    let out = g.jobs.handle(lambda(fixture())).await.expect("the batch");
    assert_eq!(out, json!({"finished": [{"id": id, "status": "ready"}]}));
    let done = g.store.get(id).await.unwrap().unwrap();
    assert_eq!((done.status, done.rows), (ReportStatus::Ready, Some(1)));
    assert!(done.finished_at.is_some());
    let file = g.objects.object(&key).expect("the file is written");
    assert!(String::from_utf8(file.bytes).unwrap().contains("wamid.in"));

    // The record replayed: already finished, nothing changes.
    let again = g.jobs.handle(lambda(fixture())).await.unwrap();
    assert_eq!(again, json!({"finished": []}));
    assert_eq!(g.store.get(id).await.unwrap().unwrap(), done);
    assert!(g.announced.0.lock().unwrap().is_empty());
}
