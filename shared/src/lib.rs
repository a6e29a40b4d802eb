//! wa-insights common crate.
//!
//! - [`domain`]: pure types and rules (no AWS/HTTP types);
//! - [`ports`]: the traits functions depend on;
//! - [`adapters`]: DynamoDB, S3 and Secrets Manager implementations (`<Tech><Port>`);
//! - [`config`]: one typed config per function, read from the environment once;
//! - [`ingest`]: the ingest service (parse → plan → store), shared by the webhook and
//!   [`replay`] (re-ingests the bodies the webhook kept raw); [`reports`]: the report service;
//!   [`sync`]: the sync service (meta-sync's Graph pulls);
//! - `memory` (feature `test-util`): in-memory ports for fast tests;
//! - [`telemetry`]: logging, masking, SDK request counting.

pub mod adapters;
pub mod config;
pub mod domain;
pub mod imports;
pub mod ingest;
#[cfg(feature = "test-util")]
pub mod memory;
pub mod ports;
pub mod replay;
pub mod reports;
pub mod sync;
pub mod telemetry;
