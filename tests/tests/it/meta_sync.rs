//! The meta-sync function's real handler against moto (DynamoDB + S3) and the fake Graph API:
//! windows and watermarks, paging to the end, raw snapshots, a re-run changing nothing, each
//! fault kind, a 90-day backfill, several WABAs, catalogue history.

use crate::support::*;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use integration_tests::fake_graph::{FAKE_GRAPH_TOKEN, FakeGraph, Fault};
use integration_tests::harness::Stack;
use meta_sync::handler::{
    FailureClass, MetaSync, Outcome, SyncError, SyncReport, SyncRequest, SyncSettings,
};
use serde_json::json;
use shared::adapters::dynamodb::analytics::DynamoDbAnalyticsStore;
use shared::adapters::graph::{GraphClient, GraphConfig, RetryPolicy};
use shared::adapters::s3::S3RawStore;
use shared::config::Secret;
use shared::domain::sync::PullKind;
use shared::ports::AnalyticsStore;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration as StdDuration;

const EU_WABA: &str = "209876543210987";
const NO_INSIGHTS_WABA: &str = "301122334455667";
const DAY: i64 = 86_400;

fn now() -> DateTime<Utc> {
    "2026-11-21T10:00:00Z".parse().unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn sync(
    stack: &Stack,
    fake: &FakeGraph,
    wabas: &[&str],
) -> MetaSync<GraphClient, S3RawStore, DynamoDbAnalyticsStore> {
    sync_with_attempts(stack, fake, wabas, 3)
}

/// Like [`sync`], with `max_attempts` per Graph request.
fn sync_with_attempts(
    stack: &Stack,
    fake: &FakeGraph,
    wabas: &[&str],
    max_attempts: u32,
) -> MetaSync<GraphClient, S3RawStore, DynamoDbAnalyticsStore> {
    let mut graph = GraphConfig::new(fake.url.clone(), Secret::new(FAKE_GRAPH_TOKEN));
    graph.timeout = StdDuration::from_millis(400);
    graph.retry = RetryPolicy {
        max_attempts,
        base_delay: StdDuration::from_millis(5),
        max_delay: StdDuration::from_millis(20),
        max_regain_wait: StdDuration::from_secs(1),
    };
    MetaSync::new(
        GraphClient::new(graph).unwrap(),
        DynamoDbAnalyticsStore::new(stack.dynamodb.clone(), &stack.table),
        S3RawStore::new(stack.s3.clone(), &stack.bucket),
        SyncSettings {
            waba_ids: wabas.iter().map(|w| w.to_string()).collect(),
            snapshot_prefix: "snapshots/".into(),
            clicks_unavailable: [EU_WABA.to_string()].into(),
            chunk_days: 10,
        },
    )
}

fn scheduled(kinds: &[&str]) -> SyncRequest {
    SyncRequest::Scheduled {
        wabas: None,
        kinds: Some(kinds.iter().map(|k| k.to_string()).collect()),
    }
}

/// Sets a watermark so a scheduled run's window is short (tests stay fast on moto).
async fn set_watermark(stack: &Stack, waba: &str, kind: PullKind, d: &str) {
    DynamoDbAnalyticsStore::new(stack.dynamodb.clone(), &stack.table)
        .advance_watermark(waba, kind, day(d))
        .await
        .unwrap();
}

async fn watermark(stack: &Stack, waba: &str, kind: PullKind) -> Option<NaiveDate> {
    DynamoDbAnalyticsStore::new(stack.dynamodb.clone(), &stack.table)
        .watermark(waba, kind)
        .await
        .unwrap()
}

fn items_with_pk(items: &[Item], prefix: &str) -> Vec<Item> {
    items
        .iter()
        .filter(|i| text(i, "pk").is_some_and(|p| p.starts_with(prefix)))
        .cloned()
        .collect()
}

/// Everything but the run bookkeeping (`last_run_*`, the catalogue's `pulled_at`), which
/// names each run.
fn data_items(items: &[Item]) -> Vec<Item> {
    items
        .iter()
        .map(|i| {
            let mut i = i.clone();
            i.retain(|k, _| !k.starts_with("last_") && k != "pulled_at");
            i
        })
        .collect()
}

/// The fake's pricing points for `[first, last]` summed per day, as ground truth: the UTC
/// midpoint of a bucket names its day (buckets start at 07:00 UTC).
fn expected_pricing_volume(
    fake: &FakeGraph,
    waba: &str,
    first: NaiveDate,
    last: NaiveDate,
) -> BTreeMap<NaiveDate, u64> {
    let start = first.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() - DAY;
    let end = last.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() + 2 * DAY;
    let dims = [
        "PRICING_CATEGORY",
        "PRICING_TYPE",
        "COUNTRY",
        "PHONE",
        "TIER",
    ];
    let mut out = BTreeMap::new();
    for p in fake.handle.pricing_points(waba, start, end, "DAILY", &dims) {
        let bs = p["start"].as_i64().unwrap();
        let d = DateTime::from_timestamp(bs + DAY / 2, 0)
            .unwrap()
            .date_naive();
        if bs >= start && d >= first && d <= last {
            *out.entry(d).or_default() += p["volume"].as_u64().unwrap_or(0);
        }
    }
    out
}

fn stored_pricing_volume(items: &[Item], waba: &str) -> BTreeMap<NaiveDate, u64> {
    let mut out = BTreeMap::new();
    for i in items_with_pk(items, &format!("PRICING#{waba}")) {
        *out.entry(day(text(&i, "day").unwrap())).or_default() += num(&i, "volume").unwrap() as u64;
    }
    out
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

#[tokio::test]
async fn a_first_run_pulls_the_lookback_pages_to_the_end_snapshots_every_page_and_a_rerun_changes_nothing()
 {
    let stack = Stack::start().await;
    let fake = FakeGraph::standard().await.unwrap();
    fake.handle.set_page_size(40);
    let sync = sync(&stack, &fake, &[WABA]);
    // Pricing and messaging start from a watermark (365 days on moto is slow); templates and
    // the catalogue get a true first run: Meta's whole 90-day lookback.
    set_watermark(&stack, WABA, PullKind::Pricing, "2026-10-31").await;
    set_watermark(&stack, WABA, PullKind::Messaging, "2026-10-31").await;
    let report = sync
        .run(
            &scheduled(&["catalogue", "pricing", "templates", "messaging"]),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Complete, "{report:#?}");

    let templates = result(&report, WABA, "templates");
    let window = templates.window.unwrap();
    assert_eq!(
        (window.first, window.last),
        (day("2026-08-24"), day("2026-11-21")),
        "90 days through today"
    );
    assert_eq!(templates.watermark_before, None);
    assert_eq!(
        templates.watermark_after,
        Some(day("2026-11-20")),
        "today is never complete"
    );
    let pricing = result(&report, WABA, "pricing");
    let window = pricing.window.unwrap();
    assert_eq!(
        (window.first, window.last),
        (day("2026-10-25"), day("2026-11-21")),
        "7 days re-pulled before the watermark"
    );
    assert_eq!(pricing.watermark_after, Some(day("2026-11-20")));

    // Paging followed to the end: more pages than requests' first pages, every page kept.
    let requests = fake.handle.requests();
    let followed = requests
        .iter()
        .filter(|r| r.param("after").is_some() || r.query.contains("after"))
        .count();
    assert!(followed > 0, "later pages were requested");
    for kind in ["catalogue", "pricing", "templates", "messaging"] {
        let r = result(&report, WABA, kind);
        let keys = stack
            .objects(&format!(
                "snapshots/{kind}/{WABA}/2026-11-21/{}/",
                report.run_id
            ))
            .await;
        assert_eq!(keys.len(), r.snapshots, "{kind}: one object per page");
        assert_eq!(r.snapshots, r.pages, "{kind}");
    }
    assert!(
        pricing.pages > 3,
        "28 days of pricing at 40 points a page spans several pages"
    );

    // Stored pricing equals what Meta served, per day.
    let items = stack.scan().await;
    assert_eq!(
        stored_pricing_volume(&items, WABA),
        expected_pricing_volume(&fake, WABA, day("2026-10-25"), day("2026-11-21"))
    );
    // Template rows: one per template with insights × day, for 90 days.
    let tpl_days = items_with_pk(&items, "TPLDAY#");
    let catalogue = fake.handle.config().wabas[0].templates.clone();
    let expected_ids: Vec<String> = catalogue.iter().map(|t| t.id.clone()).collect();
    let served = fake
        .handle
        .template_points(WABA, &expected_ids, 1_787_529_600, 1_795_305_600);
    assert_eq!(
        tpl_days.len(),
        served.len(),
        "every data point Meta served, 2026-08-24..2026-11-21"
    );
    assert_eq!(
        tpl_days.len(),
        catalogue.iter().filter(|t| t.has_insights).count() * 90
    );
    let sent: u64 = tpl_days
        .iter()
        .filter_map(|i| num(i, "sent"))
        .map(|n| n as u64)
        .sum();
    let served_sent: u64 = served.iter().filter_map(|p| p["sent"].as_u64()).sum();
    assert_eq!(sent, served_sent);
    // The catalogue with its first-seen history.
    assert_eq!(
        result(&report, WABA, "catalogue").rows_stored,
        catalogue.len()
    );
    let cat = items
        .iter()
        .filter(|i| text(i, "item_kind") == Some("template_catalogue"))
        .count();
    assert_eq!(cat, catalogue.len());

    // A re-run of the same day: the window is the last 7 days only, stored data identical.
    fake.handle.clear_requests();
    let again = sync
        .run(
            &scheduled(&["catalogue", "pricing", "templates", "messaging"]),
            now() + Duration::minutes(60),
        )
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::Complete, "{again:#?}");
    let w = result(&again, WABA, "templates").window.unwrap();
    assert_eq!((w.first, w.last), (day("2026-11-14"), day("2026-11-21")));
    let after = data_items(&stack.scan().await);
    let before = data_items(&items);
    let changed: Vec<_> = after.iter().filter(|i| !before.contains(i)).collect();
    assert!(
        changed.is_empty() && after.len() == before.len(),
        "a re-run changes nothing: {} items before, {} after; changed: {changed:?}",
        before.len(),
        after.len()
    );
    // And the run outcome is kept beside each watermark.
    let sync_item = stack
        .item(&format!("SYNC#{WABA}"), "templates")
        .await
        .unwrap();
    assert_eq!(text(&sync_item, "last_outcome"), Some("complete"));
    assert_eq!(text(&sync_item, "last_run_id"), Some(again.run_id.as_str()));
}

#[tokio::test]
async fn cursor_only_paging_is_followed_to_the_end() {
    let stack = Stack::start().await;
    let fake = FakeGraph::standard().await.unwrap();
    fake.handle.set_page_size(3);
    fake.handle.set_links_next(false);
    let sync = sync(&stack, &fake, &[WABA]);
    set_watermark(&stack, WABA, PullKind::Templates, "2026-11-18").await;
    let report = sync.run(&scheduled(&["templates"]), now()).await.unwrap();
    assert_eq!(report.outcome, Outcome::Complete, "{report:#?}");
    let t = result(&report, WABA, "templates");
    let items = stack.scan().await;
    let rows = items_with_pk(&items, "TPLDAY#").len();
    // 2026-11-12..2026-11-21: 10 days × templates with insights, 3 points a page.
    let with_insights = fake.handle.config().wabas[0]
        .templates
        .iter()
        .filter(|t| t.has_insights)
        .count();
    assert_eq!(rows, with_insights * 10);
    assert_eq!(t.rows_stored, rows);
    assert!(t.pages >= rows / 3, "{} pages for {rows} rows", t.pages);
}

#[tokio::test]
async fn throttling_stops_cleanly_with_the_watermark_where_data_is_complete() {
    for fault in [
        Fault::throttle(80007),
        Fault::throttle(130429),
        Fault::throttle(4),
        Fault::TooManyRequests,
    ] {
        let stack = Stack::start().await;
        let fake = FakeGraph::standard().await.unwrap();
        fake.handle.set_page_size(100_000);
        let sync = sync(&stack, &fake, &[WABA]);
        set_watermark(&stack, WABA, PullKind::Pricing, "2026-10-20").await;
        // Window 2026-10-14..2026-11-21 = 4 chunks of ≤ 10 days. Each chunk is one page plus
        // the empty page that ends cursor paging: the first four requests (two chunks)
        // answer, then every attempt at the third chunk is throttled.
        fake.handle.inject(Fault::Slow(StdDuration::ZERO), 4);
        fake.handle.inject(fault.clone(), 3);
        let report = sync.run(&scheduled(&["pricing"]), now()).await.unwrap();
        let p = result(&report, WABA, "pricing");
        assert_eq!(p.outcome, Outcome::Partial, "{fault:?}: {p:#?}");
        assert_eq!(report.outcome, Outcome::Partial);
        assert_eq!(p.error_class, Some(FailureClass::Throttled), "{fault:?}");
        assert!(
            p.reason.as_deref().unwrap().contains("throttled"),
            "{:?}",
            p.reason
        );
        assert_eq!(
            p.stored_through,
            Some(day("2026-11-02")),
            "two chunks stored"
        );
        assert_eq!(p.watermark_after, Some(day("2026-11-02")));
        assert_eq!(
            watermark(&stack, WABA, PullKind::Pricing).await,
            Some(day("2026-11-02"))
        );
        let stored = stored_pricing_volume(&stack.scan().await, WABA);
        assert_eq!(
            stored.keys().next_back(),
            Some(&day("2026-11-02")),
            "nothing of the throttled chunk"
        );
        let sync_item = stack
            .item(&format!("SYNC#{WABA}"), "pricing")
            .await
            .unwrap();
        assert_eq!(text(&sync_item, "last_outcome"), Some("partial"));
        // The next run resumes from the watermark and completes.
        let report = sync.run(&scheduled(&["pricing"]), now()).await.unwrap();
        assert_eq!(report.outcome, Outcome::Complete, "{report:#?}");
        assert_eq!(
            watermark(&stack, WABA, PullKind::Pricing).await,
            Some(day("2026-11-20"))
        );
        assert_eq!(
            stored_pricing_volume(&stack.scan().await, WABA),
            expected_pricing_volume(&fake, WABA, day("2026-10-14"), day("2026-11-21"))
        );
    }
}

/// A storm (Graph throttling and 5xx, many in a row, Meta's usage header asking for no wait,
/// a `Retry-After` header asking for one second): every page is retried with backoff up to
/// the attempt budget, then its kind stops cleanly; what was complete before the storm is
/// kept and its watermark moved; nothing is requested past the budget; and the run after the
/// storm completes with exactly the data of a table that never saw it.
#[tokio::test]
async fn a_throttling_and_5xx_storm_stops_cleanly_and_the_next_run_completes_exactly() {
    let stack = Stack::start().await;
    let fake = FakeGraph::standard().await.unwrap();
    fake.handle.set_page_size(100_000);
    let sync = sync_with_attempts(&stack, &fake, &[WABA], 8);
    for kind in [PullKind::Pricing, PullKind::Messaging] {
        set_watermark(&stack, WABA, kind, "2026-10-20").await;
    }
    // Pricing: two chunks answer (a page and the empty page ending cursor paging, each),
    // then every attempt at the third chunk meets the storm; messaging: its first chunk does.
    fake.handle.inject(Fault::Slow(StdDuration::ZERO), 4);
    let storm = |codes: [i64; 5], last: Fault| {
        let mut faults: Vec<Fault> = codes.into_iter().map(Fault::throttle).collect();
        faults.push(Fault::RetryAfter {
            status: 429,
            seconds: 1,
        });
        faults.push(Fault::ServerError(500));
        faults.push(last);
        faults
    };
    let pricing_storm = storm([4, 17, 32, 613, 80004], Fault::ServerError(503));
    let messaging_storm = storm([80004, 613, 32, 17, 4], Fault::throttle(80004));
    for fault in pricing_storm.iter().chain(&messaging_storm) {
        fake.handle.inject(fault.clone(), 1);
    }
    let report = sync
        .run(&scheduled(&["pricing", "messaging"]), now())
        .await
        .unwrap();
    let requests = fake.handle.requests();
    assert_eq!(
        requests.len(),
        4 + pricing_storm.len() + messaging_storm.len(),
        "every page retried up to the budget, nothing more"
    );
    // The client waited out the Retry-After (1 s) before the next attempt.
    for at in [4 + 5, 4 + 8 + 5] {
        let waited = requests[at + 1].at - requests[at].at;
        assert!(waited >= StdDuration::from_secs(1), "waited {waited:?}");
    }
    let p = result(&report, WABA, "pricing");
    assert_eq!(
        (p.outcome, p.error_class),
        (Outcome::Partial, Some(FailureClass::Transient)),
        "{p:#?}"
    );
    assert_eq!(p.stored_through, Some(day("2026-11-02")));
    let m = result(&report, WABA, "messaging");
    assert_eq!(
        (m.outcome, m.error_class),
        (Outcome::Failed, Some(FailureClass::Throttled)),
        "{m:#?}"
    );
    assert_eq!(
        watermark(&stack, WABA, PullKind::Pricing).await,
        Some(day("2026-11-02")),
        "moved through what was complete"
    );
    assert_eq!(
        watermark(&stack, WABA, PullKind::Messaging).await,
        Some(day("2026-10-20")),
        "unchanged"
    );
    let stored = stored_pricing_volume(&stack.scan().await, WABA);
    assert_eq!(
        stored,
        expected_pricing_volume(&fake, WABA, day("2026-10-14"), day("2026-11-02")),
        "the chunks before the storm, exactly"
    );

    // The storm is over: the next run completes, and the table holds what a table that never
    // saw the storm holds after one run.
    let report = sync
        .run(&scheduled(&["pricing", "messaging"]), now())
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Complete, "{report:#?}");
    let calm = Stack::start().await;
    for kind in [PullKind::Pricing, PullKind::Messaging] {
        set_watermark(&calm, WABA, kind, "2026-10-20").await;
    }
    let report = sync_with_attempts(&calm, &fake, &[WABA], 8)
        .run(&scheduled(&["pricing", "messaging"]), now())
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Complete, "{report:#?}");
    let after_storm = data_items(&stack.scan().await);
    assert_eq!(after_storm, data_items(&calm.scan().await));
    assert_eq!(
        stored_pricing_volume(&after_storm, WABA),
        expected_pricing_volume(&fake, WABA, day("2026-10-14"), day("2026-11-21"))
    );
    for kind in [PullKind::Pricing, PullKind::Messaging] {
        assert_eq!(
            watermark(&stack, WABA, kind).await,
            Some(day("2026-11-20")),
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn an_expired_token_fails_the_waba_names_the_fix_and_leaves_other_wabas_alone() {
    let stack = Stack::start().await;
    let fake = FakeGraph::standard().await.unwrap();
    let sync = sync(&stack, &fake, &[WABA, EU_WABA]);
    set_watermark(&stack, EU_WABA, PullKind::Pricing, "2026-11-18").await;
    set_watermark(&stack, EU_WABA, PullKind::Templates, "2026-11-18").await;
    set_watermark(&stack, EU_WABA, PullKind::Messaging, "2026-11-18").await;
    fake.handle.inject(Fault::ExpiredToken, 1);
    let report = sync
        .run(
            &scheduled(&["catalogue", "pricing", "templates", "messaging"]),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Failed);
    let cat = result(&report, WABA, "catalogue");
    assert_eq!(
        (cat.outcome, cat.error_class),
        (Outcome::Failed, Some(FailureClass::Auth))
    );
    let reason = cat.reason.as_deref().unwrap();
    assert!(
        reason.contains(WABA) && reason.contains("refresh or replace the access token"),
        "{reason}"
    );
    assert!(
        !reason.contains(FAKE_GRAPH_TOKEN),
        "the token never appears"
    );
    for kind in ["pricing", "templates", "messaging"] {
        let r = result(&report, WABA, kind);
        assert_eq!(r.outcome, Outcome::Skipped, "{kind}");
        assert!(
            r.reason
                .as_deref()
                .unwrap()
                .contains("access token was rejected"),
            "{kind}"
        );
        assert_eq!(
            watermark(&stack, WABA, PullKind::parse(kind).unwrap()).await,
            None
        );
    }
    // The run is marked failed in the table too.
    let item = stack
        .item(&format!("SYNC#{WABA}"), "catalogue")
        .await
        .unwrap();
    assert_eq!(text(&item, "last_outcome"), Some("failed"));
    assert!(text(&item, "last_reason").unwrap().contains("access token"));
    // The other WABA is pulled normally.
    for kind in ["catalogue", "pricing", "templates", "messaging"] {
        assert_eq!(
            result(&report, EU_WABA, kind).outcome,
            Outcome::Complete,
            "{kind}"
        );
    }
    assert_eq!(
        watermark(&stack, EU_WABA, PullKind::Pricing).await,
        Some(day("2026-11-20"))
    );
    // As Lambda sees it: the same run through the handler is an error that needs a person,
    // naming the fix, and the other WABA's completed pulls are kept all the same.
    fake.handle.inject(Fault::ExpiredToken, 1);
    let err = sync
        .handle(json!({"mode": "scheduled"}), now())
        .await
        .unwrap_err();
    assert!(matches!(err.0, SyncError::NeedsPerson(_)), "{err}");
    assert!(
        err.to_string()
            .contains("refresh or replace the access token"),
        "{err}"
    );
    let kept = err.0.report().unwrap();
    assert_eq!(result(kept, EU_WABA, "pricing").outcome, Outcome::Complete);
    assert_eq!(
        watermark(&stack, EU_WABA, PullKind::Pricing).await,
        Some(day("2026-11-20"))
    );
}

#[tokio::test]
async fn server_errors_and_slow_answers_are_retried_a_bounded_number_of_times() {
    let stack = Stack::start().await;
    let fake = FakeGraph::standard().await.unwrap();
    fake.handle.set_page_size(100_000);
    let sync = sync(&stack, &fake, &[WABA]);
    set_watermark(&stack, WABA, PullKind::Messaging, "2026-11-18").await;
    // Two failures then an answer: within the 3 attempts, the run completes.
    fake.handle.inject(Fault::ServerError(500), 1);
    fake.handle
        .inject(Fault::Slow(StdDuration::from_secs(2)), 1);
    let report = sync.run(&scheduled(&["messaging"]), now()).await.unwrap();
    assert_eq!(report.outcome, Outcome::Complete, "{report:#?}");
    assert_eq!(
        watermark(&stack, WABA, PullKind::Messaging).await,
        Some(day("2026-11-20"))
    );
    let stored = stack.scan().await;
    let days: BTreeSet<_> = items_with_pk(&stored, &format!("MSGDAY#{WABA}"))
        .iter()
        .map(|i| text(i, "day").unwrap().to_string())
        .collect();
    assert_eq!(days.len(), 10, "2026-11-12..2026-11-21");

    // Every attempt failing: the kind fails, bounded (3 requests), the watermark stays.
    set_watermark(&stack, WABA, PullKind::Pricing, "2026-11-18").await;
    for fault in [
        Fault::ServerError(503),
        Fault::Slow(StdDuration::from_secs(2)),
    ] {
        fake.handle.clear_requests();
        fake.handle.inject(fault.clone(), 3);
        let report = sync.run(&scheduled(&["pricing"]), now()).await.unwrap();
        let p = result(&report, WABA, "pricing");
        assert_eq!(
            (p.outcome, p.error_class),
            (Outcome::Failed, Some(FailureClass::Transient)),
            "{fault:?}: {p:#?}"
        );
        assert_eq!(
            fake.handle.requests().len(),
            3,
            "{fault:?}: bounded retries"
        );
        assert_eq!(p.watermark_after, Some(day("2026-11-18")));
        assert_eq!(
            watermark(&stack, WABA, PullKind::Pricing).await,
            Some(day("2026-11-18"))
        );
        fake.handle.clear_faults();
    }
}

#[tokio::test]
async fn a_backfill_of_90_days_fills_templates_and_a_detached_range_leaves_the_watermark() {
    let stack = Stack::start().await;
    let fake = FakeGraph::standard().await.unwrap();
    fake.handle.set_page_size(100_000);
    let sync = sync(&stack, &fake, &[WABA]);
    // A later range first, with no watermark: stored, but the watermark waits for the gap.
    let detached = SyncRequest::Backfill {
        from: day("2026-11-10"),
        to: day("2026-11-15"),
        wabas: None,
        kinds: Some(vec!["templates".into()]),
    };
    let report = sync.run(&detached, now()).await.unwrap();
    let t = result(&report, WABA, "templates");
    assert_eq!(t.outcome, Outcome::Complete, "{t:#?}");
    assert_eq!(t.watermark_after, None);
    assert!(
        t.notes.iter().any(|n| n.contains("watermark not moved")),
        "{:?}",
        t.notes
    );
    // 90 days, asked from further back than Meta keeps: clamped, said so, and complete.
    let backfill = SyncRequest::Backfill {
        from: day("2026-06-01"),
        to: day("2026-11-21"),
        wabas: None,
        kinds: Some(vec!["templates".into()]),
    };
    let report = sync.run(&backfill, now()).await.unwrap();
    let t = result(&report, WABA, "templates");
    assert_eq!(t.outcome, Outcome::Complete, "{t:#?}");
    let w = t.window.unwrap();
    assert_eq!((w.first, w.last), (day("2026-08-24"), day("2026-11-21")));
    assert!(
        t.notes
            .iter()
            .any(|n| n.contains("older than Meta's 90-day lookback")),
        "{:?}",
        t.notes
    );
    assert_eq!(t.watermark_after, Some(day("2026-11-20")));
    let with_insights = fake.handle.config().wabas[0]
        .templates
        .iter()
        .filter(|t| t.has_insights)
        .count();
    let rows = items_with_pk(&stack.scan().await, "TPLDAY#");
    assert_eq!(
        rows.len(),
        with_insights * 90,
        "every template with insights × 90 days, once"
    );
    let per_template: BTreeMap<String, usize> = rows.iter().fold(BTreeMap::new(), |mut m, i| {
        *m.entry(text(i, "template_id").unwrap().to_string())
            .or_default() += 1;
        m
    });
    assert!(per_template.values().all(|&n| n == 90), "{per_template:?}");
    // A range Meta no longer has is skipped with the reason.
    let ancient = SyncRequest::Backfill {
        from: day("2025-01-01"),
        to: day("2025-02-01"),
        wabas: None,
        kinds: Some(vec!["templates".into()]),
    };
    let report = sync.run(&ancient, now()).await.unwrap();
    let t = result(&report, WABA, "templates");
    assert_eq!(t.outcome, Outcome::Skipped);
    assert!(t.reason.as_deref().unwrap().contains("lookback"));
    // Bad requests are refused before any pull.
    let reversed = json!({"mode": "backfill", "from": "2026-11-10", "to": "2026-11-01"});
    assert!(sync.handle(reversed, now()).await.is_err());
    let unknown = json!({"mode": "scheduled", "wabas": ["999"]});
    let err = sync.handle(unknown, now()).await.unwrap_err().to_string();
    assert!(err.contains("not configured"), "{err}");
}

#[tokio::test]
async fn several_wabas_each_keep_their_own_watermarks_and_explicit_missing_states() {
    let stack = Stack::start().await;
    let fake = FakeGraph::standard().await.unwrap();
    fake.handle.set_page_size(100_000);
    let sync = sync(&stack, &fake, &[WABA, EU_WABA, NO_INSIGHTS_WABA]);
    for waba in [WABA, EU_WABA, NO_INSIGHTS_WABA] {
        for kind in PullKind::ALL {
            set_watermark(&stack, waba, kind, "2026-11-17").await;
        }
    }
    set_watermark(&stack, EU_WABA, PullKind::Pricing, "2026-11-19").await;
    let report = sync
        .handle(json!({"mode": "scheduled"}), now())
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Complete, "{report:#?}");
    assert_eq!(report.results.len(), 12, "3 WABAs × 4 kinds");
    assert_eq!(
        result(&report, EU_WABA, "pricing").window.unwrap().first,
        day("2026-11-13")
    );
    assert_eq!(
        result(&report, WABA, "pricing").window.unwrap().first,
        day("2026-11-11")
    );
    let items = stack.scan().await;
    // The WABA without template insights: skipped with the reason, and no zero rows.
    let t = result(&report, NO_INSIGHTS_WABA, "templates");
    assert_eq!(t.outcome, Outcome::Skipped);
    assert!(
        t.reason.as_deref().unwrap().contains("not enabled"),
        "{:?}",
        t.reason
    );
    assert_eq!(
        watermark(&stack, NO_INSIGHTS_WABA, PullKind::Templates).await,
        Some(day("2026-11-17"))
    );
    let by_waba = |waba: &str, kind: &str| -> Vec<Item> {
        items
            .iter()
            .filter(|i| text(i, "waba_id") == Some(waba) && text(i, "item_kind") == Some(kind))
            .cloned()
            .collect()
    };
    assert!(by_waba(NO_INSIGHTS_WABA, "template_day").is_empty());
    assert!(!by_waba(NO_INSIGHTS_WABA, "pricing_day").is_empty());
    // The EU WABA on a credit line: clicks unavailable in the region, cost not returned.
    let eu_days = by_waba(EU_WABA, "template_day");
    assert!(!eu_days.is_empty());
    assert!(
        eu_days
            .iter()
            .all(|i| text(i, "clicks_state") == Some("unavailable_in_region")
                && !i.contains_key("clicks"))
    );
    assert!(
        eu_days
            .iter()
            .all(|i| text(i, "cost_state") == Some("not_returned"))
    );
    let eu_pricing = by_waba(EU_WABA, "pricing_day");
    assert!(
        eu_pricing
            .iter()
            .all(|i| text(i, "cost_state") == Some("not_returned") && !i.contains_key("cost"))
    );
    // The main WABA reports clicks and cost.
    assert!(
        by_waba(WABA, "template_day")
            .iter()
            .any(|i| i.contains_key("clicks"))
    );
    assert!(
        by_waba(WABA, "pricing_day")
            .iter()
            .all(|i| i.contains_key("cost"))
    );
    for waba in [WABA, EU_WABA] {
        assert_eq!(
            stored_pricing_volume(&items, waba),
            expected_pricing_volume(
                &fake,
                waba,
                result(&report, waba, "pricing").window.unwrap().first,
                day("2026-11-21")
            ),
            "{waba}"
        );
        for kind in PullKind::ALL {
            assert_eq!(
                watermark(&stack, waba, kind).await,
                Some(day("2026-11-20")),
                "{waba} {kind:?}"
            );
        }
    }
}

#[tokio::test]
async fn catalogue_status_changes_are_kept_as_history() {
    let stack = Stack::start().await;
    let fake = FakeGraph::standard().await.unwrap();
    let sync = sync(&stack, &fake, &[WABA]);
    let report = sync.run(&scheduled(&["catalogue"]), now()).await.unwrap();
    assert_eq!(report.outcome, Outcome::Complete);
    let paused = "1000000000000012";
    fake.handle.set_template_status(WABA, paused, "PAUSED");
    let later = now() + Duration::hours(1);
    let report = sync.run(&scheduled(&["catalogue"]), later).await.unwrap();
    assert!(
        result(&report, WABA, "catalogue").notes[0].contains("0 new, 1 with a status"),
        "{report:#?}"
    );
    let history: Vec<Item> = stack
        .scan()
        .await
        .into_iter()
        .filter(|i| {
            text(i, "item_kind") == Some("template_catalogue_change")
                && text(i, "aspect") == Some("status")
        })
        .collect();
    let of = |id: &str| {
        history
            .iter()
            .filter(|i| text(i, "template_id") == Some(id))
            .count()
    };
    assert_eq!(of(paused), 2, "first seen, then the change");
    let change = history
        .iter()
        .find(|i| text(i, "template_id") == Some(paused) && text(i, "from_value").is_some())
        .unwrap();
    assert_eq!(
        (text(change, "from_value"), text(change, "to_value")),
        (Some("APPROVED"), Some("PAUSED"))
    );
    assert_eq!(num(change, "at"), Some(later.timestamp()));
    assert_eq!(
        of("1387372356726668"),
        1,
        "unchanged templates: only first seen"
    );
    let state = stack
        .item(&format!("TPL#{paused}"), "CATALOGUE")
        .await
        .unwrap();
    assert_eq!(text(&state, "template_status"), Some("PAUSED"));
}

/// A stored decimal from Meta's JSON number, as millionths (exactly, from its text).
fn micro(v: &serde_json::Value) -> i64 {
    let text = v.to_string();
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
    whole.parse::<i64>().unwrap() * 1_000_000 + frac.parse::<i64>().unwrap()
}

fn millionths(v: i64) -> String {
    let s = format!("{}.{:06}", v / 1_000_000, v % 1_000_000);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A report generated by the real service, its CSV rows (header excluded) sorted.
async fn report_rows(
    service: &shared::reports::LiveReportService,
    stack: &Stack,
    kind: &str,
    first: NaiveDate,
    last: NaiveDate,
) -> Vec<Vec<String>> {
    let req = shared::domain::report::ReportRequest::parse(
        serde_json::from_value(
            json!({"kind": kind, "from": first.to_string(), "to": last.to_string()}),
        )
        .unwrap(),
        service.settings.links,
    )
    .unwrap();
    let id = format!("1795000000-{:016x}", kind.len());
    let rec = service.new_record(id, &req, "test", "api", 0);
    let done = service.run(rec, || 1).await;
    assert_eq!(done.status.public(), "ready", "{:?}", done.reason);
    let bytes = stack.object(&done.object_key.clone().unwrap()).await;
    let mut rows: Vec<Vec<String>> = csv::Reader::from_reader(bytes.as_slice())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spend_and_reconciliation_reports_carry_metas_pulled_numbers_exactly() {
    // GIVEN a week of Meta's pricing pulled by meta-sync from the fake Graph API
    let stack = Stack::start().await;
    let fake = FakeGraph::standard().await.unwrap();
    let (first, last) = (day("2026-11-10"), day("2026-11-16"));
    let backfill = SyncRequest::Backfill {
        from: first,
        to: last,
        wabas: Some(vec![WABA.to_string()]),
        kinds: Some(vec!["pricing".to_string(), "templates".to_string()]),
    };
    sync(&stack, &fake, &[WABA])
        .run(&backfill, now())
        .await
        .unwrap();

    // WHEN spend and reconciliation reports are generated over it
    let config = integration_tests::harness::reports_config(
        &stack.table,
        &stack.bucket,
        "meta-sync-test-token-0123",
        &[WABA.to_string()],
    );
    let service = shared::reports::live_service(&config, &stack.sdk);
    // THEN every spend row is Meta's points summed per day × dimensions, volume and cost
    // exact, with lower-case categories and types (the webhook's spelling)
    let start = first.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() - DAY;
    let end = last.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() + 2 * DAY;
    let dims = [
        "PRICING_CATEGORY",
        "PRICING_TYPE",
        "COUNTRY",
        "PHONE",
        "TIER",
    ];
    let mut expected: BTreeMap<Vec<String>, (i64, i64)> = BTreeMap::new();
    let mut regular: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for p in fake.handle.pricing_points(WABA, start, end, "DAILY", &dims) {
        let bs = p["start"].as_i64().unwrap();
        let d = DateTime::from_timestamp(bs + DAY / 2, 0)
            .unwrap()
            .date_naive();
        if bs < start || d < first || d > last {
            continue;
        }
        let text = |k: &str| p[k].as_str().unwrap_or("-").to_string();
        let key = vec![
            d.to_string(),
            text("phone_number"),
            text("country"),
            text("pricing_category").to_lowercase(),
            text("pricing_type").to_lowercase(),
            text("tier"),
        ];
        let volume = p["volume"].as_i64().unwrap_or(0);
        let e = expected.entry(key).or_default();
        e.0 += volume;
        e.1 += micro(&p["cost"]);
        if text("pricing_type").eq_ignore_ascii_case("regular") {
            *regular.entry(d).or_default() += volume;
        }
    }
    let mut want: Vec<Vec<String>> = expected
        .into_iter()
        .map(|(mut k, (volume, cost))| {
            k.extend([volume.to_string(), millionths(cost), "reported".to_string()]);
            k
        })
        .collect();
    want.sort();
    assert!(!want.is_empty());
    let got: Vec<Vec<String>> = report_rows(&service, &stack, "spend", first, last)
        .await
        .into_iter()
        .map(|mut r| {
            r.truncate(9);
            r
        })
        .collect();
    assert_eq!(got, want);

    // AND the templates report carries Meta's template_analytics per template (no webhook
    // tags here: Meta-only rows), summed over the period's days: sent, delivered, read,
    // clicks without the unique_* re-counts, amount spent
    let templates = fake.handle.config().wabas[0].templates.clone();
    let ids: Vec<String> = templates.iter().map(|t| t.id.clone()).collect();
    let mut want: BTreeMap<String, [i64; 5]> = BTreeMap::new();
    for p in fake.handle.template_points(WABA, &ids, start, end) {
        let bs = p["start"].as_i64().unwrap();
        let d = DateTime::from_timestamp(bs + DAY / 2, 0)
            .unwrap()
            .date_naive();
        if d < first || d > last {
            continue;
        }
        let id = p["template_id"].as_str().unwrap().to_string();
        let e = want.entry(id).or_default();
        for (i, k) in ["sent", "delivered", "read"].into_iter().enumerate() {
            e[i] += p[k].as_i64().unwrap_or(0);
        }
        for c in p["clicked"].as_array().into_iter().flatten() {
            if !c["type"].as_str().unwrap().starts_with("unique_") {
                e[3] += c["count"].as_i64().unwrap();
            }
        }
        for c in p["cost"].as_array().into_iter().flatten() {
            if c["type"] == "amount_spent" {
                e[4] += micro(&c["value"]);
            }
        }
    }
    let rows = report_rows(&service, &stack, "templates", first, last).await;
    let mut got: BTreeMap<String, [i64; 5]> = BTreeMap::new();
    for r in &rows {
        let e = got.entry(r[17].clone()).or_default();
        for (i, col) in [10, 11, 12, 13].into_iter().enumerate() {
            e[i] += r[col].parse::<i64>().unwrap_or(0);
        }
        if !r[14].is_empty() {
            e[4] += micro(&serde_json::from_str(&r[14]).unwrap());
        }
    }
    assert!(!want.is_empty());
    assert_eq!(got, want, "Meta's numbers per template id");

    // AND reconciliation puts Meta's paid (regular) volume beside the webhook's (none here)
    let rows = report_rows(&service, &stack, "reconciliation", first, last).await;
    let paid: BTreeMap<NaiveDate, i64> = rows
        .iter()
        .map(|r| (day(&r[0]), r[9].parse().unwrap()))
        .collect();
    assert_eq!(paid, regular);
    for r in &rows {
        assert_eq!(
            (r[2].as_str(), r[3].as_str()),
            ("0", ""),
            "no webhook sends; Meta's messaging not pulled: {r:?}"
        );
        assert_eq!(
            r[10],
            format!("-{}", r[9]).replace("-0", "0"),
            "paid_diff = webhook − meta"
        );
    }
}
