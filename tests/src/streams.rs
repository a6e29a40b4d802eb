//! Reads the table's DynamoDB stream from the local moto and hands it to the aggregator's real
//! handler in Lambda's event shape (what the DynamoDB event source mapping does in AWS). The
//! stream API answers in JSON whose records are exactly Lambda's `Records[]`.

use aggregator::handler::Aggregator;
use aws_lambda_events::event::dynamodb::TimeWindowEvent;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub struct StreamReader {
    http: reqwest::Client,
    endpoint: String,
    table: String,
    /// Next iterator per shard (`None`: the shard is closed and read to its end).
    iterators: BTreeMap<String, Option<String>>,
}

impl StreamReader {
    pub fn new(endpoint: &str, table: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            endpoint: endpoint.trim_end_matches('/').to_string(),
            table: table.to_string(),
            iterators: BTreeMap::new(),
        }
    }

    async fn call(&self, target: &str, body: Value) -> Value {
        let resp = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("DynamoDBStreams_20120810.{target}"))
            // moto routes by the credential scope; it does not check the signature.
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(body.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("stream {target}: {e}"));
        let status = resp.status();
        let text = resp.text().await.expect("stream body");
        assert!(
            status.is_success(),
            "stream {target}: HTTP {status}: {text}"
        );
        serde_json::from_str(&text).expect("stream JSON")
    }

    /// Every record written since the previous call, oldest first per shard.
    pub async fn next_records(&mut self) -> Vec<Value> {
        if self.iterators.is_empty() {
            let streams = self
                .call("ListStreams", json!({"TableName": self.table}))
                .await;
            let arn = streams["Streams"][0]["StreamArn"]
                .as_str()
                .expect("the table has a stream")
                .to_string();
            let description = self.call("DescribeStream", json!({"StreamArn": arn})).await;
            for shard in description["StreamDescription"]["Shards"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let id = shard["ShardId"].as_str().expect("shard id");
                let it = self
                    .call(
                        "GetShardIterator",
                        json!({"StreamArn": arn, "ShardId": id, "ShardIteratorType": "TRIM_HORIZON"}),
                    )
                    .await;
                self.iterators.insert(
                    id.to_string(),
                    it["ShardIterator"].as_str().map(String::from),
                );
            }
        }
        let mut records = Vec::new();
        let shards: Vec<String> = self.iterators.keys().cloned().collect();
        for shard in shards {
            while let Some(Some(it)) = self.iterators.get(&shard).cloned() {
                let page = self.call("GetRecords", json!({"ShardIterator": it})).await;
                let batch = page["Records"].as_array().cloned().unwrap_or_default();
                self.iterators.insert(
                    shard.clone(),
                    page["NextShardIterator"].as_str().map(String::from),
                );
                if batch.is_empty() {
                    break;
                }
                // Lambda names the shard of a batch (tumbling windows); keep it per record.
                records.extend(batch.into_iter().map(|mut r| {
                    r["shard"] = json!(shard);
                    r
                }));
            }
        }
        records
    }
}

/// Lambda's DynamoDB event (with tumbling windows: it names its shard) for records of one
/// shard, as [`StreamReader::next_records`] returns them.
pub fn lambda_event(records: &[Value]) -> LambdaEvent<TimeWindowEvent> {
    let shard = records
        .first()
        .map(|r| r["shard"].clone())
        .unwrap_or(json!("shardId-test"));
    assert!(
        records.iter().all(|r| r["shard"] == shard),
        "a batch holds records of one shard"
    );
    let event: TimeWindowEvent = serde_json::from_value(json!({
        "Records": records,
        "shardId": shard,
        "window": {"start": "2026-11-20T00:00:00Z", "end": "2026-11-20T00:01:00Z"},
        "state": {},
        "isFinalInvokeForWindow": false,
        "isWindowTerminatedEarly": false,
    }))
    .expect("a DynamoDB stream event");
    LambdaEvent::new(event, Context::default())
}

/// Lambda's plain DynamoDB event (no tumbling window) for these records.
pub fn plain_event(records: &[Value]) -> LambdaEvent<aws_lambda_events::event::dynamodb::Event> {
    let event =
        serde_json::from_value(json!({ "Records": records })).expect("a DynamoDB stream event");
    LambdaEvent::new(event, Context::default())
}

/// Records in Lambda's batches: per shard, at most `size` each, in stream order.
pub fn batches(records: &[Value], size: usize) -> Vec<&[Value]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=records.len() {
        if i == records.len() || records[i]["shard"] != records[start]["shard"] || i - start == size
        {
            out.push(&records[start..i]);
            start = i;
        }
    }
    out
}

/// The report jobs function over DynamoDB and S3.
pub type LiveReportJobs = report_jobs::handler::ReportJobs<
    shared::adapters::dynamodb::reports::DynamoDbReportSource,
    shared::adapters::dynamodb::reports::DynamoDbReportStore,
    shared::adapters::s3_reports::S3ReportObjects,
    shared::ports::NoAnnouncer,
>;

/// Like [`pump`], and also hands the report records (`pk` = `REPORTS`) to the report jobs
/// function, as its event source mapping's filter does in AWS.
pub async fn pump_with_jobs(
    reader: &mut StreamReader,
    aggregator: &Aggregator,
    jobs: &LiveReportJobs,
) -> usize {
    let records = reader.next_records().await;
    for batch in batches(&records, 100) {
        let response = aggregator.handle(lambda_event(batch)).await;
        assert!(
            response.batch_item_failures.is_empty(),
            "aggregator failed {} records",
            response.batch_item_failures.len()
        );
    }
    let reports: Vec<Value> = records
        .iter()
        .filter(|r| r["dynamodb"]["Keys"]["pk"]["S"] == "REPORTS")
        .cloned()
        .collect();
    if !reports.is_empty() {
        let event = LambdaEvent::new(json!({ "Records": reports }), Context::default());
        if let Err(e) = jobs.handle(event).await {
            tracing::error!(error = %e, "report jobs failed; the records are retried");
        }
    }
    records.len()
}

/// Feeds every new stream record to the aggregator in batches of 100 (the event source
/// mapping's batch size). Returns how many records were delivered; panics if the handler
/// reports a failed record (tests want to know).
pub async fn pump(reader: &mut StreamReader, aggregator: &Aggregator) -> usize {
    let records = reader.next_records().await;
    for batch in batches(&records, 100) {
        let response = aggregator.handle(lambda_event(batch)).await;
        assert!(
            response.batch_item_failures.is_empty(),
            "aggregator failed {} records",
            response.batch_item_failures.len()
        );
    }
    records.len()
}
