//! `MemoryImportFiles`: the [`ImportFiles`] port in memory (uploaded import files), for
//! handler tests of the leads and lead-imports functions. Same contract as `S3ImportFiles`:
//! a link per key for the asked life, a file over the size cap is not read (`None`), a
//! missing object is an error. Clones share one bucket.

use crate::ports::{ImportFiles, PresignedLink, StoreError};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Clone, Default)]
pub struct MemoryImportFiles {
    objects: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
}

impl MemoryImportFiles {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.objects.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What a manager's `PUT` to the upload link does.
    pub fn upload(&self, key: &str, bytes: impl Into<Vec<u8>>) {
        self.lock().insert(key.to_string(), bytes.into());
    }

    /// The link's URL for `key` (what [`ImportFiles::upload_link`] answers).
    pub fn url_of(key: &str) -> String {
        format!("https://memory.invalid/{key}")
    }
}

impl ImportFiles for MemoryImportFiles {
    async fn upload_link(&self, key: &str, expires_in: i64) -> Result<PresignedLink, StoreError> {
        Ok(PresignedLink {
            url: Self::url_of(key),
            expires_at: chrono::Utc::now().timestamp() + expires_in,
        })
    }

    async fn read(&self, key: &str, max_bytes: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let objects = self.lock();
        let bytes = objects
            .get(key)
            .ok_or_else(|| StoreError::Unavailable(format!("memory: no object {key}")))?;
        Ok((bytes.len() as u64 <= max_bytes).then(|| bytes.clone()))
    }
}
