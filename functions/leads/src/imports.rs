//! Import and export on the leads API: `GET /v1/leads/export` writes the matching leads as
//! CSV; import jobs: a synchronous import sent with an `Idempotency-Key` is a job
//! applied once; `POST /v1/leads/imports` opens an asynchronous job with a presigned upload
//! link; `GET /v1/leads/imports/{id}` says where a job stands. The rows themselves are
//! applied by `shared::imports` (here and in the lead-imports function).

use chrono::{DateTime, Utc};
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use shared::domain::access::{Access, Caller};
use shared::domain::leads::jobs::{
    ImportJob, JobStatus, MAX_UPLOAD_BYTES, MAX_UPLOAD_ROWS, STALE_RUNNING_SECONDS,
    UPLOAD_LINK_SECONDS, file_sha256, job_id_for_key, new_job_id, upload_key, valid_job_id,
};
use shared::domain::leads::{ImportOutcome, RowError};
use shared::ports::{ImportFiles, LeadStore};

use crate::handler::{
    Leads, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, Resp, content_type_is, error, filter_error,
    from_leads_error, json_response, valid_id,
};
use lambda_http::Body;
use lambda_http::Response;
use lambda_http::http::header;
use shared::domain::leads::{LeadFilter, export_csv, parse_import};

/// The `Idempotency-Key` header: absent, or 1–128 printable ASCII characters.
pub(crate) fn idempotency_key(req: &Request) -> Result<Option<String>, Box<Resp>> {
    let Some(v) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(k) if (1..=128).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(k.to_string()))
        }
        _ => Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "Idempotency-Key is 1 to 128 printable ASCII characters",
        ))),
    }
}

/// The body of an import's answer.
pub(crate) fn import_result(
    imported: u64,
    updated: u64,
    errors: &[RowError],
    replayed: bool,
) -> Value {
    json!({
        "imported": imported,
        "updated": updated,
        "errors": errors.iter().map(|e| json!({"line": e.line, "message": e.message})).collect::<Vec<_>>(),
        "replayed": replayed,
    })
}

fn job_view(job: &ImportJob) -> Value {
    let iso = |t: i64| {
        DateTime::from_timestamp(t, 0)
            .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    };
    json!({
        "id": job.id,
        "status": job.status.as_str(),
        "waba_id": job.waba_id,
        "created_at": iso(job.created_at),
        "started_at": job.started_at.map(iso),
        "finished_at": job.finished_at.map(iso),
        "imported": job.imported,
        "updated": job.updated,
        "error_count": job.error_count,
        "errors": job.errors.iter().map(|e| json!({"line": e.line, "message": e.message})).collect::<Vec<_>>(),
        "reason": job.reason,
    })
}

fn new_job(
    id: String,
    caller: &Caller,
    waba: Option<String>,
    status: JobStatus,
    now: i64,
) -> ImportJob {
    ImportJob {
        id,
        status,
        access: caller.access.to_stored(),
        waba_id: waba,
        created_by: caller.name.clone(),
        created_at: now,
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

impl<S: LeadStore, F: ImportFiles> Leads<S, F> {
    /// A synchronous import sent with `key`: applied once. A retry with the same key and
    /// file answers the first run's result (`replayed: true`); another file under the same
    /// key is `409 idempotency_conflict`; a run still going is `409 import_in_progress`
    /// (one cut short more than `STALE_RUNNING_SECONDS` ago is run again).
    pub(crate) async fn import_once(
        &self,
        key: &str,
        bytes: &[u8],
        outcome: ImportOutcome,
        waba: Option<String>,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Resp {
        let t = now.timestamp();
        let sha = file_sha256(bytes);
        let id = job_id_for_key(key);
        let fresh = new_job(
            id.clone(),
            caller,
            waba.clone(),
            JobStatus::AwaitingUpload,
            t,
        );
        let job = match self.store.create_job(&fresh).await {
            Ok(true) => fresh,
            Ok(false) => match self.store.job(&id).await {
                Ok(Some(j)) => j,
                Ok(None) => return error(StatusCode::CONFLICT, "import_in_progress", "retry"),
                Err(e) => return from_leads_error(e),
            },
            Err(e) => return from_leads_error(e),
        };
        if job.sha256.as_deref().is_some_and(|s| s != sha) {
            return error(
                StatusCode::CONFLICT,
                "idempotency_conflict",
                "this Idempotency-Key was already used with another file",
            );
        }
        match job.status {
            JobStatus::Done => {
                return json_response(
                    StatusCode::OK,
                    &import_result(job.imported, job.updated, &job.errors, true),
                );
            }
            JobStatus::Running
                if job
                    .started_at
                    .is_some_and(|s| t - s < STALE_RUNNING_SECONDS) =>
            {
                return error(
                    StatusCode::CONFLICT,
                    "import_in_progress",
                    "an import with this Idempotency-Key is running; ask again in a minute",
                );
            }
            _ => {}
        }
        match self.store.start_job(&job, &sha, t).await {
            Ok(true) => {}
            Ok(false) => {
                return error(
                    StatusCode::CONFLICT,
                    "import_in_progress",
                    "an import with this Idempotency-Key is running; ask again in a minute",
                );
            }
            Err(e) => return from_leads_error(e),
        }
        let applied = shared::imports::apply_rows(
            &self.store,
            &self.config.lifecycle,
            outcome,
            &caller.access,
            waba.as_deref(),
            &caller.name,
            now,
        )
        .await;
        match applied {
            Ok((counts, errors)) => {
                let mut running = job;
                running.sha256 = Some(sha);
                running.started_at = Some(t);
                let body = import_result(
                    counts.imported as u64,
                    counts.updated as u64,
                    &errors,
                    false,
                );
                let done = shared::imports::finished(running, &counts, errors, t);
                if let Err(e) = self.store.finish_job(&done).await {
                    return from_leads_error(e);
                }
                json_response(StatusCode::OK, &body)
            }
            Err(e) => from_leads_error(e),
        }
    }

    /// `POST /v1/leads/imports`: a job awaiting its file, and the link to upload it to.
    pub(crate) async fn start_import_job(
        &self,
        req: &Request,
        query: &[(String, String)],
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Resp {
        let waba = match import_waba(query, &caller.access) {
            Ok(w) => w,
            Err(r) => return *r,
        };
        if !req.body().is_empty() {
            return error(
                StatusCode::BAD_REQUEST,
                "unsupported_media_type",
                "this request has no body: upload the file to the link it answers",
            );
        }
        let Some(files) = &self.files else {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "asynchronous imports are not configured (BUCKET_NAME)",
            );
        };
        let t = now.timestamp();
        let id = new_job_id(t, shared::reports::random_u64());
        let job = new_job(id.clone(), caller, waba, JobStatus::AwaitingUpload, t);
        let link = match files
            .upload_link(&upload_key(&id), UPLOAD_LINK_SECONDS)
            .await
        {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "upload link not signed");
                return error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again");
            }
        };
        match self.store.create_job(&job).await {
            Ok(_) => {}
            Err(e) => return from_leads_error(e),
        }
        let mut body = job_view(&job);
        body["upload_url"] = json!(link.url);
        body["upload_method"] = json!("PUT");
        body["upload_content_type"] = json!("text/csv");
        body["upload_expires_at"] = json!(
            DateTime::from_timestamp(link.expires_at, 0)
                .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        );
        body["max_bytes"] = json!(MAX_UPLOAD_BYTES);
        body["max_rows"] = json!(MAX_UPLOAD_ROWS);
        json_response(StatusCode::CREATED, &body)
    }

    /// `GET /v1/leads/imports/{id}`: a job the caller may see (else 404, as if absent).
    pub(crate) async fn import_job(
        &self,
        id: &str,
        query: &[(String, String)],
        caller: &Caller,
    ) -> Resp {
        if let Some((k, _)) = query.first() {
            return error(
                StatusCode::BAD_REQUEST,
                "unknown_parameter",
                format!("{k}: this request takes no parameters"),
            );
        }
        if !valid_job_id(id) {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                "an import job id is k + 32 hex digits or j<10 digits>-<16 hex digits>",
            );
        }
        match self.store.job(id).await {
            Ok(Some(job))
                if caller
                    .access
                    .covers(&Access::from_stored(Some(&job.access))) =>
            {
                json_response(StatusCode::OK, &job_view(&job))
            }
            Ok(_) => error(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("import job {id} not found"),
            ),
            Err(e) => from_leads_error(e),
        }
    }
}

impl<S: LeadStore, F: ImportFiles> Leads<S, F> {
    pub(crate) async fn export(
        &self,
        query: &[(String, String)],
        access: &Access,
        now: DateTime<Utc>,
    ) -> Resp {
        if let Some((k, _)) = query.iter().find(|(k, _)| k == "limit" || k == "cursor") {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_filter",
                format!("{k} does not apply to the export (it returns every matching lead)"),
            );
        }
        let filter = match LeadFilter::from_query(query) {
            Ok(f) => LeadFilter {
                access: access.clone(),
                ..f
            },
            Err(e) => return filter_error(&e),
        };
        if let Err(e) = filter.check_stage(&self.config.lifecycle) {
            return filter_error(&e);
        }
        let leads = match self.store.all(&filter, now).await {
            Ok(l) => l,
            Err(e) => return from_leads_error(e),
        };
        let mut out = Vec::new();
        if let Err(e) = export_csv(leads.iter(), &mut out) {
            tracing::error!(error = %e, "export not written");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "export_failed",
                "the export could not be written; retry later",
            );
        }
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
            .body(Body::Text(String::from_utf8_lossy(&out).into_owned()))
            .expect("valid response")
    }

    pub(crate) async fn import(
        &self,
        req: &Request,
        query: &[(String, String)],
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Resp {
        let waba = match import_waba(query, &caller.access) {
            Ok(w) => w,
            Err(r) => return *r,
        };
        if !content_type_is(req, "text/csv") {
            return error(
                StatusCode::BAD_REQUEST,
                "unsupported_media_type",
                "send the file as text/csv",
            );
        }
        let bytes: &[u8] = req.body().as_ref();
        if bytes.len() > MAX_IMPORT_BYTES {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "the file is {} bytes; an import takes at most {MAX_IMPORT_BYTES} bytes (split it)",
                    bytes.len()
                ),
            );
        }
        let outcome = parse_import(bytes, &self.config.lifecycle, now);
        let rows = outcome.rows.len() + outcome.errors.iter().filter(|e| e.line > 1).count();
        if rows > MAX_IMPORT_ROWS {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "too_many_rows",
                format!(
                    "the file has {rows} rows; an import takes at most {MAX_IMPORT_ROWS} (split it); nothing was applied"
                ),
            );
        }
        if outcome.rows.is_empty()
            && let Some(header_error) = outcome.errors.iter().find(|e| e.line <= 1)
        {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_header",
                header_error.message.clone(),
            );
        }
        let key = match idempotency_key(req) {
            Ok(k) => k,
            Err(r) => return *r,
        };
        match key {
            Some(key) => {
                self.import_once(&key, bytes, outcome, waba, caller, now)
                    .await
            }
            None => match shared::imports::apply_rows(
                &self.store,
                &self.config.lifecycle,
                outcome,
                &caller.access,
                waba.as_deref(),
                &caller.name,
                now,
            )
            .await
            {
                Ok((counts, errors)) => json_response(
                    StatusCode::OK,
                    &import_result(
                        counts.imported as u64,
                        counts.updated as u64,
                        &errors,
                        false,
                    ),
                ),
                Err(e) => from_leads_error(e),
            },
        }
    }
}

/// The WABA an import files its leads under: the `waba_id` query parameter (one of the
/// caller's), else the caller's only WABA; `None` for a caller who sees every WABA and names
/// none (the leads are then visible to such callers only). No other parameter is accepted.
pub(crate) fn import_waba(
    query: &[(String, String)],
    access: &Access,
) -> Result<Option<String>, Box<Resp>> {
    let mut waba = None;
    for (k, v) in query {
        if k != "waba_id" {
            return Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                "unknown_parameter",
                format!("{k}: an import takes only the waba_id parameter"),
            )));
        }
        if waba.is_some() || !valid_id(v) {
            return Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                "waba_id is given once, as an id (letters, digits, . _ : -)",
            )));
        }
        waba = Some(v.clone());
    }
    match (waba, access) {
        (Some(w), a) if !a.allows(&w) => Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "forbidden_waba",
            format!("waba_id {w} is not one of your WABAs"),
        ))),
        (Some(w), _) => Ok(Some(w)),
        (None, Access::All) => Ok(None),
        (None, a) => match a.single() {
            Some(w) => Ok(Some(w.to_string())),
            None => Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                "waba_required",
                "you may see several WABAs: name the one to file the leads under (?waba_id=)",
            ))),
        },
    }
}
