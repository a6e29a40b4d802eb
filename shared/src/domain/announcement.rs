//! The announcement of a schedule's reports (an optional SNS topic): which reports exist and
//! how to fetch each one, never a link. A presigned link in an e-mail would outlive the
//! manager's session and be forwarded; `GET /v1/reports/{id}` signs a fresh one for a caller
//! who is allowed to see it.

use super::report::{ReportRecord, ReportStatus};
use serde_json::json;

/// One message for a schedule run: a subject, a plain-text body (e-mail) and a JSON
/// document (every other subscriber: queues, functions, webhooks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub subject: String,
    pub text: String,
    pub json: String,
}

/// SNS subjects are at most 100 characters.
const SUBJECT_MAX: usize = 100;

/// The announcement of the reports one schedule run made. `api_url` is the managers' API
/// base URL when known (`REPORTS_API_URL`); without it the path alone is given.
pub fn announce(
    schedule: &str,
    from: &str,
    to: &str,
    tz: &str,
    reports: &[ReportRecord],
    api_url: Option<&str>,
) -> Announcement {
    let base = api_url.unwrap_or("").trim_end_matches('/');
    let fetch = |id: &str| format!("{base}/v1/reports/{id}");
    let ready = reports
        .iter()
        .filter(|r| r.status == ReportStatus::Ready)
        .count();
    let period = if from == to {
        from.to_string()
    } else {
        format!("{from} to {to}")
    };
    let mut subject = format!(
        "wa-insights: {schedule} reports for {period} ({ready} of {} ready)",
        reports.len()
    );
    subject.truncate(SUBJECT_MAX);
    let mut text = format!(
        "The {schedule} reports for {period} ({tz}) are written.\n\
         Fetch each one with an authenticated GET (a fresh download link is signed on every call):\n\n"
    );
    for r in reports {
        let status = r.status.public();
        let detail = match (status, r.rows, &r.reason) {
            ("ready", Some(rows), _) => format!("{rows} rows"),
            ("failed", _, Some(reason)) => format!("failed: {reason}"),
            _ => status.to_string(),
        };
        text.push_str(&format!(
            "- {kind}: {detail}\n  GET {url}\n",
            kind = r.kind.as_str(),
            url = fetch(&r.id)
        ));
    }
    text.push_str(
        "\nReports are listed with GET /v1/reports. This message holds no download link.\n",
    );
    let json = json!({
        "schedule": schedule,
        "from": from,
        "to": to,
        "tz": tz,
        "reports": reports.iter().map(|r| json!({
            "id": r.id,
            "kind": r.kind.as_str(),
            "status": r.status.public(),
            "rows": r.rows,
            "reason": r.reason,
            "fetch": fetch(&r.id),
        })).collect::<Vec<_>>(),
    })
    .to_string();
    Announcement {
        subject,
        text,
        json,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::report::ReportKind;

    fn record(id: &str, kind: ReportKind, status: ReportStatus, rows: Option<u64>) -> ReportRecord {
        ReportRecord {
            id: id.into(),
            kind,
            request_json: "{}".into(),
            status,
            created_at: 0,
            created_by: "scheduler".into(),
            origin: "scheduled:daily".into(),
            object_key: Some(format!("reports/scheduled/daily/{id}.csv")),
            rows,
            bytes: Some(10),
            sha256: None,
            reason: (status == ReportStatus::Failed).then(|| "storage unavailable".into()),
            finished_at: Some(1),
            expires_at: None,
        }
    }

    #[test]
    fn each_report_is_named_with_how_to_fetch_it_and_no_link() {
        let reports = [
            record(
                "0000000001-aa",
                ReportKind::Volume,
                ReportStatus::Ready,
                Some(1),
            ),
            record(
                "0000000002-bb",
                ReportKind::Spend,
                ReportStatus::Failed,
                None,
            ),
        ];
        let a = announce(
            "daily",
            "2026-11-27",
            "2026-11-27",
            "Asia/Jakarta",
            &reports,
            Some("https://api.example/"),
        );
        assert_eq!(
            a.subject,
            "wa-insights: daily reports for 2026-11-27 (1 of 2 ready)"
        );
        assert!(
            a.text
                .contains("- volume: 1 rows\n  GET https://api.example/v1/reports/0000000001-aa")
        );
        assert!(a.text.contains("- spend: failed: storage unavailable"));
        assert!(
            !a.text.contains("reports/scheduled"),
            "no object key or link"
        );
        let v: serde_json::Value = serde_json::from_str(&a.json).unwrap();
        assert_eq!(
            v["reports"][1]["fetch"],
            "https://api.example/v1/reports/0000000002-bb"
        );
        assert_eq!(v["reports"][0]["rows"], 1);
        assert_eq!(v["tz"], "Asia/Jakarta");
        let weekly = announce(
            "weekly",
            "2026-11-16",
            "2026-11-22",
            "UTC",
            &reports[..1],
            None,
        );
        assert!(weekly.subject.contains("2026-11-16 to 2026-11-22"));
        assert!(weekly.text.contains("GET /v1/reports/0000000001-aa"));
        assert!(weekly.subject.len() <= SUBJECT_MAX);
    }
}
