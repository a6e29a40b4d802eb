//! The maintenance actions (`{"action": …}`): `rebuild`, `link`, `redrive` and
//! `rebuild-rollups`, with the same code as the `make` commands, and the message scan they
//! share.

use crate::handler::Aggregator;
use serde_json::{Value, json};
use shared::domain::activity::Direction;
use shared::ports::{
    IdentityStore, LeadActivity, LeadStore, PersonFactsStore, PersonHistory, RollupStore,
    ScannedMessage,
};
use std::collections::BTreeSet;

impl<S, I, R, F, H> Aggregator<S, I, R, F, H>
where
    S: LeadStore + LeadActivity,
    I: IdentityStore,
    R: RollupStore,
    F: PersonFactsStore,
    H: PersonHistory,
{
    /// A maintenance action, if `payload` names one (`None`: a stream batch):
    /// `{"action":"rebuild"}` rebuilds every marker; `{"action":"link","dry_run":bool,
    /// "start_segment":n}` links and merges the leads of people split across ids;
    /// `{"action":"redrive"}` does both after stream records were given up on (the dead-letter
    /// queue holds their positions); `{"action":"rebuild-rollups"}` recomputes every rollup
    /// slot and every person's facts from the message items, and moves consent events and
    /// conversions written before their event partitions to them (with the writers paused and
    /// the stream drained: RUNBOOK). Dry
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
            "rebuild-rollups" => self.rebuild_rollups(8).await,
            "replay" => Err(
                "replay is the replay function's: invoke it with {\"dry_run\": false, …}"
                    .to_string(),
            ),
            other => Err(format!(
                "unknown action {other:?}: rebuild, link, redrive or rebuild-rollups"
            )),
        })
    }

    /// Recomputes every rollup from the source of truth: the message slots from the message
    /// and conversion items, then every person's facts from their messages (each id any
    /// message names, after clearing the stored facts and sums).
    pub async fn rebuild_rollups(&self, total_segments: i32) -> Result<Value, String> {
        let slots = self
            .rollups
            .rebuild(total_segments)
            .await
            .map_err(|e| e.to_string())?;
        let mut ids: BTreeSet<String> = BTreeSet::new();
        self.each_page(0, total_segments, async |messages| {
            ids.extend(messages.into_iter().flat_map(|m| m.ids));
            Ok(())
        })
        .await?;
        let (cleared, people) =
            shared::facts::rebuild(&self.facts, &self.history, &self.identity, &ids)
                .await
                .map_err(|e| e.to_string())?;
        Ok(json!({
            "rebuilt_rollup_slots": slots,
            "cleared_fact_items": cleared,
            "recomputed_ids": people,
        }))
    }

    /// Every page of a parallel Scan over the message items, segment after segment from
    /// `first_segment`, handed to `visit`. Returns the items read.
    pub(crate) async fn each_page(
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
}
