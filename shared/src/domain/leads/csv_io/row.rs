//! What an import yields: valid rows with their opt-ins, and per-line errors.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::domain::consent::ConsentSource;
use crate::domain::leads::FirstTouch;

/// Consent categories an import may record an opt-in for.
pub const OPT_IN_CATEGORIES: &[&str] = &["marketing", "utility"];

/// Proof of an opt-in collected outside WhatsApp, for one business number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptIn {
    /// Sorted, unique, from [`OPT_IN_CATEGORIES`].
    pub categories: Vec<String>,
    /// One of [`ConsentSource::IMPORTABLE`].
    pub source: ConsentSource,
    pub proof: String,
    pub at: DateTime<Utc>,
    pub phone_number_id: String,
}

/// A valid import row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// Physical line the row starts on.
    pub line: u64,
    /// `user_id` if present, else the normalised phone (or the `lead_id` column, which must be
    /// one of the two).
    pub lead_id: String,
    pub phone: Option<String>,
    pub user_id: Option<String>,
    pub name: Option<String>,
    /// A configured stage; `None` when the cell is empty or the column absent: an existing
    /// lead keeps its stage, a new one starts in the lifecycle's initial stage.
    pub stage: Option<String>,
    pub owner: Option<String>,
    pub tags: Vec<String>,
    /// From the `utm_*`, `source_id`, `source_type`, `ctwa_clid` columns; `None` when all are
    /// empty.
    pub first_touch: Option<FirstTouch>,
    pub custom_fields: BTreeMap<String, String>,
    pub opt_in: Option<OptIn>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based physical line; the header is line 1.
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportOutcome {
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
}
