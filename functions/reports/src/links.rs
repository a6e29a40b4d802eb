//! The report object a create or read answers: a ready report gets a fresh presigned link
//! (its asked life, capped by the link policy), others their status and reason.

use crate::answers::{Resp, error, iso, json_response, summary, unavailable};
use crate::handler::ReportsApi;
use lambda_http::http::StatusCode;
use serde_json::json;
use shared::domain::report::{ReportRecord, ReportStatus};
use shared::ports::{ReportObjects, ReportSource, ReportStore};
use shared::reports::ReportError;

impl<S: ReportSource, R: ReportStore, O: ReportObjects> ReportsApi<S, R, O> {
    /// The report object; a ready report gets a fresh link.
    pub(crate) async fn answer(&self, rec: &ReportRecord, expires_in: Option<i64>) -> Resp {
        let mut body = summary(rec);
        if rec.status == ReportStatus::Ready {
            match self.service.link(rec, expires_in).await {
                Ok(link) => {
                    body["url"] = json!(link.url);
                    body["expires_at"] = json!(iso(link.expires_at));
                }
                Err(e @ (ReportError::Store(_) | ReportError::Csv(_))) => return unavailable(e),
                Err(e) => return error(StatusCode::CONFLICT, "not_ready", e.to_string()),
            }
        }
        json_response(StatusCode::OK, &body)
    }
}
