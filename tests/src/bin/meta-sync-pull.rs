//! `make pull`: one meta-sync run against the local stack (`make local` must be running).
//! Reads `.local/endpoints.env` (variables already set in the environment win), builds the
//! real function the way its Lambda `main` does, and runs the payload given as the first
//! argument (default `{"mode":"scheduled"}`), e.g.
//! `make pull PAYLOAD='{"mode":"backfill","from":"2026-11-01","to":"2026-11-20"}'`.

use integration_tests::harness::load_local_env;
use integration_tests::sync_summary::{print_report, print_stored};
use meta_sync::handler::LiveMetaSync;
use shared::config::MetaSyncConfig;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    load_local_env()?;
    shared::telemetry::init();
    let payload: serde_json::Value = match std::env::args().nth(1).filter(|a| !a.is_empty()) {
        Some(arg) => serde_json::from_str(&arg).map_err(|e| format!("payload {arg:?}: {e}"))?,
        None => serde_json::json!({"mode": "scheduled"}),
    };
    let config = MetaSyncConfig::from_env()?;
    let sync = LiveMetaSync::from_env_config(&config).await?;
    // A run that needs a person or crashed is an error, as Lambda sees it; its report (what
    // completed) is printed all the same.
    let report = match sync.handle(payload, chrono::Utc::now()).await {
        Ok(report) => report,
        Err(e) => {
            if let Some(report) = e.0.report() {
                print_report(report);
            }
            return Err(e.into());
        }
    };
    print_report(&report);
    let sdk = shared::adapters::aws::load_sdk_config().await;
    print_stored(
        &shared::adapters::aws::dynamodb_client(&sdk, None),
        &config.table_name,
    )
    .await;
    println!("\n{}", serde_json::to_string(&report)?);
    Ok(())
}
