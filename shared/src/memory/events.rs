//! [`MemoryEventStore`]: the [`EventStore`] port in memory, for handler tests without a
//! database.

use crate::domain::consent::ConsentAction;
use crate::domain::ingest::{WabaEventKind, Write, content_id};
use crate::domain::webhook::TemplateChange;
use crate::ports::{ApplyReport, EventStore, RejectedWrite, StoreError};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

/// Which record a write lands on: the identity DynamoDB's pk/sk give it
/// (`adapters::dynamodb::request`), without their spelling.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ItemKey {
    /// An outbound message, one per group participant when there is one (`MSG#…`/`OUT…`).
    Outbound {
        wamid: String,
        participant: Option<String>,
    },
    /// An inbound message (`MSG#…`/`IN`).
    Inbound { wamid: String },
    /// A lead's profile (`USER#…`/`PROFILE`).
    Lead { user_key: String },
    ConsentEvent {
        user_key: String,
        phone_number_id: String,
        at: i64,
        source: &'static str,
        id: String,
    },
    /// The current consent of one id for one number and category.
    ConsentState {
        user_key: String,
        phone_number_id: String,
        category: &'static str,
    },
    TemplateEvent {
        template_id: String,
        at: i64,
        change: &'static str,
        content: String,
    },
    /// A template's current state (`TPL#…`/`STATE`).
    Template { template_id: String },
    /// A WABA-level event: a system error, an account event or an automatic event.
    WabaEvent {
        waba_id: String,
        kind: &'static str,
        field: String,
        at: i64,
        content: String,
    },
    /// An item kept raw because it is not modelled.
    Kept {
        waba_id: String,
        kind: String,
        content: String,
    },
}

impl ItemKey {
    /// The item's kind, as counted by [`MemoryEventStore::items_by_kind`]: `outbound`,
    /// `inbound`, `lead`, `consent_event`, `consent_state`, `template_event`, `template`,
    /// `waba_event`, `kept`.
    pub fn kind(&self) -> &'static str {
        match self {
            ItemKey::Outbound { .. } => "outbound",
            ItemKey::Inbound { .. } => "inbound",
            ItemKey::Lead { .. } => "lead",
            ItemKey::ConsentEvent { .. } => "consent_event",
            ItemKey::ConsentState { .. } => "consent_state",
            ItemKey::TemplateEvent { .. } => "template_event",
            ItemKey::Template { .. } => "template",
            ItemKey::WabaEvent { .. } => "waba_event",
            ItemKey::Kept { .. } => "kept",
        }
    }
}

/// What the conditions of the writes read, per item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredItem {
    /// Times by attribute: each status's first-seen time (`sent_at`, `delivered_at`, …) and
    /// the forward-only clocks (`created_at`, `last_inbound_at`, `first_touch_at`,
    /// `number_changed_at`, `changed_at`, `status_at`, `quality_at`, `category_at`,
    /// `pending_category_at`, `at` for write-once items).
    pub times: BTreeMap<&'static str, i64>,
    /// A consent state's current value (`opt_in` / `opt_out`).
    pub consent: Option<&'static str>,
}

#[derive(Debug, Default)]
struct State {
    items: BTreeMap<ItemKey, StoredItem>,
    unavailable: bool,
    rejected_kinds: BTreeSet<&'static str>,
    applied: usize,
    unchanged: usize,
    /// Each lead's creating message (`first_inbound_wamid`): the earliest one so far.
    first_inbound: BTreeMap<String, String>,
}

/// The event store in memory, with the conditions the DynamoDB one promises: each write is
/// applied at most once, a duplicate (or a superseded write) changes nothing and is counted
/// `unchanged`, and what moves forward only moves forward:
/// - a status records its state's first-seen time once per message (and group participant);
/// - messages, consent events, template events, WABA events and kept items are written once;
/// - a lead's `created_at` and first touch converge to the earliest message, its latest
///   inbound time and number change only move forward, and a number change needs the lead;
/// - a consent state moves forward in time, an opt-out winning a same-second tie;
/// - a template's status, quality and (pending) category each move forward on their own time.
///
/// Clones share one store, so a test keeps a clone to look at what the handler wrote.
///
/// Every lead write whose message created the lead (the write landed, or the lead's earliest
/// message is this one) is reported in [`ApplyReport::unowned_leads`]; owners are not kept
/// here (the owner assignment's store, `memory::assignment`, keeps them), so a lead that has
/// one is reported too and its assignment then changes nothing.
///
/// Not modelled: the attribute values themselves (pricing, raw JSON, profile fields, the
/// derived status), raw parts too large for an
/// item (the S3 overflow), DynamoDB's 400 KB item limit and its per-write refusals (inject
/// them with [`reject_kind`](Self::reject_kind)), write concurrency (writes apply in plan
/// order, so two writes of one body to one item may be counted differently from DynamoDB,
/// for the same end state), and a partial apply:
/// an unavailable store ([`set_unavailable`](Self::set_unavailable)) fails before any write,
/// where DynamoDB may have applied some writes before the first failure.
#[derive(Debug, Clone, Default)]
pub struct MemoryEventStore {
    state: Arc<Mutex<State>>,
}

impl MemoryEventStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// While `true`, every [`apply`](EventStore::apply) fails with
    /// [`StoreError::Unavailable`] and writes nothing (a throttled or unreachable table).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.state().unavailable = unavailable;
    }

    /// Refuses every later write of this kind ([`Write::kind`]) for its data, as DynamoDB
    /// refuses an item over its size limit; the other writes of the plan are still applied.
    pub fn reject_kind(&self, kind: &'static str) {
        self.state().rejected_kinds.insert(kind);
    }

    /// Every stored item (tests compare snapshots before and after a duplicate).
    pub fn snapshot(&self) -> BTreeMap<ItemKey, StoredItem> {
        self.state().items.clone()
    }

    pub fn get(&self, key: &ItemKey) -> Option<StoredItem> {
        self.state().items.get(key).cloned()
    }

    /// Number of stored items per [`ItemKey::kind`].
    pub fn items_by_kind(&self) -> BTreeMap<&'static str, usize> {
        let mut kinds = BTreeMap::new();
        for key in self.state().items.keys() {
            *kinds.entry(key.kind()).or_default() += 1;
        }
        kinds
    }

    pub fn len(&self) -> usize {
        self.state().items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes applied and writes found unchanged, over every `apply` so far.
    pub fn totals(&self) -> (usize, usize) {
        let state = self.state();
        (state.applied, state.unchanged)
    }
}

impl EventStore for MemoryEventStore {
    async fn apply(&self, writes: &[Write<'_>]) -> Result<ApplyReport, StoreError> {
        let mut state = self.state();
        if state.unavailable {
            return Err(StoreError::Unavailable(
                "the in-memory store is set unavailable".into(),
            ));
        }
        let mut report = ApplyReport::default();
        for (index, write) in writes.iter().enumerate() {
            if state.rejected_kinds.contains(write.kind()) {
                report.rejected.push(RejectedWrite {
                    index,
                    kind: write.kind(),
                    reason: "refused by the in-memory store (reject_kind)".into(),
                });
                continue;
            }
            let changed = apply_one(&mut state.items, write);
            if let Write::Lead { msg, user_key, .. } = write {
                let wamid: &str = msg.wamid.as_ref();
                let creating = if changed {
                    state
                        .first_inbound
                        .insert(user_key.to_string(), wamid.to_string());
                    true
                } else {
                    state.first_inbound.get(*user_key).map(String::as_str) == Some(wamid)
                };
                if creating {
                    report.unowned_leads.push(index);
                }
            }
            if changed {
                report.applied += 1;
            } else {
                report.unchanged += 1;
            }
        }
        state.applied += report.applied;
        state.unchanged += report.unchanged;
        Ok(report)
    }
}

/// Applies one write if its condition holds; `false` when it changes nothing.
fn apply_one(items: &mut BTreeMap<ItemKey, StoredItem>, write: &Write<'_>) -> bool {
    match write {
        Write::Status { status, .. } => {
            let key = ItemKey::Outbound {
                wamid: status.wamid.to_string(),
                participant: status.group_participant.as_ref().map(|p| p.to_string()),
            };
            let item = items.entry(key).or_default();
            once(item, status.status.time_attribute(), status.timestamp)
        }
        Write::Inbound { msg, .. } => put_once(
            items,
            ItemKey::Inbound {
                wamid: msg.wamid.to_string(),
            },
            msg.timestamp,
        ),
        Write::Lead { msg, user_key, .. } => {
            earliest(lead(items, user_key), "created_at", msg.timestamp)
        }
        Write::LeadActivity { msg, user_key } => {
            latest(lead(items, user_key), "last_inbound_at", msg.timestamp)
        }
        Write::LeadFirstTouch { msg, user_key } => {
            earliest(lead(items, user_key), "first_touch_at", msg.timestamp)
        }
        Write::LeadNumberChange { msg, user_key } => {
            // Only on an existing lead (`attribute_exists(pk)`).
            let key = ItemKey::Lead {
                user_key: user_key.to_string(),
            };
            match items.get_mut(&key) {
                Some(item) => latest(item, "number_changed_at", msg.timestamp),
                None => false,
            }
        }
        Write::ConsentEvent(signal) => put_once(
            items,
            ItemKey::ConsentEvent {
                user_key: signal.user_key.to_string(),
                phone_number_id: signal.phone_number_id.to_string(),
                at: signal.at,
                source: signal.source.as_str(),
                id: signal.id.clone(),
            },
            signal.at,
        ),
        Write::ConsentState {
            signal,
            category,
            user_key,
        } => {
            let item = items
                .entry(ItemKey::ConsentState {
                    user_key: user_key.to_string(),
                    phone_number_id: signal.phone_number_id.to_string(),
                    category,
                })
                .or_default();
            // `domain::identity::consent_state_condition`.
            let changed_at = item.times.get("changed_at").copied();
            let moves = match changed_at {
                None => true,
                Some(t) if t < signal.at => true,
                Some(t) => {
                    t == signal.at
                        && signal.action == ConsentAction::OptOut
                        && item.consent == Some(ConsentAction::OptIn.as_str())
                }
            };
            if moves {
                item.times.insert("changed_at", signal.at);
                item.consent = Some(signal.action.as_str());
            }
            moves
        }
        Write::TemplateEvent {
            event, template, ..
        } => put_once(
            items,
            ItemKey::TemplateEvent {
                template_id: template.template_id.to_string(),
                at: template.at,
                change: template.change.as_str(),
                content: content_id(event.raw_json()),
            },
            template.at,
        ),
        Write::TemplateState { template, .. } => {
            let aspect = match (template.change, template.impending) {
                (TemplateChange::Status, _) => "status_at",
                (TemplateChange::Quality, _) => "quality_at",
                (TemplateChange::Category, false) => "category_at",
                (TemplateChange::Category, true) => "pending_category_at",
            };
            let item = items
                .entry(ItemKey::Template {
                    template_id: template.template_id.to_string(),
                })
                .or_default();
            latest(item, aspect, template.at)
        }
        Write::WabaEvent { ctx, event, kind } => {
            let content = content_id(event.raw_json());
            let (kind, field, at) = match kind {
                WabaEventKind::SystemError(_) => {
                    ("system_error", String::new(), ctx.entry_time.unwrap_or(0))
                }
                WabaEventKind::Account(a) => ("account", a.field.to_string(), a.at),
                // The wamid, when there is one, is in the content.
                WabaEventKind::Automatic(a) => (
                    "automatic",
                    a.event_name.as_deref().unwrap_or("unknown").to_string(),
                    0,
                ),
            };
            let key = ItemKey::WabaEvent {
                waba_id: ctx.waba_id.to_string(),
                kind,
                field,
                at,
                content,
            };
            put_once(items, key, ctx.entry_time.unwrap_or(0))
        }
        Write::Kept {
            ctx, event, kind, ..
        } => put_once(
            items,
            ItemKey::Kept {
                waba_id: ctx.waba_id.to_string(),
                kind: kind.to_string(),
                content: content_id(event.raw_json()),
            },
            ctx.entry_time.unwrap_or(0),
        ),
    }
}

fn lead<'m>(items: &'m mut BTreeMap<ItemKey, StoredItem>, user_key: &str) -> &'m mut StoredItem {
    items
        .entry(ItemKey::Lead {
            user_key: user_key.to_string(),
        })
        .or_default()
}

/// A write-once item (`attribute_not_exists(pk)`).
fn put_once(items: &mut BTreeMap<ItemKey, StoredItem>, key: ItemKey, at: i64) -> bool {
    if items.contains_key(&key) {
        return false;
    }
    let mut item = StoredItem::default();
    item.times.insert("at", at);
    items.insert(key, item);
    true
}

/// `attribute_not_exists(<attr>)`.
fn once(item: &mut StoredItem, attr: &'static str, at: i64) -> bool {
    if item.times.contains_key(attr) {
        return false;
    }
    item.times.insert(attr, at);
    true
}

/// `attribute_not_exists(<attr>) OR <attr> > :at`.
fn earliest(item: &mut StoredItem, attr: &'static str, at: i64) -> bool {
    match item.times.get(attr) {
        Some(&t) if t <= at => false,
        _ => {
            item.times.insert(attr, at);
            true
        }
    }
}

/// `attribute_not_exists(<attr>) OR <attr> < :at`.
fn latest(item: &mut StoredItem, attr: &'static str, at: i64) -> bool {
    match item.times.get(attr) {
        Some(&t) if t >= at => false,
        _ => {
            item.times.insert(attr, at);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::consent::ConsentKeywords;
    use crate::domain::ingest::plan;
    use crate::domain::webhook::parse;

    fn envelope(changes: &str) -> String {
        format!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1001","changes":[{changes}]}}]}}"#
        )
    }

    fn messages(value: &str) -> String {
        format!(
            r#"{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550001111","phone_number_id":"2002"}},{value}}}}}"#
        )
    }

    fn status(wamid: &str, status: &str, at: i64) -> String {
        messages(&format!(
            r#""statuses":[{{"id":"{wamid}","status":"{status}","timestamp":"{at}","recipient_id":"6281234567"}}]"#
        ))
    }

    fn inbound(wamid: &str, text: &str, at: i64) -> String {
        messages(&format!(
            r#""contacts":[{{"profile":{{"name":"Dewi"}},"wa_id":"6281234567"}}],"messages":[{{"from":"6281234567","id":"{wamid}","timestamp":"{at}","type":"text","text":{{"body":"{text}"}}}}]"#
        ))
    }

    async fn apply(store: &MemoryEventStore, body: &str) -> ApplyReport {
        let batch = parse(body.as_bytes()).expect("a webhook body");
        let plan = plan(&batch, &ConsentKeywords::default());
        store.apply(&plan.writes).await.expect("available")
    }

    #[tokio::test]
    async fn a_duplicate_changes_nothing() {
        let store = MemoryEventStore::new();
        let body = envelope(&[status("w1", "sent", 100), inbound("w2", "STOP", 110)].join(","));
        let first = apply(&store, &body).await;
        assert!(first.applied > 0 && first.unchanged == 0, "{first:?}");
        let before = store.snapshot();
        let again = apply(&store, &body).await;
        assert_eq!((again.applied, again.unchanged), (0, first.applied));
        assert_eq!(store.snapshot(), before);
        assert_eq!(
            store.items_by_kind(),
            BTreeMap::from([
                ("consent_event", 1),
                ("consent_state", 2),
                ("inbound", 1),
                ("lead", 1),
                ("outbound", 1),
            ])
        );
    }

    #[tokio::test]
    async fn statuses_record_each_state_once_in_any_order() {
        let store = MemoryEventStore::new();
        apply(&store, &envelope(&status("w1", "read", 300))).await;
        apply(&store, &envelope(&status("w1", "sent", 100))).await;
        let late = apply(&store, &envelope(&status("w1", "read", 400))).await;
        assert_eq!((late.applied, late.unchanged), (0, 1));
        let item = store
            .get(&ItemKey::Outbound {
                wamid: "w1".into(),
                participant: None,
            })
            .expect("stored");
        assert_eq!(
            item.times,
            BTreeMap::from([("read_at", 300), ("sent_at", 100)])
        );
    }

    #[tokio::test]
    async fn a_lead_converges_to_its_earliest_and_latest_messages() {
        let store = MemoryEventStore::new();
        apply(&store, &envelope(&inbound("w2", "hi", 200))).await;
        apply(&store, &envelope(&inbound("w1", "earlier", 100))).await;
        let lead = store
            .get(&ItemKey::Lead {
                user_key: "6281234567".into(),
            })
            .expect("stored");
        assert_eq!(lead.times["created_at"], 100);
        assert_eq!(lead.times["last_inbound_at"], 200);
    }

    #[tokio::test]
    async fn the_creating_message_reports_its_lead_for_assignment_each_delivery() {
        let store = MemoryEventStore::new();
        let first = envelope(&inbound("w1", "hi", 100));
        let lead_write = |r: &ApplyReport| r.unowned_leads.len();
        assert_eq!(lead_write(&apply(&store, &first).await), 1);
        assert_eq!(
            lead_write(&apply(&store, &first).await),
            1,
            "a redelivery of the creating message reports it again (its assignment may have failed)"
        );
        let later = apply(&store, &envelope(&inbound("w2", "again", 200))).await;
        assert!(
            later.unowned_leads.is_empty(),
            "a later message created nothing"
        );
    }

    #[tokio::test]
    async fn an_opt_out_wins_a_same_second_tie_and_an_older_signal_changes_nothing() {
        let store = MemoryEventStore::new();
        apply(&store, &envelope(&inbound("w1", "START", 100))).await;
        apply(&store, &envelope(&inbound("w2", "STOP", 100))).await;
        apply(&store, &envelope(&inbound("w3", "START", 90))).await;
        let state = store
            .get(&ItemKey::ConsentState {
                user_key: "6281234567".into(),
                phone_number_id: "2002".into(),
                category: "marketing",
            })
            .expect("stored");
        assert_eq!(state.consent, Some("opt_out"));
        assert_eq!(state.times["changed_at"], 100);
    }

    #[tokio::test]
    async fn unavailable_writes_nothing_and_rejected_kinds_are_named() {
        let store = MemoryEventStore::new();
        let body = envelope(&inbound("w1", "hi", 100));
        let batch = parse(body.as_bytes()).unwrap();
        let plan = plan(&batch, &ConsentKeywords::default());
        store.set_unavailable(true);
        assert!(matches!(
            store.apply(&plan.writes).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(store.is_empty());
        store.set_unavailable(false);
        store.reject_kind("inbound");
        let report = store.apply(&plan.writes).await.unwrap();
        assert_eq!(report.rejected.len(), 1);
        assert_eq!(report.rejected[0].kind, "inbound");
        assert_eq!(store.items_by_kind(), BTreeMap::from([("lead", 1)]));
    }
}
