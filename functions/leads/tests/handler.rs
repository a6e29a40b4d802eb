//! The leads API handler driven from API Gateway HTTP API (payload 2.0) events carrying the
//! JWT authorizer's claims (`tests/fixtures/http_api_jwt.json`, read by
//! `lambda_http::request::from_str` as Lambda hands them over) against the lead store and the
//! import uploads in memory (`shared::memory`): no moto, no network. Every expectation is
//! built from the inputs the test gives. The DynamoDB adapter and the whole stack are tested
//! against moto in `tests/tests/it/` (leads, consent, conversions, imports, security).

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use lambda_http::http::header;
use lambda_http::{Body, Request};
use leads::handler::{Leads, LeadsConfig};
use serde_json::{Value, json};
use shared::domain::capi::ForwardState;
use shared::domain::leads::jobs::upload_key;
use shared::domain::leads::{LeadView, Lifecycle};
use shared::memory::files::MemoryImportFiles;
use shared::memory::leads::{Failure, MemoryLeadStore};
use shared::ports::{LeadActivity, LeadStore};
use std::collections::BTreeMap;

/// Two tenants, each with one business number.
const W1: &str = "1001";
const W2: &str = "2002";
const P1: &str = "5550001";
const P2: &str = "5550002";

fn now() -> DateTime<Utc> {
    "2026-11-20T10:00:00Z".parse().unwrap()
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The handler over in-memory ports, and clones of those ports to look at afterwards.
struct Given {
    api: Leads<MemoryLeadStore, MemoryImportFiles>,
    store: MemoryLeadStore,
    files: MemoryImportFiles,
}

async fn given(forward_conversions: bool) -> Given {
    let capi = if forward_conversions { "true" } else { "false" };
    let config = LeadsConfig::from_lookup(|k| {
        match k {
            "TABLE_NAME" => Some("unused-table"),
            "BUCKET_NAME" => Some("unused-bucket"),
            "AUTH_MODE" => Some("jwt"),
            "CAPI_ENABLED" => Some(capi),
            _ => None,
        }
        .map(str::to_string)
    })
    .expect("valid config");
    let (store, files) = (MemoryLeadStore::new(), MemoryImportFiles::new());
    // Each number's WABA, as the aggregator records it from their messages.
    store.record_phone_waba(P1, W1).await.unwrap();
    store.record_phone_waba(P2, W2).await.unwrap();
    Given {
        api: Leads::with_files(store.clone(), config, Some(files.clone())),
        store,
        files,
    }
}

/// A lead as the webhook's first inbound message writes it, `minutes` before [`now`].
fn lead(id: &str, waba: &str, number: &str, minutes: i64) -> LeadView {
    LeadView {
        lead_id: id.to_string(),
        waba_id: Some(waba.to_string()),
        phone_number_id: Some(number.to_string()),
        phone: Some(id.to_string()),
        user_id: None,
        profile_name: Some(format!("Person {id}")),
        stage: "new".into(),
        owner: None,
        tags: Vec::new(),
        custom_fields: BTreeMap::new(),
        created_at: now() - Duration::minutes(minutes),
        last_inbound_at: Some(now() - Duration::minutes(minutes)),
        first_touch: None,
        version: 0,
        origin: "whatsapp".into(),
        ids: vec![id.to_string()],
        waba_ids: vec![waba.to_string()],
    }
}

/// Who calls: the token's `sub`, its scope and its tenant claim (`None`: absent).
struct Caller<'a> {
    sub: &'a str,
    scope: Option<&'a str>,
    wabas: Option<&'a str>,
}

fn manager(wabas: &str) -> Caller<'_> {
    Caller {
        sub: "manager-1",
        scope: Some("wa-insights/api"),
        wabas: Some(wabas),
    }
}

fn admin() -> Caller<'static> {
    manager("*")
}

fn fixture() -> Value {
    let path = format!(
        "{}/tests/fixtures/http_api_jwt.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fixture event for `method` on `target` (`path?query`) by `caller` (`None`: no
/// authorizer claims at all), with a body of a content type and extra headers.
fn event(
    method: &str,
    target: &str,
    caller: Option<&Caller>,
    body: Option<(&str, &str)>,
    headers: &[(&str, &str)],
) -> Request {
    let mut e = fixture();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    e["rawPath"] = json!(path);
    e["rawQueryString"] = json!(query);
    e["requestContext"]["http"]["method"] = json!(method);
    e["requestContext"]["http"]["path"] = json!(path);
    match caller {
        None => {
            e["requestContext"]
                .as_object_mut()
                .unwrap()
                .remove("authorizer");
        }
        Some(c) => {
            let claims = &mut e["requestContext"]["authorizer"]["jwt"]["claims"];
            claims["sub"] = json!(c.sub);
            let claims = claims.as_object_mut().unwrap();
            for (name, value) in [("scope", c.scope), ("custom:waba_ids", c.wabas)] {
                match value {
                    Some(v) => claims.insert(name.into(), json!(v)),
                    None => claims.remove(name),
                };
            }
        }
    }
    if let Some((content_type, text)) = body {
        e["headers"]["content-type"] = json!(content_type);
        e["body"] = json!(text);
    }
    for (k, v) in headers {
        e["headers"][*k] = json!(v);
    }
    lambda_http::request::from_str(&e.to_string()).expect("an HTTP API event")
}

struct Answer {
    status: u16,
    body: Value,
    headers: lambda_http::http::HeaderMap,
}

async fn send(g: &Given, req: Request) -> Answer {
    let resp = g.api.route(req, now()).await;
    let text = match resp.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    };
    Answer {
        status: resp.status().as_u16(),
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        headers: resp.headers().clone(),
    }
}

async fn get(g: &Given, target: &str, caller: &Caller<'_>) -> Answer {
    send(g, event("GET", target, Some(caller), None, &[])).await
}

async fn post_json(g: &Given, target: &str, caller: &Caller<'_>, body: &Value) -> Answer {
    let text = body.to_string();
    send(
        g,
        event(
            "POST",
            target,
            Some(caller),
            Some(("application/json", &text)),
            &[],
        ),
    )
    .await
}

async fn patch(g: &Given, id: &str, caller: &Caller<'_>, body: &Value) -> Answer {
    let text = body.to_string();
    let target = format!("/v1/leads/{id}");
    send(
        g,
        event(
            "PATCH",
            &target,
            Some(caller),
            Some(("application/json", &text)),
            &[],
        ),
    )
    .await
}

fn ids(body: &Value) -> Vec<&str> {
    body["leads"]
        .as_array()
        .expect("a lead list")
        .iter()
        .map(|l| l["lead_id"].as_str().unwrap())
        .collect()
}

fn error_code(a: &Answer) -> &str {
    a.body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn leads_are_listed_newest_first_shown_and_paged_by_cursor() {
    let g = given(false).await;
    let seeded = [
        lead("6281100000001", W1, P1, 30),
        lead("6281100000002", W1, P1, 20),
        lead("6281100000003", W2, P2, 10),
    ];
    for l in &seeded {
        g.store.put_lead(l.clone());
    }
    let mut newest_first: Vec<&LeadView> = seeded.iter().collect();
    newest_first.sort_by_key(|l| std::cmp::Reverse(l.created_at));

    let all = get(&g, "/v1/leads", &admin()).await;
    assert_eq!(all.status, 200);
    assert_eq!(
        all.body["leads"],
        serde_json::to_value(&newest_first).unwrap()
    );
    assert_eq!(all.body["next_cursor"], Value::Null);

    // Pages of two: a full page names where to go on; the last page does not.
    let first = get(&g, "/v1/leads?limit=2", &admin()).await;
    let expected: Vec<&str> = newest_first.iter().map(|l| l.lead_id.as_str()).collect();
    assert_eq!(ids(&first.body), expected[..2]);
    let cursor = first.body["next_cursor"].as_str().expect("a cursor");
    let second = get(&g, &format!("/v1/leads?limit=2&cursor={cursor}"), &admin()).await;
    assert_eq!(ids(&second.body), expected[2..]);
    assert_eq!(second.body["next_cursor"], Value::Null);
    let forged = get(&g, "/v1/leads?cursor=bm90LW91cnM", &admin()).await;
    assert_eq!(
        (forged.status, error_code(&forged)),
        (400, "invalid_cursor")
    );

    // A lead and its timeline: the lead as stored, nothing happened to it yet.
    let one = &seeded[0];
    let shown = get(&g, &format!("/v1/leads/{}", one.lead_id), &admin()).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.body["lead"], serde_json::to_value(one).unwrap());
    let timeline = &shown.body["timeline"];
    assert_eq!(timeline["stage_history"], json!([]));
    assert_eq!(timeline["consent_state"], json!([]));
    assert_eq!(timeline["messages"]["inbound_count"], json!(0));
    assert_eq!(
        timeline["messages"]["first_inbound_at"],
        json!(iso(one.created_at))
    );
    let missing = get(&g, "/v1/leads/6289999999999", &admin()).await;
    assert_eq!((missing.status, error_code(&missing)), (404, "not_found"));
}

#[tokio::test]
async fn a_patch_applies_once_per_version_and_keeps_its_history() {
    let g = given(false).await;
    let l = lead("6281200000001", W1, P1, 5);
    g.store.put_lead(l.clone());
    let who = manager(W1);
    let path = format!("/v1/leads/{}", l.lead_id);

    let changed = patch(
        &g,
        &l.lead_id,
        &who,
        &json!({"expected_version": 0, "stage": "qualified", "owner": "ana", "tags": ["vip", " b "], "custom_fields": {"city": "Bandung"}}),
    )
    .await;
    assert_eq!(changed.status, 200);
    let mut expected = l.clone();
    expected.version = 1;
    expected.stage = "qualified".into();
    expected.owner = Some("ana".into());
    expected.tags = vec!["b".into(), "vip".into()];
    expected.custom_fields = BTreeMap::from([("city".to_string(), "Bandung".to_string())]);
    assert_eq!(
        changed.body["lead"],
        serde_json::to_value(&expected).unwrap()
    );

    let timeline = get(&g, &path, &who).await.body["timeline"].clone();
    let change = |from: Option<&str>, to: &str| json!({"from": from, "to": to, "by": who.sub, "reason": "api", "at": iso(now())});
    assert_eq!(
        timeline["stage_history"],
        json!([change(Some("new"), "qualified")])
    );
    assert_eq!(timeline["owner_history"], json!([change(None, "ana")]));

    // The same version again is stale: nothing changes, the answer names the current one.
    let stale = patch(
        &g,
        &l.lead_id,
        &who,
        &json!({"expected_version": 0, "stage": "lost"}),
    )
    .await;
    assert_eq!(
        (stale.status, error_code(&stale)),
        (409, "version_conflict")
    );
    assert_eq!(stale.body["error"]["current_version"], json!(1));
    assert_eq!(g.store.stored(&l.lead_id).unwrap().stage, "qualified");

    let unknown_stage = patch(
        &g,
        &l.lead_id,
        &who,
        &json!({"expected_version": 1, "stage": "bogus"}),
    )
    .await;
    assert_eq!(
        (unknown_stage.status, error_code(&unknown_stage)),
        (422, "invalid_transition")
    );
    let nothing = patch(&g, &l.lead_id, &who, &json!({"expected_version": 1})).await;
    assert_eq!(
        (nothing.status, error_code(&nothing)),
        (422, "nothing_to_change")
    );
    let unknown_field = patch(
        &g,
        &l.lead_id,
        &who,
        &json!({"expected_version": 1, "colour": "red"}),
    )
    .await;
    assert_eq!(
        (unknown_field.status, error_code(&unknown_field)),
        (422, "validation_failed")
    );
    let gone = patch(
        &g,
        "6289999999999",
        &admin(),
        &json!({"expected_version": 0, "stage": "qualified"}),
    )
    .await;
    assert_eq!((gone.status, error_code(&gone)), (404, "not_found"));
}

#[tokio::test]
async fn a_caller_sees_and_changes_only_the_leads_of_its_wabas() {
    let g = given(false).await;
    let mine = lead("6281300000001", W1, P1, 10);
    let theirs = lead("6281300000002", W2, P2, 5);
    g.store.put_lead(mine.clone());
    g.store.put_lead(theirs.clone());

    let listed = get(&g, "/v1/leads", &manager(W1)).await;
    assert_eq!(ids(&listed.body), vec![mine.lead_id.as_str()]);
    let both = get(&g, "/v1/leads", &manager(&format!("{W1},{W2}"))).await;
    assert_eq!(
        ids(&both.body),
        vec![theirs.lead_id.as_str(), mine.lead_id.as_str()]
    );

    // Another tenant's lead is absent, to read and to change.
    let shown = get(&g, &format!("/v1/leads/{}", theirs.lead_id), &manager(W1)).await;
    assert_eq!((shown.status, error_code(&shown)), (404, "not_found"));
    let changed = patch(
        &g,
        &theirs.lead_id,
        &manager(W1),
        &json!({"expected_version": 0, "stage": "qualified"}),
    )
    .await;
    assert_eq!(changed.status, 404);
    assert_eq!(g.store.stored(&theirs.lead_id), Some(theirs.clone()));

    // No claims: 401 with the challenge; a token without the scope or a tenant: 403.
    let anonymous = send(&g, event("GET", "/v1/leads", None, None, &[])).await;
    assert_eq!(
        (anonymous.status, error_code(&anonymous)),
        (401, "unauthorized")
    );
    assert_eq!(anonymous.headers[header::WWW_AUTHENTICATE], "Bearer");
    let unscoped = Caller {
        scope: None,
        ..manager(W1)
    };
    let refused = get(&g, "/v1/leads", &unscoped).await;
    assert_eq!(
        (refused.status, error_code(&refused)),
        (403, "insufficient_scope")
    );
    let tenantless = Caller {
        wabas: None,
        ..manager(W1)
    };
    let refused = get(&g, "/v1/leads", &tenantless).await;
    assert_eq!((refused.status, error_code(&refused)), (403, "no_tenant"));

    // Consent on another tenant's number, or a number no message has named: 403.
    for number in [P2, "5559999"] {
        let check = get(
            &g,
            &format!(
                "/v1/consent/check?user={}&phone_number_id={number}&category=marketing",
                mine.lead_id
            ),
            &manager(W1),
        )
        .await;
        assert_eq!(
            (check.status, error_code(&check)),
            (403, "forbidden_phone_number"),
            "{number}"
        );
    }
}

#[tokio::test]
async fn consent_is_recorded_once_and_the_check_gives_its_reasons() {
    let g = given(false).await;
    let l = lead("6281400000001", W1, P1, 60 * 48);
    g.store.put_lead(l.clone());
    let who = manager(W1);
    let check = |category: &str| {
        format!(
            "/v1/consent/check?user={}&phone_number_id={P1}&category={category}",
            l.lead_id
        )
    };
    let first_reason = |a: &Answer| a.body["reasons"][0]["code"].as_str().unwrap().to_string();

    // Nothing on record: marketing needs an opt-in, utility does not.
    let marketing = get(&g, &check("marketing"), &who).await;
    assert_eq!(marketing.status, 200);
    assert_eq!(marketing.body["allowed"], json!(false));
    assert_eq!(first_reason(&marketing), "no_marketing_opt_in");
    assert_eq!(marketing.body["consent"], Value::Null);
    let utility = get(&g, &check("utility"), &who).await;
    assert_eq!(utility.body["allowed"], json!(true));
    assert_eq!(first_reason(&utility), "transactional_without_opt_in");

    let opted_in_at = now() - Duration::minutes(30);
    let opt_in = json!({
        "user": l.lead_id, "phone_number_id": P1, "action": "opt_in",
        "categories": ["utility", "marketing"], "source": "web_form",
        "proof": "form 7: I agree to receive offers", "at": iso(opted_in_at),
    });
    let recorded = post_json(&g, "/v1/consent", &who, &opt_in).await;
    assert_eq!(recorded.status, 201);
    assert_eq!(
        recorded.body["event"],
        json!({
            "consent": "opt_in", "categories": ["marketing", "utility"], "source": "web_form",
            "phone_number_id": P1, "at": iso(opted_in_at), "keyword": null,
            "proof": opt_in["proof"], "recorded_by": who.sub,
        })
    );
    let state = |category: &str, consent: &str, since: DateTime<Utc>| {
        json!({"phone_number_id": P1, "category": category, "consent": consent,
               "source": "web_form", "since": iso(since)})
    };
    let mut states = recorded.body["state"].as_array().unwrap().clone();
    states.sort_by_key(|s| s["category"].as_str().unwrap().to_string());
    assert_eq!(
        states,
        vec![
            state("marketing", "opt_in", opted_in_at),
            state("utility", "opt_in", opted_in_at)
        ]
    );
    let marketing = get(&g, &check("marketing"), &who).await;
    assert_eq!(marketing.body["allowed"], json!(true));
    assert_eq!(first_reason(&marketing), "opted_in");
    assert_eq!(
        marketing.body["consent"],
        state("marketing", "opt_in", opted_in_at)
    );

    // An opt-out of marketing later; sent twice, it is one event.
    let opted_out_at = now() - Duration::minutes(5);
    let opt_out = json!({
        "user": l.lead_id, "phone_number_id": P1, "action": "opt_out",
        "categories": ["marketing"], "source": "web_form", "at": iso(opted_out_at),
    });
    for _ in 0..2 {
        assert_eq!(
            post_json(&g, "/v1/consent", &who, &opt_out).await.status,
            201
        );
    }
    let marketing = get(&g, &check("marketing"), &who).await;
    assert_eq!(marketing.body["allowed"], json!(false));
    assert_eq!(first_reason(&marketing), "opted_out");
    let utility = get(&g, &check("utility"), &who).await;
    assert_eq!(first_reason(&utility), "opted_in");
    // An earlier opt-in arriving late does not undo the opt-out.
    let late = json!({
        "user": l.lead_id, "phone_number_id": P1, "action": "opt_in",
        "categories": ["marketing"], "source": "qr", "proof": "qr campaign 3",
        "at": iso(now() - Duration::minutes(10)),
    });
    assert_eq!(post_json(&g, "/v1/consent", &who, &late).await.status, 201);
    assert_eq!(
        first_reason(&get(&g, &check("marketing"), &who).await),
        "opted_out"
    );
    let timeline = get(&g, &format!("/v1/leads/{}", l.lead_id), &who)
        .await
        .body["timeline"]
        .clone();
    let history: Vec<(&str, &str)> = timeline["consent_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["consent"].as_str().unwrap(), e["at"].as_str().unwrap()))
        .collect();
    let (t_in, t_late, t_out) = (
        iso(opted_in_at),
        iso(now() - Duration::minutes(10)),
        iso(opted_out_at),
    );
    assert_eq!(
        history,
        vec![
            ("opt_in", t_in.as_str()),
            ("opt_in", t_late.as_str()),
            ("opt_out", t_out.as_str())
        ]
    );

    // A free-form reply needs the user's message in the last 24 hours.
    let service = get(&g, &check("service"), &who).await;
    assert_eq!(first_reason(&service), "outside_customer_service_window");
    g.store
        .set_last_referral(&l.lead_id, now() - Duration::hours(1));
    let service = get(&g, &check("service"), &who).await;
    assert_eq!(service.body["allowed"], json!(true));
    assert_eq!(
        first_reason(&service),
        "reply_inside_customer_service_window"
    );

    let bad = post_json(
        &g,
        "/v1/consent",
        &who,
        &json!({"user": l.lead_id, "phone_number_id": P1, "action": "maybe",
                "categories": ["marketing"], "source": "api"}),
    )
    .await;
    assert_eq!((bad.status, error_code(&bad)), (422, "invalid_consent"));
}

#[tokio::test]
async fn a_conversion_is_recorded_once_per_key_and_a_failed_one_is_sent_again() {
    let g = given(true).await;
    let l = lead("6281500000001", W1, P1, 60);
    g.store.put_lead(l.clone());
    let who = manager(W1);
    let target = format!("/v1/leads/{}/conversions", l.lead_id);
    let at = now() - Duration::minutes(20);
    let body = json!({"type": "purchase", "value": 12.5, "currency": "USD", "at": iso(at)});
    let post = |body: &Value, key: &str| {
        event(
            "POST",
            &target,
            Some(&who),
            Some(("application/json", &body.to_string())),
            &[("idempotency-key", key)],
        )
    };
    let expected = json!({
        "conversion_id": format!("{}:k1", l.lead_id), "type": "purchase", "value": 12.5,
        "currency": "USD", "at": iso(at), "idempotency_key": "k1", "recorded_at": iso(now()),
        "forwarded": "pending", "forward_error": null,
    });

    let first = send(&g, post(&body, "k1")).await;
    assert_eq!(first.status, 201);
    assert_eq!(
        first.body,
        json!({"conversion": expected, "replayed": false})
    );
    let again = send(&g, post(&body, "k1")).await;
    assert_eq!(
        (again.status, &again.body),
        (200, &json!({"conversion": expected, "replayed": true}))
    );
    let other = send(
        &g,
        post(
            &json!({"type": "purchase", "value": 99, "currency": "USD", "at": iso(at)}),
            "k1",
        ),
    )
    .await;
    assert_eq!(
        (other.status, error_code(&other)),
        (409, "idempotency_conflict")
    );

    // The forwarder failed it; sending it again puts it back in line.
    assert!(
        g.store
            .transition_forward(
                &l.lead_id,
                "k1",
                ForwardState::Pending,
                ForwardState::Failed,
                Some("meta_unavailable"),
            )
            .await
            .unwrap()
    );
    let retried = send(&g, post(&body, "k1")).await;
    assert_eq!(
        (retried.status, &retried.body),
        (200, &json!({"conversion": expected, "replayed": true}))
    );
    assert_eq!(
        g.store.forward_state(&l.lead_id, "k1").await.unwrap(),
        Some(ForwardState::Pending.as_str().to_string())
    );
    let timeline = get(&g, &format!("/v1/leads/{}", l.lead_id), &who)
        .await
        .body["timeline"]
        .clone();
    assert_eq!(timeline["conversions"], json!([expected]));

    let unknown = send(
        &g,
        event(
            "POST",
            "/v1/leads/6289999999999/conversions",
            Some(&admin()),
            Some(("application/json", &body.to_string())),
            &[("idempotency-key", "k1")],
        ),
    )
    .await;
    assert_eq!(unknown.status, 404);
    let keyless = post_json(&g, &target, &who, &body).await;
    assert_eq!(
        (keyless.status, error_code(&keyless)),
        (422, "invalid_conversion")
    );
}

#[tokio::test]
async fn an_import_creates_and_updates_leads_once_per_key() {
    let g = given(false).await;
    let who = manager(W1);
    let csv = "phone,name,stage,tags\n+62 812 0000 0001,Budi,qualified,vip\n6281200000002,Ana,,\n";
    let import = |csv: &str, key: Option<&str>| {
        let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
        event(
            "POST",
            "/v1/leads/import",
            Some(&who),
            Some(("text/csv", csv)),
            &headers,
        )
    };
    let first = send(&g, import(csv, None)).await;
    assert_eq!(first.status, 200);
    assert_eq!(
        first.body,
        json!({"imported": 2, "updated": 0, "errors": [], "replayed": false})
    );
    let budi = g.store.stored("6281200000001").expect("imported");
    assert_eq!(
        (
            budi.stage.as_str(),
            budi.profile_name.as_deref(),
            budi.origin.as_str()
        ),
        ("qualified", Some("Budi"), "import")
    );
    assert_eq!(budi.tags, vec!["vip".to_string()]);
    assert_eq!(budi.created_at, now());
    let ana = g.store.stored("6281200000002").expect("imported");
    assert_eq!(ana.stage, Lifecycle::default().initial());
    // Filed under the caller's only WABA: it sees them, another tenant does not.
    let listed = get(&g, "/v1/leads", &who).await;
    assert_eq!(ids(&listed.body), vec!["6281200000001", "6281200000002"]);
    assert_eq!(
        ids(&get(&g, "/v1/leads", &manager(W2)).await.body),
        Vec::<&str>::new()
    );

    // With a key: applied once (both exist now), the retry answers the first result.
    let keyed = send(&g, import(csv, Some("import-1"))).await;
    let result = json!({"imported": 0, "updated": 2, "errors": [], "replayed": false});
    assert_eq!((keyed.status, &keyed.body), (200, &result));
    let mut replayed = result.clone();
    replayed["replayed"] = json!(true);
    let retry = send(&g, import(csv, Some("import-1"))).await;
    assert_eq!((retry.status, &retry.body), (200, &replayed));
    assert_eq!(
        g.store.stored("6281200000001").unwrap().version,
        budi.version + 1
    );
    let other_file = send(&g, import("phone\n6281200000003\n", Some("import-1"))).await;
    assert_eq!(
        (other_file.status, error_code(&other_file)),
        (409, "idempotency_conflict")
    );
    let no_header = send(&g, import("colour\nred\n", None)).await;
    assert_eq!(
        (no_header.status, error_code(&no_header)),
        (400, "invalid_header")
    );
}

#[tokio::test]
async fn an_import_job_waits_for_its_upload_runs_once_and_is_shown_to_its_tenant() {
    let g = given(false).await;
    let who = manager(W1);
    let opened = send(
        &g,
        event("POST", "/v1/leads/imports", Some(&who), None, &[]),
    )
    .await;
    assert_eq!(opened.status, 201);
    let id = opened.body["id"].as_str().expect("a job id").to_string();
    let key = upload_key(&id);
    assert_eq!(opened.body["status"], "awaiting_upload");
    assert_eq!(opened.body["waba_id"], W1);
    assert_eq!(
        opened.body["upload_url"],
        json!(MemoryImportFiles::url_of(&key))
    );
    let path = format!("/v1/leads/imports/{id}");
    assert_eq!(get(&g, &path, &who).await.body["status"], "awaiting_upload");
    assert_eq!(get(&g, &path, &manager(W2)).await.status, 404);

    // The upload's event runs the job (the lead-imports function's service), once.
    let rows = ["6281600000001", "6281600000002", "6281600000003"];
    g.files
        .upload(&key, format!("phone\n{}\n", rows.join("\n")).into_bytes());
    let lifecycle = Lifecycle::default();
    let done = shared::imports::run_upload(&g.store, &g.files, &lifecycle, &key, now())
        .await
        .unwrap()
        .expect("the job ran");
    assert_eq!(done.imported, rows.len() as u64);
    let again = shared::imports::run_upload(&g.store, &g.files, &lifecycle, &key, now())
        .await
        .unwrap();
    assert_eq!(again, None, "a redelivered upload event runs nothing");
    let shown = get(&g, &path, &who).await;
    assert_eq!(shown.status, 200);
    assert_eq!(
        (
            &shown.body["status"],
            &shown.body["imported"],
            &shown.body["error_count"]
        ),
        (&json!("done"), &json!(rows.len()), &json!(0))
    );
    assert_eq!(shown.body["started_at"], json!(iso(now())));
    for row in rows {
        assert_eq!(g.store.filed_under(row), [W1.to_string()].into());
    }

    let with_body = send(
        &g,
        event(
            "POST",
            "/v1/leads/imports",
            Some(&who),
            Some(("text/csv", "phone\n1\n")),
            &[],
        ),
    )
    .await;
    assert_eq!(
        (with_body.status, error_code(&with_body)),
        (400, "unsupported_media_type")
    );
    let bad_id = get(&g, "/v1/leads/imports/nope", &who).await;
    assert_eq!(
        (bad_id.status, error_code(&bad_id)),
        (400, "invalid_parameter")
    );
}

#[tokio::test]
async fn unknown_routes_are_404_and_other_methods_405_with_allow() {
    let g = given(false).await;
    for (method, path, allow) in [
        ("DELETE", "/v1/leads", "GET"),
        ("PUT", "/v1/leads/6281700000001", "GET, PATCH"),
        ("GET", "/v1/consent", "POST"),
        ("POST", "/v1/consent/check", "GET"),
        ("GET", "/v1/leads/import", "POST"),
        ("GET", "/v1/leads/6281700000001/conversions", "POST"),
        ("POST", "/v1/leads/export", "GET"),
    ] {
        let a = send(&g, event(method, path, Some(&admin()), None, &[])).await;
        assert_eq!(
            (a.status, error_code(&a)),
            (405, "method_not_allowed"),
            "{method} {path}"
        );
        assert_eq!(a.headers[header::ALLOW], allow, "{method} {path}");
    }
    let a = get(&g, "/v2/leads", &admin()).await;
    assert_eq!((a.status, error_code(&a)), (404, "not_found"));
}

#[tokio::test]
async fn a_storage_outage_is_503_and_a_refused_request_500() {
    let g = given(false).await;
    let l = lead("6281800000001", W1, P1, 5);
    g.store.put_lead(l.clone());
    let path = format!("/v1/leads/{}", l.lead_id);

    g.store.fail(Failure::Unavailable, 1);
    let listed = get(&g, "/v1/leads", &admin()).await;
    assert_eq!((listed.status, error_code(&listed)), (503, "unavailable"));
    assert_eq!(
        get(&g, "/v1/leads", &admin()).await.status,
        200,
        "recovered"
    );
    // A scoped caller's visibility read fails the same way (never a 404 by accident).
    g.store.fail(Failure::Unavailable, 1);
    let shown = get(&g, &path, &manager(W1)).await;
    assert_eq!((shown.status, error_code(&shown)), (503, "unavailable"));

    g.store.fail(Failure::Rejected, 1);
    let refused = patch(
        &g,
        &l.lead_id,
        &admin(),
        &json!({"expected_version": 0, "stage": "qualified"}),
    )
    .await;
    assert_eq!((refused.status, error_code(&refused)), (500, "internal"));
    assert!(
        !refused.body.to_string().contains("memory:"),
        "no internal text in the answer"
    );
    assert_eq!(g.store.stored(&l.lead_id).unwrap().version, 0);
}
