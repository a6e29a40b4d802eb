//! `ConversionSink` over the Graph client: Meta's Conversions API for business messaging.

use super::graph::{GraphClient, GraphError};

/// The Conversions API through the Graph client (its retries and backoff included).
pub struct GraphConversionSink {
    client: GraphClient,
}

impl GraphConversionSink {
    pub fn new(client: GraphClient) -> Self {
        Self { client }
    }
}

impl crate::ports::ConversionSink for GraphConversionSink {
    async fn send(
        &self,
        dataset_id: &str,
        event: &serde_json::Value,
    ) -> Result<(), crate::domain::capi::SendFailure> {
        use crate::domain::capi::SendFailure;
        match self
            .client
            .send_conversion_events(dataset_id, std::slice::from_ref(event))
            .await
        {
            // A 2xx Meta answered in an unexpected shape still accepted the event.
            Ok(_) | Err(GraphError::Unreadable { .. }) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "conversion not forwarded to the Conversions API");
                Err(match e {
                    GraphError::Throttled { .. } | GraphError::Transient { .. } => {
                        SendFailure::Unavailable
                    }
                    GraphError::Auth { .. } => SendFailure::Auth,
                    GraphError::Api { code, .. } => SendFailure::Refused(code),
                    _ => SendFailure::Refused(None),
                })
            }
        }
    }
}
