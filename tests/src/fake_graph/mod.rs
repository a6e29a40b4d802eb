//! A fake Meta Graph API for the analytics pulls, served over local HTTP.
//!
//! It answers, for any date range and several WABAs, with deterministic data in Meta's
//! shapes (keys, categories, tiers, cost and click types taken from the corpus examples):
//! - `GET /<v>/<WABA>?fields=pricing_analytics.start(..).end(..).granularity(..).dimensions([..])`
//! - `GET /<v>/<WABA>?fields=analytics.start(..).end(..).granularity(..)`
//! - `GET /<v>/<WABA>/template_analytics?start=&end=&granularity=&metric_types=&template_ids=`
//! - `GET /<v>/<WABA>/message_templates?fields=&limit=`
//! - `GET /<v>/<WABA>?fields=is_enabled_for_insights`, `POST /<v>/<WABA>?is_enabled_for_insights=true`
//!
//! Paging uses a configurable page size, `paging.next` full URLs back to this server and
//! `paging.cursors.after`. A bearer token is checked (wrong → 401 / code 190). Faults are
//! injected through [`FakeGraphHandle`]: the next N requests are throttled (codes 4, 17,
//! 80007, 130429 or a bare HTTP 429), get an expired token (190), a 5xx, or a delay. Every
//! request is recorded (method, path, query) so tests can assert paging and windows.
//!
//! `config`: what it serves and the faults; `server`: the HTTP server and its handle;
//! `routes`: request → answer, paging; `data`: the deterministic data points.

mod config;
mod data;
mod routes;
mod server;

pub use config::{FakeGraphConfig, FakeTemplate, FakeWaba, Fault, RecordedRequest};
pub use server::{FakeGraph, FakeGraphHandle};

pub const FAKE_GRAPH_TOKEN: &str = "fake-graph-token";

/// Daily pricing and messaging buckets start at 07:00 UTC (00:00 US Pacific), as in Meta's
/// examples; template analytics days start at 00:00 UTC.
const PACIFIC_OFFSET: i64 = 7 * 3600;
const DAY: i64 = 86_400;
