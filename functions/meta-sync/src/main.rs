use lambda_runtime::{Error, run, service_fn};
use meta_sync::handler::LiveMetaSync;
use shared::config::MetaSyncConfig;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let config = MetaSyncConfig::from_env()?;
    let sync = LiveMetaSync::from_env_config(&config).await?;
    let sync = &sync;
    run(service_fn(move |event| sync.handle_event(event))).await
}
