//! The secrets in use (app secrets for the signature, the handshake's verify token), read
//! again when they are old or after a mismatch (a rotation), and the signature check.

use crate::handler::Webhook;
use shared::config::{ConfigError, Secret, WebhookSecrets};
use shared::domain::signature::{SignatureError, SignatureVerifier};
use shared::ports::{EventStore, RawStore, WebhookSecretSource};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The secrets in use and when they were read.
pub(crate) struct Keys {
    verifier: Arc<SignatureVerifier>,
    verify_token: Secret,
    read_at: Instant,
}

impl Keys {
    pub(crate) fn from(secrets: &WebhookSecrets) -> Result<Self, ConfigError> {
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

impl<S: EventStore, R: RawStore, K: WebhookSecretSource> Webhook<S, R, K> {
    pub(crate) fn keys(&self) -> (Arc<SignatureVerifier>, Secret, Instant) {
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
    pub(crate) async fn verify(
        &self,
        signature: Option<&[u8]>,
        body: &[u8],
    ) -> Result<(), SignatureError> {
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
}
