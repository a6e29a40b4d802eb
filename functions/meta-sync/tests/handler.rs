//! The real meta-sync handler driven with `LambdaEvent`s against in-memory ports
//! (`shared::memory`): no moto, no HTTP, milliseconds. What each invocation answers Lambda
//! (the report, or an error whose `errorType` names its kind) and what it kept. The adapters
//! and the HTTP Graph client are tested against moto and the fake Graph server in
//! `tests/tests/it/meta_sync.rs`.

use chrono::{DateTime, NaiveDate, Utc};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use meta_sync::handler::{
    FailureClass, MetaSync, MetaSyncError, Outcome, RunVerdict, SyncError, SyncKind, SyncReport,
    SyncSettings,
};
use serde_json::{Value, json};
use shared::domain::sync::PullKind;
use shared::memory::analytics::{AnalyticsOp, MemoryAnalyticsStore};
use shared::memory::graph::{GraphFault, MemoryGraph};
use shared::ports::{RawStore, StoreError};
use std::sync::{Arc, Mutex};

const WABA: &str = "1001";
const OTHER_WABA: &str = "2002";

fn now() -> DateTime<Utc> {
    "2026-11-21T10:00:00Z".parse().unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The raw snapshots, in memory: every key written.
#[derive(Debug, Clone, Default)]
struct Snapshots(Arc<Mutex<Vec<String>>>);

impl Snapshots {
    fn keys(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl RawStore for Snapshots {
    async fn put_raw(&self, key: &str, _: &[u8], _: &[(&str, &str)]) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(key.to_string());
        Ok(())
    }
}

struct Given {
    graph: MemoryGraph,
    store: MemoryAnalyticsStore,
    snapshots: Snapshots,
    sync: MetaSync<MemoryGraph, Snapshots, MemoryAnalyticsStore>,
}

/// A handler over fresh in-memory ports for these WABAs, every watermark at `watermark`
/// (a scheduled run then pulls 7 days before it through today), chunks of `chunk_days`.
fn given(wabas: &[&str], watermark: &str, chunk_days: i64) -> Given {
    let graph = MemoryGraph::standard(wabas);
    let store = MemoryAnalyticsStore::new();
    for waba in wabas {
        for kind in PullKind::ALL {
            store.set_watermark(waba, kind, day(watermark));
        }
    }
    let snapshots = Snapshots::default();
    let settings = SyncSettings {
        waba_ids: wabas.iter().map(|w| w.to_string()).collect(),
        snapshot_prefix: "snapshots/".into(),
        clicks_unavailable: Default::default(),
        chunk_days,
    };
    let sync =
        MetaSync::new(graph.clone(), store.clone(), snapshots.clone(), settings).with_clock(now);
    Given {
        graph,
        store,
        snapshots,
        sync,
    }
}

async fn invoke(g: &Given, payload: Value) -> Result<SyncReport, MetaSyncError> {
    g.sync
        .handle_event(LambdaEvent::new(payload, Context::default()))
        .await
}

fn result<'a>(
    report: &'a SyncReport,
    waba: &str,
    kind: &str,
) -> &'a meta_sync::handler::KindReport {
    report
        .result(waba, kind)
        .unwrap_or_else(|| panic!("no {kind} result for {waba}: {report:#?}"))
}

/// The report an error carries, and the error as Lambda sees it.
fn failed_run(err: MetaSyncError) -> (SyncReport, Diagnostic) {
    let report = err.0.report().expect("the run's report").clone();
    (report, Diagnostic::from(err))
}

#[tokio::test]
async fn a_scheduled_run_completes_stores_every_kind_and_moves_the_watermarks() {
    // GIVEN one WABA synced through 2026-11-17
    let g = given(&[WABA], "2026-11-17", 30);
    // WHEN the scheduler's event arrives (an EventBridge envelope means "scheduled")
    let scheduler_event = json!({
        "version": "0", "id": "a1b2", "detail-type": "Scheduled Event",
        "source": "aws.scheduler", "account": "123456789012", "time": "2026-11-21T10:00:00Z",
        "region": "eu-west-1", "resources": [], "detail": {}
    });
    let report = invoke(&g, scheduler_event).await.expect("Ok to Lambda");
    // THEN every kind completed and the run says nobody needs to act
    assert_eq!(
        (report.outcome, report.verdict),
        (Outcome::Complete, RunVerdict::Ok)
    );
    assert_eq!(report.results.len(), 4);
    assert_eq!(report.started_at, now());
    // 2026-11-11..2026-11-21: 7 days re-pulled before the watermark through today; today is
    // never complete, so every watermark moves to yesterday
    for kind in PullKind::ALL {
        let r = result(&report, WABA, kind.as_str());
        let w = r.window.unwrap();
        assert_eq!((w.first, w.last), (day("2026-11-11"), day("2026-11-21")));
        assert_eq!(g.store.watermark_of(WABA, kind), Some(day("2026-11-20")));
        let run = g.store.last_run(WABA, kind.into()).unwrap();
        assert_eq!(
            (run.run_id.as_str(), run.outcome),
            (report.run_id.as_str(), Outcome::Complete)
        );
    }
    // Rows: 2 pricing categories × 11 days, 11 messaging days, 2 templates with insights × 11
    assert_eq!(g.store.pricing_rows(WABA).len(), 22);
    assert_eq!(g.store.messaging_rows(WABA).len(), 11);
    assert_eq!(g.store.template_rows().len(), 22);
    assert_eq!(g.store.catalogue(WABA).len(), 3);
    // Every page kept raw, under the run's id
    let keys = g.snapshots.keys();
    let pages: usize = report.results.iter().map(|r| r.pages).sum();
    assert_eq!(keys.len(), pages);
    assert!(
        keys.iter().all(|k| k.starts_with("snapshots/")
            && k.contains(&format!("/{WABA}/2026-11-21/{}/", report.run_id))),
        "{keys:?}"
    );
}

#[tokio::test]
async fn a_throttled_run_stops_cleanly_at_complete_data_and_is_not_an_error() {
    // GIVEN pricing synced through 2026-11-07: a scheduled run pulls 2026-11-01..2026-11-21
    // in 3-day chunks (7 chunks, one request each)
    let g = given(&[WABA], "2026-11-07", 3);
    // WHEN Meta answers three chunks, then throttles past the client's backoff
    g.graph.answer(3);
    g.graph.fail(GraphFault::Throttled, 1);
    let report = invoke(&g, json!({"mode": "scheduled", "kinds": ["pricing"]}))
        .await
        .expect("a clean stop is Ok to Lambda");
    // THEN the kind is partial, the watermark is where data is complete, and the run says so
    let p = result(&report, WABA, "pricing");
    assert_eq!(
        (p.outcome, p.error_class),
        (Outcome::Partial, Some(FailureClass::Throttled))
    );
    assert_eq!(report.verdict, RunVerdict::Ok);
    assert_eq!(p.stored_through, Some(day("2026-11-09")));
    assert_eq!(p.watermark_after, Some(day("2026-11-09")));
    assert_eq!(
        g.store.watermark_of(WABA, PullKind::Pricing),
        Some(day("2026-11-09"))
    );
    assert_eq!(g.graph.calls().len(), 4, "nothing asked after the throttle");
    assert_eq!(
        g.store.last_run(WABA, SyncKind::Pricing).unwrap().outcome,
        Outcome::Partial
    );
    // AND the next run resumes from the watermark and completes
    let report = invoke(&g, json!({"mode": "scheduled", "kinds": ["pricing"]}))
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Complete, "{report:#?}");
    assert_eq!(
        g.store.watermark_of(WABA, PullKind::Pricing),
        Some(day("2026-11-20"))
    );
}

#[tokio::test]
async fn an_expired_token_is_an_error_for_a_person_and_keeps_what_completed() {
    // GIVEN two WABAs; the token is rejected on the first one's first request
    let g = given(&[WABA, OTHER_WABA], "2026-11-17", 30);
    g.graph.fail(GraphFault::ExpiredToken, 1);
    // WHEN the scheduled run is invoked
    let err = invoke(&g, json!({"mode": "scheduled"}))
        .await
        .expect_err("a rejected token is an error to Lambda");
    let (report, diagnostic) = failed_run(err);
    // THEN Lambda sees NeedsPerson, naming the WABA and the fix
    assert_eq!(diagnostic.error_type, "MetaSync.NeedsPerson");
    assert!(
        diagnostic.error_message.contains(WABA)
            && diagnostic
                .error_message
                .contains("refresh or replace the access token"),
        "{}",
        diagnostic.error_message
    );
    assert_eq!(report.verdict, RunVerdict::NeedsPerson);
    let cat = result(&report, WABA, "catalogue");
    assert_eq!(
        (cat.outcome, cat.error_class),
        (Outcome::Failed, Some(FailureClass::Auth))
    );
    for kind in PullKind::ALL {
        assert_eq!(
            result(&report, WABA, kind.as_str()).outcome,
            Outcome::Skipped
        );
        assert_eq!(
            g.store.watermark_of(WABA, kind),
            Some(day("2026-11-17")),
            "{kind:?} unchanged"
        );
    }
    assert_eq!(
        g.store.last_run(WABA, SyncKind::Catalogue).unwrap().outcome,
        Outcome::Failed
    );
    // AND the other WABA's pulls completed and their watermarks stay advanced
    for kind in PullKind::ALL {
        assert_eq!(
            result(&report, OTHER_WABA, kind.as_str()).outcome,
            Outcome::Complete
        );
        assert_eq!(
            g.store.watermark_of(OTHER_WABA, kind),
            Some(day("2026-11-20"))
        );
    }
}

#[tokio::test]
async fn a_missing_permission_is_an_error_for_a_person_after_the_kinds_that_completed() {
    // GIVEN pricing answers (one chunk), then messaging lacks a permission (code 200)
    let g = given(&[WABA], "2026-11-17", 30);
    g.graph.answer(1);
    g.graph.fail(GraphFault::MissingPermission, 1);
    let err = invoke(
        &g,
        json!({"mode": "scheduled", "kinds": ["pricing", "messaging"]}),
    )
    .await
    .expect_err("a missing permission is an error to Lambda");
    let (report, diagnostic) = failed_run(err);
    assert_eq!(diagnostic.error_type, "MetaSync.NeedsPerson");
    assert_eq!(
        result(&report, WABA, "messaging").error_class,
        Some(FailureClass::Permission)
    );
    // THEN pricing's watermark stays advanced; messaging's did not move
    assert_eq!(
        g.store.watermark_of(WABA, PullKind::Pricing),
        Some(day("2026-11-20"))
    );
    assert_eq!(
        g.store.watermark_of(WABA, PullKind::Messaging),
        Some(day("2026-11-17"))
    );
}

#[tokio::test]
async fn a_storage_failure_crashes_the_run_after_the_kinds_that_completed() {
    // GIVEN the table fails when messaging rows are written
    let g = given(&[WABA], "2026-11-17", 30);
    g.store.fail(AnalyticsOp::PutMessaging, 1);
    let err = invoke(
        &g,
        json!({"mode": "scheduled", "kinds": ["pricing", "messaging"]}),
    )
    .await
    .expect_err("a storage failure is an error to Lambda");
    let (report, diagnostic) = failed_run(err);
    // THEN Lambda sees Crashed; pricing was kept, messaging's watermark did not move
    assert_eq!(diagnostic.error_type, "MetaSync.Crashed");
    assert!(
        diagnostic.error_message.contains("storage unavailable"),
        "{}",
        diagnostic.error_message
    );
    let m = result(&report, WABA, "messaging");
    assert_eq!(
        (m.outcome, m.error_class),
        (Outcome::Failed, Some(FailureClass::Storage))
    );
    assert_eq!(result(&report, WABA, "pricing").outcome, Outcome::Complete);
    assert_eq!(
        g.store.watermark_of(WABA, PullKind::Pricing),
        Some(day("2026-11-20"))
    );
    assert_eq!(
        g.store.watermark_of(WABA, PullKind::Messaging),
        Some(day("2026-11-17"))
    );
}

#[tokio::test]
async fn a_run_outcome_that_cannot_be_recorded_crashes_the_run() {
    let g = given(&[WABA], "2026-11-17", 30);
    g.store.fail(AnalyticsOp::RecordRun, 1);
    let err = invoke(&g, json!({"mode": "scheduled", "kinds": ["pricing"]}))
        .await
        .expect_err("storage failing is an error to Lambda");
    let (report, diagnostic) = failed_run(err);
    assert_eq!(diagnostic.error_type, "MetaSync.Crashed");
    assert_eq!(
        report.outcome,
        Outcome::Complete,
        "the pull itself completed"
    );
    assert!(result(&report, WABA, "pricing").notes[0].contains("could not record the run outcome"));
    assert_eq!(
        g.store.watermark_of(WABA, PullKind::Pricing),
        Some(day("2026-11-20"))
    );
}

#[tokio::test]
async fn a_request_it_cannot_read_is_refused_before_any_pull() {
    let g = given(&[WABA], "2026-11-17", 30);
    for payload in [
        json!({"mode": "backfill", "from": "2026-11-10", "to": "2026-11-01"}),
        json!({"mode": "scheduled", "wabas": ["999"]}),
        json!({"mode": "scheduled", "kinds": ["spend"]}),
        json!({"mode": "sometimes"}),
    ] {
        let err = invoke(&g, payload.clone()).await.unwrap_err();
        assert!(
            matches!(err.0, SyncError::InvalidRequest(_)),
            "{payload}: {err}"
        );
        assert_eq!(Diagnostic::from(err).error_type, "MetaSync.InvalidRequest");
    }
    assert!(g.graph.calls().is_empty());
    assert_eq!(g.store.writes(), 0);
}
