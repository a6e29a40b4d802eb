//! `make rebuild-rollups`: recomputes the message rollups and every person's facts from the
//! message items, with the aggregator's own code (`{"action":"rebuild-rollups"}` does the
//! same inside the function's 15 minutes). Against `make local` by default; against a
//! deployed table when `TABLE_NAME` and AWS credentials are set and `AWS_ENDPOINT_URL` is not.
//! Exact only with the writers paused and the stream drained (docs/RUNBOOK.md).

use aggregator::handler::Aggregator;
use integration_tests::harness::maintenance_table;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (sdk, table) = maintenance_table().await?;
    let aggregator = Aggregator::from_sdk(&sdk, &table);
    let done = aggregator.rebuild_rollups(8).await?;
    println!("rollups of {table} rebuilt: {done}");
    Ok(())
}
