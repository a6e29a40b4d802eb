//! The `by_time` index's event partitions (moto): consent events and conversions written by
//! the webhook and the leads API land in `E#<UTC day>`; a report reads them without reading a
//! message marker; those written before the split (in a marker partition, `T#…`) are read
//! once where markers are read, and `rebuild-rollups` moves them to `E#`.

use crate::leads::{T0, api, at, call, first_message};
use crate::support::*;
use aws_sdk_dynamodb::operation::query::QueryInput;
use aws_sdk_dynamodb::types::AttributeValue as Av;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_types::config_bag::ConfigBag;
use integration_tests::harness::Stack;
use integration_tests::streams::{StreamReader, pump};
use serde_json::json;
use shared::adapters::dynamodb::reports::DynamoDbReportSource;
use shared::adapters::dynamodb::rollups::DynamoDbRollupStore;
use shared::domain::metrics::input::Inputs;
use shared::domain::timeindex::{TIME_INDEX, event_bucket, time_bucket};
use shared::keys::{EVENT_BUCKET_PREFIX, MARKER_BUCKET_PREFIX, consent_event_sk, conversion_sk};
use shared::ports::{ReportSource, ReportWindow};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// The `by_time` partitions a client queried, one entry per Query request (pages included).
#[derive(Debug, Clone, Default)]
struct QueriedBuckets(Arc<Mutex<Vec<String>>>);

impl QueriedBuckets {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Intercept for QueriedBuckets {
    fn name(&self) -> &'static str {
        "QueriedBuckets"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(q) = context.input().downcast_ref::<QueryInput>()
            && q.index_name() == Some(TIME_INDEX)
            && let Some(Av::S(bucket)) = q.expression_attribute_values().and_then(|v| v.get(":b"))
        {
            self.0.lock().unwrap().push(bucket.clone());
        }
        Ok(())
    }
}

fn window(messages: bool) -> ReportWindow {
    ReportWindow {
        lo: T0 - 86_400,
        hi: T0 + 86_400,
        from_day: at(T0).date_naive(),
        to_day: at(T0).date_naive(),
        wabas: Vec::new(),
        with_history: false,
        messages,
    }
}

/// (consent events, conversions, inbound messages) a window read returns, with the
/// partitions it queried.
async fn read(
    source: &DynamoDbReportSource,
    log: &QueriedBuckets,
    messages: bool,
) -> ((usize, usize, usize), BTreeSet<String>) {
    log.take();
    let inputs: Inputs = source.inputs(&window(messages)).await.expect("inputs");
    let queried = log.take().into_iter().collect();
    (
        (
            inputs.consent.len(),
            inputs.conversions.len(),
            inputs.inbound.len(),
        ),
        queried,
    )
}

fn all_start_with(buckets: &BTreeSet<String>, prefix: &str) -> bool {
    !buckets.is_empty() && buckets.iter().all(|b| b.starts_with(prefix))
}

#[tokio::test]
async fn consent_events_and_conversions_are_read_from_their_event_buckets() {
    // GIVEN a lead who wrote twice (the second time STOP: a consent event written by the
    // webhook), a conversion recorded through the leads API, and the aggregator's markers
    let stack = Stack::start().await;
    let api = api(&stack);
    let user = "5511966666666";
    stack.post(&first_message(user, T0, "oi", None)).await;
    stack
        .post(&first_message(user, T0 + 600, "Stop", None))
        .await;
    let (status, body) = call(
        &api,
        "POST",
        &format!("/v1/leads/{user}/conversions"),
        Some(
            json!({"type": "purchase", "at": "2026-11-20T11:00:00Z", "idempotency_key": "order-1"}),
        ),
        at(T0 + 3_700),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let aggregator = aggregator::handler::Aggregator::over(stack.dynamodb.clone(), &stack.table);
    let mut reader = StreamReader::new(&stack.endpoint, &stack.table);
    pump(&mut reader, &aggregator).await;

    // THEN both land in their UTC day's event partition; the markers stay in `T#`
    let items = stack.scan().await;
    let of_kind = |kind: &str| -> Vec<Item> {
        items
            .iter()
            .filter(|i| text(i, "item_kind") == Some(kind))
            .cloned()
            .collect()
    };
    let (consent, conversions) = (of_kind("consent_event"), of_kind("conversion"));
    assert_eq!((consent.len(), conversions.len()), (1, 1));
    for item in consent.iter().chain(&conversions) {
        let at = num(item, "at").unwrap();
        assert_eq!(text(item, "time_bucket"), Some(event_bucket(at).as_str()));
    }
    let markers = of_kind("lead_activity");
    assert_eq!(markers.len(), 2);
    assert!(markers.iter().all(|m| {
        text(m, "time_bucket")
            .unwrap()
            .starts_with(MARKER_BUCKET_PREFIX)
    }));

    // WHEN a report reads the window without its messages
    let log = QueriedBuckets::default();
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&stack.dynamodb_sdk)
            .interceptor(log.clone())
            .build(),
    );
    let source = DynamoDbReportSource::new(client, &stack.table);
    let (read_without, queried) = read(&source, &log, false).await;
    // THEN it has the consent event and the conversion, and queried no marker partition:
    // one event partition per UTC day of the window
    assert_eq!(read_without, (1, 1, 0));
    assert!(all_start_with(&queried, EVENT_BUCKET_PREFIX), "{queried:?}");
    assert_eq!(queried.len(), 3, "{queried:?}");

    // GIVEN a consent event and a conversion written before the split (in `T#`, as the
    // writers did then)
    let legacy = |item: &Item, sk: String, key: &str| {
        let mut item = item.clone();
        let at = num(&item, "at").unwrap();
        item.insert("sk".into(), Av::S(sk));
        item.insert("time_bucket".into(), Av::S(time_bucket(at, key)));
        item
    };
    let consent_at = num(&consent[0], "at").unwrap();
    let old_consent = legacy(
        &consent[0],
        consent_event_sk(PHONE_NUMBER_ID, consent_at, "keyword", "wamid.old"),
        "old-consent",
    );
    let old_conversion = legacy(&conversions[0], conversion_sk("order-0"), "old-conversion");
    for item in [old_consent, old_conversion] {
        stack
            .dynamodb
            .put_item()
            .table_name(&stack.table)
            .set_item(Some(item))
            .send()
            .await
            .expect("legacy item");
    }

    // THEN a read with the messages counts each once; one without still reads no marker
    // partition (so not the legacy events: the migration below is what brings them)
    let (read_with, queried) = read(&source, &log, true).await;
    assert_eq!(read_with, (2, 2, 2));
    assert!(queried.iter().any(|b| b.starts_with(MARKER_BUCKET_PREFIX)));
    assert_eq!(read(&source, &log, false).await.0, (1, 1, 0));
    let (opt_out_consent, _) = source
        .opt_out_facts(T0 - 86_400, T0 + 86_400)
        .await
        .expect("opt-out facts");
    assert_eq!(opt_out_consent.len(), 2, "the export's opt-out facts too");

    // WHEN rollups are rebuilt (what `{"action":"rebuild-rollups"}` runs)
    let rollups = DynamoDbRollupStore::new(stack.dynamodb.clone(), &stack.table);
    let rebuilt = rollups.rebuild_from_scan(4).await.expect("rebuild");
    // THEN the two legacy items moved to their event partition; the action again, then
    // another run, move none
    assert_eq!(rebuilt.moved_events, 2);
    let answer = aggregator
        .maintenance(&json!({"action": "rebuild-rollups"}))
        .await
        .expect("a maintenance action")
        .expect("rebuilt");
    assert_eq!(
        answer["rebuilt_rollup_slots"],
        json!(rebuilt.slots),
        "{answer}"
    );
    let again = rollups.rebuild_from_scan(4).await.expect("rebuild again");
    assert_eq!(
        (again.moved_events, again.slots),
        (0, rebuilt.slots),
        "idempotent"
    );
    let items = stack.scan().await;
    for item in items.iter().filter(|i| {
        matches!(
            text(i, "item_kind"),
            Some("consent_event") | Some("conversion")
        )
    }) {
        let at = num(item, "at").unwrap();
        assert_eq!(text(item, "time_bucket"), Some(event_bucket(at).as_str()));
    }

    // AND each is read exactly once in both modes, still without a marker partition when
    // the messages are not read
    let (read_without, queried) = read(&source, &log, false).await;
    assert_eq!(read_without, (2, 2, 0));
    assert!(all_start_with(&queried, EVENT_BUCKET_PREFIX), "{queried:?}");
    assert_eq!(read(&source, &log, true).await.0, (2, 2, 2));
    let (opt_out_consent, _) = source
        .opt_out_facts(T0 - 86_400, T0 + 86_400)
        .await
        .expect("opt-out facts");
    assert_eq!(opt_out_consent.len(), 2);
}
