//! `make link-identities [DRY_RUN=1] [START_SEGMENT=n]`: links the ids of people the table
//! already knows under several (phone and business-scoped id, a number change) and folds
//! their leads into one, with the aggregator's own code. Against `make local` by default;
//! against a deployed table when `TABLE_NAME` and AWS credentials are set and
//! `AWS_ENDPOINT_URL` is not. Idempotent: a crashed run is finished by running it again.

use aggregator::handler::Aggregator;
use integration_tests::harness::maintenance_table;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (sdk, table) = maintenance_table().await?;
    let dry_run = std::env::var("DRY_RUN").is_ok_and(|v| !v.is_empty() && v != "0");
    let start: i32 = match std::env::var("START_SEGMENT") {
        Ok(v) if !v.is_empty() => v
            .parse()
            .map_err(|_| format!("START_SEGMENT={v:?} is not a number"))?,
        _ => 0,
    };
    let aggregator = Aggregator::from_sdk(&sdk, &table);
    let o = aggregator.link_all(8, start, dry_run).await?;
    for line in &o.plan {
        println!("would link {line}");
    }
    println!(
        "{}{} message items read, {} people known by several ids, {} not linked yet, {} profiles folded",
        if dry_run { "dry run: " } else { "" },
        o.messages,
        o.people,
        o.new_links,
        o.folded
    );
    Ok(())
}
