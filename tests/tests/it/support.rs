use aws_sdk_dynamodb::types::AttributeValue as Av;
use lambda_http::{Body, Request};
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

/// An API Gateway HTTP API (payload 2.0) event with the JWT authorizer's claims.
pub fn jwt_event(
    method: &str,
    path: &str,
    query: &str,
    claims: &Value,
    body: Option<(&str, &str)>,
) -> Request {
    let mut headers = json!({"host": "api.example.com"});
    if let Some((ct, _)) = body {
        headers["content-type"] = json!(ct);
    }
    let e = json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": headers,
        "requestContext": {"accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
            "domainPrefix": "api", "requestId": "r", "routeKey": "$default", "stage": "$default",
            "time": "20/Nov/2026:10:00:00 +0000", "timeEpoch": 1_795_168_800_000i64,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "t"},
            "authorizer": {"jwt": {"claims": claims, "scopes": null}}},
        "body": body.map(|(_, b)| b),
        "isBase64Encoded": false,
    });
    lambda_http::request::from_str(&e.to_string()).expect("an HTTP API event")
}

pub fn claims(sub: &str, scope: Option<&str>, wabas: Option<&str>) -> Value {
    let mut c = json!({"sub": sub, "iss": "https://issuer.example.com", "client_id": "app"});
    if let Some(s) = scope {
        c["scope"] = json!(s);
    }
    if let Some(w) = wabas {
        c["custom:waba_ids"] = json!(w);
    }
    c
}

pub fn parsed(resp: &lambda_http::Response<Body>) -> (u16, Value) {
    let v = match resp.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap_or_else(|_| json!(t)),
        Body::Binary(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (resp.status().as_u16(), v)
}
