//! Rendering the facts as Meta's JSON.

use super::facts::*;
use super::*;
use serde_json::{Map, Value, json};

pub(super) fn render_events(
    spec: &TrafficSpec,
    outbound: &[OutboundPlan],
    users: &[UserPlan],
    preferences: &[PreferencePlan],
) -> Vec<Event> {
    let mut timed: Vec<(i64, Event)> = Vec::new();
    for plan in outbound {
        let sent_at = plan.ladder.first().map_or(0, |step| step.at);
        for step in &plan.ladder {
            timed.push((step.at, Event::Status(status_json(plan, step, sent_at))));
        }
    }
    for user in users {
        let contact = contact_json(user);
        for message in &user.messages {
            timed.push((
                message.at,
                Event::Inbound {
                    message: message_json(spec, &user.identity, message),
                    contact: contact.clone(),
                },
            ));
        }
    }
    for preference in preferences {
        timed.push((
            preference.at,
            Event::UserPreference(preference_json(preference)),
        ));
    }
    // Stable sort: equal timestamps keep generation order, so a ladder never reorders.
    timed.sort_by_key(|(at, _)| *at);
    timed.into_iter().map(|(_, event)| event).collect()
}

pub(super) fn status_json(plan: &OutboundPlan, step: &StatusStep, sent_at: i64) -> Value {
    let mut status = Map::new();
    status.insert("id".into(), json!(plan.wamid));
    status.insert("status".into(), json!(step.kind.as_str()));
    status.insert("timestamp".into(), json!(step.at.to_string()));
    status.insert(
        "recipient_id".into(),
        json!(plan.recipient.phone.as_deref().unwrap_or("")),
    );
    // Meta omits `recipient_user_id` on a failed status when the message went to the phone.
    let phone_failure = step.kind == Failed && plan.recipient.phone.is_some();
    if let (Some(user_id), false) = (&plan.recipient.user_id, phone_failure) {
        status.insert("recipient_user_id".into(), json!(user_id));
    }
    if let Some(callback) = plan.callback {
        status.insert("biz_opaque_callback_data".into(), json!(callback));
    }
    if let (Some(pricing), true) = (&plan.pricing, step.carries_pricing) {
        if let Some(conversation) = pricing.conversation_json(step, sent_at) {
            status.insert("conversation".into(), conversation);
        }
        status.insert("pricing".into(), pricing.pricing_json());
    }
    if let (Some((failure, href)), Failed) = (plan.failure, step.kind) {
        status.insert(
            "errors".into(),
            json!([{
                "code": failure.code,
                "title": failure.title,
                "message": failure.title,
                "error_data": { "details": failure.details },
                "href": href,
            }]),
        );
    }
    Value::Object(status)
}

pub(super) fn contact_json(user: &UserPlan) -> Value {
    let mut contact = Map::new();
    contact.insert("profile".into(), json!({ "name": user.name }));
    contact.insert(
        "wa_id".into(),
        json!(user.identity.phone.as_deref().unwrap_or("")),
    );
    if let Some(user_id) = &user.identity.user_id {
        contact.insert("user_id".into(), json!(user_id));
    }
    Value::Object(contact)
}

pub(super) fn message_json(
    spec: &TrafficSpec,
    identity: &Identity,
    message: &InboundPlan,
) -> Value {
    let mut item = Map::new();
    if let Some(phone) = &identity.phone {
        item.insert("from".into(), json!(phone));
    }
    if let Some(user_id) = &identity.user_id {
        item.insert("from_user_id".into(), json!(user_id));
    }
    item.insert("id".into(), json!(message.wamid));
    item.insert("timestamp".into(), json!(message.at.to_string()));
    match &message.content {
        InboundContent::Text(body) => {
            item.insert("type".into(), json!("text"));
            item.insert("text".into(), json!({ "body": body }));
        }
        InboundContent::Button {
            payload,
            context_wamid,
        } => {
            item.insert("type".into(), json!("button"));
            item.insert(
                "button".into(),
                json!({ "payload": payload, "text": payload }),
            );
            // A quick reply answers a template: `context` points at the business's message.
            item.insert(
                "context".into(),
                json!({ "from": spec.display_phone_number, "id": context_wamid }),
            );
        }
        InboundContent::Image {
            media_id,
            sha256,
            caption,
        } => {
            let mut image = Map::new();
            if let Some(caption) = caption {
                image.insert("caption".into(), json!(caption));
            }
            image.insert("mime_type".into(), json!("image/jpeg"));
            image.insert("sha256".into(), json!(sha256));
            image.insert("id".into(), json!(media_id));
            item.insert("type".into(), json!("image"));
            item.insert("image".into(), Value::Object(image));
        }
    }
    if let Some(referral) = &message.referral {
        item.insert("referral".into(), referral_json(referral));
    }
    Value::Object(item)
}

pub(super) fn referral_json(referral: &ReferralFact) -> Value {
    let mut item = Map::new();
    item.insert("source_url".into(), json!(referral.source_url));
    item.insert("source_id".into(), json!(referral.ad.source_id));
    item.insert("source_type".into(), json!("ad"));
    item.insert("body".into(), json!(referral.ad.body));
    item.insert("headline".into(), json!(referral.ad.headline));
    item.insert("media_type".into(), json!("image"));
    item.insert(
        "image_url".into(),
        json!(format!(
            "https://scontent.xx.fbcdn.net/v/t45.1600-4/{}.jpg",
            referral.ad.content
        )),
    );
    if let Some(clid) = &referral.ctwa_clid {
        item.insert("ctwa_clid".into(), json!(clid));
    }
    if referral.with_welcome_message {
        item.insert(
            "welcome_message".into(),
            json!({ "text": "Hi there! Let us know how we can help!" }),
        );
    }
    Value::Object(item)
}

pub(super) fn preference_json(preference: &PreferencePlan) -> Value {
    let (value, detail) = if preference.stop {
        ("stop", "User requested to stop marketing messages")
    } else {
        ("resume", "User requested to resume marketing messages")
    };
    json!({
        "wa_id": preference.phone,
        "detail": detail,
        "category": "marketing_messages",
        "value": value,
        "timestamp": preference.at,
    })
}
