//! `S3ReportObjects`: report files written in parts (a single PutObject when the whole file
//! fits in one part, a multipart upload otherwise) and presigned GET links whose stated
//! expiry never outlives the credentials that signed them.

use crate::ports::{ObjectUpload, PresignedLink, ReportObjects, StoreError};
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn unavailable<E: std::error::Error + 'static>(e: E) -> StoreError {
    StoreError::Unavailable(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())
}

/// Seconds kept between a link's stated expiry and its credentials' expiry.
const CREDENTIALS_MARGIN: i64 = 60;

#[derive(Clone)]
pub struct S3ReportObjects {
    client: Client,
    bucket: String,
    /// The credentials the client signs with; asked for their expiry when presigning.
    credentials: Option<aws_credential_types::provider::SharedCredentialsProvider>,
}

impl std::fmt::Debug for S3ReportObjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3ReportObjects")
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

impl S3ReportObjects {
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

    /// When the signing credentials stop working (epoch seconds), if they say.
    async fn credentials_expiry(&self) -> Option<i64> {
        credentials_expiry(self.credentials.as_ref()).await
    }
}

/// When these signing credentials stop working (epoch seconds), if they say.
pub(crate) async fn credentials_expiry(
    credentials: Option<&aws_credential_types::provider::SharedCredentialsProvider>,
) -> Option<i64> {
    let creds = credentials?.provide_credentials().await.ok()?;
    creds
        .expiry()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
}

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The life a link can be given: what was asked, cut to the credentials' remaining life.
pub fn link_life(asked: i64, now: i64, credentials_expiry: Option<i64>) -> i64 {
    match credentials_expiry {
        Some(exp) => asked.min(exp - now - CREDENTIALS_MARGIN).max(1),
        None => asked,
    }
}

pub struct S3Upload {
    client: Client,
    bucket: String,
    key: String,
    content_type: String,
    metadata: Vec<(String, String)>,
    upload_id: Option<String>,
    parts: Vec<CompletedPart>,
}

impl S3Upload {
    async fn ensure_started(&mut self) -> Result<String, StoreError> {
        if let Some(id) = &self.upload_id {
            return Ok(id.clone());
        }
        let mut req = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type(&self.content_type)
            .server_side_encryption(ServerSideEncryption::Aes256);
        for (k, v) in &self.metadata {
            req = req.metadata(k, v);
        }
        let out = req.send().await.map_err(unavailable)?;
        let id = out
            .upload_id
            .ok_or_else(|| StoreError::Unavailable("S3 returned no upload id".into()))?;
        self.upload_id = Some(id.clone());
        Ok(id)
    }

    async fn upload_part(&mut self, bytes: Vec<u8>) -> Result<(), StoreError> {
        let id = self.ensure_started().await?;
        let number = self.parts.len() as i32 + 1;
        let out = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(id)
            .part_number(number)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(unavailable)?;
        self.parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(out.e_tag)
                .build(),
        );
        Ok(())
    }
}

impl ObjectUpload for S3Upload {
    async fn part(&mut self, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.upload_part(bytes).await
    }

    async fn finish(mut self, last: Vec<u8>) -> Result<(), StoreError> {
        let Some(id) = self.upload_id.clone() else {
            // Small file: one request.
            let mut put = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(&self.key)
                .content_type(&self.content_type)
                .server_side_encryption(ServerSideEncryption::Aes256)
                .body(ByteStream::from(last));
            for (k, v) in &self.metadata {
                put = put.metadata(k, v);
            }
            return put.send().await.map(|_| ()).map_err(unavailable);
        };
        if !last.is_empty() {
            self.upload_part(last).await?;
        }
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(std::mem::take(&mut self.parts)))
                    .build(),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn abort(self) {
        if let Some(id) = self.upload_id {
            // Best effort: the bucket's lifecycle rule removes parts left behind.
            if let Err(e) = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(&self.key)
                .upload_id(id)
                .send()
                .await
            {
                tracing::warn!(error = %aws_sdk_s3::error::DisplayErrorContext(&e), "multipart upload not aborted");
            }
        }
    }
}

impl ReportObjects for S3ReportObjects {
    type Upload = S3Upload;

    async fn start(
        &self,
        key: &str,
        content_type: &str,
        metadata: &[(&str, &str)],
    ) -> Result<S3Upload, StoreError> {
        Ok(S3Upload {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: key.to_string(),
            content_type: content_type.to_string(),
            metadata: metadata
                .iter()
                .map(|(k, v)| {
                    let v: String = v
                        .chars()
                        .filter(|c| c.is_ascii() && !c.is_ascii_control())
                        .take(512)
                        .collect();
                    (k.to_string(), v)
                })
                .collect(),
            upload_id: None,
            parts: Vec::new(),
        })
    }

    async fn presign_get(
        &self,
        key: &str,
        expires_in: i64,
        filename: &str,
    ) -> Result<PresignedLink, StoreError> {
        let now = now();
        let life = link_life(expires_in, now, self.credentials_expiry().await);
        let config = PresigningConfig::expires_in(Duration::from_secs(life.max(1) as u64))
            .map_err(|e| StoreError::Rejected(e.to_string()))?;
        let safe_name: String = filename
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        // A page opens in the browser; a CSV downloads.
        let disposition = if safe_name.ends_with(".html") {
            "inline"
        } else {
            "attachment"
        };
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(format!("{disposition}; filename=\"{safe_name}\""))
            .presigned(config)
            .await
            .map_err(unavailable)?;
        Ok(PresignedLink {
            url: req.uri().to_string(),
            expires_at: now + life,
        })
    }

    async fn read(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        get_bytes(&self.client, &self.bucket, key).await
    }
}

/// An object's whole body.
pub(crate) async fn get_bytes(
    client: &Client,
    bucket: &str,
    key: &str,
) -> Result<Vec<u8>, StoreError> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(unavailable)?;
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(bytes.into_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_never_outlive_their_credentials() {
        assert_eq!(link_life(900, 1_000, None), 900);
        // Credentials good for another 10 minutes: 540 s (60 s margin).
        assert_eq!(link_life(900, 1_000, Some(1_600)), 540);
        assert_eq!(link_life(300, 1_000, Some(10_000)), 300);
        assert_eq!(link_life(900, 1_000, Some(1_000)), 1);
    }
}
