//! CSV import rows applied to lead items (history for the stage and owner changes they make).

use super::*;
use crate::domain::leads::RowError;
use crate::domain::leads::jobs::{ImportJob, JobStatus};
use crate::keys::{IMPORTS_PK, import_job_sk};

impl DynamoDbLeadStore {
    /// Creates or updates one lead per import row; opt-ins become consent records.
    /// Applies import rows, one UpdateItem each. A row without a stage keeps the lead's
    /// (a new lead starts in `initial_stage`); a stage or owner the import changes is kept in
    /// the lead's history like a PATCH's (`reason` = `import`).
    pub async fn import(
        &self,
        rows: &[ImportRow],
        initial_stage: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<ImportCounts, LeadsError> {
        let mut counts = ImportCounts::default();
        for row in rows {
            let mut sets = vec![
                "item_kind = :kind".to_string(),
                "user_key = :user".into(),
                "lead_list = :list".into(),
                "created_at = if_not_exists(created_at, :now)".into(),
                "origin = if_not_exists(origin, :origin)".into(),
                match row.stage {
                    Some(_) => "stage = :stage".into(),
                    None => "stage = if_not_exists(stage, :stage)".into(),
                },
                "version = if_not_exists(version, :zero) + :one".into(),
            ];
            let mut values: Attrs = HashMap::from([
                (":kind".to_string(), s("lead")),
                (":user".to_string(), s(row.lead_id.as_str())),
                (":list".to_string(), s(lead_list(&row.lead_id))),
                (":now".to_string(), Av::N(now.timestamp().to_string())),
                (":origin".to_string(), s("import")),
                (
                    ":stage".to_string(),
                    s(row.stage.as_deref().unwrap_or(initial_stage)),
                ),
                (":zero".to_string(), Av::N("0".into())),
                (":one".to_string(), Av::N("1".into())),
            ]);
            let mut names = HashMap::new();
            for (attr, value) in [
                ("phone", row.phone.as_deref()),
                ("user_id", row.user_id.as_deref()),
                ("profile_name", row.name.as_deref()),
            ] {
                if let Some(v) = value {
                    sets.push(format!("{attr} = if_not_exists({attr}, :{attr})"));
                    values.insert(format!(":{attr}"), s(v));
                }
            }
            if let Some(owner) = &row.owner {
                names.insert("#owner".to_string(), "owner".to_string());
                sets.push("#owner = :owner, owner_reason = :import".into());
                values.insert(":owner".into(), s(owner.as_str()));
                values.insert(":import".into(), s("import"));
            }
            if !row.tags.is_empty() {
                sets.push("tags = :tags".into());
                values.insert(":tags".into(), Av::Ss(row.tags.clone()));
            }
            if !row.custom_fields.is_empty() {
                sets.push("custom_fields = :fields".into());
                values.insert(
                    ":fields".into(),
                    Av::M(
                        row.custom_fields
                            .iter()
                            .map(|(k, v)| (k.clone(), s(v.as_str())))
                            .collect(),
                    ),
                );
            }
            if let Some(t) = &row.first_touch {
                // A first touch is never overwritten, also not by an import.
                let fields = [
                    ("source_id", &t.source_id),
                    ("source_url", &t.source_url),
                    ("source_type", &t.source_type),
                    ("ctwa_clid", &t.ctwa_clid),
                    ("utm_source", &t.utm_source),
                    ("utm_medium", &t.utm_medium),
                    ("utm_campaign", &t.utm_campaign),
                    ("utm_content", &t.utm_content),
                    ("utm_term", &t.utm_term),
                ];
                let m: Attrs = fields
                    .iter()
                    .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), s(v.as_str()))))
                    .collect();
                sets.push("first_touch = if_not_exists(first_touch, :touch)".into());
                // The webhook replaces a first touch only by an earlier one: the import's
                // counts from the import time.
                sets.push("first_touch_at = if_not_exists(first_touch_at, :now)".into());
                values.insert(":touch".into(), Av::M(m));
            }
            let out = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(user_pk(&row.lead_id)))
                .key("sk", s(PROFILE_SK))
                .update_expression(format!("SET {}", sets.join(", ")))
                .set_expression_attribute_names((!names.is_empty()).then_some(names))
                .set_expression_attribute_values(Some(values))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
                .send()
                .await
                .map_err(store_error)?;
            let old = out.attributes.unwrap_or_default();
            if old.contains_key("created_at") {
                counts.updated += 1;
                // What the import changed on an existing lead is history, as for a PATCH.
                let version = int(&old, "version").unwrap_or(0).max(0) as u64 + 1;
                let changes = [
                    ("stage", text(&old, "stage"), row.stage.clone()),
                    ("owner", text(&old, "owner"), row.owner.clone()),
                ];
                for (change, from, to) in changes {
                    let Some(to) = to.filter(|to| from.as_ref() != Some(to)) else {
                        continue;
                    };
                    let h = history_item(HistoryEntry {
                        lead_id: &row.lead_id,
                        at: now.timestamp(),
                        change,
                        version: Version::After(version),
                        by: actor,
                        reason: "import",
                        from: from.as_deref(),
                        to: Some(&to),
                    });
                    self.put_once(h).await?;
                }
            } else {
                counts.imported += 1;
            }
            if let Some(opt_in) = &row.opt_in {
                self.record_consent(&ConsentRecord {
                    user: row.lead_id.clone(),
                    phone_number_id: opt_in.phone_number_id.clone(),
                    action: "opt_in".into(),
                    categories: opt_in.categories.clone(),
                    source: opt_in.source.as_str().to_string(),
                    proof: Some(opt_in.proof.clone()),
                    at: opt_in.at,
                    recorded_by: actor.to_string(),
                    via: "import",
                })
                .await?;
            }
        }
        Ok(counts)
    }
}

/// How long an import job's record is kept (the table's TTL removes it).
const JOB_RETENTION_SECONDS: i64 = 30 * 86_400;

fn job_item(job: &ImportJob) -> Attrs {
    let n = |v: i64| Av::N(v.to_string());
    let mut item: Attrs = HashMap::from([
        ("pk".to_string(), s(IMPORTS_PK)),
        ("sk".to_string(), s(import_job_sk(&job.id))),
        ("item_kind".to_string(), s("import_job")),
        ("job_id".to_string(), s(job.id.as_str())),
        ("status".to_string(), s(job.status.as_str())),
        ("access".to_string(), s(job.access.as_str())),
        ("created_by".to_string(), s(job.created_by.as_str())),
        ("created_at".to_string(), n(job.created_at)),
        ("imported".to_string(), n(job.imported as i64)),
        ("updated".to_string(), n(job.updated as i64)),
        ("error_count".to_string(), n(job.error_count as i64)),
        (
            "expires_at".to_string(),
            n(job.created_at + JOB_RETENTION_SECONDS),
        ),
        (
            "errors".to_string(),
            s(serde_json::to_string(
                &job.errors
                    .iter()
                    .map(|e| serde_json::json!({"line": e.line, "message": e.message}))
                    .collect::<Vec<_>>(),
            )
            .unwrap_or_else(|_| "[]".into())),
        ),
    ]);
    for (k, v) in [
        ("waba_id", &job.waba_id),
        ("sha256", &job.sha256),
        ("reason", &job.reason),
    ] {
        if let Some(v) = v {
            item.insert(k.to_string(), s(v.as_str()));
        }
    }
    for (k, v) in [
        ("started_at", job.started_at),
        ("finished_at", job.finished_at),
    ] {
        if let Some(v) = v {
            item.insert(k.to_string(), n(v));
        }
    }
    item
}

fn job_from_item(item: &Attrs) -> Option<ImportJob> {
    let num = |k: &str| int(item, k);
    Some(ImportJob {
        id: text(item, "job_id")?,
        status: JobStatus::parse(&text(item, "status")?)?,
        access: text(item, "access").unwrap_or_default(),
        waba_id: text(item, "waba_id"),
        created_by: text(item, "created_by").unwrap_or_default(),
        created_at: num("created_at").unwrap_or(0),
        started_at: num("started_at"),
        finished_at: num("finished_at"),
        sha256: text(item, "sha256"),
        imported: num("imported").unwrap_or(0).max(0) as u64,
        updated: num("updated").unwrap_or(0).max(0) as u64,
        error_count: num("error_count").unwrap_or(0).max(0) as u64,
        errors: text(item, "errors")
            .and_then(|e| serde_json::from_str::<Vec<serde_json::Value>>(&e).ok())
            .unwrap_or_default()
            .iter()
            .filter_map(|e| {
                Some(RowError {
                    line: e["line"].as_u64()?,
                    message: e["message"].as_str()?.to_string(),
                })
            })
            .collect(),
        reason: text(item, "reason"),
    })
}

impl DynamoDbLeadStore {
    /// Records a new import job; `false` when a job with its id exists already.
    pub async fn create_job(&self, job: &ImportJob) -> Result<bool, LeadsError> {
        self.put_if_absent(job_item(job)).await
    }

    /// An import job, read strongly consistent.
    pub async fn job(&self, id: &str) -> Result<Option<ImportJob>, LeadsError> {
        Ok(self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(IMPORTS_PK))
            .key("sk", s(import_job_sk(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?
            .item
            .as_ref()
            .and_then(job_from_item))
    }

    /// Moves a job to `running` if it is still as `seen` (same status and start): `false`
    /// when another run got there first (a redelivered upload event, a concurrent retry).
    pub async fn start_job(
        &self,
        seen: &ImportJob,
        sha256: &str,
        now: i64,
    ) -> Result<bool, LeadsError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(IMPORTS_PK))
            .key("sk", s(import_job_sk(&seen.id)))
            .update_expression("SET #status = :running, started_at = :now, sha256 = :sha")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":running", s(JobStatus::Running.as_str()))
            .expression_attribute_values(":now", Av::N(now.to_string()))
            .expression_attribute_values(":sha", s(sha256))
            .expression_attribute_values(":seen", s(seen.status.as_str()));
        update = match seen.started_at {
            Some(t) => update
                .condition_expression("#status = :seen AND started_at = :started")
                .expression_attribute_values(":started", Av::N(t.to_string())),
            None => {
                update.condition_expression("#status = :seen AND attribute_not_exists(started_at)")
            }
        };
        match update.send().await {
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

    /// Stores a job's final state (`done` or `failed`).
    pub async fn finish_job(&self, job: &ImportJob) -> Result<(), LeadsError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(job_item(job)))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }
}
