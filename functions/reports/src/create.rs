//! `POST /v1/reports`: the body read field by field (`shared::domain::report`), the record
//! stored, the report generated within the inline time or handed to the jobs function.

use crate::answers::{Resp, bad_request, is_json, json_response, summary, unavailable};
use crate::handler::ReportsApi;
use chrono::Utc;
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request};
use serde_json::Value;
use shared::domain::access::Caller;
use shared::domain::report::{ReportRequest, ReportRequestBody, ReportStatus, new_report_id};
use shared::ports::{ReportObjects, ReportSource, ReportStore};

impl<S: ReportSource, R: ReportStore, O: ReportObjects> ReportsApi<S, R, O> {
    /// The body of `POST /v1/reports`: JSON (by `Content-Type`), UTF-8, parseable, then
    /// read field by field.
    fn body(req: &Request) -> Result<ReportRequestBody, Box<Resp>> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if !is_json(content_type) {
            return Err(Box::new(bad_request(
                "unsupported_media_type",
                "send the report request as JSON with Content-Type: application/json",
            )));
        }
        let text = match req.body() {
            Body::Text(t) => t.as_str(),
            Body::Binary(b) => std::str::from_utf8(b)
                .map_err(|_| Box::new(bad_request("malformed_body", "the body is not UTF-8")))?,
            _ => "",
        };
        let value: Value = serde_json::from_str(text).map_err(|e| {
            Box::new(bad_request(
                "malformed_body",
                format!("the body is not JSON: {e}"),
            ))
        })?;
        ReportRequestBody::from_json(&value).map_err(|e| Box::new(bad_request(e.code, e.message)))
    }

    pub(crate) async fn create(&self, req: &Request, caller: &Caller) -> Resp {
        let body = match Self::body(req) {
            Ok(b) => b,
            Err(r) => return *r,
        };
        let request = match ReportRequest::parse(body, self.service.settings.links) {
            Ok(r) => r.for_access(&caller.access),
            Err(e) => return bad_request(e.code, e.message),
        };
        let now = Utc::now().timestamp();
        let id = new_report_id(now, shared::reports::random_u64());
        let rec = self
            .service
            .new_record(id, &request, &caller.name, "api", now);
        if let Err(e) = self.service.store.put(&rec).await {
            return unavailable(e);
        }
        let work = self.service.run(rec.clone(), || Utc::now().timestamp());
        match tokio::time::timeout(self.inline, work).await {
            Ok(done) => self.answer(&done, Some(request.expires_in)).await,
            Err(_) => {
                // Too long for the request: the jobs function finishes it (table stream).
                let mut queued = rec;
                queued.status = ReportStatus::Queued;
                if let Err(e) = self.service.store.put(&queued).await {
                    return unavailable(e);
                }
                json_response(StatusCode::ACCEPTED, &summary(&queued))
            }
        }
    }
}
