//! `S3RawStore`: raw bodies kept outside the table (quarantine, oversized raw parts);
//! `S3RawArchive`: reading them back (the replay).

use crate::ports::{RawArchive, RawObject, RawStore, StoreError};
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

/// The kept bodies, read back (list and get only: the replay's IAM has no write on them).
#[derive(Debug, Clone)]
pub struct S3RawArchive {
    client: Client,
    bucket: String,
}

impl S3RawArchive {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }
}

fn unavailable<E: std::error::Error + 'static>(e: E) -> StoreError {
    StoreError::Unavailable(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())
}

impl RawArchive for S3RawArchive {
    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        page: Option<String>,
    ) -> Result<(Vec<RawObject>, Option<String>), StoreError> {
        let out = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .set_start_after(start_after.map(str::to_string))
            .set_continuation_token(page)
            .send()
            .await
            .map_err(unavailable)?;
        let objects = out
            .contents()
            .iter()
            .filter_map(|o| {
                Some(RawObject {
                    key: o.key()?.to_string(),
                    written_at: o.last_modified().map_or(0, |t| t.secs()),
                })
            })
            .collect();
        let next = if out.is_truncated() == Some(true) {
            out.next_continuation_token().map(str::to_string)
        } else {
            None
        };
        Ok((objects, next))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.body
                    .collect()
                    .await
                    .map_err(unavailable)?
                    .into_bytes()
                    .to_vec(),
            )),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
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
