//! `S3RawStore`: raw bodies kept outside the table (quarantine, oversized raw parts).

use crate::ports::{RawStore, StoreError};
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;

#[derive(Debug, Clone)]
pub struct S3RawStore {
    client: Client,
    bucket: String,
}

impl S3RawStore {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }
    pub fn client(&self) -> &Client {
        &self.client
    }
    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

impl RawStore for S3RawStore {
    async fn put_raw(
        &self,
        key: &str,
        body: &[u8],
        metadata: &[(&str, &str)],
    ) -> Result<(), StoreError> {
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/octet-stream")
            .body(ByteStream::from(body.to_vec()));
        for (k, v) in metadata {
            // S3 metadata must be ASCII; reasons are ours, but keep them safe anyway.
            let v: String = v
                .chars()
                .filter(|c| c.is_ascii() && !c.is_ascii_control())
                .take(512)
                .collect();
            put = put.metadata(*k, v);
        }
        put.send().await.map(|_| ()).map_err(|e| {
            StoreError::Unavailable(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())
        })
    }
}

/// Creates the bucket (local stack and tests); an existing bucket is fine.
pub async fn create_bucket(client: &Client, bucket: &str) -> Result<(), String> {
    match client.create_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let s = e.as_service_error();
            if s.is_some_and(|s| s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists())
            {
                Ok(())
            } else {
                Err(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())
            }
        }
    }
}
