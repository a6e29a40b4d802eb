//! `MemoryLeadStore`: the [`LeadStore`] and [`LeadActivity`] ports in memory, for handler
//! tests of the leads, lead-imports, conversions and aggregator functions without moto.
//! Same contract as `DynamoDbLeadStore`: optimistic versions, history per stage and owner
//! change, consent events recorded once and states that only move forward (an opt-out wins
//! a same-second tie), conversions once per idempotency key, jobs started once, markers
//! counted once (earliest time wins), list pages newest first with cursors it issued, each
//! timeline list cut to its latest [`TIMELINE_ENTRIES`]. Not modelled: identity links (a
//! person is the one id asked for; merges live in the identity store) and the list's
//! per-request work bound. Failures on demand ([`MemoryLeadStore::fail`]). Clones share one
//! store, so a test keeps a clone to look inside after handing one to the code under test.

use crate::domain::access::Access;
use crate::domain::activity::{Activity, Direction};
use crate::domain::capi::ForwardState;
use crate::domain::consent::ConsentAction;
use crate::domain::consent_check::{ConsentStatus, EntryPoint};
use crate::domain::identity::consent_supersedes;
use crate::domain::leads::jobs::ImportJob;
use crate::domain::leads::{
    Change, ConsentEventView, ConsentRecord, ConsentStateView, Conversion, FirstTouch,
    ImportCounts, ImportRow, LeadFilter, LeadPatch, LeadView, Lifecycle, MessageActivity,
    ORIGIN_IMPORT, TIMELINE_ENTRIES, Timeline, keep_latest, normalize_tags,
};
use crate::keys::{consent_event_sk, conversion_sk, history_sk};
use crate::ports::{
    ConsentFacts, LeadActivity, LeadStore, LeadsError, ScanCursor, ScannedMessage, StoreError,
};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

/// How the next calls fail ([`MemoryLeadStore::fail`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// [`StoreError::Unavailable`]: throttled, down, timed out.
    Unavailable,
    /// [`StoreError::Rejected`]: a request refused for its data.
    Rejected,
}

/// A profile as stored: a complete lead, or only the WABAs an id was filed under.
#[derive(Debug, Clone, Default)]
struct Profile {
    lead: Option<LeadView>,
    waba_ids: BTreeSet<String>,
    last_referral_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
struct HistoryItem {
    change: &'static str,
    entry: Change,
}

#[derive(Debug, Clone)]
struct StoredState {
    view: ConsentStateView,
    action: ConsentAction,
}

#[derive(Debug, Default)]
struct State {
    profiles: BTreeMap<String, Profile>,
    /// Per id, by history key.
    history: BTreeMap<String, BTreeMap<String, HistoryItem>>,
    /// Per id, by consent event key.
    consent_events: BTreeMap<String, BTreeMap<String, ConsentEventView>>,
    /// (id, number, category) → the current state.
    consent_states: BTreeMap<(String, String, String), StoredState>,
    /// (id, idempotency key) → the conversion and its request's fingerprint.
    conversions: BTreeMap<(String, String), (Conversion, String)>,
    jobs: BTreeMap<String, ImportJob>,
    phone_wabas: BTreeMap<String, String>,
    /// (id, direction, wamid) → the marker's time.
    markers: BTreeMap<(String, &'static str, String), i64>,
    /// The message items the maintenance scan reads.
    messages: Vec<ScannedMessage>,
    /// The next calls to fail, and how.
    failures: Vec<Failure>,
}

#[derive(Debug, Clone, Default)]
pub struct MemoryLeadStore {
    state: Arc<Mutex<State>>,
}

/// Message items a scan page holds at most.
const SCAN_PAGE: usize = 2;

fn secs(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or_default()
}

impl MemoryLeadStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock has failed already; keep reading.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next `times` calls (of any method) fail with `failure`.
    pub fn fail(&self, failure: Failure, times: usize) {
        self.lock()
            .failures
            .extend(std::iter::repeat_n(failure, times));
    }

    /// The state, or the failure asked for.
    fn open(&self) -> Result<MutexGuard<'_, State>, LeadsError> {
        let mut state = self.lock();
        if state.failures.is_empty() {
            return Ok(state);
        }
        Err(LeadsError::Store(match state.failures.remove(0) {
            Failure::Unavailable => StoreError::Unavailable("memory: unavailable on demand".into()),
            Failure::Rejected => StoreError::Rejected("memory: refused on demand".into()),
        }))
    }

    /// Stores a lead as the webhook's first write would (any earlier filing kept).
    pub fn put_lead(&self, lead: LeadView) {
        let mut state = self.lock();
        let profile = state.profiles.entry(lead.lead_id.clone()).or_default();
        profile.waba_ids.extend(lead.waba_id.iter().cloned());
        profile.waba_ids.extend(lead.waba_ids.iter().cloned());
        profile.lead = Some(lead);
    }

    /// Records a Click-to-WhatsApp referral on a lead (the webhook's `last_referral_at`).
    pub fn set_last_referral(&self, lead_id: &str, at: DateTime<Utc>) {
        let mut state = self.lock();
        let profile = state.profiles.entry(lead_id.to_string()).or_default();
        profile.last_referral_at = Some(secs(at));
        if let Some(lead) = &mut profile.lead {
            lead.last_inbound_at = Some(secs(at));
        }
    }

    /// Adds message items for the maintenance scan to read.
    pub fn add_messages(&self, messages: impl IntoIterator<Item = ScannedMessage>) {
        self.lock().messages.extend(messages);
    }

    /// The lead as stored under `lead_id` (complete leads only).
    pub fn stored(&self, lead_id: &str) -> Option<LeadView> {
        self.lock().profiles.get(lead_id)?.lead.clone()
    }

    /// The WABAs an id is filed under (its profile's `waba_ids`).
    pub fn filed_under(&self, id: &str) -> BTreeSet<String> {
        self.lock()
            .profiles
            .get(id)
            .map(|p| p.waba_ids.clone())
            .unwrap_or_default()
    }

    /// An id's message markers of `direction`: wamid → time.
    pub fn markers(&self, id: &str, direction: Direction) -> BTreeMap<String, i64> {
        self.lock()
            .markers
            .iter()
            .filter(|((i, d, _), _)| i == id && *d == direction.as_str())
            .map(|((_, _, w), at)| (w.clone(), *at))
            .collect()
    }

    /// The WABA recorded for a business number.
    pub fn phone_waba_of(&self, phone_number_id: &str) -> Option<String> {
        self.lock().phone_wabas.get(phone_number_id).cloned()
    }
}

impl State {
    fn lead(&self, id: &str) -> Option<&LeadView> {
        self.profiles.get(id)?.lead.as_ref()
    }

    /// The lead's profile as the API answers it: its WABAs from the filing too.
    fn view(&self, id: &str) -> Option<LeadView> {
        let profile = self.profiles.get(id)?;
        let mut lead = profile.lead.clone()?;
        let mut wabas: BTreeSet<String> = profile.waba_ids.clone();
        wabas.extend(lead.waba_id.iter().cloned());
        lead.waba_ids = wabas.into_iter().collect();
        Some(lead)
    }

    fn count(&self, id: &str, direction: Direction) -> u64 {
        self.markers
            .keys()
            .filter(|(i, d, _)| i == id && *d == direction.as_str())
            .count() as u64
    }

    fn states_of(&self, id: &str) -> Vec<ConsentStateView> {
        self.consent_states
            .iter()
            .filter(|((i, _, _), _)| i == id)
            .map(|(_, s)| s.view.clone())
            .collect()
    }

    fn add_history(&mut self, lead_id: &str, change: &'static str, version: u64, entry: Change) {
        let key = history_sk(entry.at.timestamp(), change, version);
        self.history
            .entry(lead_id.to_string())
            .or_default()
            .entry(key)
            .or_insert(HistoryItem { change, entry });
    }

    fn record_consent(&mut self, rec: &ConsentRecord) -> (ConsentEventView, Vec<ConsentStateView>) {
        let id = rec.event_id();
        let at = rec.at.timestamp();
        let action = if rec.action == "opt_out" {
            ConsentAction::OptOut
        } else {
            ConsentAction::OptIn
        };
        let event = ConsentEventView {
            consent: rec.action.clone(),
            categories: rec.categories.clone(),
            source: rec.source.clone(),
            phone_number_id: rec.phone_number_id.clone(),
            at: secs(rec.at),
            keyword: None,
            proof: rec.proof.clone(),
            recorded_by: Some(rec.recorded_by.clone()),
        };
        self.consent_events
            .entry(rec.user.clone())
            .or_default()
            .entry(consent_event_sk(&rec.phone_number_id, at, &rec.source, &id))
            .or_insert_with(|| event.clone());
        for category in &rec.categories {
            let place = (
                rec.user.clone(),
                rec.phone_number_id.clone(),
                category.clone(),
            );
            let current = self
                .consent_states
                .get(&place)
                .map(|s| (s.view.since.timestamp(), s.action));
            if consent_supersedes(at, action, current) {
                self.consent_states.insert(
                    place,
                    StoredState {
                        view: ConsentStateView {
                            phone_number_id: rec.phone_number_id.clone(),
                            category: category.clone(),
                            consent: rec.action.clone(),
                            source: rec.source.clone(),
                            since: secs(rec.at),
                        },
                        action,
                    },
                );
            }
        }
        // As the table answers them: the number's states, latest key first.
        let mut states: Vec<ConsentStateView> = self
            .states_of(&rec.user)
            .into_iter()
            .filter(|s| s.phone_number_id == rec.phone_number_id)
            .collect();
        states.reverse();
        (event, states)
    }
}

/// The latest `limit` of `entries` (time, key, value), oldest first, and whether some were cut.
fn latest<T>(mut entries: Vec<(i64, String, T)>, limit: usize) -> (Vec<T>, bool) {
    let cut = keep_latest(&mut entries, limit);
    (entries.into_iter().map(|(_, _, v)| v).collect(), cut)
}

/// A list cursor: the last lead's creation time and id.
fn cursor_of(lead: &LeadView) -> String {
    format!("mem:{}:{}", lead.created_at.timestamp(), lead.lead_id)
}

fn parse_cursor(cursor: &str) -> Result<(i64, String), LeadsError> {
    let bad = || LeadsError::Invalid(format!("cursor {cursor:?} is not one this API issued"));
    let rest = cursor.strip_prefix("mem:").ok_or_else(bad)?;
    let (at, id) = rest.split_once(':').ok_or_else(bad)?;
    Ok((at.parse().map_err(|_| bad())?, id.to_string()))
}

impl LeadStore for MemoryLeadStore {
    async fn list(
        &self,
        filter: &LeadFilter,
        now: DateTime<Utc>,
    ) -> Result<(Vec<LeadView>, Option<String>), LeadsError> {
        let limit = filter.limit.max(1) as usize;
        let after = filter.cursor.as_deref().map(parse_cursor).transpose()?;
        let state = self.open()?;
        let mut leads: Vec<LeadView> = state
            .profiles
            .keys()
            .filter_map(|id| state.view(id))
            .filter(|l| {
                after.as_ref().is_none_or(|(at, id)| {
                    l.created_at.timestamp() < *at
                        || (l.created_at.timestamp() == *at && l.lead_id > *id)
                })
            })
            .filter(|l| filter.matches(l, now))
            .collect();
        leads.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.lead_id.cmp(&b.lead_id))
        });
        leads.truncate(limit);
        // As the table does: a full page always says where to go on.
        let next = (leads.len() == limit).then(|| cursor_of(&leads[limit - 1]));
        Ok((leads, next))
    }

    async fn lead(&self, lead_id: &str) -> Result<Option<LeadView>, LeadsError> {
        Ok(self.open()?.view(lead_id))
    }

    async fn get(&self, lead_id: &str) -> Result<(LeadView, Timeline), LeadsError> {
        let state = self.open()?;
        let mut lead = state
            .view(lead_id)
            .ok_or_else(|| LeadsError::NotFound(lead_id.to_string()))?;
        lead.ids = vec![lead_id.to_string()];
        let profile = &state.profiles[lead_id];
        let mut truncated = Vec::new();
        let history: Vec<(i64, String, HistoryItem)> = state
            .history
            .get(lead_id)
            .into_iter()
            .flatten()
            .map(|(k, h)| (h.entry.at.timestamp(), k.clone(), h.clone()))
            .collect();
        let (history, cut) = latest(history, TIMELINE_ENTRIES);
        if cut {
            truncated.push("history");
        }
        let events: Vec<(i64, String, ConsentEventView)> = state
            .consent_events
            .get(lead_id)
            .into_iter()
            .flatten()
            .map(|(k, e)| (e.at.timestamp(), k.clone(), e.clone()))
            .collect();
        let (consent_history, cut) = latest(events, TIMELINE_ENTRIES);
        if cut {
            truncated.push("consent_history");
        }
        let conversions: Vec<(i64, String, Conversion)> = state
            .conversions
            .iter()
            .filter(|((id, _), _)| id == lead_id)
            .map(|((_, key), (c, _))| (c.at.timestamp(), conversion_sk(key), c.clone()))
            .collect();
        let (conversions, cut) = latest(conversions, TIMELINE_ENTRIES);
        if cut {
            truncated.push("conversions");
        }
        let last_outbound = state
            .markers
            .iter()
            .filter(|((i, d, _), _)| i == lead_id && *d == Direction::Outbound.as_str())
            .map(|(_, at)| *at)
            .max();
        let by = |change: &str| -> Vec<Change> {
            history
                .iter()
                .filter(|h| h.change == change)
                .map(|h| h.entry.clone())
                .collect()
        };
        let timeline = Timeline {
            first_touch: lead.first_touch.clone(),
            conversions,
            stage_history: by("stage"),
            owner_history: by("owner"),
            consent_history,
            consent_state: state.states_of(lead_id),
            messages: MessageActivity {
                inbound_count: Some(state.count(lead_id, Direction::Inbound)),
                first_inbound_at: (lead.origin != ORIGIN_IMPORT).then_some(lead.created_at),
                last_inbound_at: lead.last_inbound_at,
                last_referral_at: profile.last_referral_at,
                outbound_count: Some(state.count(lead_id, Direction::Outbound)),
                last_outbound_at: last_outbound.and_then(|t| DateTime::from_timestamp(t, 0)),
                outbound_note: None,
            },
            truncated,
        };
        Ok((lead, timeline))
    }

    async fn update(
        &self,
        lead_id: &str,
        patch: &LeadPatch,
        actor: &str,
        lifecycle: &Lifecycle,
        now: DateTime<Utc>,
    ) -> Result<LeadView, LeadsError> {
        let mut state = self.open()?;
        let current = state
            .lead(lead_id)
            .cloned()
            .ok_or_else(|| LeadsError::NotFound(lead_id.to_string()))?;
        if current.version != patch.expected_version {
            return Err(LeadsError::VersionConflict {
                expected: patch.expected_version,
                current: current.version,
            });
        }
        let version = patch.expected_version + 1;
        let mut lead = current.clone();
        let mut changes = Vec::new();
        if let Some(stage) = &patch.stage {
            lifecycle.validate_transition(&current.stage, stage)?;
            let stage = lifecycle.canonical(stage).unwrap_or(stage).to_string();
            changes.push(("stage", Some(current.stage.clone()), Some(stage.clone())));
            lead.stage = stage;
        }
        if let Some(owner) = &patch.owner
            && owner.as_deref() != current.owner.as_deref()
        {
            changes.push(("owner", current.owner.clone(), owner.clone()));
            lead.owner = owner.clone();
        }
        if let Some(tags) = &patch.tags {
            lead.tags = normalize_tags(tags);
        }
        if let Some(fields) = &patch.custom_fields {
            lead.custom_fields = fields.clone();
        }
        lead.version = version;
        for (change, from, to) in changes {
            let entry = Change {
                from,
                to,
                by: actor.to_string(),
                reason: Some("api".into()),
                at: secs(now),
            };
            state.add_history(lead_id, change, version, entry);
        }
        if let Some(profile) = state.profiles.get_mut(lead_id) {
            profile.lead = Some(lead);
        }
        state
            .view(lead_id)
            .ok_or_else(|| LeadsError::NotFound(lead_id.to_string()))
    }

    async fn visible(&self, id: &str, access: &Access) -> Result<bool, LeadsError> {
        if *access == Access::All {
            return Ok(true);
        }
        let state = self.open()?;
        let Some(profile) = state.profiles.get(id) else {
            return Ok(false);
        };
        let mut wabas = profile.waba_ids.clone();
        wabas.extend(profile.lead.iter().filter_map(|l| l.waba_id.clone()));
        Ok(access.allows_any(wabas.iter().map(String::as_str)))
    }

    async fn phone_waba(&self, phone_number_id: &str) -> Result<Option<String>, LeadsError> {
        Ok(self.open()?.phone_wabas.get(phone_number_id).cloned())
    }

    async fn record_lead_waba(&self, user_key: &str, waba_id: &str) -> Result<(), LeadsError> {
        self.open()?
            .profiles
            .entry(user_key.to_string())
            .or_default()
            .waba_ids
            .insert(waba_id.to_string());
        Ok(())
    }

    async fn import(
        &self,
        rows: &[ImportRow],
        initial_stage: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<ImportCounts, LeadsError> {
        let mut state = self.open()?;
        let mut counts = ImportCounts::default();
        for row in rows {
            let old = state.lead(&row.lead_id).cloned();
            let mut lead = old.clone().unwrap_or_else(|| LeadView {
                lead_id: row.lead_id.clone(),
                waba_id: None,
                phone_number_id: None,
                phone: None,
                user_id: None,
                profile_name: None,
                stage: initial_stage.to_string(),
                owner: None,
                tags: Vec::new(),
                custom_fields: BTreeMap::new(),
                created_at: secs(now),
                last_inbound_at: None,
                first_touch: None,
                version: 0,
                origin: ORIGIN_IMPORT.to_string(),
                ids: Vec::new(),
                waba_ids: Vec::new(),
            });
            if let Some(stage) = &row.stage {
                lead.stage = stage.clone();
            }
            lead.version += 1;
            lead.phone = lead.phone.or_else(|| row.phone.clone());
            lead.user_id = lead.user_id.or_else(|| row.user_id.clone());
            lead.profile_name = lead.profile_name.or_else(|| row.name.clone());
            if row.owner.is_some() {
                lead.owner = row.owner.clone();
            }
            if !row.tags.is_empty() {
                // A string set, read back sorted.
                lead.tags = row.tags.clone();
                lead.tags.sort();
            }
            if !row.custom_fields.is_empty() {
                lead.custom_fields = row.custom_fields.clone();
            }
            if lead.first_touch.is_none()
                && let Some(t) = &row.first_touch
            {
                // What the import stores of a first touch (no headline, media or time).
                lead.first_touch = Some(FirstTouch {
                    headline: None,
                    media_type: None,
                    at: None,
                    ..t.clone()
                });
            }
            let mut ids: Vec<String> = [Some(&lead.lead_id), lead.phone.as_ref()]
                .into_iter()
                .chain([lead.user_id.as_ref()])
                .flatten()
                .cloned()
                .collect();
            ids.sort();
            ids.dedup();
            lead.ids = ids;
            let version = lead.version;
            state.profiles.entry(row.lead_id.clone()).or_default().lead = Some(lead);
            match old {
                Some(old) => {
                    counts.updated += 1;
                    let changes = [
                        ("stage", Some(old.stage), row.stage.clone()),
                        ("owner", old.owner, row.owner.clone()),
                    ];
                    for (change, from, to) in changes {
                        let Some(to) = to.filter(|to| from.as_ref() != Some(to)) else {
                            continue;
                        };
                        let entry = Change {
                            from,
                            to: Some(to),
                            by: actor.to_string(),
                            reason: Some("import".into()),
                            at: secs(now),
                        };
                        state.add_history(&row.lead_id, change, version, entry);
                    }
                }
                None => counts.imported += 1,
            }
            if let Some(opt_in) = &row.opt_in {
                state.record_consent(&ConsentRecord {
                    user: row.lead_id.clone(),
                    phone_number_id: opt_in.phone_number_id.clone(),
                    action: "opt_in".into(),
                    categories: opt_in.categories.clone(),
                    source: opt_in.source.as_str().to_string(),
                    proof: Some(opt_in.proof.clone()),
                    at: opt_in.at,
                    recorded_by: actor.to_string(),
                    via: "import",
                });
            }
        }
        Ok(counts)
    }

    async fn record_consent(
        &self,
        record: &ConsentRecord,
    ) -> Result<(ConsentEventView, Vec<ConsentStateView>), LeadsError> {
        Ok(self.open()?.record_consent(record))
    }

    async fn consent_facts(
        &self,
        user: &str,
        phone_number_id: &str,
        category: &str,
    ) -> Result<ConsentFacts, LeadsError> {
        let state = self.open()?;
        let view = state
            .consent_states
            .get(&(
                user.to_string(),
                phone_number_id.to_string(),
                category.to_string(),
            ))
            .map(|s| s.view.clone());
        let consent = view.as_ref().map_or(ConsentStatus::Unknown, |v| {
            let (since, source) = (v.since, v.source.clone());
            match v.consent.as_str() {
                "opt_in" => ConsentStatus::OptedIn { since, source },
                "opt_out" => ConsentStatus::OptedOut { since, source },
                _ => ConsentStatus::Unknown,
            }
        });
        let profile = state.profiles.get(user);
        let entry_point = profile
            .and_then(|p| p.last_referral_at)
            .map(|referral_at| EntryPoint {
                referral_at,
                first_reply_at: state
                    .markers
                    .iter()
                    .filter(|((i, d, _), at)| {
                        i == user
                            && *d == Direction::Outbound.as_str()
                            && **at >= referral_at.timestamp()
                    })
                    .map(|(_, at)| *at)
                    .min()
                    .and_then(|t| DateTime::from_timestamp(t, 0)),
            });
        Ok(ConsentFacts {
            consent,
            state: view,
            last_inbound_at: profile
                .and_then(|p| p.lead.as_ref())
                .and_then(|l| l.last_inbound_at),
            entry_point,
        })
    }

    async fn record_conversion(
        &self,
        lead_id: &str,
        conversion: &Conversion,
        fingerprint: &str,
    ) -> Result<(Conversion, bool), LeadsError> {
        let mut state = self.open()?;
        if !state.profiles.contains_key(lead_id) {
            return Err(LeadsError::NotFound(lead_id.to_string()));
        }
        let place = (lead_id.to_string(), conversion.idempotency_key.clone());
        match state.conversions.get(&place) {
            Some((stored, f)) if f == fingerprint => Ok((stored.clone(), true)),
            Some(_) => Err(LeadsError::IdempotencyConflict(
                conversion.idempotency_key.clone(),
            )),
            None => {
                let stored = Conversion {
                    at: secs(conversion.at),
                    recorded_at: secs(conversion.recorded_at),
                    ..conversion.clone()
                };
                state
                    .conversions
                    .insert(place, (stored, fingerprint.to_string()));
                Ok((conversion.clone(), false))
            }
        }
    }

    async fn forward_state(
        &self,
        lead_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<String>, LeadsError> {
        Ok(self
            .open()?
            .conversions
            .get(&(lead_id.to_string(), idempotency_key.to_string()))
            .map(|(c, _)| c.forwarded.clone()))
    }

    async fn transition_forward(
        &self,
        lead_id: &str,
        idempotency_key: &str,
        from: ForwardState,
        to: ForwardState,
        error: Option<&str>,
    ) -> Result<bool, LeadsError> {
        let mut state = self.open()?;
        let place = (lead_id.to_string(), idempotency_key.to_string());
        match state.conversions.get_mut(&place) {
            Some((c, _)) if c.forwarded == from.as_str() => {
                c.forwarded = to.as_str().to_string();
                c.forward_error = error.map(str::to_string);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn create_job(&self, job: &ImportJob) -> Result<bool, LeadsError> {
        let mut state = self.open()?;
        if state.jobs.contains_key(&job.id) {
            return Ok(false);
        }
        state.jobs.insert(job.id.clone(), job.clone());
        Ok(true)
    }

    async fn job(&self, id: &str) -> Result<Option<ImportJob>, LeadsError> {
        Ok(self.open()?.jobs.get(id).cloned())
    }

    async fn start_job(
        &self,
        seen: &ImportJob,
        sha256: &str,
        now: i64,
    ) -> Result<bool, LeadsError> {
        let mut state = self.open()?;
        match state.jobs.get_mut(&seen.id) {
            Some(job) if job.status == seen.status && job.started_at == seen.started_at => {
                job.status = crate::domain::leads::jobs::JobStatus::Running;
                job.started_at = Some(now);
                job.sha256 = Some(sha256.to_string());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn finish_job(&self, job: &ImportJob) -> Result<(), LeadsError> {
        self.open()?.jobs.insert(job.id.clone(), job.clone());
        Ok(())
    }
}

impl LeadActivity for MemoryLeadStore {
    async fn record_activity(&self, a: &Activity) -> Result<(), LeadsError> {
        let mut state = self.open()?;
        let at = state
            .markers
            .entry((a.user_key.clone(), a.direction.as_str(), a.wamid.clone()))
            .or_insert(a.at);
        *at = (*at).min(a.at);
        Ok(())
    }

    async fn forget_activity(
        &self,
        user_key: &str,
        direction: Direction,
        wamid: &str,
    ) -> Result<(), LeadsError> {
        self.open()?
            .markers
            .remove(&(user_key.to_string(), direction.as_str(), wamid.to_string()));
        Ok(())
    }

    async fn record_phone_waba(
        &self,
        phone_number_id: &str,
        waba_id: &str,
    ) -> Result<(), LeadsError> {
        self.open()?
            .phone_wabas
            .insert(phone_number_id.to_string(), waba_id.to_string());
        Ok(())
    }

    async fn scan_messages(
        &self,
        segment: i32,
        total_segments: i32,
        start: Option<ScanCursor>,
    ) -> Result<(Vec<ScannedMessage>, Option<ScanCursor>), LeadsError> {
        let from = match &start {
            Some(c) => c.0.parse::<usize>().map_err(|_| {
                LeadsError::Invalid(format!(
                    "scan cursor {:?} is not one this store issued",
                    c.0
                ))
            })?,
            None => 0,
        };
        let state = self.open()?;
        let total = total_segments.max(1) as usize;
        let mine: Vec<(usize, &ScannedMessage)> = state
            .messages
            .iter()
            .enumerate()
            .filter(|(i, _)| i % total == segment.max(0) as usize && *i >= from)
            .collect();
        let page: Vec<ScannedMessage> = mine
            .iter()
            .take(SCAN_PAGE)
            .map(|(_, m)| (*m).clone())
            .collect();
        let next = mine.get(SCAN_PAGE).map(|(i, _)| ScanCursor(i.to_string()));
        Ok((page, next))
    }
}
