//! Attribute helpers every DynamoDB adapter shares: one definition each.

use crate::ports::StoreError;
use aws_sdk_dynamodb::types::AttributeValue as Av;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

pub(crate) type Attrs = HashMap<String, Av>;

/// The lead profile's set of WABAs its person wrote to (or was filed under by an import):
/// who may see the lead (`domain::access`).
pub const LEAD_WABAS: &str = "waba_ids";

pub(crate) fn s(v: impl Into<String>) -> Av {
    Av::S(v.into())
}

pub(crate) fn n(v: i64) -> Av {
    Av::N(itoa::Buffer::new().format(v).to_owned())
}

/// An item key.
pub(crate) fn key(pk: String, sk: impl Into<String>) -> Attrs {
    let mut k = HashMap::with_capacity(2);
    k.insert("pk".to_string(), Av::S(pk));
    k.insert("sk".to_string(), Av::S(sk.into()));
    k
}

/// The key of item `sk` in the partition of user id `id`.
pub(crate) fn user_item(id: &str, sk: &str) -> Attrs {
    key(crate::keys::user_pk(id), sk)
}

pub(crate) fn text(item: &Attrs, k: &str) -> Option<String> {
    item.get(k).and_then(|v| v.as_s().ok()).cloned()
}

pub(crate) fn int(item: &Attrs, k: &str) -> Option<i64> {
    item.get(k)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

pub(crate) fn time(item: &Attrs, k: &str) -> Option<DateTime<Utc>> {
    int(item, k).and_then(|t| DateTime::from_timestamp(t, 0))
}

/// Any SDK failure (a request that could not be built, sent or answered) as a storage
/// error a retry may fix.
pub(crate) fn unavailable<E: std::error::Error + 'static>(e: E) -> StoreError {
    StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string())
}
