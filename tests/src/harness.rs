//! Test and local-stack harness: a `moto_server` (the project venv's, ≥ 5.2.5) started per
//! stack or an existing one from `AWS_ENDPOINT_URL`, tables and buckets created from the
//! same definitions the template uses, the real webhook handler wired to them, and signed
//! request builders.

use crate::table::{create_table, create_table_and_indexes};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use lambda_http::{Body, Request, RequestExt};
use shared::adapters::aws::{dynamodb_client, s3_client};
use shared::adapters::s3::create_bucket;
use shared::config::{Secret, SecretSource, WebhookConfig};
use shared::domain::signature::sign;
use shared::telemetry::RequestCounter;
use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use webhook::handler::LiveWebhook;

pub const LOCAL_APP_SECRET: &str = "local-app-secret";
pub const LOCAL_VERIFY_TOKEN: &str = "local-verify-token";

/// The workspace root (this crate lives in `<root>/tests`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The conformance corpus: `WA_CORPUS_DIR`, else the vendored copy in `tests/fixtures/corpus`.
/// Missing → panic with the fix, never a silent skip.
pub fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("WA_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("tests/fixtures/corpus"));
    assert!(
        dir.is_dir(),
        "corpus not found at {} — set WA_CORPUS_DIR to the directory holding Meta's example payloads \
         (default: tests/fixtures/corpus in this repository)",
        dir.display()
    );
    dir
}

/// How to start moto: `MOTO_SERVER` (a `moto_server`-compatible command), else the
/// project venv's Python running `scripts/moto_server.py` (moto ≥ 5.2.5, one request at a
/// time — see that script for why). Nothing on PATH is used: an older moto there breaks
/// S3 multipart uploads.
fn moto_command() -> Command {
    if let Some(p) = std::env::var_os("MOTO_SERVER") {
        return Command::new(p);
    }
    let root = workspace_root();
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "project venv not found at {} — run `make setup` (scripts/setup.sh installs moto[server]>=5.2.5 into .venv) \
         or set MOTO_SERVER",
        python.display()
    );
    let mut cmd = Command::new(python);
    cmd.arg(root.join("scripts/moto_server.py"));
    cmd
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// A local store's child process, killed on drop.
struct ChildServer(Option<Child>);

impl ChildServer {
    fn spawn(mut cmd: Command, args: &[&str], what: &str) -> ChildServer {
        let child = cmd
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {what} ({cmd:?}): {e}"));
        ChildServer(Some(child))
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits up to 30 s until `request` sent to the port is answered with a status line that
/// `ready` accepts.
fn wait_http(port: u16, what: &str, request: &[u8], ready: impl Fn(&[u8]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            let _ = s.write_all(request);
            let mut buf = [0u8; 16];
            if s.read(&mut buf).is_ok_and(|n| n >= 12 && ready(&buf[..n])) {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} on port {port} did not become ready in 30 s");
}

/// A `moto_server` child process, killed on drop.
pub struct Moto {
    child: ChildServer,
    pub port: u16,
}

impl Moto {
    pub fn start() -> Moto {
        Self::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Moto {
        let child = ChildServer::spawn(
            moto_command(),
            &["-H", "127.0.0.1", "-p", &port.to_string()],
            "moto",
        );
        wait_http(
            port,
            "moto_server",
            b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
            |status| &status[9..12] == b"200",
        );
        Moto { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the server (storage outage); state is lost with it.
    pub fn stop(&mut self) {
        self.child.stop();
    }
}

/// How to start dynalite: `DYNALITE` (a dynalite-compatible command), else node running the
/// copy `scripts/setup.sh` installs into `tools/dynalite/node_modules` (pinned by its
/// `package-lock.json`). Missing → panic with the fix, never a silent skip.
fn dynalite_command() -> Command {
    if let Some(p) = std::env::var_os("DYNALITE") {
        return Command::new(p);
    }
    let cli = workspace_root().join("tools/dynalite/node_modules/dynalite/cli.js");
    assert!(
        cli.exists(),
        "dynalite not found at {} — run `make setup` (scripts/setup.sh installs it with npm ci) or set DYNALITE",
        cli.display()
    );
    let mut cmd = Command::new("node");
    cmd.arg(cli);
    cmd
}

/// A dynalite child process (a DynamoDB-compatible store on LevelDB, in memory here), killed
/// on drop. It answers ingest's conditional writes far faster than moto but has no Streams
/// and no UpdateTimeToLive: the load bench and smoke test use it for the table only (S3 stays
/// on moto; see [`Stack::on_dynalite`]).
pub struct Dynalite {
    _child: ChildServer,
    pub port: u16,
}

impl Dynalite {
    pub fn start() -> Dynalite {
        let port = free_port();
        let child = ChildServer::spawn(
            dynalite_command(),
            &[
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                // Tables are ACTIVE at once: nothing waits for them here (moto does the same).
                "--createTableMs",
                "0",
                "--updateTableMs",
                "0",
                "--deleteTableMs",
                "0",
            ],
            "dynalite",
        );
        // Any HTTP answer means it listens (it refuses a bare GET with a 400).
        wait_http(
            port,
            "dynalite",
            b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
            |status| status.starts_with(b"HTTP/1."),
        );
        Dynalite {
            _child: child,
            port,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// SDK config for a local endpoint: dummy credentials, fixed region, no IMDS lookups, one
/// retry (outage tests stay quick) and a generous operation timeout (moto is one Python
/// process; under 50 concurrent POSTs its queue, not our code, sets the latency).
pub async fn local_sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "local",
        ))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_timeout(Duration::from_secs(90))
                .build(),
        )
        .load()
        .await
}

static UNIQUE: AtomicU32 = AtomicU32::new(0);

/// A unique resource name (tests share one moto process per stack, but names never clash).
pub fn unique_name(prefix: &str) -> String {
    let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

pub fn webhook_config(table: &str, bucket: &str) -> WebhookConfig {
    WebhookConfig {
        table_name: table.to_string(),
        bucket_name: bucket.to_string(),
        quarantine_prefix: "quarantine/".to_string(),
        max_body_bytes: shared::config::DEFAULT_MAX_BODY_BYTES,
        // moto is one Python process: a smaller fan-out than production (32) keeps its
        // accept queue short when many POSTs run at once.
        write_concurrency: 8,
        secrets: SecretSource::Env {
            app_secret: Secret::new(LOCAL_APP_SECRET),
            app_secret_previous: None,
            verify_token: Secret::new(LOCAL_VERIFY_TOKEN),
        },
        stop_keywords: None,
        start_keywords: None,
        assignment: None,
        lifecycle: shared::domain::leads::Lifecycle::default(),
        secret_refresh: shared::config::SecretRefresh::default(),
    }
}

/// The whole ingest stack against moto: table, bucket, the real handler, a request counter.
/// With [`Stack::on_dynalite`], the table lives in dynalite and the bucket in moto.
pub struct Stack {
    pub moto: Option<Moto>,
    /// The table's store when it is not moto.
    pub dynalite: Option<Dynalite>,
    /// moto's endpoint (S3; DynamoDB and its stream too unless the table is in dynalite).
    pub endpoint: String,
    /// S3 and secrets (and DynamoDB unless the table is in dynalite).
    pub sdk: SdkConfig,
    /// DynamoDB.
    pub dynamodb_sdk: SdkConfig,
    pub table: String,
    pub bucket: String,
    pub counter: RequestCounter,
    pub webhook: LiveWebhook,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
}

impl Stack {
    /// A fresh moto process with its own table and bucket.
    pub async fn start() -> Stack {
        let moto = Moto::start();
        let endpoint = moto.url();
        Self::on(endpoint, Some(moto), webhook_config).await
    }

    /// Against an endpoint (a running moto), with a custom config.
    pub async fn on(
        endpoint: String,
        moto: Option<Moto>,
        config: impl FnOnce(&str, &str) -> WebhookConfig,
    ) -> Stack {
        shared::telemetry::init_for_tests();
        Self::with_names(
            endpoint,
            moto,
            unique_name("wa-insights"),
            unique_name("wa-insights-raw"),
            config,
        )
        .await
    }

    /// Against an endpoint with given table and bucket names (created if missing).
    pub async fn with_names(
        endpoint: String,
        moto: Option<Moto>,
        table: String,
        bucket: String,
        config: impl FnOnce(&str, &str) -> WebhookConfig,
    ) -> Stack {
        let sdk = local_sdk_config(&endpoint).await;
        let dynamodb = dynamodb_client(&sdk, None);
        create_table(&dynamodb, &table).await.expect("create table");
        Self::assemble(
            endpoint,
            moto,
            None,
            sdk.clone(),
            sdk,
            table,
            bucket,
            config,
        )
        .await
    }

    /// The table in a fresh dynalite, the bucket in a fresh moto: the store under load (the
    /// load bench and smoke test; moto answers ~60 writes/s). dynalite has no Streams, so
    /// nothing here feeds the aggregator, and no UpdateTimeToLive, so the table is created
    /// without its TTL setting (only report records carry `expires_at`; ingest writes none).
    pub async fn on_dynalite(config: impl FnOnce(&str, &str) -> WebhookConfig) -> Stack {
        let dynalite = Dynalite::start();
        Self::split(dynalite.url(), Some(dynalite), config).await
    }

    /// DynamoDB at `dynamodb_endpoint` (its process, if any, kept alive with the stack), S3 in
    /// a fresh moto. The table is created there without TTL (see [`Stack::on_dynalite`]).
    pub async fn split(
        dynamodb_endpoint: String,
        dynalite: Option<Dynalite>,
        config: impl FnOnce(&str, &str) -> WebhookConfig,
    ) -> Stack {
        shared::telemetry::init_for_tests();
        let moto = Moto::start();
        let sdk = local_sdk_config(&moto.url()).await;
        let dynamodb_sdk = local_sdk_config(&dynamodb_endpoint).await;
        let table = unique_name("wa-insights");
        create_table_and_indexes(&dynamodb_client(&dynamodb_sdk, None), &table)
            .await
            .expect("create table");
        Self::assemble(
            moto.url(),
            Some(moto),
            dynalite,
            sdk,
            dynamodb_sdk,
            table,
            unique_name("wa-insights-raw"),
            config,
        )
        .await
    }

    /// The bucket, the real webhook handler and the clients over an existing table.
    #[allow(clippy::too_many_arguments)]
    async fn assemble(
        endpoint: String,
        moto: Option<Moto>,
        dynalite: Option<Dynalite>,
        sdk: SdkConfig,
        dynamodb_sdk: SdkConfig,
        table: String,
        bucket: String,
        config: impl FnOnce(&str, &str) -> WebhookConfig,
    ) -> Stack {
        let dynamodb = dynamodb_client(&dynamodb_sdk, None);
        let s3 = s3_client(&sdk);
        create_bucket(&s3, &bucket).await.expect("create bucket");
        let counter = RequestCounter::new();
        let config = config(&table, &bucket);
        let webhook = LiveWebhook::from_sdks(&config, &sdk, &dynamodb_sdk, Some(counter.clone()))
            .await
            .expect("webhook init");
        counter.reset();
        Stack {
            moto,
            dynalite,
            endpoint,
            sdk,
            dynamodb_sdk,
            table,
            bucket,
            counter,
            webhook,
            dynamodb,
            s3,
        }
    }

    /// POSTs a body signed with the local app secret to the real handler.
    pub async fn post(&self, body: &[u8]) -> (u16, String) {
        self.send(signed_post(body, LOCAL_APP_SECRET.as_bytes()))
            .await
    }

    pub async fn send(&self, req: Request) -> (u16, String) {
        let resp = self
            .webhook
            .handle(req)
            .await
            .expect("handler never errors");
        let status = resp.status().as_u16();
        let body = match resp.body() {
            Body::Text(t) => t.clone(),
            Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
            Body::Empty => String::new(),
            _ => String::new(),
        };
        (status, body)
    }

    /// Every item in the table, sorted by key (tests compare whole-table snapshots).
    pub async fn scan(&self) -> Vec<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        scan_table(&self.dynamodb, &self.table).await
    }

    pub async fn item(
        &self,
        pk: &str,
        sk: &str,
    ) -> Option<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        use aws_sdk_dynamodb::types::AttributeValue as Av;
        self.dynamodb
            .get_item()
            .table_name(&self.table)
            .key("pk", Av::S(pk.into()))
            .key("sk", Av::S(sk.into()))
            .consistent_read(true)
            .send()
            .await
            .expect("get item")
            .item
    }

    /// Object keys under a prefix in the stack's bucket.
    pub async fn objects(&self, prefix: &str) -> Vec<String> {
        let out = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .send()
            .await
            .expect("list objects");
        out.contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_string))
            .collect()
    }

    pub async fn object(&self, key: &str) -> Vec<u8> {
        let out = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .expect("get object");
        out.body
            .collect()
            .await
            .expect("object body")
            .into_bytes()
            .to_vec()
    }
}

pub async fn scan_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Vec<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let mut items: Vec<_> = client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("scan");
    let key = |i: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>| {
        let s = |k: &str| {
            i.get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        (s("pk"), s("sk"))
    };
    items.sort_by_key(key);
    items
}

/// A POST as Lambda hands it to the handler, signed with `secret`.
pub fn signed_post(body: &[u8], secret: &[u8]) -> Request {
    let sig = sign(secret, body);
    post_with_header(body, Some(&sig))
}

/// A POST with the given `X-Hub-Signature-256` header value (or none).
pub fn post_with_header(body: &[u8], signature: Option<&str>) -> Request {
    let mut b = http::Request::builder()
        .method("POST")
        .uri("https://example.lambda-url.us-east-1.on.aws/")
        .header("content-type", "application/json")
        .header("content-length", body.len().to_string());
    if let Some(sig) = signature {
        b = b.header("x-hub-signature-256", sig);
    }
    let body = match std::str::from_utf8(body) {
        Ok(s) => Body::Text(s.to_string()),
        Err(_) => Body::Binary(body.to_vec()),
    };
    b.body(body).expect("valid request")
}

/// Meta's verification GET.
pub fn handshake(params: &[(&str, &str)]) -> Request {
    let query: HashMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    http::Request::builder()
        .method("GET")
        .uri("https://example.lambda-url.us-east-1.on.aws/")
        .body(Body::Empty)
        .expect("valid request")
        .with_query_string_parameters(query)
}

/// The reports functions' config for a local stack: bearer `token`, WABAs `wabas`.
pub fn reports_config(
    table: &str,
    bucket: &str,
    token: &str,
    wabas: &[String],
) -> shared::config::ReportsConfig {
    shared::config::ReportsConfig {
        table_name: table.to_string(),
        bucket_name: bucket.to_string(),
        auth: shared::config::ApiAuth::Token(Secret::new(token)),
        waba_ids: wabas.to_vec(),
        link_default_seconds: 900,
        link_max_seconds: 3_600,
        retention_days: 30,
        inline_seconds: 20,
        sla_seconds: 900,
        csv_bom: false,
        topic_arn: None,
        api_url: None,
    }
}

/// The real reports API handler over this stack's storage.
pub fn reports_api(
    sdk: &SdkConfig,
    config: &shared::config::ReportsConfig,
) -> crate::server::LiveReportsApi {
    reports::handler::ReportsApi::from_sdk(config, sdk)
}

/// The real report jobs handler over this stack's storage.
pub fn report_jobs(
    sdk: &SdkConfig,
    config: &shared::config::ReportsConfig,
) -> crate::streams::LiveReportJobs {
    report_jobs::handler::ReportJobs::new(
        shared::reports::live_service(config, sdk),
        shared::ports::NoAnnouncer,
        config.api_url.clone(),
    )
}

/// Reads `.local/endpoints.env` (written by `make local`) into the environment; variables
/// already set win. Errors name the fix.
/// The table a maintenance command works on, and the SDK config to reach it: a deployed
/// table when `TABLE_NAME` (and AWS credentials) are set, else `make local`'s
/// (`.local/endpoints.env`). Starts logging.
pub async fn maintenance_table() -> Result<(SdkConfig, String), String> {
    if std::env::var_os("TABLE_NAME").is_none() {
        load_local_env()?;
    }
    shared::telemetry::init();
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set".to_string())?;
    Ok((shared::adapters::aws::load_sdk_config().await, table))
}

pub fn load_local_env() -> Result<(), String> {
    let env_file = workspace_root().join(".local/endpoints.env");
    let text = std::fs::read_to_string(&env_file).map_err(|e| {
        format!(
            "{}: {e}; start the local stack first with `make local`",
            env_file.display()
        )
    })?;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some((k, v)) = line.split_once('=')
            && std::env::var_os(k).is_none()
        {
            // SAFETY: called at the start of main, before any other thread reads the
            // environment.
            unsafe { std::env::set_var(k, v) };
        }
    }
    Ok(())
}

/// Another instance of the real webhook handler over a stack's table and bucket (a stack
/// keeps its own; this one can be moved into a server).
pub async fn webhook_for(stack: &Stack) -> LiveWebhook {
    LiveWebhook::from_sdks(
        &webhook_config(&stack.table, &stack.bucket),
        &stack.sdk,
        &stack.dynamodb_sdk,
        None,
    )
    .await
    .expect("webhook init")
}

impl Stack {
    /// Deletes every item `doomed` picks (tests simulating lost derived items).
    pub async fn delete_where(
        &self,
        doomed: impl Fn(&HashMap<String, aws_sdk_dynamodb::types::AttributeValue>) -> bool,
    ) -> usize {
        let mut deleted = 0;
        for item in self.scan().await.iter().filter(|i| doomed(i)) {
            let (Some(pk), Some(sk)) = (item.get("pk"), item.get("sk")) else {
                continue;
            };
            self.dynamodb
                .delete_item()
                .table_name(&self.table)
                .key("pk", pk.clone())
                .key("sk", sk.clone())
                .send()
                .await
                .expect("delete item");
            deleted += 1;
        }
        deleted
    }
}
