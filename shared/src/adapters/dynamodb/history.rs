//! Stage and owner history (`USER#<lead>` / `HIST#…`, `item_kind` = `lead_change`): the one
//! builder of these items, for every writer (leads API PATCH and import, the webhook's owner
//! assignment).

use super::attrs::{Attrs, n, s};
use crate::keys::{assignment_history_sk, history_sk, user_pk};
use std::collections::HashMap;

/// Which change of the lead an entry is: a versioned change (PATCH, import) or the webhook's
/// owner assignment of a new lead (before any version).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Version {
    /// The lead's version after the change (one change per kind and version).
    After(u64),
    Assignment,
}

pub(crate) struct HistoryEntry<'a> {
    pub lead_id: &'a str,
    pub at: i64,
    pub change: &'a str,
    pub version: Version,
    pub by: &'a str,
    /// `api` (PATCH), `import`, or the assignment's reason (`rule:<name>`, `round_robin`).
    pub reason: &'a str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
}

/// The history item of a change.
pub(crate) fn history_item(e: HistoryEntry<'_>) -> Attrs {
    let sk = match e.version {
        Version::After(v) => history_sk(e.at, e.change, v),
        Version::Assignment => assignment_history_sk(e.at),
    };
    let mut h: Attrs = HashMap::from([
        ("pk".to_string(), s(user_pk(e.lead_id))),
        ("sk".to_string(), s(sk)),
        ("item_kind".to_string(), s("lead_change")),
        ("change".to_string(), s(e.change)),
        ("by".to_string(), s(e.by)),
        ("reason".to_string(), s(e.reason)),
        ("at".to_string(), n(e.at)),
    ]);
    if let Some(f) = e.from {
        h.insert("from_value".into(), s(f));
    }
    if let Some(t) = e.to {
        h.insert("to_value".into(), s(t));
    }
    h
}
