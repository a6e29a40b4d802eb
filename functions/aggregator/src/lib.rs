//! The aggregator: folds the table's change stream into derived items.

pub mod handler;
mod identity;
mod maintenance;
mod stream;
mod tenancy;
