//! The report ports in memory, for fast handler tests of the reports and report-jobs
//! functions (no moto):
//! - `MemoryReportStore` ([`ReportStore`]): the report records, newest first by id, like
//!   `DynamoDbReportStore`;
//! - `MemoryReportObjects` ([`ReportObjects`] + [`ObjectUpload`]): report files with their
//!   content type and metadata, visible only once finished (like `S3ReportObjects`), links
//!   `memory://<key>?expires=<t>`, and part uploads that fail on demand;
//! - `MemoryReportSource` ([`ReportSource`]): the facts a test feeds it (an [`Inputs`],
//!   outbound messages, leads), read back per window like `DynamoDbReportSource`.
//!
//! Clones share one state, so a test keeps a clone to look inside after handing one over.

use crate::domain::access::Tenancy;
use crate::domain::leads::LeadView;
use crate::domain::metrics::input::{ConsentAction, ConsentEvt, Inputs, OutboundMsg, Times};
use crate::domain::metrics::tally::Tally;
use crate::domain::report::ReportRecord;
use crate::ports::{
    ObjectUpload, PresignedLink, ReportObjects, ReportSource, ReportStore, ReportWindow, StoreError,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// ---------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct StoreState {
    /// Id → record; ids are time-ordered, so the last is the newest.
    records: BTreeMap<String, ReportRecord>,
    /// Operations to refuse before the next one succeeds.
    failures: usize,
}

/// The report records. Same contract as `DynamoDbReportStore`: `put` overwrites by id, `get`
/// reads what was last put, `recent` answers newest first (by id) up to `limit`.
#[derive(Debug, Clone, Default)]
pub struct MemoryReportStore {
    state: Arc<Mutex<StoreState>>,
}

impl MemoryReportStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next `n` operations (put, get, recent) fail as `Unavailable`.
    pub fn fail_next(&self, n: usize) {
        lock(&self.state).failures = n;
    }

    /// Every record, oldest first.
    pub fn records(&self) -> Vec<ReportRecord> {
        lock(&self.state).records.values().cloned().collect()
    }

    fn check(&self) -> Result<MutexGuard<'_, StoreState>, StoreError> {
        let mut state = lock(&self.state);
        if state.failures > 0 {
            state.failures -= 1;
            return Err(StoreError::Unavailable(
                "report records: failure on demand".into(),
            ));
        }
        Ok(state)
    }
}

impl ReportStore for MemoryReportStore {
    async fn put(&self, record: &ReportRecord) -> Result<(), StoreError> {
        self.check()?
            .records
            .insert(record.id.clone(), record.clone());
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<ReportRecord>, StoreError> {
        Ok(self.check()?.records.get(id).cloned())
    }

    async fn recent(&self, limit: i32) -> Result<Vec<ReportRecord>, StoreError> {
        let state = self.check()?;
        Ok(state
            .records
            .values()
            .rev()
            .take(usize::try_from(limit).unwrap_or(0))
            .cloned()
            .collect())
    }
}

// ---------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------

/// A finished report file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub metadata: Vec<(String, String)>,
    /// How many parts it was written in (`finish` counts as one when it brought bytes or
    /// when it was the only call).
    pub parts: usize,
}

#[derive(Debug, Default)]
struct ObjectsState {
    objects: BTreeMap<String, StoredObject>,
    /// Part uploads (`part`, or the bytes `finish` brings) to refuse.
    failing_parts: usize,
    /// Uploads dropped with `abort`.
    aborted: Vec<String>,
}

/// Where report files go. Same contract as `S3ReportObjects`: an upload's bytes become
/// visible only when it finishes, an aborted or failed one leaves nothing; `read` of a
/// missing key is an error; a link is signed without looking at the object. Not modelled:
/// the credentials' expiry (a link lives as long as asked), metadata sanitising (kept as
/// given).
#[derive(Debug, Clone, Default)]
pub struct MemoryReportObjects {
    state: Arc<Mutex<ObjectsState>>,
}

impl MemoryReportObjects {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next `n` part uploads (a `part`, or the last bytes `finish` writes) fail as
    /// `Unavailable`; the upload they belong to stays invisible.
    pub fn fail_next_parts(&self, n: usize) {
        lock(&self.state).failing_parts = n;
    }

    /// A finished file.
    pub fn object(&self, key: &str) -> Option<StoredObject> {
        lock(&self.state).objects.get(key).cloned()
    }

    /// The keys of every finished file, in order.
    pub fn keys(&self) -> Vec<String> {
        lock(&self.state).objects.keys().cloned().collect()
    }

    /// The keys of the uploads that were aborted, in order.
    pub fn aborted(&self) -> Vec<String> {
        lock(&self.state).aborted.clone()
    }

    /// The link's URL for `key` living until `expires_at` (what `presign_get` answers).
    pub fn url_of(key: &str, expires_at: i64) -> String {
        format!("memory://{key}?expires={expires_at}")
    }

    fn take_part(&self) -> Result<(), StoreError> {
        let mut state = lock(&self.state);
        if state.failing_parts > 0 {
            state.failing_parts -= 1;
            return Err(StoreError::Unavailable(
                "report files: part upload refused on demand".into(),
            ));
        }
        Ok(())
    }
}

/// One file being written.
#[derive(Debug)]
pub struct MemoryUpload {
    objects: MemoryReportObjects,
    key: String,
    content_type: String,
    metadata: Vec<(String, String)>,
    bytes: Vec<u8>,
    parts: usize,
}

impl ObjectUpload for MemoryUpload {
    async fn part(&mut self, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.objects.take_part()?;
        self.bytes.extend_from_slice(&bytes);
        self.parts += 1;
        Ok(())
    }

    async fn finish(mut self, last: Vec<u8>) -> Result<(), StoreError> {
        if !last.is_empty() || self.parts == 0 {
            self.objects.take_part()?;
            self.bytes.extend_from_slice(&last);
            self.parts += 1;
        }
        lock(&self.objects.state).objects.insert(
            self.key,
            StoredObject {
                bytes: self.bytes,
                content_type: self.content_type,
                metadata: self.metadata,
                parts: self.parts,
            },
        );
        Ok(())
    }

    async fn abort(self) {
        lock(&self.objects.state).aborted.push(self.key);
    }
}

impl ReportObjects for MemoryReportObjects {
    type Upload = MemoryUpload;

    async fn start(
        &self,
        key: &str,
        content_type: &str,
        metadata: &[(&str, &str)],
    ) -> Result<MemoryUpload, StoreError> {
        Ok(MemoryUpload {
            objects: self.clone(),
            key: key.to_string(),
            content_type: content_type.to_string(),
            metadata: metadata
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            bytes: Vec::new(),
            parts: 0,
        })
    }

    async fn presign_get(
        &self,
        key: &str,
        expires_in: i64,
        _filename: &str,
    ) -> Result<PresignedLink, StoreError> {
        let expires_at = chrono::Utc::now().timestamp() + expires_in.max(1);
        Ok(PresignedLink {
            url: Self::url_of(key, expires_at),
            expires_at,
        })
    }

    async fn read(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        lock(&self.state)
            .objects
            .get(key)
            .map(|o| o.bytes.clone())
            .ok_or_else(|| StoreError::Unavailable(format!("report files: no object {key}")))
    }
}

// ---------------------------------------------------------------------------------------
// Facts
// ---------------------------------------------------------------------------------------

/// The slots of `slots` (`None`: none kept) starting in `lo..=hi`.
fn slots_in(slots: Option<&[Tally]>, lo: i64, hi: i64) -> Option<Vec<Tally>> {
    slots.map(|s| {
        s.iter()
            .filter(|t| (lo..=hi).contains(&t.at))
            .cloned()
            .collect()
    })
}

#[derive(Debug, Default)]
struct SourceState {
    /// Messages, consent events, leads' first touches, conversions, Meta's days.
    facts: Inputs,
    /// The leads' profiles (the leads report, and each lead's WABAs for tenancy).
    leads: Vec<LeadView>,
    /// Rollup slots; `None`: this source keeps none.
    rollups: Option<Vec<Tally>>,
    /// Person-rollup slots; `None`: this source keeps none.
    person_facts: Option<Vec<Tally>>,
    /// Business number → WABA, as the aggregator records it.
    phone_wabas: BTreeMap<String, String>,
    failures: usize,
}

/// The facts a report reads, fed by the test. Same contract as `DynamoDbReportSource`:
/// a window's consent events and conversions by time, always; its messages (by their marker
/// time, the anchor) only when `messages`, with
/// every earlier message of the window's people when `with_history`; leads created in the
/// window; Meta's days of the window's WABAs and days (template days fed through
/// [`Inputs::templates`] belong to every WABA); outbound messages by marker time (their
/// anchor); tenancy from the leads' profiles and the recorded numbers. Not modelled: identity
/// links (each fact counts for the id it was fed with).
#[derive(Debug, Clone, Default)]
pub struct MemoryReportSource {
    state: Arc<Mutex<SourceState>>,
}

impl MemoryReportSource {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, SourceState> {
        lock(&self.state)
    }

    /// Adds every fact of `inputs` (their tallies and facts become the rollup slots).
    pub fn feed(&self, inputs: Inputs) {
        let mut state = self.lock();
        let f = &mut state.facts;
        f.outbound.extend(inputs.outbound);
        f.inbound.extend(inputs.inbound);
        f.consent.extend(inputs.consent);
        f.leads.extend(inputs.leads);
        f.conversions.extend(inputs.conversions);
        f.pricing.extend(inputs.pricing);
        f.templates.extend(inputs.templates);
        f.messaging.extend(inputs.messaging);
        if let Some(t) = inputs.tallies {
            state.rollups.get_or_insert_with(Vec::new).extend(t);
        }
        if let Some(t) = inputs.facts {
            state.person_facts.get_or_insert_with(Vec::new).extend(t);
        }
    }

    /// Adds outbound messages (and records each one's number under its WABA).
    pub fn outbound(&self, messages: impl IntoIterator<Item = OutboundMsg>) {
        let mut state = self.lock();
        for m in messages {
            state
                .phone_wabas
                .insert(m.phone_number_id.clone(), m.waba_id.clone());
            state.facts.outbound.push(m);
        }
    }

    /// Adds lead profiles.
    pub fn leads(&self, leads: impl IntoIterator<Item = LeadView>) {
        self.lock().leads.extend(leads);
    }

    /// Records a business number's WABA (what the aggregator writes from messages).
    pub fn phone_waba(&self, phone_number_id: &str, waba_id: &str) {
        self.lock()
            .phone_wabas
            .insert(phone_number_id.to_string(), waba_id.to_string());
    }

    /// The next `n` reads fail as `Unavailable`.
    pub fn fail_next(&self, n: usize) {
        self.lock().failures = n;
    }

    fn check(&self) -> Result<MutexGuard<'_, SourceState>, StoreError> {
        let mut state = self.lock();
        if state.failures > 0 {
            state.failures -= 1;
            return Err(StoreError::Unavailable(
                "report facts: failure on demand".into(),
            ));
        }
        Ok(state)
    }
}

/// Whether a message's marker in the time index (its anchor) falls in `lo..=hi`.
fn marked_in(m: &OutboundMsg, lo: i64, hi: i64) -> bool {
    m.anchor().is_some_and(|a| (lo..=hi).contains(&a))
}

impl ReportSource for MemoryReportSource {
    async fn inputs(&self, w: &ReportWindow) -> Result<Inputs, StoreError> {
        let state = self.check()?;
        let f = &state.facts;
        let (lo, hi) = (w.lo, w.hi);
        let within = |at: i64| (lo..=hi).contains(&at);
        let mut inputs = Inputs {
            consent: f.consent.iter().filter(|c| within(c.at)).cloned().collect(),
            conversions: f
                .conversions
                .iter()
                .filter(|c| within(c.at))
                .cloned()
                .collect(),
            ..Inputs::default()
        };
        if w.messages {
            inputs.outbound = f
                .outbound
                .iter()
                .filter(|m| marked_in(m, lo, hi))
                .cloned()
                .collect();
            inputs.inbound = f.inbound.iter().filter(|m| within(m.at)).cloned().collect();
            if w.with_history {
                let people: BTreeSet<&str> = inputs
                    .outbound
                    .iter()
                    .filter_map(|m| m.person.as_deref())
                    .chain(inputs.inbound.iter().map(|m| m.person.as_str()))
                    .collect();
                let seen_out: BTreeSet<&str> =
                    inputs.outbound.iter().map(|m| m.wamid.as_str()).collect();
                let seen_in: BTreeSet<&str> =
                    inputs.inbound.iter().map(|m| m.wamid.as_str()).collect();
                let earlier_out: Vec<OutboundMsg> = f
                    .outbound
                    .iter()
                    .filter(|m| {
                        m.person.as_deref().is_some_and(|p| people.contains(p))
                            && !seen_out.contains(m.wamid.as_str())
                    })
                    .cloned()
                    .collect();
                let earlier_in: Vec<_> = f
                    .inbound
                    .iter()
                    .filter(|m| {
                        people.contains(m.person.as_str()) && !seen_in.contains(m.wamid.as_str())
                    })
                    .cloned()
                    .collect();
                inputs.outbound.extend(earlier_out);
                inputs.inbound.extend(earlier_in);
            }
        }
        inputs.leads = f
            .leads
            .iter()
            .filter(|l| within(l.created_at))
            .cloned()
            .collect();
        let days = w.from_day..=w.to_day;
        let of_window = |waba: &str| w.wabas.iter().any(|x| x == waba);
        inputs.pricing = f
            .pricing
            .iter()
            .filter(|p| of_window(&p.waba_id) && days.contains(&p.day))
            .cloned()
            .collect();
        inputs.messaging = f
            .messaging
            .iter()
            .filter(|m| of_window(&m.waba_id) && days.contains(&m.day))
            .cloned()
            .collect();
        if !w.wabas.is_empty() {
            inputs.templates = f
                .templates
                .iter()
                .filter(|t| days.contains(&t.day))
                .cloned()
                .collect();
        }
        Ok(inputs)
    }

    async fn rollups(&self, lo: i64, hi: i64) -> Result<Option<Vec<Tally>>, StoreError> {
        Ok(slots_in(self.check()?.rollups.as_deref(), lo, hi))
    }

    async fn facts(&self, lo: i64, hi: i64) -> Result<Option<Vec<Tally>>, StoreError> {
        Ok(slots_in(self.check()?.person_facts.as_deref(), lo, hi))
    }

    async fn outbound_between(&self, lo: i64, hi: i64) -> Result<Vec<OutboundMsg>, StoreError> {
        let state = self.check()?;
        Ok(state
            .facts
            .outbound
            .iter()
            .filter(|m| marked_in(m, lo, hi))
            .cloned()
            .collect())
    }

    async fn opt_out_facts(
        &self,
        lo: i64,
        hi: i64,
    ) -> Result<(Vec<ConsentEvt>, Vec<OutboundMsg>), StoreError> {
        let state = self.check()?;
        let consent: Vec<ConsentEvt> = state
            .facts
            .consent
            .iter()
            .filter(|c| (lo..=hi).contains(&c.at))
            .cloned()
            .collect();
        let opted_out: BTreeSet<&str> = consent
            .iter()
            .filter(|c| c.action == ConsentAction::OptOut)
            .map(|c| c.person.as_str())
            .collect();
        // Every outbound message of theirs, with only its wamid, numbers and marker time.
        let stubs = state
            .facts
            .outbound
            .iter()
            .filter(|m| m.person.as_deref().is_some_and(|p| opted_out.contains(p)))
            .filter_map(|m| {
                Some(OutboundMsg {
                    wamid: m.wamid.clone(),
                    person: m.person.clone(),
                    waba_id: m.waba_id.clone(),
                    phone_number_id: m.phone_number_id.clone(),
                    times: Times {
                        sent_at: Some(m.anchor()?),
                        ..Times::default()
                    },
                    ..OutboundMsg::default()
                })
            })
            .collect();
        Ok((consent, stubs))
    }

    async fn tenancy(
        &self,
        lead_ids: &[String],
        phone_number_ids: &[String],
    ) -> Result<Tenancy, StoreError> {
        let state = self.check()?;
        let mut tenancy = Tenancy::default();
        for id in lead_ids {
            if let Some(l) = state.leads.iter().find(|l| &l.lead_id == id) {
                let mut wabas = l.waba_ids.clone();
                wabas.extend(l.waba_id.clone());
                tenancy.lead_wabas.insert(id.clone(), wabas);
            }
        }
        for p in phone_number_ids {
            if let Some(w) = state.phone_wabas.get(p) {
                tenancy.phone_wabas.insert(p.clone(), w.clone());
            }
        }
        Ok(tenancy)
    }

    async fn leads_created(&self, lo: i64, hi: i64) -> Result<Vec<LeadView>, StoreError> {
        let state = self.check()?;
        let mut leads: Vec<LeadView> = state
            .leads
            .iter()
            .filter(|l| (lo..=hi).contains(&l.created_at.timestamp()))
            .cloned()
            .collect();
        leads.sort_by(|a, b| (a.created_at, &a.lead_id).cmp(&(b.created_at, &b.lead_id)));
        Ok(leads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::report::{ReportKind, ReportStatus};

    fn record(id: &str) -> ReportRecord {
        ReportRecord {
            id: id.to_string(),
            kind: ReportKind::Volume,
            request_json: "{}".into(),
            status: ReportStatus::Running,
            created_at: 0,
            created_by: "t".into(),
            origin: "api".into(),
            object_key: None,
            rows: None,
            bytes: None,
            sha256: None,
            reason: None,
            finished_at: None,
            expires_at: None,
        }
    }

    #[tokio::test]
    async fn records_are_listed_newest_first_and_fail_on_demand() {
        let store = MemoryReportStore::new();
        for id in ["1764000001-a", "1764000003-c", "1764000002-b"] {
            store.put(&record(id)).await.unwrap();
        }
        let ids: Vec<String> = store
            .recent(2)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["1764000003-c", "1764000002-b"]);
        store.fail_next(1);
        assert!(store.get("1764000001-a").await.is_err());
        assert!(store.get("1764000001-a").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn files_appear_when_finished_and_failed_parts_leave_nothing() {
        let objects = MemoryReportObjects::new();
        let mut up = objects
            .start("r/a.csv", "text/csv", &[("report-id", "a")])
            .await
            .unwrap();
        up.part(b"x,".to_vec()).await.unwrap();
        assert!(objects.object("r/a.csv").is_none(), "invisible until done");
        up.finish(b"y".to_vec()).await.unwrap();
        let stored = objects.object("r/a.csv").unwrap();
        assert_eq!((stored.bytes.as_slice(), stored.parts), (&b"x,y"[..], 2));
        assert_eq!(objects.read("r/a.csv").await.unwrap(), b"x,y");
        assert!(objects.read("r/none.csv").await.is_err());

        objects.fail_next_parts(1);
        let up = objects.start("r/b.csv", "text/csv", &[]).await.unwrap();
        assert!(up.finish(b"z".to_vec()).await.is_err());
        assert_eq!(objects.keys(), ["r/a.csv"]);

        let link = objects.presign_get("r/a.csv", 600, "a.csv").await.unwrap();
        assert_eq!(
            link.url,
            MemoryReportObjects::url_of("r/a.csv", link.expires_at)
        );
    }

    #[tokio::test]
    async fn the_source_reads_by_window() {
        let source = MemoryReportSource::new();
        let msg = |wamid: &str, at: i64| OutboundMsg {
            wamid: wamid.into(),
            person: Some("p".into()),
            waba_id: "W".into(),
            phone_number_id: "P".into(),
            times: Times {
                sent_at: Some(at),
                ..Times::default()
            },
            ..OutboundMsg::default()
        };
        source.outbound([msg("early", 10), msg("in", 100), msg("late", 1_000)]);
        let between = source.outbound_between(50, 500).await.unwrap();
        assert_eq!(between, [msg("in", 100)]);
        let tenancy = source.tenancy(&[], &["P".into()]).await.unwrap();
        assert_eq!(tenancy.phone_wabas.get("P").map(String::as_str), Some("W"));
        let window = ReportWindow {
            lo: 50,
            hi: 500,
            from_day: chrono::NaiveDate::MIN,
            to_day: chrono::NaiveDate::MIN,
            wabas: Vec::new(),
            with_history: true,
            messages: true,
        };
        let wamids: Vec<String> = source
            .inputs(&window)
            .await
            .unwrap()
            .outbound
            .into_iter()
            .map(|m| m.wamid)
            .collect();
        assert_eq!(wamids, ["in", "early", "late"], "the person's history too");
    }

    #[tokio::test]
    async fn consent_events_and_conversions_are_read_with_or_without_the_messages() {
        use crate::domain::metrics::input::{ConsentSource, ConversionRow, InboundMsg};
        let source = MemoryReportSource::new();
        let consent = |at: i64| ConsentEvt {
            person: "p".into(),
            phone_number_id: "P".into(),
            at,
            action: ConsentAction::OptOut,
            source: ConsentSource::Keyword,
            categories: vec!["marketing".into()],
        };
        let conversion = |at: i64| ConversionRow {
            lead_id: "p".into(),
            at,
            ..ConversionRow::default()
        };
        source.feed(Inputs {
            inbound: vec![InboundMsg {
                wamid: "in".into(),
                person: "p".into(),
                at: 100,
                ..InboundMsg::default()
            }],
            consent: vec![consent(10), consent(100)],
            conversions: vec![conversion(100), conversion(1_000)],
            ..Inputs::default()
        });
        for messages in [true, false] {
            let window = ReportWindow {
                lo: 50,
                hi: 500,
                from_day: chrono::NaiveDate::MIN,
                to_day: chrono::NaiveDate::MIN,
                wabas: Vec::new(),
                with_history: false,
                messages,
            };
            let inputs = source.inputs(&window).await.unwrap();
            assert_eq!(inputs.consent, [consent(100)], "messages: {messages}");
            assert_eq!(
                inputs.conversions,
                [conversion(100)],
                "messages: {messages}"
            );
            assert_eq!(inputs.inbound.len(), usize::from(messages));
        }
    }
}
