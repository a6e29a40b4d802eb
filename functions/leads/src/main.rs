use lambda_http::{Error, run, service_fn};
use leads::handler::{Leads, LeadsConfig};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let config = LeadsConfig::from_env()?;
    let sdk = shared::adapters::aws::load_sdk_config().await;
    let leads = Leads::from_sdk(config, &sdk);
    let leads = &leads;
    run(service_fn(move |req| leads.handle(req))).await
}
