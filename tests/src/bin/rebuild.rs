//! `make rebuild`: re-derives every lead marker (the reports' time index) from the message
//! items, with the aggregator's own code. Against `make local` by default; against a
//! deployed table when `TABLE_NAME` and AWS credentials are set and `AWS_ENDPOINT_URL` is
//! not (the stream keeps only 24 hours, so this is how an outage's markers are made whole).

use aggregator::handler::Aggregator;
use integration_tests::harness::maintenance_table;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (sdk, table) = maintenance_table().await?;
    let aggregator = Aggregator::from_sdk(&sdk, &table);
    let recorded = aggregator.rebuild(8).await?;
    println!("rebuilt {recorded} lead markers in {table}");
    Ok(())
}
