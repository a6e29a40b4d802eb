use aws_lambda_events::event::dynamodb::Event;
use conversions::handler::Forwarder;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use shared::adapters::dynamodb::leads::DynamoDbLeadStore;
use shared::adapters::graph::GraphClient;
use shared::adapters::graph_capi::GraphConversionSink;
use shared::config::ConversionsConfig;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let config = ConversionsConfig::from_env()?;
    let sdk = shared::adapters::aws::load_sdk_config().await;
    let graph =
        shared::adapters::aws::graph_config(&sdk, config.graph_token_secret_id.as_deref()).await?;
    let forwarder = Forwarder::new(
        DynamoDbLeadStore::new(
            shared::adapters::aws::dynamodb_client(&sdk, None),
            &config.table_name,
        ),
        GraphConversionSink::new(GraphClient::new(graph)?),
        config.dataset_id,
    );
    let forwarder = &forwarder;
    run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(forwarder.handle(event).await)
    }))
    .await
}
