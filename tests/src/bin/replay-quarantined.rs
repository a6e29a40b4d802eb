//! `make replay [DRY_RUN=1] [PREFIX=quarantine/<reason>/] [SINCE=YYYY-MM-DD]
//! [START_AFTER=key]`: re-ingests the bodies the webhook kept under `quarantine/` (signed but
//! unparseable, or with a write the store refused) after a parser or store fix, with the
//! webhook's own ingest code (`shared::replay`). Against `make local` by default; against a
//! deployed stack when `TABLE_NAME`, `BUCKET_NAME` and AWS credentials are set and
//! `AWS_ENDPOINT_URL` is not. Idempotent; never changes or deletes an object; `DRY_RUN=1`
//! writes nothing and prints what each body would give.

use integration_tests::harness::maintenance_table;
use shared::config::ReplayConfig;
use shared::replay::ReplayRequest;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (sdk, _) = maintenance_table().await?;
    let config = ReplayConfig::from_env()?;
    let set = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let request = ReplayRequest {
        prefix: set("PREFIX"),
        since: set("SINCE")
            .map(|d| ReplayRequest::since_day(&d))
            .transpose()?,
        start_after: set("START_AFTER"),
        dry_run: set("DRY_RUN").is_some_and(|v| v != "0"),
    };
    let summary = shared::replay::live(&config, &sdk).run(&request).await?;
    for line in summary.lines() {
        println!("{line}");
    }
    Ok(())
}
