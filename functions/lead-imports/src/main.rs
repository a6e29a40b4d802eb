use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use lead_imports::handler::ImportRunner;
use serde_json::Value;
use shared::adapters::dynamodb::leads::DynamoDbLeadStore;
use shared::adapters::s3_imports::S3ImportFiles;
use shared::config::LeadImportsConfig;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let config = LeadImportsConfig::from_env()?;
    let sdk = shared::adapters::aws::load_sdk_config().await;
    let runner = ImportRunner::new(
        DynamoDbLeadStore::new(
            shared::adapters::aws::dynamodb_client(&sdk, None),
            &config.table_name,
        ),
        S3ImportFiles::new(
            shared::adapters::aws::s3_client(&sdk),
            &config.bucket_name,
            None,
        ),
        config.lifecycle,
    );
    let runner = &runner;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        runner.handle(event.payload).await.map_err(Error::from)
    }))
    .await
}
