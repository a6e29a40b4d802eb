//! Pure types and rules: the webhook model, status ladder, pricing classification, consent
//! keywords, attribution and the ingest plan. No AWS or HTTP types here.

pub mod access;
pub mod activity;
pub mod analytics;
pub mod announcement;
pub mod attribution;
pub mod capi;
pub mod consent;
pub mod consent_check;
pub mod identity;
pub mod ingest;
pub mod ladder;
pub mod leads;
pub mod lenient;
pub mod metrics;
pub mod pricing;
pub mod report;
pub mod signature;
pub mod summary;
pub mod sync;
pub mod timeindex;
pub mod webhook;
