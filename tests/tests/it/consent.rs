//! Consent through the real leads API (moto): records with history and resumes, the consent
//! check over consent that arrived through the webhook, and what the check reads.

use crate::leads::{T0, api, api_over, at, call, first_message};
use crate::support::*;
use chrono::Utc;
use integration_tests::harness::Stack;
use serde_json::json;

#[tokio::test]
async fn consent_is_recorded_through_the_api_with_history_and_resumes() {
    let stack = Stack::start().await;
    let api = api(&stack);
    let user = "5511933333333";
    stack.post(&first_message(user, T0, "oi", None)).await;
    let now = at(T0 + 600);
    let opt_in = json!({"user": user, "phone_number_id": PHONE_NUMBER_ID, "action": "opt_in",
        "categories": ["marketing"], "source": "web_form", "proof": "Checkbox 'Send me offers on WhatsApp' on /signup", "at": "2026-11-20T10:05:00Z"});
    let (status, body) = call(&api, "POST", "/v1/consent", Some(opt_in.clone()), now).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["state"][0]["consent"], "opt_in");
    assert_eq!(body["event"]["recorded_by"], "api-token");
    // A retried request records once.
    assert_eq!(
        call(&api, "POST", "/v1/consent", Some(opt_in.clone()), now)
            .await
            .0,
        201
    );
    let check = |secs: i64| {
        let uri = format!(
            "/v1/consent/check?user={user}&phone_number_id={PHONE_NUMBER_ID}&category=marketing"
        );
        let api = &api;
        async move { call(api, "GET", &uri, None, at(T0 + secs)).await.1 }
    };
    let d = check(700).await;
    assert_eq!(
        (d["allowed"].as_bool(), d["pricing"]["kind"].as_str()),
        (Some(true), Some("paid")),
        "{d}"
    );
    // STOP through the webhook, then resumed through the API.
    stack
        .post(&first_message(user, T0 + 800, "Stop", None))
        .await;
    assert_eq!(check(900).await["allowed"], false);
    let resume = json!({"user": user, "phone_number_id": PHONE_NUMBER_ID, "action": "opt_in",
        "categories": ["marketing", "utility"], "source": "sms", "proof": "Replied YES to SMS 2026-11-20", "at": "2026-11-20T10:20:00Z"});
    assert_eq!(
        call(&api, "POST", "/v1/consent", Some(resume), at(T0 + 1_300))
            .await
            .0,
        201
    );
    assert_eq!(check(1_400).await["allowed"], true);
    let (_, one) = call(
        &api,
        "GET",
        &format!("/v1/leads/{user}"),
        None,
        at(T0 + 1_400),
    )
    .await;
    let history: Vec<(&str, &str)> = one["timeline"]["consent_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["consent"].as_str().unwrap(),
                e["source"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("opt_in", "web_form"),
            ("opt_out", "keyword"),
            ("opt_in", "sms")
        ],
        "append-only, once each"
    );
    // An older record never overrides a newer state.
    let late = json!({"user": user, "phone_number_id": PHONE_NUMBER_ID, "action": "opt_out",
        "categories": ["marketing"], "source": "api", "at": "2026-11-20T10:01:00Z"});
    assert_eq!(
        call(&api, "POST", "/v1/consent", Some(late), at(T0 + 1_500))
            .await
            .0,
        201
    );
    assert_eq!(check(1_600).await["allowed"], true);
    // Invalid records.
    for bad in [
        json!({"user": user, "phone_number_id": "1", "action": "opt_in", "categories": ["marketing"], "source": "web_form"}),
        json!({"user": user, "phone_number_id": "1", "action": "maybe", "categories": ["marketing"], "source": "api", "proof": "x"}),
        json!({"user": user, "phone_number_id": "1", "action": "opt_out", "categories": ["sales"], "source": "api"}),
        json!({"user": user, "phone_number_id": "1", "action": "opt_out", "categories": ["marketing"], "source": "api", "at": "2030-01-01T00:00:00Z"}),
    ] {
        assert_eq!(
            call(&api, "POST", "/v1/consent", Some(bad.clone()), now)
                .await
                .0,
            422,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn the_consent_check_answers_from_webhook_consent_and_the_service_window() {
    let stack = Stack::start().await;
    let api = api(&stack);
    let user = "5511922222222";
    stack
        .post(&first_message(
            user,
            T0,
            "quero saber",
            Some(("spring", "44")),
        ))
        .await;
    let check = |category: &str, secs: i64| {
        let uri = format!(
            "/v1/consent/check?user={user}&phone_number_id={PHONE_NUMBER_ID}&category={category}&at={}",
            at(T0 + secs).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let api = &api;
        async move { call(api, "GET", &uri, None, Utc::now()).await }
    };
    // 23h59 after the user's message a free-form reply is allowed and free; at 24h01 it
    // cannot be sent.
    let (status, d) = check("service", 23 * 3600 + 59 * 60).await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(
        (
            d["allowed"].as_bool(),
            d["customer_service_window"]["open"].as_bool()
        ),
        (Some(true), Some(true)),
        "{d}"
    );
    let (_, d) = check("service", 24 * 3600 + 60).await;
    assert_eq!(d["allowed"], false, "{d}");
    assert_eq!(d["pricing"]["kind"], "not_sendable");
    // Utility inside the window is free; marketing without an opt-in is refused.
    let (_, d) = check("utility", 3600).await;
    assert_eq!(
        (d["allowed"].as_bool(), d["pricing"]["kind"].as_str()),
        (Some(true), Some("free")),
        "{d}"
    );
    let (_, d) = check("marketing", 3600).await;
    assert_eq!(d["allowed"], false);
    assert_eq!(d["reasons"][0]["code"], "no_marketing_opt_in");
    // The user's STOP through user_preferences (the real webhook) is an opt-out.
    let prefs = serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [{"field": "user_preferences", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"wa_id": user}],
        "user_preferences": [{"wa_id": user, "detail": "User requested to stop marketing messages", "category": "marketing_messages", "value": "stop", "timestamp": T0 + 120}]
    }}]}]})).unwrap();
    assert_eq!(stack.post(&prefs).await.0, 200);
    let (_, d) = check("marketing", 3600).await;
    assert_eq!(
        (d["allowed"].as_bool(), d["reasons"][0]["code"].as_str()),
        (Some(false), Some("opted_out")),
        "{d}"
    );
    // Bad queries.
    let (status, _) = call(
        &api,
        "GET",
        &format!("/v1/consent/check?user={user}&phone_number_id=1&category=promo"),
        None,
        Utc::now(),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = call(&api, "GET", "/v1/consent/check?user=1", None, Utc::now()).await;
    assert_eq!(status, 400);
}

/// The consent check reads each id's profile and consent state by key (issue 13, item 10):
/// as the person's history grows (consent events, conversions), its requests and the items
/// DynamoDB reads for it stay the same, and its answer follows the latest recorded event.
#[tokio::test]
async fn the_consent_check_reads_the_same_items_however_long_the_history() {
    let stack = Stack::start().await;
    let counter = shared::telemetry::RequestCounter::new();
    let api = api_over(
        &stack,
        shared::adapters::aws::dynamodb_client(&stack.sdk, Some(counter.clone())),
    );
    let user = "5511955550001";
    stack.post(&first_message(user, T0, "oi", None)).await;
    let mut n = 0i64;
    let mut last_action = "";
    // Each round adds 12 consent events (alternating) and 6 conversions to the partition.
    let mut grow = async || {
        for _ in 0..12 {
            n += 1;
            last_action = if n % 2 == 0 { "opt_in" } else { "opt_out" };
            let event = json!({"user": user, "phone_number_id": PHONE_NUMBER_ID, "action": last_action,
                "categories": ["marketing"], "source": "web_form", "proof": "signup form",
                "at": at(T0 + 60 * n).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)});
            let (status, body) =
                call(&api, "POST", "/v1/consent", Some(event), at(T0 + 86_400)).await;
            assert_eq!(status, 201, "{body}");
            if n % 2 == 0 {
                let sale = json!({"type": "purchase", "value": 10, "currency": "BRL",
                    "at": "2026-11-20T10:30:00Z", "idempotency_key": format!("order-{n}")});
                let uri = format!("/v1/leads/{user}/conversions");
                assert_eq!(
                    call(&api, "POST", &uri, Some(sale), at(T0 + 86_400))
                        .await
                        .0,
                    201
                );
            }
        }
        last_action
    };
    let uri = format!(
        "/v1/consent/check?user={user}&phone_number_id={PHONE_NUMBER_ID}&category=marketing"
    );
    let mut measured = Vec::new();
    for _ in 0..2 {
        let expected = grow().await;
        let partition = stack
            .scan()
            .await
            .iter()
            .filter(|i| text(i, "pk") == Some(&format!("USER#{user}")))
            .count();
        counter.reset();
        let (status, d) = call(&api, "GET", &uri, None, at(T0 + 86_400)).await;
        assert_eq!(status, 200, "{d}");
        assert_eq!(
            d["consent"]["consent"], expected,
            "the latest event wins: {d}"
        );
        measured.push((partition, counter.reads(), counter.items_read()));
    }
    println!("consent check (partition items, requests, items read): {measured:?}");
    assert!(
        measured[1].0 >= measured[0].0 + 18,
        "the history grew: {measured:?}"
    );
    assert_eq!(
        (measured[0].1, measured[0].2),
        (measured[1].1, measured[1].2),
        "the same requests and items read: {measured:?}"
    );
    assert!(
        measured[1].2 <= 3,
        "a profile and a state, by key: {measured:?}"
    );
}
