//! [`MemoryWebhookSecrets`]: the [`WebhookSecretSource`] port in memory.

use crate::config::{ConfigError, Secret, WebhookSecrets};
use crate::ports::WebhookSecretSource;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug)]
struct State {
    secrets: WebhookSecrets,
    failing: bool,
}

/// The webhook's secrets held in memory. [`fixed`](Self::fixed) behaves like secrets from
/// the environment (never read again); [`rotating`](Self::rotating) like Secrets Manager
/// (read again when the webhook asks), so a test can rotate them with [`set`](Self::set) or
/// make a read fail. Clones share the secrets and the read count.
#[derive(Debug, Clone)]
pub struct MemoryWebhookSecrets {
    state: Arc<Mutex<State>>,
    refreshable: bool,
    loads: Arc<AtomicUsize>,
}

impl MemoryWebhookSecrets {
    pub fn fixed(secrets: WebhookSecrets) -> Self {
        Self::with(secrets, false)
    }

    pub fn rotating(secrets: WebhookSecrets) -> Self {
        Self::with(secrets, true)
    }

    /// App secrets (current first) and the verify token.
    pub fn secrets(app_secrets: &[&str], verify_token: &str) -> WebhookSecrets {
        WebhookSecrets {
            app_secrets: app_secrets.iter().map(|s| Secret::new(*s)).collect(),
            verify_token: Secret::new(verify_token),
        }
    }

    fn with(secrets: WebhookSecrets, refreshable: bool) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                secrets,
                failing: false,
            })),
            refreshable,
            loads: Arc::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the next read returns.
    pub fn set(&self, secrets: WebhookSecrets) {
        self.state().secrets = secrets;
    }

    /// While `true`, reads fail as an unreachable Secrets Manager does.
    pub fn set_failing(&self, failing: bool) {
        self.state().failing = failing;
    }

    /// How many times the secrets were read.
    pub fn loads(&self) -> usize {
        self.loads.load(Ordering::Relaxed)
    }
}

impl WebhookSecretSource for MemoryWebhookSecrets {
    async fn load(&self) -> Result<WebhookSecrets, ConfigError> {
        self.loads.fetch_add(1, Ordering::Relaxed);
        let state = self.state();
        if state.failing {
            return Err(ConfigError::SecretLoad {
                id: "memory".into(),
                reason: "the in-memory secrets are set failing".into(),
            });
        }
        Ok(state.secrets.clone())
    }

    fn refreshable(&self) -> bool {
        self.refreshable
    }
}
