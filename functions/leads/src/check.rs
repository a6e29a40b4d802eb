//! `GET /v1/consent/check`: may this message be sent now, and what will it cost.

use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use serde_json::{Value, json};
use shared::domain::access::Access;
use shared::domain::consent_check::{CheckInput, MessageCategory, check};

use crate::handler::{Leads, Resp, error, from_leads_error, json_response, valid_id};
use shared::ports::{ImportFiles, LeadStore};

impl<S: LeadStore, F: ImportFiles> Leads<S, F> {
    pub(crate) async fn consent_check(
        &self,
        query: &[(String, String)],
        access: &Access,
        now: DateTime<Utc>,
    ) -> Resp {
        let mut user = None;
        let mut number = None;
        let mut category = None;
        let mut at = None;
        for (k, v) in query {
            let slot = match k.as_str() {
                "user" => &mut user,
                "phone_number_id" => &mut number,
                "category" => &mut category,
                "at" => &mut at,
                other => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "unknown_parameter",
                        format!("unknown parameter {other:?}"),
                    );
                }
            };
            if slot.replace(v.clone()).is_some() {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_parameter",
                    format!("{k} given twice"),
                );
            }
        }
        let (Some(user), Some(number), Some(category)) = (user, number, category) else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                "user, phone_number_id and category are required",
            );
        };
        if !valid_id(&user) || !valid_id(&number) {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                "invalid user or phone_number_id",
            );
        }
        if let Some(r) = self.foreign_number(&number, access).await {
            return r;
        }
        let category: MessageCategory = match category.parse() {
            Ok(c) => c,
            Err(e) => return error(StatusCode::BAD_REQUEST, "invalid_parameter", format!("{e}")),
        };
        let now = match at.map(|a| DateTime::parse_from_rfc3339(&a)) {
            None => now,
            Some(Ok(t)) => t.with_timezone(&Utc),
            Some(Err(e)) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_parameter",
                    format!("at: {e}"),
                );
            }
        };
        // Consent is recorded per category; service replies have none of their own.
        let consent_category = match category {
            MessageCategory::Marketing => "marketing",
            _ => "utility",
        };
        let facts = match self
            .store
            .consent_facts(&user, &number, consent_category)
            .await
        {
            Ok(f) => f,
            Err(e) => return from_leads_error(e),
        };
        let decision = check(&CheckInput {
            category,
            consent: facts.consent,
            last_inbound_at: facts.last_inbound_at,
            entry_point: facts.entry_point,
            now,
        });
        let mut body = json!(decision);
        // The API's shape: `pricing.free_because` (null unless free) and the consent state
        // the answer rests on.
        let why = body["pricing"]
            .as_object_mut()
            .and_then(|p| p.remove("why"))
            .unwrap_or(Value::Null);
        body["pricing"]["free_because"] = why;
        body["consent"] = match category {
            MessageCategory::Marketing | MessageCategory::Utility => json!(facts.state),
            _ => Value::Null,
        };
        json_response(StatusCode::OK, &body)
    }
}
