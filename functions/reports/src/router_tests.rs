//! The router's own checks (auth first, 405 with `Allow`, 404, strict query strings, body
//! codes), against the live adapters pointed nowhere: every request here is answered before
//! storage is touched.

use crate::handler::ReportsApi;
use lambda_http::http::header;
use lambda_http::{Body, Request};
use serde_json::Value;
use shared::config::{ApiAuth, ReportsConfig, Secret};

const TOKEN: &str = "unit-test-token-0123456789";

/// The live API over an SDK config that points nowhere: every request these tests send
/// is answered before storage is touched.
fn api() -> ReportsApi<
    shared::adapters::dynamodb::reports::DynamoDbReportSource,
    shared::adapters::dynamodb::reports::DynamoDbReportStore,
    shared::adapters::s3_reports::S3ReportObjects,
> {
    let config = ReportsConfig {
        table_name: "t".into(),
        bucket_name: "b".into(),
        auth: ApiAuth::Token(Secret::new(TOKEN)),
        waba_ids: Vec::new(),
        link_default_seconds: 900,
        link_max_seconds: 3_600,
        retention_days: 30,
        inline_seconds: 1,
        sla_seconds: 900,
        csv_bom: false,
        topic_arn: None,
        api_url: None,
    };
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .endpoint_url("http://127.0.0.1:9")
        .build();
    ReportsApi::from_sdk(&config, &sdk)
}

fn request(method: &str, uri: &str, content_type: Option<&str>, body: Body) -> Request {
    let mut b = lambda_http::http::Request::builder()
        .method(method)
        .uri(format!("https://reports.example{uri}"))
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    if let Some(c) = content_type {
        b = b.header(header::CONTENT_TYPE, c);
    }
    b.body(body).unwrap()
}

async fn answer(req: Request) -> (u16, Value, Option<String>) {
    let resp = api().route(req).await;
    let allow = resp
        .headers()
        .get(header::ALLOW)
        .map(|v| v.to_str().unwrap().to_string());
    let body = match resp.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap(),
        _ => Value::Null,
    };
    (resp.status().as_u16(), body, allow)
}

async fn code(req: Request) -> (u16, String) {
    let (status, body, _) = answer(req).await;
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (status, code)
}

fn post(content_type: Option<&str>, body: &str) -> Request {
    request(
        "POST",
        "/v1/reports",
        content_type,
        Body::Text(body.to_string()),
    )
}

#[tokio::test]
async fn credentials_come_first() {
    let mut req = request("TRACE", "/v1/reports/nope", None, Body::Empty);
    req.headers_mut().remove(header::AUTHORIZATION);
    let resp = api().route(req).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(resp.headers()[header::WWW_AUTHENTICATE], "Bearer");
    let mut req = request("GET", "/v1/reports", None, Body::Empty);
    req.headers_mut()
        .insert(header::AUTHORIZATION, "Bearer wrong".parse().unwrap());
    assert_eq!(code(req).await, (401, "unauthorized".into()));
}

#[tokio::test]
async fn other_methods_are_405_with_allow_and_other_paths_404() {
    for method in [
        "PUT", "DELETE", "PATCH", "TRACE", "OPTIONS", "HEAD", "QUERY",
    ] {
        let (status, _, allow) = answer(request(method, "/v1/reports", None, Body::Empty)).await;
        assert_eq!(
            (status, allow.as_deref()),
            (405, Some("GET, POST")),
            "{method}"
        );
        let (status, _, allow) = answer(request(
            method,
            "/v1/reports/1764000000-0123456789abcdef",
            None,
            Body::Empty,
        ))
        .await;
        assert_eq!((status, allow.as_deref()), (405, Some("GET")), "{method}");
    }
    for path in ["/v1/reports/a/b", "/v1/reportsx", "/v1/other"] {
        let req = request("GET", path, None, Body::Empty);
        assert_eq!(code(req).await, (404, "not_found".into()), "{path}");
    }
    for id in [
        "",
        "nope",
        "1764000000-0123456789ABCDEF",
        "1764000000-0123456789abcdef0",
    ] {
        let req = request("GET", &format!("/v1/reports/{id}"), None, Body::Empty);
        assert_eq!(code(req).await, (400, "invalid_parameter".into()), "{id:?}");
    }
}

#[tokio::test]
async fn query_strings_are_strict() {
    let get = |uri: &str| request("GET", uri, None, Body::Empty);
    let id = "/v1/reports/1764000000-0123456789abcdef";
    for (uri, expected) in [
        ("/v1/reports?limt=5", "unknown_parameter"),
        ("/v1/reports?limit", "invalid_parameter"),
        ("/v1/reports?limit=", "invalid_parameter"),
        ("/v1/reports?limit=5&limit=5", "invalid_parameter"),
        ("/v1/reports?limit=0", "invalid_parameter"),
        ("/v1/reports?limit=101", "invalid_parameter"),
        ("/v1/reports?limit=+5", "invalid_parameter"),
        ("/v1/reports?limit=5.0", "invalid_parameter"),
        ("/v1/reports?limit=%FF", "invalid_parameter"),
    ] {
        assert_eq!(code(get(uri)).await, (400, expected.into()), "{uri}");
    }
    for (query, expected) in [
        ("?expires_in=59", "bad_expires_in"),
        ("?expires_in=3601", "bad_expires_in"),
        ("?expires_in=six", "bad_expires_in"),
        ("?expires_in=", "invalid_parameter"),
        ("?expires_in=60&expires_in=60", "invalid_parameter"),
        ("?limit=5", "unknown_parameter"),
    ] {
        let uri = format!("{id}{query}");
        assert_eq!(code(get(&uri)).await, (400, expected.into()), "{uri}");
    }
    let req = request(
        "POST",
        "/v1/reports?kind=volume",
        Some("application/json"),
        Body::Text("{}".into()),
    );
    assert_eq!(code(req).await, (400, "unknown_parameter".into()));
}

#[tokio::test]
async fn bodies_get_specific_codes() {
    let good = r#"{"kind":"volume","from":"2026-11-01","to":"2026-11-07"}"#;
    for (content_type, body, expected) in [
        (None, good, "unsupported_media_type"),
        (Some("text/plain"), good, "unsupported_media_type"),
        (Some("application/jsonx"), good, "unsupported_media_type"),
        (Some("application/json"), "", "malformed_body"),
        (Some("application/json"), "{\"kind\":", "malformed_body"),
        (Some("application/json"), "[1]", "malformed_body"),
        (
            Some("application/json; charset=utf-8"),
            r#"{"kind":"volume","from":"2026-11-01","to":"2026-11-07","x":1}"#,
            "unknown_field",
        ),
        (
            Some("Application/JSON"),
            r#"{"kind":"nope","from":"2026-11-01","to":"2026-11-07"}"#,
            "unknown_kind",
        ),
        (
            Some("application/json"),
            r#"{"kind":"spend","from":"2026-11-08","to":"2026-11-07"}"#,
            "from_after_to",
        ),
        (
            Some("application/json"),
            r#"{"kind":"spend","from":"2026-11-01","to":"2026-11-07","group_by":"hour"}"#,
            "bad_group_by",
        ),
    ] {
        let req = post(content_type, body);
        assert_eq!(
            code(req).await,
            (400, expected.into()),
            "{content_type:?} {body}"
        );
    }
    let req = request(
        "POST",
        "/v1/reports",
        Some("application/json"),
        Body::Binary(vec![b'{', 0xff, b'}']),
    );
    assert_eq!(code(req).await, (400, "malformed_body".into()));
}
