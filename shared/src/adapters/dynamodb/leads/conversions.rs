//! Conversions recorded for a lead (`CONV#<idempotency key>`) and the state of their
//! forwarding to Meta's Conversions API.

use super::*;

impl DynamoDbLeadStore {
    /// Records a conversion once per idempotency key and lead. Returns it and whether this
    /// was a replay of an identical earlier request; the same key with a different body is
    /// an error (nothing is overwritten).
    /// `fingerprint` identifies the request as sent (not the defaults filled in), so a retry
    /// without `at` a second later is still the same request.
    pub async fn record_conversion(
        &self,
        lead_id: &str,
        conversion: &Conversion,
        fingerprint: &str,
    ) -> Result<(Conversion, bool), LeadsError> {
        // Any id of a known person will do (its lead may live under another id). The
        // conversion is stored under the id the request named: its idempotency key is per id.
        if self.profile(lead_id).await?.is_none() {
            let person = self.person(lead_id).await?;
            if person.ids.len() < 2 || self.profile(person.lead_id()).await?.is_none() {
                return Err(LeadsError::NotFound(lead_id.to_string()));
            }
        }
        let fingerprint = fingerprint.to_string();
        let mut item: Attrs = HashMap::from([
            ("pk".to_string(), s(user_pk(lead_id))),
            (
                "sk".to_string(),
                s(conversion_sk(&conversion.idempotency_key)),
            ),
            ("item_kind".to_string(), s("conversion")),
            (
                "conversion_id".to_string(),
                s(conversion.conversion_id.as_str()),
            ),
            ("conversion_type".to_string(), s(conversion.kind.as_str())),
            (
                "at".to_string(),
                Av::N(conversion.at.timestamp().to_string()),
            ),
            (
                "idempotency_key".to_string(),
                s(conversion.idempotency_key.as_str()),
            ),
            (
                "recorded_at".to_string(),
                Av::N(conversion.recorded_at.timestamp().to_string()),
            ),
            ("forwarded".to_string(), s(conversion.forwarded.as_str())),
            ("fingerprint".to_string(), s(fingerprint.as_str())),
            (
                "time_bucket".to_string(),
                s(event_bucket(conversion.at.timestamp())),
            ),
            (
                LEAD_TIME_ATTR.to_string(),
                s(lead_time(lead_id, LeadSeries::Conversions)),
            ),
        ]);
        if let Some(v) = conversion.value {
            item.insert("conversion_value".into(), Av::N(v.to_string()));
        }
        if let Some(c) = &conversion.currency {
            item.insert("currency".into(), s(c.as_str()));
        }
        if let Some(e) = &conversion.forward_error {
            item.insert("forward_error".into(), s(e.as_str()));
        }
        if self.put_if_absent(item).await? {
            return Ok((conversion.clone(), false));
        }
        // The key was used before: the same request is a replay, another is a conflict.
        let existing = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(user_pk(lead_id)))
            .key("sk", s(conversion_sk(&conversion.idempotency_key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?
            .item
            .ok_or_else(|| {
                LeadsError::Store(StoreError::Unavailable(
                    "the conversion vanished between its write and its read".into(),
                ))
            })?;
        if text(&existing, "fingerprint").as_deref() == Some(fingerprint.as_str()) {
            Ok((conversion_from_item(&existing), true))
        } else {
            Err(LeadsError::IdempotencyConflict(
                conversion.idempotency_key.clone(),
            ))
        }
    }

    /// A conversion's forwarding state (`forwarded`), read strongly consistent; `None` when
    /// the conversion does not exist.
    pub async fn forward_state(
        &self,
        lead_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<String>, LeadsError> {
        Ok(self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(user_pk(lead_id)))
            .key("sk", s(conversion_sk(idempotency_key)))
            .projection_expression("forwarded")
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?
            .item
            .and_then(|i| text(&i, "forwarded")))
    }

    /// Moves a conversion's forwarding from `from` to `to` (with `error` as its
    /// `forward_error`, or none): `false` when it was not in `from` (another delivery of the
    /// same stream record got there first, or a retry raced a send). The only writer of
    /// `forwarded` after the conversion is recorded.
    pub async fn transition_forward(
        &self,
        lead_id: &str,
        idempotency_key: &str,
        from: ForwardState,
        to: ForwardState,
        error: Option<&str>,
    ) -> Result<bool, LeadsError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(user_pk(lead_id)))
            .key("sk", s(conversion_sk(idempotency_key)))
            .condition_expression("forwarded = :from")
            .expression_attribute_values(":from", s(from.as_str()))
            .expression_attribute_values(":f", s(to.as_str()));
        let expr = match error {
            Some(e) => {
                update = update.expression_attribute_values(":e", s(e));
                "SET forwarded = :f, forward_error = :e"
            }
            None => "SET forwarded = :f REMOVE forward_error",
        };
        match update.update_expression(expr).send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(store_error(e).into()),
        }
    }
}
