//! The lead-imports runner driven with an EventBridge S3 "Object Created" event from a
//! fixture (`tests/fixtures/object_created.json`) against the lead store and the uploaded
//! files in memory: no moto, no S3. Against moto: `tests/tests/it/imports.rs`.

use chrono::Utc;
use lead_imports::handler::{ImportRunner, object_key};
use serde_json::{Value, json};
use shared::domain::access::Access;
use shared::domain::leads::Lifecycle;
use shared::domain::leads::jobs::{ImportJob, JobStatus, job_of_upload};
use shared::memory::files::MemoryImportFiles;
use shared::memory::leads::{Failure, MemoryLeadStore};
use shared::ports::LeadStore;
use std::collections::BTreeSet;

const WABA: &str = "1001";

fn fixture() -> Value {
    let path = format!(
        "{}/tests/fixtures/object_created.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The job `POST /v1/leads/imports` opened for the fixture's object, by a manager of one WABA.
fn awaiting(id: &str) -> ImportJob {
    ImportJob {
        id: id.to_string(),
        status: JobStatus::AwaitingUpload,
        access: Access::Wabas(BTreeSet::from([WABA.to_string()])).to_stored(),
        waba_id: Some(WABA.into()),
        created_by: "manager-1".into(),
        created_at: Utc::now().timestamp() - 60,
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

struct Given {
    runner: ImportRunner<MemoryLeadStore, MemoryImportFiles>,
    store: MemoryLeadStore,
    files: MemoryImportFiles,
    event: Value,
    key: String,
    job: String,
}

async fn given() -> Given {
    let event = fixture();
    let key = object_key(&event).expect("an object key").to_string();
    let job = job_of_upload(&key).expect("a job's upload").to_string();
    let (store, files) = (MemoryLeadStore::new(), MemoryImportFiles::new());
    assert!(store.create_job(&awaiting(&job)).await.unwrap());
    Given {
        runner: ImportRunner::new(store.clone(), files.clone(), Lifecycle::default()),
        store,
        files,
        event,
        key,
        job,
    }
}

#[tokio::test]
async fn an_upload_runs_its_job_once() {
    let g = given().await;
    let phones = ["6282200000001", "6282200000002"];
    let csv = format!(
        "phone,name\n{},Budi\n{},Ana\nnot-a-phone,X\n",
        phones[0], phones[1]
    );
    g.files.upload(&g.key, csv.into_bytes());

    let answer = g.runner.handle(g.event.clone()).await.unwrap();
    assert_eq!(
        answer,
        json!({"key": g.key, "ran": true, "job": g.job, "status": "done"})
    );
    let job = g.store.job(&g.job).await.unwrap().unwrap();
    assert_eq!(
        (job.status, job.imported, job.updated, job.error_count),
        (JobStatus::Done, phones.len() as u64, 0, 1)
    );
    assert_eq!(job.errors[0].line, 4, "the bad row, by its line");
    for phone in phones {
        assert!(g.store.stored(phone).is_some(), "{phone}");
        assert_eq!(
            g.store.filed_under(phone),
            BTreeSet::from([WABA.to_string()])
        );
    }

    // EventBridge delivers the event again: the job is no longer awaiting its file.
    let again = g.runner.handle(g.event.clone()).await.unwrap();
    assert_eq!(again, json!({"key": g.key, "ran": false}));
    assert_eq!(g.store.job(&g.job).await.unwrap().unwrap(), job);
}

#[tokio::test]
async fn a_bad_file_fails_its_job_and_a_store_outage_goes_back_to_lambda() {
    let g = given().await;
    g.files.upload(&g.key, b"colour\nred\n".to_vec());
    let answer = g.runner.handle(g.event.clone()).await.unwrap();
    assert_eq!(answer["status"], "failed");
    let job = g.store.job(&g.job).await.unwrap().unwrap();
    assert!(
        job.reason
            .as_deref()
            .unwrap_or_default()
            .starts_with("invalid_header"),
        "{:?}",
        job.reason
    );

    let g = given().await;
    g.files.upload(&g.key, b"phone\n6282200000003\n".to_vec());
    g.store.fail(Failure::Unavailable, 1);
    assert!(g.runner.handle(g.event.clone()).await.is_err());
    // Lambda's retry runs it.
    let answer = g.runner.handle(g.event.clone()).await.unwrap();
    assert_eq!(answer["status"], "done");

    assert!(g.runner.handle(json!({"detail": {}})).await.is_err());
}
