//! Consent through the leads API: recording it (event + per-category state) and what the
//! consent check reads, for every id of the person.

use super::*;
use crate::adapters::dynamodb::consent::{
    ConsentEventBase, ConsentStateChange, consent_event_item, send_state_change,
};
use crate::ports::ConsentFacts;

impl DynamoDbLeadStore {
    /// What the consent check needs about a user on a number: the current consent for the
    /// category, the last inbound message and the latest Click-to-WhatsApp referral.
    pub async fn consent_facts(
        &self,
        user: &str,
        phone_number_id: &str,
        category: &str,
    ) -> Result<ConsentFacts, LeadsError> {
        // Consent follows the person: every id of theirs is consulted, but only the items
        // the answer rests on, by key (each id's profile and its state for this number and
        // category: one BatchGetItem, whatever the history), never whole partitions.
        let person = self.identity.person(user).await?;
        let state_sk = consent_state_sk(phone_number_id, category);
        let keys = person
            .ids
            .iter()
            .flat_map(|id| [item_key(id, PROFILE_SK), item_key(id, &state_sk)])
            .collect();
        let items = batch_get(&self.client, &self.table, keys, true).await?;
        let profiles: Vec<&Attrs> = items
            .iter()
            .filter(|i| text(i, "sk").as_deref() == Some(PROFILE_SK))
            .collect();
        let view = person_consent_states(&items)
            .into_iter()
            .find(|v| v.phone_number_id == phone_number_id && v.category == category);
        let consent = view.as_ref().map_or(ConsentStatus::Unknown, |v| {
            let (since, source) = (v.since, v.source.clone());
            match v.consent.as_str() {
                "opt_in" => ConsentStatus::OptedIn { since, source },
                "opt_out" => ConsentStatus::OptedOut { since, source },
                _ => ConsentStatus::Unknown,
            }
        });
        let last_inbound = profiles
            .iter()
            .filter_map(|p| time(p, "last_inbound_at"))
            .max();
        // The business's first message after the ad click is the reply that opens (or not) the
        // free-entry-point window.
        let entry_point = profiles
            .iter()
            .filter_map(|p| time(p, "last_referral_at"))
            .max()
            .map(|referral_at| EntryPoint {
                referral_at,
                first_reply_at: None,
            });
        let entry_point = match entry_point {
            Some(mut e) => {
                e.first_reply_at = self.first_reply(&person, e.referral_at).await?;
                Some(e)
            }
            None => None,
        };
        Ok(ConsentFacts {
            consent,
            state: view,
            last_inbound_at: last_inbound,
            entry_point,
        })
    }

    /// The person's first outbound message at or after `from` (the reply to an ad click):
    /// one `Limit 1` read of the per-person index for each of their ids. Read only for a
    /// person with a referral.
    async fn first_reply(
        &self,
        person: &Person,
        from: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, LeadsError> {
        let mut first: Option<i64> = None;
        for id in &person.ids {
            let found = self
                .series(id, LeadSeries::Outbound, Some(from.timestamp()), 1)
                .await?;
            if let Some(at) = found.first().and_then(|i| int(i, "at")) {
                first = Some(first.map_or(at, |f| f.min(at)));
            }
        }
        Ok(first.and_then(|t| DateTime::from_timestamp(t, 0)))
    }

    /// Records an opt-in or opt-out: an append-only event (its id is a hash of its content,
    /// so a retried request records once) and, per category, the current state, which only
    /// moves forward in time.
    pub async fn record_consent(
        &self,
        rec: &ConsentRecord,
    ) -> Result<(ConsentEventView, Vec<ConsentStateView>), LeadsError> {
        let id = rec.event_id();
        let at = rec.at.timestamp();
        let action = if rec.action == "opt_out" {
            ConsentAction::OptOut
        } else {
            ConsentAction::OptIn
        };
        let mut event = consent_event_item(&ConsentEventBase {
            user_key: &rec.user,
            phone_number_id: &rec.phone_number_id,
            action,
            source: &rec.source,
            id: &id,
            at,
            categories: rec.categories.clone(),
        });
        event.insert("recorded_by".into(), s(rec.recorded_by.as_str()));
        event.insert("recorded_via".into(), s(rec.via));
        if let Some(p) = &rec.proof {
            event.insert("proof".into(), s(p.as_str()));
        }
        self.put_once(event).await?;
        for category in &rec.categories {
            send_state_change(
                &self.client,
                &self.table,
                &ConsentStateChange {
                    user_key: &rec.user,
                    phone_number_id: &rec.phone_number_id,
                    category,
                    action,
                    source: &rec.source,
                    event_id: &id,
                    at,
                },
            )
            .await?;
        }
        let states = self
            .all_with_prefix(&rec.user, &consent_states_of(&rec.phone_number_id))
            .await?
            .iter()
            .map(consent_state_from_item)
            .collect();
        Ok((
            ConsentEventView {
                consent: rec.action.clone(),
                categories: rec.categories.clone(),
                source: rec.source.clone(),
                phone_number_id: rec.phone_number_id.clone(),
                at: DateTime::from_timestamp(at, 0).unwrap_or_default(),
                keyword: None,
                proof: rec.proof.clone(),
                recorded_by: Some(rec.recorded_by.clone()),
            },
            states,
        ))
    }
}

/// The person's current consent per number and category: states may be stored under
/// several of their ids; the most recent wins, and an opt-out wins a same-second tie.
pub(super) fn person_consent_states(items: &[Attrs]) -> Vec<ConsentStateView> {
    let mut best: BTreeMap<(String, String), &Attrs> = BTreeMap::new();
    for item in items {
        if !text(item, "sk").is_some_and(|sk| sk.starts_with(CONSENT_STATE_PREFIX)) {
            continue;
        }
        let place = (
            text(item, "phone_number_id").unwrap_or_default(),
            text(item, "category").unwrap_or_default(),
        );
        let replaces = match best.get(&place) {
            None => true,
            Some(current) => match (state_of(item), state_of(current)) {
                (Some((at, action)), current) => consent_supersedes(at, action, current),
                (None, _) => false,
            },
        };
        if replaces {
            best.insert(place, item);
        }
    }
    best.into_values().map(consent_state_from_item).collect()
}

fn state_of(item: &Attrs) -> Option<(i64, ConsentAction)> {
    let action = match text(item, "consent")?.as_str() {
        "opt_out" => ConsentAction::OptOut,
        "opt_in" => ConsentAction::OptIn,
        _ => return None,
    };
    Some((int(item, "changed_at")?, action))
}

pub(super) fn consent_state_from_item(i: &Attrs) -> ConsentStateView {
    ConsentStateView {
        phone_number_id: text(i, "phone_number_id").unwrap_or_default(),
        category: text(i, "category").unwrap_or_default(),
        consent: text(i, "consent").unwrap_or_default(),
        source: text(i, "source").unwrap_or_default(),
        since: time(i, "changed_at").unwrap_or_default(),
    }
}
