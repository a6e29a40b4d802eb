//! The ingest writes as DynamoDB requests, built without I/O (part of the ingest CPU
//! budget). Every request is conditional or `if_not_exists`-only, so a duplicate leaves the
//! item unchanged; a failed condition means "already applied".

use super::attrs::{Attrs, key, n, s};
use super::consent::{
    ConsentEventBase, ConsentStateChange, consent_event_item, consent_state_request,
};
use crate::domain::attribution::utm_of;
use crate::domain::consent::ConsentAction;
use crate::domain::ingest::{WabaEventKind, Write, content_id};
use crate::domain::pricing::{classify, normalise_category};
use crate::domain::webhook::{Event, Inbound, Status, StatusKind, TemplateChange, TemplateEvent};
use crate::keys::{
    PROFILE_SK, TEMPLATE_STATE_SK, automatic_event_sk, kept_sk, lead_list, message_pk, outbound_sk,
    template_event_sk, template_pk, user_pk, waba_error_sk, waba_event_sk, waba_pk,
};
use aws_sdk_dynamodb::types::AttributeValue as Av;
use std::collections::HashMap;

/// The default lifecycle's first stage.
pub const DEFAULT_INITIAL_STAGE: &str = "new";

/// Raw JSON above this size goes to S3 instead of the item (items are capped at 400 KB).
pub const MAX_INLINE_RAW: usize = 64 * 1024;

/// One DynamoDB request, built without I/O (benchmarked as part of the ingest CPU budget).
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Update {
        key: Attrs,
        update: String,
        condition: Option<&'static str>,
        names: Option<HashMap<String, String>>,
        values: Attrs,
    },
    Put {
        item: Attrs,
        condition: &'static str,
    },
}

impl Request {
    /// The item's key, for logs and tests.
    pub fn key(&self) -> (String, String) {
        let attrs = match self {
            Request::Update { key, .. } => key,
            Request::Put { item, .. } => item,
        };
        let get = |k: &str| {
            attrs
                .get(k)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        (get("pk"), get("sk"))
    }
}

/// `:attr`, without `format!` machinery (this runs ~10 times per status).
fn placeholder(attr: &str) -> String {
    let mut p = String::with_capacity(attr.len() + 1);
    p.push(':');
    p.push_str(attr);
    p
}

/// Builds `SET a = if_not_exists(a, :a), …` expressions with their values. Names without
/// an underscore are aliased (`#pricing`): DynamoDB reserves hundreds of plain words
/// (`source`, `language`, …) but none containing `_`.
pub(super) struct UpdateBuilder {
    expr: String,
    pub(super) values: Attrs,
    names: HashMap<String, String>,
}

impl UpdateBuilder {
    pub(super) fn new(capacity: usize) -> Self {
        let mut expr = String::with_capacity(64 + capacity * 48);
        expr.push_str("SET ");
        Self {
            expr,
            values: HashMap::with_capacity(capacity),
            names: HashMap::with_capacity(2),
        }
    }
    fn sep(&mut self) {
        if self.expr.len() > 4 {
            self.expr.push_str(", ");
        }
    }
    /// Writes the attribute's name into the expression, aliased when it could be reserved.
    fn name(&mut self, attr: &str) {
        if attr.contains('_') {
            self.expr.push_str(attr);
        } else {
            self.expr.push('#');
            self.expr.push_str(attr);
            self.names.insert(format!("#{attr}"), attr.to_string());
        }
    }
    /// `attr = :attr`
    pub(super) fn set(&mut self, attr: &str, value: Av) {
        self.sep();
        self.name(attr);
        self.expr.push_str(" = :");
        self.expr.push_str(attr);
        self.values.insert(placeholder(attr), value);
    }
    /// `attr = if_not_exists(attr, :attr)`: written once, never overwritten.
    fn once(&mut self, attr: &str, value: Av) {
        self.sep();
        self.name(attr);
        self.expr.push_str(" = if_not_exists(");
        self.name(attr);
        self.expr.push_str(", :");
        self.expr.push_str(attr);
        self.expr.push(')');
        self.values.insert(placeholder(attr), value);
    }
    fn once_opt(&mut self, attr: &str, value: Option<&str>) {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            self.once(attr, s(v));
        }
    }
    /// `#name = :name` for attribute names chosen at run time.
    fn set_named(&mut self, placeholder: &str, attr: &str, value: Av) {
        self.sep();
        self.expr.push_str(placeholder);
        self.expr.push_str(" = :");
        self.expr.push_str(&placeholder[1..]);
        self.values.insert(format!(":{}", &placeholder[1..]), value);
        self.names.insert(placeholder.to_string(), attr.to_string());
    }
    pub(super) fn into_request(self, key: Attrs, condition: Option<&'static str>) -> Request {
        let names = (!self.names.is_empty()).then_some(self.names);
        Request::Update {
            key,
            update: self.expr,
            condition,
            names,
            values: self.values,
        }
    }
}

fn map<const N: usize>(entries: [(&'static str, Option<Av>); N]) -> Av {
    // Sized up front: growing the SDK's SipHash map is a measurable part of the hot path.
    let mut m = HashMap::with_capacity(N);
    for (k, v) in entries {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    }
    Av::M(m)
}
fn opt_s(v: Option<&str>) -> Option<Av> {
    v.filter(|v| !v.is_empty()).map(s)
}

/// The request for one write. `overflow` names the S3 key where an oversized raw part was
/// stored (see [`DynamoDbEventStore`]).
/// `initial_stage`: the stage a lead created by this write starts in (LIFECYCLE's first).
pub fn request(write: &Write<'_>, overflow: Option<&str>, initial_stage: &str) -> Request {
    match write {
        Write::Status { ctx, event, status } => status_request(
            ctx.waba_id.as_ref(),
            ctx.phone_number_id.as_deref(),
            event,
            status,
            overflow,
        ),
        Write::Inbound {
            ctx,
            event,
            msg,
            user_key,
            consent,
        } => {
            let mut item = key(message_pk(&msg.wamid), "IN");
            item.insert("item_kind".into(), s("inbound"));
            item.insert("waba_id".into(), s(ctx.waba_id.as_ref()));
            item.insert("at".into(), n(msg.timestamp));
            item.insert(
                "msg_type".into(),
                s(msg.msg_type.as_deref().unwrap_or("<missing>")),
            );
            let mut put = |k: &str, v: Option<&str>| {
                if let Some(v) = opt_s(v) {
                    item.insert(k.to_string(), v);
                }
            };
            put("phone_number_id", ctx.phone_number_id.as_deref());
            put("user_key", *user_key);
            put("from_phone", msg.phone());
            put("from_user_id", msg.user_id());
            put(
                "from_parent_user_id",
                msg.contact
                    .as_ref()
                    .and_then(|c| c.parent_user_id.as_deref()),
            );
            put(
                "context_id",
                msg.context.as_ref().and_then(|c| c.id.as_deref()),
            );
            put(
                "referral_source_id",
                msg.referral.as_ref().and_then(|r| r.source_id.as_deref()),
            );
            put(
                "ctwa_clid",
                msg.referral.as_ref().and_then(|r| r.ctwa_clid.as_deref()),
            );
            put("button_payload", msg.button_payload.as_deref());
            put("button_text", msg.button_text.as_deref());
            put("consent_signal", consent.map(|c| c.as_str()));
            put(
                "system_new_wa_id",
                msg.system.as_ref().and_then(|s| s.new_wa_id.as_deref()),
            );
            put(
                "system_new_user_id",
                msg.system.as_ref().and_then(|s| s.new_user_id.as_deref()),
            );
            if msg
                .context
                .as_ref()
                .is_some_and(|c| c.forwarded || c.frequently_forwarded)
            {
                item.insert("forwarded".into(), Av::Bool(true));
            }
            if msg.referral.is_some() {
                item.insert("has_referral".into(), Av::Bool(true));
            }
            if let Some(code) = msg.error.as_ref().and_then(|e| e.code) {
                item.insert("error_code".into(), n(code));
            }
            insert_raw(&mut item, event, overflow);
            Request::Put {
                item,
                condition: "attribute_not_exists(pk)",
            }
        }
        Write::Lead { ctx, msg, user_key } => lead_request(
            ctx.waba_id.as_ref(),
            ctx.phone_number_id.as_deref(),
            msg,
            user_key,
            initial_stage,
        ),
        Write::LeadActivity { msg, user_key } => {
            let mut u = UpdateBuilder::new(3);
            u.set("last_inbound_at", n(msg.timestamp));
            u.set("last_inbound_wamid", s(msg.wamid.as_ref()));
            if msg.referral.is_some() {
                // The free-entry-point window starts from a referral message.
                u.set("last_referral_at", n(msg.timestamp));
            }
            u.into_request(
                key(user_pk(user_key), PROFILE_SK),
                Some("attribute_not_exists(last_inbound_at) OR last_inbound_at < :last_inbound_at"),
            )
        }
        Write::LeadFirstTouch { msg, user_key } => {
            first_touch_request(msg, user_key).expect("planned only for messages with a referral")
        }
        Write::LeadNumberChange { msg, user_key } => {
            let mut u = UpdateBuilder::new(3);
            let system = msg.system.as_ref();
            if let Some(v) = system.and_then(|s| s.new_wa_id.as_deref()) {
                u.set("number_changed_to", s(v));
            }
            if let Some(v) = system.and_then(|s| s.new_user_id.as_deref()) {
                u.set("user_id_changed_to", s(v));
            }
            u.set("number_changed_at", n(msg.timestamp));
            // Only on an existing lead, and only forward in time.
            u.into_request(
                key(user_pk(user_key), PROFILE_SK),
                Some("attribute_exists(pk) AND (attribute_not_exists(number_changed_at) OR number_changed_at < :number_changed_at)"),
            )
        }
        Write::ConsentEvent(signal) => {
            let mut item = consent_event_item(&ConsentEventBase {
                user_key: signal.user_key,
                phone_number_id: signal.phone_number_id,
                action: signal.action,
                source: signal.source.as_str(),
                id: &signal.id,
                at: signal.at,
                categories: signal.categories.iter().map(|c| c.to_string()).collect(),
            });
            // The person's other id the item carried (`user_preferences` with `wa_id` and
            // `user_id`): the aggregator links the two from the stream.
            if let Some(other) = signal.other_ids.first() {
                item.insert("also_id".into(), s(*other));
            }
            if let Some(k) = &signal.keyword {
                item.insert("keyword".into(), s(k.as_str()));
            }
            Request::Put {
                item,
                condition: "attribute_not_exists(pk)",
            }
        }
        Write::ConsentState {
            signal,
            category,
            user_key,
        } => consent_state_request(&ConsentStateChange {
            user_key,
            phone_number_id: signal.phone_number_id,
            category,
            action: signal.action,
            source: signal.source.as_str(),
            event_id: &signal.id,
            at: signal.at,
        }),
        Write::TemplateEvent {
            ctx,
            event,
            template,
        } => {
            let mut item = key(
                template_pk(&template.template_id),
                template_event_sk(
                    template.at,
                    template.change.as_str(),
                    &content_id(event.raw_json()),
                ),
            );
            item.insert("item_kind".into(), s("template_event"));
            item.insert("waba_id".into(), s(ctx.waba_id.as_ref()));
            item.insert("template_id".into(), s(template.template_id.as_ref()));
            item.insert("change".into(), s(template.change.as_str()));
            item.insert("at".into(), n(template.at));
            for (k, v) in [
                ("template_name", template.name.as_deref()),
                ("language", template.language.as_deref()),
                ("new_value", template.new_value.as_deref()),
                ("previous_value", template.previous_value.as_deref()),
                ("reason", template.reason.as_deref()),
                ("category", template.category.as_deref()),
            ] {
                if let Some(v) = opt_s(v) {
                    item.insert(k.into(), v);
                }
            }
            if template.impending {
                item.insert("impending".into(), Av::Bool(true));
            }
            item.insert("value_json".into(), raw_attr(event, overflow));
            Request::Put {
                item,
                condition: "attribute_not_exists(pk)",
            }
        }
        Write::TemplateState { ctx, template } => {
            template_state_request(ctx.waba_id.as_ref(), template)
        }
        Write::WabaEvent { ctx, event, kind } => {
            let id = content_id(event.raw_json());
            let at = ctx.entry_time.unwrap_or(0);
            let (sk, mut item_attrs): (String, Vec<(&str, Av)>) = match kind {
                WabaEventKind::SystemError(e) => (
                    waba_error_sk(at, &id),
                    [
                        ("error_code", e.code.map(n)),
                        ("error_title", opt_s(e.title.as_deref())),
                        ("error_details", opt_s(e.details.as_deref())),
                    ]
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k, v)))
                    .collect(),
                ),
                WabaEventKind::Account(a) => (
                    waba_event_sk(&a.field, a.at, &id),
                    opt_s(a.event.as_deref())
                        .map(|v| vec![("event", v)])
                        .unwrap_or_default(),
                ),
                WabaEventKind::Automatic(a) => {
                    let who = a.wamid.as_deref().map(str::to_string).unwrap_or(id);
                    let name = a.event_name.as_deref().unwrap_or("unknown");
                    (
                        automatic_event_sk(&who, name, &content_id(event.raw_json())),
                        [
                            ("event", opt_s(a.event_name.as_deref())),
                            ("ctwa_clid", opt_s(a.ctwa_clid.as_deref())),
                            ("currency", opt_s(a.currency.as_deref())),
                            ("value_milli", a.value_milli.map(n)),
                            ("event_at", Some(n(a.timestamp))),
                        ]
                        .into_iter()
                        .filter_map(|(k, v)| v.map(|v| (k, v)))
                        .collect(),
                    )
                }
            };
            let mut item = key(waba_pk(&ctx.waba_id), sk);
            item.insert("item_kind".into(), s("waba_event"));
            item.insert("field".into(), s(ctx.field.as_ref()));
            item.insert("at".into(), n(at));
            if let Some(p) = opt_s(ctx.phone_number_id.as_deref()) {
                item.insert("phone_number_id".into(), p);
            }
            for (k, v) in item_attrs.drain(..) {
                item.insert(k.into(), v);
            }
            item.insert("value_json".into(), raw_attr(event, overflow));
            Request::Put {
                item,
                condition: "attribute_not_exists(pk)",
            }
        }
        Write::Kept {
            ctx,
            event,
            kind,
            reason,
        } => {
            let mut item = key(
                waba_pk(&ctx.waba_id),
                kept_sk(kind, &content_id(event.raw_json())),
            );
            item.insert("item_kind".into(), s("kept_raw"));
            item.insert("kind".into(), s(*kind));
            item.insert("reason".into(), s(*reason));
            item.insert("field".into(), s(ctx.field.as_ref()));
            item.insert("at".into(), n(ctx.entry_time.unwrap_or(0)));
            if let Some(p) = opt_s(ctx.phone_number_id.as_deref()) {
                item.insert("phone_number_id".into(), p);
            }
            item.insert("raw".into(), raw_attr(event, overflow));
            Request::Put {
                item,
                condition: "attribute_not_exists(pk)",
            }
        }
    }
}

/// The raw JSON as an attribute, or a pointer to where it overflowed.
fn raw_attr(event: &Event<'_>, overflow: Option<&str>) -> Av {
    match overflow {
        Some(k) => s(format!("s3:{k}")),
        None => s(event.raw_json()),
    }
}

/// Typed items carry their raw JSON only when something in them is unmodelled.
fn insert_raw(item: &mut Attrs, event: &Event<'_>, overflow: Option<&str>) {
    if event.keeps_raw() {
        item.insert("raw".into(), raw_attr(event, overflow));
        item.insert(
            "unknown_fields".into(),
            Av::Ss(dedup(&event.unknown_fields)),
        );
    }
}

fn dedup(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}

/// One status → one conditional update of the message item.
///
/// The condition `attribute_not_exists(<state>_at)` makes each (wamid, state) apply once:
/// a duplicate fails it and changes nothing. The ladder position is derived from which
/// `*_at` attributes exist, so it only ever moves forward, whatever the arrival order.
/// Pricing, conversation and callback data are `if_not_exists`: stored once, from
/// whichever status carried them first.
pub fn status_request(
    waba_id: &str,
    phone_number_id: Option<&str>,
    event: &Event<'_>,
    status: &Status<'_>,
    overflow: Option<&str>,
) -> Request {
    let mut u = UpdateBuilder::new(12);
    // The state's time under its own (underscore, never reserved) name: no alias entry.
    u.set(status.status.time_attribute(), n(status.timestamp));
    // No `item_kind` here: the sk (`OUT…`) already says it, and this is the hottest write.
    u.once("waba_id", s(waba_id));
    u.once_opt("phone_number_id", phone_number_id);
    u.once_opt("recipient_phone", status.recipient_phone.as_deref());
    u.once_opt("recipient_user_id", status.recipient_user_id.as_deref());
    u.once_opt(
        "biz_opaque_callback_data",
        status.biz_opaque_callback_data.as_deref(),
    );
    if let Some(p) = &status.pricing {
        let category = p.category.as_deref().map(normalise_category);
        u.once(
            "pricing",
            map([
                ("model", opt_s(p.model.as_deref())),
                ("type", opt_s(p.pricing_type.as_deref())),
                ("category", category.as_deref().and_then(|c| opt_s(Some(c)))),
                ("billable", p.billable.map(Av::Bool)),
                ("paid", classify(p).map(Av::Bool)),
                ("from_status", Some(s(status.status.as_str()))),
            ]),
        );
    }
    if let Some(c) = &status.conversation {
        u.once(
            "conversation",
            map([
                ("id", opt_s(c.id.as_deref())),
                ("origin_type", opt_s(c.origin_type.as_deref())),
                ("expiration_timestamp", c.expiration_timestamp.map(n)),
            ]),
        );
    }
    if let (StatusKind::Failed, Some(e)) = (status.status, &status.error) {
        if let Some(code) = e.code {
            u.set("error_code", n(code));
        }
        if let Some(t) = opt_s(e.title.as_deref()) {
            u.set("error_title", t);
        }
        if let Some(d) = opt_s(e.details.as_deref()) {
            u.set("error_details", d);
        }
    }
    if event.keeps_raw() {
        u.set_named(
            "#raw",
            &format!("raw_{}", status.status.as_str()),
            raw_attr(event, overflow),
        );
        u.set_named(
            "#uf",
            &format!("unknown_fields_{}", status.status.as_str()),
            Av::Ss(if event.unknown_fields.is_empty() {
                vec!["<kept>".into()]
            } else {
                dedup(&event.unknown_fields)
            }),
        );
    }
    let sk = outbound_sk(status.group_participant.as_deref());
    u.into_request(
        key(message_pk(&status.wamid), sk),
        Some(absent(status.status)),
    )
}

/// The condition that makes each (wamid, state) apply once.
fn absent(state: StatusKind) -> &'static str {
    match state {
        StatusKind::Sent => "attribute_not_exists(sent_at)",
        StatusKind::Delivered => "attribute_not_exists(delivered_at)",
        StatusKind::Read => "attribute_not_exists(read_at)",
        StatusKind::Played => "attribute_not_exists(played_at)",
        StatusKind::Failed => "attribute_not_exists(failed_at)",
    }
}

/// The values of [`consent_state_condition`] for a state of `action` changed at `changed_at`.
pub(crate) fn consent_state_values(action: ConsentAction, changed_at: i64) -> Attrs {
    let mut v = HashMap::from([(":changed_at".to_string(), n(changed_at))]);
    if action == ConsentAction::OptOut {
        v.insert(":opt_in".into(), s("opt_in"));
    }
    v
}

/// The lead: created on the first inbound message. `created_at`/`first_inbound_wamid`
/// converge to the earliest message by Meta's timestamp (a late-arriving earlier message
/// moves them back; a duplicate fails the condition); identity is written once.
fn lead_request(
    waba_id: &str,
    phone_number_id: Option<&str>,
    msg: &Inbound<'_>,
    user_key: &str,
    initial_stage: &str,
) -> Request {
    let mut u = UpdateBuilder::new(12);
    u.once("item_kind", s("lead"));
    u.once("user_key", s(user_key));
    u.set("created_at", n(msg.timestamp));
    u.set("first_inbound_wamid", s(msg.wamid.as_ref()));
    u.once("waba_id", s(waba_id));
    u.once_opt("phone_number_id", phone_number_id);
    u.once("stage", s(initial_stage));
    u.once("origin", s("whatsapp"));
    // The sparse `leads` index (lead_list, created_at) lists leads newest first.
    u.once("lead_list", s(lead_list(user_key)));
    u.once_opt("phone", msg.phone());
    u.once_opt("user_id", msg.user_id());
    if let Some(c) = &msg.contact {
        u.once_opt("parent_user_id", c.parent_user_id.as_deref());
        u.once_opt("profile_name", c.name.as_deref());
        u.once_opt("username", c.username.as_deref());
    }
    u.into_request(
        key(user_pk(user_key), PROFILE_SK),
        Some("attribute_not_exists(created_at) OR created_at > :created_at"),
    )
}

/// First touch: the Click-to-WhatsApp referral of the user's earliest message that carried
/// one. Written when absent, replaced only by an earlier referral arriving late, so it is
/// final once the traffic is in, whatever the delivery order.
fn first_touch_request(msg: &Inbound<'_>, user_key: &str) -> Option<Request> {
    let r = msg.referral.as_ref()?;
    let utm = utm_of(r);
    let touch = map([
        ("source_id", opt_s(r.source_id.as_deref())),
        ("source_url", opt_s(r.source_url.as_deref())),
        ("source_type", opt_s(r.source_type.as_deref())),
        ("headline", opt_s(r.headline.as_deref())),
        ("media_type", opt_s(r.media_type.as_deref())),
        ("ctwa_clid", opt_s(r.ctwa_clid.as_deref())),
        ("at", Some(n(msg.timestamp))),
        ("wamid", Some(s(msg.wamid.as_ref()))),
        ("utm_source", opt_s(utm.source.as_deref())),
        ("utm_medium", opt_s(utm.medium.as_deref())),
        ("utm_campaign", opt_s(utm.campaign.as_deref())),
        ("utm_content", opt_s(utm.content.as_deref())),
        ("utm_term", opt_s(utm.term.as_deref())),
    ]);
    let mut u = UpdateBuilder::new(2);
    u.set("first_touch", touch);
    // A top-level copy of the time keeps the condition simple (and within what moto
    // evaluates correctly for a missing map).
    u.set("first_touch_at", n(msg.timestamp));
    Some(u.into_request(
        key(user_pk(user_key), PROFILE_SK),
        Some("attribute_not_exists(first_touch_at) OR first_touch_at > :first_touch_at"),
    ))
}

/// Current template state; each aspect (status, quality, category) moves forward in time
/// on its own timestamp attribute.
fn template_state_request(waba_id: &str, t: &TemplateEvent<'_>) -> Request {
    let mut u = UpdateBuilder::new(8);
    u.set("item_kind", s("template"));
    u.set("template_id", s(t.template_id.as_ref()));
    u.set("waba_id", s(waba_id));
    if let Some(v) = opt_s(t.name.as_deref()) {
        u.set("template_name", v);
    }
    if let Some(v) = opt_s(t.language.as_deref()) {
        u.set("language", v);
    }
    let (value_attr, at_attr, condition) = match (t.change, t.impending) {
        (TemplateChange::Status, _) => (
            "template_status",
            "status_at",
            "attribute_not_exists(status_at) OR status_at < :status_at",
        ),
        (TemplateChange::Quality, _) => (
            "quality_score",
            "quality_at",
            "attribute_not_exists(quality_at) OR quality_at < :quality_at",
        ),
        (TemplateChange::Category, false) => (
            "category",
            "category_at",
            "attribute_not_exists(category_at) OR category_at < :category_at",
        ),
        (TemplateChange::Category, true) => (
            "pending_category",
            "pending_category_at",
            "attribute_not_exists(pending_category_at) OR pending_category_at < :pending_category_at",
        ),
    };
    let value = if t.impending {
        t.category.as_deref()
    } else {
        t.new_value.as_deref()
    };
    if let Some(v) = opt_s(value) {
        u.set(value_attr, v);
    }
    if t.change == TemplateChange::Status {
        // Category changes own `category`; a status event only fills it in when unknown,
        // so a late status event cannot undo a newer category change.
        if let Some(c) = opt_s(t.category.as_deref()) {
            u.once("category", c);
        }
        if let Some(r) = opt_s(t.reason.as_deref()) {
            u.set("status_reason", r);
        }
    }
    u.set(at_attr, n(t.at));
    u.into_request(
        key(template_pk(&t.template_id), TEMPLATE_STATE_SK),
        Some(condition),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::consent::ConsentKeywords;
    use crate::domain::ingest::plan;
    use crate::domain::webhook::parse;

    fn requests(body: &str) -> Vec<Request> {
        let batch = parse(body.as_bytes()).unwrap();
        let plan = plan(&batch, &ConsentKeywords::default());
        plan.writes
            .iter()
            .map(|w| request(w, None, DEFAULT_INITIAL_STAGE))
            .collect()
    }

    #[test]
    fn status_update_is_conditional_on_its_state() {
        let reqs = requests(
            r#"{"entry":[{"id":"W","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"P"},"statuses":[{"id":"wamid.1","status":"delivered","timestamp":"7","recipient_id":"555","pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"authentication-international"}}]}}]}]}"#,
        );
        let Request::Update {
            key,
            update,
            condition,
            names,
            values,
        } = &reqs[0]
        else {
            panic!()
        };
        assert_eq!(key["pk"], s("MSG#wamid.1"));
        assert_eq!(key["sk"], s("OUT"));
        assert_eq!(*condition, Some("attribute_not_exists(delivered_at)"));
        assert!(
            !names.as_ref().unwrap().contains_key("#t"),
            "no alias for the state's time"
        );
        assert!(update.starts_with(
            "SET delivered_at = :delivered_at, waba_id = if_not_exists(waba_id, :waba_id)"
        ));
        assert!(
            update.contains("#pricing = if_not_exists(#pricing, :pricing)"),
            "{update}"
        );
        assert_eq!(names.as_ref().unwrap()["#pricing"], "pricing");
        let Av::M(pricing) = &values[":pricing"] else {
            panic!()
        };
        assert_eq!(pricing["paid"], Av::Bool(true));
        assert_eq!(pricing["category"], s("authentication_international"));
        assert_eq!(pricing["from_status"], s("delivered"));
        assert_eq!(values[":delivered_at"], n(7));
    }

    #[test]
    fn group_statuses_are_kept_per_participant() {
        let reqs = requests(
            r#"{"entry":[{"id":"W","changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.g","status":"read","timestamp":"7","recipient_id":"G1","recipient_type":"group","recipient_participant_id":"555"}]}}]}]}"#,
        );
        assert_eq!(
            reqs[0].key(),
            ("MSG#wamid.g".to_string(), "OUT#555".to_string())
        );
    }

    #[test]
    fn lead_and_first_touch_converge_to_the_earliest_message() {
        let reqs = requests(
            r#"{"entry":[{"id":"W","changes":[{"field":"messages","value":{"contacts":[{"profile":{"name":"Ana"},"wa_id":"555","user_id":"BR.1"}],"messages":[{"from":"555","from_user_id":"BR.1","id":"wamid.in","timestamp":"9","type":"text","text":{"body":"hi"},"referral":{"source_url":"https://x.io/?utm_campaign=spring&utm_source=fb","source_id":"ad1","source_type":"ad","headline":"H","media_type":"image","ctwa_clid":"clid"}}]}}]}]}"#,
        );
        assert_eq!(
            reqs.len(),
            4,
            "inbound message, lead, lead activity, first touch"
        );
        assert_eq!(
            reqs[0].key(),
            ("MSG#wamid.in".to_string(), "IN".to_string())
        );
        let Request::Update {
            key,
            values,
            condition,
            ..
        } = &reqs[1]
        else {
            panic!()
        };
        assert_eq!(key["pk"], s("USER#BR.1"));
        assert_eq!(
            *condition,
            Some("attribute_not_exists(created_at) OR created_at > :created_at")
        );
        assert_eq!(values[":phone"], s("555"));
        assert_eq!(values[":created_at"], n(9));
        let Request::Update {
            key,
            update,
            values,
            condition,
            names,
        } = &reqs[3]
        else {
            panic!()
        };
        assert_eq!(key["pk"], s("USER#BR.1"));
        let Request::Update {
            update: activity,
            condition: activity_condition,
            ..
        } = &reqs[2]
        else {
            panic!()
        };
        assert!(
            activity.contains("last_inbound_at = :last_inbound_at"),
            "{activity}"
        );
        assert!(
            activity.contains("last_referral_at = :last_referral_at"),
            "{activity}"
        );
        assert_eq!(
            *activity_condition,
            Some("attribute_not_exists(last_inbound_at) OR last_inbound_at < :last_inbound_at")
        );
        assert_eq!(
            update,
            "SET first_touch = :first_touch, first_touch_at = :first_touch_at"
        );
        assert_eq!(
            *condition,
            Some("attribute_not_exists(first_touch_at) OR first_touch_at > :first_touch_at")
        );
        assert!(names.is_none(), "underscore names need no alias");
        let Av::M(touch) = &values[":first_touch"] else {
            panic!()
        };
        assert_eq!(touch["utm_campaign"], s("spring"));
        assert_eq!(touch["ctwa_clid"], s("clid"));
        assert_eq!(values[":first_touch_at"], n(9));
    }
}
