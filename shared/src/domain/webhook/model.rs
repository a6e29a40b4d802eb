//! The parsed webhook: events, their context and payloads (borrowing from the body).

use super::Str;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Why a signed body could not be read as a webhook envelope at all.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("body is not valid UTF-8 (at byte {0})")]
    InvalidUtf8(usize),
    #[error("body is not valid JSON: {0}")]
    InvalidJson(#[source] serde_json::Error),
    #[error("body is JSON but not a webhook envelope: {0}")]
    NotAnEnvelope(String),
}

impl ParseError {
    /// Short machine-readable reason, used in quarantine keys and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            ParseError::InvalidUtf8(_) => "invalid_utf8",
            ParseError::InvalidJson(_) => "invalid_json",
            ParseError::NotAnEnvelope(_) => "not_an_envelope",
        }
    }
}

/// Where an event came from: the entry (WABA) and change (field, business number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeCtx<'a> {
    /// `entry[].id`: the WhatsApp Business Account id; `"unknown"` when absent.
    pub waba_id: Str<'a>,
    /// `entry[].time` (non-`messages` fields carry it).
    pub entry_time: Option<i64>,
    /// `changes[].field` (or `value.field` in Meta's malformed examples).
    pub field: Str<'a>,
    pub phone_number_id: Option<Str<'a>>,
    pub display_phone_number: Option<Str<'a>>,
}

/// One item of the POST, accounted for.
#[derive(Debug)]
pub struct Event<'a> {
    /// Index into [`Batch::changes`].
    pub change: usize,
    pub kind: EventKind<'a>,
    /// Paths of fields we do not model, e.g. `pricing.new_thing`. Non-empty → raw is stored.
    pub unknown_fields: Vec<String>,
    /// The item's own JSON, exactly as received. Always present when [`Event::keeps_raw`];
    /// items read on the single-pass fast path (nothing unmodelled in them) carry none.
    pub raw: Option<&'a RawValue>,
}

impl<'a> Event<'a> {
    /// The raw JSON text (`null` when the fast path read the item).
    pub fn raw_json(&self) -> &'a str {
        self.raw.map_or("null", RawValue::get)
    }

    /// True when the stored record must carry the raw JSON (something in it is unmodelled).
    pub fn keeps_raw(&self) -> bool {
        !self.unknown_fields.is_empty() || matches!(self.kind, EventKind::Kept { .. })
    }
}

#[derive(Debug)]
pub enum EventKind<'a> {
    Status(Status<'a>),
    /// Boxed: inbound messages are much larger than statuses and rarer on the hot path.
    Inbound(Box<Inbound<'a>>),
    /// `value.errors[]` of a `messages` change: system/app/account-level errors.
    SystemError(ApiError<'a>),
    Template(TemplateEvent<'a>),
    UserPreference(UserPreference<'a>),
    /// `account_update` and `phone_number_quality_update`: stored as WABA events.
    AccountEvent(AccountEvent<'a>),
    AutomaticEvent(AutomaticEvent<'a>),
    /// Not modelled: kept raw with its kind named (unknown `field`, unknown status value,
    /// an item that does not fit its schema).
    Kept {
        kind: String,
        reason: String,
    },
}

impl EventKind<'_> {
    /// Names the kind for counting: `status.read`, `inbound.text`, `kept.field:calls`, …
    pub fn name(&self) -> Cow<'static, str> {
        match self {
            // Static for the hot path: a 1,000-status POST counts without allocating.
            EventKind::Status(s) => Cow::Borrowed(s.status.kind_name()),
            EventKind::Inbound(m) => format!(
                "inbound.{}",
                m.msg_type.as_deref().unwrap_or("<missing type>")
            )
            .into(),
            EventKind::SystemError(_) => "system_error".into(),
            EventKind::Template(t) => format!("template.{}", t.change.as_str()).into(),
            EventKind::UserPreference(_) => "user_preference".into(),
            EventKind::AccountEvent(a) => a.field.to_string().into(),
            EventKind::AutomaticEvent(_) => "automatic_event".into(),
            EventKind::Kept { kind, .. } => format!("kept.{kind}").into(),
        }
    }
}

/// A parsed POST.
#[derive(Debug, Default)]
pub struct Batch<'a> {
    pub changes: Vec<ChangeCtx<'a>>,
    pub events: Vec<Event<'a>>,
    /// Unknown keys at envelope/entry/change level (e.g. `entry.extra`), by path.
    pub envelope_unknown_fields: Vec<String>,
}

impl<'a> Batch<'a> {
    pub fn ctx(&self, event: &Event<'a>) -> &ChangeCtx<'a> {
        &self.changes[event.change]
    }
}

// ---------------------------------------------------------------------------------------
// Domain event payloads
// ---------------------------------------------------------------------------------------

/// The status ladder: sent < delivered < read; `played` (voice) implies delivered;
/// `failed` is terminal when it is the latest by Meta's timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatusKind {
    Sent,
    Delivered,
    Read,
    Played,
    Failed,
}

impl StatusKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "sent" => StatusKind::Sent,
            "delivered" => StatusKind::Delivered,
            "read" => StatusKind::Read,
            "played" => StatusKind::Played,
            "failed" => StatusKind::Failed,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::Sent => "sent",
            StatusKind::Delivered => "delivered",
            StatusKind::Read => "read",
            StatusKind::Played => "played",
            StatusKind::Failed => "failed",
        }
    }
    /// `status.<state>`: how items of this kind are counted.
    pub fn kind_name(self) -> &'static str {
        match self {
            StatusKind::Sent => "status.sent",
            StatusKind::Delivered => "status.delivered",
            StatusKind::Read => "status.read",
            StatusKind::Played => "status.played",
            StatusKind::Failed => "status.failed",
        }
    }
    /// The attribute holding the first-seen time of this state on the message item.
    pub fn time_attribute(self) -> &'static str {
        match self {
            StatusKind::Sent => "sent_at",
            StatusKind::Delivered => "delivered_at",
            StatusKind::Read => "read_at",
            StatusKind::Played => "played_at",
            StatusKind::Failed => "failed_at",
        }
    }
    pub const ALL: [StatusKind; 5] = [
        StatusKind::Sent,
        StatusKind::Delivered,
        StatusKind::Read,
        StatusKind::Played,
        StatusKind::Failed,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status<'a> {
    pub wamid: Str<'a>,
    pub status: StatusKind,
    pub timestamp: i64,
    /// Phone of the recipient; `None` when absent or `""` (username users).
    pub recipient_phone: Option<Str<'a>>,
    /// Business-scoped user id of the recipient.
    pub recipient_user_id: Option<Str<'a>>,
    /// Group messages: one status per participant.
    pub group_participant: Option<Str<'a>>,
    pub biz_opaque_callback_data: Option<Str<'a>>,
    pub conversation: Option<Conversation<'a>>,
    pub pricing: Option<Pricing<'a>>,
    pub error: Option<ApiError<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation<'a> {
    pub id: Option<Str<'a>>,
    pub origin_type: Option<Str<'a>>,
    pub expiration_timestamp: Option<i64>,
}

/// Pricing as Meta reported it; `paid` is derived by [`super::pricing::classify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing<'a> {
    pub model: Option<Str<'a>>,
    /// `type` (PMP) — also read from the `pricing_type` spelling.
    pub pricing_type: Option<Str<'a>>,
    pub category: Option<Str<'a>>,
    pub billable: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError<'a> {
    pub code: Option<i64>,
    pub title: Option<Str<'a>>,
    pub details: Option<Str<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound<'a> {
    pub wamid: Str<'a>,
    pub timestamp: i64,
    /// `type` as sent; `None` when absent (one published fixture).
    pub msg_type: Option<Str<'a>>,
    pub from_phone: Option<Str<'a>>,
    pub from_user_id: Option<Str<'a>>,
    pub contact: Option<Contact<'a>>,
    pub context: Option<Context<'a>>,
    pub referral: Option<Referral<'a>>,
    /// Text body (used for keyword consent; not stored).
    pub text: Option<Str<'a>>,
    pub button_payload: Option<Str<'a>>,
    pub button_text: Option<Str<'a>>,
    pub error: Option<ApiError<'a>>,
    /// `system` messages: the user's new number / id.
    pub system: Option<SystemChange<'a>>,
}

impl Inbound<'_> {
    /// The user as we key leads: business-scoped id when present, else phone.
    pub fn user_key(&self) -> Option<&str> {
        let contact = self.contact.as_ref();
        non_empty(self.from_user_id.as_deref())
            .or_else(|| contact.and_then(|c| non_empty(c.user_id.as_deref())))
            .or_else(|| non_empty(self.from_phone.as_deref()))
            .or_else(|| contact.and_then(|c| non_empty(c.wa_id.as_deref())))
    }
    pub fn phone(&self) -> Option<&str> {
        non_empty(self.from_phone.as_deref()).or_else(|| {
            self.contact
                .as_ref()
                .and_then(|c| non_empty(c.wa_id.as_deref()))
        })
    }
    pub fn user_id(&self) -> Option<&str> {
        non_empty(self.from_user_id.as_deref()).or_else(|| {
            self.contact
                .as_ref()
                .and_then(|c| non_empty(c.user_id.as_deref()))
        })
    }
    /// System notifications (number change) are not user messages and do not create leads.
    pub fn is_user_message(&self) -> bool {
        self.msg_type.as_deref() != Some("system")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Contact<'a> {
    pub wa_id: Option<Str<'a>>,
    pub user_id: Option<Str<'a>>,
    pub parent_user_id: Option<Str<'a>>,
    pub name: Option<Str<'a>>,
    pub username: Option<Str<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context<'a> {
    /// wamid of the business message replied to.
    pub id: Option<Str<'a>>,
    pub from: Option<Str<'a>>,
    pub forwarded: bool,
    pub frequently_forwarded: bool,
}

/// Click-to-WhatsApp ad referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral<'a> {
    pub source_url: Option<Str<'a>>,
    pub source_id: Option<Str<'a>>,
    pub source_type: Option<Str<'a>>,
    pub headline: Option<Str<'a>>,
    pub body: Option<Str<'a>>,
    pub media_type: Option<Str<'a>>,
    pub ctwa_clid: Option<Str<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemChange<'a> {
    pub change_type: Option<Str<'a>>,
    pub new_wa_id: Option<Str<'a>>,
    pub new_user_id: Option<Str<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateChange {
    Status,
    Quality,
    Category,
}

impl TemplateChange {
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateChange::Status => "status",
            TemplateChange::Quality => "quality",
            TemplateChange::Category => "category",
        }
    }
}

/// `message_template_status_update`, `message_template_quality_update`,
/// `template_category_update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateEvent<'a> {
    pub change: TemplateChange,
    pub template_id: Str<'a>,
    pub name: Option<Str<'a>>,
    pub language: Option<Str<'a>>,
    /// Status event (`APPROVED`, …), new quality score, or new category.
    pub new_value: Option<Str<'a>>,
    pub previous_value: Option<Str<'a>>,
    pub reason: Option<Str<'a>>,
    /// Category on status updates; `correct_category` on impending category changes.
    pub category: Option<Str<'a>>,
    /// True for an announced (not yet effective) category change.
    pub impending: bool,
    /// When it happened: `entry.time`, else the event's own timestamp, else 0.
    pub at: i64,
}

/// `user_preferences[]` item: the user stopped or resumed marketing messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPreference<'a> {
    pub wa_id: Option<Str<'a>>,
    pub user_id: Option<Str<'a>>,
    pub category: Option<Str<'a>>,
    pub value: Str<'a>,
    pub timestamp: i64,
}

impl UserPreference<'_> {
    pub fn user_key(&self) -> Option<&str> {
        non_empty(self.user_id.as_deref()).or_else(|| non_empty(self.wa_id.as_deref()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountEvent<'a> {
    pub field: Str<'a>,
    pub event: Option<Str<'a>>,
    pub at: i64,
}

/// `automatic_events[]`: Meta's CTWA conversion signals (`LeadSubmitted`, `Purchase`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomaticEvent<'a> {
    pub wamid: Option<Str<'a>>,
    pub event_name: Option<Str<'a>>,
    pub ctwa_clid: Option<Str<'a>>,
    pub currency: Option<Str<'a>>,
    /// `custom_data.value` as sent (amount × 1000).
    pub value_milli: Option<i64>,
    pub timestamp: i64,
}

pub(crate) fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

pub(super) fn non_empty_cow(s: Option<Str<'_>>) -> Option<Str<'_>> {
    s.filter(|s| !s.is_empty())
}
