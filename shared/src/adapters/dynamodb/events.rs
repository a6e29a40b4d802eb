//! `DynamoDbEventStore`: the ingest's `EventStore` over one table: sends the requests of
//! `requests.rs` with bounded concurrency, moves oversized raw parts to S3, and reports the
//! leads whose owner is still to be decided (the owner assignment is the service step after
//! it, `crate::assignment`, over `DynamoDbAssignmentStore`).

use super::*;
use crate::domain::ingest::content_id;

/// The event store over one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoDbEventStore<R> {
    pub(super) client: Client,
    pub(super) table: String,
    concurrency: usize,
    /// Where raw parts too large for an item go.
    overflow: R,
    /// Whether to report the leads whose owner is to be decided
    /// ([`ApplyReport::unowned_leads`]): only when owner assignment is configured, since it
    /// makes each lead write return the stored item.
    report_unowned_leads: bool,
    /// The lifecycle's first stage: where new leads start.
    initial_stage: String,
}

impl<R: RawStore> DynamoDbEventStore<R> {
    pub fn new(client: Client, table: impl Into<String>, concurrency: usize, overflow: R) -> Self {
        Self {
            client,
            table: table.into(),
            concurrency: concurrency.max(1),
            overflow,
            report_unowned_leads: false,
            initial_stage: DEFAULT_INITIAL_STAGE.to_string(),
        }
    }

    /// New leads start in this stage (the configured lifecycle's first).
    pub fn with_initial_stage(mut self, stage: &str) -> Self {
        self.initial_stage = stage.to_string();
        self
    }

    /// Reports in [`ApplyReport::unowned_leads`] the lead writes whose message created the
    /// lead and whose lead has no owner yet (for the owner assignment that follows).
    pub fn reporting_unowned_leads(mut self, report: bool) -> Self {
        self.report_unowned_leads = report;
        self
    }

    /// An UpdateItem of one planned request.
    fn update_item(
        &self,
        key: Attrs,
        update: String,
        condition: Option<&'static str>,
        names: Option<HashMap<String, String>>,
        values: Attrs,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(update)
            .set_condition_expression(condition.map(str::to_string))
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(Some(values))
    }

    /// Sends a lead's `Lead` write and says whether the lead's owner is still to be decided:
    /// this message is the lead's creating message (the write landed, or the stored
    /// `first_inbound_wamid` is this message's) and no owner was ever given (no
    /// `owner_reason`: not by a rule, round robin, the API or an import). Decided from the item
    /// (the old image, or the stored item when the condition failed, both returned by the write
    /// itself: no read), not from "this write created it": a POST that died between the lead's
    /// creation and its assignment is redelivered with the lead already created.
    async fn send_lead(&self, request: Request, wamid: &str) -> Result<(bool, bool), StoreError> {
        use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
        use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
        let Request::Update {
            key,
            update,
            condition,
            names,
            values,
        } = request
        else {
            return self.send(request).await.map(|changed| (changed, false));
        };
        let unowned = |item: Option<&Attrs>| !item.is_some_and(|i| i.contains_key("owner_reason"));
        let result = self
            .update_item(key, update, condition, names, values)
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok((true, unowned(out.attributes.as_ref()))),
            Err(e) => {
                let stored = match e.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(c)) => c.item().cloned(),
                    _ => None,
                };
                match classify_error(e, |s| s.is_conditional_check_failed_exception()) {
                    Outcome::ConditionFailed => {
                        let creating = stored
                            .as_ref()
                            .and_then(|i| i.get("first_inbound_wamid"))
                            .and_then(|v| v.as_s().ok())
                            .is_some_and(|w| w == wamid);
                        Ok((false, creating && unowned(stored.as_ref())))
                    }
                    Outcome::Failed(e) => Err(e),
                }
            }
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
    pub fn table(&self) -> &str {
        &self.table
    }

    async fn send(&self, request: Request) -> Result<bool, StoreError> {
        let result = match request {
            Request::Update {
                key,
                update,
                condition,
                names,
                values,
            } => self
                .update_item(key, update, condition, names, values)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify_error(e, |s| s.is_conditional_check_failed_exception())),
            Request::Put { item, condition } => self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(condition)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify_error(e, |s| s.is_conditional_check_failed_exception())),
        };
        match result {
            Ok(()) => Ok(true),
            Err(Outcome::ConditionFailed) => Ok(false),
            Err(Outcome::Failed(e)) => Err(e),
        }
    }

    /// Oversized raw parts are written to S3 first (idempotent key), so the item can point
    /// at them.
    async fn offload(&self, write: &Write<'_>) -> Result<Option<String>, StoreError> {
        let event = match write {
            Write::Status { event, .. }
            | Write::Inbound { event, .. }
            | Write::TemplateEvent { event, .. }
            | Write::WabaEvent { event, .. }
            | Write::Kept { event, .. } => event,
            _ => return Ok(None),
        };
        let always_raw = matches!(write, Write::TemplateEvent { .. } | Write::WabaEvent { .. });
        if (!event.keeps_raw() && !always_raw) || event.raw_json().len() <= MAX_INLINE_RAW {
            return Ok(None);
        }
        let key = format!("kept/{}.json", content_id(event.raw_json()));
        self.overflow
            .put_raw(
                &key,
                event.raw_json().as_bytes(),
                &[("reason", "raw part over item size")],
            )
            .await?;
        Ok(Some(key))
    }
}

enum Outcome {
    ConditionFailed,
    Failed(StoreError),
}

fn classify_error<E, R>(err: SdkError<E, R>, is_condition: impl Fn(&E) -> bool) -> Outcome
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if let Some(service) = err.as_service_error() {
        if is_condition(service) {
            return Outcome::ConditionFailed;
        }
        let code = service.code().unwrap_or("unknown");
        let message = service.message().unwrap_or("");
        // Validation errors are about the data; retrying the same POST cannot fix them.
        if code == "ValidationException" {
            return Outcome::Failed(StoreError::Rejected(format!("{code}: {message}")));
        }
        return Outcome::Failed(StoreError::Unavailable(format!("{code}: {message}")));
    }
    Outcome::Failed(StoreError::Unavailable(
        aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string(),
    ))
}

impl<R: RawStore> EventStore for DynamoDbEventStore<R> {
    async fn apply(&self, writes: &[Write<'_>]) -> Result<ApplyReport, StoreError> {
        // Build every request up front (CPU only; oversized raw parts, which are rare, are
        // moved to S3 first), then send them with bounded concurrency.
        let mut requests = Vec::with_capacity(writes.len());
        for (i, write) in writes.iter().enumerate() {
            let overflow = self.offload(write).await?;
            let req = request(write, overflow.as_deref(), &self.initial_stage);
            // Only a lead's creation needs to be seen (for assignment), and only when asked;
            // every other write is sent as before.
            let lead = self.report_unowned_leads && matches!(write, Write::Lead { .. });
            requests.push((i, req, lead));
        }
        // One write refused for its data (e.g. an item over 400 KB) does not stop the others:
        // every other person's events of the POST are stored; only an unavailable store
        // fails the whole call (503, and Meta retries: every write is idempotent).
        // Per write: (changed, a lead whose owner is to be decided), or why not.
        type WriteOutcome = Result<(bool, bool), StoreError>;
        let outcomes: Vec<(usize, WriteOutcome)> = stream::iter(requests)
            .map(|(i, r, lead)| async move {
                let outcome = match (lead, &writes[i]) {
                    (true, Write::Lead { msg, .. }) => self.send_lead(r, msg.wamid.as_ref()).await,
                    _ => self.send(r).await.map(|changed| (changed, false)),
                };
                (i, outcome)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut results = Vec::with_capacity(outcomes.len());
        let mut rejected = Vec::new();
        for (i, outcome) in outcomes {
            match outcome {
                Ok((changed, created)) => results.push((i, changed, created)),
                Err(StoreError::Rejected(reason)) => rejected.push(RejectedWrite {
                    index: i,
                    kind: writes[i].kind(),
                    reason,
                }),
                Err(e) => return Err(e),
            }
        }
        rejected.sort_by_key(|r| r.index);
        let mut unowned_leads: Vec<usize> = results
            .iter()
            .filter(|(_, _, unowned)| *unowned)
            .map(|(i, _, _)| *i)
            .collect();
        unowned_leads.sort_unstable();
        let applied = results.iter().filter(|(_, changed, _)| *changed).count();
        Ok(ApplyReport {
            applied,
            unchanged: results.len() - applied,
            rejected,
            unowned_leads,
        })
    }
}
