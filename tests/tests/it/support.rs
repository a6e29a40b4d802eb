use aws_sdk_dynamodb::types::AttributeValue as Av;
use serde_json::{Value, json};
use shared::domain::ladder::MessageTimes;
use std::collections::HashMap;

pub const WABA: &str = "102290129340398";
pub const PHONE_NUMBER_ID: &str = "106540352242922";

pub type Item = HashMap<String, Av>;

/// A `messages` webhook body holding these statuses.
pub fn statuses_body(statuses: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "statuses": statuses
        }}]}]
    }))
    .unwrap()
}

pub fn status(wamid: &str, status: &str, ts: i64) -> Value {
    json!({"id": wamid, "status": status, "timestamp": ts.to_string(), "recipient_id": "16505551234"})
}

pub fn with_pricing(mut v: Value, pricing: Value) -> Value {
    v["pricing"] = pricing;
    v
}

pub fn pmp(kind: &str, category: &str) -> Value {
    json!({"billable": kind == "regular", "pricing_model": "PMP", "type": kind, "category": category})
}

/// A `messages` body with one inbound message and its contact.
pub fn inbound_body(message: Value, contact: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [contact],
            "messages": [message]
        }}]}]
    }))
    .unwrap()
}

pub fn text_message(wamid: &str, from: &str, ts: i64, body: &str) -> Value {
    json!({"from": from, "id": wamid, "timestamp": ts.to_string(), "type": "text", "text": {"body": body}})
}

pub fn contact(wa_id: &str, user_id: Option<&str>) -> Value {
    let mut c = json!({"profile": {"name": "Lucía Gómez"}, "wa_id": wa_id});
    if let Some(u) = user_id {
        c["user_id"] = json!(u);
    }
    c
}

pub fn num(item: &Item, attr: &str) -> Option<i64> {
    item.get(attr)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

pub fn text<'a>(item: &'a Item, attr: &str) -> Option<&'a str> {
    item.get(attr)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

pub fn times(item: &Item) -> MessageTimes {
    MessageTimes {
        sent_at: num(item, "sent_at"),
        delivered_at: num(item, "delivered_at"),
        read_at: num(item, "read_at"),
        played_at: num(item, "played_at"),
        failed_at: num(item, "failed_at"),
    }
}

pub fn map_text<'a>(item: &'a Item, map: &str, key: &str) -> Option<&'a str> {
    item.get(map)
        .and_then(|v| v.as_m().ok())
        .and_then(|m| m.get(key))
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

pub fn map_bool(item: &Item, map: &str, key: &str) -> Option<bool> {
    item.get(map)
        .and_then(|v| v.as_m().ok())
        .and_then(|m| m.get(key))
        .and_then(|v| v.as_bool().ok())
        .copied()
}

pub fn kinds(items: &[Item]) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for i in items {
        *out.entry(integration_tests::verify::item_kind(i).to_string())
            .or_default() += 1;
    }
    out
}
