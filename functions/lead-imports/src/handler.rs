//! One S3 "Object Created" event (EventBridge) → the import job its object belongs to, run
//! once by `shared::imports::run_upload`. A redelivered event, or a second upload to the
//! same link, finds the job no longer awaiting its file and changes nothing. A storage
//! failure is returned to Lambda, which retries the event (EventBridge's asynchronous
//! invocation retries); a bad file ends the job `failed` with its reason.

use chrono::Utc;
use serde_json::{Value, json};
use shared::domain::leads::Lifecycle;
use shared::ports::{ImportFiles, LeadStore};

/// The import runner over a lead store `S` and the uploaded files `F`.
pub struct ImportRunner<S, F> {
    store: S,
    files: F,
    lifecycle: Lifecycle,
}

/// The object key of an EventBridge S3 event (`detail.object.key`, URL-decoded by S3
/// already in this format).
pub fn object_key(event: &Value) -> Option<&str> {
    event.pointer("/detail/object/key")?.as_str()
}

impl<S: LeadStore, F: ImportFiles> ImportRunner<S, F> {
    pub fn new(store: S, files: F, lifecycle: Lifecycle) -> Self {
        Self {
            store,
            files,
            lifecycle,
        }
    }

    pub async fn handle(&self, event: Value) -> Result<Value, String> {
        let Some(key) = object_key(&event) else {
            return Err("not an S3 Object Created event (detail.object.key missing)".into());
        };
        let job =
            shared::imports::run_upload(&self.store, &self.files, &self.lifecycle, key, Utc::now())
                .await
                .map_err(|e| e.to_string())?;
        let Some(job) = job else {
            return Ok(json!({"key": key, "ran": false}));
        };
        tracing::info!(
            job = %job.id,
            status = job.status.as_str(),
            imported = job.imported,
            updated = job.updated,
            errors = job.error_count,
            "import job finished"
        );
        shared::telemetry::emit_metrics(
            "lead-imports",
            &[],
            &[
                ("ImportedLeads", job.imported as f64, "Count"),
                ("UpdatedLeads", job.updated as f64, "Count"),
                ("ImportRowErrors", job.error_count as f64, "Count"),
            ],
        );
        Ok(json!({"key": key, "ran": true, "job": job.id, "status": job.status.as_str()}))
    }
}
