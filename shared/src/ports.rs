//! Ports: the small traits the functions depend on. Adapters implement them.

use crate::adapters::graph::{GraphError, GraphPage, GraphPull};
use crate::domain::analytics::{
    Granularity, InsightsFlagResponse, MessageTemplatesResponse, MessagingAnalyticsResponse,
    PricingAnalyticsResponse, PricingDimension, TemplateAnalyticsResponse, TemplateMetric,
};
use crate::domain::ingest::Write;
use std::future::Future;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Transient: the store could not be reached, throttled, timed out. The caller answers
    /// 5xx so Meta retries.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Permanent: the store refused the data itself (validation). Retrying cannot help, so
    /// the caller keeps the raw body elsewhere instead.
    #[error("storage rejected the write: {0}")]
    Rejected(String),
}

/// What applying a plan did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ApplyReport {
    /// Writes that changed stored state.
    pub applied: usize,
    /// Writes whose condition failed: already applied (duplicate) or superseded.
    pub unchanged: usize,
}

/// The source of truth for ingested events.
pub trait EventStore: Send + Sync {
    /// Applies every write; each is idempotent, so a retried call converges. Returns only
    /// after all writes are durable, or the first error.
    fn apply(
        &self,
        writes: &[Write<'_>],
    ) -> impl Future<Output = Result<ApplyReport, StoreError>> + Send;
}

/// Raw bodies we keep outside the table (quarantine of unparseable POSTs, oversized parts).
pub trait RawStore: Send + Sync {
    fn put_raw(
        &self,
        key: &str,
        body: &[u8],
        metadata: &[(&str, &str)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Meta's Graph API as the scheduled pulls see it. `GraphClient` implements it over HTTPS;
/// the meta-sync function depends only on this.
pub trait GraphSource: Send + Sync {
    fn pricing_analytics(
        &self,
        waba: &str,
        start: i64,
        end: i64,
        granularity: Granularity,
        dimensions: &[PricingDimension],
    ) -> impl Future<Output = Result<GraphPull<PricingAnalyticsResponse>, GraphError>> + Send;

    fn template_analytics(
        &self,
        waba: &str,
        template_ids: &[String],
        start: i64,
        end: i64,
        metric_types: &[TemplateMetric],
    ) -> impl Future<Output = Result<GraphPull<TemplateAnalyticsResponse>, GraphError>> + Send;

    fn message_templates(
        &self,
        waba: &str,
        fields: &[&str],
        limit: u32,
    ) -> impl Future<Output = Result<GraphPull<MessageTemplatesResponse>, GraphError>> + Send;

    fn messaging_analytics(
        &self,
        waba: &str,
        start: i64,
        end: i64,
        granularity: Granularity,
    ) -> impl Future<Output = Result<GraphPull<MessagingAnalyticsResponse>, GraphError>> + Send;

    fn insights_enabled(
        &self,
        waba: &str,
    ) -> impl Future<Output = Result<GraphPage<InsightsFlagResponse>, GraphError>> + Send;
}
