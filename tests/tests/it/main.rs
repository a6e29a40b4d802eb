//! The integration test binary: the real webhook handler against moto (DynamoDB + S3).
//! Each test starts its own moto process (≈ 0.6 s) so tests run in parallel without
//! sharing state.

mod analytics_store;
mod conformance;
mod consent;
mod conversions;
mod event_buckets;
mod failures;
mod graph;
mod handshake;
mod identity;
mod imports;
mod ingest;
mod leads;
mod leads_conformance;
mod load;
mod meta_sync;
mod openapi;
mod person_facts;
mod replay;
mod report_files;
mod report_schedule;
mod reports;
mod reports_openapi;
mod security;
mod signature;
mod stream_faults;
mod summary_browser;
mod support;
mod template_table;
mod timeline;
mod traffic;
