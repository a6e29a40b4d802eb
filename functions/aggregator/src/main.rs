use aggregator::handler::Aggregator;
use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table =
        std::env::var("TABLE_NAME").map_err(|_| "missing environment variable TABLE_NAME")?;
    let sdk = shared::adapters::aws::load_sdk_config().await;
    let aggregator = Aggregator::from_sdk(&sdk, &table);
    let aggregator = &aggregator;
    run(service_fn(move |event| async move {
        Ok::<_, Error>(aggregator.handle(event).await)
    }))
    .await
}
