//! The webhook function: Meta's GET handshake and signed POST ingestion.
//!
//! POST order matters (DESIGN invariants 1–2): size cap (413) → signature over the exact raw
//! bytes (401) → parse → one idempotent write per event → 200 only after the writes are
//! durable. Signed but unparseable bodies are quarantined raw in S3 and acknowledged (200)
//! so Meta does not retry them for 7 days; storage outages answer 503 so Meta does retry.
//!
//! This file is the request's path; `handshake` answers the GET, `secrets` holds the keys and
//! the signature check (re-reading rotated secrets), `answers` turns each ingest outcome into
//! its logs, metrics and response (quarantining what must be kept raw), `live` builds the
//! deployed shape.

use crate::answers::{respond, storage_unavailable, stored};
use crate::secrets::Keys;
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use shared::adapters::aws::AwsWebhookSecrets;
use shared::adapters::s3::S3RawStore;
use shared::config::{ConfigError, SecretRefresh, WebhookConfig, WebhookSecrets};
use shared::domain::consent::ConsentKeywords;
use shared::domain::signature::SIGNATURE_HEADER;
use shared::ingest::{Ingest, Ingested, LiveEventStore};
use shared::ports::{EventStore, RawStore, StoreError, WebhookSecretSource};
use shared::telemetry::emit_metrics;
use std::sync::RwLock;
use std::time::Instant;

/// The deployed shape: DynamoDB for events, S3 for raw bodies, secrets from env or Secrets
/// Manager (built in `live`).
pub type LiveWebhook = Webhook<LiveEventStore, S3RawStore, AwsWebhookSecrets>;

/// The webhook over the event store `S`, the raw-body store `R` and the secret source `K`.
pub struct Webhook<S, R, K> {
    pub(crate) keys: RwLock<Keys>,
    /// Where the secrets are read again from, and one refresh at a time.
    pub(crate) secrets: K,
    pub(crate) refreshing: tokio::sync::Mutex<()>,
    pub(crate) refresh: SecretRefresh,
    /// Parse → plan → store (shared with the replay of kept bodies).
    pub(crate) ingest: Ingest<S>,
    pub(crate) raw: R,
    pub(crate) max_body_bytes: usize,
    pub(crate) quarantine_prefix: String,
}

impl<S: EventStore, R: RawStore, K: WebhookSecretSource> Webhook<S, R, K> {
    pub fn new(
        secrets: &WebhookSecrets,
        source: K,
        config: &WebhookConfig,
        store: S,
        raw: R,
    ) -> Result<Self, ConfigError> {
        let keywords = ConsentKeywords::configured(
            config.stop_keywords.as_deref(),
            config.start_keywords.as_deref(),
        );
        Ok(Self {
            keys: RwLock::new(Keys::from(secrets)?),
            secrets: source,
            refreshing: tokio::sync::Mutex::new(()),
            refresh: config.secret_refresh,
            ingest: Ingest::new(store, keywords),
            raw,
            max_body_bytes: config.max_body_bytes,
            quarantine_prefix: config.quarantine_prefix.clone(),
        })
    }

    /// Every outcome is an HTTP answer; the error type is only there for `service_fn`.
    pub async fn handle(&self, req: Request) -> Result<Response<Body>, lambda_http::Error> {
        Ok(match *req.method() {
            Method::GET => self.handshake(&req),
            Method::POST => self.ingest(&req).await,
            _ => respond(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        })
    }

    async fn ingest(&self, req: &Request) -> Response<Body> {
        let started = Instant::now();
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        // Lambda has already decoded base64 bodies (Function URL / API Gateway), so these
        // are the exact bytes Meta signed.
        let body: &[u8] = req.body().as_ref();
        if body.len() > self.max_body_bytes || declared.is_some_and(|n| n > self.max_body_bytes) {
            tracing::info!(bytes = body.len(), "POST over the body cap refused");
            emit_metrics("webhook", &[], &[("TooLarge", 1.0, "Count")]);
            return respond(StatusCode::PAYLOAD_TOO_LARGE, "payload too large");
        }
        let signature = req.headers().get(SIGNATURE_HEADER).map(|v| v.as_bytes());
        if let Err(e) = self.verify(signature, body).await {
            // A caller's mistake (or an attacker): not an error of ours.
            tracing::info!(reason = %e, "POST with a missing or invalid signature refused");
            emit_metrics("webhook", &[], &[("Unauthorized", 1.0, "Count")]);
            return respond(StatusCode::UNAUTHORIZED, "invalid signature");
        }
        match self.ingest.ingest(body).await {
            Ok(Ingested::Stored { parsed, report }) if report.rejected.is_empty() => {
                stored(&parsed, &report, started)
            }
            Ok(ingested) => self.keep_raw(&ingested, body).await,
            Err(StoreError::Unavailable(detail) | StoreError::Rejected(detail)) => {
                storage_unavailable(&detail)
            }
        }
    }
}
