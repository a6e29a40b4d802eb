//! Lead activity markers (the aggregator's writes) and the paged message scan the
//! maintenance commands (rebuild, link, redrive) read.

use super::*;

impl DynamoDbLeadStore {
    /// Records one message of a lead (`USER#<key>` / `IN#<wamid>` or `OUT#<wamid>`): the
    /// marker keeps the earliest time seen, so retried and reordered stream records converge.
    pub async fn record_activity(&self, a: &Activity) -> Result<(), LeadsError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(format!("USER#{}", a.user_key)))
            .key("sk", s(format!("{}{}", a.direction.prefix(), a.wamid)))
            .update_expression(format!(
                "SET item_kind = :kind, direction = :direction, wamid = :wamid, #at = :at, \
                 time_bucket = :tb{}{}",
                if a.phone_number_id.is_some() { ", phone_number_id = :pnid" } else { "" },
                if a.waba_id.is_some() { ", waba_id = :waba" } else { "" },
            ))
            // Earliest time wins; a marker written before the time index existed gets its
            // `time_bucket` from a rebuild that finds the same time.
            .condition_expression(
                "attribute_not_exists(#at) OR #at > :at OR (#at = :at AND attribute_not_exists(time_bucket))",
            )
            .expression_attribute_names("#at", "at")
            .set_expression_attribute_values(Some({
                let mut v = HashMap::new();
                v.insert(":kind".to_string(), s("lead_activity"));
                v.insert(":direction".to_string(), s(a.direction.as_str()));
                v.insert(":wamid".to_string(), s(a.wamid.as_str()));
                v.insert(":at".to_string(), Av::N(a.at.to_string()));
                v.insert(":tb".to_string(), s(time_bucket(a.at, &a.wamid)));
                if let Some(p) = &a.phone_number_id {
                    v.insert(":pnid".to_string(), s(p.as_str()));
                }
                if let Some(w) = &a.waba_id {
                    v.insert(":waba".to_string(), s(w.as_str()));
                }
                v
            }))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(e).into()),
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
            .key("sk", s("PROFILE"))
            .update_expression("ADD #w :w")
            .expression_attribute_names("#w", LEAD_WABAS)
            .expression_attribute_values(":w", Av::Ss(vec![waba_id.to_string()]))
            .send()
            .await
            .map_err(unavailable)?;
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
            .map_err(unavailable)?;
        Ok(())
    }

    /// Removes a marker that no longer stands for its message's person: an outbound
    /// message first known by the recipient's phone and later by their business-scoped id
    /// belongs to one person, under the id the message item now names.
    pub async fn forget_activity(
        &self,
        user_key: &str,
        direction: Direction,
        wamid: &str,
    ) -> Result<(), LeadsError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(format!("USER#{user_key}")))
            .key("sk", s(format!("{}{}", direction.prefix(), wamid)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// One page of a parallel Scan over the message items (`MSG#…`), as the rebuild of
    /// the lead markers and the identity link command read them: per item, the activity it
    /// stands for and the ids of its person; and the key to go on from (`None` at the end
    /// of the segment).
    pub async fn scan_messages(
        &self,
        segment: i32,
        total_segments: i32,
        start: Option<HashMap<String, Av>>,
    ) -> Result<(Vec<ScannedMessage>, Option<HashMap<String, Av>>), LeadsError> {
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .segment(segment)
            .total_segments(total_segments)
            .filter_expression("begins_with(pk, :msg)")
            .expression_attribute_values(":msg", s("MSG#"))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(unavailable)?;
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
        Ok((scanned, out.last_evaluated_key))
    }
}
