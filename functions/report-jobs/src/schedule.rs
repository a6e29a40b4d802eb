//! An EventBridge Scheduler payload `{"schedule": "daily" | "weekly", "kinds": [...],
//! "tz": "Asia/Jakarta", "phone_number_ids": [...]}`: yesterday / last Monday–Sunday in that
//! zone, one report per kind × phone number, under `reports/scheduled/<schedule>/`, then one
//! announcement of them all on the configured topic (ids and how to fetch each one, never a
//! link).

use crate::handler::ReportJobs;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use lambda_runtime::Error;
use serde::Deserialize;
use serde_json::{Value, json};
use shared::domain::announcement::announce;
use shared::domain::report::{ReportKind, ReportRequest, ReportRequestBody, new_report_id};
use shared::ports::{ReportAnnouncer, ReportObjects, ReportSource, ReportStore};

/// The kinds a schedule creates when it names none: every metric family (the summary
/// page's sections); the weekly schedule adds the summary page itself.
pub const DEFAULT_SCHEDULED_KINDS: [ReportKind; 9] = shared::reports::SUMMARY_SECTIONS;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub schedule: String,
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    #[serde(default)]
    pub tz: Option<String>,
    #[serde(default)]
    pub phone_number_ids: Option<Vec<String>>,
    /// The summary page's locale (`en`, `id`, `pt-BR`).
    #[serde(default)]
    pub locale: Option<String>,
}

/// The period a schedule covers, given today's date in its zone: `daily` is yesterday,
/// `weekly` the last complete Monday–Sunday week.
pub fn scheduled_period(schedule: &str, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    match schedule {
        "daily" => {
            let d = today.pred_opt()?;
            Some((d, d))
        }
        "weekly" => {
            let this_monday =
                today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
            Some((
                this_monday - Duration::days(7),
                this_monday - Duration::days(1),
            ))
        }
        _ => None,
    }
}

impl<S: ReportSource, R: ReportStore, O: ReportObjects, A: ReportAnnouncer> ReportJobs<S, R, O, A> {
    /// Creates and runs the reports of one schedule.
    pub async fn scheduled(&self, schedule: &Schedule, now: i64) -> Result<Value, Error> {
        let tz_name = schedule.tz.clone().unwrap_or_else(|| "UTC".to_string());
        let tz: Tz = tz_name
            .parse()
            .map_err(|_| format!("schedule tz {tz_name:?} is not an IANA zone"))?;
        let today = chrono::DateTime::from_timestamp(now, 0)
            .ok_or("clock out of range")?
            .with_timezone(&tz)
            .date_naive();
        let (from, to) = scheduled_period(&schedule.schedule, today)
            .ok_or_else(|| format!("schedule {:?} is not daily or weekly", schedule.schedule))?;
        let kinds: Vec<String> = match &schedule.kinds {
            Some(k) if !k.is_empty() => k.clone(),
            _ => DEFAULT_SCHEDULED_KINDS
                .iter()
                .chain((schedule.schedule == "weekly").then_some(&ReportKind::Summary))
                .map(|k| k.as_str().to_string())
                .collect(),
        };
        let phones: Vec<Option<String>> = match &schedule.phone_number_ids {
            Some(p) if !p.is_empty() => p.iter().cloned().map(Some).collect(),
            _ => vec![None],
        };
        let origin = format!("scheduled:{}", schedule.schedule);
        let mut created = Vec::new();
        let mut records = Vec::new();
        for kind in &kinds {
            for phone in &phones {
                let req = ReportRequest::parse(
                    ReportRequestBody {
                        kind: kind.clone(),
                        from: from.to_string(),
                        to: to.to_string(),
                        tz: Some(tz_name.clone()),
                        group_by: Some("day".into()),
                        phone_number_id: phone.clone(),
                        expires_in: None,
                        locale: schedule.locale.clone(),
                    },
                    self.service.settings.links,
                )
                .map_err(|e| format!("schedule: {e}"))?;
                let id = new_report_id(now, shared::reports::random_u64());
                let rec = self.service.new_record(id, &req, "scheduler", &origin, now);
                self.service.store.put(&rec).await?;
                let done = self.service.run(rec, || Utc::now().timestamp()).await;
                created.push(json!({
                    "id": done.id,
                    "kind": done.kind.as_str(),
                    "status": done.status.public(),
                    "rows": done.rows,
                    "reason": done.reason,
                }));
                records.push(done);
            }
        }
        tracing::info!(schedule = %schedule.schedule, %from, %to, reports = created.len(), "scheduled reports written");
        // The reports are written and listed whatever happens here: a failed announcement is
        // logged (and counted by the alarm on errors), not retried by re-running the schedule,
        // which would write every report again.
        let announcement = announce(
            &schedule.schedule,
            &from.to_string(),
            &to.to_string(),
            &tz_name,
            &records,
            self.api_url.as_deref(),
        );
        let announced = match self.announcer.announce(&announcement).await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, schedule = %schedule.schedule, "scheduled reports not announced");
                false
            }
        };
        Ok(
            json!({"schedule": schedule.schedule, "from": from.to_string(), "to": to.to_string(),
            "reports": created, "announced": announced}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_yesterday_and_last_full_week() {
        let sat = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            scheduled_period("daily", sat),
            Some((d("2026-11-27"), d("2026-11-27")))
        );
        assert_eq!(
            scheduled_period("weekly", sat),
            Some((d("2026-11-16"), d("2026-11-22")))
        );
        let mon = d("2026-11-23");
        assert_eq!(
            scheduled_period("weekly", mon),
            Some((d("2026-11-16"), d("2026-11-22")))
        );
        assert_eq!(scheduled_period("hourly", mon), None);
    }
}
