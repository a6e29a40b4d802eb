//! Attribute helpers every DynamoDB adapter shares: one definition each.

use crate::ports::StoreError;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::AttributeValue as Av;
use aws_smithy_types::error::operation::BuildError;
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

/// Service error codes that refuse the request for its data (a malformed expression, an
/// item over 400 KB, an item collection over its size limit): the same request fails every
/// time, so it is our bug to log, not a reason for the caller to retry.
const REFUSED_CODES: [&str; 3] = [
    "ValidationException",
    "SerializationException",
    "ItemCollectionSizeLimitExceededException",
];

/// An SDK failure by kind (conditional-check failures are the caller's to handle first):
/// a request the SDK could not build or the service refused for its data is
/// [`StoreError::Rejected`]; everything else (throttling, service unavailable or internal
/// error, timeouts, connection and response failures) is [`StoreError::Unavailable`].
pub(crate) fn store_error<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let text = DisplayErrorContext(&e).to_string();
    match &e {
        SdkError::ConstructionFailure(_) => {
            StoreError::Rejected(format!("request not built: {text}"))
        }
        SdkError::ServiceError(service) => match service.err().code() {
            Some(code) if REFUSED_CODES.contains(&code) => StoreError::Rejected(text),
            _ => StoreError::Unavailable(text),
        },
        _ => StoreError::Unavailable(text),
    }
}

/// A request builder's failure (a required field missing): our bug, never the caller's.
pub(crate) fn build_error(e: BuildError) -> StoreError {
    StoreError::Rejected(format!("request not built: {e}"))
}

/// Why a `TransactWriteItems` was cancelled, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cancelled {
    /// Only conditions failed: the caller's meaning (a duplicate, a stale version).
    Condition,
    /// Conditions failed or another transaction held an item at the same time.
    Conflict,
    /// An item was refused for its data (`ValidationError`, e.g. over 400 KB).
    Refused,
    /// Throttled, or the service could not complete it: a retry may succeed.
    Transient,
}

/// The kind of a transaction's cancellation from its per-item reasons (`None` for items
/// that were fine); `None` when the error is not a cancellation.
pub(crate) fn cancellation<R>(e: &SdkError<TransactWriteItemsError, R>) -> Option<Cancelled> {
    let Some(TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error()
    else {
        return None;
    };
    Some(cancellation_of(
        c.cancellation_reasons().iter().filter_map(|r| r.code()),
    ))
}

fn cancellation_of<'a>(codes: impl Iterator<Item = &'a str>) -> Cancelled {
    let codes: Vec<&str> = codes.filter(|c| *c != "None").collect();
    let all = |ok: &[&str]| !codes.is_empty() && codes.iter().all(|c| ok.contains(c));
    if codes.contains(&"ValidationError") {
        Cancelled::Refused
    } else if all(&["ConditionalCheckFailed"]) {
        Cancelled::Condition
    } else if all(&["ConditionalCheckFailed", "TransactionConflict"]) {
        Cancelled::Conflict
    } else {
        Cancelled::Transient
    }
}

/// A transaction's failure by kind, once the caller has taken the cancellations it gives a
/// meaning to: an item refused for its data is [`StoreError::Rejected`], the rest as
/// [`store_error`].
pub(crate) fn transaction_error<R>(e: SdkError<TransactWriteItemsError, R>) -> StoreError
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match cancellation(&e) {
        Some(Cancelled::Refused) => StoreError::Rejected(DisplayErrorContext(&e).to_string()),
        _ => store_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service(code: &str) -> SdkError<PutItemError, Response> {
        SdkError::service_error(
            PutItemError::generic(ErrorMetadata::builder().code(code).message("m").build()),
            Response::new(StatusCode::try_from(400).unwrap(), SdkBody::empty()),
        )
    }

    #[test]
    fn refused_requests_are_rejected_and_the_rest_unavailable() {
        for code in REFUSED_CODES {
            assert!(
                matches!(store_error(service(code)), StoreError::Rejected(_)),
                "{code}"
            );
        }
        for code in [
            "ThrottlingException",
            "ProvisionedThroughputExceededException",
            "RequestLimitExceeded",
            "InternalServerError",
            "ServiceUnavailable",
        ] {
            assert!(
                matches!(store_error(service(code)), StoreError::Unavailable(_)),
                "{code}"
            );
        }
        let built: SdkError<PutItemError, Response> =
            SdkError::construction_failure(BuildError::missing_field("table_name", "required"));
        assert!(matches!(store_error(built), StoreError::Rejected(m) if m.contains("not built")));
        let timeout: SdkError<PutItemError, Response> =
            SdkError::timeout_error(std::io::Error::other("slow"));
        assert!(matches!(store_error(timeout), StoreError::Unavailable(_)));
        assert!(matches!(
            build_error(BuildError::missing_field("key", "required")),
            StoreError::Rejected(_)
        ));
    }

    #[test]
    fn a_cancellation_is_read_from_its_reasons() {
        let kind = |codes: &[&str]| cancellation_of(codes.iter().copied());
        assert_eq!(
            kind(&["ConditionalCheckFailed", "None"]),
            Cancelled::Condition
        );
        assert_eq!(kind(&["None", "TransactionConflict"]), Cancelled::Conflict);
        assert_eq!(
            kind(&["ConditionalCheckFailed", "TransactionConflict"]),
            Cancelled::Conflict
        );
        assert_eq!(kind(&["None", "ValidationError"]), Cancelled::Refused);
        assert_eq!(
            kind(&["ConditionalCheckFailed", "ValidationError"]),
            Cancelled::Refused
        );
        assert_eq!(kind(&["ThrottlingError", "None"]), Cancelled::Transient);
        assert_eq!(kind(&["None", "None"]), Cancelled::Transient);
    }
}
