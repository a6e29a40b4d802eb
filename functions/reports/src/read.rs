//! `GET /v1/reports/{id}` (one report, with a fresh link when ready) and `GET /v1/reports`
//! (the newest, without links). A report of WABAs the caller may not all see is absent.

use crate::answers::{Resp, bad_request, error, json_response, query_int, summary, unavailable};
use crate::handler::ReportsApi;
use lambda_http::http::StatusCode;
use serde_json::json;
use shared::domain::access::Access;
use shared::domain::report::SIGV4_MAX_SECONDS;
use shared::ports::{ReportObjects, ReportSource, ReportStore};

impl<S: ReportSource, R: ReportStore, O: ReportObjects> ReportsApi<S, R, O> {
    pub(crate) async fn get(&self, id: &str, query: &[(&str, String)], access: &Access) -> Resp {
        let cap = self
            .service
            .settings
            .links
            .max_seconds
            .min(SIGV4_MAX_SECONDS);
        let expires_in = match query.iter().find(|(k, _)| *k == "expires_in") {
            None => None,
            Some((_, v)) => match query_int(v) {
                Some(n) if (60..=cap).contains(&n) => Some(n),
                _ => {
                    return bad_request(
                        "bad_expires_in",
                        format!("expires_in must be a whole number from 60 to {cap} seconds"),
                    );
                }
            },
        };
        match self.service.store.get(id).await {
            // A report of WABAs the caller may not all see is answered as absent.
            Ok(Some(rec)) if access.covers(&rec.access()) => self.answer(&rec, expires_in).await,
            Ok(_) => error(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("report {id} not found"),
            ),
            Err(e) => unavailable(e),
        }
    }

    pub(crate) async fn list(&self, query: &[(&str, String)], access: &Access) -> Resp {
        let limit = match query.iter().find(|(k, _)| *k == "limit") {
            None => 50,
            Some((_, v)) => match query_int(v) {
                Some(n) if (1..=100).contains(&n) => n as i32,
                _ => {
                    return bad_request(
                        "invalid_parameter",
                        "limit must be a whole number from 1 to 100",
                    );
                }
            },
        };
        match self.service.store.recent(limit).await {
            Ok(recs) => json_response(
                StatusCode::OK,
                &json!({"reports": recs
                    .iter()
                    .filter(|r| access.covers(&r.access()))
                    .map(summary)
                    .collect::<Vec<_>>()}),
            ),
            Err(e) => unavailable(e),
        }
    }
}
