//! `make rebuild`: re-derives every lead marker (the reports' time index) from the message
//! items, with the aggregator's own code. Against `make local` by default; against a
//! deployed table when `TABLE_NAME` and AWS credentials are set and `AWS_ENDPOINT_URL` is
//! not (the stream keeps only 24 hours, so this is how an outage's markers are made whole).

use aggregator::handler::Aggregator;
use integration_tests::harness::load_local_env;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("TABLE_NAME").is_none() {
        load_local_env()?;
    }
    shared::telemetry::init();
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
    let sdk = shared::adapters::aws::load_sdk_config().await;
    let aggregator = Aggregator::from_sdk(&sdk, &table);
    let recorded = aggregator.rebuild(8).await?;
    println!("rebuilt {recorded} lead markers in {table}");
    Ok(())
}
