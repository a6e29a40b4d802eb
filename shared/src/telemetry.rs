//! Logging set-up, phone masking, and a request counter on the AWS SDK (how many DynamoDB
//! reads and writes an invocation really made).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
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
    let result = if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
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
