//! `/v1/leads` and `/v1/leads/{id}`: list, show and update leads.

use chrono::{DateTime, Utc};
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde_json::json;
use shared::domain::access::Access;
use shared::domain::leads::LeadPatch;
use shared::domain::leads::{LeadFilter, check_custom_fields, check_tags};

use crate::handler::{
    Leads, Resp, error, filter_error, from_leads_error, json_body, json_response, not_found,
};
use shared::ports::{ImportFiles, LeadStore};

impl<S: LeadStore, F: ImportFiles> Leads<S, F> {
    pub(crate) async fn list(
        &self,
        query: &[(String, String)],
        access: &Access,
        now: DateTime<Utc>,
    ) -> Resp {
        let filter = match LeadFilter::from_query(query) {
            Ok(f) => LeadFilter {
                access: access.clone(),
                ..f
            },
            Err(e) => return filter_error(&e),
        };
        if let Err(e) = filter.check_stage(&self.config.lifecycle) {
            return filter_error(&e);
        }
        match self.store.list(&filter, now).await {
            Ok((leads, next)) => json_response(
                StatusCode::OK,
                &json!({"leads": leads, "next_cursor": next}),
            ),
            Err(e) => from_leads_error(e),
        }
    }

    /// `GET /v1/leads/{id}`: the lead and its timeline (404 when the caller may not see it).
    pub(crate) async fn show(&self, id: &str, access: &Access) -> Resp {
        match self.store.get(id).await {
            Ok((lead, _)) if !lead.visible_to(access) => not_found(id),
            Ok((lead, timeline)) => {
                json_response(StatusCode::OK, &json!({"lead": lead, "timeline": timeline}))
            }
            Err(e) => from_leads_error(e),
        }
    }

    pub(crate) async fn update(
        &self,
        id: &str,
        req: &Request,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Resp {
        let patch: LeadPatch = match json_body(req) {
            Ok(p) => p,
            Err(r) => return *r,
        };
        if patch.stage.is_none()
            && patch.owner.is_none()
            && patch.tags.is_none()
            && patch.custom_fields.is_none()
        {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "nothing_to_change",
                "name at least one of stage, owner, tags, custom_fields",
            );
        }
        if let Some(Some(owner)) = &patch.owner
            && (owner.trim().is_empty() || owner.eq_ignore_ascii_case("none") || owner.len() > 128)
        {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_owner",
                "owner is 1 to 128 characters and not \"none\" (use null to unassign)",
            );
        }
        if let Some(Err(m)) = patch
            .tags
            .as_ref()
            .map(|t| check_tags(&shared::domain::leads::normalize_tags(t)))
        {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", m);
        }
        if let Some(Err(m)) = patch.custom_fields.as_ref().map(check_custom_fields) {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", m);
        }
        match self
            .store
            .update(id, &patch, actor, &self.config.lifecycle, now)
            .await
        {
            Ok(lead) => json_response(StatusCode::OK, &json!({"lead": lead})),
            Err(e) => from_leads_error(e),
        }
    }
}
