//! Logging set-up, phone masking, and a request counter on the AWS SDK (how many DynamoDB
//! reads and writes an invocation really made).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// JSON logs inside Lambda, compact text locally; level from `RUST_LOG` (default info).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let result = if crate::config::in_lambda() {
        builder.json().flatten_event(true).without_time().try_init()
    } else {
        builder.compact().try_init()
    };
    // A second init (tests, local stack) keeps the first subscriber.
    drop(result);
}

/// For tests: logs go through the test harness's capture (shown only on failure).
pub fn init_for_tests() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    drop(
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .compact()
            .try_init(),
    );
}

/// `15551234567` → `*******4567`: enough to tell numbers apart in logs, not to dial them.
pub fn mask_phone(phone: &str) -> String {
    let n = phone.chars().count();
    if n <= 4 {
        return "*".repeat(n);
    }
    let tail: String = phone.chars().skip(n - 4).collect();
    format!("{}{tail}", "*".repeat(n - 4))
}

/// Counts requests per operation as they go on the wire (retries included).
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

const READ_OPERATIONS: &[&str] = &[
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "TransactGetItems",
];
const WRITE_OPERATIONS: &[&str] = &[
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
];

impl RequestCounter {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.lock().expect("counter lock").clone()
    }
    pub fn reset(&self) {
        self.counts.lock().expect("counter lock").clear();
    }
    fn sum(&self, ops: &[&str]) -> u64 {
        let counts = self.counts.lock().expect("counter lock");
        ops.iter()
            .map(|op| counts.get(*op).copied().unwrap_or(0))
            .sum()
    }
    /// DynamoDB item reads (GetItem, Query, Scan, …).
    pub fn reads(&self) -> u64 {
        self.sum(READ_OPERATIONS)
    }
    /// DynamoDB item writes (PutItem, UpdateItem, …).
    pub fn writes(&self) -> u64 {
        self.sum(WRITE_OPERATIONS)
    }
    /// Items DynamoDB read to answer the reads (what it bills): a Query's or Scan's
    /// `ScannedCount` (before any filter), a GetItem's item, a BatchGetItem's items.
    pub fn items_read(&self) -> u64 {
        self.sum(&[ITEMS_READ])
    }
}

/// The pseudo-operation under which [`RequestCounter::items_read`] is kept.
const ITEMS_READ: &str = "items read";

/// Items a DynamoDB read response says were read.
fn items_read(output: &aws_smithy_runtime_api::client::interceptors::context::Output) -> u64 {
    use aws_sdk_dynamodb::operation::{
        batch_get_item::BatchGetItemOutput, get_item::GetItemOutput, query::QueryOutput,
        scan::ScanOutput,
    };
    if let Some(q) = output.downcast_ref::<QueryOutput>() {
        q.scanned_count().max(0) as u64
    } else if let Some(q) = output.downcast_ref::<ScanOutput>() {
        q.scanned_count().max(0) as u64
    } else if let Some(g) = output.downcast_ref::<GetItemOutput>() {
        u64::from(g.item().is_some())
    } else if let Some(b) = output.downcast_ref::<BatchGetItemOutput>() {
        b.responses()
            .map_or(0, |r| r.values().map(|items| items.len() as u64).sum())
    } else {
        0
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let name = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "unknown".into());
        *self
            .counts
            .lock()
            .expect("counter lock")
            .entry(name)
            .or_default() += 1;
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(output) = context.output_or_error() {
            let n = items_read(output);
            if n > 0 {
                *self
                    .counts
                    .lock()
                    .expect("counter lock")
                    .entry(ITEMS_READ.to_string())
                    .or_default() += n;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_all_but_the_last_four_digits() {
        assert_eq!(mask_phone("15551234567"), "*******4567");
        assert_eq!(mask_phone("123"), "***");
        assert_eq!(mask_phone(""), "");
    }
}

/// CloudWatch namespace of the product's own metrics.
pub const METRICS_NAMESPACE: &str = "WaInsights";

/// One CloudWatch Embedded Metric Format record: CloudWatch Logs turns it into metrics
/// (`namespace`, one dimension set `dimensions`, each `(name, value, unit)`), no API call.
pub fn emf_record(
    namespace: &str,
    dimensions: &[(&str, &str)],
    metrics: &[(&str, f64, &str)],
    timestamp_ms: i64,
) -> String {
    let mut root = serde_json::Map::new();
    for (k, v) in dimensions {
        root.insert((*k).to_string(), serde_json::Value::from(*v));
    }
    for (name, value, _) in metrics {
        root.insert((*name).to_string(), serde_json::Value::from(*value));
    }
    root.insert(
        "_aws".to_string(),
        serde_json::json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [dimensions.iter().map(|(k, _)| *k).collect::<Vec<_>>()],
                "Metrics": metrics.iter().map(|(n, _, u)| serde_json::json!({"Name": n, "Unit": u})).collect::<Vec<_>>(),
            }],
        }),
    );
    serde_json::Value::Object(root).to_string()
}

/// Emits metrics (EMF on stdout) inside Lambda, dimension `Service` = `service` (plus
/// `extra`); a no-op elsewhere (tests, the local stack) so their output stays readable.
pub fn emit_metrics(service: &str, extra: &[(&str, &str)], metrics: &[(&str, f64, &str)]) {
    if !crate::config::in_lambda() || metrics.is_empty() {
        return;
    }
    let mut dims = vec![("Service", service)];
    dims.extend_from_slice(extra);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    println!("{}", emf_record(METRICS_NAMESPACE, &dims, metrics, now));
}

#[cfg(test)]
mod emf_tests {
    use super::*;

    #[test]
    fn an_emf_record_names_its_namespace_dimensions_and_metrics() {
        let line = emf_record(
            "WaInsights",
            &[("Service", "webhook"), ("Kind", "status")],
            &[("Events", 3.0, "Count"), ("Duplicates", 1.0, "Count")],
            1_700_000_000_000,
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["Service"], "webhook");
        assert_eq!(v["Kind"], "status");
        assert_eq!(v["Events"], 3.0);
        let m = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000i64);
        assert_eq!(m["Namespace"], "WaInsights");
        assert_eq!(m["Dimensions"][0], serde_json::json!(["Service", "Kind"]));
        assert_eq!(
            m["Metrics"][1],
            serde_json::json!({"Name": "Duplicates", "Unit": "Count"})
        );
        assert!(!line.contains('\n'), "one line per record");
    }
}
