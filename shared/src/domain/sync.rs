//! Pull windows for the scheduled Meta pulls: per WABA and kind, a watermark marks the last
//! day whose data is complete. Each run re-pulls the last 7 days (Meta keeps updating read and
//! click counts for 7 days), moves forward to today, and never reaches beyond Meta's lookback.
//! A first run pulls the whole lookback: Meta forgets (1 year for pricing and messaging, 90
//! days for template analytics) and we must not. Pure rules; the meta-sync function applies
//! them.

use chrono::{Duration, NaiveDate};
use serde::Serialize;
use std::fmt;

/// Days re-pulled before the watermark on every run.
pub const REPULL_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PullKind {
    /// `pricing_analytics`: volume and cost per day × dimension.
    Pricing,
    /// `template_analytics`: per template × day.
    Templates,
    /// `analytics`: sent/delivered per day, the cross-check.
    Messaging,
}

impl PullKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PullKind::Pricing => "pricing",
            PullKind::Templates => "templates",
            PullKind::Messaging => "messaging",
        }
    }

    pub const ALL: [PullKind; 3] = [PullKind::Pricing, PullKind::Templates, PullKind::Messaging];

    pub fn parse(s: &str) -> Option<PullKind> {
        PullKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// How far back Meta answers, in days including today.
    pub fn lookback_days(self) -> i64 {
        match self {
            PullKind::Pricing | PullKind::Messaging => 365,
            PullKind::Templates => 90,
        }
    }

    /// The earliest day Meta still answers for, seen from `today`.
    pub fn earliest(self, today: NaiveDate) -> NaiveDate {
        today - Duration::days(self.lookback_days() - 1)
    }
}

/// What one run pulls per WABA: the template catalogue (a full list, no window) or one of the
/// windowed kinds. Names are the ones the invocation payload, the report, the `SYNC#<waba>`
/// items and the snapshot keys use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncKind {
    Catalogue,
    Pricing,
    Templates,
    Messaging,
}

impl SyncKind {
    pub const ALL: [SyncKind; 4] = [
        SyncKind::Catalogue,
        SyncKind::Pricing,
        SyncKind::Templates,
        SyncKind::Messaging,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SyncKind::Catalogue => "catalogue",
            SyncKind::Pricing => "pricing",
            SyncKind::Templates => "templates",
            SyncKind::Messaging => "messaging",
        }
    }

    /// A kind as a caller names it (case and surrounding space ignored; `catalog` too).
    pub fn parse(name: &str) -> Option<SyncKind> {
        match name.trim().to_ascii_lowercase().as_str() {
            "catalogue" | "catalog" => Some(SyncKind::Catalogue),
            "pricing" => Some(SyncKind::Pricing),
            "templates" => Some(SyncKind::Templates),
            "messaging" => Some(SyncKind::Messaging),
            _ => None,
        }
    }

    /// The windowed kind (with a watermark), `None` for the catalogue.
    pub fn windowed(self) -> Option<PullKind> {
        match self {
            SyncKind::Catalogue => None,
            SyncKind::Pricing => Some(PullKind::Pricing),
            SyncKind::Templates => Some(PullKind::Templates),
            SyncKind::Messaging => Some(PullKind::Messaging),
        }
    }
}

impl From<PullKind> for SyncKind {
    fn from(kind: PullKind) -> Self {
        match kind {
            PullKind::Pricing => SyncKind::Pricing,
            PullKind::Templates => SyncKind::Templates,
            PullKind::Messaging => SyncKind::Messaging,
        }
    }
}

impl fmt::Display for SyncKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so width and alignment (`{:<10}`) apply.
        f.pad(self.as_str())
    }
}

/// How one pull (one WABA × kind of one run) ended; kept on its `SYNC#<waba>` item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Everything asked for was pulled and stored.
    Complete,
    /// Some chunks were stored; the watermark stops before the first missing one.
    Partial,
    /// Nothing was stored (or the token was rejected).
    Failed,
    /// Not pulled, for a reason that is not a failure (no insights, range beyond lookback).
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Complete => "complete",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }
}

/// Whole days `[start, end)` (UTC calendar days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayWindow {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl DayWindow {
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days().max(0)
    }
    pub fn is_empty(&self) -> bool {
        self.days() == 0
    }
    /// Consecutive chunks of at most `days`, oldest first: pulling in this order lets a
    /// throttled run keep everything before the chunk that failed.
    pub fn chunks(&self, days: i64) -> Vec<DayWindow> {
        let days = days.max(1);
        let mut out = Vec::new();
        let mut start = self.start;
        while start < self.end {
            let end = (start + Duration::days(days)).min(self.end);
            out.push(DayWindow { start, end });
            start = end;
        }
        out
    }
    /// The last day inside the window.
    pub fn last_day(&self) -> Option<NaiveDate> {
        (!self.is_empty()).then(|| self.end - Duration::days(1))
    }
}

/// The window a scheduled run pulls for one WABA and kind: from 7 days before the day after
/// the watermark (or the whole lookback on a first run) through today.
pub fn scheduled_window(
    kind: PullKind,
    watermark: Option<NaiveDate>,
    today: NaiveDate,
) -> DayWindow {
    let earliest = kind.earliest(today);
    let start = match watermark {
        Some(w) => (w + Duration::days(1) - Duration::days(REPULL_DAYS)).max(earliest),
        None => earliest,
    };
    DayWindow {
        start: start.min(today + Duration::days(1)),
        end: today + Duration::days(1),
    }
}

/// The watermark after a run that stored every day up to `complete_through`: today is never
/// complete (Meta is still counting), and a watermark never moves backwards.
pub fn advance_watermark(
    old: Option<NaiveDate>,
    complete_through: Option<NaiveDate>,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let yesterday = today - Duration::days(1);
    let candidate = complete_through.map(|d| d.min(yesterday));
    match (old, candidate) {
        (Some(o), Some(c)) => Some(o.max(c)),
        (o, c) => o.or(c),
    }
}

/// Whether storing a chunk that starts on `chunk_start` lets the watermark move: only when
/// the chunk joins the range already complete (it starts no later than the day after the
/// watermark) or, with no watermark yet, starts at the oldest day Meta still answers. A
/// backfill of a later range with a gap before it stores its data but leaves the watermark,
/// so the gap is still pulled.
pub fn joins_complete_range(
    kind: PullKind,
    watermark: Option<NaiveDate>,
    chunk_start: NaiveDate,
    today: NaiveDate,
) -> bool {
    match watermark {
        Some(w) => chunk_start <= w + Duration::days(1),
        None => chunk_start <= kind.earliest(today),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackfillError {
    #[error("backfill range is empty or reversed: {from} to {to}")]
    Reversed { from: NaiveDate, to: NaiveDate },
    #[error(
        "backfill range {from} to {to} is entirely older than Meta's {days}-day lookback for {kind}"
    )]
    BeyondLookback {
        kind: &'static str,
        days: i64,
        from: NaiveDate,
        to: NaiveDate,
    },
}

/// A backfill of `from..=to`, clamped to what Meta still answers and to today. The second
/// value says whether the start was clamped (the caller reports it, never silently).
pub fn backfill_window(
    kind: PullKind,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> Result<(DayWindow, bool), BackfillError> {
    if from > to {
        return Err(BackfillError::Reversed { from, to });
    }
    let earliest = kind.earliest(today);
    let to = to.min(today);
    if to < earliest {
        return Err(BackfillError::BeyondLookback {
            kind: kind.as_str(),
            days: kind.lookback_days(),
            from,
            to,
        });
    }
    let start = from.max(earliest);
    Ok((
        DayWindow {
            start,
            end: to + Duration::days(1),
        },
        start != from,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_first_run_pulls_the_whole_lookback_through_today() {
        let w = scheduled_window(PullKind::Templates, None, d("2026-11-21"));
        assert_eq!(
            w,
            DayWindow {
                start: d("2026-08-24"),
                end: d("2026-11-22")
            }
        );
        assert_eq!(w.days(), 90);
        assert_eq!(
            scheduled_window(PullKind::Pricing, None, d("2026-11-21")).days(),
            365
        );
    }

    #[test]
    fn later_runs_re_pull_seven_days_and_move_forward() {
        let w = scheduled_window(PullKind::Pricing, Some(d("2026-11-20")), d("2026-11-21"));
        assert_eq!(
            w,
            DayWindow {
                start: d("2026-11-14"),
                end: d("2026-11-22")
            }
        );
        assert_eq!(
            w.days(),
            8,
            "the 7 complete days up to the watermark, plus today"
        );
        // A watermark older than the lookback is clamped to what Meta still answers.
        let w = scheduled_window(PullKind::Templates, Some(d("2025-01-01")), d("2026-11-21"));
        assert_eq!(w.start, d("2026-08-24"));
    }

    #[test]
    fn the_watermark_stops_at_yesterday_and_never_moves_back() {
        let today = d("2026-11-21");
        assert_eq!(
            advance_watermark(None, Some(today), today),
            Some(d("2026-11-20"))
        );
        assert_eq!(
            advance_watermark(Some(d("2026-11-19")), Some(d("2026-11-10")), today),
            Some(d("2026-11-19"))
        );
        assert_eq!(
            advance_watermark(Some(d("2026-11-19")), None, today),
            Some(d("2026-11-19")),
            "nothing complete: unchanged"
        );
        assert_eq!(advance_watermark(None, None, today), None);
    }

    #[test]
    fn chunks_cover_the_window_oldest_first() {
        let w = DayWindow {
            start: d("2026-11-01"),
            end: d("2026-11-21"),
        };
        let chunks = w.chunks(7);
        assert_eq!(chunks.len(), 3);
        assert_eq!(
            chunks[0],
            DayWindow {
                start: d("2026-11-01"),
                end: d("2026-11-08")
            }
        );
        assert_eq!(
            chunks[2],
            DayWindow {
                start: d("2026-11-15"),
                end: d("2026-11-21")
            }
        );
        assert_eq!(chunks.iter().map(DayWindow::days).sum::<i64>(), w.days());
        assert!(
            DayWindow {
                start: d("2026-11-01"),
                end: d("2026-11-01")
            }
            .chunks(7)
            .is_empty()
        );
        assert_eq!(w.last_day(), Some(d("2026-11-20")));
    }

    #[test]
    fn only_a_chunk_joining_the_complete_range_moves_the_watermark() {
        let today = d("2026-11-21");
        let w = Some(d("2026-11-10"));
        assert!(joins_complete_range(
            PullKind::Pricing,
            w,
            d("2026-11-11"),
            today
        ));
        assert!(joins_complete_range(
            PullKind::Pricing,
            w,
            d("2026-11-04"),
            today
        ));
        assert!(
            !joins_complete_range(PullKind::Pricing, w, d("2026-11-12"), today),
            "a gap"
        );
        assert!(joins_complete_range(
            PullKind::Templates,
            None,
            d("2026-08-24"),
            today
        ));
        assert!(!joins_complete_range(
            PullKind::Templates,
            None,
            d("2026-09-01"),
            today
        ));
        assert_eq!(PullKind::parse(" Templates"), Some(PullKind::Templates));
        assert_eq!(PullKind::parse("catalogue"), None);
    }

    #[test]
    fn backfill_is_clamped_to_the_lookback_and_says_so() {
        let today = d("2026-11-21");
        let (w, clamped) =
            backfill_window(PullKind::Templates, d("2026-08-24"), d("2026-11-21"), today).unwrap();
        assert_eq!(
            (w.days(), clamped),
            (90, false),
            "a 90-day template backfill"
        );
        let (w, clamped) =
            backfill_window(PullKind::Templates, d("2026-01-01"), d("2026-12-31"), today).unwrap();
        assert_eq!(
            (w.start, w.end, clamped),
            (d("2026-08-24"), d("2026-11-22"), true)
        );
        assert!(matches!(
            backfill_window(PullKind::Templates, d("2025-01-01"), d("2025-02-01"), today),
            Err(BackfillError::BeyondLookback { .. })
        ));
        assert!(matches!(
            backfill_window(PullKind::Pricing, d("2026-11-10"), d("2026-11-01"), today),
            Err(BackfillError::Reversed { .. })
        ));
    }
}
