//! SDK configuration and clients, built once per cold start.

use crate::config::{
    ConfigError, Secret, SecretSource, WebhookSecrets, graph_token_from_secret,
    webhook_secrets_from_json,
};
use crate::telemetry::RequestCounter;
use aws_config::{BehaviorVersion, SdkConfig};

/// Loads the default credential/region chain. `AWS_ENDPOINT_URL` (local stack) is honoured
/// by the SDK itself.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// DynamoDB client; with a counter, every request is counted by operation.
pub fn dynamodb_client(
    sdk: &SdkConfig,
    counter: Option<RequestCounter>,
) -> aws_sdk_dynamodb::Client {
    let mut builder = aws_sdk_dynamodb::config::Builder::from(sdk);
    if let Some(counter) = counter {
        builder = builder.interceptor(counter);
    }
    aws_sdk_dynamodb::Client::from_conf(builder.build())
}

/// S3 client; path-style addressing when an endpoint override is set (local stack), since
/// `<bucket>.localhost` does not resolve.
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Resolves the webhook's secrets from env or Secrets Manager. Never logs values.
pub async fn webhook_secrets(
    sdk: &SdkConfig,
    source: &SecretSource,
) -> Result<WebhookSecrets, ConfigError> {
    match source {
        SecretSource::Env {
            app_secret,
            app_secret_previous,
            verify_token,
        } => Ok(WebhookSecrets {
            app_secrets: std::iter::once(app_secret.clone())
                .chain(app_secret_previous.clone())
                .collect(),
            verify_token: verify_token.clone(),
        }),
        SecretSource::SecretsManager { secret_id } => {
            webhook_secrets_from_json(secret_id, &secret_string(sdk, secret_id).await?)
        }
    }
}

/// The webhook's secrets as configured: fixed (env) or read from Secrets Manager each time.
#[derive(Debug, Clone)]
pub struct AwsWebhookSecrets {
    sdk: SdkConfig,
    source: SecretSource,
}

impl AwsWebhookSecrets {
    pub fn new(sdk: &SdkConfig, source: &SecretSource) -> Self {
        Self {
            sdk: sdk.clone(),
            source: source.clone(),
        }
    }
}

impl crate::ports::WebhookSecretSource for AwsWebhookSecrets {
    async fn load(&self) -> Result<WebhookSecrets, ConfigError> {
        webhook_secrets(&self.sdk, &self.source).await
    }
    fn refreshable(&self) -> bool {
        matches!(self.source, SecretSource::SecretsManager { .. })
    }
}

/// The Graph API access token from Secrets Manager (plain or `{"access_token": …}`).
pub async fn graph_token(sdk: &SdkConfig, secret_id: &str) -> Result<Secret, ConfigError> {
    graph_token_from_secret(secret_id, &secret_string(sdk, secret_id).await?)
}

#[cfg(feature = "graph")]
/// The Graph client's configuration from the environment (`GraphConfig::from_lookup`), its
/// access token from Secrets Manager when `secret_id` names one (in AWS), else from
/// `META_ACCESS_TOKEN` (locally). The one place the token override is made.
pub async fn graph_config(
    sdk: &SdkConfig,
    secret_id: Option<&str>,
) -> Result<crate::adapters::graph::GraphConfig, ConfigError> {
    use crate::adapters::graph::GraphConfig;
    let env = crate::config::env;
    match secret_id {
        Some(id) => {
            let token = graph_token(sdk, id).await?;
            GraphConfig::from_lookup(|k| match k {
                "META_ACCESS_TOKEN" => Some(token.expose().to_string()),
                k => env(k),
            })
        }
        None => GraphConfig::from_lookup(env),
    }
}

/// A secret's string value. Never logged.
async fn secret_string(sdk: &SdkConfig, secret_id: &str) -> Result<String, ConfigError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| ConfigError::SecretLoad {
            id: secret_id.to_string(),
            reason: aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string(),
        })?;
    out.secret_string()
        .map(String::from)
        .ok_or_else(|| ConfigError::SecretLoad {
            id: secret_id.to_string(),
            reason: "secret has no string value".into(),
        })
}
