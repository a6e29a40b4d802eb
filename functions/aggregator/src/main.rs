use aggregator::handler::Aggregator;
use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

/// Stream batches (`Records`) are folded; `{"action": "rebuild"}` rebuilds every marker.
#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table =
        std::env::var("TABLE_NAME").map_err(|_| "missing environment variable TABLE_NAME")?;
    let sdk = shared::adapters::aws::load_sdk_config().await;
    let aggregator = Aggregator::from_sdk(&sdk, &table);
    let aggregator = &aggregator;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let (payload, context) = event.into_parts();
        if payload.get("action").and_then(Value::as_str) == Some("rebuild") {
            let recorded = aggregator.rebuild(8).await?;
            return Ok::<_, Error>(json!({ "rebuilt_markers": recorded }));
        }
        let batch: Event = serde_json::from_value(payload)?;
        let response = aggregator.handle(LambdaEvent::new(batch, context)).await;
        Ok(serde_json::to_value(response)?)
    }))
    .await
}
