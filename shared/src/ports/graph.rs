//! The Graph API port's types: what a pull returns and how it fails. `GraphClient`
//! (`crate::adapters::graph`) produces them; the meta-sync service and `GraphSource` speak
//! only these.

use std::time::Duration;

use crate::domain::analytics::GraphResponseKind;

/// Graph's permission errors: code 10 ("application does not have permission for this
/// action") and the 200–299 range ("permission denied", "requires … permission").
pub fn is_permission_code(code: i64) -> bool {
    code == 10 || (200..=299).contains(&code)
}

/// What a failed request means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Rate limited: back off; if it persists, stop and leave the watermark.
    Throttled,
    /// The access token is expired or invalid: nothing works until a person replaces it.
    Auth,
    /// The token lacks a permission on the object (Graph codes 10 and 200–299): nothing works
    /// until a person grants it. Never retried.
    Permission,
    /// 5xx, timeouts, connection errors: retry a bounded number of times.
    Transient,
    /// The request itself is wrong (bad parameter, permission): retrying cannot help.
    Other,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Throttled => "throttled",
            ErrorClass::Auth => "auth",
            ErrorClass::Permission => "permission",
            ErrorClass::Transient => "transient",
            ErrorClass::Other => "other",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error(
        "Graph API throttled WABA {waba} ({detail}) after {attempts} attempt(s); pull again later"
    )]
    Throttled {
        waba: String,
        detail: String,
        code: Option<i64>,
        http_status: u16,
        attempts: u32,
        /// What Meta asked us to wait, when it said.
        retry_after: Option<Duration>,
    },
    #[error(
        "the Graph API access token was rejected for WABA {waba} (code {code}{subcode}): refresh or replace the access token (META_ACCESS_TOKEN locally, the Graph token secret in AWS) and grant it whatsapp_business_management on this WABA; Meta said: {message}",
        code = code.map_or("none".to_string(), |c| c.to_string()),
        subcode = subcode.map_or(String::new(), |s| format!("/{s}"))
    )]
    Auth {
        waba: String,
        code: Option<i64>,
        subcode: Option<i64>,
        message: String,
        fbtrace_id: Option<String>,
    },
    #[error("Graph API unavailable for WABA {waba} after {attempts} attempt(s): {reason}")]
    Transient {
        waba: String,
        reason: String,
        http_status: Option<u16>,
        attempts: u32,
    },
    #[error(
        "Graph API refused a request for WABA {waba}: HTTP {http_status}, code {code:?}: {message}"
    )]
    Api {
        waba: String,
        http_status: u16,
        code: Option<i64>,
        subcode: Option<i64>,
        message: String,
        fbtrace_id: Option<String>,
    },
    /// 2xx but not the shape we model; the body is kept for the raw snapshot.
    #[error("unreadable {kind} response for WABA {waba}: {reason}")]
    Unreadable {
        waba: String,
        kind: GraphResponseKind,
        reason: String,
        body: String,
    },
    #[error("invalid Graph request for WABA {waba}: {reason}")]
    InvalidRequest { waba: String, reason: String },
    #[error("paging for WABA {waba} did not end after {pages} pages")]
    PagingRunaway { waba: String, pages: usize },
}

impl GraphError {
    pub fn class(&self) -> ErrorClass {
        match self {
            GraphError::Throttled { .. } => ErrorClass::Throttled,
            GraphError::Auth { .. } => ErrorClass::Auth,
            GraphError::Transient { .. } => ErrorClass::Transient,
            GraphError::Api { code: Some(c), .. } if is_permission_code(*c) => {
                ErrorClass::Permission
            }
            _ => ErrorClass::Other,
        }
    }

    pub fn waba(&self) -> &str {
        match self {
            GraphError::Throttled { waba, .. }
            | GraphError::Auth { waba, .. }
            | GraphError::Transient { waba, .. }
            | GraphError::Api { waba, .. }
            | GraphError::Unreadable { waba, .. }
            | GraphError::InvalidRequest { waba, .. }
            | GraphError::PagingRunaway { waba, .. } => waba,
        }
    }

    /// Attempts made before giving up (1 for errors that are never retried).
    pub fn attempts(&self) -> u32 {
        match self {
            GraphError::Throttled { attempts, .. } | GraphError::Transient { attempts, .. } => {
                *attempts
            }
            _ => 1,
        }
    }
}

/// One response page: the request that produced it (path and query, never the token), the
/// raw body for the snapshot, the parsed value and the keys the model does not declare.
#[derive(Debug, Clone)]
pub struct GraphPage<T> {
    pub request: String,
    pub body: String,
    pub value: T,
    pub unknown_fields: Vec<String>,
    pub attempts: u32,
}

/// Every page of one pull, in order.
#[derive(Debug, Clone)]
pub struct GraphPull<T> {
    pub waba: String,
    pub kind: GraphResponseKind,
    pub pages: Vec<GraphPage<T>>,
}

impl<T> GraphPull<T> {
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.pages.iter().map(|p| &p.value)
    }

    /// Unknown keys across pages, each prefixed with its page number.
    pub fn unknown_fields(&self) -> Vec<String> {
        self.pages
            .iter()
            .enumerate()
            .flat_map(|(i, p)| p.unknown_fields.iter().map(move |f| format!("page{i}.{f}")))
            .collect()
    }
}
