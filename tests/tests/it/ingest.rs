//! Storage semantics: idempotency (T7, T8, 50 concurrent deliveries), ordering (T9, T10),
//! pricing once (T15), schema drift (T14), leads and consent, request counts.

use crate::support::*;
use futures_util::future::join_all;
use integration_tests::harness::Stack;
use serde_json::json;
use shared::domain::webhook::StatusKind;

#[tokio::test]
async fn t7_duplicates_sequential_and_concurrent_change_nothing() {
    let stack = Stack::start().await;
    let body = statuses_body(&[
        with_pricing(status("wamid.T7", "sent", 100), pmp("regular", "marketing")),
        status("wamid.T7", "delivered", 101),
    ]);
    assert_eq!(stack.post(&body).await.0, 200);
    let once = stack.scan().await;
    assert_eq!(stack.post(&body).await.0, 200);
    let codes = join_all((0..10).map(|_| stack.post(&body))).await;
    assert!(codes.iter().all(|(c, _)| *c == 200));
    assert_eq!(
        stack.scan().await,
        once,
        "duplicates leave every item unchanged"
    );
}

#[tokio::test]
async fn fifty_concurrent_deliveries_of_the_same_post_have_one_effect() {
    let stack = Stack::start().await;
    let mut statuses = Vec::new();
    for i in 0..10 {
        let wamid = format!("wamid.C{i}");
        statuses.push(with_pricing(
            status(&wamid, "sent", 10),
            pmp("regular", "utility"),
        ));
        statuses.push(status(&wamid, "read", 12));
    }
    let inbound = inbound_body(
        json!({"from": "5511", "id": "wamid.IN50", "timestamp": "9", "type": "text", "text": {"body": "STOP"},
               "referral": {"source_url": "https://shop.example/?utm_campaign=c50", "source_id": "ad50", "source_type": "ad", "ctwa_clid": "clid50"}}),
        contact("5511", Some("BR.50")),
    );
    // Reference: the same traffic delivered once, on a separate stack.
    let reference = Stack::start().await;
    assert_eq!(reference.post(&statuses_body(&statuses)).await.0, 200);
    assert_eq!(reference.post(&inbound).await.0, 200);
    let expected = reference.scan().await;

    let body = statuses_body(&statuses);
    for delivery in [&body, &inbound] {
        let results = join_all((0..50).map(|_| stack.post(delivery))).await;
        assert!(results.iter().all(|(c, _)| *c == 200), "{results:?}");
    }
    let got = stack.scan().await;
    assert_eq!(got.len(), expected.len());
    // Same items, same attributes (table names differ, nothing else may).
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g, e, "item differs after 50 concurrent deliveries");
    }
}

#[tokio::test]
async fn t8_replay_days_later_is_a_no_op() {
    let stack = Stack::start().await;
    let sent = statuses_body(&[status("wamid.T8", "sent", 1_000)]);
    let read = statuses_body(&[status("wamid.T8", "read", 1_000 + 3 * 86_400)]);
    assert_eq!(stack.post(&sent).await.0, 200);
    assert_eq!(stack.post(&read).await.0, 200);
    let before = stack.scan().await;
    // Meta retries for 7 days; dedupe is by (wamid, state) with no expiry window.
    assert_eq!(stack.post(&sent).await.0, 200);
    assert_eq!(stack.scan().await, before);
}

#[tokio::test]
async fn t9_out_of_order_statuses_end_in_the_same_state() {
    let stack = Stack::start().await;
    // read before delivered before sent.
    for s in [
        status("wamid.A", "read", 30),
        status("wamid.A", "delivered", 20),
        status("wamid.A", "sent", 10),
    ] {
        assert_eq!(stack.post(&statuses_body(&[s])).await.0, 200);
    }
    // delivered never sent.
    for s in [status("wamid.B", "sent", 10), status("wamid.B", "read", 30)] {
        assert_eq!(stack.post(&statuses_body(&[s])).await.0, 200);
    }
    // failed after delivered (multi-device), arriving first.
    let mut failed = status("wamid.C", "failed", 40);
    failed["errors"] = json!([{"code": 131049, "title": "This message was not delivered to maintain healthy ecosystem engagement.", "error_data": {"details": "x"}}]);
    for s in [
        failed,
        status("wamid.C", "delivered", 20),
        status("wamid.C", "sent", 10),
    ] {
        assert_eq!(stack.post(&statuses_body(&[s])).await.0, 200);
    }
    let a = times(&stack.item("MSG#wamid.A", "OUT").await.unwrap());
    assert_eq!(
        (a.sent_at, a.delivered_at, a.read_at),
        (Some(10), Some(20), Some(30))
    );
    assert_eq!(a.state(), Some(StatusKind::Read));
    let b = times(&stack.item("MSG#wamid.B", "OUT").await.unwrap());
    assert!(b.delivered() && b.read() && b.delivered_at.is_none());
    let c_item = stack.item("MSG#wamid.C", "OUT").await.unwrap();
    let c = times(&c_item);
    assert!(c.failed() && c.delivered());
    assert_eq!(c.state(), Some(StatusKind::Failed));
    assert_eq!(num(&c_item, "error_code"), Some(131049));
    assert!(
        text(&c_item, "error_title")
            .unwrap()
            .contains("healthy ecosystem")
    );
    // A late `delivered` after `read` changes nothing visible.
    let before = times(&stack.item("MSG#wamid.A", "OUT").await.unwrap());
    assert_eq!(
        stack
            .post(&statuses_body(&[status("wamid.A", "delivered", 25)]))
            .await
            .0,
        200
    );
    assert_eq!(
        times(&stack.item("MSG#wamid.A", "OUT").await.unwrap()),
        before
    );
}

#[tokio::test]
async fn t10_several_statuses_of_one_message_in_one_batch() {
    let stack = Stack::start().await;
    let body = statuses_body(&[
        status("wamid.T10", "read", 3),
        with_pricing(
            status("wamid.T10", "sent", 1),
            pmp("free_customer_service", "service"),
        ),
        status("wamid.T10", "delivered", 2),
    ]);
    assert_eq!(stack.post(&body).await.0, 200);
    let item = stack.item("MSG#wamid.T10", "OUT").await.unwrap();
    let t = times(&item);
    assert_eq!(
        (t.sent_at, t.delivered_at, t.read_at),
        (Some(1), Some(2), Some(3))
    );
    assert_eq!(map_bool(&item, "pricing", "paid"), Some(false));
    assert_eq!(stack.counter.writes(), 3, "one write per status");
    assert_eq!(stack.counter.reads(), 0);
}

#[tokio::test]
async fn t15_pricing_is_stored_once_whichever_status_carries_it() {
    let stack = Stack::start().await;
    let regular = pmp("regular", "marketing");
    // sent only; delivered only; read only (arriving before sent); none; in two statuses.
    let cases = [
        (
            "wamid.P1",
            vec![
                with_pricing(status("wamid.P1", "sent", 1), regular.clone()),
                status("wamid.P1", "delivered", 2),
            ],
            Some(("sent", true)),
        ),
        (
            "wamid.P2",
            vec![
                status("wamid.P2", "sent", 1),
                with_pricing(status("wamid.P2", "delivered", 2), regular.clone()),
            ],
            Some(("delivered", true)),
        ),
        (
            "wamid.P3",
            vec![
                with_pricing(
                    status("wamid.P3", "read", 3),
                    pmp("free_entry_point", "marketing"),
                ),
                status("wamid.P3", "sent", 1),
            ],
            Some(("read", false)),
        ),
        (
            "wamid.P4",
            vec![status("wamid.P4", "sent", 1), status("wamid.P4", "read", 2)],
            None,
        ),
        (
            "wamid.P5",
            vec![
                with_pricing(status("wamid.P5", "sent", 1), regular.clone()),
                with_pricing(
                    status("wamid.P5", "read", 2),
                    pmp("free_customer_service", "utility"),
                ),
            ],
            Some(("sent", true)),
        ),
    ];
    for (_, statuses, _) in &cases {
        for s in statuses {
            assert_eq!(
                stack.post(&statuses_body(std::slice::from_ref(s))).await.0,
                200
            );
            // Every status also redelivered: pricing must still be counted once.
            assert_eq!(
                stack.post(&statuses_body(std::slice::from_ref(s))).await.0,
                200
            );
        }
    }
    for (wamid, _, expected) in cases {
        let item = stack.item(&format!("MSG#{wamid}"), "OUT").await.unwrap();
        match expected {
            Some((from, paid)) => {
                assert_eq!(
                    map_text(&item, "pricing", "from_status"),
                    Some(from),
                    "{wamid}"
                );
                assert_eq!(map_bool(&item, "pricing", "paid"), Some(paid), "{wamid}");
            }
            None => assert!(!item.contains_key("pricing"), "{wamid}"),
        }
    }
}

#[tokio::test]
async fn t14_schema_drift_is_accepted_and_kept_raw() {
    let stack = Stack::start().await;
    let mut drifted = with_pricing(
        status("wamid.D1", "sent", 5),
        json!({"pricing_model": "PMP", "type": "free_new_kind", "category": "brand_new_category", "tier": "0:1"}),
    );
    drifted["new_top_level"] = json!({"nested": [1, 2]});
    let body = serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, "time": 7, "changes": [
            {"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE_NUMBER_ID}, "statuses": [
                drifted,
                status("wamid.D2", "sent", 5),
                status("wamid.D3", "deleted", 5)
            ]}},
            {"field": "account_alerts", "value": {"entity_type": "WABA", "alert_info": {"alert_severity": "CRITICAL"}}}
        ]}]
    }))
    .unwrap();
    assert_eq!(stack.post(&body).await, (200, "EVENT_RECEIVED".to_string()));
    let d1 = stack.item("MSG#wamid.D1", "OUT").await.unwrap();
    assert_eq!(num(&d1, "sent_at"), Some(5), "metrics still recorded");
    assert_eq!(
        map_bool(&d1, "pricing", "paid"),
        Some(false),
        "free_* type is free"
    );
    assert!(
        text(&d1, "raw_sent").unwrap().contains("new_top_level"),
        "raw kept"
    );
    let unknown = d1["unknown_fields_sent"].as_ss().unwrap();
    assert!(
        unknown.contains(&"new_top_level".to_string())
            && unknown.contains(&"pricing.tier".to_string())
    );
    let d2 = stack.item("MSG#wamid.D2", "OUT").await.unwrap();
    assert!(
        !d2.contains_key("pricing") && !d2.contains_key("raw_sent"),
        "no pricing is no pricing"
    );
    let items = stack.scan().await;
    let kept: Vec<_> = items
        .iter()
        .filter(|i| text(i, "item_kind") == Some("kept_raw"))
        .collect();
    let kinds: Vec<_> = kept.iter().map(|i| text(i, "kind").unwrap()).collect();
    assert!(kinds.contains(&"status_value:deleted"), "{kinds:?}");
    assert!(kinds.contains(&"field:account_alerts"), "{kinds:?}");
    assert!(
        stack.item("MSG#wamid.D3", "OUT").await.is_none(),
        "unknown status values do not touch the ladder"
    );
}

#[tokio::test]
async fn inbound_creates_the_lead_with_first_touch_written_once() {
    let stack = Stack::start().await;
    let referral = |ad: &str, campaign: &str| {
        json!({"source_url": format!("https://shop.example/p?utm_source=facebook&utm_medium=cpc&utm_campaign={campaign}&utm_content=v1&utm_term=shoes"),
               "source_id": ad, "source_type": "ad", "headline": "Sale", "body": "b", "media_type": "image", "ctwa_clid": format!("clid-{ad}")})
    };
    let mut first = text_message("wamid.L1", "5511999", 100, "Hi, I saw the ad");
    first["referral"] = referral("ad-1", "spring");
    let mut later = text_message("wamid.L2", "5511999", 200, "Another ad");
    later["referral"] = referral("ad-2", "autumn");
    // The later referral arrives first (out of order) — first touch is the first *stored*
    // referral, and never overwritten afterwards.
    assert_eq!(
        stack
            .post(&inbound_body(first, contact("5511999", Some("BR.77"))))
            .await
            .0,
        200
    );
    assert_eq!(
        stack
            .post(&inbound_body(later, contact("5511999", Some("BR.77"))))
            .await
            .0,
        200
    );
    let lead = stack
        .item("USER#BR.77", "PROFILE")
        .await
        .expect("lead created");
    assert_eq!(text(&lead, "item_kind"), Some("lead"));
    assert_eq!(text(&lead, "phone"), Some("5511999"));
    assert_eq!(text(&lead, "user_id"), Some("BR.77"));
    assert_eq!(text(&lead, "stage"), Some("new"));
    assert_eq!(text(&lead, "profile_name"), Some("Lucía Gómez"));
    assert_eq!(num(&lead, "created_at"), Some(100));
    assert_eq!(map_text(&lead, "first_touch", "source_id"), Some("ad-1"));
    assert_eq!(
        map_text(&lead, "first_touch", "utm_campaign"),
        Some("spring")
    );
    assert_eq!(map_text(&lead, "first_touch", "utm_term"), Some("shoes"));
    assert_eq!(
        map_text(&lead, "first_touch", "ctwa_clid"),
        Some("clid-ad-1")
    );
    assert!(stack.item("MSG#wamid.L1", "IN").await.is_some());
    assert!(stack.item("MSG#wamid.L2", "IN").await.is_some());
}

#[tokio::test]
async fn username_user_without_phone_is_keyed_by_business_scoped_id() {
    let stack = Stack::start().await;
    let msg = json!({"from_user_id": "US.13491208655302741918", "id": "wamid.U1", "timestamp": "5", "type": "text", "text": {"body": "hello"}});
    let contact = json!({"profile": {"name": "Sam", "username": "sam"}, "wa_id": "", "user_id": "US.13491208655302741918"});
    assert_eq!(stack.post(&inbound_body(msg, contact)).await.0, 200);
    let lead = stack
        .item("USER#US.13491208655302741918", "PROFILE")
        .await
        .expect("lead");
    assert!(
        !lead.contains_key("phone"),
        "no phone stored for username users"
    );
    assert_eq!(text(&lead, "username"), Some("sam"));
    let status = json!({"id": "wamid.U2", "status": "delivered", "timestamp": "6", "recipient_id": "", "recipient_user_id": "US.13491208655302741918"});
    assert_eq!(stack.post(&statuses_body(&[status])).await.0, 200);
    let out = stack.item("MSG#wamid.U2", "OUT").await.unwrap();
    assert!(!out.contains_key("recipient_phone"));
    assert_eq!(
        text(&out, "recipient_user_id"),
        Some("US.13491208655302741918")
    );
}

#[tokio::test]
async fn stop_keywords_and_user_preferences_record_consent() {
    let stack = Stack::start().await;
    let c = || contact("5511888", None);
    for (wamid, ts, body) in [
        ("wamid.S1", 10, " STOP "),
        ("wamid.S2", 20, "stop the music"),
        ("wamid.S3", 30, "start"),
    ] {
        assert_eq!(
            stack
                .post(&inbound_body(text_message(wamid, "5511888", ts, body), c()))
                .await
                .0,
            200
        );
    }
    let prefs = serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [{"field": "user_preferences", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"wa_id": "5511888"}],
        "user_preferences": [{"wa_id": "5511888", "detail": "User requested to stop marketing messages", "category": "marketing_messages", "value": "stop", "timestamp": 40}]
    }}]}]}))
    .unwrap();
    assert_eq!(stack.post(&prefs).await.0, 200);
    assert_eq!(
        stack.post(&prefs).await.0,
        200,
        "duplicate user_preferences"
    );
    let items = stack.scan().await;
    let events: Vec<_> = items
        .iter()
        .filter(|i| text(i, "item_kind") == Some("consent_event"))
        .collect();
    let summary: Vec<_> = events
        .iter()
        .map(|e| {
            (
                text(e, "source").unwrap(),
                text(e, "consent").unwrap(),
                num(e, "at").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("keyword", "opt_out", 10),
            ("keyword", "opt_in", 30),
            ("user_preferences", "opt_out", 40)
        ],
        "'stop the music' is not an opt-out; duplicates recorded once"
    );
    let marketing = stack
        .item(
            "USER#5511888",
            &format!("CONSENT_STATE#{PHONE_NUMBER_ID}#marketing"),
        )
        .await
        .unwrap();
    assert_eq!(
        (text(&marketing, "consent"), num(&marketing, "changed_at")),
        (Some("opt_out"), Some(40))
    );
    let utility = stack
        .item(
            "USER#5511888",
            &format!("CONSENT_STATE#{PHONE_NUMBER_ID}#utility"),
        )
        .await
        .unwrap();
    assert_eq!(
        (text(&utility, "consent"), num(&utility, "changed_at")),
        (Some("opt_in"), Some(30))
    );
    // An older signal arriving late does not move the current state back.
    let late = inbound_body(text_message("wamid.S0", "5511888", 5, "START"), c());
    assert_eq!(stack.post(&late).await.0, 200);
    let marketing_after = stack
        .item(
            "USER#5511888",
            &format!("CONSENT_STATE#{PHONE_NUMBER_ID}#marketing"),
        )
        .await
        .unwrap();
    assert_eq!(marketing_after, marketing);
}

#[tokio::test]
async fn thousand_status_post_costs_at_most_one_write_per_status_and_no_reads() {
    let stack = Stack::start().await;
    let statuses: Vec<_> = (0..1000)
        .map(|i| {
            let s = status(
                &format!("wamid.K{i}"),
                ["sent", "delivered", "read"][i % 3],
                100 + i as i64,
            );
            if i % 3 == 1 {
                with_pricing(s, pmp("regular", "marketing"))
            } else {
                s
            }
        })
        .collect();
    let body = statuses_body(&statuses);
    assert_eq!(stack.post(&body).await.0, 200);
    let writes = stack.counter.writes();
    let reads = stack.counter.reads();
    println!(
        "1,000-status POST: {writes} DynamoDB writes, {reads} reads ({:.3} writes/status)",
        writes as f64 / 1000.0
    );
    assert!(
        writes as f64 / 1000.0 <= 1.1,
        "{writes} writes for 1,000 statuses"
    );
    assert_eq!(reads, 0);
    assert_eq!(stack.scan().await.len(), 1000);
}

#[tokio::test]
async fn template_events_keep_history_and_current_state() {
    let stack = Stack::start().await;
    let body = |field: &str, time: i64, value: serde_json::Value| {
        serde_json::to_vec(&json!({"object": "whatsapp_business_account", "entry": [{"id": WABA, "time": time, "changes": [{"field": field, "value": value}]}]})).unwrap()
    };
    let approved = body(
        "message_template_status_update",
        100,
        json!({"event": "APPROVED", "message_template_id": 806312974732579_i64, "message_template_name": "welcome", "message_template_language": "en-US", "reason": "NONE", "message_template_category": "MARKETING"}),
    );
    let paused = body(
        "message_template_status_update",
        300,
        json!({"event": "PAUSED", "message_template_id": 806312974732579_i64, "message_template_name": "welcome", "message_template_language": "en-US", "reason": null}),
    );
    let quality = body(
        "message_template_quality_update",
        200,
        json!({"previous_quality_score": "GREEN", "new_quality_score": "YELLOW", "message_template_id": 806312974732579_i64, "message_template_name": "welcome", "message_template_language": "en-US"}),
    );
    // Out of order: paused arrives before approved.
    for b in [&paused, &quality, &approved, &approved] {
        assert_eq!(stack.post(b).await.0, 200);
    }
    let state = stack.item("TPL#806312974732579", "STATE").await.unwrap();
    assert_eq!(text(&state, "template_status"), Some("PAUSED"));
    assert_eq!(text(&state, "quality_score"), Some("YELLOW"));
    assert_eq!(text(&state, "template_name"), Some("welcome"));
    let history = kinds(&stack.scan().await);
    assert_eq!(history.get("template_event"), Some(&3), "{history:?}");
}
