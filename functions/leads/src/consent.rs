//! `POST /v1/consent`: an opt-in or opt-out recorded for a person on a business number.

use chrono::{DateTime, Utc};
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde_json::json;
use shared::domain::access::Caller;
use shared::domain::consent::ConsentSource;
use shared::domain::leads::ConsentRecord;

use crate::handler::{
    Leads, Resp, error, from_leads_error, json_body, json_response, parse_time, valid_id,
};
use shared::ports::{ImportFiles, LeadStore};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentBody {
    user: String,
    phone_number_id: String,
    action: String,
    categories: Vec<String>,
    source: String,
    #[serde(default)]
    proof: Option<String>,
    #[serde(default)]
    at: Option<String>,
}

impl<S: LeadStore, F: ImportFiles> Leads<S, F> {
    pub(crate) async fn consent(&self, req: &Request, caller: &Caller, now: DateTime<Utc>) -> Resp {
        let actor = caller.name.as_str();
        let body: ConsentBody = match json_body(req) {
            Ok(b) => b,
            Err(r) => return *r,
        };
        let invalid = |m: String| error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_consent", m);
        if !valid_id(&body.user) || !valid_id(&body.phone_number_id) {
            return invalid("user and phone_number_id are ids (letters, digits, . _ : -)".into());
        }
        if let Some(r) = self
            .foreign_number(&body.phone_number_id, &caller.access)
            .await
        {
            return r;
        }
        if !matches!(body.action.as_str(), "opt_in" | "opt_out") {
            return invalid(format!(
                "action {:?}: expected opt_in or opt_out",
                body.action
            ));
        }
        let mut categories = body.categories.clone();
        categories.sort();
        categories.dedup();
        if categories.is_empty()
            || categories.len() != body.categories.len()
            || categories
                .iter()
                .any(|c| c != "marketing" && c != "utility")
        {
            return invalid("categories: one or both of marketing, utility, each once".into());
        }
        let Some(source) = ConsentSource::parse_in(&body.source, &ConsentSource::RECORDABLE) else {
            return invalid(format!(
                "source {:?}: expected one of {}",
                body.source,
                ConsentSource::list(&ConsentSource::RECORDABLE)
            ));
        };
        let proof = body.proof.filter(|p| !p.trim().is_empty());
        if body.action == "opt_in" && proof.is_none() {
            return invalid("an opt-in needs its proof (the text the user agreed to, the form, the QR campaign)".into());
        }
        if proof.as_ref().is_some_and(|p| p.chars().count() > 2000) {
            return invalid("proof is at most 2000 characters".into());
        }
        let at = match parse_time("at", body.at.as_deref(), now) {
            Ok(t) => t,
            Err(r) => return *r,
        };
        let record = ConsentRecord {
            user: body.user,
            phone_number_id: body.phone_number_id,
            action: body.action,
            categories,
            source: source.as_str().to_string(),
            proof,
            at,
            recorded_by: actor.to_string(),
            via: "api",
        };
        match self.store.record_consent(&record).await {
            Ok((event, state)) => json_response(
                StatusCode::CREATED,
                &json!({"event": event, "state": state}),
            ),
            Err(e) => from_leads_error(e),
        }
    }
}
