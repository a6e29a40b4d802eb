//! Two kinds of event, one service (`shared::reports::ReportService`), one module each:
//! - the table stream (`stream`), filtered to report records marked `queued` by the API (a
//!   report that did not finish within the HTTP request): the job re-reads the record and
//!   finishes it, unless it is already finished (a replayed record changes nothing);
//! - an EventBridge Scheduler payload (`schedule`) `{"schedule": "daily" | "weekly",
//!   "kinds": [...], "tz": "Asia/Jakarta", "phone_number_ids": [...]}`: yesterday / last
//!   Monday–Sunday in that zone, one report per kind × phone number, under
//!   `reports/scheduled/<schedule>/`, then one announcement of them all on the configured
//!   topic (ids and how to fetch each one, never a link).
//!
//! `main.rs` wires the live service and announcer; the handler tests (`tests/handler.rs`)
//! the report ports in memory.

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use chrono::Utc;
use lambda_runtime::{Error, LambdaEvent};
use serde_json::Value;
use shared::ports::{ReportAnnouncer, ReportObjects, ReportSource, ReportStore};
use shared::reports::ReportService;

pub use crate::schedule::{DEFAULT_SCHEDULED_KINDS, Schedule, scheduled_period};

pub struct ReportJobs<S, R, O, A> {
    pub(crate) service: ReportService<S, R, O>,
    pub(crate) announcer: A,
    /// The managers' API base URL, named in announcements.
    pub(crate) api_url: Option<String>,
}

impl<S: ReportSource, R: ReportStore, O: ReportObjects, A: ReportAnnouncer> ReportJobs<S, R, O, A> {
    pub fn new(service: ReportService<S, R, O>, announcer: A, api_url: Option<String>) -> Self {
        Self {
            service,
            announcer,
            api_url,
        }
    }

    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, Error> {
        if event.payload.get("Records").is_some() {
            let stream: StreamEvent = serde_json::from_value(event.payload)?;
            return self.handed_over(stream).await;
        }
        let schedule: Schedule = serde_json::from_value(event.payload)
            .map_err(|e| format!("not a schedule payload: {e}"))?;
        self.scheduled(&schedule, Utc::now().timestamp()).await
    }
}
