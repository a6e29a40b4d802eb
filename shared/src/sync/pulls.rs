//! The pulls of one WABA: the catalogue, and each windowed kind chunk by chunk (oldest
//! first), every page snapshotted before the rows parsed from it are stored.

use super::report::{ChunkError, Days, KindReport};
use super::{CATALOGUE_FIELDS, CATALOGUE_PAGE, Run, SyncRequest, SyncService};
use crate::domain::analytics::{
    Granularity, PricingDimension, TemplateInsights, TemplateMetric, TemplateRowContext,
    catalogue_rows, messaging_rows, pricing_rows, template_id_batches, template_insights,
    template_rows,
};
use crate::domain::sync::{
    DayWindow, PullKind, SyncKind, advance_watermark, backfill_window, joins_complete_range,
    scheduled_window,
};
use crate::ports::graph::GraphPull;
use crate::ports::{AnalyticsStore, GraphSource, RawStore, StoreError};
use chrono::{Duration, NaiveDate};

#[derive(Debug, Default)]
struct ChunkStats {
    pages: usize,
    rows: usize,
    snapshots: usize,
    notes: Vec<String>,
}

impl ChunkStats {
    /// One pull's pages, the rows stored from it, its snapshots, and its unknown fields.
    fn of<T>(pull: &GraphPull<T>, rows: usize, snapshots: usize) -> Self {
        let mut stats = ChunkStats {
            pages: pull.pages.len(),
            rows,
            snapshots,
            notes: Vec::new(),
        };
        note_unknown_fields(&mut stats.notes, pull);
        stats
    }
}

impl<G: GraphSource, R: RawStore, S: AnalyticsStore> SyncService<G, R, S> {
    pub(super) async fn pull_catalogue(
        &self,
        waba: &str,
        run: &Run,
    ) -> (KindReport, Option<Vec<String>>) {
        let mut report = KindReport::new(waba, SyncKind::Catalogue);
        let result: Result<_, ChunkError> = async {
            let pull = self
                .graph
                .message_templates(waba, &CATALOGUE_FIELDS, CATALOGUE_PAGE)
                .await?;
            let snapshots = self
                .snapshot(SyncKind::Catalogue, waba, run, "catalogue", &pull)
                .await?;
            let rows: Vec<_> = pull.values().flat_map(catalogue_rows).collect();
            let changes = self
                .store
                .put_catalogue(waba, &rows, run.started_at)
                .await?;
            Ok((pull, snapshots, rows, changes))
        }
        .await;
        match result {
            Ok((pull, snapshots, rows, changes)) => {
                report.pages = pull.pages.len();
                report.snapshots = snapshots;
                report.rows_stored = changes.stored;
                report.stored_through = Some(run.today);
                report.notes.push(format!(
                    "{} templates: {} new, {} with a status, quality or category change",
                    rows.len(),
                    changes.new,
                    changes.changed
                ));
                note_unknown_fields(&mut report.notes, &pull);
                let ids = rows.into_iter().map(|r| r.template_id).collect();
                (report, Some(ids))
            }
            Err(e) => (report.failed(&e), None),
        }
    }

    pub(super) async fn pull_windowed(
        &self,
        waba: &str,
        kind: PullKind,
        request: &SyncRequest,
        template_ids: Option<&[String]>,
        run: &Run,
    ) -> KindReport {
        let mut report = KindReport::new(waba, kind.into());
        let before = match self.store.watermark(waba, kind).await {
            Ok(w) => w,
            Err(e) => return report.failed(&ChunkError::Store(e)),
        };
        report.watermark_before = before;
        report.watermark_after = before;
        let window = match request {
            SyncRequest::Scheduled { .. } => scheduled_window(kind, before, run.today),
            SyncRequest::Backfill { from, to, .. } => {
                match backfill_window(kind, *from, *to, run.today) {
                    Ok((w, clamped)) => {
                        if clamped {
                            report.notes.push(format!(
                                "backfill start {from} is older than Meta's {}-day lookback for {}: pulled from {} instead",
                                kind.lookback_days(),
                                kind.as_str(),
                                w.start
                            ));
                        }
                        w
                    }
                    Err(e) => return report.skipped(e.to_string()),
                }
            }
        };
        report.window = window.last_day().map(|last| Days {
            first: window.start,
            last,
        });
        let mut ctx = TemplateRowContext {
            metrics: TemplateMetric::ALL.to_vec(),
            clicks_available: !self.settings.clicks_unavailable.contains(waba),
        };
        let mut ids: &[String] = &[];
        if kind == PullKind::Templates {
            match template_ids {
                None => {
                    return report.skipped(
                        "the template catalogue could not be pulled, so there are no template ids to ask for",
                    );
                }
                Some([]) => return report.skipped("the WABA has no templates"),
                Some(list) => ids = list,
            }
            match self.graph.insights_enabled(waba).await {
                Ok(page) if page.value.is_enabled_for_insights == Some(true) => {}
                Ok(_) => {
                    return report.skipped(format!(
                        "template analytics are not enabled on WABA {waba} (is_enabled_for_insights is false), so Meta has no per-template data: nothing is stored, not zeros. Enable it with POST /<version>/{waba}?is_enabled_for_insights=true (Meta cannot turn it off again)"
                    ));
                }
                Err(e) => return report.failed(&ChunkError::Graph(e)),
            }
            if !ctx.clicks_available {
                report.notes.push(
                    "clicks are not reported by Meta in this WABA's region: stored as clicks_state = unavailable_in_region".into(),
                );
            }
        }
        ctx.metrics = TemplateMetric::ALL.to_vec();
        let mut watermark = before;
        let mut gap_noted = false;
        for chunk in window.chunks(self.settings.chunk_days) {
            let result = match kind {
                PullKind::Pricing => self.pricing_chunk(waba, chunk, run).await,
                PullKind::Templates => self.templates_chunk(waba, ids, &ctx, chunk, run).await,
                PullKind::Messaging => self.messaging_chunk(waba, chunk, run).await,
            };
            let stats = match result {
                Ok(stats) => stats,
                Err(e) => {
                    report.watermark_after = watermark;
                    return report.failed(&e);
                }
            };
            report.pages += stats.pages;
            report.rows_stored += stats.rows;
            report.snapshots += stats.snapshots;
            report.notes.extend(stats.notes);
            report.stored_through = chunk.last_day();
            if joins_complete_range(kind, watermark, chunk.start, run.today) {
                let next = advance_watermark(watermark, chunk.last_day(), run.today);
                if next > watermark
                    && let Some(day) = next
                {
                    if let Err(e) = self.store.advance_watermark(waba, kind, day).await {
                        report.watermark_after = watermark;
                        return report.failed(&ChunkError::Store(e));
                    }
                    watermark = next;
                }
            } else if !gap_noted {
                gap_noted = true;
                report.notes.push(format!(
                    "watermark not moved: {} does not join the complete range (watermark {}); the days between are pulled by the next scheduled run",
                    chunk.start,
                    watermark.map_or("none".to_string(), |w| w.to_string())
                ));
            }
        }
        report.watermark_after = watermark;
        report
    }

    async fn pricing_chunk(
        &self,
        waba: &str,
        chunk: DayWindow,
        run: &Run,
    ) -> Result<ChunkStats, ChunkError> {
        let (start, end) = padded(chunk);
        let pull = self
            .graph
            .pricing_analytics(waba, start, end, Granularity::Daily, &PricingDimension::ALL)
            .await?;
        let snapshots = self
            .snapshot(SyncKind::Pricing, waba, run, &chunk_label(chunk), &pull)
            .await?;
        // Buckets follow the WABA's time zone, so the request is padded a day each side and
        // only buckets that start inside the request and fall on the chunk's days are kept.
        let rows: Vec<_> = pull
            .values()
            .flat_map(|v| pricing_rows(v, &[]))
            .filter(|r| r.start.0 >= start && in_window(chunk, r.day))
            .collect();
        let stored = self.store.put_pricing_rows(waba, &rows).await?;
        Ok(ChunkStats::of(&pull, stored, snapshots))
    }

    async fn messaging_chunk(
        &self,
        waba: &str,
        chunk: DayWindow,
        run: &Run,
    ) -> Result<ChunkStats, ChunkError> {
        let (start, end) = padded(chunk);
        let pull = self
            .graph
            .messaging_analytics(waba, start, end, Granularity::Daily)
            .await?;
        let snapshots = self
            .snapshot(SyncKind::Messaging, waba, run, &chunk_label(chunk), &pull)
            .await?;
        let rows: Vec<_> = pull
            .values()
            .flat_map(messaging_rows)
            .filter(|r| r.start.0 >= start && in_window(chunk, r.day))
            .collect();
        let stored = self.store.put_messaging_rows(waba, &rows).await?;
        Ok(ChunkStats::of(&pull, stored, snapshots))
    }

    /// Every template, ten per request; the chunk is stored only when every batch answered.
    async fn templates_chunk(
        &self,
        waba: &str,
        ids: &[String],
        ctx: &TemplateRowContext,
        chunk: DayWindow,
        run: &Run,
    ) -> Result<ChunkStats, ChunkError> {
        // Template analytics days are UTC days: no padding needed.
        let start = midnight(chunk.start);
        let end = midnight(chunk.end);
        let mut stats = ChunkStats::default();
        let mut rows = Vec::new();
        let mut silent = 0;
        for (b, batch) in template_id_batches(ids).enumerate() {
            let pull = self
                .graph
                .template_analytics(waba, batch, start, end, &ctx.metrics)
                .await?;
            stats.snapshots += self
                .snapshot(
                    SyncKind::Templates,
                    waba,
                    run,
                    &format!("{}-b{b:02}", chunk_label(chunk)),
                    &pull,
                )
                .await?;
            stats.pages += pull.pages.len();
            note_unknown_fields(&mut stats.notes, &pull);
            let batch_rows: Vec<_> = pull
                .values()
                .flat_map(|v| template_rows(v, ctx))
                .filter(|r| in_window(chunk, r.day))
                .collect();
            silent += template_insights(batch, batch_rows.clone(), true)
                .iter()
                .filter(|(_, s)| *s == TemplateInsights::NoDataPoints)
                .count();
            rows.extend(batch_rows);
        }
        stats.rows = self.store.put_template_rows(waba, &rows).await?;
        if silent > 0 {
            stats.notes.push(format!(
                "{silent} of {} templates had no data points for {}: none stored (not zeros)",
                ids.len(),
                chunk_label(chunk)
            ));
        }
        Ok(stats)
    }

    /// Writes every page of a pull to S3 as Meta sent it:
    /// `<prefix><kind>/<waba>/<run day>/<run id>/<label>-p<page>.json`.
    async fn snapshot<T>(
        &self,
        kind: SyncKind,
        waba: &str,
        run: &Run,
        label: &str,
        pull: &GraphPull<T>,
    ) -> Result<usize, StoreError> {
        for (i, page) in pull.pages.iter().enumerate() {
            let key = format!(
                "{}{kind}/{waba}/{}/{}/{label}-p{i:03}.json",
                self.settings.snapshot_prefix, run.today, run.id
            );
            self.snapshots
                .put_raw(
                    &key,
                    page.body.as_bytes(),
                    &[("graph-request", &page.request), ("run-id", &run.id)],
                )
                .await?;
        }
        Ok(pull.pages.len())
    }
}

fn midnight(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp())
}

/// The request range for a chunk of time-zone-aligned buckets: a day of margin each side.
fn padded(chunk: DayWindow) -> (i64, i64) {
    (
        midnight(chunk.start - Duration::days(1)),
        midnight(chunk.end + Duration::days(1)),
    )
}

fn in_window(w: DayWindow, day: NaiveDate) -> bool {
    w.start <= day && day < w.end
}

fn chunk_label(w: DayWindow) -> String {
    match w.last_day() {
        Some(last) => format!("{}_{last}", w.start),
        None => w.start.to_string(),
    }
}

fn note_unknown_fields<T>(notes: &mut Vec<String>, pull: &GraphPull<T>) {
    let unknown = pull.unknown_fields();
    if !unknown.is_empty() {
        notes.push(format!(
            "fields the model does not know (kept in the raw snapshot): {}",
            unknown.join(", ")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pricing_requests_are_padded_a_day_each_side() {
        let chunk = DayWindow {
            start: "2026-11-01".parse().unwrap(),
            end: "2026-11-03".parse().unwrap(),
        };
        assert_eq!(
            padded(chunk),
            (
                midnight("2026-10-31".parse().unwrap()),
                midnight("2026-11-04".parse().unwrap())
            )
        );
        assert_eq!(chunk_label(chunk), "2026-11-01_2026-11-02");
    }
}
