//! Owner assignment of the leads the webhook creates: the service step after the event
//! store's writes. The event store reports which lead writes created a lead that may need an
//! owner ([`ApplyReport::unowned_leads`]); the configured rules decide
//! (`domain::leads::assignment`: first matching rule, else round robin), and the
//! [`AssignmentStore`] port takes the round-robin ticket and commits owner, history and
//! ticket all or nothing. A lost race for a ticket is retried with a fresh one; an owner
//! already there ends it. The webhook and the replay both run it ([`AssigningEventStore`]),
//! so a replayed body assigns exactly as its first delivery would have.

use crate::domain::ingest::Write;
use crate::domain::leads::{Assignment, AssignmentInput, AssignmentRules};
use crate::domain::webhook::Inbound;
use crate::ports::{
    ApplyReport, AssignmentStore, Committed, EventStore, OwnerAssignment, StoreError,
};

/// Attempts at one lead's assignment when concurrent new leads race for the same ticket.
pub const ASSIGN_ATTEMPTS: usize = 25;

/// The rules and where their outcome is stored.
#[derive(Debug, Clone)]
pub struct OwnerAssigner<A> {
    rules: AssignmentRules,
    store: A,
}

impl<A: AssignmentStore> OwnerAssigner<A> {
    /// `None` when the rules assign nobody (no rule, no round-robin agent): leads stay
    /// unowned and nothing is asked of the stores.
    pub fn new(rules: AssignmentRules, store: A) -> Option<Self> {
        (!rules.rules().is_empty() || !rules.agents().is_empty()).then_some(Self { rules, store })
    }

    /// Gives the lead created by `msg` its owner: a matching rule's agent, or the next agent
    /// in round robin. Returns what was committed (`None`: the rules assign nobody). Concurrent
    /// deliveries of one lead assign it once, concurrent new leads get distinct tickets, and
    /// an interrupted assignment leaves nothing behind, so Meta's redelivery assigns the lead
    /// then.
    pub async fn assign(
        &self,
        msg: &Inbound<'_>,
        user_key: &str,
    ) -> Result<Option<Committed>, StoreError> {
        let by_rule = match self.rules.decide(&AssignmentInput::of_message(msg)) {
            Assignment::Rule { rule, owner } => Some((owner, format!("rule:{rule}"))),
            Assignment::Unassigned => return Ok(None),
            Assignment::RoundRobin => None,
        };
        for _ in 0..ASSIGN_ATTEMPTS {
            let (owner, reason, ticket) = match &by_rule {
                Some((owner, reason)) => (owner.as_str(), reason.as_str(), None),
                None => {
                    let ticket = self.store.round_robin_ticket().await?;
                    let Some(owner) = self.rules.round_robin_owner(ticket) else {
                        return Ok(None);
                    };
                    (owner, "round_robin", Some(ticket))
                }
            };
            let committed = self
                .store
                .commit(&OwnerAssignment {
                    lead_id: user_key,
                    owner,
                    reason,
                    // Assigned as the lead is created: at its first message's time.
                    at: msg.timestamp,
                    ticket,
                })
                .await?;
            match committed {
                Committed::Assigned | Committed::AlreadyOwned => return Ok(Some(committed)),
                Committed::Contended => continue,
            }
        }
        Err(StoreError::Unavailable(format!(
            "owner assignment: the round-robin counter stayed contended over {ASSIGN_ATTEMPTS} attempts"
        )))
    }

    /// Assigns the leads a store's apply reported (`report.unowned_leads`), in plan order.
    pub async fn assign_reported(
        &self,
        writes: &[Write<'_>],
        report: &ApplyReport,
    ) -> Result<(), StoreError> {
        for &i in &report.unowned_leads {
            if let Some(Write::Lead { msg, user_key, .. }) = writes.get(i) {
                self.assign(msg, user_key).await?;
            }
        }
        Ok(())
    }
}

/// The ingest's store step: the event store's writes, then the owner assignment of the leads
/// they created (when configured). An [`EventStore`] itself, so the ingest service and its
/// callers (webhook, replay) take it as they take any store.
#[derive(Debug, Clone)]
pub struct AssigningEventStore<S, A> {
    events: S,
    assigner: Option<OwnerAssigner<A>>,
}

impl<S: EventStore, A: AssignmentStore> AssigningEventStore<S, A> {
    /// `events` must report [`ApplyReport::unowned_leads`] when `assigner` is `Some`
    /// (`DynamoDbEventStore::reporting_unowned_leads`).
    pub fn new(events: S, assigner: Option<OwnerAssigner<A>>) -> Self {
        Self { events, assigner }
    }

    pub fn events(&self) -> &S {
        &self.events
    }
}

impl<S: EventStore, A: AssignmentStore> EventStore for AssigningEventStore<S, A> {
    /// An unavailable assignment store fails the call (the caller answers 5xx and the
    /// redelivery assigns: every write before it is idempotent).
    async fn apply(&self, writes: &[Write<'_>]) -> Result<ApplyReport, StoreError> {
        let report = self.events.apply(writes).await?;
        if let Some(assigner) = &self.assigner {
            assigner.assign_reported(writes, &report).await?;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::consent::ConsentKeywords;
    use crate::domain::ingest::plan;
    use crate::domain::webhook::parse;
    use crate::memory::assignment::{MemoryAssignmentStore, StoredOwner};
    use crate::memory::events::MemoryEventStore;

    const RULES: &str = r#"{"rules":[{"name":"spring","when":{"utm_campaign":"spring"},"assign_to":"sam"}],
        "round_robin":["ed","fay","gus"]}"#;

    /// A POST with one inbound text from each `(phone, wamid, at)`, the first with a
    /// `spring` referral when `spring`.
    fn body(messages: &[(&str, &str, i64)], spring: bool) -> String {
        let referral = r#","referral":{"source_url":"https://example.com/?utm_campaign=spring","source_id":"ad1","source_type":"ad","body":"b","headline":"h","media_type":"image"}"#;
        let msgs: Vec<String> = messages
            .iter()
            .enumerate()
            .map(|(i, (phone, wamid, at))| {
                let r = if spring && i == 0 { referral } else { "" };
                format!(
                    r#"{{"from":"{phone}","id":"{wamid}","timestamp":"{at}","type":"text","text":{{"body":"hello"}}{r}}}"#
                )
            })
            .collect();
        let contacts: Vec<String> = messages
            .iter()
            .map(|(phone, _, _)| format!(r#"{{"profile":{{"name":"P"}},"wa_id":"{phone}"}}"#))
            .collect();
        format!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1001","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550001","phone_number_id":"2002"}},"contacts":[{}],"messages":[{}]}}}}]}}]}}"#,
            contacts.join(","),
            msgs.join(",")
        )
    }

    fn stores() -> (
        AssigningEventStore<MemoryEventStore, MemoryAssignmentStore>,
        MemoryAssignmentStore,
    ) {
        let owners = MemoryAssignmentStore::new();
        let rules = AssignmentRules::from_json(RULES).unwrap();
        let assigner = OwnerAssigner::new(rules, owners.clone());
        assert!(assigner.is_some());
        (
            AssigningEventStore::new(MemoryEventStore::new(), assigner),
            owners,
        )
    }

    async fn ingest<S: EventStore>(store: &S, body: &str) -> Result<ApplyReport, StoreError> {
        let batch = parse(body.as_bytes()).expect("a webhook body");
        let plan = plan(&batch, &ConsentKeywords::default());
        store.apply(&plan.writes).await
    }

    fn owner(owners: &MemoryAssignmentStore, lead: &str) -> Option<(String, String)> {
        owners
            .owners()
            .get(lead)
            .map(|o| (o.owner.clone(), o.reason.clone()))
    }

    #[tokio::test]
    async fn a_rule_assigns_without_a_ticket_and_round_robin_takes_turns() {
        let (store, owners) = stores();
        let post = body(
            &[
                ("5511900000001", "w1", 100),
                ("5511900000002", "w2", 101),
                ("5511900000003", "w3", 102),
                ("5511900000004", "w4", 103),
            ],
            true,
        );
        ingest(&store, &post).await.unwrap();
        assert_eq!(
            owner(&owners, "5511900000001"),
            Some(("sam".into(), "rule:spring".into()))
        );
        // In plan order: ed, fay, gus.
        let turns: Vec<_> = ["5511900000002", "5511900000003", "5511900000004"]
            .iter()
            .map(|l| owner(&owners, l).unwrap().0)
            .collect();
        assert_eq!(turns, ["ed", "fay", "gus"]);
        assert_eq!(owners.next_ticket(), 3, "one ticket per round-robin lead");
        assert_eq!(
            owners.history()["5511900000002"],
            StoredOwner {
                owner: "ed".into(),
                reason: "round_robin".into(),
                at: 101
            },
            "history at the creating message's time"
        );
    }

    #[tokio::test]
    async fn a_redelivery_assigns_once_and_a_later_message_assigns_nothing() {
        let (store, owners) = stores();
        let post = body(&[("6281200000001", "w1", 100)], false);
        ingest(&store, &post).await.unwrap();
        let (first, ticket) = (owners.owners(), owners.next_ticket());
        ingest(&store, &post).await.unwrap();
        ingest(&store, &body(&[("6281200000001", "w2", 200)], false))
            .await
            .unwrap();
        assert_eq!(owners.owners(), first);
        assert_eq!(owners.next_ticket(), ticket, "no ticket spent again");
    }

    #[tokio::test]
    async fn an_interrupted_assignment_is_done_by_the_redelivery() {
        let (store, owners) = stores();
        let post = body(&[("6281200000001", "w1", 100)], false);
        owners.set_unavailable(true);
        assert!(matches!(
            ingest(&store, &post).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(owners.owners().is_empty());
        owners.set_unavailable(false);
        ingest(&store, &post).await.unwrap();
        assert_eq!(
            owner(&owners, "6281200000001"),
            Some(("ed".into(), "round_robin".into()))
        );
    }

    #[tokio::test]
    async fn an_owned_lead_keeps_its_owner_and_spends_no_ticket() {
        let (store, owners) = stores();
        owners.set_owner("6281200000001", "manager-anna");
        ingest(&store, &body(&[("6281200000001", "w1", 100)], false))
            .await
            .unwrap();
        assert_eq!(
            owner(&owners, "6281200000001"),
            Some(("manager-anna".into(), "manager".into()))
        );
        assert_eq!(owners.next_ticket(), 0);
    }

    #[tokio::test]
    async fn contention_is_retried_up_to_a_bound() {
        let (store, owners) = stores();
        owners.contend(ASSIGN_ATTEMPTS - 1);
        ingest(&store, &body(&[("6281200000001", "w1", 100)], false))
            .await
            .unwrap();
        assert_eq!(owner(&owners, "6281200000001").unwrap().0, "ed");
        owners.contend(ASSIGN_ATTEMPTS);
        let err = ingest(&store, &body(&[("6281200000002", "w2", 100)], false))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("stayed contended"), "{err}");
    }

    #[test]
    fn rules_that_assign_nobody_need_no_assigner() {
        let none = AssignmentRules::from_json(r#"{"rules":[],"round_robin":[]}"#).unwrap();
        assert!(OwnerAssigner::new(none, MemoryAssignmentStore::new()).is_none());
    }
}
