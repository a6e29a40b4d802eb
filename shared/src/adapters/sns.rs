//! `SnsReportAnnouncer`: a schedule's reports announced on an SNS topic. One message per
//! schedule run, `MessageStructure: json`: e-mail subscribers get the plain-text listing,
//! every other protocol the JSON document (`domain::announcement`).

use crate::domain::announcement::Announcement;
use crate::ports::{ReportAnnouncer, StoreError};
use aws_sdk_sns::Client;

#[derive(Debug, Clone)]
pub struct SnsReportAnnouncer {
    client: Client,
    topic_arn: String,
}

impl SnsReportAnnouncer {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

impl ReportAnnouncer for SnsReportAnnouncer {
    async fn announce(&self, a: &Announcement) -> Result<(), StoreError> {
        let message = serde_json::json!({"default": a.json, "email": a.text}).to_string();
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&a.subject)
            .message_structure("json")
            .message(message)
            .send()
            .await
            .map_err(|e| {
                StoreError::Unavailable(aws_sdk_sns::error::DisplayErrorContext(&e).to_string())
            })?;
        Ok(())
    }
}
