//! Owner assignment of the leads the webhook creates: the configured rules decide, the
//! round-robin ticket comes from one counter item, and owner, history and ticket are written
//! in one transaction.

use super::history::{HistoryEntry, Version, history_item};
use super::*;
use crate::domain::attribution::utm_of;
use crate::domain::webhook::Inbound;
use crate::keys::{ASSIGNMENT_COUNTER, PROFILE_SK, user_pk};

/// Attempts at one lead's assignment when concurrent new leads race for the same ticket.
const ASSIGN_ATTEMPTS: usize = 25;

impl<R: RawStore> DynamoDbEventStore<R> {
    /// Gives a lead its owner: a matching rule's agent, or the next agent in round robin. The
    /// owner, its history item and (round robin) the counter's move to the next ticket commit
    /// in one transaction, conditioned on the lead having no owner yet and the counter still
    /// holding the ticket taken: a ticket is spent exactly when a lead gets it, concurrent
    /// deliveries of one lead assign it once, concurrent new leads get distinct tickets (a lost
    /// race on the counter is retried), and a crash at any point leaves either all of it or
    /// none of it, so Meta's redelivery assigns the lead then.
    pub(super) async fn assign(
        &self,
        rules: &AssignmentRules,
        msg: &Inbound<'_>,
        user_key: &str,
    ) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
        let utm = msg.referral.as_ref().map(utm_of);
        let input = AssignmentInput {
            utm_campaign: utm.and_then(|u| u.campaign),
            source_id: msg
                .referral
                .as_ref()
                .and_then(|r| r.source_id.as_deref())
                .map(str::to_string),
            // Webhooks carry no user language: the phone's country stands in for it.
            language: msg
                .phone()
                .and_then(crate::domain::attribution::language_of_phone)
                .map(str::to_string),
            phone: msg.phone().map(str::to_string),
        };
        let by_rule = match rules.decide(&input) {
            Assignment::Rule { rule, owner } => Some((owner, format!("rule:{rule}"))),
            Assignment::Unassigned => return Ok(()),
            Assignment::RoundRobin => None,
        };
        // Assigned as the lead is created: at its first message's time (Meta's clock), so
        // history sorts with the lead's other events whatever the delivery delay.
        let now = msg.timestamp;
        let unavailable =
            |e: &dyn std::fmt::Display| StoreError::Unavailable(format!("owner assignment: {e}"));
        for _ in 0..ASSIGN_ATTEMPTS {
            let (owner, reason, ticket) = match &by_rule {
                Some((owner, reason)) => (owner.clone(), reason.clone(), None),
                None => {
                    let ticket = self.round_robin_ticket().await?;
                    let Some(owner) = rules.round_robin_owner(ticket) else {
                        return Ok(());
                    };
                    (owner.to_string(), "round_robin".to_string(), Some(ticket))
                }
            };
            let set_owner = Update::builder()
                .table_name(&self.table)
                .key("pk", s(user_pk(user_key)))
                .key("sk", s(PROFILE_SK))
                .update_expression("SET #owner = :owner, owner_reason = :reason, owner_at = :at")
                .condition_expression(
                    "attribute_exists(pk) AND attribute_not_exists(#owner) AND attribute_not_exists(owner_reason)",
                )
                .expression_attribute_names("#owner", "owner")
                .expression_attribute_values(":owner", s(owner.as_str()))
                .expression_attribute_values(":reason", s(reason.as_str()))
                .expression_attribute_values(":at", Av::N(now.to_string()))
                .build()
                .map_err(|e| unavailable(&e))?;
            let history = history_item(HistoryEntry {
                lead_id: user_key,
                at: now,
                change: "owner",
                version: Version::Assignment,
                by: "assignment",
                reason: reason.as_str(),
                from: None,
                to: Some(owner.as_str()),
            });
            let history = Put::builder()
                .table_name(&self.table)
                .set_item(Some(history))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(|e| unavailable(&e))?;
            let mut tx = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().update(set_owner).build())
                .transact_items(TransactWriteItem::builder().put(history).build());
            if let Some(ticket) = ticket {
                let next = Update::builder()
                    .table_name(&self.table)
                    .key("pk", s(ASSIGNMENT_COUNTER.0))
                    .key("sk", s(ASSIGNMENT_COUNTER.1))
                    .update_expression("SET next_ticket = :next, item_kind = :kind")
                    .condition_expression(
                        "attribute_not_exists(next_ticket) OR next_ticket = :ticket",
                    )
                    .expression_attribute_values(":next", Av::N((ticket + 1).to_string()))
                    .expression_attribute_values(":ticket", Av::N(ticket.to_string()))
                    .expression_attribute_values(":kind", s("assignment_counter"))
                    .build()
                    .map_err(|e| unavailable(&e))?;
                tx = tx.transact_items(TransactWriteItem::builder().update(next).build());
            }
            let err = match tx.send().await {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
                err.as_service_error()
            else {
                return Err(unavailable(&aws_sdk_dynamodb::error::DisplayErrorContext(
                    &err,
                )));
            };
            let code = |i: usize| {
                cancelled
                    .cancellation_reasons()
                    .get(i)
                    .and_then(|r| r.code())
                    .unwrap_or("None")
                    .to_string()
            };
            // The lead has an owner already (another delivery, a manager) or its history item
            // exists: nothing to do. Anything else (the counter moved on, a conflicting
            // transaction): take a fresh ticket and try again.
            if code(0) == "ConditionalCheckFailed" || code(1) == "ConditionalCheckFailed" {
                return Ok(());
            }
        }
        Err(StoreError::Unavailable(format!(
            "owner assignment: the round-robin counter stayed contended over {ASSIGN_ATTEMPTS} attempts"
        )))
    }

    /// The round-robin counter's current ticket (0 before the first), read through a no-op
    /// UpdateItem's returned values: the webhook has no read permission on the table.
    async fn round_robin_ticket(&self) -> Result<u64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(ASSIGNMENT_COUNTER.0))
            .key("sk", s(ASSIGNMENT_COUNTER.1))
            .update_expression("SET item_kind = :kind")
            .expression_attribute_values(":kind", s("assignment_counter"))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| {
                StoreError::Unavailable(
                    aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string(),
                )
            })?;
        Ok(out
            .attributes
            .as_ref()
            .and_then(|a| a.get("next_ticket"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
    }
}
