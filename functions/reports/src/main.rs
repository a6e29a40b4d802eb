use lambda_http::{Error, run, service_fn};
use reports::handler::ReportsApi;
use shared::config::ReportsConfig;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let config = ReportsConfig::from_env()?;
    let sdk = shared::adapters::aws::load_sdk_config().await;
    let api = ReportsApi::from_sdk(&config, &sdk);
    let api = &api;
    run(service_fn(move |req| api.handle(req))).await
}
