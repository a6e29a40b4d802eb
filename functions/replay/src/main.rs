use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use replay::handler::Replay;
use serde_json::Value;
use shared::config::ReplayConfig;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let config = ReplayConfig::from_env()?;
    let sdk = shared::adapters::aws::load_sdk_config().await;
    let replay = Replay::new(shared::replay::live(&config, &sdk));
    let replay = &replay;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(replay.handle(&event.payload).await?)
    }))
    .await
}
