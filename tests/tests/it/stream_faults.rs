//! The aggregator killed mid-batch (T18 / T19 with the fault injected into storage, not into
//! the code): its DynamoDB writes stop after K of them succeeded during one stream batch. The
//! batch answers the records from the failed one on as failed (`ReportBatchItemFailures`),
//! and the retries Lambda makes (from the checkpoint, bisected, or the whole batch again)
//! leave the derived items (lead markers, leads merged across ids, identity links) exactly
//! as one clean run over the same records does.

use crate::identity::{journeys, post_all};
use aggregator::handler::Aggregator;
use integration_tests::faults::{Fault, FaultProxy, Service};
use integration_tests::harness::{Moto, Stack, local_sdk_config, webhook_config};
use integration_tests::streams::{StreamReader, lambda_event};
use integration_tests::verify::{canonical, item_differences};
use serde_json::Value;

/// A table fed the same traffic (the identity journeys: phone, then phone + business-scoped
/// id, then business-scoped id only; duplicates; a reply whose status gains the second id),
/// and its whole stream.
async fn fed(moto: &Moto, traffic: &[Vec<u8>]) -> (Stack, Vec<Value>) {
    let stack = Stack::on(moto.url(), None, webhook_config).await;
    post_all(&stack, traffic).await;
    let records = StreamReader::new(&stack.endpoint, &stack.table)
        .next_records()
        .await;
    (stack, records)
}

/// The real aggregator over `stack`'s table, reaching DynamoDB through the proxy.
async fn aggregator_through(proxy: &FaultProxy, stack: &Stack) -> Aggregator {
    let client =
        shared::adapters::aws::dynamodb_client(&local_sdk_config(&proxy.url()).await, None);
    Aggregator::over(client, &stack.table)
}

/// One delivery of `batch`; the records reported failed, which must be the tail from the
/// first failed record (Lambda's checkpoint).
async fn deliver(aggregator: &Aggregator, batch: &[Value]) -> Vec<Value> {
    let failed: Vec<String> = aggregator
        .handle(lambda_event(batch))
        .await
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier.expect("a sequence number"))
        .collect();
    let Some(first) = failed.first() else {
        return Vec::new();
    };
    let at = batch
        .iter()
        .position(|r| r["dynamodb"]["SequenceNumber"] == first.as_str())
        .expect("a failed record of the batch");
    let tail: Vec<String> = batch[at..]
        .iter()
        .map(|r| {
            r["dynamodb"]["SequenceNumber"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(failed, tail, "failed from the first failure on");
    batch[at..].to_vec()
}

/// Lambda with `BisectBatchOnFunctionError`: a batch that fails is split in two and each half
/// retried (in order), down to single records, until every record is folded.
async fn bisect_until_folded(aggregator: &Aggregator, batch: Vec<Value>) -> usize {
    let mut pending = vec![batch];
    let mut deliveries = 0;
    while let Some(batch) = pending.pop() {
        deliveries += 1;
        let failed = deliver(aggregator, &batch).await;
        if failed.is_empty() {
            continue;
        }
        let (left, right) = failed.split_at(failed.len().div_ceil(2));
        // A stack: the left half is retried first.
        if !right.is_empty() {
            pending.push(right.to_vec());
        }
        pending.push(left.to_vec());
        assert!(deliveries < 200, "the retries converge");
    }
    deliveries
}

#[tokio::test]
async fn aggregator_killed_mid_batch_then_retried_equals_a_clean_run() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.url()).await;
    let (traffic, _) = journeys(3);

    let (clean, records) = fed(&moto, &traffic).await;
    let clean_records = records.len();
    let before = proxy.passed(Service::DynamoDb);
    assert!(
        deliver(&aggregator_through(&proxy, &clean).await, &records)
            .await
            .is_empty()
    );
    let requests = proxy.passed(Service::DynamoDb) - before;
    let expected = canonical(&clean.scan().await);
    assert!(
        expected.iter().any(|i| i
            .get("sk")
            .and_then(|v| v.as_s().ok())
            .is_some_and(|s| s.starts_with("IN#"))),
        "the clean run wrote lead markers"
    );
    assert!(requests >= 20, "a batch of many writes: {requests}");

    // Lambda's three ways of retrying a failed batch, each after a cut at another point.
    let cuts = [
        (requests / 5, "from the checkpoint"),
        (
            requests / 2,
            "bisected, with a second fault in the first retry",
        ),
        (requests * 4 / 5, "the whole batch again"),
    ];
    for (k, &(cut, retry)) in cuts.iter().enumerate() {
        let fault = [Fault::ServerError, Fault::Drop][k % 2];
        let (faulty, records) = fed(&moto, &traffic).await;
        assert_eq!(records.len(), clean_records, "the same stream");
        let aggregator = aggregator_through(&proxy, &faulty).await;
        proxy.fail_after(Service::DynamoDb, cut, fault);
        let failed = deliver(&aggregator, &records).await;
        proxy.heal(Service::DynamoDb);
        assert!(
            !failed.is_empty(),
            "cut after {cut} of {requests}: a failed batch"
        );
        assert!(
            failed.len() < records.len(),
            "cut after {cut}: some records were folded"
        );
        match k {
            0 => assert!(deliver(&aggregator, &failed).await.is_empty(), "{retry}"),
            1 => {
                // Two failures in a row beat the SDK's one retry: the first retry fails too.
                proxy.blip(Service::DynamoDb, 3, 2, Fault::Drop);
                let deliveries = bisect_until_folded(&aggregator, failed).await;
                assert!(deliveries > 1, "{retry}: the retry failed and was split");
            }
            _ => assert!(deliver(&aggregator, &records).await.is_empty(), "{retry}"),
        }
        let diffs = item_differences(&canonical(&faulty.scan().await), &expected);
        assert!(
            diffs.is_empty(),
            "cut after {cut} of {requests} ({fault:?}), retried {retry}: {diffs:#?}"
        );
    }
}
