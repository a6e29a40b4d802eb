use lambda_http::{Error, run, service_fn};
use shared::config::WebhookConfig;
use webhook::handler::LiveWebhook;

/// Building DynamoDB requests is allocation-bound; mimalloc halves that cost (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let config = WebhookConfig::from_env()?;
    let webhook = LiveWebhook::from_env_config(&config).await?;
    let webhook = &webhook;
    run(service_fn(move |req| webhook.handle(req))).await
}
