//! DynamoDB Streams → per-lead message activity and identity. Each inbound message and each
//! one-to-one outbound message becomes a marker in its lead's partition
//! (`shared::domain::activity`), written idempotently (the earliest time wins), so a retried or
//! re-ordered batch converges to the same markers. A message that names its person by more
//! than one id (phone and business-scoped id, a number change) links them
//! (`shared::domain::identity`) and folds their leads into one. Failures are reported per
//! record (`ReportBatchItemFailures`): Lambda retries from the first failed record, and
//! records before it are not redone.
//!
//! It also runs the maintenance actions (`{"action": …}`, [`Aggregator::maintenance`]):
//! `rebuild`, `link` and `redrive`, with the same code as the `make` commands. Replaying the
//! webhook's kept bodies is the `replay` function's (it needs the webhook's writes).

use aws_lambda_events::event::dynamodb::{EventRecord, TimeWindowEvent, TimeWindowEventResponse};
use aws_lambda_events::event::streams::DynamoDbBatchItemFailure;
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use shared::adapters::dynamodb::identity::DynamoDbIdentityStore;
use shared::adapters::dynamodb::leads::DynamoDbLeadStore;
use shared::adapters::dynamodb::rollups::{DynamoDbRollupStore, tally_of_item};
use shared::domain::activity::{Activity, Direction, activity_change, activity_of};
use shared::domain::identity::{IdentityMap, Person, ids_of_message};
use shared::ports::{
    IdentityStore, LeadActivity, LeadStore, LeadsError, RollupStore, ScannedMessage,
};
use shared::rollups::{RecordChange, RollupError, fold_batch};
use std::collections::BTreeSet;

/// The aggregator over the lead ports `S`, the identity store `I` and the rollup store `R`
/// (the defaults are the deployed DynamoDB adapters).
pub struct Aggregator<S = DynamoDbLeadStore, I = DynamoDbIdentityStore, R = DynamoDbRollupStore> {
    store: S,
    identity: I,
    rollups: R,
    /// Tenancy facts this instance already wrote (`lead|<id>|<waba>`, `phone|<id>|<waba>`):
    /// the writes are idempotent, so this only saves repeating them on a warm instance.
    filed: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// Entries kept in [`Aggregator::filed`] before it starts over.
const FILED_CAPACITY: usize = 100_000;

/// What the link command found or did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LinkOutcome {
    /// Message items read.
    pub messages: u64,
    /// People known by more than one id.
    pub people: u64,
    /// Links that were not recorded yet (written, or that a dry run would write).
    pub new_links: u64,
    /// Profiles folded into their person's lead.
    pub folded: u64,
    /// For a dry run: each person that would be linked, as `lead id <- other ids`.
    pub plan: Vec<String>,
}

/// A string or number attribute of a stream image, as text.
fn attr(item: &serde_dynamo::Item, name: &str) -> Option<String> {
    match item.get(name)? {
        serde_dynamo::AttributeValue::S(s) | serde_dynamo::AttributeValue::N(s) => Some(s.clone()),
        _ => None,
    }
}

impl Aggregator {
    /// Cold start: the DynamoDB adapters over `table`.
    pub fn from_sdk(sdk: &aws_config::SdkConfig, table: &str) -> Self {
        Self::over(shared::adapters::aws::dynamodb_client(sdk, None), table)
    }

    /// The DynamoDB adapters over one client and table.
    pub fn over(client: aws_sdk_dynamodb::Client, table: &str) -> Self {
        let store = DynamoDbLeadStore::new(client.clone(), table);
        let identity = store.identity().clone();
        Self::from_ports(store, identity, DynamoDbRollupStore::new(client, table))
    }
}

impl<S: LeadStore + LeadActivity, I: IdentityStore, R: RollupStore> Aggregator<S, I, R> {
    pub fn from_ports(store: S, identity: I, rollups: R) -> Self {
        Self {
            store,
            identity,
            rollups,
            filed: Default::default(),
        }
    }

    fn already_filed(&self, fact: &str) -> bool {
        let filed = self.filed.lock().unwrap_or_else(|e| e.into_inner());
        filed.contains(fact)
    }

    fn remember_filed(&self, fact: String) {
        let mut filed = self.filed.lock().unwrap_or_else(|e| e.into_inner());
        if filed.len() >= FILED_CAPACITY {
            filed.clear();
        }
        filed.insert(fact);
    }

    /// Who may see what the message stands for: an inbound message files its sender's
    /// lead under the message's WABA, and any message records its business number's WABA
    /// (`shared::domain::access`). Idempotent set and put writes, skipped when this
    /// instance already made them (remembered only once written).
    async fn file_tenancy(&self, a: &Activity) -> Result<(), LeadsError> {
        let Some(waba) = a.waba_id.as_deref() else {
            return Ok(());
        };
        if a.direction == Direction::Inbound {
            let fact = format!("lead|{}|{waba}", a.user_key);
            if !self.already_filed(&fact) {
                self.store.record_lead_waba(&a.user_key, waba).await?;
                self.remember_filed(fact);
            }
        }
        if let Some(phone) = a.phone_number_id.as_deref() {
            let fact = format!("phone|{phone}|{waba}");
            if !self.already_filed(&fact) {
                self.store.record_phone_waba(phone, waba).await?;
                self.remember_filed(fact);
            }
        }
        Ok(())
    }

    /// A maintenance action, if `payload` names one (`None`: a stream batch):
    /// `{"action":"rebuild"}` rebuilds every marker; `{"action":"link","dry_run":bool,
    /// "start_segment":n}` links and merges the leads of people split across ids;
    /// `{"action":"redrive"}` does both after stream records were given up on (the dead-letter
    /// queue holds their positions); `{"action":"rebuild-rollups"}` recomputes every rollup
    /// slot from the message items (with the writers paused and the stream drained: RUNBOOK). Dry
    /// runs are the default for `link`: `"dry_run": false` writes.
    pub async fn maintenance(&self, payload: &Value) -> Option<Result<Value, String>> {
        let action = payload.get("action")?.as_str().unwrap_or_default();
        let dry_run = payload
            .get("dry_run")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        Some(match action {
            "rebuild" => self
                .rebuild(8)
                .await
                .map(|recorded| json!({ "rebuilt_markers": recorded })),
            "link" => {
                let start = payload
                    .get("start_segment")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                self.link_all(8, start as i32, dry_run).await.map(|o| {
                    json!({
                        "dry_run": dry_run,
                        "messages": o.messages,
                        "people": o.people,
                        "new_links": o.new_links,
                        "folded": o.folded,
                        "plan": o.plan,
                    })
                })
            }
            // What the stream would have done for records that never made it: every marker and
            // every identity link, from the message items (idempotent).
            "redrive" => match self.rebuild(8).await {
                Ok(recorded) => self.link_all(8, 0, false).await.map(|o| {
                    json!({
                        "rebuilt_markers": recorded,
                        "people": o.people,
                        "new_links": o.new_links,
                        "folded": o.folded,
                    })
                }),
                Err(e) => Err(e),
            },
            "rebuild-rollups" => self
                .rollups
                .rebuild(8)
                .await
                .map(|slots| json!({ "rebuilt_rollup_slots": slots }))
                .map_err(|e| e.to_string()),
            "replay" => Err(
                "replay is the replay function's: invoke it with {\"dry_run\": false, …}"
                    .to_string(),
            ),
            other => Err(format!(
                "unknown action {other:?}: rebuild, link, redrive or rebuild-rollups"
            )),
        })
    }

    /// Links the ids one message names and folds the person's leads into one: for a message
    /// naming several ids, or an inbound message under an id that is not its person's lead id
    /// (a late message by phone from someone now known by business-scoped id). `sender` is
    /// the lead key of an inbound message, `None` for outbound.
    async fn link(&self, ids: BTreeSet<String>, sender: Option<&str>) -> Result<(), LeadsError> {
        let person = match (ids.len(), sender) {
            (2.., _) => self.identity.link(&ids).await?.0,
            (1, Some(id)) => self.identity.person(id).await?,
            _ => return Ok(()),
        };
        let stray = sender.is_some_and(|id| id != person.lead_id());
        // Not only when the link is new: a batch that died between the link and the merge is
        // retried with the link already recorded, and its merge must still happen. A merge
        // that is done costs one read per other id and writes nothing.
        if person.ids.len() > 1 && (stray || ids.len() > 1) {
            self.identity.merge(&person, stray).await?;
        }
        Ok(())
    }

    /// Every page of a parallel Scan over the message items, segment after segment from
    /// `first_segment`, handed to `visit`. Returns the items read.
    async fn each_page(
        &self,
        first_segment: i32,
        total_segments: i32,
        mut visit: impl AsyncFnMut(Vec<ScannedMessage>) -> Result<(), String>,
    ) -> Result<u64, String> {
        let total_segments = total_segments.clamp(1, 64);
        let mut read = 0u64;
        for segment in first_segment.max(0)..total_segments {
            let mut start = None;
            loop {
                let (messages, next) = self
                    .store
                    .scan_messages(segment, total_segments, start)
                    .await
                    .map_err(|e| e.to_string())?;
                read += messages.len() as u64;
                visit(messages).await?;
                match next {
                    Some(k) => start = Some(k),
                    None => break,
                }
            }
            tracing::info!(segment, total_segments, "message scan: segment done");
        }
        Ok(read)
    }

    /// Links every person the message items name and folds split leads into one: for a table
    /// written before identity links existed (or after an outage longer than the stream's 24
    /// hours). Idempotent, so a crashed run is resumed by running it again (from
    /// `start_segment` to skip finished segments). A dry run writes nothing and lists what it
    /// would link.
    pub async fn link_all(
        &self,
        total_segments: i32,
        start_segment: i32,
        dry_run: bool,
    ) -> Result<LinkOutcome, String> {
        let mut outcome = LinkOutcome::default();
        // One entry per distinct id set (a person's every message names the same few).
        let mut sets: BTreeSet<Vec<String>> = BTreeSet::new();
        outcome.messages = self
            .each_page(start_segment, total_segments, async |messages| {
                sets.extend(
                    messages
                        .into_iter()
                        .filter(|m| m.ids.len() >= 2)
                        .map(|m| m.ids.into_iter().collect()),
                );
                Ok(())
            })
            .await?;
        let map = IdentityMap::from_sets(sets);
        let people: Vec<&[String]> = map.people().collect();
        outcome.people = people.len() as u64;
        for ids in people {
            let found = Person {
                ids: ids.iter().cloned().collect(),
            };
            let known = self
                .identity
                .person(found.lead_id())
                .await
                .map_err(|e| e.to_string())?;
            let new = !found.ids.is_subset(&known.ids);
            outcome.new_links += u64::from(new);
            if dry_run {
                if new {
                    let others: Vec<&str> = found.others().collect();
                    outcome
                        .plan
                        .push(format!("{} <- {}", found.lead_id(), others.join(", ")));
                }
                continue;
            }
            let (person, _) = self
                .identity
                .link(&found.ids)
                .await
                .map_err(|e| e.to_string())?;
            outcome.folded += self
                .identity
                .merge(&person, true)
                .await
                .map_err(|e| e.to_string())? as u64;
        }
        tracing::info!(
            messages = outcome.messages,
            people = outcome.people,
            new_links = outcome.new_links,
            folded = outcome.folded,
            dry_run,
            "identity links made whole"
        );
        Ok(outcome)
    }

    /// Rebuilds every lead marker (the reports' time index) from the message items: the
    /// stream keeps only 24 hours, so this is how markers lost to an outage, or written
    /// before a marker attribute or the message counters existed, are made whole; an
    /// outbound message's marker left under the recipient's other id (the phone, once the
    /// message names their BSUID) is removed, as the stream does. Idempotent (earliest time
    /// wins, a marker is counted once), so it can run beside live traffic and be repeated.
    /// Returns the markers recorded.
    pub async fn rebuild(&self, total_segments: i32) -> Result<u64, String> {
        let mut recorded = 0u64;
        self.each_page(0, total_segments, async |messages| {
            for m in messages {
                let Some(a) = m.activity.as_ref() else {
                    continue;
                };
                self.store
                    .record_activity(a)
                    .await
                    .map_err(|e| e.to_string())?;
                if a.direction == Direction::Outbound {
                    for stray in m.ids.iter().filter(|id| **id != a.user_key) {
                        self.store
                            .forget_activity(stray, a.direction, &a.wamid)
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                }
                self.file_tenancy(a).await.map_err(|e| e.to_string())?;
                recorded += 1;
            }
            Ok(())
        })
        .await?;
        tracing::info!(recorded, "lead markers rebuilt from the message items");
        Ok(recorded)
    }

    /// One stream record: the lead marker of its message (moved when its person's id
    /// changed) and the identity links it carries.
    async fn fold(
        &self,
        change: &aws_lambda_events::event::dynamodb::StreamRecord,
    ) -> Result<(), LeadsError> {
        let old = |k: &str| attr(&change.old_image, k);
        let new = |k: &str| attr(&change.new_image, k);
        if let Some(activity) = activity_change(old, new) {
            self.store.record_activity(&activity).await?;
            self.file_tenancy(&activity).await?;
            if let Some(before) = activity_of(old)
                && before.direction == Direction::Outbound
                && before.user_key != activity.user_key
            {
                self.store
                    .forget_activity(&before.user_key, before.direction, &before.wamid)
                    .await?;
            }
        }
        let sk = new("sk").unwrap_or_default();
        // Inbound items are written once: their insert is the only record that matters.
        if sk == "IN" && !change.old_image.is_empty() {
            return Ok(());
        }
        let sender = (sk == "IN").then(|| new("user_key")).flatten();
        self.link(ids_of_message(&sk, new), sender.as_deref()).await
    }

    /// Processes a batch: first its rollup deltas (one guarded update per slot), then each
    /// record in order. On a failure, reports the first record not done and every later one,
    /// so Lambda retries from there; what was done before is skipped on the retry (markers
    /// are idempotent, rollup slots are guarded).
    pub async fn handle(&self, event: LambdaEvent<TimeWindowEvent>) -> TimeWindowEventResponse {
        let mut response = TimeWindowEventResponse::default();
        let records = &event.payload.dynamo_db_event.records;
        let shard = event.payload.time_window_properties.shard_id.as_deref();
        let changes: Vec<RecordChange> = records.iter().map(rollup_change).collect();
        let mut stop = records.len();
        match fold_batch(&self.rollups, shard, &changes).await {
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "rollups not updated; the batch is retried from the first record not taken");
                stop = match &e {
                    RollupError::Unguarded(_) => 0,
                    RollupError::Store { sequence, .. } => records
                        .iter()
                        .position(|r| {
                            r.change.sequence_number.as_deref() == Some(sequence.as_str())
                        })
                        .unwrap_or(0),
                };
            }
        }
        let mut recorded = 0usize;
        for record in &records[..stop] {
            if let Err(e) = self.fold(&record.change).await {
                tracing::error!(error = %e, "lead activity not recorded; the batch is retried from here");
                break;
            }
            recorded += 1;
        }
        if recorded < records.len() {
            shared::telemetry::emit_metrics(
                "aggregator",
                &[],
                &[("FailedRecords", (records.len() - recorded) as f64, "Count")],
            );
            for failed in &records[recorded..] {
                let mut f = DynamoDbBatchItemFailure::default();
                f.item_identifier = failed.change.sequence_number.clone();
                response.batch_item_failures.push(f);
            }
            return response;
        }
        tracing::info!(records = records.len(), recorded, "stream batch folded");
        shared::telemetry::emit_metrics(
            "aggregator",
            &[],
            &[("Records", records.len() as f64, "Count")],
        );
        response
    }
}

/// A record's move in the rollups: its message's tally before and after. A removal is not a
/// move (an expired or erased item still happened).
fn rollup_change(record: &EventRecord) -> RecordChange {
    let tally = |image: &serde_dynamo::Item| -> Option<shared::domain::metrics::tally::Tally> {
        if image.is_empty() {
            return None;
        }
        let attrs: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
            image
                .clone()
                .into_inner()
                .into_iter()
                .map(|(k, v)| (k, v.into()))
                .collect();
        tally_of_item(&attrs)
    };
    let change = &record.change;
    let removed = record.event_name == "REMOVE";
    RecordChange {
        sequence: change.sequence_number.clone().unwrap_or_default(),
        before: if removed {
            None
        } else {
            tally(&change.old_image)
        },
        after: if removed {
            None
        } else {
            tally(&change.new_image)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With tumbling windows on, Lambda treats an answer without `state` as a failed
    /// invocation: the (empty) state must always be there, beside the failures.
    #[test]
    fn the_answer_carries_the_window_state() {
        let mut response = TimeWindowEventResponse::default();
        let mut f = DynamoDbBatchItemFailure::default();
        f.item_identifier = Some("42".to_string());
        response.batch_item_failures.push(f);
        let v = serde_json::to_value(&response).expect("serializes");
        assert_eq!(v["state"], json!({}));
        assert_eq!(v["batchItemFailures"][0]["itemIdentifier"], "42");
    }

    /// A record's rollup change comes from its images; a removal moves nothing.
    #[test]
    fn records_become_tally_moves() {
        let record = |name: &str| -> EventRecord {
            serde_json::from_value(json!({
                "eventID": "1",
                "eventName": name,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "eu-west-1",
                "eventSourceARN": "arn:aws:dynamodb:eu-west-1:1:table/t/stream/x",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1795000000,
                    "Keys": {"pk": {"S": "MSG#wamid.1"}, "sk": {"S": "IN"}},
                    "SequenceNumber": "111000000000000000001",
                    "SizeBytes": 120,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                    "OldImage": {},
                    "NewImage": {
                        "pk": {"S": "MSG#wamid.1"}, "sk": {"S": "IN"},
                        "user_key": {"S": "628100"}, "at": {"N": "1795000000"},
                        "phone_number_id": {"S": "P1"}, "waba_id": {"S": "W1"}
                    }
                }
            }))
            .expect("a record")
        };
        let insert = rollup_change(&record("INSERT"));
        assert_eq!(insert.sequence, "111000000000000000001");
        assert_eq!(insert.before, None);
        let after = insert.after.expect("an inbound tally");
        assert_eq!(after.at, 1_795_000_000);
        assert_eq!(after.cell.waba_id(), "W1");
        assert_eq!(after.counts.messages, 1);
        let removed = rollup_change(&record("REMOVE"));
        assert_eq!((removed.before, removed.after), (None, None));
    }
}
