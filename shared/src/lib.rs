//! wa-insights common crate.
//!
//! - [`domain`]: pure types and rules (no AWS/HTTP types);
//! - [`ports`]: the traits functions depend on;
//! - [`adapters`]: DynamoDB, S3 and Secrets Manager implementations (`<Tech><Port>`);
//! - [`keys`]: every key of the table, built and parsed in one place;
//! - [`config`]: one typed config per function, read from the environment once;
//! - [`ingest`]: the ingest service (parse → plan → store), shared by the webhook and
//!   [`replay`] (re-ingests the bodies the webhook kept raw); `reports`: the report service,
//!   and `imports`: CSV lead imports (both with the `csv` feature); [`sync`]: the sync
//!   service (meta-sync's Graph pulls); [`assignment`]: the owner assignment of new leads,
//!   the ingest's step after the event store's writes;
//! - `http` (feature `http`): the managers' APIs' caller from an API Gateway request;
//! - [`telemetry`]: logging, masking, SDK request counting;
//! - `memory` (feature `test-util`): the ports in memory, for handler tests.

pub mod adapters;
pub mod assignment;
pub mod config;
pub mod domain;
pub mod facts;
/// The managers' APIs' HTTP edge (feature `http`): the caller of an API Gateway request.
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "csv")]
pub mod imports;
pub mod ingest;
pub mod keys;
/// In-memory implementations of the ports (`memory::events::MemoryEventStore`, …) for fast
/// handler tests without moto; the `test-util` feature, as a dev-dependency only.
#[cfg(any(test, feature = "test-util"))]
pub mod memory;
pub mod ports;
pub mod replay;
#[cfg(feature = "csv")]
pub mod reports;
pub mod rollups;
pub mod sync;
pub mod telemetry;
