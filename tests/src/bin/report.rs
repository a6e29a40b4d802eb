//! `make report KIND=… FROM=… TO=… TZ=… GROUP_BY=…`: asks the local stack's reports API
//! (`make local` must be running) for a report, waits while it is running, and prints its
//! link and first lines. The same as the README's curl recipe.

use integration_tests::harness::load_local_env;
use serde_json::{Value, json};
use std::time::Duration;

fn arg(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    load_local_env()?;
    let base = arg("REPORTS_URL").ok_or("REPORTS_URL is not set: run `make local` first")?;
    let token = arg("API_TOKEN").ok_or("API_TOKEN is not set")?;
    let today = chrono::Utc::now().date_naive();
    let mut body = json!({
        "kind": arg("KIND").unwrap_or_else(|| "conversations".into()),
        "from": arg("FROM").unwrap_or_else(|| (today - chrono::Duration::days(7)).to_string()),
        "to": arg("TO").unwrap_or_else(|| today.to_string()),
        "tz": arg("TZ").unwrap_or_else(|| "UTC".into()),
        "group_by": arg("GROUP_BY").unwrap_or_else(|| "day".into()),
    });
    if let Some(p) = arg("PHONE_NUMBER_ID") {
        body["phone_number_id"] = json!(p);
    }
    let http = reqwest::Client::builder().no_proxy().build()?;
    println!("POST {base}/v1/reports {body}");
    let resp = http
        .post(format!("{base}/v1/reports"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await?;
    let status = resp.status();
    let mut report: Value = resp.json().await?;
    if !status.is_success() {
        return Err(format!("HTTP {status}: {report}").into());
    }
    while report["status"] == "running" {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let id = report["id"].as_str().unwrap_or_default().to_string();
        report = http
            .get(format!("{base}/v1/reports/{id}"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    let Some(url) = report["url"].as_str() else {
        return Err(format!("report {}: {}", report["status"], report["reason"]).into());
    };
    let csv = http.get(url).send().await?.text().await?;
    println!("\nlink (valid until {}):\n{url}\n", report["expires_at"]);
    for line in csv.lines().take(12) {
        println!("{line}");
    }
    Ok(())
}
