//! The table stream: report records the API marked `queued` (a report that did not finish
//! within the HTTP request) are re-read and finished, unless already finished (a replayed
//! record changes nothing).

use crate::handler::ReportJobs;
use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use chrono::Utc;
use lambda_runtime::Error;
use serde_json::{Value, json};
use shared::domain::report::ReportStatus;
use shared::ports::{ReportAnnouncer, ReportObjects, ReportSource, ReportStore};

impl<S: ReportSource, R: ReportStore, O: ReportObjects, A: ReportAnnouncer> ReportJobs<S, R, O, A> {
    /// Finishes the reports the API handed over. A storage error fails the batch, so
    /// Lambda retries it; a report's own failure is recorded on it.
    pub async fn handed_over(&self, stream: StreamEvent) -> Result<Value, Error> {
        let mut finished = Vec::new();
        for record in &stream.records {
            let image = &record.change.new_image;
            let text = |k: &str| match image.get(k) {
                Some(serde_dynamo::AttributeValue::S(s)) => Some(s.clone()),
                _ => None,
            };
            if text("pk").as_deref() != Some(shared::keys::REPORTS_PK)
                || text("status").as_deref() != Some("queued")
            {
                continue;
            }
            let Some(id) = text("report_id") else {
                continue;
            };
            let Some(mut rec) = self.service.store.get(&id).await? else {
                continue;
            };
            if rec.status != ReportStatus::Queued {
                continue;
            }
            rec.status = ReportStatus::Running;
            self.service.store.put(&rec).await?;
            let done = self.service.run(rec, || Utc::now().timestamp()).await;
            finished.push(json!({"id": done.id, "status": done.status.public()}));
        }
        Ok(json!({ "finished": finished }))
    }
}
