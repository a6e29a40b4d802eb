//! Import jobs: a CSV import with an id, so a retried request does not apply twice, and a
//! large file goes through a presigned upload and an asynchronous run.
//!
//! - `POST /v1/leads/import` with an `Idempotency-Key`: the job id is derived from the key
//!   ([`job_id_for_key`]); a retry with the same key and the same file answers the first
//!   run's result, another file is a conflict.
//! - `POST /v1/leads/imports`: a job `awaiting_upload` with a link to upload the file to
//!   (`imports/<id>.csv`); the upload starts the run (`running`), which ends `done` or
//!   `failed`. `GET /v1/leads/imports/{id}` answers where it stands.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::RowError;

/// At most this many row errors are kept on a job (the count is always exact).
pub const MAX_KEPT_ERRORS: usize = 100;

/// The largest file an asynchronous import takes (bytes, data rows).
pub const MAX_UPLOAD_BYTES: u64 = 50 * 1024 * 1024;
pub const MAX_UPLOAD_ROWS: usize = 200_000;

/// How long an upload link works (seconds).
pub const UPLOAD_LINK_SECONDS: i64 = 900;

/// A `running` job older than this (seconds) was cut short (the function's time ran out or
/// it crashed): a retry with the same key may run it again.
pub const STALE_RUNNING_SECONDS: i64 = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    AwaitingUpload,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::AwaitingUpload => "awaiting_upload",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<JobStatus> {
        [
            JobStatus::AwaitingUpload,
            JobStatus::Running,
            JobStatus::Done,
            JobStatus::Failed,
        ]
        .into_iter()
        .find(|j| j.as_str() == s)
    }
}

/// One import job as stored and answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJob {
    pub id: String,
    pub status: JobStatus,
    /// Who may read the job (`crate::domain::access::Access::to_stored`).
    pub access: String,
    /// The WABA the job files its leads under.
    pub waba_id: Option<String>,
    pub created_by: String,
    /// Epoch seconds.
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// SHA-256 (hex) of the file, once known.
    pub sha256: Option<String>,
    pub imported: u64,
    pub updated: u64,
    pub error_count: u64,
    /// The first [`MAX_KEPT_ERRORS`] row errors.
    pub errors: Vec<RowError>,
    /// Why a job failed (a code and a sentence; never an internal error text).
    pub reason: Option<String>,
}

/// The job id of a synchronous import sent with `key`: `k` and 32 hex digits of its SHA-256
/// (keys may hold any printable character; ids are path-safe).
pub fn job_id_for_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!("k{}", &hex::encode(digest)[..32])
}

/// A new asynchronous job id: time-ordered and unguessable.
pub fn new_job_id(now: i64, random: u64) -> String {
    format!("j{now:010}-{random:016x}")
}

/// Whether `id` has the shape of a job id (either kind).
pub fn valid_job_id(id: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    match id.split_at_checked(1) {
        Some(("k", rest)) => hex(rest, 32),
        Some(("j", rest)) => match rest.split_once('-') {
            Some((t, r)) => t.len() == 10 && t.bytes().all(|b| b.is_ascii_digit()) && hex(r, 16),
            None => false,
        },
        _ => false,
    }
}

/// The object an asynchronous job's file is uploaded to.
pub fn upload_key(job_id: &str) -> String {
    format!("imports/{job_id}.csv")
}

/// The job id an uploaded object belongs to (`imports/<id>.csv`).
pub fn job_of_upload(key: &str) -> Option<&str> {
    key.strip_prefix("imports/")?
        .strip_suffix(".csv")
        .filter(|id| valid_job_id(id))
}

/// What applying import rows did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    pub imported: usize,
    pub updated: usize,
}

/// SHA-256 (hex) of a file.
pub fn file_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_keys() {
        let k = job_id_for_key("retry-me/1");
        assert!(valid_job_id(&k) && k.starts_with('k') && k.len() == 33);
        assert_eq!(k, job_id_for_key("retry-me/1"));
        assert_ne!(k, job_id_for_key("retry-me/2"));
        let j = new_job_id(1_795_168_800, 0xabc);
        assert_eq!(j, "j1795168800-0000000000000abc");
        assert!(valid_job_id(&j));
        for bad in [
            "",
            "k",
            "kzz",
            "j1-2",
            "x0000",
            "j1795168800-xyz0000000000abc",
        ] {
            assert!(!valid_job_id(bad), "{bad}");
        }
        assert_eq!(job_of_upload(&upload_key(&j)), Some(j.as_str()));
        assert_eq!(job_of_upload("imports/../x.csv"), None);
        assert_eq!(
            JobStatus::parse("awaiting_upload"),
            Some(JobStatus::AwaitingUpload)
        );
        assert_eq!(JobStatus::parse("nope"), None);
    }
}
