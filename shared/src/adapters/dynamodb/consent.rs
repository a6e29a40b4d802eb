//! Consent items (`USER#<id>` / `CONSENT#…` events and `CONSENT_STATE#…` current states):
//! the one builder of each, for both writers (the webhook's STOP/START keywords and
//! `user_preferences`, the leads API's `POST /v1/consent` and imports).

use super::attrs::{Attrs, n, s};
use super::requests::{Request, UpdateBuilder, consent_state_values};
use crate::domain::consent::ConsentAction;
use crate::domain::identity::consent_state_condition;
use crate::domain::timeindex::event_bucket;
use crate::keys::{consent_event_sk, consent_state_sk, user_pk};
use aws_sdk_dynamodb::types::AttributeValue as Av;
use std::collections::HashMap;

/// What every consent event holds, whoever records it.
pub(crate) struct ConsentEventBase<'a> {
    pub user_key: &'a str,
    pub phone_number_id: &'a str,
    pub action: ConsentAction,
    /// The channel (`keyword`, `user_preferences`, `api`, `web_form`, …).
    pub source: &'a str,
    /// The event's id: a hash of its content, so a retry writes the same key.
    pub id: &'a str,
    pub at: i64,
    /// Sorted, unique: `marketing`, `utility`.
    pub categories: Vec<String>,
}

/// A consent event item (written once: `attribute_not_exists(pk)`); callers add what only
/// they know (the keyword, the other id; the proof, who recorded it).
pub(crate) fn consent_event_item(e: &ConsentEventBase<'_>) -> Attrs {
    let mut item: Attrs = HashMap::with_capacity(14);
    item.insert("pk".into(), s(user_pk(e.user_key)));
    item.insert(
        "sk".into(),
        s(consent_event_sk(e.phone_number_id, e.at, e.source, e.id)),
    );
    item.insert("item_kind".into(), s("consent_event"));
    item.insert("user_key".into(), s(e.user_key));
    item.insert("phone_number_id".into(), s(e.phone_number_id));
    item.insert("consent".into(), s(e.action.as_str()));
    item.insert("source".into(), s(e.source));
    item.insert("at".into(), n(e.at));
    item.insert("categories".into(), Av::Ss(e.categories.clone()));
    item.insert("time_bucket".into(), s(event_bucket(e.at)));
    item
}

/// A change of one category's current consent on one number.
pub(crate) struct ConsentStateChange<'a> {
    pub user_key: &'a str,
    pub phone_number_id: &'a str,
    pub category: &'a str,
    pub action: ConsentAction,
    pub source: &'a str,
    pub event_id: &'a str,
    pub at: i64,
}

/// The state's update: it only moves forward in time (an opt-out wins a same-second tie);
/// the events keep every signal.
pub(crate) fn consent_state_request(c: &ConsentStateChange<'_>) -> Request {
    let mut u = UpdateBuilder::new(8);
    u.set("item_kind", s("consent_state"));
    u.set("user_key", s(c.user_key));
    u.set("phone_number_id", s(c.phone_number_id));
    u.set("category", s(c.category));
    u.set("consent", s(c.action.as_str()));
    u.set("source", s(c.source));
    u.set("event_id", s(c.event_id));
    u.set("changed_at", n(c.at));
    u.values.extend(consent_state_values(c.action, c.at));
    u.into_request(
        super::attrs::key(
            user_pk(c.user_key),
            consent_state_sk(c.phone_number_id, c.category),
        ),
        Some(consent_state_condition(c.action)),
    )
}

/// Sends a state change; `Ok(false)` when its condition kept a newer state.
pub(crate) async fn send_state_change(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    change: &ConsentStateChange<'_>,
) -> Result<bool, crate::ports::StoreError> {
    let Request::Update {
        key,
        update,
        condition,
        names,
        values,
    } = consent_state_request(change)
    else {
        unreachable!("a consent state change is an update");
    };
    let result = client
        .update_item()
        .table_name(table)
        .set_key(Some(key))
        .update_expression(update)
        .set_condition_expression(condition.map(str::to_string))
        .set_expression_attribute_names(names)
        .set_expression_attribute_values(Some(values))
        .send()
        .await;
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(super::attrs::store_error(e)),
    }
}
