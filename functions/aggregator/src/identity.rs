//! Identity: a message that names its person by more than one id (phone and business-scoped
//! id, a number change) links them (`shared::domain::identity`) and folds their leads into one;
//! the `link` action does the same for every message item.

use crate::handler::Aggregator;
use shared::domain::identity::{IdentityMap, Person};
use shared::ports::{
    IdentityStore, LeadActivity, LeadStore, LeadsError, PersonFactsStore, PersonHistory,
    RollupStore,
};
use std::collections::BTreeSet;

/// What the link command found or did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LinkOutcome {
    /// Message items read.
    pub messages: u64,
    /// People known by more than one id.
    pub people: u64,
    /// Links that were not recorded yet (written, or that a dry run would write).
    pub new_links: u64,
    /// Profiles folded into their person's lead.
    pub folded: u64,
    /// For a dry run: each person that would be linked, as `lead id <- other ids`.
    pub plan: Vec<String>,
}

impl<S, I, R, F, H> Aggregator<S, I, R, F, H>
where
    S: LeadStore + LeadActivity,
    I: IdentityStore,
    R: RollupStore,
    F: PersonFactsStore,
    H: PersonHistory,
{
    /// Links the ids one message names and folds the person's leads into one: for a message
    /// naming several ids, or an inbound message under an id that is not its person's lead id
    /// (a late message by phone from someone now known by business-scoped id). `sender` is
    /// the lead key of an inbound message, `None` for outbound.
    pub(crate) async fn link(
        &self,
        ids: BTreeSet<String>,
        sender: Option<&str>,
    ) -> Result<(), LeadsError> {
        let person = match (ids.len(), sender) {
            (2.., _) => self.identity.link(&ids).await?.0,
            (1, Some(id)) => self.identity.person(id).await?,
            _ => return Ok(()),
        };
        let stray = sender.is_some_and(|id| id != person.lead_id());
        // Not only when the link is new: a batch that died between the link and the merge is
        // retried with the link already recorded, and its merge must still happen. A merge
        // that is done costs one read per other id and writes nothing.
        if person.ids.len() > 1 && (stray || ids.len() > 1) {
            self.identity.merge(&person, stray).await?;
        }
        Ok(())
    }

    /// Links every person the message items name and folds split leads into one: for a table
    /// written before identity links existed (or after an outage longer than the stream's 24
    /// hours). Idempotent, so a crashed run is resumed by running it again (from
    /// `start_segment` to skip finished segments). A dry run writes nothing and lists what it
    /// would link.
    pub async fn link_all(
        &self,
        total_segments: i32,
        start_segment: i32,
        dry_run: bool,
    ) -> Result<LinkOutcome, String> {
        let mut outcome = LinkOutcome::default();
        // One entry per distinct id set (a person's every message names the same few).
        let mut sets: BTreeSet<Vec<String>> = BTreeSet::new();
        outcome.messages = self
            .each_page(start_segment, total_segments, async |messages| {
                sets.extend(
                    messages
                        .into_iter()
                        .filter(|m| m.ids.len() >= 2)
                        .map(|m| m.ids.into_iter().collect()),
                );
                Ok(())
            })
            .await?;
        let map = IdentityMap::from_sets(sets);
        let people: Vec<&[String]> = map.people().collect();
        outcome.people = people.len() as u64;
        for ids in people {
            let found = Person {
                ids: ids.iter().cloned().collect(),
            };
            let known = self
                .identity
                .person(found.lead_id())
                .await
                .map_err(|e| e.to_string())?;
            let new = !found.ids.is_subset(&known.ids);
            outcome.new_links += u64::from(new);
            if dry_run {
                if new {
                    let others: Vec<&str> = found.others().collect();
                    outcome
                        .plan
                        .push(format!("{} <- {}", found.lead_id(), others.join(", ")));
                }
                continue;
            }
            let (person, _) = self
                .identity
                .link(&found.ids)
                .await
                .map_err(|e| e.to_string())?;
            outcome.folded += self
                .identity
                .merge(&person, true)
                .await
                .map_err(|e| e.to_string())? as u64;
        }
        tracing::info!(
            messages = outcome.messages,
            people = outcome.people,
            new_links = outcome.new_links,
            folded = outcome.folded,
            dry_run,
            "identity links made whole"
        );
        Ok(outcome)
    }
}
