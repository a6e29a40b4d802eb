//! The webhook function: Meta's GET handshake and signed POST ingestion.
//!
//! POST order matters (DESIGN invariants 1–2): size cap (413) → signature over the exact raw
//! bytes (401) → parse → one idempotent write per event → 200 only after the writes are
//! durable. Signed but unparseable bodies are quarantined raw in S3 and acknowledged (200)
//! so Meta does not retry them for 7 days; storage outages answer 503 so Meta does retry.

use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use shared::adapters::aws::{AwsWebhookSecrets, dynamodb_client, load_sdk_config, s3_client};
use shared::adapters::s3::S3RawStore;
use shared::config::{ConfigError, Secret, SecretRefresh, WebhookConfig, WebhookSecrets};
use shared::domain::consent::ConsentKeywords;
use shared::domain::signature::{SIGNATURE_HEADER, SignatureError, SignatureVerifier};
use shared::ingest::{Ingest, Ingested, LiveEventStore, live_event_store, quarantine_key};
use shared::ports::{RawStore, StoreError, WebhookSecretSource};
use shared::telemetry::{RequestCounter, emit_metrics};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// The deployed shape: DynamoDB for events, S3 for raw bodies, secrets from env or Secrets
/// Manager.
pub type LiveWebhook = Webhook<LiveEventStore, S3RawStore, AwsWebhookSecrets>;

/// The secrets in use and when they were read.
struct Keys {
    verifier: Arc<SignatureVerifier>,
    verify_token: Secret,
    read_at: Instant,
}

impl Keys {
    fn from(secrets: &WebhookSecrets) -> Result<Self, ConfigError> {
        let keys: Vec<&str> = secrets.app_secrets.iter().map(Secret::expose).collect();
        let verifier =
            SignatureVerifier::new(&keys).ok_or(ConfigError::Missing("META_APP_SECRET"))?;
        Ok(Self {
            verifier: Arc::new(verifier),
            verify_token: secrets.verify_token.clone(),
            read_at: Instant::now(),
        })
    }
}

pub struct Webhook<S, R, K> {
    keys: RwLock<Keys>,
    /// Where the secrets are read again from, and one refresh at a time.
    secrets: K,
    refreshing: tokio::sync::Mutex<()>,
    refresh: SecretRefresh,
    /// Parse → plan → store (shared with the replay of kept bodies).
    ingest: Ingest<S>,
    raw: R,
    max_body_bytes: usize,
    quarantine_prefix: String,
}

impl LiveWebhook {
    /// Cold start: SDK config from the environment, secrets, clients, a warmed connection.
    pub async fn from_env_config(config: &WebhookConfig) -> Result<Self, ConfigError> {
        let sdk = load_sdk_config().await;
        Self::from_sdk(config, &sdk, None).await
    }

    /// Same, over a given SDK config (tests point it at the local stack and count requests).
    pub async fn from_sdk(
        config: &WebhookConfig,
        sdk: &aws_config::SdkConfig,
        counter: Option<RequestCounter>,
    ) -> Result<Self, ConfigError> {
        Self::from_sdks(config, sdk, sdk, counter).await
    }

    /// Same, with DynamoDB reached through its own SDK config (`dynamodb_sdk`; `sdk` for S3
    /// and secrets): the load bench keeps the table in a faster local store than the bucket.
    pub async fn from_sdks(
        config: &WebhookConfig,
        sdk: &aws_config::SdkConfig,
        dynamodb_sdk: &aws_config::SdkConfig,
        counter: Option<RequestCounter>,
    ) -> Result<Self, ConfigError> {
        let source = AwsWebhookSecrets::new(sdk, &config.secrets);
        let secrets = source.load().await?;
        let dynamodb = dynamodb_client(dynamodb_sdk, counter);
        let raw = S3RawStore::new(s3_client(sdk), &config.bucket_name);
        // Open the TLS connection now, not on Meta's first POST. DescribeEndpoints needs no
        // table permission; its answer does not matter.
        let _ = dynamodb.describe_endpoints().send().await;
        let store = live_event_store(
            dynamodb,
            &config.table_name,
            config.write_concurrency,
            raw.clone(),
            &config.lifecycle,
            config.assignment.as_ref(),
        );
        Self::new(&secrets, source, config, store, raw)
    }
}

impl<S: shared::ports::EventStore, R: RawStore, K: WebhookSecretSource> Webhook<S, R, K> {
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

    fn keys(&self) -> (Arc<SignatureVerifier>, Secret, Instant) {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        (
            keys.verifier.clone(),
            keys.verify_token.clone(),
            keys.read_at,
        )
    }

    /// Reads the secrets again if they are older than `age` (one reader at a time; the others
    /// use what it read). A failed read keeps the secrets in use. Returns whether they changed.
    async fn refresh_if_older(&self, age: Duration) -> bool {
        if !self.secrets.refreshable() || self.keys().2.elapsed() < age {
            return false;
        }
        let _one = self.refreshing.lock().await;
        if self.keys().2.elapsed() < age {
            return true; // another request just read them
        }
        match self.secrets.load().await.and_then(|s| Keys::from(&s)) {
            Ok(keys) => {
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
                tracing::info!("webhook secrets read again");
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "webhook secrets could not be read again; the ones in use stay");
                false
            }
        }
    }

    /// The signature check, with the secrets re-read when they are old, and once more after
    /// a mismatch if they were read more than the refresh interval ago (a rotation).
    async fn verify(&self, signature: Option<&[u8]>, body: &[u8]) -> Result<(), SignatureError> {
        self.refresh_if_older(Duration::from_secs(self.refresh.max_age_seconds))
            .await;
        match self.keys().0.verify(signature, body) {
            Err(SignatureError::Mismatch)
                if self
                    .refresh_if_older(Duration::from_secs(self.refresh.on_mismatch_seconds))
                    .await =>
            {
                self.keys().0.verify(signature, body)
            }
            other => other,
        }
    }

    /// `hub.mode=subscribe` with the right `hub.verify_token` → 200 echoing `hub.challenge`.
    fn handshake(&self, req: &Request) -> Response<Body> {
        let params = req.query_string_parameters_ref();
        let get = |k: &str| params.and_then(|p| p.first(k));
        let verify_token = self.keys().1;
        let token_ok = get("hub.verify_token")
            .is_some_and(|t| bool::from(t.as_bytes().ct_eq(verify_token.expose().as_bytes())));
        match (get("hub.mode"), get("hub.challenge")) {
            (Some("subscribe"), Some(challenge)) if token_ok && !challenge.is_empty() => {
                tracing::info!("webhook verification handshake accepted");
                respond(StatusCode::OK, challenge)
            }
            _ => {
                tracing::info!("webhook verification handshake refused");
                respond(StatusCode::FORBIDDEN, "forbidden")
            }
        }
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
                for (family, n) in parsed.by_family() {
                    emit_metrics(
                        "webhook",
                        &[("Kind", family)],
                        &[("Events", n as f64, "Count")],
                    );
                }
                emit_metrics(
                    "webhook",
                    &[],
                    &[
                        ("Stored", report.applied as f64, "Count"),
                        ("Duplicates", report.unchanged as f64, "Count"),
                        ("KeptRaw", parsed.kept_raw as f64, "Count"),
                    ],
                );
                tracing::info!(
                    items = parsed.item_count(),
                    statuses = parsed.statuses,
                    writes = parsed.writes,
                    applied = report.applied,
                    unchanged = report.unchanged,
                    kept_raw = parsed.kept_raw,
                    envelope_unknown = parsed.envelope_unknown,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "webhook stored"
                );
                // Consent changes are rare and matter to operators: one line each, user masked.
                for note in &parsed.consent {
                    tracing::info!(
                        user = %note.user,
                        action = note.action,
                        source = note.source,
                        "consent signal received (stored once, duplicates included)"
                    );
                }
                respond(StatusCode::OK, "EVENT_RECEIVED")
            }
            Ok(ingested) => {
                let failure = ingested
                    .failure()
                    .expect("every other outcome is a failure");
                match &ingested {
                    Ingested::Unparseable(f) => {
                        tracing::warn!(reason = f.reason, error = %f.detail, bytes = body.len(), "signed body is not a webhook envelope");
                    }
                    Ingested::Stored { report, .. } => {
                        // Everything else is stored; the writes the store refused are named,
                        // and the signed body is kept raw with them so nothing is lost (the
                        // fast path keeps no per-item JSON, so the body is the faithful copy;
                        // a replay later re-applies only what is missing, every write being
                        // idempotent).
                        tracing::error!(
                            rejected = report.rejected.len(),
                            applied = report.applied,
                            detail = %failure.detail,
                            "store refused some writes; the rest are stored, the body is kept raw"
                        );
                        emit_metrics(
                            "webhook",
                            &[],
                            &[("Rejected", report.rejected.len() as f64, "Count")],
                        );
                    }
                    Ingested::Rejected { .. } => {
                        // Only for a refusal outside the per-write path (an oversized part's
                        // S3 copy).
                        tracing::error!(detail = %failure.detail, "store rejected the data; keeping the body raw");
                    }
                }
                self.quarantine(body, failure.reason, &failure.detail).await
            }
            Err(StoreError::Unavailable(detail) | StoreError::Rejected(detail)) => {
                tracing::error!(%detail, "storage unavailable; Meta will retry");
                emit_metrics("webhook", &[], &[("StorageUnavailable", 1.0, "Count")]);
                respond(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable")
            }
        }
    }

    /// Keeps a signed body we cannot process, then acknowledges it. Same body → same key
    /// (no date in it), so Meta's retries, even across midnight, do not pile up copies; the
    /// object's own time says when it came.
    async fn quarantine(&self, body: &[u8], reason: &str, detail: &str) -> Response<Body> {
        let key = quarantine_key(&self.quarantine_prefix, reason, body);
        let detail: String = detail.chars().take(400).collect();
        match self
            .raw
            .put_raw(&key, body, &[("reason", reason), ("detail", &detail)])
            .await
        {
            Ok(()) => {
                tracing::warn!(%key, reason, "signed body quarantined");
                emit_metrics(
                    "webhook",
                    &[("Reason", reason)],
                    &[("Quarantined", 1.0, "Count")],
                );
                respond(StatusCode::OK, "EVENT_RECEIVED")
            }
            Err(e) => {
                tracing::error!(error = %e, "could not quarantine a signed body; Meta will retry");
                respond(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable")
            }
        }
    }
}

fn respond(status: StatusCode, body: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::Text(body.to_string()))
        .expect("static response parts are valid")
}
