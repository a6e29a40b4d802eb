//! `make local`: the local stack in the foreground until Ctrl-C. Starts moto (unless
//! `AWS_ENDPOINT_URL` is set), creates the table and bucket, serves the real webhook
//! handler and the real leads API handler over HTTP, starts the fake Graph API for
//! meta-sync and writes `.local/endpoints.env` for scripts and `make pull`.

use integration_tests::fake_graph::{FAKE_GRAPH_TOKEN, FakeGraph, FakeGraphConfig};
use integration_tests::harness::{
    LOCAL_APP_SECRET, LOCAL_VERIFY_TOKEN, Moto, Stack, webhook_config, workspace_root,
};
use integration_tests::server::{Functions, serve};
use leads::handler::{Leads, LeadsConfig};
use shared::config::ApiAuth as Auth;
use shared::config::{Secret, SecretSource};
use shared::domain::leads::Lifecycle;
use std::sync::Arc;

/// The local leads API's bearer token unless `API_TOKEN` is set (a local default, never a
/// real secret; the handler's config requires at least 16 characters).
const LOCAL_API_TOKEN: &str = "local-api-token-change-me";

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    shared::telemetry::init();
    let (endpoint, moto) = match std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(url) => (url, None),
        None => {
            let port: u16 = env_or("MOTO_PORT", "4566").parse()?;
            let moto = Moto::start_on(port);
            (moto.url(), Some(moto))
        }
    };
    let table = env_or("TABLE_NAME", "wa-insights-local");
    let bucket = env_or("BUCKET_NAME", "wa-insights-local");
    let app_secret = env_or("META_APP_SECRET", LOCAL_APP_SECRET);
    let verify_token = env_or("WEBHOOK_VERIFY_TOKEN", LOCAL_VERIFY_TOKEN);
    let (secret, token) = (app_secret.clone(), verify_token.clone());
    let stack = Stack::with_names(
        endpoint.clone(),
        moto,
        table.clone(),
        bucket.clone(),
        move |t, b| {
            let mut c = webhook_config(t, b);
            c.secrets = SecretSource::Env {
                app_secret: Secret::new(secret),
                app_secret_previous: None,
                verify_token: Secret::new(token),
            };
            c
        },
    )
    .await;
    let port = env_or("WEBHOOK_PORT", "9000");
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    let webhook_url = format!("http://{}/webhook", listener.local_addr()?);
    // The leads API on its own port, as API Gateway serves it in AWS (paths under /v1/).
    let api_token = env_or("API_TOKEN", LOCAL_API_TOKEN);
    if api_token.len() < 16 {
        return Err("API_TOKEN must be at least 16 characters".into());
    }
    let leads_port = env_or("LEADS_PORT", "9001");
    let leads_listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{leads_port}")).await?;
    let leads_url = format!("http://{}", leads_listener.local_addr()?);
    // The reports API on its own port (same bearer token).
    let reports_port = env_or("REPORTS_PORT", "9003");
    let reports_listener =
        tokio::net::TcpListener::bind(format!("127.0.0.1:{reports_port}")).await?;
    let reports_url = format!("http://{}", reports_listener.local_addr()?);
    // The fake Graph API for meta-sync, on a fixed port so GRAPH_URL stays put.
    let graph_port = env_or("GRAPH_PORT", "9002");
    let graph_config = FakeGraphConfig::standard();
    let waba_ids: Vec<String> = graph_config.wabas.iter().map(|w| w.id.clone()).collect();
    let no_clicks: Vec<String> = graph_config
        .wabas
        .iter()
        .filter(|w| !w.clicks_available)
        .map(|w| w.id.clone())
        .collect();
    let graph = FakeGraph::start_at(graph_config, &format!("127.0.0.1:{graph_port}")).await?;
    let dir = workspace_root().join(".local");
    std::fs::create_dir_all(&dir)?;
    let env_file = dir.join("endpoints.env");
    std::fs::write(
        &env_file,
        format!(
            "# written by `make local`; local defaults only, never real secrets\n\
             WEBHOOK_URL={webhook_url}\nAWS_ENDPOINT_URL={endpoint}\nAWS_REGION=us-east-1\n\
             AWS_ACCESS_KEY_ID=testing\nAWS_SECRET_ACCESS_KEY=testing\nAWS_EC2_METADATA_DISABLED=true\n\
             TABLE_NAME={table}\nBUCKET_NAME={bucket}\nMETA_APP_SECRET={app_secret}\nWEBHOOK_VERIFY_TOKEN={verify_token}\n\
             LEADS_URL={leads_url}\nREPORTS_URL={reports_url}\nAPI_TOKEN={api_token}\n\
             GRAPH_URL={graph_url}\nMETA_ACCESS_TOKEN={FAKE_GRAPH_TOKEN}\nWABA_IDS={wabas}\nCLICKS_UNAVAILABLE_WABAS={no_clicks}\n",
            graph_url = graph.url,
            wabas = waba_ids.join(","),
            no_clicks = no_clicks.join(","),
        ),
    )?;
    let Stack {
        moto, webhook, sdk, ..
    } = stack;
    let leads = Leads::from_sdk(
        LeadsConfig {
            table_name: table.clone(),
            auth: Auth::Token(Secret::new(api_token.clone())),
            lifecycle: Lifecycle::default(),
            forward_conversions: false,
            bucket_name: Some(bucket.clone()),
        },
        &sdk,
    );
    let reports_config =
        integration_tests::harness::reports_config(&table, &bucket, &api_token, &waba_ids);
    let reports = integration_tests::harness::reports_api(&sdk, &reports_config);
    let jobs = integration_tests::harness::report_jobs(&sdk, &reports_config);
    let functions = Arc::new(Functions {
        webhook,
        leads: Some(leads),
        reports: Some(reports),
    });
    let server = tokio::spawn(serve(functions.clone(), listener));
    let leads_server = tokio::spawn(serve(functions.clone(), leads_listener));
    let reports_server = tokio::spawn(serve(functions, reports_listener));
    // The aggregator on the table's stream, as the event source mapping runs it in AWS.
    let aggregator = aggregator::handler::Aggregator::over(
        shared::adapters::aws::dynamodb_client(&sdk, None),
        &table,
    );
    let mut reader = integration_tests::streams::StreamReader::new(&endpoint, &table);
    // Asynchronous lead imports: in AWS an upload's "Object Created" event runs the
    // lead-imports function; here new objects under imports/ are looked for every second.
    let s3 = shared::adapters::aws::s3_client(&sdk);
    let imports = lead_imports::handler::ImportRunner::new(
        shared::adapters::dynamodb::leads::DynamoDbLeadStore::new(
            shared::adapters::aws::dynamodb_client(&sdk, None),
            &table,
        ),
        shared::adapters::s3_imports::S3ImportFiles::new(s3.clone(), &bucket, None),
        Lifecycle::default(),
    );
    let imports_bucket = bucket.clone();
    let mut uploads_seen = std::collections::HashSet::new();
    let stream_pump = tokio::spawn(async move {
        // Reports read the markers the aggregator writes from the stream: after a burst of
        // traffic, wait for the "caught up" line before asking for a report (moto folds
        // ~60 markers a second; DynamoDB in AWS, about a second behind).
        let mut behind = false;
        loop {
            let folded =
                integration_tests::streams::pump_with_jobs(&mut reader, &aggregator, &jobs).await;
            if folded > 0 {
                behind = true;
                println!("stream: folded {folded} records");
            } else if behind {
                behind = false;
                println!("stream: caught up (reports include everything sent so far)");
            }
            if let Ok(list) = s3
                .list_objects_v2()
                .bucket(&imports_bucket)
                .prefix("imports/")
                .send()
                .await
            {
                for o in list.contents() {
                    let (Some(key), Some(tag)) = (o.key(), o.e_tag()) else {
                        continue;
                    };
                    if uploads_seen.insert(format!("{key}|{tag}")) {
                        let event = serde_json::json!({"detail": {"object": {"key": key}}});
                        match imports.handle(event).await {
                            Ok(r) => println!("imports: {r}"),
                            Err(e) => println!("imports: {key}: {e}"),
                        }
                    }
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });
    println!("wa-insights local stack is up");
    println!("  webhook   {webhook_url}");
    println!(
        "  leads API {leads_url}/v1/leads (Authorization: Bearer $API_TOKEN from the env file)"
    );
    println!("  reports   {reports_url}/v1/reports (same bearer token)");
    println!("  storage   {endpoint} (table {table}, bucket {bucket})");
    println!(
        "  graph     {} (fake Meta Graph API; `make pull` runs meta-sync once)",
        graph.url
    );
    println!("  env file  {}", env_file.display());
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    server.abort();
    leads_server.abort();
    reports_server.abort();
    stream_pump.abort();
    drop(graph);
    drop(moto);
    println!("stopped");
    Ok(())
}
