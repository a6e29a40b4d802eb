//! The generator's own checks: determinism, delivery shaping, Meta's rules, the truth.

use super::deliver::*;
use super::facts::*;
use super::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn status_items(traffic: &Traffic) -> Vec<&Value> {
    traffic
        .events
        .iter()
        .filter_map(|event| match event {
            Event::Status(status) => Some(status),
            _ => None,
        })
        .collect()
}

fn parse(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("every body is JSON")
}

/// Every `value` object in a body, with its change's field.
fn values(body: &Value) -> Vec<(String, Value)> {
    body["entry"]
        .as_array()
        .expect("entry array")
        .iter()
        .flat_map(|entry| entry["changes"].as_array().expect("changes").clone())
        .map(|change| {
            (
                change["field"].as_str().expect("field").to_string(),
                change["value"].clone(),
            )
        })
        .collect()
}

fn rank(status: &str) -> u8 {
    match status {
        "sent" => 0,
        "delivered" => 1,
        "read" | "failed" => 2,
        other => panic!("unexpected status {other}"),
    }
}

#[test]
fn traffic_signature_matches_github_test_vector() {
    assert_eq!(
        sign(b"It's a Secret to Everybody", b"Hello, World!"),
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
}

#[test]
fn traffic_is_deterministic() {
    let spec = TrafficSpec::default();
    let opts = DeliveryOpts {
        seed: 3,
        duplicate_factor: 3,
        shuffle: true,
        big_batch: 200,
    };
    let first = generate(&spec);
    let second = generate(&spec);
    assert_eq!(first, second);
    assert_eq!(
        deliveries(&spec, &first, &opts),
        deliveries(&spec, &second, &opts)
    );

    let other = generate(&TrafficSpec {
        seed: 8,
        ..TrafficSpec::default()
    });
    assert_ne!(
        deliveries(&spec, &first, &opts),
        deliveries(&spec, &other, &opts)
    );
}

#[test]
fn traffic_every_event_lands_in_a_delivery() {
    let spec = TrafficSpec::default();
    let traffic = generate(&spec);
    let opts = DeliveryOpts {
        seed: 5,
        duplicate_factor: 3,
        shuffle: true,
        big_batch: 0,
    };
    let bodies = deliveries(&spec, &traffic, &opts);

    let mut statuses = BTreeSet::new();
    let mut inbound = BTreeSet::new();
    let mut preferences = Vec::new();
    for body in &bodies {
        let body = parse(body);
        assert_eq!(body["object"], "whatsapp_business_account");
        assert_eq!(body["entry"][0]["id"], spec.waba_id.as_str());
        for (field, value) in values(&body) {
            assert_eq!(
                value["metadata"]["phone_number_id"],
                spec.phone_number_id.as_str()
            );
            for status in value["statuses"].as_array().into_iter().flatten() {
                statuses.insert(status.to_string());
            }
            for message in value["messages"].as_array().into_iter().flatten() {
                assert_eq!(field, "messages");
                assert_eq!(value["contacts"].as_array().map(Vec::len), Some(1));
                inbound.insert(message["id"].as_str().expect("id").to_string());
            }
            for preference in value["user_preferences"].as_array().into_iter().flatten() {
                assert_eq!(field, "user_preferences");
                preferences.push(preference.to_string());
            }
        }
    }

    let expected_statuses: BTreeSet<String> = status_items(&traffic)
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(statuses, expected_statuses);
    let delivered_wamids: BTreeSet<String> = statuses
        .iter()
        .map(|s| parse(s.as_bytes())["id"].as_str().expect("id").to_string())
        .collect();
    let outbound_wamids: BTreeSet<String> = traffic.truth.outbound.keys().cloned().collect();
    assert_eq!(delivered_wamids, outbound_wamids);
    assert_eq!(inbound, traffic.truth.inbound_wamids);
    let expected_preferences = traffic
        .events
        .iter()
        .filter(|e| matches!(e, Event::UserPreference(_)))
        .count();
    assert!(expected_preferences > 0);
    assert_eq!(preferences.len(), expected_preferences * 3);

    // Duplicates are exact byte copies, each body exactly duplicate_factor times.
    let mut copies: BTreeMap<&[u8], usize> = BTreeMap::new();
    for body in &bodies {
        *copies.entry(body.as_slice()).or_default() += 1;
    }
    assert!(copies.values().all(|&n| n == 3));

    // Shuffled delivery really does put some later status before a wamid's `sent`.
    let mut first_seen: BTreeMap<String, String> = BTreeMap::new();
    for body in &bodies {
        for (_, value) in values(&parse(body)) {
            for status in value["statuses"].as_array().into_iter().flatten() {
                first_seen
                    .entry(status["id"].as_str().expect("id").to_string())
                    .or_insert_with(|| status["status"].as_str().expect("status").to_string());
            }
        }
    }
    assert!(first_seen.values().any(|status| status != "sent"));
}

#[test]
fn traffic_bodies_mix_raw_utf8_and_meta_escaping() {
    let spec = TrafficSpec::default();
    let traffic = generate(&spec);
    let bodies = deliveries(&spec, &traffic, &DeliveryOpts::default());
    let raw = bodies.iter().filter(|b| !b.is_ascii()).count();
    let escaped = bodies
        .iter()
        .filter(|b| b.is_ascii() && b.windows(2).any(|w| w == b"\\u"))
        .count();
    assert!(raw > 0 && escaped > 0, "raw {raw}, escaped {escaped}");
    let text = r#"{"name":"Lucía 👍"}"#;
    let escaped_text = escape_non_ascii(text);
    assert_eq!(escaped_text, r#"{"name":"Luc\u00eda \ud83d\udc4d"}"#);
    assert_eq!(
        parse(escaped_text.as_bytes()),
        parse(text.as_bytes()),
        "escaping must not change the JSON"
    );
}

#[test]
fn traffic_big_batch_holds_exactly_big_batch_statuses() {
    let spec = TrafficSpec {
        outbound_messages: 500,
        ..TrafficSpec::default()
    };
    let traffic = generate(&spec);
    assert!(status_items(&traffic).len() > 1000);
    let opts = DeliveryOpts {
        seed: 1,
        duplicate_factor: 1,
        shuffle: true,
        big_batch: 1000,
    };
    let mut per_body: Vec<(usize, usize)> = deliveries(&spec, &traffic, &opts)
        .iter()
        .map(|body| {
            let values = values(&parse(body));
            let statuses = values
                .iter()
                .map(|(_, v)| v["statuses"].as_array().map_or(0, Vec::len))
                .sum();
            let events = values
                .iter()
                .map(|(_, v)| {
                    v["statuses"].as_array().map_or(0, Vec::len)
                        + v["messages"].as_array().map_or(0, Vec::len)
                        + v["user_preferences"].as_array().map_or(0, Vec::len)
                })
                .sum();
            (statuses, events)
        })
        .collect();
    per_body.sort();
    let (big_statuses, big_events) = per_body.pop().expect("bodies");
    assert_eq!((big_statuses, big_events), (1000, 1000));
    assert!(
        per_body
            .iter()
            .all(|&(_, events)| (1..=20).contains(&events))
    );
    let total: usize = per_body.iter().map(|&(_, e)| e).sum::<usize>() + big_events;
    assert_eq!(total, traffic.events.len());
}

#[test]
fn traffic_status_ladders_follow_meta_rules() {
    let traffic = generate(&TrafficSpec::default());
    let mut ladders: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for status in status_items(&traffic) {
        ladders
            .entry(status["id"].as_str().expect("id"))
            .or_default()
            .push(status);
    }
    assert_eq!(ladders.len(), 300);
    for (wamid, ladder) in &ladders {
        assert_eq!(ladder[0]["status"], "sent", "{wamid}");
        let mut priced_follow_ups = 0;
        for pair in ladder.windows(2) {
            let at = |s: &Value| {
                s["timestamp"]
                    .as_str()
                    .expect("timestamp is a string")
                    .parse::<i64>()
                    .expect("unix seconds")
            };
            assert!(at(pair[0]) < at(pair[1]), "{wamid} timestamps");
            let (a, b) = (
                rank(pair[0]["status"].as_str().expect("status")),
                rank(pair[1]["status"].as_str().expect("status")),
            );
            assert!(a < b, "{wamid} ladder order");
        }
        for status in ladder {
            let priced = status.get("pricing").is_some();
            match status["status"].as_str().expect("status") {
                "failed" => {
                    assert!(!priced, "{wamid}: pricing on failed");
                    assert!(status["errors"][0]["code"].is_i64());
                }
                "delivered" | "read" if priced => priced_follow_ups += 1,
                _ => {}
            }
            assert_eq!(
                status.get("conversation").is_some(),
                priced
                    && (status["pricing"]["pricing_model"] == "CBP"
                        || status["pricing"]["type"] == "free_entry_point"),
                "{wamid}: conversation rides with CBP/FEP pricing"
            );
            if let Some(pricing) = status.get("pricing") {
                let category = pricing["category"].as_str().expect("category");
                if pricing["pricing_model"] == "PMP" {
                    let kind = pricing["type"].as_str().expect("type");
                    assert_eq!(pricing["billable"], kind == "regular");
                    match kind {
                        "free_customer_service" => {
                            assert!(["utility", "service"].contains(&category));
                        }
                        "regular" => assert!(
                            ["marketing", "utility", "authentication", "marketing_lite"]
                                .contains(&category)
                        ),
                        "free_entry_point" => {}
                        other => panic!("unexpected pricing type {other}"),
                    }
                }
            }
        }
        assert!(
            priced_follow_ups <= 1,
            "{wamid}: pricing on delivered and read"
        );
    }
}

#[test]
fn traffic_truth_matches_the_generated_json() {
    let spec = TrafficSpec::default();
    let traffic = generate(&spec);
    let truth = &traffic.truth;

    assert_eq!(truth.sent(), spec.outbound_messages);
    assert_eq!(truth.outbound.len(), spec.outbound_messages);
    assert!(truth.delivered() >= truth.read());
    assert!(truth.read() > 0 && truth.failed() > 0);
    assert!(truth.paid() > 0 && truth.free() > 0);
    assert!(truth.paid() + truth.free() <= truth.sent());
    assert!(truth.outbound.values().any(|m| m.paid.is_none()));
    assert!(truth.outbound.values().any(|m| m.failed && m.delivered));
    let statuses = status_items(&traffic);
    assert_eq!(
        truth
            .outbound
            .values()
            .map(|m| m.status_count)
            .sum::<usize>(),
        statuses.len()
    );

    // Recompute each message's truth from its statuses and compare.
    for (wamid, expected) in &truth.outbound {
        let mine: Vec<&&Value> = statuses.iter().filter(|s| s["id"] == **wamid).collect();
        let has = |name: &str| mine.iter().any(|s| s["status"] == name);
        let pricing = mine.iter().find_map(|s| s.get("pricing"));
        let paid = pricing.map(|p| {
            if p["pricing_model"] == "PMP" {
                p["type"] == "regular"
            } else {
                p["billable"] == true
            }
        });
        let last = mine.last().expect("at least sent");
        assert_eq!(expected.delivered, has("delivered") || has("read"));
        assert_eq!(expected.read, has("read"));
        assert_eq!(expected.failed, last["status"] == "failed");
        assert_eq!(expected.error_code, last["errors"][0]["code"].as_i64());
        assert_eq!(expected.paid, paid);
        assert_eq!(
            expected.pricing_category.as_deref(),
            pricing.and_then(|p| p["category"].as_str())
        );
        assert_eq!(
            expected.pricing_model.as_deref(),
            pricing.and_then(|p| p["pricing_model"].as_str())
        );
        assert_eq!(
            expected.biz_opaque_callback_data.as_deref(),
            last["biz_opaque_callback_data"].as_str()
        );
        assert_eq!(expected.status_count, mine.len());
    }

    // Users: identity, counts, first touch (never overwritten), keyword consent.
    let mut seen: BTreeMap<String, (usize, Option<Value>, Option<ConsentKeyword>)> =
        BTreeMap::new();
    let mut keyword_messages = 0;
    let mut second_referrals = 0;
    let mut not_a_stop = 0;
    for event in &traffic.events {
        let Event::Inbound { message, contact } = event else {
            continue;
        };
        let key = message["from_user_id"]
            .as_str()
            .or_else(|| message["from"].as_str())
            .expect("from or from_user_id")
            .to_string();
        assert_eq!(contact["wa_id"], message["from"].as_str().unwrap_or(""));
        let entry = seen.entry(key).or_insert((0, None, None));
        entry.0 += 1;
        if let Some(referral) = message.get("referral") {
            if entry.1.is_some() {
                second_referrals += 1;
                assert_ne!(
                    entry.1.as_ref().map(|r| &r["source_id"]),
                    Some(&referral["source_id"])
                );
            } else {
                entry.1 = Some(referral.clone());
            }
        }
        if let Some(body) = message["text"]["body"].as_str() {
            if body == NOT_A_STOP {
                not_a_stop += 1;
            }
            if let Some(keyword) = consent_keyword(body) {
                keyword_messages += 1;
                entry.2 = Some(keyword);
            }
        }
    }
    assert!(second_referrals > 0 && not_a_stop > 0);
    assert_eq!(seen.len(), spec.inbound_users);
    assert_eq!(truth.users.len(), spec.inbound_users);
    for (key, (count, referral, keyword)) in &seen {
        let user = &truth.users[key];
        assert_eq!(user.inbound_count, *count, "{key}");
        assert_eq!(
            user.opted_out_by_keyword,
            *keyword == Some(ConsentKeyword::Stop),
            "{key}"
        );
        let touch = user.first_touch.as_ref();
        assert_eq!(
            touch.map(|t| t.source_id.as_str()),
            referral.as_ref().and_then(|r| r["source_id"].as_str()),
            "{key}"
        );
        if let (Some(touch), Some(referral)) = (touch, referral) {
            assert_eq!(
                touch.source_url,
                referral["source_url"].as_str().unwrap_or("")
            );
            assert_eq!(touch.ctwa_clid.as_deref(), referral["ctwa_clid"].as_str());
            assert_eq!(
                touch.utm_campaign.is_some(),
                touch.source_url.contains("utm_campaign=")
            );
        }
    }
    assert!(truth.users.values().any(|u| u.opted_out_by_keyword));
    assert!(truth.users.values().any(|u| u.phone.is_none()));
    assert!(truth.users.values().any(|u| u.user_id.is_none()));
    assert!(truth.users.values().any(|u| u.first_touch.is_some()));

    let preferences = traffic
        .events
        .iter()
        .filter(|e| matches!(e, Event::UserPreference(_)))
        .count();
    assert_eq!(truth.consent_events, keyword_messages + preferences);
    assert_eq!(
        truth.inbound_wamids.len(),
        seen.values().map(|(n, _, _)| n).sum::<usize>()
    );
}

#[test]
fn traffic_consent_keywords_match_whole_messages_only() {
    assert_eq!(consent_keyword(" stop "), Some(ConsentKeyword::Stop));
    assert_eq!(consent_keyword("Berhenti"), Some(ConsentKeyword::Stop));
    assert_eq!(consent_keyword("BAJA"), Some(ConsentKeyword::Stop));
    assert_eq!(consent_keyword("START"), Some(ConsentKeyword::Start));
    assert_eq!(consent_keyword(" Mulai "), Some(ConsentKeyword::Start));
    assert_eq!(consent_keyword("stop the music"), None);
    assert_eq!(consent_keyword(STOP_PROMOTIONS), None);
    assert_eq!(consent_keyword("Can I stop by the store tomorrow?"), None);
    for text in STOP_TEXTS {
        assert_eq!(consent_keyword(text), Some(ConsentKeyword::Stop));
    }
    for text in START_TEXTS {
        assert_eq!(consent_keyword(text), Some(ConsentKeyword::Start));
    }
}

#[test]
fn traffic_handles_empty_and_tiny_specs() {
    let spec = TrafficSpec {
        outbound_messages: 0,
        inbound_users: 0,
        ..TrafficSpec::default()
    };
    let traffic = generate(&spec);
    assert!(traffic.events.is_empty());
    assert_eq!(traffic.truth, GroundTruth::default());
    assert!(deliveries(&spec, &traffic, &DeliveryOpts::default()).is_empty());

    let spec = TrafficSpec {
        outbound_messages: 1,
        inbound_users: 1,
        ..TrafficSpec::default()
    };
    let traffic = generate(&spec);
    assert_eq!(traffic.truth.sent(), 1);
    assert_eq!(traffic.truth.users.len(), 1);
    let opts = DeliveryOpts {
        big_batch: 1000,
        ..DeliveryOpts::default()
    };
    assert!(!deliveries(&spec, &traffic, &opts).is_empty());
}

#[test]
fn traffic_broadcast_is_one_paid_template_to_distinct_people_in_large_batches() {
    let spec = TrafficSpec::default();
    let traffic = broadcast(&spec, 2_500);
    assert_eq!(traffic.truth.outbound.len(), 2_500);
    assert!(traffic.truth.users.is_empty() && traffic.truth.inbound_wamids.is_empty());
    let statuses = status_items(&traffic);
    let recipients: BTreeSet<String> = statuses
        .iter()
        .filter(|s| s["status"] == "sent")
        .map(|s| format!("{}/{}", s["recipient_id"], s["recipient_user_id"]))
        .collect();
    assert_eq!(recipients.len(), 2_500, "one message per person");
    assert!(
        statuses
            .iter()
            .all(|s| s["biz_opaque_callback_data"] == BROADCAST_TAG)
    );
    // Sent within three seconds, paid marketing wherever pricing rode along.
    assert!(statuses.iter().filter(|s| s["status"] == "sent").all(|s| {
        let at: i64 = s["timestamp"].as_str().unwrap().parse().unwrap();
        (spec.base_time..spec.base_time + 3).contains(&at)
    }));
    assert!(
        traffic.truth.outbound.values().all(|m| {
            m.paid == Some(true) && m.pricing_category.as_deref() == Some("marketing")
        })
    );
    assert!(traffic.truth.read() > 0 && traffic.truth.failed() > 0);

    let opts = DeliveryOpts {
        seed: 2,
        duplicate_factor: 2,
        shuffle: true,
        big_batch: 0,
    };
    let bodies = in_batches(&spec, &traffic, 1_000, &opts);
    assert_eq!(bodies.len(), 2 * statuses.len().div_ceil(1_000));
    let mut delivered: BTreeMap<String, usize> = BTreeMap::new();
    for body in &bodies {
        for (_, value) in values(&parse(body)) {
            let batch = value["statuses"].as_array().expect("statuses");
            assert!(batch.len() <= 1_000);
            for status in batch {
                *delivered.entry(status.to_string()).or_default() += 1;
            }
        }
    }
    let expected: BTreeMap<String, usize> = statuses.iter().map(|s| (s.to_string(), 2)).collect();
    assert_eq!(delivered, expected, "every status exactly twice");
}
