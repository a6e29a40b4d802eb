//! Lead activity markers (the aggregator's writes) and the paged message scan the
//! maintenance commands (rebuild, link, redrive) read.

use super::*;
use crate::ports::ScanCursor;

/// The marker flag set in the transaction that counts it.
const COUNTED: &str = "counted";

/// The counter of a direction on the id's [`ACTIVITY_SK`] item.
fn counter(direction: Direction) -> &'static str {
    match direction {
        Direction::Inbound => "inbound_count",
        Direction::Outbound => "outbound_count",
    }
}

fn is_condition_failure<E, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

/// A transaction cancelled only because a condition did not hold (not throttling, not a
/// conflict with another transaction, which are retried as storage errors).
fn cancelled_by_condition<R>(
    e: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> bool {
    cancellation(e) == Some(Cancelled::Condition)
}

impl DynamoDbLeadStore {
    /// Records one message of a lead (`USER#<key>` / `IN#<wamid>` or `OUT#<wamid>`): the
    /// marker keeps the earliest time seen, so retried and reordered stream records converge.
    /// An outbound marker carries `lead_time` (the per-person time index). Every marker is
    /// counted exactly once in its id's `ACTIVITY` counter: a new marker is written `counted`
    /// in one transaction with the counter (one request, the common case); a marker already
    /// there is updated (earliest time wins) and, if it was never counted (a table from
    /// before the counters), flagged and counted in one transaction. A retry after a crash
    /// between any two of these writes counts what is not counted yet, and nothing twice.
    pub async fn record_activity(&self, a: &Activity) -> Result<(), LeadsError> {
        use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
        let outbound = a.direction == Direction::Outbound;
        let marker_sk = format!("{}{}", a.direction.prefix(), a.wamid);
        let sets = format!(
            "SET item_kind = :kind, direction = :direction, wamid = :wamid, #at = :at, \
             time_bucket = :tb{}{}{}",
            if a.phone_number_id.is_some() {
                ", phone_number_id = :pnid"
            } else {
                ""
            },
            if a.waba_id.is_some() {
                ", waba_id = :waba"
            } else {
                ""
            },
            if outbound { ", lead_time = :lt" } else { "" },
        );
        let mut values = HashMap::new();
        values.insert(":kind".to_string(), s("lead_activity"));
        values.insert(":direction".to_string(), s(a.direction.as_str()));
        values.insert(":wamid".to_string(), s(a.wamid.as_str()));
        values.insert(":at".to_string(), Av::N(a.at.to_string()));
        values.insert(":tb".to_string(), s(time_bucket(a.at, &a.wamid)));
        if let Some(p) = &a.phone_number_id {
            values.insert(":pnid".to_string(), s(p.as_str()));
        }
        if let Some(w) = &a.waba_id {
            values.insert(":waba".to_string(), s(w.as_str()));
        }
        if outbound {
            values.insert(
                ":lt".to_string(),
                s(lead_time(&a.user_key, LeadSeries::Outbound)),
            );
        }

        // A new marker: written and counted in one transaction.
        let mut new_values = values.clone();
        new_values.insert(":t".to_string(), Av::Bool(true));
        let create = Update::builder()
            .table_name(&self.table)
            .key("pk", s(user_pk(&a.user_key)))
            .key("sk", s(marker_sk.as_str()))
            .update_expression(format!("{sets}, #c = :t"))
            .condition_expression("attribute_not_exists(pk)")
            .expression_attribute_names("#at", "at")
            .expression_attribute_names("#c", COUNTED)
            .set_expression_attribute_values(Some(new_values))
            .build()
            .map_err(build_error)?;
        let created = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(create).build())
            .transact_items(
                TransactWriteItem::builder()
                    .update(self.counter_change(&a.user_key, a.direction, 1)?)
                    .build(),
            )
            .send()
            .await;
        match created {
            Ok(_) => return Ok(()),
            Err(e) if cancelled_by_condition(&e) => {}
            Err(e) => return Err(transaction_error(e).into()),
        }

        // The marker exists: the earliest time wins; a marker written before an index
        // attribute existed gets it from a rebuild that finds the same (or an earlier) time.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(user_pk(&a.user_key)))
            .key("sk", s(marker_sk.as_str()))
            .update_expression(sets)
            .condition_expression(if outbound {
                "attribute_not_exists(#at) OR #at > :at OR (#at = :at AND attribute_not_exists(time_bucket)) \
                 OR (#at >= :at AND attribute_not_exists(lead_time))"
            } else {
                "attribute_not_exists(#at) OR #at > :at OR (#at = :at AND attribute_not_exists(time_bucket))"
            })
            .expression_attribute_names("#at", "at")
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let marker = match result {
            Ok(out) => out.attributes.unwrap_or_default(),
            Err(e) if is_condition_failure(&e) => match e.into_service_error() {
                aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c) => {
                    c.item.unwrap_or_default()
                }
                _ => Attrs::new(),
            },
            Err(e) => return Err(store_error(e).into()),
        };
        if marker.contains_key(COUNTED) {
            return Ok(());
        }
        self.count_marker(&a.user_key, a.direction, &marker_sk)
            .await
    }

    /// `ADD` `delta` to the counter of `direction` on the `ACTIVITY` item of `user_key`.
    fn counter_change(
        &self,
        user_key: &str,
        direction: Direction,
        delta: i64,
    ) -> Result<Update, LeadsError> {
        Ok(Update::builder()
            .table_name(&self.table)
            .key("pk", s(user_pk(user_key)))
            .key("sk", s(ACTIVITY_SK))
            .update_expression("ADD #n :delta")
            .expression_attribute_names("#n", counter(direction))
            .expression_attribute_values(":delta", Av::N(delta.to_string()))
            .build()
            .map_err(build_error)?)
    }

    /// Flags a marker `counted` and raises its id's counter, in one transaction; a marker
    /// already counted (a concurrent or earlier run) changes nothing.
    async fn count_marker(
        &self,
        user_key: &str,
        direction: Direction,
        marker_sk: &str,
    ) -> Result<(), LeadsError> {
        let flag = Update::builder()
            .table_name(&self.table)
            .key("pk", s(user_pk(user_key)))
            .key("sk", s(marker_sk))
            .update_expression("SET #c = :t")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(#c)")
            .expression_attribute_names("#c", COUNTED)
            .expression_attribute_values(":t", Av::Bool(true))
            .build()
            .map_err(build_error)?;
        let bump = self.counter_change(user_key, direction, 1)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(flag).build())
            .transact_items(TransactWriteItem::builder().update(bump).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if cancelled_by_condition(&e) => Ok(()),
            Err(e) => Err(transaction_error(e).into()),
        }
    }

    /// Files a person's id under a WABA they wrote to: `ADD waba_ids` on the id's profile (a
    /// set union: idempotent and order-free; a profile not created yet gets only this
    /// attribute, which lists and reads ignore until the lead is written). Merges carry the
    /// set to the person's lead.
    pub async fn record_lead_waba(&self, user_key: &str, waba_id: &str) -> Result<(), LeadsError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(user_pk(user_key)))
            .key("sk", s(PROFILE_SK))
            .update_expression("ADD #w :w")
            .expression_attribute_names("#w", LEAD_WABAS)
            .expression_attribute_values(":w", Av::Ss(vec![waba_id.to_string()]))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// Records which WABA a business number belongs to (`PHONE#<id>` / `WABA`), as a
    /// message named both: the leads API checks a scoped caller's consent requests with it.
    /// A number moved to another WABA follows its latest message folded.
    pub async fn record_phone_waba(
        &self,
        phone_number_id: &str,
        waba_id: &str,
    ) -> Result<(), LeadsError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(phone_pk(phone_number_id)))
            .item("sk", s(PHONE_WABA_SK))
            .item("item_kind", s("phone_number"))
            .item("phone_number_id", s(phone_number_id))
            .item("waba_id", s(waba_id))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// Removes a marker that no longer stands for its message's person: an outbound
    /// message first known by the recipient's phone and later by their business-scoped id
    /// belongs to one person, under the id the message item now names. A counted marker
    /// lowers its id's counter in the same transaction.
    pub async fn forget_activity(
        &self,
        user_key: &str,
        direction: Direction,
        wamid: &str,
    ) -> Result<(), LeadsError> {
        let marker = Delete::builder()
            .table_name(&self.table)
            .key("pk", s(user_pk(user_key)))
            .key("sk", s(format!("{}{}", direction.prefix(), wamid)))
            .condition_expression("attribute_exists(#c)")
            .expression_attribute_names("#c", COUNTED)
            .build()
            .map_err(build_error)?;
        let lower = self.counter_change(user_key, direction, -1)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(marker).build())
            .transact_items(TransactWriteItem::builder().update(lower).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Gone already, or never counted: removing it is all there is to do.
            Err(e) if cancelled_by_condition(&e) => {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .key("pk", s(user_pk(user_key)))
                    .key("sk", s(format!("{}{}", direction.prefix(), wamid)))
                    .send()
                    .await
                    .map_err(store_error)?;
                Ok(())
            }
            Err(e) => Err(transaction_error(e).into()),
        }
    }

    /// One page of a parallel Scan over the message items (`MSG#…`), as the rebuild of
    /// the lead markers and the identity link command read them: per item, the activity it
    /// stands for and the ids of its person; and the key to go on from (`None` at the end
    /// of the segment).
    pub async fn scan_messages(
        &self,
        segment: i32,
        total_segments: i32,
        start: Option<ScanCursor>,
    ) -> Result<(Vec<ScannedMessage>, Option<ScanCursor>), LeadsError> {
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .segment(segment)
            .total_segments(total_segments)
            .filter_expression("begins_with(pk, :msg)")
            .expression_attribute_values(":msg", s(MESSAGE_PREFIX))
            .set_exclusive_start_key(start.map(|c| scan_key(&c)).transpose()?)
            .send()
            .await
            .map_err(store_error)?;
        let scanned = out
            .items
            .unwrap_or_default()
            .iter()
            .map(|item| {
                let attr = |k: &str| match item.get(k)? {
                    Av::S(v) | Av::N(v) => Some(v.clone()),
                    _ => None,
                };
                ScannedMessage {
                    activity: crate::domain::activity::activity_of(attr),
                    ids: crate::domain::identity::ids_of_message(
                        &text(item, "sk").unwrap_or_default(),
                        attr,
                    ),
                }
            })
            .collect();
        Ok((scanned, out.last_evaluated_key.as_ref().map(scan_cursor)))
    }
}

/// A scan's next page as a cursor: the last key read (string attributes: the table's `pk`
/// and `sk`), as JSON.
fn scan_cursor(key: &Attrs) -> ScanCursor {
    let key: BTreeMap<&str, &str> = key
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.as_s().ok()?.as_str())))
        .collect();
    ScanCursor(serde_json::to_string(&key).unwrap_or_default())
}

/// The key a [`scan_cursor`] stands for; a cursor this store did not issue is refused.
fn scan_key(cursor: &ScanCursor) -> Result<Attrs, LeadsError> {
    let key: BTreeMap<String, String> = serde_json::from_str(&cursor.0).map_err(|_| {
        LeadsError::Invalid(format!(
            "scan cursor {:?} is not one this store issued",
            cursor.0
        ))
    })?;
    Ok(key.into_iter().map(|(k, v)| (k, s(v))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_cursor_stands_for_the_key_it_was_made_of() {
        let key: Attrs = HashMap::from([
            ("pk".to_string(), s("MSG#wamid.1")),
            ("sk".to_string(), s("OUT")),
        ]);
        assert_eq!(scan_key(&scan_cursor(&key)).unwrap(), key);
        assert!(matches!(
            scan_key(&ScanCursor("not json".into())),
            Err(LeadsError::Invalid(_))
        ));
    }
}
