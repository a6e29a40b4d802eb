//! In-memory implementations of the ports, for fast tests (feature `test-util`): one module
//! per port, each with the same contract as its adapter and failures on demand.

pub mod analytics;
pub mod graph;
