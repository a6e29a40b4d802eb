//! The answers to a signed POST: each outcome of ingesting it becomes its log lines, its
//! metrics and one response. Stored → 200; a body that cannot be stored whole is kept raw
//! (quarantined) and acknowledged → 200; storage down → 503 so Meta retries.

use crate::handler::Webhook;
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use shared::ingest::{Ingested, Parsed, quarantine_key};
use shared::ports::{ApplyReport, EventStore, RawStore, WebhookSecretSource};
use shared::telemetry::emit_metrics;
use std::time::Instant;

/// Every write applied or found applied: counted per event family, one log line, and one
/// line per consent signal.
pub(crate) fn stored(parsed: &Parsed, report: &ApplyReport, started: Instant) -> Response<Body> {
    for (family, n) in parsed.by_family() {
        emit_metrics(
            "webhook",
            &[("Kind", family)],
            &[("Events", n as f64, "Count")],
        );
    }
    emit_metrics(
        "webhook",
        &[],
        &[
            ("Stored", report.applied as f64, "Count"),
            ("Duplicates", report.unchanged as f64, "Count"),
            ("KeptRaw", parsed.kept_raw as f64, "Count"),
        ],
    );
    tracing::info!(
        items = parsed.item_count(),
        statuses = parsed.statuses,
        writes = parsed.writes,
        applied = report.applied,
        unchanged = report.unchanged,
        kept_raw = parsed.kept_raw,
        envelope_unknown = parsed.envelope_unknown,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "webhook stored"
    );
    // Consent changes are rare and matter to operators: one line each, user masked.
    for note in &parsed.consent {
        tracing::info!(
            user = %note.user,
            action = note.action,
            source = note.source,
            "consent signal received (stored once, duplicates included)"
        );
    }
    respond(StatusCode::OK, "EVENT_RECEIVED")
}

/// Storage is down: Meta will retry.
pub(crate) fn storage_unavailable(detail: &str) -> Response<Body> {
    tracing::error!(%detail, "storage unavailable; Meta will retry");
    emit_metrics("webhook", &[], &[("StorageUnavailable", 1.0, "Count")]);
    respond(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable")
}

impl<S: EventStore, R: RawStore, K: WebhookSecretSource> Webhook<S, R, K> {
    /// A signed body that cannot be stored whole (unparseable, or writes the store refused):
    /// why, in the log, then the body kept raw and acknowledged.
    pub(crate) async fn keep_raw(&self, ingested: &Ingested, body: &[u8]) -> Response<Body> {
        let failure = ingested
            .failure()
            .expect("every other outcome is a failure");
        match ingested {
            Ingested::Unparseable(f) => {
                tracing::warn!(reason = f.reason, error = %f.detail, bytes = body.len(), "signed body is not a webhook envelope");
            }
            Ingested::Stored { report, .. } => {
                // Everything else is stored; the writes the store refused are named,
                // and the signed body is kept raw with them so nothing is lost (the
                // fast path keeps no per-item JSON, so the body is the faithful copy;
                // a replay later re-applies only what is missing, every write being
                // idempotent).
                tracing::error!(
                    rejected = report.rejected.len(),
                    applied = report.applied,
                    detail = %failure.detail,
                    "store refused some writes; the rest are stored, the body is kept raw"
                );
                emit_metrics(
                    "webhook",
                    &[],
                    &[("Rejected", report.rejected.len() as f64, "Count")],
                );
            }
            Ingested::Rejected { .. } => {
                // Only for a refusal outside the per-write path (an oversized part's
                // S3 copy).
                tracing::error!(detail = %failure.detail, "store rejected the data; keeping the body raw");
            }
        }
        self.quarantine(body, failure.reason, &failure.detail).await
    }

    /// Keeps a signed body we cannot process, then acknowledges it. Same body → same key
    /// (no date in it), so Meta's retries, even across midnight, do not pile up copies; the
    /// object's own time says when it came.
    async fn quarantine(&self, body: &[u8], reason: &str, detail: &str) -> Response<Body> {
        let key = quarantine_key(&self.quarantine_prefix, reason, body);
        let detail: String = detail.chars().take(400).collect();
        match self
            .raw
            .put_raw(&key, body, &[("reason", reason), ("detail", &detail)])
            .await
        {
            Ok(()) => {
                tracing::warn!(%key, reason, "signed body quarantined");
                emit_metrics(
                    "webhook",
                    &[("Reason", reason)],
                    &[("Quarantined", 1.0, "Count")],
                );
                respond(StatusCode::OK, "EVENT_RECEIVED")
            }
            Err(e) => {
                tracing::error!(error = %e, "could not quarantine a signed body; Meta will retry");
                respond(StatusCode::SERVICE_UNAVAILABLE, "storage unavailable")
            }
        }
    }
}

/// A plain-text answer.
pub(crate) fn respond(status: StatusCode, body: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::Text(body.to_string()))
        .expect("static response parts are valid")
}
