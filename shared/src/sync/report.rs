//! What a meta-sync run did, per WABA × kind, and what that means for whoever invoked it.

use super::request::SyncMode;
use crate::domain::sync::{Outcome, SyncKind};
use crate::ports::StoreError;
use crate::ports::graph::{ErrorClass, GraphError};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// Why a pull failed, as far as whoever reads the report must act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// Meta's rate limits outlasted the client's backoff: stopped cleanly, the next run
    /// resumes from the watermark.
    Throttled,
    /// Meta's 5xx or timeouts outlasted the client's bounded retries: likewise.
    Transient,
    /// The access token is expired or invalid (Graph code 190): a person must replace it.
    Auth,
    /// The token lacks a permission on the WABA (codes 10, 200–299): a person must grant it.
    Permission,
    /// A request Meta refuses or an answer the model cannot read: retrying cannot help (a
    /// bug, or a change at Meta).
    Other,
    /// The table (or the snapshot bucket) failed.
    Storage,
}

impl FailureClass {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Throttled => "throttled",
            FailureClass::Transient => "transient",
            FailureClass::Auth => "auth",
            FailureClass::Permission => "permission",
            FailureClass::Other => "other",
            FailureClass::Storage => "storage",
        }
    }

    /// What a failure of this class makes of the run.
    pub fn verdict(self) -> RunVerdict {
        match self {
            FailureClass::Throttled | FailureClass::Transient => RunVerdict::Ok,
            FailureClass::Auth | FailureClass::Permission => RunVerdict::NeedsPerson,
            FailureClass::Other | FailureClass::Storage => RunVerdict::Crashed,
        }
    }
}

impl From<ErrorClass> for FailureClass {
    fn from(class: ErrorClass) -> Self {
        match class {
            ErrorClass::Throttled => FailureClass::Throttled,
            ErrorClass::Transient => FailureClass::Transient,
            ErrorClass::Auth => FailureClass::Auth,
            ErrorClass::Permission => FailureClass::Permission,
            ErrorClass::Other => FailureClass::Other,
        }
    }
}

/// What a run means for its invoker (Lambda, hence the alarms and the on-failure
/// destination). Whatever the verdict, everything that completed was kept: rows stored,
/// watermarks of completed WABA × kind pulls advanced, run outcomes recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunVerdict {
    /// Nobody needs to act: every pull completed, was skipped for a reason that is not a
    /// failure, or stopped cleanly (throttled, Meta unavailable) with its watermark where the
    /// data is complete, for the next run to resume.
    Ok,
    /// The storage failed, or a pull failed in a way no retry fixes (a bug, a change at
    /// Meta).
    Crashed,
    /// The access token was rejected or lacks a permission: no run can succeed until a person
    /// replaces it or grants the permission.
    NeedsPerson,
}

impl RunVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            RunVerdict::Ok => "ok",
            RunVerdict::Crashed => "crashed",
            RunVerdict::NeedsPerson => "needs_person",
        }
    }
}

/// A window as reported: first and last day, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Days {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

/// One WABA × kind of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindReport {
    pub waba_id: String,
    pub kind: SyncKind,
    pub outcome: Outcome,
    pub window: Option<Days>,
    /// The last day of the last chunk stored.
    pub stored_through: Option<NaiveDate>,
    pub pages: usize,
    pub rows_stored: usize,
    pub snapshots: usize,
    pub watermark_before: Option<NaiveDate>,
    pub watermark_after: Option<NaiveDate>,
    /// Why it was skipped or failed.
    pub reason: Option<String>,
    pub error_class: Option<FailureClass>,
    pub notes: Vec<String>,
}

impl KindReport {
    pub(super) fn new(waba_id: &str, kind: SyncKind) -> Self {
        Self {
            waba_id: waba_id.to_string(),
            kind,
            outcome: Outcome::Complete,
            window: None,
            stored_through: None,
            pages: 0,
            rows_stored: 0,
            snapshots: 0,
            watermark_before: None,
            watermark_after: None,
            reason: None,
            error_class: None,
            notes: Vec::new(),
        }
    }

    pub(super) fn skipped(mut self, reason: impl Into<String>) -> Self {
        self.outcome = Outcome::Skipped;
        self.reason = Some(reason.into());
        self
    }

    pub(super) fn failed(mut self, err: &ChunkError) -> Self {
        self.outcome = if self.stored_through.is_some() {
            Outcome::Partial
        } else {
            Outcome::Failed
        };
        self.error_class = Some(err.class());
        self.reason = Some(err.to_string());
        self
    }
}

/// How one request (or chunk) of a pull failed.
#[derive(Debug, thiserror::Error)]
pub(super) enum ChunkError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl ChunkError {
    fn class(&self) -> FailureClass {
        match self {
            ChunkError::Graph(e) => e.class().into(),
            ChunkError::Store(_) => FailureClass::Storage,
        }
    }
}

/// The service's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncReport {
    pub run_id: String,
    pub mode: SyncMode,
    pub started_at: DateTime<Utc>,
    pub today: NaiveDate,
    /// `failed` if any kind failed, `partial` if any was partial, else `complete`.
    pub outcome: Outcome,
    /// What the run means for its invoker: the worst of its failures' classes, and
    /// `crashed` when a run outcome could not be recorded.
    pub verdict: RunVerdict,
    pub results: Vec<KindReport>,
}

impl SyncReport {
    pub fn result(&self, waba: &str, kind: &str) -> Option<&KindReport> {
        self.results
            .iter()
            .find(|r| r.waba_id == waba && r.kind.as_str() == kind)
    }

    /// The report when nobody needs to act, else the error its invoker must see (carrying
    /// the report: what completed was kept and is listed there).
    pub fn into_result(self) -> Result<SyncReport, SyncError> {
        match self.verdict {
            RunVerdict::Ok => Ok(self),
            RunVerdict::NeedsPerson => Err(SyncError::NeedsPerson(Box::new(self))),
            RunVerdict::Crashed => Err(SyncError::Crashed(Box::new(self))),
        }
    }

    /// One line naming the pulls behind the verdict, and the first one's reason in full.
    fn failures(&self) -> String {
        let failing: Vec<&KindReport> = self
            .results
            .iter()
            .filter(|r| r.error_class.is_some_and(|c| c.verdict() == self.verdict))
            .collect();
        let Some(first) = failing.first() else {
            return "a run outcome could not be recorded (see the notes)".into();
        };
        let list: Vec<String> = failing
            .iter()
            .map(|r| {
                format!(
                    "WABA {} {} ({})",
                    r.waba_id,
                    r.kind,
                    r.error_class.map_or("", FailureClass::as_str)
                )
            })
            .collect();
        format!(
            "{}; what completed is kept. {}",
            list.join(", "),
            first.reason.as_deref().unwrap_or("")
        )
    }
}

/// Why a meta-sync invocation returns an error.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The payload is not a request this function understands: nothing was pulled.
    #[error("invalid meta-sync request: {0}")]
    InvalidRequest(String),
    /// The token was rejected or lacks a permission (see [`RunVerdict::NeedsPerson`]).
    #[error("meta-sync run {} needs a person: {}", .0.run_id, .0.failures())]
    NeedsPerson(Box<SyncReport>),
    /// Storage failed or a pull failed for good (see [`RunVerdict::Crashed`]).
    #[error("meta-sync run {} crashed: {}", .0.run_id, .0.failures())]
    Crashed(Box<SyncReport>),
}

impl SyncError {
    /// The error's kind, for Lambda's `errorType`.
    pub fn kind(&self) -> &'static str {
        match self {
            SyncError::InvalidRequest(_) => "InvalidRequest",
            SyncError::NeedsPerson(_) => "NeedsPerson",
            SyncError::Crashed(_) => "Crashed",
        }
    }

    /// The run's report, when the run happened.
    pub fn report(&self) -> Option<&SyncReport> {
        match self {
            SyncError::InvalidRequest(_) => None,
            SyncError::NeedsPerson(r) | SyncError::Crashed(r) => Some(r),
        }
    }
}
