//! The deployed webhook: SDK config, secrets, clients and a warmed connection, built once
//! per cold start.

use crate::handler::LiveWebhook;
use shared::adapters::aws::{AwsWebhookSecrets, dynamodb_client, load_sdk_config, s3_client};
use shared::adapters::s3::S3RawStore;
use shared::config::{ConfigError, WebhookConfig};
use shared::ingest::live_event_store;
use shared::ports::WebhookSecretSource;
use shared::telemetry::RequestCounter;

impl LiveWebhook {
    /// Cold start: SDK config from the environment, secrets, clients, a warmed connection.
    pub async fn from_env_config(config: &WebhookConfig) -> Result<Self, ConfigError> {
        let sdk = load_sdk_config().await;
        Self::from_sdk(config, &sdk, None).await
    }

    /// Same, over a given SDK config (tests point it at the local stack and count requests).
    pub async fn from_sdk(
        config: &WebhookConfig,
        sdk: &aws_config::SdkConfig,
        counter: Option<RequestCounter>,
    ) -> Result<Self, ConfigError> {
        Self::from_sdks(config, sdk, sdk, counter).await
    }

    /// Same, with DynamoDB reached through its own SDK config (`dynamodb_sdk`; `sdk` for S3
    /// and secrets): the load bench keeps the table in a faster local store than the bucket.
    pub async fn from_sdks(
        config: &WebhookConfig,
        sdk: &aws_config::SdkConfig,
        dynamodb_sdk: &aws_config::SdkConfig,
        counter: Option<RequestCounter>,
    ) -> Result<Self, ConfigError> {
        let source = AwsWebhookSecrets::new(sdk, &config.secrets);
        let secrets = source.load().await?;
        let dynamodb = dynamodb_client(dynamodb_sdk, counter);
        let raw = S3RawStore::new(s3_client(sdk), &config.bucket_name);
        // Open the TLS connection now, not on Meta's first POST. DescribeEndpoints needs no
        // table permission; its answer does not matter.
        let _ = dynamodb.describe_endpoints().send().await;
        let store = live_event_store(
            dynamodb,
            &config.table_name,
            config.write_concurrency,
            raw.clone(),
            &config.lifecycle,
            config.assignment.as_ref(),
        );
        Self::new(&secrets, source, config, store, raw)
    }
}
