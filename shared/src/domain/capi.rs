//! Forwarding conversions to Meta's Conversions API for business messaging, as rules: which
//! of our conversion types Meta knows, the event Meta receives, the states a conversion's
//! forwarding goes through, and what a failure is called on the conversion (a short code,
//! never an internal message).
//!
//! The states (`forwarded` on the conversion item):
//! - `not_configured`: forwarding is off;
//! - `pending`: recorded, waiting for the `conversions` function (table stream);
//! - `sent`: Meta accepted the event;
//! - `failed`: Meta refused it, or was unreachable after retries (`forward_error` says which);
//!   sending the same conversion again (same idempotency key and body) makes it `pending`;
//! - `no_ctwa_clid`: the lead came with no click-to-WhatsApp click id: nothing to attribute;
//! - `unsupported_type`: Meta has no business-messaging event for the type (`other`).

use serde_json::{Value, json};

/// Our conversion types as Meta's business-messaging event names; `other` has none.
pub fn capi_event_name(kind: &str) -> Option<&'static str> {
    match kind {
        "purchase" | "payment_confirmed" => Some("Purchase"),
        "lead_submitted" => Some("LeadSubmitted"),
        "booking" => Some("OrderCreated"),
        _ => None,
    }
}

/// Where a conversion's forwarding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardState {
    NotConfigured,
    Pending,
    Sent,
    Failed,
    NoCtwaClid,
    UnsupportedType,
}

impl ForwardState {
    pub fn as_str(self) -> &'static str {
        match self {
            ForwardState::NotConfigured => "not_configured",
            ForwardState::Pending => "pending",
            ForwardState::Sent => "sent",
            ForwardState::Failed => "failed",
            ForwardState::NoCtwaClid => "no_ctwa_clid",
            ForwardState::UnsupportedType => "unsupported_type",
        }
    }

    /// The state a new conversion is recorded in.
    pub fn initial(forwarding_on: bool) -> ForwardState {
        if forwarding_on {
            ForwardState::Pending
        } else {
            ForwardState::NotConfigured
        }
    }
}

/// One conversion as the forwarder reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingConversion {
    /// The lead id the conversion was recorded under.
    pub lead_id: String,
    pub idempotency_key: String,
    /// `<lead id>:<idempotency key>`: Meta's `event_id` (Meta deduplicates on it).
    pub conversion_id: String,
    pub kind: String,
    /// Epoch seconds.
    pub at: i64,
    pub value: Option<f64>,
    pub currency: Option<String>,
}

impl PendingConversion {
    /// A conversion item (its attributes by name, as a stream image gives them) that waits
    /// to be forwarded: `USER#<lead>` / `CONV#<key>` with `forwarded` = `pending`.
    pub fn of_item(attr: impl Fn(&str) -> Option<String>) -> Option<PendingConversion> {
        let lead_id = crate::keys::user_of(&attr("pk")?)?.to_string();
        let idempotency_key = crate::keys::conversion_key_of(&attr("sk")?)?.to_string();
        if attr("forwarded").as_deref() != Some(ForwardState::Pending.as_str()) {
            return None;
        }
        Some(PendingConversion {
            conversion_id: attr("conversion_id")
                .unwrap_or_else(|| format!("{lead_id}:{idempotency_key}")),
            kind: attr("conversion_type")?,
            at: attr("at")?.parse().ok()?,
            value: attr("conversion_value").and_then(|v| v.parse().ok()),
            currency: attr("currency"),
            lead_id,
            idempotency_key,
        })
    }
}

/// What forwarding one conversion needs from its lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    pub ctwa_clid: Option<String>,
    pub waba_id: Option<String>,
}

/// The event to send, or the state to record without sending.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Send(Value),
    Skip(ForwardState),
}

/// What to do with a pending conversion of a lead known as `attribution` (`None`: the lead
/// is gone).
pub fn plan(c: &PendingConversion, attribution: Option<&Attribution>) -> Plan {
    let Some(event_name) = capi_event_name(&c.kind) else {
        return Plan::Skip(ForwardState::UnsupportedType);
    };
    let Some(Attribution {
        ctwa_clid: Some(clid),
        waba_id: Some(waba),
    }) = attribution
    else {
        return Plan::Skip(ForwardState::NoCtwaClid);
    };
    let mut event = json!({
        "event_name": event_name,
        "event_time": c.at,
        "event_id": c.conversion_id,
        "action_source": "business_messaging",
        "messaging_channel": "whatsapp",
        "user_data": {"whatsapp_business_account_id": waba, "ctwa_clid": clid},
    });
    if let (Some(v), Some(cur)) = (c.value, &c.currency) {
        event["custom_data"] = json!({"value": v, "currency": cur});
    }
    Plan::Send(event)
}

/// Why a send failed, as stored in `forward_error`: `meta_refused:<code>` (Meta answered
/// with an error: fix the data or the dataset), `meta_auth` (the token), `meta_unavailable`
/// (throttled or down after retries: send again later).
pub fn failure_code(kind: SendFailure) -> String {
    match kind {
        SendFailure::Refused(Some(code)) => format!("meta_refused:{code}"),
        SendFailure::Refused(None) => "meta_refused".to_string(),
        SendFailure::Auth => "meta_auth".to_string(),
        SendFailure::Unavailable => "meta_unavailable".to_string(),
    }
}

/// The classes of a failed send (`crate::ports::ConversionSink`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFailure {
    /// Meta answered with an error (its code, when it gave one).
    Refused(Option<i64>),
    /// The access token was refused.
    Auth,
    /// Throttled, 5xx or unreachable after the client's retries.
    Unavailable,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversion(kind: &str) -> PendingConversion {
        PendingConversion {
            lead_id: "5511".into(),
            idempotency_key: "k".into(),
            conversion_id: "5511:k".into(),
            kind: kind.into(),
            at: 1_795_171_200,
            value: Some(99.5),
            currency: Some("BRL".into()),
        }
    }

    #[test]
    fn plans_follow_type_and_click_id() {
        let attributed = Attribution {
            ctwa_clid: Some("clid".into()),
            waba_id: Some("w".into()),
        };
        let Plan::Send(e) = plan(&conversion("purchase"), Some(&attributed)) else {
            panic!("a purchase with a click id is sent")
        };
        assert_eq!(e["event_name"], "Purchase");
        assert_eq!(e["event_id"], "5511:k");
        assert_eq!(e["user_data"]["ctwa_clid"], "clid");
        assert_eq!(e["custom_data"]["currency"], "BRL");
        assert_eq!(
            plan(&conversion("other"), Some(&attributed)),
            Plan::Skip(ForwardState::UnsupportedType)
        );
        let organic = Attribution {
            ctwa_clid: None,
            waba_id: Some("w".into()),
        };
        assert_eq!(
            plan(&conversion("booking"), Some(&organic)),
            Plan::Skip(ForwardState::NoCtwaClid)
        );
        assert_eq!(
            plan(&conversion("booking"), None),
            Plan::Skip(ForwardState::NoCtwaClid)
        );
        assert_eq!(
            failure_code(SendFailure::Refused(Some(100))),
            "meta_refused:100"
        );
        let item = |forwarded: &'static str| {
            move |k: &str| {
                match k {
                    "pk" => Some("USER#5511"),
                    "sk" => Some("CONV#k"),
                    "forwarded" => Some(forwarded),
                    "conversion_id" => Some("5511:k"),
                    "conversion_type" => Some("purchase"),
                    "at" => Some("1795171200"),
                    "conversion_value" => Some("99.5"),
                    "currency" => Some("BRL"),
                    _ => None,
                }
                .map(str::to_string)
            }
        };
        assert_eq!(
            PendingConversion::of_item(item("pending")),
            Some(conversion("purchase"))
        );
        assert_eq!(PendingConversion::of_item(item("sent")), None);
        assert_eq!(ForwardState::initial(true).as_str(), "pending");
        assert_eq!(ForwardState::initial(false).as_str(), "not_configured");
    }
}
