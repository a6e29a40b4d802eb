use aggregator::handler::Aggregator;
use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

/// Stream batches (`Records`) are folded; `{"action": "rebuild"}` rebuilds every marker;
/// `{"action": "link", "dry_run": true|false, "start_segment": n}` links and merges the
/// leads of people already split across ids; `{"action": "redrive"}` does both after stream
/// records were given up on (the dead-letter queue holds their positions).
#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table =
        std::env::var("TABLE_NAME").map_err(|_| "missing environment variable TABLE_NAME")?;
    let sdk = shared::adapters::aws::load_sdk_config().await;
    let aggregator = Aggregator::from_sdk(&sdk, &table);
    let aggregator = &aggregator;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let (payload, context) = event.into_parts();
        match payload.get("action").and_then(Value::as_str) {
            Some("rebuild") => {
                let recorded = aggregator.rebuild(8).await?;
                return Ok::<_, Error>(json!({ "rebuilt_markers": recorded }));
            }
            Some("link") => {
                let dry_run = payload
                    .get("dry_run")
                    .and_then(Value::as_bool)
                    .unwrap_or(true);
                let start = payload
                    .get("start_segment")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let o = aggregator.link_all(8, start as i32, dry_run).await?;
                return Ok(json!({
                    "dry_run": dry_run,
                    "messages": o.messages,
                    "people": o.people,
                    "new_links": o.new_links,
                    "folded": o.folded,
                    "plan": o.plan,
                }));
            }
            Some("redrive") => {
                // What the stream would have done for records that never made it: every
                // marker and every identity link, from the message items (idempotent).
                let recorded = aggregator.rebuild(8).await?;
                let o = aggregator.link_all(8, 0, false).await?;
                return Ok(json!({
                    "rebuilt_markers": recorded,
                    "people": o.people,
                    "new_links": o.new_links,
                    "folded": o.folded,
                }));
            }
            Some(other) => {
                return Err(format!("unknown action {other:?}: rebuild, link or redrive").into());
            }
            None => {}
        }
        let batch: Event = serde_json::from_value(payload)?;
        let response = aggregator.handle(LambdaEvent::new(batch, context)).await;
        Ok(serde_json::to_value(response)?)
    }))
    .await
}
