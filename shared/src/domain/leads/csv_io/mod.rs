//! Leads in and out as CSV.
//!
//! Import: a header row is required; column names are case-insensitive, in any order. An
//! unknown, duplicate or empty column name rejects the whole file (reported on the header's
//! line, zero rows), because a misspelt column would silently drop data. Each data row is then
//! kept or reported on its own: a bad row gives one [`RowError`] per problem, with its 1-based
//! physical line (the line the record starts on, so quoted fields with embedded newlines keep
//! later line numbers right). A UTF-8 BOM, CRLF line endings and blank lines are fine.
//! Cells are trimmed; an empty cell is absent.
//!
//! Export: one row per lead, [`EXPORT_COLUMNS`]. Against CSV/formula injection a cell starting
//! with `=`, `+`, `-`, `@`, tab or CR gets a leading `'` so spreadsheets show it as text
//! (phones are digits only, so they are never touched). Import strips that `'` again, so an
//! exported file re-imports to the same values. The export-only columns (`created_at`,
//! `last_inbound_at`, `version`) are accepted and ignored on import; `lead_id`, when present,
//! must be the row's user_id or phone.
//!
//! - `row`: what an import yields (rows, opt-ins, per-line errors);
//! - `import`: reading a file: header, cells, per-row rules;
//! - `export`: writing leads, formula cells guarded.

#[cfg(feature = "csv")]
mod export;
#[cfg(feature = "csv")]
mod import;
mod row;

#[cfg(feature = "csv")]
pub use export::{EXPORT_COLUMNS, export_csv};
#[cfg(feature = "csv")]
pub use import::parse_import;
pub use row::{ImportOutcome, ImportRow, OPT_IN_CATEGORIES, OptIn, RowError};

/// Cells starting with these are formulas to a spreadsheet (OWASP "CSV injection").
#[cfg(feature = "csv")]
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];
