//! The report service: a validated request → the facts of its window (a `ReportSource`) →
//! the metric rows (`domain::metrics`) → an RFC 4180 CSV streamed in parts to a
//! `ReportObjects` store → a `ReportRecord` with its row count, size and checksum.
//!
//! Memory: rows are formatted into one part buffer (`part_bytes`, 8 MiB by default) that is
//! uploaded and reused when full, so the file's size never sits in memory. (The facts of the
//! window do: see docs/DATA_MODEL.md, "Reports", for what a window holds.)

use crate::domain::access::Access;
use crate::domain::metrics::facts::facts_of;
use crate::domain::metrics::input::{Inputs, OutboundMsg};
use crate::domain::metrics::query::Query;
use crate::domain::metrics::tally::{slots_are_exact, tallies_of};
use crate::domain::metrics::{self, CsvRow};
use crate::domain::report::{
    DEFAULT_SLA_SECONDS, LinkPolicy, ReportKind, ReportRecord, ReportRequest, ReportStatus,
};
use crate::domain::summary::{Locale, SectionLinks, render_summary};
use crate::ports::{
    ObjectUpload, PresignedLink, ReportObjects, ReportSource, ReportStore, ReportWindow, StoreError,
};
use sha2::{Digest, Sha256};

/// Settings of the report service (from the reports functions' config).
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// WABAs whose pulled Meta data (spend, reconciliation) reports read.
    pub wabas: Vec<String>,
    pub sla_seconds: i64,
    /// Days a report (record and file) is kept.
    pub retention_days: i64,
    pub links: LinkPolicy,
    /// Upload part size (≥ 5 MiB for S3 multipart).
    pub part_bytes: usize,
    /// Prefix every CSV with a UTF-8 byte-order mark (Excel needs it for non-ASCII text).
    pub bom: bool,
}

impl ReportSettings {
    /// The settings the reports functions run with (`ReportsConfig`), whatever the ports.
    pub fn from_config(config: &crate::config::ReportsConfig) -> Self {
        Self {
            wabas: config.waba_ids.clone(),
            sla_seconds: config.sla_seconds,
            retention_days: config.retention_days,
            links: LinkPolicy {
                default_seconds: config.link_default_seconds,
                max_seconds: config.link_max_seconds,
            },
            part_bytes: 8 * 1024 * 1024,
            bom: config.csv_bom,
        }
    }
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self {
            wabas: Vec::new(),
            sla_seconds: DEFAULT_SLA_SECONDS,
            retention_days: 30,
            links: LinkPolicy::default(),
            part_bytes: 8 * 1024 * 1024,
            bom: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("CSV: {0}")]
    Csv(String),
    #[error("report {0} not found")]
    NotFound(String),
    #[error("report {0} is not ready")]
    NotReady(String),
}

/// What a finished file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// Rows → CSV bytes → parts. Counts rows (header excluded), bytes and the SHA-256.
struct CsvParts<U: ObjectUpload> {
    upload: Option<U>,
    csv: csv::Writer<Vec<u8>>,
    part_bytes: usize,
    hasher: Sha256,
    rows: u64,
    bytes: u64,
}

impl<U: ObjectUpload> CsvParts<U> {
    fn writer(buf: Vec<u8>) -> csv::Writer<Vec<u8>> {
        csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(buf)
    }

    fn new(upload: U, part_bytes: usize, bom: bool) -> Self {
        let mut buf = Vec::with_capacity(part_bytes + 64 * 1024);
        if bom {
            buf.extend_from_slice("\u{feff}".as_bytes());
        }
        Self {
            upload: Some(upload),
            csv: Self::writer(buf),
            part_bytes,
            hasher: Sha256::new(),
            rows: 0,
            bytes: 0,
        }
    }

    async fn header(&mut self, header: &[&str]) -> Result<(), ReportError> {
        self.csv
            .write_record(header)
            .map_err(|e| ReportError::Csv(e.to_string()))?;
        self.spill().await
    }

    async fn row(&mut self, cells: &[String]) -> Result<(), ReportError> {
        self.csv
            .write_record(cells)
            .map_err(|e| ReportError::Csv(e.to_string()))?;
        self.rows += 1;
        self.spill().await
    }

    /// The bytes written so far; the writer goes on with an empty buffer of part size.
    fn take_buffer(&mut self) -> Result<Vec<u8>, ReportError> {
        let fresh = Self::writer(Vec::with_capacity(self.part_bytes + 64 * 1024));
        let buf = std::mem::replace(&mut self.csv, fresh)
            .into_inner()
            .map_err(|e| ReportError::Csv(e.to_string()))?;
        self.hasher.update(&buf);
        self.bytes += buf.len() as u64;
        Ok(buf)
    }

    /// Uploads a part once the buffer holds one.
    async fn spill(&mut self) -> Result<(), ReportError> {
        if self.csv.get_ref().len() < self.part_bytes {
            return Ok(());
        }
        let part = self.take_buffer()?;
        match self.upload.as_mut() {
            Some(u) => u.part(part).await.map_err(ReportError::from),
            None => Err(ReportError::Csv("upload already finished".into())),
        }
    }

    async fn finish(mut self) -> Result<Written, ReportError> {
        let last = self.take_buffer()?;
        let upload = self
            .upload
            .take()
            .ok_or_else(|| ReportError::Csv("upload already finished".into()))?;
        upload.finish(last).await?;
        Ok(Written {
            rows: self.rows,
            bytes: self.bytes,
            sha256: hex::encode(self.hasher.finalize()),
        })
    }

    async fn abort(mut self) {
        if let Some(u) = self.upload.take() {
            u.abort().await;
        }
    }
}

async fn write_rows<U: ObjectUpload, R: CsvRow>(
    out: &mut CsvParts<U>,
    rows: &[R],
) -> Result<(), ReportError> {
    out.header(R::header()).await?;
    for r in rows {
        out.row(&r.cells()).await?;
    }
    Ok(())
}

/// The slice of a messages export read at once.
const SLICE_SECONDS: i64 = 6 * 3_600;

pub struct ReportService<S, R, O> {
    pub source: S,
    pub store: R,
    pub objects: O,
    pub settings: ReportSettings,
}

/// The object key of a report file.
pub fn object_key(rec: &ReportRecord) -> String {
    match rec.kind {
        ReportKind::Summary => format!("{}/summary.html", report_dir(rec)),
        kind => format!("{}/{}.csv", report_dir(rec), kind.as_str()),
    }
}

/// The folder of a report's files: `reports/ondemand/<id>` or
/// `reports/scheduled/<daily|weekly>/<id>`.
pub fn report_dir(rec: &ReportRecord) -> String {
    match rec.origin.strip_prefix("scheduled:") {
        Some(schedule) => format!("reports/scheduled/{schedule}/{}", rec.id),
        None => format!("reports/ondemand/{}", rec.id),
    }
}

/// The sections of the summary page, each also written as its own CSV beside the page.
pub const SUMMARY_SECTIONS: [ReportKind; 9] = [
    ReportKind::Conversations,
    ReportKind::Templates,
    ReportKind::Spend,
    ReportKind::ResponseTimes,
    ReportKind::Volume,
    ReportKind::Failures,
    ReportKind::Consent,
    ReportKind::Campaigns,
    ReportKind::Reconciliation,
];

/// Where a section's link goes in the stored page until a fresh link replaces it.
fn placeholder(kind: ReportKind) -> String {
    format!("wa-link-{}-end", kind.as_str())
}

/// The stored page with placeholders instead of links (links are signed per request).
fn template_key(rec: &ReportRecord) -> String {
    format!("{}/summary.template.html", report_dir(rec))
}

impl<S: ReportSource, R: ReportStore, O: ReportObjects> ReportService<S, R, O> {
    /// The window a request reads: 8 days of history before its period (7-day trailing
    /// averages), 3 days and a second after it (72 h reply window).
    pub fn window(&self, req: &ReportRequest) -> ReportWindow {
        let (lo, hi) = req.bounds();
        ReportWindow {
            lo: lo - 8 * 86_400,
            hi: hi + 3 * 86_400 + 1,
            from_day: req.from - chrono::Duration::days(8),
            to_day: req.to + chrono::Duration::days(1),
            wabas: {
                let access = req.access();
                let mut w = self.settings.wabas.clone();
                w.retain(|x| access.allows(x));
                w
            },
            with_history: req.kind == ReportKind::ResponseTimes,
            messages: true,
        }
    }

    /// The inputs of a report that needs no message item, in a zone whose offsets are whole
    /// slots over the window, from a source that keeps rollups:
    /// - the message rollups for what only adds message tallies up (conversations, failures,
    ///   reconciliation, volume, the template counts);
    /// - the person rollups for templates' replies and response times, and for the summary
    ///   page (every section), for a caller who sees every WABA;
    /// - consent, campaigns and spend need neither: their events, leads and Meta's days.
    ///
    /// `None` otherwise: the report reads the messages. Reads the slots, the leads, the
    /// consent events and conversions, and Meta's days: O(days × dimensions) items and one
    /// per event or lead, never a message.
    async fn rolled_inputs(
        &self,
        req: &ReportRequest,
        access: &Access,
    ) -> Result<Option<Inputs>, ReportError> {
        let all = *access == Access::All;
        // (served without messages, reads the message slots, reads the person facts)
        let (eligible, tallies, facts) = match req.kind {
            ReportKind::Conversations | ReportKind::Failures | ReportKind::Reconciliation => {
                (true, true, false)
            }
            // Unfiltered, volume counts every conversion from its slots, which are not kept
            // per WABA; filtered to a number, it counts the conversions of that number's
            // leads, read one by one like a restricted caller's.
            ReportKind::Volume => (req.phone_number_id.is_some() || all, true, false),
            // Their own facts: consent events, leads and conversions, Meta's days.
            ReportKind::Consent | ReportKind::Campaigns | ReportKind::Spend => (true, false, false),
            // Person facts are kept for the unfiltered view and each number's, not per WABA:
            // a restricted caller's replies and waits are read from the messages.
            ReportKind::Templates | ReportKind::ResponseTimes | ReportKind::Summary => {
                (all, true, true)
            }
            ReportKind::Messages | ReportKind::Leads => (false, false, false),
        };
        let mut window = self.window(req);
        let tz = req.query(self.settings.sla_seconds).tz;
        if !eligible || !slots_are_exact(tz, window.lo, window.hi) {
            return Ok(None);
        }
        let tallies = if tallies {
            let Some(t) = self.source.rollups(window.lo, window.hi).await? else {
                return Ok(None);
            };
            t
        } else {
            Vec::new()
        };
        let facts = if facts {
            let Some(f) = self.source.facts(window.lo, window.hi).await? else {
                return Ok(None);
            };
            Some(f)
        } else {
            None
        };
        window.messages = false;
        window.with_history = false;
        let mut inputs = self.source.inputs(&window).await?;
        inputs.tallies = Some(tallies);
        inputs.facts = facts;
        Ok(Some(self.restrict(inputs, access).await?))
    }

    /// What a summary page reads: the rollups when they serve every section, else every
    /// message of the window and every earlier message of its people.
    async fn summary_inputs(
        &self,
        req: &ReportRequest,
        access: &Access,
    ) -> Result<Inputs, ReportError> {
        if let Some(rolled) = self.rolled_inputs(req, access).await? {
            return Ok(rolled);
        }
        let mut window = self.window(req);
        window.with_history = true;
        self.read_inputs(&window, access, req.kind).await
    }

    /// The facts of a window that `access` may see, with their message tallies and (for
    /// `kind`s that read them) person facts derived once, so the families and the summary's
    /// sections do not each derive them again.
    async fn read_inputs(
        &self,
        window: &ReportWindow,
        access: &Access,
        kind: ReportKind,
    ) -> Result<Inputs, ReportError> {
        let inputs = self.source.inputs(window).await?;
        let mut inputs = self.restrict(inputs, access).await?;
        inputs.tallies = Some(tallies_of(&inputs));
        if matches!(
            kind,
            ReportKind::Templates | ReportKind::ResponseTimes | ReportKind::Summary
        ) {
            inputs.facts = Some(facts_of(&inputs));
        }
        Ok(inputs)
    }

    /// Only the facts `access` may see (the tenancy of their leads and numbers read once).
    async fn restrict(&self, inputs: Inputs, access: &Access) -> Result<Inputs, ReportError> {
        if *access == Access::All {
            return Ok(inputs);
        }
        let (leads, phones) = inputs.tenancy_keys();
        let tenancy = self.source.tenancy(&leads, &phones).await?;
        Ok(inputs.restrict(access, &tenancy))
    }

    /// A new record for a request (not stored yet).
    pub fn new_record(
        &self,
        id: String,
        req: &ReportRequest,
        created_by: &str,
        origin: &str,
        now: i64,
    ) -> ReportRecord {
        let mut rec = ReportRecord {
            id,
            kind: req.kind,
            request_json: serde_json::to_string(req).unwrap_or_default(),
            status: ReportStatus::Running,
            created_at: now,
            created_by: created_by.to_string(),
            origin: origin.to_string(),
            object_key: None,
            rows: None,
            bytes: None,
            sha256: None,
            reason: None,
            finished_at: None,
            expires_at: Some(now + self.settings.retention_days * 86_400),
        };
        rec.object_key = Some(object_key(&rec));
        rec
    }

    /// Runs a report whose record exists as `running`, and stores how it ended.
    pub async fn run(&self, mut rec: ReportRecord, now: impl Fn() -> i64) -> ReportRecord {
        let req: Result<ReportRequest, _> = serde_json::from_str(&rec.request_json);
        let outcome = match req {
            Ok(req) => self.generate(&req, &rec).await,
            Err(e) => Err(ReportError::Csv(format!("stored request unreadable: {e}"))),
        };
        match outcome {
            Ok(w) => {
                crate::telemetry::emit_metrics(
                    "reports",
                    &[("Kind", rec.kind.as_str())],
                    &[
                        ("ReportRows", w.rows as f64, "Count"),
                        ("ReportsReady", 1.0, "Count"),
                    ],
                );
                rec.status = ReportStatus::Ready;
                rec.rows = Some(w.rows);
                rec.bytes = Some(w.bytes);
                rec.sha256 = Some(w.sha256);
            }
            Err(e) => {
                tracing::error!(report = %rec.id, error = %e, "report failed");
                crate::telemetry::emit_metrics("reports", &[], &[("ReportsFailed", 1.0, "Count")]);
                rec.status = ReportStatus::Failed;
                // What a manager reads: the cause, short (details are in the logs).
                let reason: String = e.to_string().chars().take(300).collect();
                rec.reason = Some(reason);
            }
        }
        rec.finished_at = Some(now());
        if let Err(e) = self.store.put(&rec).await {
            tracing::error!(report = %rec.id, error = %e, "report state not stored");
        }
        rec
    }

    /// Computes the request's rows and writes its file.
    pub async fn generate(
        &self,
        req: &ReportRequest,
        rec: &ReportRecord,
    ) -> Result<Written, ReportError> {
        if req.kind == ReportKind::Summary {
            return self.generate_summary(req, rec).await;
        }
        let key = rec.object_key.clone().unwrap_or_else(|| object_key(rec));
        let (lo, hi) = req.bounds();
        let access = req.access();
        let leads = if req.kind == ReportKind::Leads {
            let mut leads = self.source.leads_created(lo, hi).await?;
            leads.retain(|l| l.visible_to(&access));
            Some(leads)
        } else {
            None
        };
        let inputs = if matches!(req.kind, ReportKind::Leads | ReportKind::Messages) {
            Inputs::default()
        } else if let Some(rolled) = self.rolled_inputs(req, &access).await? {
            rolled
        } else {
            self.read_inputs(&self.window(req), &access, req.kind)
                .await?
        };
        let q = req.query(self.settings.sla_seconds);
        let upload = self
            .objects
            .start(
                &key,
                "text/csv; charset=utf-8",
                &[
                    ("report-id", rec.id.as_str()),
                    ("report-kind", req.kind.as_str()),
                    ("report-request", rec.request_json.as_str()),
                ],
            )
            .await?;
        let mut out = CsvParts::new(
            upload,
            self.settings.part_bytes.max(5 * 1024 * 1024),
            self.settings.bom,
        );
        let written = match self
            .write_kind(&mut out, req, &q, &inputs, leads.as_deref(), lo, hi)
            .await
        {
            Ok(()) => out.finish().await,
            Err(e) => {
                out.abort().await;
                Err(e)
            }
        }?;
        Ok(written)
    }

    /// The summary page: every section's CSV beside it, the previous period of equal length
    /// for the headline changes, and the page stored as a template whose section links are
    /// signed each time a link to the page is (so they live as long as the page's link).
    async fn generate_summary(
        &self,
        req: &ReportRequest,
        rec: &ReportRecord,
    ) -> Result<Written, ReportError> {
        let (lo, hi) = req.bounds();
        let access = req.access();
        let inputs = self.summary_inputs(req, &access).await?;
        let days = (req.to - req.from).num_days() + 1;
        let mut before = req.clone();
        before.to = req.from - chrono::Duration::days(1);
        before.from = before.to - chrono::Duration::days(days - 1);
        let previous = self.summary_inputs(&before, &access).await?;
        let q = req.query(self.settings.sla_seconds);
        let dir = report_dir(rec);
        let mut rows = 0;
        for kind in SUMMARY_SECTIONS {
            let mut section = req.clone();
            section.kind = kind;
            let key = format!("{dir}/{}.csv", kind.as_str());
            let upload = self
                .objects
                .start(
                    &key,
                    "text/csv; charset=utf-8",
                    &[("report-id", rec.id.as_str())],
                )
                .await?;
            let mut out = CsvParts::new(
                upload,
                self.settings.part_bytes.max(5 * 1024 * 1024),
                self.settings.bom,
            );
            match self
                .write_kind(&mut out, &section, &q, &inputs, None, lo, hi)
                .await
            {
                Ok(()) => rows += out.finish().await?.rows,
                Err(e) => {
                    out.abort().await;
                    return Err(e);
                }
            }
        }
        let links = SectionLinks {
            conversations: Some(placeholder(ReportKind::Conversations)),
            templates: Some(placeholder(ReportKind::Templates)),
            spend: Some(placeholder(ReportKind::Spend)),
            response_times: Some(placeholder(ReportKind::ResponseTimes)),
            volume: Some(placeholder(ReportKind::Volume)),
            failures: Some(placeholder(ReportKind::Failures)),
            consent: Some(placeholder(ReportKind::Consent)),
            campaigns: Some(placeholder(ReportKind::Campaigns)),
            reconciliation: Some(placeholder(ReportKind::Reconciliation)),
        };
        let locale = Locale::parse(&req.locale).unwrap_or_default();
        let html = render_summary(&inputs, &q, Some(&previous), &links, locale);
        let upload = self
            .objects
            .start(
                &template_key(rec),
                "text/html; charset=utf-8",
                &[("report-id", rec.id.as_str())],
            )
            .await?;
        upload.finish(html.clone().into_bytes()).await?;
        Ok(Written {
            rows,
            bytes: html.len() as u64,
            sha256: hex::encode(Sha256::digest(html.as_bytes())),
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_kind<U: ObjectUpload>(
        &self,
        out: &mut CsvParts<U>,
        req: &ReportRequest,
        q: &Query,
        inputs: &Inputs,
        leads: Option<&[crate::domain::leads::LeadView]>,
        lo: i64,
        hi: i64,
    ) -> Result<(), ReportError> {
        let access = req.access();
        match req.kind {
            ReportKind::Conversations => write_rows(out, &metrics::conversations(inputs, q)).await,
            ReportKind::Templates => write_rows(out, &metrics::templates(inputs, q)).await,
            ReportKind::Spend => write_rows(out, &metrics::spend(inputs, q)).await,
            ReportKind::ResponseTimes => write_rows(out, &metrics::response_times(inputs, q)).await,
            ReportKind::Volume => write_rows(out, &metrics::volume(inputs, q)).await,
            ReportKind::Failures => write_rows(out, &metrics::failures(inputs, q)).await,
            ReportKind::Consent => write_rows(out, &metrics::consent(inputs, q)).await,
            ReportKind::Campaigns => write_rows(out, &metrics::campaigns(inputs, q)).await,
            ReportKind::Reconciliation => {
                write_rows(out, &metrics::reconciliation(inputs, q)).await
            }
            ReportKind::Messages => {
                // Opt-outs up to 72 h after the period can still point at its messages.
                let (consent, stubs) = self.source.opt_out_facts(lo, hi + 3 * 86_400).await?;
                let opted = metrics::opt_out_attribution(&stubs, &consent);
                out.header(<metrics::MessageRow as CsvRow>::header())
                    .await?;
                // Six hours at a time, in time order: memory holds one slice of messages
                // (≈ 60 MB at a million messages a day).
                let mut start = lo;
                while start <= hi {
                    let end = (start - start.rem_euclid(SLICE_SECONDS) + SLICE_SECONDS - 1).min(hi);
                    let mut slice: Vec<(i64, OutboundMsg)> = self
                        .source
                        .outbound_between(start, end)
                        .await?
                        .into_iter()
                        .filter(|m| {
                            q.phone_number_id
                                .as_deref()
                                .is_none_or(|p| p == m.phone_number_id)
                                && access.allows(&m.waba_id)
                        })
                        .filter_map(|m| {
                            m.anchor().filter(|a| (lo..=hi).contains(a)).map(|a| (a, m))
                        })
                        .collect();
                    slice.sort_by(|a, b| (a.0, &a.1.wamid).cmp(&(b.0, &b.1.wamid)));
                    for (_, m) in &slice {
                        let row = metrics::message_row(m, opted.get(&m.wamid).copied());
                        out.row(&row.cells()).await?;
                    }
                    start = end + 1;
                }
                Ok(())
            }
            ReportKind::Summary => Err(ReportError::Csv(
                "the summary is a page, not a CSV".to_string(),
            )),
            ReportKind::Leads => {
                let mut buf = Vec::new();
                crate::domain::leads::export_csv(leads.unwrap_or_default().iter(), &mut buf)
                    .map_err(|e| ReportError::Csv(e.to_string()))?;
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .from_reader(buf.as_slice());
                let header: Vec<String> = reader
                    .headers()
                    .map_err(|e| ReportError::Csv(e.to_string()))?
                    .iter()
                    .map(str::to_string)
                    .collect();
                let header: Vec<&str> = header.iter().map(String::as_str).collect();
                out.header(&header).await?;
                for record in reader.records() {
                    let record = record.map_err(|e| ReportError::Csv(e.to_string()))?;
                    let cells: Vec<String> = record.iter().map(str::to_string).collect();
                    out.row(&cells).await?;
                }
                Ok(())
            }
        }
    }

    /// A fresh link to a ready report: asked life (or the default), capped by the policy.
    pub async fn link(
        &self,
        rec: &ReportRecord,
        expires_in: Option<i64>,
    ) -> Result<PresignedLink, ReportError> {
        if rec.status != ReportStatus::Ready {
            return Err(ReportError::NotReady(rec.id.clone()));
        }
        let key = rec.object_key.clone().unwrap_or_else(|| object_key(rec));
        let asked = expires_in
            .unwrap_or(self.settings.links.default_seconds)
            .clamp(1, self.settings.links.max_seconds);
        if rec.kind == ReportKind::Summary {
            // The page with fresh section links, signed for the same life as its own.
            let template = self.objects.read(&template_key(rec)).await?;
            let mut html = String::from_utf8_lossy(&template).into_owned();
            let dir = report_dir(rec);
            for kind in SUMMARY_SECTIONS {
                let link = self
                    .objects
                    .presign_get(
                        &format!("{dir}/{}.csv", kind.as_str()),
                        asked,
                        &format!("{}-{}.csv", kind.as_str(), rec.id),
                    )
                    .await?;
                html = html.replace(&placeholder(kind), &link.url.replace('&', "&amp;"));
            }
            let upload = self
                .objects
                .start(
                    &key,
                    "text/html; charset=utf-8",
                    &[("report-id", rec.id.as_str())],
                )
                .await?;
            upload.finish(html.into_bytes()).await?;
            let filename = format!("summary-{}.html", rec.id);
            return Ok(self.objects.presign_get(&key, asked, &filename).await?);
        }
        let filename = format!("{}-{}.csv", rec.kind.as_str(), rec.id);
        Ok(self.objects.presign_get(&key, asked, &filename).await?)
    }
}

/// The service over DynamoDB and S3, as the reports functions run it.
pub type LiveReportService = ReportService<
    crate::adapters::dynamodb::reports::DynamoDbReportSource,
    crate::adapters::dynamodb::reports::DynamoDbReportStore,
    crate::adapters::s3_reports::S3ReportObjects,
>;

/// Wires the live service from config and the SDK's config (clients built once).
pub fn live_service(
    config: &crate::config::ReportsConfig,
    sdk: &aws_config::SdkConfig,
) -> LiveReportService {
    let dynamodb = crate::adapters::aws::dynamodb_client(sdk, None);
    ReportService {
        source: crate::adapters::dynamodb::reports::DynamoDbReportSource::new(
            dynamodb.clone(),
            &config.table_name,
        ),
        store: crate::adapters::dynamodb::reports::DynamoDbReportStore::new(
            dynamodb,
            &config.table_name,
        ),
        objects: crate::adapters::s3_reports::S3ReportObjects::new(
            crate::adapters::aws::s3_client(sdk),
            &config.bucket_name,
            sdk.credentials_provider(),
        ),
        settings: ReportSettings::from_config(config),
    }
}

/// 64 unpredictable bits for report ids: SipHash keyed by the process's random keys
/// (`RandomState` seeds from the OS) over the clock and a counter.
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}
