//! `S3ImportFiles`: the bucket's `imports/` prefix, where large CSV imports are uploaded
//! through presigned `PUT` links and read back by the import job.

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;

use super::s3_reports::{credentials_expiry, get_bytes, link_life, now};
use crate::ports::{ImportFiles, PresignedLink, StoreError};

fn unavailable<E: std::error::Error + 'static>(e: E) -> StoreError {
    StoreError::Unavailable(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())
}

#[derive(Clone)]
pub struct S3ImportFiles {
    client: Client,
    bucket: String,
    credentials: Option<aws_credential_types::provider::SharedCredentialsProvider>,
}

impl S3ImportFiles {
    pub fn new(
        client: Client,
        bucket: impl Into<String>,
        credentials: Option<aws_credential_types::provider::SharedCredentialsProvider>,
    ) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            credentials,
        }
    }
}

impl ImportFiles for S3ImportFiles {
    async fn upload_link(&self, key: &str, expires_in: i64) -> Result<PresignedLink, StoreError> {
        let now = now();
        let life = link_life(
            expires_in,
            now,
            credentials_expiry(self.credentials.as_ref()).await,
        );
        let config = PresigningConfig::expires_in(Duration::from_secs(life.max(1) as u64))
            .map_err(|e| StoreError::Rejected(e.to_string()))?;
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("text/csv")
            .presigned(config)
            .await
            .map_err(unavailable)?;
        Ok(PresignedLink {
            url: req.uri().to_string(),
            expires_at: now + life,
        })
    }

    async fn read(&self, key: &str, max_bytes: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(unavailable)?;
        if head.content_length().unwrap_or(0).max(0) as u64 > max_bytes {
            return Ok(None);
        }
        let bytes = get_bytes(&self.client, &self.bucket, key).await?;
        if bytes.len() as u64 > max_bytes {
            return Ok(None);
        }
        Ok(Some(bytes.to_vec()))
    }
}
