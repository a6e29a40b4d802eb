//! A lead and its timeline, read in bounded work whatever the person's history: items by
//! key (profiles, message counters, consent states), the latest entries of each list with
//! `Limit`, and times from the per-person index (`by_lead`), never a whole `USER#`
//! partition (a person's message markers grow with every message).

use super::*;
use crate::domain::leads::keep_latest;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;

impl DynamoDbLeadStore {
    /// Up to `limit` items of `query` (its order as set), following pages cut by size.
    pub(super) async fn take(
        &self,
        query: QueryFluentBuilder,
        limit: usize,
    ) -> Result<Vec<Attrs>, LeadsError> {
        let mut items = Vec::new();
        let mut start = None;
        while items.len() < limit {
            let page = query
                .clone()
                .limit((limit - items.len()).min(i32::MAX as usize) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(store_error)?;
            items.extend(page.items().iter().cloned());
            match page.last_evaluated_key {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        items.truncate(limit);
        Ok(items)
    }

    /// A partition's items whose sort key begins with `prefix`, newest key first, at most
    /// `limit`.
    async fn latest(&self, id: &str, prefix: &str, limit: usize) -> Result<Vec<Attrs>, LeadsError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(user_pk(id)))
            .expression_attribute_values(":prefix", s(prefix))
            .scan_index_forward(false)
            .consistent_read(true);
        self.take(query, limit).await
    }

    /// Every item of a partition whose sort key begins with `prefix` (for item kinds bounded
    /// by design, such as one consent state per number and category).
    pub(super) async fn all_with_prefix(
        &self,
        id: &str,
        prefix: &str,
    ) -> Result<Vec<Attrs>, LeadsError> {
        self.latest(id, prefix, usize::MAX).await
    }

    /// Keys of the person-index entries of `series` for user id `id`: the latest `limit`
    /// (`after` = `None`), or the earliest `limit` at or after `after`.
    pub(super) async fn series(
        &self,
        id: &str,
        series: LeadSeries,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Attrs>, LeadsError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(LEAD_INDEX)
            .expression_attribute_names("#lt", LEAD_TIME_ATTR)
            .expression_attribute_values(":lt", s(lead_time(id, series)));
        query = match after {
            Some(from) => query
                .key_condition_expression("#lt = :lt AND #at >= :from")
                .expression_attribute_names("#at", "at")
                .expression_attribute_values(":from", Av::N(from.to_string()))
                .scan_index_forward(true),
            None => query
                .key_condition_expression("#lt = :lt")
                .scan_index_forward(false),
        };
        self.take(query, limit).await
    }

    /// The person's consent events, latest first, at most `limit + 1` (one more than kept
    /// says that older ones exist). Their keys are `CONSENT#<number>#<time>#…`, so each
    /// business number's events are read newest first on their own, the numbers found by
    /// stepping down the key range: the work is bounded by numbers × `limit`.
    async fn consent_events(&self, id: &str, limit: usize) -> Result<Vec<Attrs>, LeadsError> {
        let mut events = Vec::new();
        let mut below: Option<String> = None;
        loop {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
                .expression_attribute_values(":pk", s(user_pk(id)))
                .expression_attribute_values(":lo", s(CONSENT_PREFIX))
                // Every key of number P starts `CONSENT#P#`, above `CONSENT#P` and above
                // every key of a number that sorts before P.
                .expression_attribute_values(
                    ":hi",
                    s(below
                        .clone()
                        .unwrap_or_else(|| format!("{CONSENT_PREFIX}\u{10FFFF}"))),
                )
                .scan_index_forward(false)
                .consistent_read(true);
            let page = self.take(query, limit + 1).await?;
            let Some(number) = page
                .first()
                .and_then(|i| text(i, "sk"))
                .and_then(|sk| consent_number_of(&sk).map(str::to_string))
            else {
                return Ok(events);
            };
            if below.as_deref() == Some(consent_events_of(&number).as_str()) {
                // A key outside the format (`CONSENT#<number>` itself): nothing lower is
                // reachable without it, and it is not an event.
                return Ok(events);
            }
            let own = format!("{}#", consent_events_of(&number));
            events.extend(
                page.into_iter()
                    .filter(|i| text(i, "sk").is_some_and(|sk| sk.starts_with(&own))),
            );
            below = Some(consent_events_of(&number));
        }
    }

    /// A lead and its timeline.
    pub async fn get(&self, lead_id: &str) -> Result<(LeadView, Timeline), LeadsError> {
        let person = self.person(lead_id).await?;
        let lead_pk = user_pk(person.lead_id());
        // By key: every id's profile and message counters.
        let keys = person
            .ids
            .iter()
            .flat_map(|id| [item_key(id, PROFILE_SK), item_key(id, ACTIVITY_SK)])
            .collect();
        let by_key = batch_get(&self.client, &self.table, keys, true).await?;
        let profile_item = by_key.iter().find(|i| {
            text(i, "sk").as_deref() == Some(PROFILE_SK)
                && text(i, "pk").as_deref() == Some(lead_pk.as_str())
        });
        let mut profile = profile_item
            .and_then(lead_from_item)
            .ok_or_else(|| LeadsError::NotFound(lead_id.to_string()))?;
        profile.ids = person.ids.iter().cloned().collect();
        let count = |attr: &str| -> u64 {
            by_key
                .iter()
                .filter(|i| text(i, "sk").as_deref() == Some(ACTIVITY_SK))
                .filter_map(|i| int(i, attr))
                .map(|n| n.max(0) as u64)
                .sum()
        };

        let mut history = Vec::new();
        let mut consent_events = Vec::new();
        let mut states = Vec::new();
        let mut conversion_keys = Vec::new();
        let mut last_outbound: Option<i64> = None;
        for id in &person.ids {
            history.extend(
                self.latest(id, HISTORY_PREFIX, TIMELINE_ENTRIES + 1)
                    .await?,
            );
            consent_events.extend(self.consent_events(id, TIMELINE_ENTRIES).await?);
            states.extend(self.all_with_prefix(id, CONSENT_STATE_PREFIX).await?);
            conversion_keys.extend(
                self.series(id, LeadSeries::Conversions, None, TIMELINE_ENTRIES + 1)
                    .await?
                    .into_iter()
                    .map(|k| {
                        k.into_iter()
                            .filter(|(name, _)| name == "pk" || name == "sk")
                            .collect::<Attrs>()
                    }),
            );
            let latest = self.series(id, LeadSeries::Outbound, None, 1).await?;
            last_outbound = last_outbound.max(latest.first().and_then(|i| int(i, "at")));
        }
        let conversions = batch_get(&self.client, &self.table, conversion_keys, true).await?;

        let mut truncated = Vec::new();
        let (history, cut) = latest_items(&history, TIMELINE_ENTRIES);
        if cut {
            truncated.push("history");
        }
        let (consent, cut) = latest_items(&consent_events, TIMELINE_ENTRIES);
        if cut {
            truncated.push("consent_history");
        }
        let (conversions, cut) = latest_items(&conversions, TIMELINE_ENTRIES);
        if cut {
            truncated.push("conversions");
        }

        let mut timeline = Timeline {
            first_touch: profile.first_touch.clone(),
            conversions: conversions.into_iter().map(conversion_from_item).collect(),
            stage_history: Vec::new(),
            owner_history: Vec::new(),
            consent_history: consent.into_iter().map(consent_event_from_item).collect(),
            consent_state: person_consent_states(&states),
            messages: MessageActivity {
                inbound_count: Some(count("inbound_count")),
                outbound_count: Some(count("outbound_count")),
                last_outbound_at: last_outbound.and_then(|t| DateTime::from_timestamp(t, 0)),
                outbound_note: None,
                first_inbound_at: profile_item
                    .filter(|i| text(i, "origin").as_deref() != Some("import"))
                    .and_then(|i| time(i, "created_at")),
                last_inbound_at: profile.last_inbound_at,
                last_referral_at: profile_item.and_then(|i| time(i, "last_referral_at")),
            },
            truncated,
        };
        for item in history {
            let change = Change {
                from: text(item, "from_value"),
                to: text(item, "to_value"),
                by: text(item, "by").unwrap_or_default(),
                reason: text(item, "reason"),
                at: time(item, "at").unwrap_or_default(),
            };
            match text(item, "change").as_deref() {
                Some("stage") => timeline.stage_history.push(change),
                Some("owner") => timeline.owner_history.push(change),
                _ => {}
            }
        }
        Ok((profile, timeline))
    }
}

/// The latest `limit` items (by `at`, then key), oldest first, and whether some were dropped.
fn latest_items(items: &[Attrs], limit: usize) -> (Vec<&Attrs>, bool) {
    let mut entries: Vec<(i64, String, &Attrs)> = items
        .iter()
        .map(|i| {
            (
                int(i, "at").unwrap_or_default(),
                text(i, "sk").unwrap_or_default(),
                i,
            )
        })
        .collect();
    let cut = keep_latest(&mut entries, limit);
    (entries.into_iter().map(|(_, _, i)| i).collect(), cut)
}

fn consent_event_from_item(item: &Attrs) -> ConsentEventView {
    ConsentEventView {
        consent: text(item, "consent").unwrap_or_default(),
        categories: item
            .get("categories")
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default(),
        source: text(item, "source").unwrap_or_default(),
        phone_number_id: text(item, "phone_number_id").unwrap_or_default(),
        at: time(item, "at").unwrap_or_default(),
        keyword: text(item, "keyword"),
        proof: text(item, "proof"),
        recorded_by: text(item, "recorded_by"),
    }
}
