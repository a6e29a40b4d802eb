//! [`MemoryRawStore`]: the [`RawStore`] port in memory (the webhook's quarantine).

use crate::ports::{RawStore, StoreError};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A kept body and the metadata it was written with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    pub body: Vec<u8>,
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct State {
    objects: BTreeMap<String, RawEntry>,
    unavailable: bool,
}

/// Raw bodies in memory, by key. A put to an existing key replaces it, as an S3 put does.
/// Clones share one store, so a test keeps a clone to look at what was kept.
///
/// Not modelled: S3's metadata rules (size, characters), object times, and a partial write.
#[derive(Debug, Clone, Default)]
pub struct MemoryRawStore {
    state: Arc<Mutex<State>>,
}

impl MemoryRawStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// While `true`, every put fails with [`StoreError::Unavailable`] and keeps nothing.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.state().unavailable = unavailable;
    }

    pub fn get(&self, key: &str) -> Option<RawEntry> {
        self.state().objects.get(key).cloned()
    }

    /// Every key, in order.
    pub fn keys(&self) -> Vec<String> {
        self.state().objects.keys().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.state().objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl RawStore for MemoryRawStore {
    async fn put_raw(
        &self,
        key: &str,
        body: &[u8],
        metadata: &[(&str, &str)],
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.unavailable {
            return Err(StoreError::Unavailable(
                "the in-memory raw store is set unavailable".into(),
            ));
        }
        let entry = RawEntry {
            body: body.to_vec(),
            metadata: metadata
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        state.objects.insert(key.to_string(), entry);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keeps_bodies_by_key_and_fails_when_unavailable() {
        let raw = MemoryRawStore::new();
        let shared = raw.clone();
        raw.put_raw("quarantine/a.json", b"{", &[("reason", "invalid_json")])
            .await
            .unwrap();
        let kept = shared.get("quarantine/a.json").expect("kept");
        assert_eq!(kept.body, b"{");
        assert_eq!(kept.metadata["reason"], "invalid_json");
        raw.set_unavailable(true);
        assert!(raw.put_raw("quarantine/b.json", b"[", &[]).await.is_err());
        assert_eq!(shared.keys(), ["quarantine/a.json"]);
    }
}
