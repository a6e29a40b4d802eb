//! Conformance of the lead store in memory (`shared::memory::leads::MemoryLeadStore`, what
//! the fast handler tests of `functions/leads` and `functions/aggregator` run on) with the
//! DynamoDB one on moto: the same calls of the `LeadStore` and `LeadActivity` ports, in the
//! same order, give the same answers (values and error kinds), including imports, versions,
//! history, consent moving only forward, conversions per idempotency key, jobs started once,
//! list pages and the timeline.

use chrono::{DateTime, Duration, Utc};
use integration_tests::harness::Stack;
use serde_json::{Value, json};
use shared::adapters::dynamodb::leads::DynamoDbLeadStore;
use shared::domain::access::Access;
use shared::domain::activity::{Activity, Direction};
use shared::domain::capi::ForwardState;
use shared::domain::leads::jobs::{ImportJob, JobStatus};
use shared::domain::leads::{
    ConsentRecord, Conversion, LeadFilter, LeadPatch, Lifecycle, parse_import,
};
use shared::memory::leads::MemoryLeadStore;
use shared::ports::{LeadActivity, LeadStore, LeadsError, StoreError};
use std::collections::BTreeSet;
use std::fmt::Debug;

const W1: &str = "1001";
const W2: &str = "2002";
const P1: &str = "5550001";

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_168_800, 0).unwrap()
}

/// An answer as compared: the value as JSON-ish debug text, or the error's kind.
fn outcome<T: Debug>(r: &Result<T, LeadsError>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(LeadsError::NotFound(id)) => format!("NotFound({id})"),
        Err(LeadsError::VersionConflict { expected, current }) => {
            format!("VersionConflict({expected}, {current})")
        }
        Err(LeadsError::Stage(e)) => format!("Stage({e})"),
        Err(LeadsError::Invalid(_)) => "Invalid".into(),
        Err(LeadsError::IdempotencyConflict(k)) => format!("IdempotencyConflict({k})"),
        Err(LeadsError::Store(StoreError::Unavailable(_))) => "Unavailable".into(),
        Err(LeadsError::Store(StoreError::Rejected(_))) => "Rejected".into(),
    }
}

/// Runs `$call` on both stores and asserts the same outcome.
macro_rules! both {
    ($dynamodb:expr, $memory:expr, $what:expr, |$s:ident| $call:expr) => {{
        let expected = {
            let $s = &$dynamodb;
            $call.await
        };
        let got = {
            let $s = &$memory;
            $call.await
        };
        assert_eq!(
            outcome(&got),
            outcome(&expected),
            "{}: memory vs DynamoDB",
            $what
        );
    }};
}

fn job(id: &str) -> ImportJob {
    ImportJob {
        id: id.into(),
        status: JobStatus::AwaitingUpload,
        access: Access::Wabas(BTreeSet::from([W1.to_string()])).to_stored(),
        waba_id: Some(W1.into()),
        created_by: "manager-1".into(),
        created_at: now().timestamp(),
        started_at: None,
        finished_at: None,
        sha256: None,
        imported: 0,
        updated: 0,
        error_count: 0,
        errors: Vec::new(),
        reason: None,
    }
}

#[tokio::test]
async fn the_in_memory_leads_store_agrees_with_dynamodb() {
    let stack = Stack::start().await;
    let dynamodb = DynamoDbLeadStore::new(stack.dynamodb.clone(), &stack.table);
    let memory = MemoryLeadStore::new();
    let lifecycle = Lifecycle::default();
    let (d, m) = (&dynamodb, &memory);

    // Leads from an import: one with a stage, owner and tags, one with an opt-in, plain ones.
    let csv = format!(
        "phone,name,stage,owner,tags,opt_in_categories,opt_in_source,opt_in_proof,opt_in_at,phone_number_id\n\
         6282000000001,Budi,qualified,ana,vip;b,,,,,\n\
         6282000000002,Ana,,,,marketing,web_form,form 7,{},{P1}\n\
         6282000000003,Citra,,,,,,,,\n\
         6282000000004,,,,,,,,,\n",
        (now() - Duration::hours(1)).to_rfc3339()
    );
    let parsed = parse_import(csv.as_bytes(), &lifecycle, now());
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let ids: Vec<String> = parsed.rows.iter().map(|r| r.lead_id.clone()).collect();
    both!(d, m, "import", |s| s.import(
        &parsed.rows,
        lifecycle.initial(),
        "manager-1",
        now()
    ));
    for id in &ids[..3] {
        both!(d, m, "file under W1", |s| s.record_lead_waba(id, W1));
    }
    both!(d, m, "file under W2", |s| s.record_lead_waba(&ids[3], W2));
    both!(d, m, "number's WABA", |s| s.record_phone_waba(P1, W1));
    both!(d, m, "number's WABA", |s| s.phone_waba(P1));
    both!(d, m, "unknown number", |s| s.phone_waba("5559999"));

    // Reading: one lead, visibility, a page of two and the next page (each store its own
    // cursor), the lists of a scoped caller.
    for id in &ids {
        both!(d, m, format!("lead {id}"), |s| s.lead(id));
    }
    let scoped = Access::Wabas(BTreeSet::from([W1.to_string()]));
    for id in &ids {
        both!(d, m, format!("visible {id}"), |s| s.visible(id, &scoped));
    }
    let first = LeadFilter {
        limit: 2,
        ..LeadFilter::default()
    };
    let page = |r: &Result<(Vec<shared::domain::leads::LeadView>, Option<String>), LeadsError>| {
        let (leads, next) = r.as_ref().expect("a page");
        (
            leads.iter().map(|l| l.lead_id.clone()).collect::<Vec<_>>(),
            next.is_some(),
        )
    };
    let (d1, m1) = (d.list(&first, now()).await, m.list(&first, now()).await);
    assert_eq!(page(&m1), page(&d1), "first page");
    let next = |r: &Result<(_, Option<String>), LeadsError>, f: &LeadFilter| LeadFilter {
        cursor: r.as_ref().unwrap().1.clone(),
        ..f.clone()
    };
    let (d2, m2) = (
        d.list(&next(&d1, &first), now()).await,
        m.list(&next(&m1, &first), now()).await,
    );
    assert_eq!(page(&m2), page(&d2), "second page");
    let forged = LeadFilter {
        cursor: Some("bm90LW91cnM".into()),
        ..LeadFilter::default()
    };
    both!(d, m, "a forged cursor", |s| s.list(&forged, now()));
    let only_w1 = LeadFilter {
        access: scoped.clone(),
        ..LeadFilter::default()
    };
    both!(d, m, "a scoped list", |s| s.list(&only_w1, now()));
    both!(d, m, "the export", |s| s.all(&only_w1, now()));

    // Changes: a patch, the stale one, a forbidden transition, an unknown lead.
    let patch = LeadPatch {
        expected_version: 1,
        stage: Some("in_progress".into()),
        owner: Some(Some("rudi".into())),
        tags: Some(vec!["hot".into(), " vip ".into()]),
        custom_fields: Some([("city".to_string(), "Bandung".to_string())].into()),
    };
    let later = now() + Duration::minutes(5);
    both!(d, m, "a patch", |s| s.update(
        &ids[0],
        &patch,
        "manager-2",
        &lifecycle,
        later
    ));
    both!(d, m, "the stale patch", |s| s.update(
        &ids[0],
        &patch,
        "manager-2",
        &lifecycle,
        later
    ));
    let unassign = LeadPatch {
        expected_version: 2,
        owner: Some(None),
        ..LeadPatch::default()
    };
    both!(d, m, "unassigning", |s| s.update(
        &ids[0],
        &unassign,
        "manager-2",
        &lifecycle,
        later
    ));
    let bogus = LeadPatch {
        expected_version: 1,
        stage: Some("bogus".into()),
        ..LeadPatch::default()
    };
    both!(d, m, "an unknown stage", |s| s.update(
        &ids[1],
        &bogus,
        "manager-2",
        &lifecycle,
        later
    ));
    both!(d, m, "an unknown lead", |s| s.update(
        "6289999999999",
        &patch,
        "manager-2",
        &lifecycle,
        later
    ));
    // The import again: existing leads updated, their stage and owner changes kept.
    let again = parse_import(
        b"phone,stage,owner\n6282000000002,won,ana\n6282000000003,,\n",
        &lifecycle,
        later,
    );
    both!(d, m, "an import over existing leads", |s| s.import(
        &again.rows,
        lifecycle.initial(),
        "manager-3",
        later
    ));

    // Consent: an opt-out after the import's opt-in, the same again, an earlier opt-in late.
    let record = |action: &str, categories: &[&str], at: DateTime<Utc>| ConsentRecord {
        user: ids[1].clone(),
        phone_number_id: P1.into(),
        action: action.into(),
        categories: categories.iter().map(|c| c.to_string()).collect(),
        source: "web_form".into(),
        proof: (action == "opt_in").then(|| "form 9".to_string()),
        at,
        recorded_by: "manager-1".into(),
        via: "api",
    };
    let opt_out = record("opt_out", &["marketing", "utility"], now());
    both!(d, m, "an opt-out", |s| s.record_consent(&opt_out));
    both!(d, m, "the opt-out again", |s| s.record_consent(&opt_out));
    let late = record("opt_in", &["marketing"], now() - Duration::minutes(30));
    both!(d, m, "an earlier opt-in, late", |s| s.record_consent(&late));
    let tie = record("opt_in", &["utility"], now());
    both!(d, m, "an opt-in in the opt-out's second", |s| s
        .record_consent(&tie));
    for category in ["marketing", "utility"] {
        both!(d, m, format!("consent facts, {category}"), |s| s
            .consent_facts(&ids[1], P1, category));
    }
    both!(d, m, "consent facts, nothing on record", |s| s
        .consent_facts(&ids[2], P1, "marketing"));

    // Conversions: recorded once per key, a replay, a conflict, forwarding moves.
    let conversion = |key: &str, value: f64| Conversion {
        conversion_id: format!("{}:{key}", ids[2]),
        kind: "purchase".into(),
        value: Some(value),
        currency: Some("IDR".into()),
        at: now() - Duration::minutes(10),
        idempotency_key: key.into(),
        recorded_at: now(),
        forwarded: ForwardState::Pending.as_str().into(),
        forward_error: None,
    };
    let c1 = conversion("k1", 150000.0);
    both!(d, m, "a conversion", |s| s.record_conversion(
        &ids[2],
        &c1,
        "purchase|150000"
    ));
    both!(d, m, "its replay", |s| s.record_conversion(
        &ids[2],
        &c1,
        "purchase|150000"
    ));
    let other = conversion("k1", 9.0);
    both!(d, m, "the key with another body", |s| s.record_conversion(
        &ids[2],
        &other,
        "purchase|9"
    ));
    both!(d, m, "a conversion of an unknown lead", |s| s
        .record_conversion("6289999999999", &c1, "purchase|150000"));
    both!(d, m, "pending to failed", |s| s.transition_forward(
        &ids[2],
        "k1",
        ForwardState::Pending,
        ForwardState::Failed,
        Some("meta_unavailable")
    ));
    both!(d, m, "pending to sent, not pending", |s| s
        .transition_forward(
            &ids[2],
            "k1",
            ForwardState::Pending,
            ForwardState::Sent,
            None
        ));
    both!(d, m, "forwarding state", |s| s.forward_state(&ids[2], "k1"));
    both!(d, m, "no such conversion", |s| s
        .forward_state(&ids[2], "k9"));

    // Message markers, counted once, the earliest time kept, a moved one forgotten.
    let marker = |wamid: &str, direction: Direction, at: i64| Activity {
        user_key: ids[2].clone(),
        direction,
        wamid: wamid.into(),
        at,
        phone_number_id: Some(P1.into()),
        waba_id: Some(W1.into()),
    };
    let t = now().timestamp();
    for a in [
        marker("wamid.i1", Direction::Inbound, t - 600),
        marker("wamid.o1", Direction::Outbound, t - 300),
        marker("wamid.o1", Direction::Outbound, t - 400),
        marker("wamid.o2", Direction::Outbound, t - 100),
        marker("wamid.o1", Direction::Outbound, t - 200),
    ] {
        both!(d, m, format!("marker {}", a.wamid), |s| s
            .record_activity(&a));
    }
    both!(d, m, "forgetting a marker", |s| s.forget_activity(
        &ids[2],
        Direction::Outbound,
        "wamid.o2"
    ));

    // Each lead and its timeline, after all of it.
    for id in &ids {
        let (expected, got) = (d.get(id).await, m.get(id).await);
        let json = |r: &Result<_, LeadsError>| -> Value {
            match r {
                Ok((lead, timeline)) => json!({"lead": lead, "timeline": timeline}),
                Err(e) => json!(outcome::<()>(&Err(clone_kind(e)))),
            }
        };
        assert_eq!(json(&got), json(&expected), "lead {id} and its timeline");
    }
    both!(d, m, "an unknown lead's timeline", |s| s
        .get("6289999999999"));

    // Import jobs: created once, started once, finished.
    let j = job("k0123456789abcdef0123456789abcdef");
    both!(d, m, "a new job", |s| s.create_job(&j));
    both!(d, m, "the same job again", |s| s.create_job(&j));
    both!(d, m, "the job", |s| s.job(&j.id));
    both!(d, m, "starting it", |s| s.start_job(&j, "abc", t));
    both!(d, m, "starting it again from what was seen", |s| s
        .start_job(&j, "abc", t));
    let mut done = j.clone();
    done.status = JobStatus::Done;
    done.started_at = Some(t);
    done.finished_at = Some(t + 5);
    done.sha256 = Some("abc".into());
    done.imported = 3;
    done.error_count = 1;
    done.errors = vec![shared::domain::leads::RowError {
        line: 4,
        message: "phone: must have 6 to 15 digits, has 3".into(),
    }];
    both!(d, m, "finishing it", |s| s.finish_job(&done));
    both!(d, m, "the finished job", |s| s.job(&j.id));
    both!(d, m, "no such job", |s| s
        .job("k00000000000000000000000000000000"));
}

/// A copy of an error's kind (errors are not `Clone`).
fn clone_kind(e: &LeadsError) -> LeadsError {
    match e {
        LeadsError::NotFound(id) => LeadsError::NotFound(id.clone()),
        LeadsError::VersionConflict { expected, current } => LeadsError::VersionConflict {
            expected: *expected,
            current: *current,
        },
        other => LeadsError::Invalid(other.to_string()),
    }
}
