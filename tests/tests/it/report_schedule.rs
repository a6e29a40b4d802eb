//! Scheduled reports announced on SNS (moto), delivered to a real HTTP subscriber: one
//! message per schedule run naming every report and how to fetch it, never a link; a topic
//! that cannot be reached loses no report.

use integration_tests::harness::{Stack, reports_config};
use integration_tests::loopback::read_request;
use report_jobs::handler::{ReportJobs, Schedule};
use serde_json::Value;
use shared::adapters::sns::SnsReportAnnouncer;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// An HTTP endpoint that hands every request body it receives to the channel.
async fn subscriber() -> (String, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sns", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                if let Some((_, body)) = read_request(&mut conn).await {
                    let _ = tx.send(body);
                }
                let _ = conn
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    (url, rx)
}

fn daily(kinds: &[&str]) -> Schedule {
    Schedule {
        schedule: "daily".into(),
        kinds: Some(kinds.iter().map(|k| k.to_string()).collect()),
        tz: Some("Asia/Jakarta".into()),
        phone_number_ids: None,
        locale: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_announces_its_reports_with_ids_and_no_links() {
    let stack = Stack::start().await;
    let sns = aws_sdk_sns::Client::new(&stack.sdk);
    let topic = sns
        .create_topic()
        .name("wa-insights-reports")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let (url, mut received) = subscriber().await;
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("http")
        .endpoint(&url)
        .send()
        .await
        .unwrap();
    let config = reports_config(&stack.table, &stack.bucket, "token-0123456789abcdef", &[]);
    let jobs = ReportJobs::new(
        shared::reports::live_service(&config, &stack.sdk),
        SnsReportAnnouncer::new(sns.clone(), &topic),
        Some("https://reports.example.com".into()),
    );
    // 2026-11-29 03:00 in Jakarta: yesterday there is 2026-11-28.
    let now = 1_795_896_000;
    let out = jobs
        .scheduled(&daily(&["volume", "failures"]), now)
        .await
        .unwrap();
    assert_eq!(out["announced"], true, "{out}");
    let ids: Vec<&str> = out["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);

    let body = tokio::time::timeout(Duration::from_secs(20), received.recv())
        .await
        .expect("an SNS delivery")
        .unwrap();
    let envelope: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["TopicArn"], topic.as_str());
    assert_eq!(
        envelope["Subject"],
        "wa-insights: daily reports for 2026-11-28 (2 of 2 ready)"
    );
    let message: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["schedule"], "daily");
    assert_eq!(message["tz"], "Asia/Jakarta");
    for (i, id) in ids.iter().enumerate() {
        let r = &message["reports"][i];
        assert_eq!(r["id"], *id);
        assert_eq!(r["status"], "ready");
        assert_eq!(
            r["fetch"],
            format!("https://reports.example.com/v1/reports/{id}")
        );
    }
    for secret in [
        "X-Amz-Signature",
        "X-Amz-Credential",
        "reports/scheduled",
        &stack.bucket,
    ] {
        assert!(
            !body.contains(secret),
            "the announcement holds no link: {secret}"
        );
    }

    // A topic that is gone: the reports are written and listed all the same.
    sns.delete_topic().topic_arn(&topic).send().await.unwrap();
    let out = jobs.scheduled(&daily(&["volume"]), now).await.unwrap();
    assert_eq!(out["announced"], false, "{out}");
    assert_eq!(out["reports"][0]["status"], "ready");
}
