use aggregator::handler::Aggregator;
use aws_lambda_events::event::dynamodb::TimeWindowEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use shared::config::AggregatorConfig;

/// Stream batches (`Records`) are folded; `{"action": …}` payloads are maintenance actions
/// (`Aggregator::maintenance`: rebuild, link, redrive).
#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let config = AggregatorConfig::from_env()?;
    let sdk = shared::adapters::aws::load_sdk_config().await;
    let aggregator = Aggregator::from_sdk(&sdk, &config.table_name);
    let aggregator = &aggregator;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let (payload, context) = event.into_parts();
        if let Some(done) = aggregator.maintenance(&payload).await {
            return Ok::<_, Error>(done?);
        }
        let batch: TimeWindowEvent = serde_json::from_value(payload)?;
        let response = aggregator.handle(LambdaEvent::new(batch, context)).await;
        Ok(serde_json::to_value(response)?)
    }))
    .await
}
