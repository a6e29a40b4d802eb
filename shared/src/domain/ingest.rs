//! What to store for a parsed POST: each [`Write`] is exactly one conditional, idempotent
//! storage request, so a retried or duplicated POST converges to the same stored state and
//! the number of requests per event is known before any I/O.

use super::consent::{self, ConsentAction, ConsentKeywords, ConsentSource};
use super::webhook::{
    AccountEvent, ApiError, AutomaticEvent, Batch, ChangeCtx, Event, EventKind, Inbound, Status,
    TemplateEvent,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Consent categories a signal applies to. A STOP keyword stops every business-initiated
/// message; Meta's `user_preferences` covers marketing only.
pub const KEYWORD_CATEGORIES: &[&str] = &["marketing", "utility"];
pub const USER_PREFERENCE_CATEGORIES: &[&str] = &["marketing"];

/// One consent signal (history record + current-state update per category).
#[derive(Debug, Clone)]
pub struct ConsentSignal<'b> {
    pub user_key: &'b str,
    /// The person's other ids the item carries (phone beside a business-scoped id): the
    /// current state is written under each, so the consent check by any of them answers at
    /// once, before the aggregator links them.
    pub other_ids: Vec<&'b str>,
    pub phone_number_id: &'b str,
    pub action: ConsentAction,
    /// `keyword` or `user_preferences`.
    pub source: ConsentSource,
    pub categories: &'static [&'static str],
    pub at: i64,
    /// Idempotency id: the wamid of the keyword message, or a content hash.
    pub id: String,
    /// The normalised keyword, for keyword signals.
    pub keyword: Option<String>,
}

#[derive(Debug)]
pub enum WabaEventKind<'b> {
    SystemError(&'b ApiError<'b>),
    Account(&'b AccountEvent<'b>),
    Automatic(&'b AutomaticEvent<'b>),
}

#[derive(Debug)]
pub enum Write<'b> {
    /// Outbound message item: apply one status (ladder, pricing once, first-seen time).
    Status {
        ctx: &'b ChangeCtx<'b>,
        event: &'b Event<'b>,
        status: &'b Status<'b>,
    },
    /// Inbound message item, written once per wamid.
    Inbound {
        ctx: &'b ChangeCtx<'b>,
        event: &'b Event<'b>,
        msg: &'b Inbound<'b>,
        user_key: Option<&'b str>,
        consent: Option<ConsentAction>,
    },
    /// Contact/lead: created on first inbound, first touch written once.
    Lead {
        ctx: &'b ChangeCtx<'b>,
        msg: &'b Inbound<'b>,
        user_key: &'b str,
    },
    /// The lead's latest inbound message (forward-only), for dormancy and the service window.
    LeadActivity {
        msg: &'b Inbound<'b>,
        user_key: &'b str,
    },
    /// First touch of a lead: its earliest Click-to-WhatsApp referral.
    LeadFirstTouch {
        msg: &'b Inbound<'b>,
        user_key: &'b str,
    },
    /// A `system` number-change notice, recorded on an existing lead.
    LeadNumberChange {
        msg: &'b Inbound<'b>,
        user_key: &'b str,
    },
    ConsentEvent(ConsentSignal<'b>),
    ConsentState {
        signal: ConsentSignal<'b>,
        category: &'static str,
        /// The id the state is written under: the signal's user key or one of its other ids.
        user_key: &'b str,
    },
    TemplateEvent {
        ctx: &'b ChangeCtx<'b>,
        event: &'b Event<'b>,
        template: &'b TemplateEvent<'b>,
    },
    TemplateState {
        ctx: &'b ChangeCtx<'b>,
        template: &'b TemplateEvent<'b>,
    },
    WabaEvent {
        ctx: &'b ChangeCtx<'b>,
        event: &'b Event<'b>,
        kind: WabaEventKind<'b>,
    },
    /// Raw JSON kept for what is not modelled, kind named.
    Kept {
        ctx: &'b ChangeCtx<'b>,
        event: &'b Event<'b>,
        kind: &'b str,
        reason: &'b str,
    },
}

impl Write<'_> {
    /// A short name of the write's kind, for logs and for what is kept when one is refused.
    pub fn kind(&self) -> &'static str {
        match self {
            Write::Status { .. } => "status",
            Write::Inbound { .. } => "inbound",
            Write::Lead { .. } => "lead",
            Write::LeadActivity { .. } => "lead_activity",
            Write::LeadFirstTouch { .. } => "lead_first_touch",
            Write::LeadNumberChange { .. } => "lead_number_change",
            Write::ConsentEvent(_) => "consent_event",
            Write::ConsentState { .. } => "consent_state",
            Write::TemplateEvent { .. } => "template_event",
            Write::TemplateState { .. } => "template_state",
            Write::WabaEvent { .. } => "waba_event",
            Write::Kept { .. } => "kept",
        }
    }
}

/// The writes for a POST plus per-kind counts of what it held.
#[derive(Debug, Default)]
pub struct Plan<'b> {
    pub writes: Vec<Write<'b>>,
    /// Items by kind (`status.read`, `inbound.text`, `kept.field:calls`, …).
    pub items: BTreeMap<String, usize>,
    /// Items with something unmodelled kept raw, by kind.
    pub kept_raw: BTreeMap<String, usize>,
}

impl Plan<'_> {
    pub fn item_count(&self) -> usize {
        self.items.values().sum()
    }
    pub fn status_count(&self) -> usize {
        self.writes
            .iter()
            .filter(|w| matches!(w, Write::Status { .. }))
            .count()
    }
}

/// Stable short id of some JSON text: used to make records idempotent when Meta gives no id.
pub fn content_id(raw: &str) -> String {
    let digest = Sha256::digest(raw.as_bytes());
    hex::encode(&digest[..12])
}

pub fn plan<'b>(batch: &'b Batch<'b>, keywords: &ConsentKeywords) -> Plan<'b> {
    let mut plan = Plan {
        writes: Vec::with_capacity(batch.events.len() + 4),
        ..Plan::default()
    };
    for event in &batch.events {
        let ctx = batch.ctx(event);
        // Counting allocates a key string only per distinct kind on the hot path.
        let name = event.kind.name();
        if event.keeps_raw() {
            let kept_kind = match &event.kind {
                EventKind::Kept { kind, .. } => kind.clone(),
                _ => format!("fields:{name}"),
            };
            *plan.kept_raw.entry(kept_kind).or_default() += 1;
        }
        match plan.items.get_mut(name.as_ref()) {
            Some(count) => *count += 1,
            None => {
                plan.items.insert(name.into_owned(), 1);
            }
        }
        plan_event(&mut plan.writes, ctx, event, keywords);
    }
    plan
}

fn plan_event<'b>(
    w: &mut Vec<Write<'b>>,
    ctx: &'b ChangeCtx<'b>,
    event: &'b Event<'b>,
    keywords: &ConsentKeywords,
) {
    let phone_number_id = ctx.phone_number_id.as_deref().unwrap_or("unknown");
    match &event.kind {
        EventKind::Status(status) => w.push(Write::Status { ctx, event, status }),
        EventKind::Inbound(msg) => {
            let user_key = msg.user_key();
            let consent = if msg.is_user_message() {
                msg.text.as_deref().and_then(|t| keywords.classify(t))
            } else {
                None
            };
            w.push(Write::Inbound {
                ctx,
                event,
                msg,
                user_key,
                consent,
            });
            let Some(user_key) = user_key else { return };
            if msg.is_user_message() {
                w.push(Write::Lead { ctx, msg, user_key });
                w.push(Write::LeadActivity { msg, user_key });
                if msg.referral.is_some() {
                    w.push(Write::LeadFirstTouch { msg, user_key });
                }
            } else if msg
                .system
                .as_ref()
                .is_some_and(|s| s.new_wa_id.is_some() || s.new_user_id.is_some())
            {
                w.push(Write::LeadNumberChange { msg, user_key });
            }
            if let Some(action) = consent {
                let signal = ConsentSignal {
                    user_key,
                    other_ids: [msg.phone(), msg.user_id()]
                        .into_iter()
                        .flatten()
                        .filter(|id| *id != user_key)
                        .collect(),
                    phone_number_id,
                    action,
                    source: ConsentSource::Keyword,
                    categories: KEYWORD_CATEGORIES,
                    at: msg.timestamp,
                    id: msg.wamid.to_string(),
                    keyword: msg.text.as_deref().map(|t| t.trim().to_lowercase()),
                };
                push_consent(w, signal);
            }
        }
        EventKind::UserPreference(pref) => {
            let action = consent::from_user_preference(&pref.value);
            match (action, pref.user_key()) {
                (Some(action), Some(user_key)) => push_consent(
                    w,
                    ConsentSignal {
                        user_key,
                        other_ids: [pref.wa_id.as_deref(), pref.user_id.as_deref()]
                            .into_iter()
                            .flatten()
                            .filter(|id| !id.is_empty() && *id != user_key)
                            .collect(),
                        phone_number_id,
                        action,
                        source: ConsentSource::UserPreferences,
                        categories: USER_PREFERENCE_CATEGORIES,
                        at: pref.timestamp,
                        id: content_id(event.raw_json()),
                        keyword: None,
                    },
                ),
                // A value we do not know ("signup") or no user: keep it raw.
                _ => w.push(Write::Kept {
                    ctx,
                    event,
                    kind: "user_preference",
                    reason: "not a stop/resume for a known user",
                }),
            }
        }
        EventKind::Template(template) => {
            w.push(Write::TemplateEvent {
                ctx,
                event,
                template,
            });
            w.push(Write::TemplateState { ctx, template });
        }
        EventKind::SystemError(e) => w.push(Write::WabaEvent {
            ctx,
            event,
            kind: WabaEventKind::SystemError(e),
        }),
        EventKind::AccountEvent(a) => w.push(Write::WabaEvent {
            ctx,
            event,
            kind: WabaEventKind::Account(a),
        }),
        EventKind::AutomaticEvent(a) => w.push(Write::WabaEvent {
            ctx,
            event,
            kind: WabaEventKind::Automatic(a),
        }),
        EventKind::Kept { kind, reason } => w.push(Write::Kept {
            ctx,
            event,
            kind,
            reason,
        }),
    }
}

fn push_consent<'b>(w: &mut Vec<Write<'b>>, signal: ConsentSignal<'b>) {
    let mut keys = vec![signal.user_key];
    keys.extend(signal.other_ids.iter().copied());
    keys.dedup();
    for user_key in keys {
        for category in signal.categories {
            w.push(Write::ConsentState {
                signal: signal.clone(),
                category,
                user_key,
            });
        }
    }
    w.push(Write::ConsentEvent(signal));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::webhook::parse;

    fn inbound_body(text: &str) -> String {
        format!(
            r#"{{"entry":[{{"id":"1","changes":[{{"field":"messages","value":{{"metadata":{{"phone_number_id":"P"}},"contacts":[{{"wa_id":"555"}}],"messages":[{{"from":"555","id":"wamid.1","timestamp":"10","type":"text","text":{{"body":{}}}}}]}}}}]}}]}}"#,
            serde_json::to_string(text).unwrap()
        )
    }

    #[test]
    fn one_write_per_status() {
        let body = r#"{"entry":[{"id":"1","changes":[{"field":"messages","value":{"statuses":[
            {"id":"w1","status":"sent","timestamp":"1","recipient_id":"5"},
            {"id":"w1","status":"read","timestamp":"2","recipient_id":"5"}]}}]}]}"#;
        let batch = parse(body.as_bytes()).unwrap();
        let plan = plan(&batch, &ConsentKeywords::default());
        assert_eq!(plan.writes.len(), 2);
        assert_eq!(plan.status_count(), 2);
        assert_eq!(plan.items.get("status.sent"), Some(&1));
        assert_eq!(plan.items.get("status.read"), Some(&1));
    }

    #[test]
    fn stop_keyword_records_consent_and_the_music_does_not() {
        let body = inbound_body(" STOP ");
        let batch = parse(body.as_bytes()).unwrap();
        let p = plan(&batch, &ConsentKeywords::default());
        // inbound + lead + lead activity + 2 consent states + 1 consent event
        assert_eq!(p.writes.len(), 6);
        assert!(matches!(
            &p.writes[0],
            Write::Inbound {
                consent: Some(ConsentAction::OptOut),
                ..
            }
        ));
        let Write::ConsentEvent(signal) = &p.writes[5] else {
            panic!("no consent event")
        };
        assert_eq!(signal.keyword.as_deref(), Some("stop"));
        assert_eq!(signal.id, "wamid.1");

        let body = inbound_body("stop the music");
        let batch = parse(body.as_bytes()).unwrap();
        let p = plan(&batch, &ConsentKeywords::default());
        assert_eq!(p.writes.len(), 3, "only inbound + lead + lead activity");
    }

    #[test]
    fn content_id_is_stable() {
        assert_eq!(content_id("{}"), content_id("{}"));
        assert_ne!(content_id("{}"), content_id("{ }"));
        assert_eq!(content_id("{}").len(), 24);
    }
}
