//! Harness, signed-webhook builder, traffic generator, local HTTP serving, and the
//! `local-stack`, `demo`, `ingest-counters` and `load` binaries.

pub mod browser;
pub mod corpus;
pub mod demo_reports;
pub mod fake_graph;
pub mod faults;
pub mod harness;
pub mod load;
pub mod loopback;
pub mod server;
pub mod streams;
pub mod sync_summary;
pub mod table;
pub mod traffic;
pub mod verify;
pub mod week;
