//! What a meta-sync run did, per WABA × kind.

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
    pub results: Vec<KindReport>,
}

impl SyncReport {
    pub fn result(&self, waba: &str, kind: &str) -> Option<&KindReport> {
        self.results
            .iter()
            .find(|r| r.waba_id == waba && r.kind.as_str() == kind)
    }
}

/// Why a meta-sync invocation returns an error.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The payload is not a request this function understands: nothing was pulled.
    #[error("invalid meta-sync request: {0}")]
    InvalidRequest(String),
}

impl SyncError {
    /// The error's kind, for Lambda's `errorType`.
    pub fn kind(&self) -> &'static str {
        match self {
            SyncError::InvalidRequest(_) => "InvalidRequest",
        }
    }
}
