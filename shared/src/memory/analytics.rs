//! `MemoryAnalyticsStore`: the [`AnalyticsStore`] port in memory, for fast tests of the sync
//! service and the meta-sync handler. Same contract as `DynamoDbAnalyticsStore` (rows
//! overwritten per key, catalogue history only on change, watermarks only forward), plus
//! failures on demand ([`MemoryAnalyticsStore::fail`]). Clones share one store, so a test
//! keeps a clone to look inside after handing one to the code under test.

use crate::domain::analytics::{MessagingRow, PricingRow, TemplateCatalogueRow, TemplateDayRow};
use crate::domain::sync::{Outcome, PullKind, SyncKind};
use crate::ports::{AnalyticsStore, CatalogueChanges, RunRecord, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// One operation of the port, to make it fail on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalyticsOp {
    PutPricing,
    PutTemplates,
    PutMessaging,
    PutCatalogue,
    RecordRun,
    Watermark,
    AdvanceWatermark,
}

/// The last run recorded for a WABA × kind (the `SYNC#<waba>` item's `last_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRun {
    pub run_id: String,
    pub at: DateTime<Utc>,
    pub outcome: Outcome,
    pub reason: Option<String>,
}

/// One catalogue history entry (`CATHIST#`): an aspect's change, or its first value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueChange {
    pub template_id: String,
    pub aspect: &'static str,
    pub at: DateTime<Utc>,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    /// (WABA, day, dimensions key) → row.
    pricing: BTreeMap<(String, NaiveDate, String), PricingRow>,
    /// (template id, day) → row.
    templates: BTreeMap<(String, NaiveDate), TemplateDayRow>,
    /// (WABA, day) → row.
    messaging: BTreeMap<(String, NaiveDate), MessagingRow>,
    /// Template id → (WABA, row).
    catalogue: BTreeMap<String, (String, TemplateCatalogueRow)>,
    history: Vec<CatalogueChange>,
    watermarks: BTreeMap<(String, PullKind), NaiveDate>,
    runs: BTreeMap<(String, SyncKind), StoredRun>,
    /// Operations to fail, and how many more times.
    failures: Vec<(AnalyticsOp, usize)>,
    /// Successful writes, all operations together.
    writes: usize,
}

#[derive(Debug, Clone, Default)]
pub struct MemoryAnalyticsStore {
    state: Arc<Mutex<State>>,
}

impl MemoryAnalyticsStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock has failed already; keep reading.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next `times` calls of `op` fail with [`StoreError::Unavailable`].
    pub fn fail(&self, op: AnalyticsOp, times: usize) {
        self.lock().failures.push((op, times));
    }

    /// Sets a watermark directly (a test's GIVEN), forward or not.
    pub fn set_watermark(&self, waba_id: &str, kind: PullKind, day: NaiveDate) {
        self.lock()
            .watermarks
            .insert((waba_id.to_string(), kind), day);
    }

    pub fn watermark_of(&self, waba_id: &str, kind: PullKind) -> Option<NaiveDate> {
        self.lock()
            .watermarks
            .get(&(waba_id.to_string(), kind))
            .copied()
    }

    pub fn last_run(&self, waba_id: &str, kind: SyncKind) -> Option<StoredRun> {
        self.lock().runs.get(&(waba_id.to_string(), kind)).cloned()
    }

    /// A WABA's stored pricing rows, by day then dimensions.
    pub fn pricing_rows(&self, waba_id: &str) -> Vec<PricingRow> {
        self.lock()
            .pricing
            .iter()
            .filter(|((w, _, _), _)| w == waba_id)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// Every stored template row, by template then day.
    pub fn template_rows(&self) -> Vec<TemplateDayRow> {
        self.lock().templates.values().cloned().collect()
    }

    pub fn messaging_rows(&self, waba_id: &str) -> Vec<MessagingRow> {
        self.lock()
            .messaging
            .iter()
            .filter(|((w, _), _)| w == waba_id)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// A WABA's catalogue as last pulled, by template id.
    pub fn catalogue(&self, waba_id: &str) -> Vec<TemplateCatalogueRow> {
        self.lock()
            .catalogue
            .values()
            .filter(|(w, _)| w == waba_id)
            .map(|(_, r)| r.clone())
            .collect()
    }

    pub fn catalogue_history(&self) -> Vec<CatalogueChange> {
        self.lock().history.clone()
    }

    /// Successful writes so far (rows, catalogue entries, watermarks, run records).
    pub fn writes(&self) -> usize {
        self.lock().writes
    }

    /// The state, locked, unless `op` is due to fail.
    fn ready(&self, op: AnalyticsOp) -> Result<MutexGuard<'_, State>, StoreError> {
        let mut state = self.lock();
        if let Some(f) = state.failures.iter_mut().find(|(o, n)| *o == op && *n > 0) {
            f.1 -= 1;
            return Err(StoreError::Unavailable(format!(
                "{op:?}: injected outage (memory store)"
            )));
        }
        Ok(state)
    }
}

impl AnalyticsStore for MemoryAnalyticsStore {
    async fn put_pricing_rows(
        &self,
        waba_id: &str,
        rows: &[PricingRow],
    ) -> Result<usize, StoreError> {
        let mut state = self.ready(AnalyticsOp::PutPricing)?;
        for r in rows {
            let key = (waba_id.to_string(), r.day, r.dimensions.key());
            state.pricing.insert(key, r.clone());
        }
        state.writes += rows.len();
        Ok(rows.len())
    }

    async fn put_template_rows(
        &self,
        _waba_id: &str,
        rows: &[TemplateDayRow],
    ) -> Result<usize, StoreError> {
        let mut state = self.ready(AnalyticsOp::PutTemplates)?;
        for r in rows {
            state
                .templates
                .insert((r.template_id.clone(), r.day), r.clone());
        }
        state.writes += rows.len();
        Ok(rows.len())
    }

    async fn put_messaging_rows(
        &self,
        waba_id: &str,
        rows: &[MessagingRow],
    ) -> Result<usize, StoreError> {
        let mut state = self.ready(AnalyticsOp::PutMessaging)?;
        for r in rows {
            state
                .messaging
                .insert((waba_id.to_string(), r.day), r.clone());
        }
        state.writes += rows.len();
        Ok(rows.len())
    }

    async fn put_catalogue(
        &self,
        waba_id: &str,
        rows: &[TemplateCatalogueRow],
        pulled_at: DateTime<Utc>,
    ) -> Result<CatalogueChanges, StoreError> {
        let mut state = self.ready(AnalyticsOp::PutCatalogue)?;
        let mut changes = CatalogueChanges::default();
        for row in rows {
            let old = state
                .catalogue
                .insert(row.template_id.clone(), (waba_id.to_string(), row.clone()))
                .map(|(_, r)| r);
            changes.stored += 1;
            if old.is_none() {
                changes.new += 1;
            }
            let mut changed = false;
            for (aspect, before, after) in [
                (
                    "status",
                    old.as_ref().and_then(|o| o.status.clone()),
                    row.status.clone(),
                ),
                (
                    "quality_score",
                    old.as_ref().and_then(|o| o.quality_score.clone()),
                    row.quality_score.clone(),
                ),
                (
                    "category",
                    old.as_ref().and_then(|o| o.category.clone()),
                    row.category.clone(),
                ),
            ] {
                // As the DynamoDB store: a known template's unchanged aspect and a new
                // template's absent one write nothing.
                if (old.is_some() && before == after) || (old.is_none() && after.is_none()) {
                    continue;
                }
                changed |= old.is_some();
                state.history.push(CatalogueChange {
                    template_id: row.template_id.clone(),
                    aspect,
                    at: pulled_at,
                    from: before,
                    to: after,
                });
            }
            if changed {
                changes.changed += 1;
            }
        }
        state.writes += changes.stored;
        Ok(changes)
    }

    async fn record_run(
        &self,
        waba_id: &str,
        kind: SyncKind,
        run: &RunRecord<'_>,
    ) -> Result<(), StoreError> {
        let mut state = self.ready(AnalyticsOp::RecordRun)?;
        state.runs.insert(
            (waba_id.to_string(), kind),
            StoredRun {
                run_id: run.run_id.to_string(),
                at: run.at,
                outcome: run.outcome,
                reason: run.reason.map(str::to_string),
            },
        );
        state.writes += 1;
        Ok(())
    }

    async fn watermark(
        &self,
        waba_id: &str,
        kind: PullKind,
    ) -> Result<Option<NaiveDate>, StoreError> {
        let state = self.ready(AnalyticsOp::Watermark)?;
        Ok(state.watermarks.get(&(waba_id.to_string(), kind)).copied())
    }

    async fn advance_watermark(
        &self,
        waba_id: &str,
        kind: PullKind,
        day: NaiveDate,
    ) -> Result<bool, StoreError> {
        let mut state = self.ready(AnalyticsOp::AdvanceWatermark)?;
        let key = (waba_id.to_string(), kind);
        if state.watermarks.get(&key).is_some_and(|w| *w >= day) {
            return Ok(false);
        }
        state.watermarks.insert(key, day);
        state.writes += 1;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn watermarks_only_move_forward_and_failures_come_on_demand() {
        let store = MemoryAnalyticsStore::new();
        assert!(
            store
                .advance_watermark("w", PullKind::Pricing, d("2026-11-20"))
                .await
                .unwrap()
        );
        assert!(
            !store
                .advance_watermark("w", PullKind::Pricing, d("2026-11-10"))
                .await
                .unwrap()
        );
        assert_eq!(
            store.watermark("w", PullKind::Pricing).await.unwrap(),
            Some(d("2026-11-20"))
        );
        assert_eq!(store.watermark_of("w", PullKind::Templates), None);
        store.fail(AnalyticsOp::Watermark, 1);
        assert!(matches!(
            store.watermark("w", PullKind::Pricing).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(store.watermark("w", PullKind::Pricing).await.is_ok());
    }
}
