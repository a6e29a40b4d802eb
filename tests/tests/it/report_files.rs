//! Report files in S3 (moto) through the real adapter and service: multipart parts are
//! reassembled byte for byte, an aborted upload leaves nothing, a report that fails midway
//! says why and leaves no object and no open upload, and presigned links stop working when
//! they say (signed for exactly their stated life, never past the credentials that signed
//! them).

use integration_tests::harness::{Moto, local_sdk_config, unique_name};
use shared::adapters::aws::s3_client;
use shared::adapters::s3::create_bucket;
use shared::adapters::s3_reports::S3ReportObjects;
use shared::domain::leads::LeadView;
use shared::domain::metrics::input::{ConsentEvt, Inputs, OutboundMsg, Times};
use shared::domain::report::{
    LinkPolicy, ReportRecord, ReportRequest, ReportRequestBody, ReportStatus,
};
use shared::ports::{
    ObjectUpload, ReportObjects, ReportSource, ReportStore, ReportWindow, StoreError,
};
use shared::reports::{ReportService, ReportSettings, object_key};
use std::sync::Mutex;
use std::time::Duration;

async fn bucket() -> (Moto, aws_sdk_s3::Client, String, aws_config::SdkConfig) {
    let moto = Moto::start();
    let sdk = local_sdk_config(&moto.url()).await;
    let s3 = s3_client(&sdk);
    let bucket = unique_name("reports");
    create_bucket(&s3, &bucket).await.expect("bucket");
    (moto, s3, bucket, sdk)
}

async fn open_uploads(s3: &aws_sdk_s3::Client, bucket: &str) -> usize {
    s3.list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .expect("list uploads")
        .uploads
        .unwrap_or_default()
        .len()
}

async fn exists(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> bool {
    s3.head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_are_reassembled_and_an_aborted_upload_leaves_nothing() {
    let (_moto, s3, bucket, sdk) = bucket().await;
    let objects = S3ReportObjects::new(s3.clone(), &bucket, sdk.credentials_provider());
    let part = |b: u8| vec![b; 5 * 1024 * 1024];
    let mut up = objects
        .start("reports/t/a.csv", "text/csv", &[])
        .await
        .unwrap();
    up.part(part(b'a')).await.unwrap();
    up.part(part(b'b')).await.unwrap();
    up.finish(b"tail\r\n".to_vec()).await.unwrap();
    let got = objects.read("reports/t/a.csv").await.unwrap();
    assert_eq!(got.len(), 10 * 1024 * 1024 + 6);
    assert!(got[..5 * 1024 * 1024].iter().all(|b| *b == b'a'));
    assert!(got.ends_with(b"btail\r\n"));
    let head = s3
        .head_object()
        .bucket(&bucket)
        .key("reports/t/a.csv")
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.server_side_encryption().map(|e| e.as_str()),
        Some("AES256"),
        "report files are encrypted at rest"
    );

    let mut up = objects
        .start("reports/t/b.csv", "text/csv", &[])
        .await
        .unwrap();
    up.part(part(b'c')).await.unwrap();
    assert_eq!(open_uploads(&s3, &bucket).await, 1);
    up.abort().await;
    assert_eq!(open_uploads(&s3, &bucket).await, 0);
    assert!(!exists(&s3, &bucket, "reports/t/b.csv").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_is_signed_for_its_stated_life_and_never_outlives_its_credentials() {
    let (_moto, s3, bucket, sdk) = bucket().await;
    let objects = S3ReportObjects::new(s3.clone(), &bucket, sdk.credentials_provider());
    objects
        .start("reports/t/x.csv", "text/csv", &[])
        .await
        .unwrap()
        .finish(b"period\r\n".to_vec())
        .await
        .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let link = objects
        .presign_get("reports/t/x.csv", 2, "x.csv")
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!((link.expires_at - now - 2).abs() <= 1);
    let fresh = http.get(&link.url).send().await.unwrap();
    assert_eq!(fresh.status(), 200);
    assert_eq!(
        fresh.headers()["content-disposition"],
        "attachment; filename=\"x.csv\""
    );
    assert_eq!(fresh.text().await.unwrap(), "period\r\n");
    // The link states the life we report: signed at X-Amz-Date for X-Amz-Expires seconds.
    // (moto does not refuse expired links, so the expiry is checked where S3 reads it.)
    assert!(
        (signed_until(&link.url) - link.expires_at).abs() <= 1,
        "{}",
        link.url
    );

    // Credentials that expire in 5 minutes cap a 15-minute link to 4 (60 s margin).
    let expiring = aws_credential_types::Credentials::new(
        "testing",
        "testing",
        Some("session".into()),
        Some(std::time::SystemTime::now() + Duration::from_secs(300)),
        "test",
    );
    let provider = aws_credential_types::provider::SharedCredentialsProvider::new(expiring);
    let capped = S3ReportObjects::new(s3, &bucket, Some(provider));
    let link = capped
        .presign_get("reports/t/x.csv", 900, "x.csv")
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(
        (link.expires_at - (now + 240)).abs() <= 2,
        "{} vs {now}",
        link.expires_at
    );
    assert!(
        (signed_until(&link.url) - link.expires_at).abs() <= 1,
        "{}",
        link.url
    );
}

/// When S3 stops honouring a presigned URL: its `X-Amz-Date` plus `X-Amz-Expires`.
fn signed_until(url: &str) -> i64 {
    let url = url::Url::parse(url).unwrap();
    let param = |k: &str| {
        url.query_pairs()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("{k} in {url}"))
    };
    let date = chrono::NaiveDateTime::parse_from_str(&param("X-Amz-Date"), "%Y%m%dT%H%M%SZ")
        .unwrap()
        .and_utc()
        .timestamp();
    date + param("X-Amz-Expires").parse::<i64>().unwrap()
}

/// Many messages, then storage fails on the third slice of the export.
struct FailingSource;

impl ReportSource for FailingSource {
    async fn inputs(&self, _: &ReportWindow) -> Result<Inputs, StoreError> {
        Ok(Inputs::default())
    }
    async fn outbound_between(&self, lo: i64, hi: i64) -> Result<Vec<OutboundMsg>, StoreError> {
        static CALLS: Mutex<u32> = Mutex::new(0);
        let mut calls = CALLS.lock().unwrap();
        *calls += 1;
        if *calls > 2 {
            return Err(StoreError::Unavailable(
                "injected: table unreachable".into(),
            ));
        }
        Ok((0..40_000)
            .map(|i| OutboundMsg {
                wamid: format!("wamid.{lo}.{i:08}-padding-to-make-rows-longer"),
                person: Some(format!("6281234{i:06}")),
                waba_id: "W".into(),
                phone_number_id: "P".into(),
                times: Times {
                    sent_at: Some(lo + (i as i64 % (hi - lo + 1))),
                    delivered_at: None,
                    read_at: None,
                    played_at: None,
                    failed_at: None,
                },
                pricing: None,
                tag: Some("template=spring;campaign=c;by=bot".into()),
                error_code: None,
                error_title: None,
            })
            .collect())
    }
    async fn opt_out_facts(
        &self,
        _: i64,
        _: i64,
    ) -> Result<(Vec<ConsentEvt>, Vec<OutboundMsg>), StoreError> {
        Ok((Vec::new(), Vec::new()))
    }
    async fn leads_created(&self, _: i64, _: i64) -> Result<Vec<LeadView>, StoreError> {
        Ok(Vec::new())
    }
    // Reports here run for a caller who sees every WABA: nothing asks whose a lead is.
    async fn tenancy(
        &self,
        _: &[String],
        _: &[String],
    ) -> Result<shared::domain::access::Tenancy, StoreError> {
        Ok(shared::domain::access::Tenancy::default())
    }
}

#[derive(Default)]
struct MemoryStore(Mutex<Vec<ReportRecord>>);

impl ReportStore for MemoryStore {
    async fn put(&self, r: &ReportRecord) -> Result<(), StoreError> {
        let mut all = self.0.lock().unwrap();
        all.retain(|x| x.id != r.id);
        all.push(r.clone());
        Ok(())
    }
    async fn get(&self, id: &str) -> Result<Option<ReportRecord>, StoreError> {
        Ok(self.0.lock().unwrap().iter().find(|r| r.id == id).cloned())
    }
    async fn recent(&self, _: i32) -> Result<Vec<ReportRecord>, StoreError> {
        Ok(self.0.lock().unwrap().clone())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_that_fails_midway_says_why_and_leaves_no_file_and_no_open_upload() {
    let (_moto, s3, bucket, sdk) = bucket().await;
    let service = ReportService {
        source: FailingSource,
        store: MemoryStore::default(),
        objects: S3ReportObjects::new(s3.clone(), &bucket, sdk.credentials_provider()),
        settings: ReportSettings {
            part_bytes: 5 * 1024 * 1024,
            ..ReportSettings::default()
        },
    };
    let req = ReportRequest::parse(
        ReportRequestBody {
            kind: "messages".into(),
            from: "2026-11-01".into(),
            to: "2026-11-02".into(),
            tz: None,
            group_by: None,
            phone_number_id: None,
            expires_in: None,
            locale: None,
        },
        LinkPolicy::default(),
    )
    .unwrap();
    let rec = service.new_record("1795000000-00000000000000aa".into(), &req, "t", "api", 0);
    service.store.put(&rec).await.unwrap();
    let done = service.run(rec, || 1).await;
    assert_eq!(done.status, ReportStatus::Failed);
    assert!(
        done.reason
            .as_deref()
            .unwrap_or("")
            .contains("injected: table unreachable"),
        "{:?}",
        done.reason
    );
    let stored = service.store.get(&done.id).await.unwrap().unwrap();
    assert_eq!(
        stored.status,
        ReportStatus::Failed,
        "the failure is recorded"
    );
    assert!(
        !exists(&s3, &bucket, &object_key(&done)).await,
        "no partial file"
    );
    assert_eq!(
        open_uploads(&s3, &bucket).await,
        0,
        "the upload was aborted"
    );
}
