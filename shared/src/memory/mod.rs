//! In-memory implementations of the ports, for fast handler tests without moto (feature
//! `test-util`): one module per port, each with the same contract as its adapter (what it
//! does not model is on the type) and failures on demand.

pub mod analytics;
pub mod assignment;
pub mod events;
pub mod facts;
pub mod files;
pub mod graph;
pub mod identity;
pub mod leads;
pub mod raw;
pub mod reports;
pub mod rollups;
pub mod secrets;
