//! Import jobs: a synchronous import sent with an `Idempotency-Key` applies once; a large
//! file goes through a presigned upload (moto's S3) and an asynchronous run by the real
//! lead-imports handler, started by the upload's event, once however often the event comes;
//! a job is visible only to callers who may see its WABAs.

use crate::support::{claims, jwt_event, parsed};
use integration_tests::harness::Stack;
use lead_imports::handler::ImportRunner;
use leads::handler::{Leads, LeadsConfig};
use serde_json::{Value, json};
use shared::adapters::dynamodb::leads::DynamoDbLeadStore;
use shared::adapters::s3_imports::S3ImportFiles;
use shared::config::ApiAuth;
use shared::domain::leads::Lifecycle;

const SCOPE: &str = "wa-insights/api";

#[tokio::test]
async fn imports_apply_once_and_large_files_run_as_jobs() {
    let stack = Stack::start().await;
    let api = Leads::from_sdk(
        LeadsConfig {
            table_name: stack.table.clone(),
            auth: ApiAuth::Jwt(Default::default()),
            lifecycle: Lifecycle::default(),
            forward_conversions: false,
            bucket_name: Some(stack.bucket.clone()),
        },
        &stack.sdk,
    );
    let runner = ImportRunner::new(
        DynamoDbLeadStore::new(stack.dynamodb.clone(), &stack.table),
        S3ImportFiles::new(stack.s3.clone(), &stack.bucket, None),
        Lifecycle::default(),
    );
    let now = chrono::Utc::now();
    let owner = claims("owner", Some(SCOPE), Some("*"));
    let a = claims("manager-a", Some(SCOPE), Some("111"));
    let b = claims("manager-b", Some(SCOPE), Some("222"));
    let call = async |c: &Value,
                      method: &str,
                      path: &str,
                      key: Option<&str>,
                      body: Option<(&str, &str)>| {
        let mut req = jwt_event(method, path, "", c, body);
        if let Some(k) = key {
            req.headers_mut()
                .insert("idempotency-key", k.parse().unwrap());
        }
        parsed(&api.route(req, now).await)
    };
    let version = async |id: &str| {
        call(&owner, "GET", &format!("/v1/leads/{id}"), None, None)
            .await
            .1["lead"]["version"]
            .clone()
    };

    // Synchronous, with a key: applied once; the retry answers the first result.
    let file = "phone,name,tags\n5511911110001,Ana,vip\n5511911110002,Bia,\n";
    let first = call(
        &owner,
        "POST",
        "/v1/leads/import",
        Some("batch-7"),
        Some(("text/csv", file)),
    )
    .await;
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(
        (first.1["imported"].as_u64(), first.1["replayed"].as_bool()),
        (Some(2), Some(false))
    );
    assert_eq!(version("5511911110001").await, 1);
    let again = call(
        &owner,
        "POST",
        "/v1/leads/import",
        Some("batch-7"),
        Some(("text/csv", file)),
    )
    .await;
    assert_eq!(
        (
            again.0,
            again.1["imported"].as_u64(),
            again.1["replayed"].as_bool()
        ),
        (200, Some(2), Some(true))
    );
    assert_eq!(
        version("5511911110001").await,
        1,
        "the retry applied nothing"
    );
    let other = call(
        &owner,
        "POST",
        "/v1/leads/import",
        Some("batch-7"),
        Some(("text/csv", "phone\n5511911110003\n")),
    )
    .await;
    assert_eq!(
        (other.0, other.1["error"]["code"].as_str()),
        (409, Some("idempotency_conflict"))
    );
    // Without a key an import applies each time (versions move).
    call(
        &owner,
        "POST",
        "/v1/leads/import",
        None,
        Some(("text/csv", file)),
    )
    .await;
    assert_eq!(version("5511911110001").await, 2);

    // Asynchronous: a job, a presigned upload, the upload's event runs it once.
    let (status, job) = call(&a, "POST", "/v1/leads/imports", None, None).await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(
        (job["status"].as_str(), job["waba_id"].as_str()),
        (Some("awaiting_upload"), Some("111"))
    );
    let id = job["id"].as_str().unwrap().to_string();
    let mut big = String::from("phone,name,stage\n");
    for i in 0..40 {
        big.push_str(&format!("55119222{i:05},Lead {i},qualified\n"));
    }
    big.push_str("not-a-phone,Broken,\n");
    let put = reqwest::Client::new()
        .put(job["upload_url"].as_str().unwrap())
        .header("content-type", "text/csv")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success(), "upload: {}", put.status());
    let (_, before) = call(&a, "GET", &format!("/v1/leads/imports/{id}"), None, None).await;
    assert_eq!(before["status"], "awaiting_upload");
    let event = json!({"source": "aws.s3", "detail-type": "Object Created",
        "detail": {"bucket": {"name": stack.bucket}, "object": {"key": format!("imports/{id}.csv"), "size": big.len()}}});
    let ran = runner.handle(event.clone()).await.unwrap();
    assert_eq!(
        (ran["ran"].as_bool(), ran["status"].as_str()),
        (Some(true), Some("done"))
    );
    let (status, done) = call(&a, "GET", &format!("/v1/leads/imports/{id}"), None, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            done["status"].as_str(),
            done["imported"].as_u64(),
            done["error_count"].as_u64()
        ),
        (Some("done"), Some(40), Some(1))
    );
    assert_eq!(done["errors"][0]["line"], 42);
    let (_, lead) = call(&a, "GET", "/v1/leads/5511922200007", None, None).await;
    assert_eq!(
        (
            lead["lead"]["stage"].as_str(),
            lead["lead"]["waba_ids"].clone()
        ),
        (Some("qualified"), json!(["111"]))
    );
    // The event again (EventBridge delivers at least once): nothing runs twice.
    let again = runner.handle(event).await.unwrap();
    assert_eq!(again["ran"], false);
    assert_eq!(version("5511922200007").await, 1);
    // Another WABA's manager sees neither the job nor its leads.
    assert_eq!(
        call(&b, "GET", &format!("/v1/leads/imports/{id}"), None, None)
            .await
            .0,
        404
    );
    assert_eq!(
        call(&b, "GET", "/v1/leads/5511922200007", None, None)
            .await
            .0,
        404
    );
    assert_eq!(
        call(
            &owner,
            "GET",
            &format!("/v1/leads/imports/{id}"),
            None,
            None
        )
        .await
        .0,
        200
    );

    // A file whose header is unusable ends its job failed, with the reason.
    let (_, bad) = call(&owner, "POST", "/v1/leads/imports", None, None).await;
    let bad_id = bad["id"].as_str().unwrap().to_string();
    reqwest::Client::new()
        .put(bad["upload_url"].as_str().unwrap())
        .header("content-type", "text/csv")
        .body("nonsense,columns\n1,2\n")
        .send()
        .await
        .unwrap();
    runner
        .handle(json!({"detail": {"object": {"key": format!("imports/{bad_id}.csv")}}}))
        .await
        .unwrap();
    let (_, failed) = call(
        &owner,
        "GET",
        &format!("/v1/leads/imports/{bad_id}"),
        None,
        None,
    )
    .await;
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["reason"]
            .as_str()
            .unwrap()
            .starts_with("invalid_header"),
        "{failed}"
    );
    // Ids are checked; unknown jobs are 404.
    assert_eq!(
        call(&owner, "GET", "/v1/leads/imports/nope", None, None)
            .await
            .0,
        400
    );
    assert_eq!(
        call(
            &owner,
            "GET",
            "/v1/leads/imports/k00000000000000000000000000000000",
            None,
            None
        )
        .await
        .0,
        404
    );
}
