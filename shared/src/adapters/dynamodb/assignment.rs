//! `DynamoDbAssignmentStore`: the owner assignment's `AssignmentStore` over the table: the
//! round-robin ticket from one counter item, and owner, history and ticket written in one
//! transaction. The decision and the retries are the service's (`crate::assignment`).

use super::attrs::{Attrs, s};
use super::history::{HistoryEntry, Version, history_item};
use crate::keys::{ASSIGNMENT_COUNTER, PROFILE_SK, user_pk};
use crate::ports::{AssignmentStore, Committed, OwnerAssignment, StoreError};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue as Av;

/// The owner assignment's store over the table the webhook writes.
#[derive(Debug, Clone)]
pub struct DynamoDbAssignmentStore {
    client: Client,
    table: String,
}

impl DynamoDbAssignmentStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn unavailable(e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("owner assignment: {e}"))
}

impl AssignmentStore for DynamoDbAssignmentStore {
    /// Read through a no-op UpdateItem's returned values: the webhook has no read permission
    /// on the table.
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

    /// One TransactWriteItems: the owner on the profile (conditioned on the lead existing
    /// with no owner), the history item (write-once) and, with a ticket, the counter's move
    /// (conditioned on it still holding the ticket).
    async fn commit(&self, a: &OwnerAssignment<'_>) -> Result<Committed, StoreError> {
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
        let set_owner = Update::builder()
            .table_name(&self.table)
            .key("pk", s(user_pk(a.lead_id)))
            .key("sk", s(PROFILE_SK))
            .update_expression("SET #owner = :owner, owner_reason = :reason, owner_at = :at")
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(#owner) AND attribute_not_exists(owner_reason)",
            )
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(a.owner))
            .expression_attribute_values(":reason", s(a.reason))
            .expression_attribute_values(":at", Av::N(a.at.to_string()))
            .build()
            .map_err(|e| unavailable(&e))?;
        let history: Attrs = history_item(HistoryEntry {
            lead_id: a.lead_id,
            at: a.at,
            change: "owner",
            version: Version::Assignment,
            by: "assignment",
            reason: a.reason,
            from: None,
            to: Some(a.owner),
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
        if let Some(ticket) = a.ticket {
            let next = Update::builder()
                .table_name(&self.table)
                .key("pk", s(ASSIGNMENT_COUNTER.0))
                .key("sk", s(ASSIGNMENT_COUNTER.1))
                .update_expression("SET next_ticket = :next, item_kind = :kind")
                .condition_expression("attribute_not_exists(next_ticket) OR next_ticket = :ticket")
                .expression_attribute_values(":next", Av::N((ticket + 1).to_string()))
                .expression_attribute_values(":ticket", Av::N(ticket.to_string()))
                .expression_attribute_values(":kind", s("assignment_counter"))
                .build()
                .map_err(|e| unavailable(&e))?;
            tx = tx.transact_items(TransactWriteItem::builder().update(next).build());
        }
        let err = match tx.send().await {
            Ok(_) => return Ok(Committed::Assigned),
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
        // The lead has an owner already or its history item exists: nothing to do. Anything
        // else (the counter moved on, a conflicting transaction): contended.
        if code(0) == "ConditionalCheckFailed" || code(1) == "ConditionalCheckFailed" {
            return Ok(Committed::AlreadyOwned);
        }
        Ok(Committed::Contended)
    }
}
