use lambda_runtime::{Error, run, service_fn};
use report_jobs::handler::ReportJobs;
use shared::config::ReportsConfig;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let config = ReportsConfig::from_env()?;
    let sdk = shared::adapters::aws::load_sdk_config().await;
    let jobs = ReportJobs::new(shared::reports::live_service(&config, &sdk));
    let jobs = &jobs;
    run(service_fn(
        move |event| async move { jobs.handle(event).await },
    ))
    .await
}
