//! Importing leads from CSV: the one place rows are applied, for the synchronous
//! `POST /v1/leads/import` and for asynchronous jobs (a presigned upload, then a run started by
//! the upload's event). Applies the caller's access: a caller restricted to some WABAs
//! changes only leads it may see (or new ones) and records opt-ins only on its numbers;
//! every lead a row touches is filed under the job's WABA.

use chrono::{DateTime, Utc};

use crate::domain::access::Access;
use crate::domain::leads::jobs::{
    ImportJob, JobStatus, MAX_KEPT_ERRORS, MAX_UPLOAD_BYTES, MAX_UPLOAD_ROWS, file_sha256,
    job_of_upload,
};
use crate::domain::leads::{ImportCounts, ImportOutcome, Lifecycle, RowError, parse_import};
use crate::ports::{ImportFiles, LeadStore, LeadsError};

/// Whether `access` may act on the business number `phone_number_id`: every number for a
/// caller who sees every WABA; else a number whose WABA (as its messages said) is theirs.
pub async fn number_allowed<S: LeadStore>(
    store: &S,
    phone_number_id: &str,
    access: &Access,
) -> Result<bool, LeadsError> {
    if *access == Access::All {
        return Ok(true);
    }
    Ok(store
        .phone_waba(phone_number_id)
        .await?
        .is_some_and(|w| access.allows(&w)))
}

/// Applies parsed rows for a caller with `access`, filing touched leads under `waba`.
/// Rows the caller may not apply join `outcome.errors` (sorted by line).
pub async fn apply_rows<S: LeadStore>(
    store: &S,
    lifecycle: &Lifecycle,
    mut outcome: ImportOutcome,
    access: &Access,
    waba: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(ImportCounts, Vec<RowError>), LeadsError> {
    if *access != Access::All {
        let mut kept = Vec::with_capacity(outcome.rows.len());
        for row in std::mem::take(&mut outcome.rows) {
            if let Some(o) = &row.opt_in
                && !number_allowed(store, &o.phone_number_id, access).await?
            {
                outcome.errors.push(RowError {
                    line: row.line,
                    message: format!(
                        "opt-in phone_number_id {} is not a number of your WABAs",
                        o.phone_number_id
                    ),
                });
                continue;
            }
            let exists = store.lead(&row.lead_id).await?.is_some();
            if exists && !store.visible(&row.lead_id, access).await? {
                outcome.errors.push(RowError {
                    line: row.line,
                    message: format!("lead {} not found", row.lead_id),
                });
                continue;
            }
            kept.push(row);
        }
        outcome.rows = kept;
        outcome.errors.sort_by_key(|e| e.line);
    }
    let counts = store
        .import(&outcome.rows, lifecycle.initial(), actor, now)
        .await?;
    if let Some(w) = waba {
        for row in &outcome.rows {
            store.record_lead_waba(&row.lead_id, w).await?;
        }
    }
    Ok((counts, outcome.errors))
}

/// Stores a finished job's counts and its first row errors.
pub fn finished(
    mut job: ImportJob,
    counts: &ImportCounts,
    errors: Vec<RowError>,
    now: i64,
) -> ImportJob {
    job.status = JobStatus::Done;
    job.imported = counts.imported as u64;
    job.updated = counts.updated as u64;
    job.error_count = errors.len() as u64;
    job.errors = errors.into_iter().take(MAX_KEPT_ERRORS).collect();
    job.finished_at = Some(now);
    job
}

fn failed(mut job: ImportJob, reason: String, now: i64) -> ImportJob {
    job.status = JobStatus::Failed;
    job.reason = Some(reason);
    job.finished_at = Some(now);
    job
}

/// Runs the asynchronous job an uploaded object belongs to (`imports/<job id>.csv`), once:
/// a job no longer awaiting its upload (a redelivered event, a second upload) is left as
/// it is. Returns the finished job, or `None` when there was nothing to run.
pub async fn run_upload<S: LeadStore, F: ImportFiles>(
    store: &S,
    files: &F,
    lifecycle: &Lifecycle,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Option<ImportJob>, LeadsError> {
    let Some(id) = job_of_upload(key) else {
        tracing::warn!(
            key,
            "an object under imports/ that is no job's upload; ignored"
        );
        return Ok(None);
    };
    let Some(job) = store.job(id).await? else {
        tracing::warn!(job = id, "an upload for an unknown job; ignored");
        return Ok(None);
    };
    if job.status != JobStatus::AwaitingUpload {
        return Ok(None);
    }
    let t = now.timestamp();
    let Some(bytes) = files.read(key, MAX_UPLOAD_BYTES).await? else {
        let reason = format!(
            "file_too_large: an import file is at most {MAX_UPLOAD_BYTES} bytes (split it)"
        );
        if store.start_job(&job, "-", t).await? {
            store.finish_job(&failed(job, reason.clone(), t)).await?;
        }
        return store.job(id).await;
    };
    if !store.start_job(&job, &file_sha256(&bytes), t).await? {
        return Ok(None);
    }
    let Some(mut running) = store.job(id).await? else {
        return Ok(None);
    };
    running.status = JobStatus::Running;
    let outcome = parse_import(&bytes, lifecycle, now);
    let rows = outcome.rows.len() + outcome.errors.iter().filter(|e| e.line > 1).count();
    let done = if rows > MAX_UPLOAD_ROWS {
        failed(
            running,
            format!(
                "too_many_rows: the file has {rows} rows; an import job takes at most {MAX_UPLOAD_ROWS} (split it); nothing was applied"
            ),
            t,
        )
    } else if let (true, Some(header)) = (
        outcome.rows.is_empty(),
        outcome.errors.iter().find(|e| e.line <= 1),
    ) {
        failed(running, format!("invalid_header: {}", header.message), t)
    } else {
        let access = Access::from_stored(Some(&running.access));
        let waba = running.waba_id.clone();
        let actor = running.created_by.clone();
        let (counts, errors) = apply_rows(
            store,
            lifecycle,
            outcome,
            &access,
            waba.as_deref(),
            &actor,
            now,
        )
        .await?;
        finished(running, &counts, errors, now.timestamp())
    };
    store.finish_job(&done).await?;
    Ok(Some(done))
}
