use lambda_runtime::{Error, run, service_fn};
use report_jobs::handler::ReportJobs;
use shared::config::ReportsConfig;

/// The jobs function, with or without an announcement topic.
async fn serve<A: shared::ports::ReportAnnouncer>(
    config: &ReportsConfig,
    sdk: &aws_config::SdkConfig,
    announcer: A,
) -> Result<(), Error> {
    let jobs = ReportJobs::new(
        shared::reports::live_service(config, sdk),
        announcer,
        config.api_url.clone(),
    );
    let jobs = &jobs;
    run(service_fn(
        move |event| async move { jobs.handle(event).await },
    ))
    .await
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let config = ReportsConfig::from_env()?;
    let sdk = shared::adapters::aws::load_sdk_config().await;
    match &config.topic_arn {
        Some(topic) => {
            let announcer = shared::adapters::sns::SnsReportAnnouncer::new(
                aws_sdk_sns::Client::new(&sdk),
                topic,
            );
            serve(&config, &sdk, announcer).await
        }
        None => serve(&config, &sdk, shared::ports::NoAnnouncer).await,
    }
}
