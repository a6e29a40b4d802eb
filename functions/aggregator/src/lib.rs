//! The aggregator: folds the table's change stream into derived items.

pub mod handler;
