//! `POST /v1/leads/{id}/conversions`: a conversion recorded once per idempotency key, then
//! forwarded to Meta off the request path when configured.

use chrono::{DateTime, Utc};
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde_json::json;
use shared::domain::capi::ForwardState;
use shared::domain::leads::Conversion;

use crate::handler::{Leads, Resp, error, from_leads_error, json_body, json_response, parse_time};
use shared::ports::{ImportFiles, LeadStore};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConversionBody {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    value: Option<f64>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    idempotency_key: Option<String>,
}

/// The largest conversion value accepted.
const MAX_VALUE: f64 = 1e12;

const CONVERSION_TYPES: [&str; 5] = [
    "purchase",
    "booking",
    "lead_submitted",
    "payment_confirmed",
    "other",
];

impl<S: LeadStore, F: ImportFiles> Leads<S, F> {
    pub(crate) async fn conversion(
        &self,
        lead_id: &str,
        req: &Request,
        now: DateTime<Utc>,
    ) -> Resp {
        let body: ConversionBody = match json_body(req) {
            Ok(b) => b,
            Err(r) => return *r,
        };
        let invalid = |m: String| error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_conversion", m);
        let header_key = req
            .headers()
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let key = match (header_key, body.idempotency_key) {
            (Some(h), Some(b)) if h != b => {
                return invalid("the Idempotency-Key header and idempotency_key differ".into());
            }
            (Some(k), _) | (None, Some(k)) => k,
            (None, None) => {
                return invalid(
                    "an idempotency key is required (Idempotency-Key header or idempotency_key)"
                        .into(),
                );
            }
        };
        if key.is_empty() || key.len() > 128 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return invalid("the idempotency key is 1 to 128 printable ASCII characters".into());
        }
        if !CONVERSION_TYPES.contains(&body.kind.as_str()) {
            return invalid(format!(
                "type {:?}: expected one of {}",
                body.kind,
                CONVERSION_TYPES.join(", ")
            ));
        }
        if body
            .value
            .is_some_and(|v| !v.is_finite() || !(0.0..=MAX_VALUE).contains(&v))
        {
            return invalid(format!("value is a number from 0 to {MAX_VALUE}"));
        }
        // Six decimals: every amount in any currency, and always a number DynamoDB stores.
        let value = body.value.map(|v| (v * 1e6).round() / 1e6);
        if let Some(c) = &body.currency
            && !(c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return invalid(format!(
                "currency {c:?} is not an ISO 4217 code such as USD"
            ));
        }
        if body.value.is_some() && body.currency.is_none() {
            return invalid("a value needs its currency".into());
        }
        let at = match parse_time("at", body.at.as_deref(), now) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        // The request as sent: a retry that leaves `at` out is the same request later.
        let fingerprint = format!(
            "{}|{}|{}|{}",
            body.kind,
            body.value.map_or(String::new(), |v| v.to_string()),
            body.currency.as_deref().unwrap_or(""),
            body.at
                .as_deref()
                .map_or(String::new(), |_| at.timestamp().to_string())
        );
        let conversion = Conversion {
            conversion_id: format!("{lead_id}:{key}"),
            kind: body.kind,
            value,
            currency: body.currency,
            at,
            idempotency_key: key,
            recorded_at: now,
            forwarded: ForwardState::initial(self.config.forward_conversions)
                .as_str()
                .into(),
            forward_error: None,
        };
        match self
            .store
            .record_conversion(lead_id, &conversion, &fingerprint)
            .await
        {
            // Sending a conversion that failed to forward again is how it is retried.
            Ok((mut c, true)) if c.forwarded == ForwardState::Failed.as_str() => {
                match self
                    .store
                    .transition_forward(
                        lead_id,
                        &c.idempotency_key,
                        ForwardState::Failed,
                        ForwardState::Pending,
                        None,
                    )
                    .await
                {
                    Ok(_) => {
                        c.forwarded = ForwardState::Pending.as_str().into();
                        c.forward_error = None;
                        json_response(StatusCode::OK, &json!({"conversion": c, "replayed": true}))
                    }
                    Err(e) => from_leads_error(e),
                }
            }
            Ok((c, replayed)) => json_response(
                if replayed {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                },
                &json!({"conversion": c, "replayed": replayed}),
            ),
            Err(e) => from_leads_error(e),
        }
    }
}
