//! The parser: a signed body's bytes → a [`Batch`] of events.

use super::Str;
use super::model::*;
use super::wire::*;
use crate::domain::lenient::Text;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The pseudo-field of the change that keeps unmodelled envelope-level keys.
pub const ENVELOPE_FIELD: &str = "<envelope>";

/// Keys every `value` may carry besides the field-specific ones.
const VALUE_COMMON: &[&str] = &["messaging_product", "metadata", "field", "object"];

/// Parses `T` from `raw`, collecting the paths of fields `T` does not declare.
fn typed<'a, T: Deserialize<'a>>(raw: &'a str) -> Result<(T, Vec<String>), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(raw);
    let mut unknown = Vec::new();
    let value =
        serde_ignored::deserialize(&mut de, |path| unknown.push(clean_path(&path.to_string())))?;
    de.end()?;
    Ok((value, unknown))
}

/// `pricing.?.tier` → `pricing.tier` (`?` marks an `Option` level).
fn clean_path(path: &str) -> String {
    path.split('.')
        .filter(|seg| *seg != "?")
        .collect::<Vec<_>>()
        .join(".")
}

/// Parses a signed POST body. Fails only when the body is not a webhook envelope at all;
/// anything inside that does not fit is kept as [`EventKind::Kept`].
pub fn parse(body: &[u8]) -> Result<Batch<'_>, ParseError> {
    let text = std::str::from_utf8(body).map_err(|e| ParseError::InvalidUtf8(e.valid_up_to()))?;
    if let Some(batch) = parse_status_receipts(text) {
        return Ok(batch);
    }
    let (envelope, envelope_unknown_fields) = match typed::<WireEnvelope>(text) {
        Ok(ok) => ok,
        Err(e) if e.is_data() => return Err(ParseError::NotAnEnvelope(e.to_string())),
        Err(e) => return Err(ParseError::InvalidJson(e)),
    };
    let mut batch = Batch {
        envelope_unknown_fields,
        ..Batch::default()
    };
    let first_waba = envelope.entry.first().and_then(|e| e.id.clone());
    for entry in envelope.entry {
        let waba_id = entry.id.unwrap_or(Text(Cow::Borrowed("unknown")));
        let entry_time = entry.time.map(|t| t.0);
        for change in entry.changes {
            parse_change(&mut batch, waba_id.clone(), entry_time, change);
        }
    }
    if !batch.envelope_unknown_fields.is_empty() {
        // Unmodelled keys outside any change: keep the whole body, once, under its own
        // pseudo-change so nothing is dropped.
        let raw: &RawValue = serde_json::from_str(text).map_err(ParseError::InvalidJson)?;
        let reason = format!(
            "unmodelled envelope keys: {}",
            batch.envelope_unknown_fields.join(", ")
        );
        batch.changes.push(ChangeCtx {
            waba_id: first_waba.unwrap_or(Text(Cow::Borrowed("unknown"))),
            entry_time: None,
            field: Text(Cow::Borrowed(ENVELOPE_FIELD)),
            phone_number_id: None,
            display_phone_number: None,
        });
        batch.events.push(kept(
            batch.changes.len() - 1,
            raw,
            "envelope_fields".into(),
            reason,
        ));
    }
    Ok(batch)
}

/// The fast path: a body holding only `messages` changes of known statuses, nothing
/// unknown anywhere. `None` sends the body down the general path (same result, slower).
fn parse_status_receipts(text: &str) -> Option<Batch<'_>> {
    let envelope: StrictStatusEnvelope = serde_json::from_str(text).ok()?;
    let receipts_only = envelope.entry.iter().flat_map(|e| &e.changes).all(|c| {
        c.field.as_str() == "messages"
            && !c.value.statuses.is_empty()
            && c.value
                .statuses
                .iter()
                .all(|s| StatusKind::parse(&s.status).is_some())
    });
    if !receipts_only {
        return None;
    }
    let mut batch = Batch::default();
    for entry in envelope.entry {
        for change in entry.changes {
            let (phone_number_id, display_phone_number) = change
                .value
                .metadata
                .map(|m| (m.phone_number_id, m.display_phone_number))
                .unwrap_or_default();
            let index = batch.changes.len();
            batch.changes.push(ChangeCtx {
                waba_id: entry.id.clone(),
                entry_time: entry.time.map(|t| t.0),
                field: change.field,
                phone_number_id,
                display_phone_number,
            });
            batch.events.reserve(change.value.statuses.len());
            for s in change.value.statuses {
                let status = StatusKind::parse(&s.status).expect("checked above");
                let kind = EventKind::Status(strict::status_event(s, status));
                batch.events.push(Event {
                    change: index,
                    kind,
                    unknown_fields: Vec::new(),
                    raw: None,
                });
            }
        }
    }
    Some(batch)
}

fn parse_change<'a>(
    batch: &mut Batch<'a>,
    waba_id: Str<'a>,
    entry_time: Option<i64>,
    change: WireChange<'a>,
) {
    // Routing needs a pass over `value` only in Meta's malformed examples without `field`.
    let head: Option<WireValueHead> = match change.field {
        Some(_) => None,
        None => change
            .value
            .and_then(|v| serde_json::from_str(v.get()).ok()),
    };
    let field = change
        .field
        .or_else(|| head.as_ref().and_then(|h| h.field.clone()))
        .unwrap_or(Text(Cow::Borrowed("<missing field>")));
    let metadata = head.and_then(|h| h.metadata);
    let index = batch.changes.len();
    batch.changes.push(ChangeCtx {
        waba_id,
        entry_time,
        field: field.clone(),
        phone_number_id: metadata.as_ref().and_then(|m| m.phone_number_id.clone()),
        display_phone_number: metadata.and_then(|m| m.display_phone_number),
    });
    let Some(value) = change.value else {
        // A change without a value still counts: keep it (as `null`) under its field.
        let raw: &'a RawValue = serde_json::from_str("null").expect("null is JSON");
        batch.events.push(kept(
            index,
            raw,
            format!("field:{field}"),
            "change has no value".into(),
        ));
        return;
    };
    let mut out = Collector { batch, index };
    match field.as_ref() {
        "messages" => out.messages(value),
        "message_template_status_update"
        | "message_template_quality_update"
        | "template_category_update" => out.template(value, entry_time),
        "user_preferences" => out.user_preferences(value),
        "account_update" | "phone_number_quality_update" => out.account(value, &field, entry_time),
        "automatic_events" => out.automatic_events(value),
        other => {
            let kind = format!("field:{other}");
            out.push_kept(value, kind, "webhook field not modelled; stored raw".into());
        }
    }
}

fn kept<'a>(change: usize, raw: &'a RawValue, kind: String, reason: String) -> Event<'a> {
    Event {
        change,
        kind: EventKind::Kept { kind, reason },
        unknown_fields: Vec::new(),
        raw: Some(raw),
    }
}

struct Collector<'b, 'a> {
    batch: &'b mut Batch<'a>,
    index: usize,
}

impl<'a> Collector<'_, 'a> {
    fn push(&mut self, raw: &'a RawValue, kind: EventKind<'a>, unknown_fields: Vec<String>) {
        self.batch.events.push(Event {
            change: self.index,
            kind,
            unknown_fields,
            raw: Some(raw),
        });
    }

    /// An item read on the fast path: nothing unmodelled, so no raw JSON to keep.
    fn push_typed(&mut self, kind: EventKind<'a>) {
        self.batch.events.push(Event {
            change: self.index,
            kind,
            unknown_fields: Vec::new(),
            raw: None,
        });
    }

    /// Business number of the change, from the field's own `metadata`.
    fn metadata(&mut self, metadata: Option<WireMetadata<'a>>) {
        if let Some(m) = metadata {
            self.metadata_parts(m.phone_number_id, m.display_phone_number);
        }
    }

    fn metadata_parts(
        &mut self,
        phone_number_id: Option<Str<'a>>,
        display_phone_number: Option<Str<'a>>,
    ) {
        let ctx = &mut self.batch.changes[self.index];
        if ctx.phone_number_id.is_none() {
            ctx.phone_number_id = phone_number_id;
        }
        if ctx.display_phone_number.is_none() {
            ctx.display_phone_number = display_phone_number;
        }
    }

    fn push_kept(&mut self, raw: &'a RawValue, kind: String, reason: String) {
        self.batch.events.push(kept(self.index, raw, kind, reason));
    }

    /// Unknown keys of a change `value` (outside the item arrays) are kept too: the value
    /// itself becomes a kept record naming them.
    fn value_unknowns(
        &mut self,
        value: &'a RawValue,
        field: &str,
        unknown: Vec<String>,
        known: &[&str],
    ) {
        let unknown: Vec<String> = unknown
            .into_iter()
            .filter(|p| {
                !VALUE_COMMON
                    .iter()
                    .chain(known)
                    .any(|k| p == k || p.starts_with(&format!("{k}.")))
            })
            .collect();
        if !unknown.is_empty() {
            let reason = format!("unmodelled keys in {field} value: {}", unknown.join(", "));
            self.push_kept(value, format!("value_fields:{field}"), reason);
        }
    }

    fn messages(&mut self, value: &'a RawValue) {
        if self.messages_fast(value) {
            return;
        }
        let (v, unknown) = match typed::<WireMessagesValue>(value.get()) {
            Ok(ok) => ok,
            Err(e) => {
                return self.push_kept(
                    value,
                    "field:messages".into(),
                    format!("value does not fit: {e}"),
                );
            }
        };
        self.metadata(v.metadata);
        self.value_unknowns(value, "messages", unknown, &["contacts"]);
        if v.messages.is_empty() && v.statuses.is_empty() && v.errors.is_empty() {
            self.push_kept(
                value,
                "messages.empty".into(),
                "no messages, statuses or errors".into(),
            );
        }
        let contacts: Vec<Contact<'a>> = v.contacts.into_iter().map(Contact::from).collect();
        for raw in v.statuses {
            self.status(raw);
        }
        for raw in v.messages {
            self.inbound(raw, &contacts);
        }
        for raw in v.errors {
            match typed::<WireError>(raw.get()) {
                Ok((e, unknown)) => self.push(raw, EventKind::SystemError(e.into()), unknown),
                Err(e) => self.push_kept(raw, "system_error".into(), format!("does not fit: {e}")),
            }
        }
    }

    /// One typed pass over the whole value. Taken only when nothing in it is unmodelled
    /// (no unknown key, status value or message type) — then no item needs its raw JSON.
    /// Otherwise returns false and the per-item path (which keeps raw JSON) runs instead.
    fn messages_fast(&mut self, value: &'a RawValue) -> bool {
        let Ok((v, unknown)) = typed::<WireMessagesTyped>(value.get()) else {
            return false;
        };
        // System errors carry no id of their own: their records are keyed by a hash of
        // their raw JSON, so they always take the per-item path that keeps it.
        let clean = unknown.iter().all(|p| VALUE_COMMON.contains(&p.as_str()))
            && v.errors.is_empty()
            && (!v.messages.is_empty() || !v.statuses.is_empty())
            && v.statuses
                .iter()
                .all(|s| StatusKind::parse(&s.status).is_some())
            && v.messages
                .iter()
                .all(|m| is_known_message_type(m.msg_type.as_deref()));
        if !clean {
            return false;
        }
        self.metadata(v.metadata);
        self.batch
            .events
            .reserve(v.statuses.len() + v.messages.len());
        for s in v.statuses {
            let status = StatusKind::parse(&s.status).expect("checked above");
            self.push_typed(EventKind::Status(status_event(s, status)));
        }
        let contacts: Vec<Contact<'a>> = v.contacts.into_iter().map(Contact::from).collect();
        for m in v.messages {
            self.push_typed(EventKind::Inbound(Box::new(inbound_event(m, &contacts))));
        }
        true
    }

    fn status(&mut self, raw: &'a RawValue) {
        let (s, unknown) = match typed::<WireStatus>(raw.get()) {
            Ok(ok) => ok,
            Err(e) => return self.push_kept(raw, "status".into(), format!("does not fit: {e}")),
        };
        let Some(status) = StatusKind::parse(&s.status) else {
            let kind = format!("status_value:{}", s.status);
            return self.push_kept(raw, kind, "status value not modelled".into());
        };
        self.push(raw, EventKind::Status(status_event(s, status)), unknown);
    }

    fn inbound(&mut self, raw: &'a RawValue, contacts: &[Contact<'a>]) {
        let (m, mut unknown) = match typed::<WireMessage>(raw.get()) {
            Ok(ok) => ok,
            Err(e) => return self.push_kept(raw, "inbound".into(), format!("does not fit: {e}")),
        };
        // An unknown or missing type is stored as an inbound message (it is one) with its
        // raw JSON, and counted under its type name.
        if !is_known_message_type(m.msg_type.as_deref()) {
            unknown.push(format!(
                "type:{}",
                m.msg_type.as_deref().unwrap_or("<missing>")
            ));
        }
        self.push(
            raw,
            EventKind::Inbound(Box::new(inbound_event(m, contacts))),
            unknown,
        );
    }

    fn template(&mut self, value: &'a RawValue, entry_time: Option<i64>) {
        let (t, unknown) = match typed::<WireTemplateValue>(value.get()) {
            Ok(ok) => ok,
            Err(e) => {
                return self.push_kept(value, "template".into(), format!("does not fit: {e}"));
            }
        };
        // Route on content, not on `field`: Meta's own quality example arrives under the
        // status-update field name.
        let (change, new_value, previous_value, impending) = if t.new_quality_score.is_some() {
            (
                TemplateChange::Quality,
                t.new_quality_score,
                t.previous_quality_score,
                false,
            )
        } else if t.new_category.is_some() || t.correct_category.is_some() {
            let impending = t.previous_category.is_none() && t.correct_category.is_some();
            (
                TemplateChange::Category,
                t.new_category,
                t.previous_category,
                impending,
            )
        } else {
            (TemplateChange::Status, t.event, None, false)
        };
        let at = entry_time
            .or(t.category_update_timestamp.map(|ts| ts.0))
            .unwrap_or(0);
        let event = TemplateEvent {
            change,
            template_id: t.message_template_id,
            name: t.message_template_name,
            language: t.message_template_language,
            new_value,
            previous_value,
            reason: t.reason,
            category: t.message_template_category.or(t.correct_category),
            impending,
            at,
        };
        self.push(value, EventKind::Template(event), unknown);
    }

    fn user_preferences(&mut self, value: &'a RawValue) {
        let (v, unknown) = match typed::<WireUserPreferencesValue>(value.get()) {
            Ok(ok) => ok,
            Err(e) => {
                return self.push_kept(
                    value,
                    "field:user_preferences".into(),
                    format!("value does not fit: {e}"),
                );
            }
        };
        self.metadata(v.metadata);
        self.value_unknowns(value, "user_preferences", unknown, &["contacts"]);
        let contacts: Vec<Contact<'a>> = v.contacts.into_iter().map(Contact::from).collect();
        for raw in v.user_preferences {
            match typed::<WireUserPreference>(raw.get()) {
                Ok((p, unknown)) => {
                    let wa_id = non_empty_cow(p.wa_id);
                    let contact = match_contact(&contacts, wa_id.as_deref(), p.user_id.as_deref());
                    let pref = UserPreference {
                        user_id: non_empty_cow(p.user_id).or(contact.and_then(|c| c.user_id)),
                        wa_id,
                        category: p.category,
                        value: p.value,
                        timestamp: p.timestamp.0,
                    };
                    self.push(raw, EventKind::UserPreference(pref), unknown);
                }
                Err(e) => {
                    self.push_kept(raw, "user_preference".into(), format!("does not fit: {e}"))
                }
            }
        }
    }

    fn account(&mut self, value: &'a RawValue, field: &Str<'a>, entry_time: Option<i64>) {
        match typed::<WireAccountValue>(value.get()) {
            Ok((a, unknown)) => {
                let event = AccountEvent {
                    field: field.clone(),
                    event: a.event,
                    at: entry_time.unwrap_or(0),
                };
                self.push(value, EventKind::AccountEvent(event), unknown);
            }
            Err(e) => self.push_kept(
                value,
                format!("field:{field}"),
                format!("value does not fit: {e}"),
            ),
        }
    }

    fn automatic_events(&mut self, value: &'a RawValue) {
        let (v, unknown) = match typed::<WireAutomaticEventsValue>(value.get()) {
            Ok(ok) => ok,
            Err(e) => {
                return self.push_kept(
                    value,
                    "field:automatic_events".into(),
                    format!("value does not fit: {e}"),
                );
            }
        };
        self.metadata(v.metadata);
        self.value_unknowns(value, "automatic_events", unknown, &[]);
        for raw in v.automatic_events {
            match typed::<WireAutomaticEvent>(raw.get()) {
                Ok((a, unknown)) => {
                    let custom = a.custom_data;
                    let event = AutomaticEvent {
                        wamid: a.id,
                        event_name: a.event_name,
                        ctwa_clid: non_empty_cow(a.ctwa_clid),
                        currency: custom.as_ref().and_then(|c| c.currency.clone()),
                        value_milli: custom.and_then(|c| c.value),
                        timestamp: a.timestamp.0,
                    };
                    self.push(raw, EventKind::AutomaticEvent(event), unknown);
                }
                Err(e) => {
                    self.push_kept(raw, "automatic_event".into(), format!("does not fit: {e}"))
                }
            }
        }
    }
}

/// Message types Meta documents (OAS discriminator, system, request_welcome).
fn is_known_message_type(t: Option<&str>) -> bool {
    matches!(
        t,
        Some(
            "text"
                | "reaction"
                | "audio"
                | "document"
                | "image"
                | "sticker"
                | "video"
                | "location"
                | "contacts"
                | "unsupported"
                | "unknown"
                | "button"
                | "interactive"
                | "order"
                | "system"
                | "request_welcome"
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statuses_body(items: &str) -> String {
        format!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"id":"102290129340398","changes":[{{"value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550783881","phone_number_id":"106540352242922"}},"statuses":[{items}]}},"field":"messages"}}]}}]}}"#
        )
    }

    #[test]
    fn parses_a_pmp_status_without_allocating_ids() {
        let body = statuses_body(
            r#"{"id":"wamid.A","status":"sent","timestamp":"1750263773","recipient_id":"16505551234","pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"},"conversation":{"id":"c1","expiration_timestamp":"1750350000","origin":{"type":"marketing"}}}"#,
        );
        let batch = parse(body.as_bytes()).unwrap();
        assert_eq!(batch.events.len(), 1);
        let EventKind::Status(s) = &batch.events[0].kind else {
            panic!("not a status")
        };
        assert!(matches!(s.wamid.0, Cow::Borrowed("wamid.A")));
        assert_eq!(s.status, StatusKind::Sent);
        assert_eq!(s.timestamp, 1750263773);
        let p = s.pricing.as_ref().unwrap();
        assert_eq!(p.pricing_type.as_deref(), Some("regular"));
        assert_eq!(
            s.conversation.as_ref().unwrap().expiration_timestamp,
            Some(1750350000)
        );
        assert!(
            batch.events[0].raw.is_none(),
            "a clean status batch takes the strict fast path"
        );
        assert!(batch.events[0].unknown_fields.is_empty());
        assert_eq!(
            batch.changes[0].phone_number_id.as_deref(),
            Some("106540352242922")
        );
    }

    #[test]
    fn pricing_type_spelling_and_empty_recipient() {
        let body = statuses_body(
            r#"{"id":"wamid.B","status":"delivered","timestamp":"1","recipient_id":"","recipient_user_id":"US.123","pricing":{"pricing_model":"PMP","pricing_type":"free_customer_service","category":"utility"}}"#,
        );
        let batch = parse(body.as_bytes()).unwrap();
        let EventKind::Status(s) = &batch.events[0].kind else {
            panic!()
        };
        assert_eq!(
            s.pricing.as_ref().unwrap().pricing_type.as_deref(),
            Some("free_customer_service")
        );
        assert_eq!(s.recipient_phone, None);
        assert_eq!(s.recipient_user_id.as_deref(), Some("US.123"));
    }

    #[test]
    fn every_status_of_a_batch_is_an_event() {
        let items: Vec<String> = (0..1000)
            .map(|i| {
                format!(
                    r#"{{"id":"wamid.{i}","status":"read","timestamp":"{i}","recipient_id":"1"}}"#
                )
            })
            .collect();
        let body = statuses_body(&items.join(","));
        let batch = parse(body.as_bytes()).unwrap();
        assert_eq!(batch.events.len(), 1000);
    }

    #[test]
    fn unknown_fields_and_values_are_kept_and_named() {
        let body = statuses_body(
            r#"{"id":"wamid.C","status":"sent","timestamp":"1","recipient_id":"1","new_thing":{"x":1},"pricing":{"billable":false,"pricing_model":"PMP","type":"free_something_new","category":"brand_new","tier":"0:1"}},
               {"id":"wamid.D","status":"deleted","timestamp":"1","recipient_id":"1"}"#,
        );
        let batch = parse(body.as_bytes()).unwrap();
        assert_eq!(batch.events.len(), 2);
        assert_eq!(
            batch.events[0].unknown_fields,
            vec!["new_thing", "pricing.tier"]
        );
        assert!(batch.events[0].keeps_raw());
        assert!(batch.events[0].raw_json().contains("new_thing"));
        assert_eq!(batch.events[1].kind.name(), "kept.status_value:deleted");
    }

    #[test]
    fn timestamp_as_number_is_accepted_and_nonsense_is_kept() {
        let body = statuses_body(
            r#"{"id":"wamid.E","status":"sent","timestamp":1700000000,"recipient_id":"1"},
               {"id":"wamid.F","status":"sent","timestamp":{"when":"now"},"recipient_id":"1"}"#,
        );
        let batch = parse(body.as_bytes()).unwrap();
        assert_eq!(batch.events[0].kind.name(), "status.sent");
        assert_eq!(batch.events[1].kind.name(), "kept.status");
    }

    #[test]
    fn unparseable_bodies_are_errors_with_reasons() {
        assert_eq!(
            parse(b"{\"entry\": [").unwrap_err().reason(),
            "invalid_json"
        );
        assert_eq!(parse(b"\xff\xfe{}").unwrap_err().reason(), "invalid_utf8");
        assert_eq!(parse(b"[1,2]").unwrap_err().reason(), "not_an_envelope");
        assert_eq!(parse(b"{}").unwrap_err().reason(), "not_an_envelope");
        let deep = format!("{{\"entry\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(
            parse(deep.as_bytes()).is_err(),
            "deep nesting must fail cleanly, not overflow"
        );
        // A number no float can hold, in a field we do not model, is kept raw, not a panic.
        let huge = r#"{"entry":[{"id":"1","changes":[{"field":"messages","value":{"statuses":[{"id":"w","status":"sent","timestamp":"1","recipient_id":"1","n":1e999999}]}}]}]}"#;
        let batch = parse(huge.as_bytes()).unwrap();
        assert_eq!(batch.events[0].unknown_fields, vec!["n"]);
        assert!(batch.events[0].raw_json().contains("1e999999"));
    }

    #[test]
    fn system_errors_keep_their_raw_json_for_their_ids() {
        let body = |code: i64| {
            format!(
                r#"{{"entry":[{{"id":"1","changes":[{{"field":"messages","value":{{"metadata":{{"phone_number_id":"P"}},"errors":[{{"code":{code},"title":"t"}}]}}}}]}}]}}"#
            )
        };
        let (a, b) = (body(130429), body(131000));
        let (a, b) = (parse(a.as_bytes()).unwrap(), parse(b.as_bytes()).unwrap());
        assert_eq!(a.events[0].raw_json(), r#"{"code":130429,"title":"t"}"#);
        assert_ne!(a.events[0].raw_json(), b.events[0].raw_json());
        assert_eq!(a.changes[0].phone_number_id.as_deref(), Some("P"));
    }

    #[test]
    fn one_pass_and_general_paths_agree() {
        let items = r#"{"id":"wamid.A","status":"sent","timestamp":"1","recipient_id":"5","biz_opaque_callback_data":"c","pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"marketing"},"conversation":{"id":"c1","expiration_timestamp":9,"origin":{"type":"marketing"}}},
                       {"id":"wamid.A","status":"failed","timestamp":"2","recipient_id":"","recipient_user_id":"US.1","errors":[{"code":131049,"title":"t","error_data":{"details":"d"}}]},
                       {"id":"wamid.G","status":"read","timestamp":"3","recipient_id":"G","recipient_type":"group","recipient_participant_id":"7"}"#;
        let fast = statuses_body(items);
        // An unknown envelope key forces the general path; an unknown key inside a status
        // forces the per-item path. All three must read the same statuses.
        let general = fast.replacen("{\"object\"", "{\"trace\":1,\"object\"", 1);
        let per_item = fast.replacen("{\"id\":\"wamid.A\"", "{\"x\":1,\"id\":\"wamid.A\"", 1);
        let fast = parse(fast.as_bytes()).unwrap();
        let general = parse(general.as_bytes()).unwrap();
        let per_item = parse(per_item.as_bytes()).unwrap();
        assert!(
            fast.events
                .iter()
                .all(|e| e.raw.is_none() && e.kind.name().starts_with("status."))
        );
        assert_eq!(
            general.events.last().unwrap().kind.name(),
            "kept.envelope_fields"
        );
        assert_eq!(per_item.events[0].unknown_fields, vec!["x"]);
        fn statuses<'a>(b: &Batch<'a>) -> Vec<Status<'a>> {
            let pick = |e: &Event<'a>| match &e.kind {
                EventKind::Status(s) => Some(s.clone()),
                _ => None,
            };
            b.events.iter().filter_map(pick).collect()
        }
        assert_eq!(statuses(&fast).len(), 3);
        assert_eq!(statuses(&fast), statuses(&general));
        assert_eq!(statuses(&fast), statuses(&per_item));
        assert_eq!(fast.changes[0], general.changes[0]);
    }

    #[test]
    fn envelope_level_unknown_keys_are_kept() {
        let body = r#"{"object":"whatsapp_business_account","trace":"x","entry":[{"id":"7","extra":1,"changes":[{"field":"messages","value":{"statuses":[{"id":"w","status":"sent","timestamp":"1","recipient_id":"1"}]}}]}]}"#;
        let batch = parse(body.as_bytes()).unwrap();
        assert_eq!(
            batch.envelope_unknown_fields,
            vec!["trace", "entry.0.extra"]
        );
        let last = batch.events.last().unwrap();
        assert_eq!(last.kind.name(), "kept.envelope_fields");
        assert_eq!(last.raw_json(), body);
        assert_eq!(batch.ctx(last).waba_id.as_str(), "7");
    }

    #[test]
    fn unknown_field_is_kept_with_its_name() {
        let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","time":5,"changes":[{"field":"account_alerts","value":{"entity_type":"WABA"}}]}]}"#;
        let batch = parse(body.as_bytes()).unwrap();
        assert_eq!(batch.events.len(), 1);
        assert_eq!(batch.events[0].kind.name(), "kept.field:account_alerts");
        assert_eq!(batch.events[0].raw_json(), r#"{"entity_type":"WABA"}"#);
    }

    #[test]
    fn user_key_prefers_the_business_scoped_id() {
        let body = r#"{"entry":[{"id":"1","changes":[{"field":"messages","value":{"contacts":[{"profile":{"name":"A"},"wa_id":"","user_id":"US.9"}],"messages":[{"from_user_id":"US.9","id":"wamid.X","timestamp":"1","type":"text","text":{"body":"hi"}}]}}]}]}"#;
        let batch = parse(body.as_bytes()).unwrap();
        let EventKind::Inbound(m) = &batch.events[0].kind else {
            panic!()
        };
        assert_eq!(m.user_key(), Some("US.9"));
        assert_eq!(m.phone(), None);
        assert_eq!(m.contact.as_ref().unwrap().name.as_deref(), Some("A"));
    }
}
