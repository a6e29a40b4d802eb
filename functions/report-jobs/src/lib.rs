//! Report jobs: scheduled reports and reports the API handed over.

pub mod handler;
