//! What Meta sends, as serde structs borrowing from the body, and their mapping to the
//! model. Only the parser reads these.

use super::Str;
use super::model::*;
use crate::domain::lenient::{Text, Timestamp};
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
pub(super) struct WireEnvelope<'a> {
    #[serde(borrow, default)]
    #[allow(dead_code)] // read for schema accounting; always whatsapp_business_account
    pub(super) object: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) entry: Vec<WireEntry<'a>>,
}

#[derive(Deserialize)]
pub(super) struct WireEntry<'a> {
    #[serde(borrow, default)]
    pub(super) id: Option<Text<'a>>,
    #[serde(default)]
    pub(super) time: Option<Timestamp>,
    #[serde(borrow, default)]
    pub(super) changes: Vec<WireChange<'a>>,
}

#[derive(Deserialize)]
pub(super) struct WireChange<'a> {
    #[serde(borrow, default)]
    pub(super) field: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) value: Option<&'a RawValue>,
}

/// Only the keys that route a change; everything else in `value` is read per field.
#[derive(Deserialize)]
pub(super) struct WireValueHead<'a> {
    #[serde(borrow, default)]
    pub(super) field: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) metadata: Option<WireMetadata<'a>>,
}

/// The status wire structs, generated twice from one definition: `lenient` (unknown keys
/// ignored, reported by `serde_ignored`) and `strict` (`deny_unknown_fields`, no wrapper): the
/// strict pass is the fast path for ordinary status batches, and any unknown key sends the
/// value down the lenient paths that keep raw JSON.
macro_rules! status_wire {
    ($module:ident $(, #[$container:meta])*) => {
        pub(super) mod $module {
            use super::*;

            #[derive(Deserialize)]
            $(#[$container])*
            pub(in crate::domain::webhook) struct WireMetadata<'a> {
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) display_phone_number: Option<Str<'a>>,
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) phone_number_id: Option<Str<'a>>,
            }

            #[derive(Deserialize)]
            $(#[$container])*
            pub(in crate::domain::webhook) struct WireStatus<'a> {
                #[serde(borrow)]
                pub(in crate::domain::webhook) id: Str<'a>,
                #[serde(borrow)]
                pub(in crate::domain::webhook) status: Str<'a>,
                pub(in crate::domain::webhook) timestamp: Timestamp,
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) recipient_id: Option<Str<'a>>,
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) recipient_user_id: Option<Str<'a>>,
                #[serde(borrow, default)]
                #[allow(dead_code)]
                pub(in crate::domain::webhook) parent_recipient_user_id: Option<Str<'a>>,
                #[serde(borrow, default)]
                #[allow(dead_code)]
                pub(in crate::domain::webhook) recipient_type: Option<Str<'a>>,
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) recipient_participant_id: Option<Str<'a>>,
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) recipient_participant_user_id: Option<Str<'a>>,
                #[serde(borrow, default)]
                #[allow(dead_code)]
                pub(in crate::domain::webhook) recipient_participant_parent_user_id: Option<Str<'a>>,
                #[serde(borrow, default)]
                #[allow(dead_code)]
                pub(in crate::domain::webhook) recipient_identity_key_hash: Option<Str<'a>>,
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) biz_opaque_callback_data: Option<Str<'a>>,
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) conversation: Option<WireConversation<'a>>,
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) pricing: Option<WirePricing<'a>>,
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) errors: Vec<WireError<'a>>,
            }

            #[derive(Deserialize)]
            $(#[$container])*
            pub(in crate::domain::webhook) struct WireConversation<'a> {
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) id: Option<Str<'a>>,
                #[serde(default)]
                pub(in crate::domain::webhook) expiration_timestamp: Option<Timestamp>,
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) origin: Option<WireOrigin<'a>>,
            }

            #[derive(Deserialize)]
            $(#[$container])*
            pub(in crate::domain::webhook) struct WireOrigin<'a> {
                #[serde(borrow, rename = "type", default)]
                pub(in crate::domain::webhook) origin_type: Option<Str<'a>>,
            }

            #[derive(Deserialize)]
            $(#[$container])*
            pub(in crate::domain::webhook) struct WirePricing<'a> {
                #[serde(default)]
                pub(in crate::domain::webhook) billable: Option<bool>,
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) pricing_model: Option<Str<'a>>,
                #[serde(borrow, rename = "type", default)]
                pub(in crate::domain::webhook) pricing_type: Option<Str<'a>>,
                /// v24 spelling seen in SDKs.
                #[serde(borrow, rename = "pricing_type", default)]
                pub(in crate::domain::webhook) pricing_type_alt: Option<Str<'a>>,
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) category: Option<Str<'a>>,
            }

            #[derive(Deserialize)]
            $(#[$container])*
            pub(in crate::domain::webhook) struct WireError<'a> {
                #[serde(default)]
                pub(in crate::domain::webhook) code: Option<i64>,
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) title: Option<Str<'a>>,
                #[serde(borrow, default)]
                #[allow(dead_code)] // Meta: message == title
                pub(in crate::domain::webhook) message: Option<Str<'a>>,
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) error_data: Option<WireErrorData<'a>>,
                /// Some SDK fixtures put `details` at the top level.
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) details: Option<Str<'a>>,
                #[serde(borrow, default)]
                #[allow(dead_code)]
                pub(in crate::domain::webhook) href: Option<Str<'a>>,
            }

            #[derive(Deserialize)]
            $(#[$container])*
            pub(in crate::domain::webhook) struct WireErrorData<'a> {
                #[serde(borrow, default)]
                pub(in crate::domain::webhook) details: Option<Str<'a>>,
            }

            impl<'a> From<WireError<'a>> for super::ApiError<'a> {
                fn from(e: WireError<'a>) -> Self {
                    super::ApiError {
                        code: e.code,
                        title: e.title,
                        details: e.error_data.and_then(|d| d.details).or(e.details),
                    }
                }
            }

            pub(in crate::domain::webhook) fn status_event<'a>(s: WireStatus<'a>, status: StatusKind) -> super::Status<'a> {
                super::Status {
                    wamid: s.id,
                    status,
                    timestamp: s.timestamp.0,
                    recipient_phone: non_empty_cow(s.recipient_id),
                    recipient_user_id: non_empty_cow(s.recipient_user_id),
                    group_participant: non_empty_cow(s.recipient_participant_user_id)
                        .or(non_empty_cow(s.recipient_participant_id)),
                    biz_opaque_callback_data: s.biz_opaque_callback_data,
                    conversation: s.conversation.map(|c| super::Conversation {
                        id: c.id,
                        origin_type: c.origin.and_then(|o| o.origin_type),
                        expiration_timestamp: c.expiration_timestamp.map(|t| t.0),
                    }),
                    pricing: s.pricing.map(|p| super::Pricing {
                        model: p.pricing_model,
                        pricing_type: p.pricing_type.or(p.pricing_type_alt),
                        category: p.category,
                        billable: p.billable,
                    }),
                    error: s.errors.into_iter().next().map(super::ApiError::from),
                }
            }
        }
    };
}

status_wire!(lenient);
status_wire!(strict, #[serde(deny_unknown_fields)]);
pub(super) use lenient::{WireError, WireMetadata, WireStatus, status_event};

/// A `messages` value holding only statuses, read strictly: the fast path for the bulk of
/// traffic (sent/delivered/read receipts). Any other key fails it and the lenient paths run.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StrictStatusesValue<'a> {
    #[serde(default)]
    #[allow(dead_code)]
    pub(super) messaging_product: Option<serde::de::IgnoredAny>,
    #[serde(borrow, default)]
    pub(super) metadata: Option<strict::WireMetadata<'a>>,
    #[serde(borrow)]
    pub(super) statuses: Vec<strict::WireStatus<'a>>,
}

/// A whole POST of status changes only, read strictly in one pass (no raw-value scan, no
/// key tracking): Meta's delivery receipts, the bulk of webhook traffic.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StrictStatusEnvelope<'a> {
    #[serde(default)]
    #[allow(dead_code)]
    pub(super) object: Option<serde::de::IgnoredAny>,
    #[serde(borrow)]
    pub(super) entry: Vec<StrictStatusEntry<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StrictStatusEntry<'a> {
    #[serde(borrow)]
    pub(super) id: Text<'a>,
    #[serde(default)]
    pub(super) time: Option<Timestamp>,
    #[serde(borrow)]
    pub(super) changes: Vec<StrictStatusChange<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StrictStatusChange<'a> {
    #[serde(borrow)]
    pub(super) field: Text<'a>,
    #[serde(borrow)]
    pub(super) value: StrictStatusesValue<'a>,
}

#[derive(Deserialize)]
pub(super) struct WireMessagesValue<'a> {
    #[serde(borrow, default)]
    pub(super) metadata: Option<WireMetadata<'a>>,
    #[serde(borrow, default)]
    pub(super) contacts: Vec<WireContact<'a>>,
    #[serde(borrow, default)]
    pub(super) messages: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) statuses: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) errors: Vec<&'a RawValue>,
}

/// The same value read in one pass, items typed: the fast path for ordinary traffic.
#[derive(Deserialize)]
pub(super) struct WireMessagesTyped<'a> {
    #[serde(borrow, default)]
    pub(super) metadata: Option<WireMetadata<'a>>,
    #[serde(borrow, default)]
    pub(super) contacts: Vec<WireContact<'a>>,
    #[serde(borrow, default)]
    pub(super) messages: Vec<WireMessage<'a>>,
    #[serde(borrow, default)]
    pub(super) statuses: Vec<WireStatus<'a>>,
    #[serde(borrow, default)]
    pub(super) errors: Vec<WireError<'a>>,
}

#[derive(Deserialize)]
pub(super) struct WireContact<'a> {
    #[serde(borrow, default)]
    pub(super) wa_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) user_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) parent_user_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) profile: Option<WireProfile<'a>>,
    #[serde(borrow, default)]
    #[allow(dead_code)] // identity-change check hash: known, not stored
    pub(super) identity_key_hash: Option<Str<'a>>,
}

#[derive(Deserialize)]
pub(super) struct WireProfile<'a> {
    #[serde(borrow, default)]
    pub(super) name: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) username: Option<Str<'a>>,
    #[serde(borrow, default)]
    #[allow(dead_code)]
    pub(super) country_code: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[allow(dead_code)] // content subtrees are known but opaque: analytics never stores them
pub(super) struct WireMessage<'a> {
    #[serde(borrow)]
    pub(super) id: Str<'a>,
    pub(super) timestamp: Timestamp,
    #[serde(borrow, rename = "type", default)]
    pub(super) msg_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) from: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) from_user_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) from_parent_user_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) context: Option<WireContext<'a>>,
    #[serde(borrow, default)]
    pub(super) referral: Option<WireReferral<'a>>,
    #[serde(borrow, default)]
    pub(super) errors: Vec<WireError<'a>>,
    #[serde(borrow, default)]
    pub(super) text: Option<WireText<'a>>,
    #[serde(borrow, default)]
    pub(super) button: Option<WireButton<'a>>,
    #[serde(borrow, default)]
    pub(super) system: Option<WireSystem<'a>>,
    #[serde(borrow, default)]
    pub(super) interactive: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) image: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) audio: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) video: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) document: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) sticker: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) location: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) contacts: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) order: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) reaction: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) unsupported: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) identity: Option<&'a RawValue>,
}

#[derive(Deserialize)]
pub(super) struct WireContext<'a> {
    #[serde(borrow, default)]
    pub(super) id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) from: Option<Str<'a>>,
    #[serde(default)]
    pub(super) forwarded: Option<bool>,
    #[serde(default)]
    pub(super) frequently_forwarded: Option<bool>,
    #[serde(borrow, default)]
    #[allow(dead_code)]
    pub(super) referred_product: Option<&'a RawValue>,
}

#[derive(Deserialize)]
pub(super) struct WireReferral<'a> {
    #[serde(borrow, default)]
    pub(super) source_url: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) source_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) source_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) body: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) headline: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) media_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    #[allow(dead_code)]
    pub(super) image_url: Option<Str<'a>>,
    #[serde(borrow, default)]
    #[allow(dead_code)]
    pub(super) video_url: Option<Str<'a>>,
    #[serde(borrow, default)]
    #[allow(dead_code)]
    pub(super) thumbnail_url: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) ctwa_clid: Option<Str<'a>>,
    #[serde(borrow, default)]
    #[allow(dead_code)]
    pub(super) welcome_message: Option<&'a RawValue>,
}

#[derive(Deserialize)]
pub(super) struct WireText<'a> {
    #[serde(borrow, default)]
    pub(super) body: Option<Str<'a>>,
}

#[derive(Deserialize)]
pub(super) struct WireButton<'a> {
    #[serde(borrow, default)]
    pub(super) payload: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) text: Option<Str<'a>>,
}

#[derive(Deserialize)]
pub(super) struct WireSystem<'a> {
    #[serde(borrow, default)]
    #[allow(dead_code)]
    pub(super) body: Option<Str<'a>>,
    #[serde(borrow, rename = "type", default)]
    pub(super) change_type: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) wa_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) new_wa_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) user_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    #[allow(dead_code)]
    pub(super) customer: Option<Str<'a>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
pub(super) struct WireTemplateValue<'a> {
    #[serde(borrow, default)]
    pub(super) event: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) message_template_id: Text<'a>,
    #[serde(borrow, default)]
    pub(super) message_template_name: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) message_template_language: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) message_template_category: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) reason: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) previous_quality_score: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) new_quality_score: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) previous_category: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) new_category: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) correct_category: Option<Str<'a>>,
    #[serde(default)]
    pub(super) category_update_timestamp: Option<Timestamp>,
    #[serde(borrow, default)]
    pub(super) disable_info: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) other_info: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) rejection_info: Option<&'a RawValue>,
    // Meta's malformed examples put these inside value.
    #[serde(borrow, default)]
    pub(super) field: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) object: Option<Str<'a>>,
}

#[derive(Deserialize)]
pub(super) struct WireUserPreferencesValue<'a> {
    #[serde(borrow, default)]
    pub(super) metadata: Option<WireMetadata<'a>>,
    #[serde(borrow, default)]
    pub(super) contacts: Vec<WireContact<'a>>,
    #[serde(borrow, default)]
    pub(super) user_preferences: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
pub(super) struct WireUserPreference<'a> {
    #[serde(borrow, default)]
    pub(super) wa_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) user_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    #[allow(dead_code)]
    pub(super) detail: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) category: Option<Str<'a>>,
    #[serde(borrow)]
    pub(super) value: Str<'a>,
    pub(super) timestamp: Timestamp,
}

#[derive(Deserialize)]
#[allow(dead_code)] // the whole value is stored raw; these are the documented keys
pub(super) struct WireAccountValue<'a> {
    #[serde(borrow, default)]
    pub(super) event: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) phone_number: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) display_phone_number: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) country: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) violation_info: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) ban_info: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) waba_info: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) volume_tier_info: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) auth_international_rate_eligibility: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) restriction_info: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) disconnection_info: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) partner_client_certification_info: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) lock_info: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) old_limit: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) current_limit: Option<Str<'a>>,
    #[serde(default)]
    pub(super) max_daily_conversations_per_business: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub(super) field: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) object: Option<Str<'a>>,
}

#[derive(Deserialize)]
pub(super) struct WireAutomaticEventsValue<'a> {
    #[serde(borrow, default)]
    pub(super) metadata: Option<WireMetadata<'a>>,
    #[serde(borrow, default)]
    pub(super) automatic_events: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
pub(super) struct WireAutomaticEvent<'a> {
    #[serde(borrow, default)]
    pub(super) id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) event_name: Option<Str<'a>>,
    pub(super) timestamp: Timestamp,
    #[serde(borrow, default)]
    pub(super) ctwa_clid: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) custom_data: Option<WireCustomData<'a>>,
}

#[derive(Deserialize)]
pub(super) struct WireCustomData<'a> {
    #[serde(borrow, default)]
    pub(super) currency: Option<Str<'a>>,
    #[serde(default)]
    pub(super) value: Option<i64>,
}

// ---------------------------------------------------------------------------------------
// Wire → model
// ---------------------------------------------------------------------------------------

pub(super) fn inbound_event<'a>(m: WireMessage<'a>, contacts: &[Contact<'a>]) -> Inbound<'a> {
    let from_phone = non_empty_cow(m.from);
    let from_user_id = non_empty_cow(m.from_user_id);
    let contact = match_contact(contacts, from_phone.as_deref(), from_user_id.as_deref());
    Inbound {
        wamid: m.id,
        timestamp: m.timestamp.0,
        msg_type: m.msg_type,
        from_phone,
        from_user_id,
        contact,
        context: m.context.map(|c| Context {
            id: c.id,
            from: c.from,
            forwarded: c.forwarded.unwrap_or(false),
            frequently_forwarded: c.frequently_forwarded.unwrap_or(false),
        }),
        referral: m.referral.map(|r| Referral {
            source_url: r.source_url,
            source_id: r.source_id,
            source_type: r.source_type,
            headline: r.headline,
            body: r.body,
            media_type: r.media_type,
            ctwa_clid: non_empty_cow(r.ctwa_clid),
        }),
        text: m.text.and_then(|t| t.body),
        button_payload: m.button.as_ref().and_then(|b| b.payload.clone()),
        button_text: m.button.and_then(|b| b.text),
        error: m.errors.into_iter().next().map(ApiError::from),
        system: m.system.map(|s| SystemChange {
            change_type: s.change_type,
            new_wa_id: non_empty_cow(s.new_wa_id.or(s.wa_id)),
            new_user_id: non_empty_cow(s.user_id),
        }),
    }
}

impl<'a> From<WireContact<'a>> for Contact<'a> {
    fn from(c: WireContact<'a>) -> Self {
        let (name, username) = c.profile.map(|p| (p.name, p.username)).unwrap_or_default();
        Contact {
            wa_id: non_empty_cow(c.wa_id),
            user_id: non_empty_cow(c.user_id),
            parent_user_id: non_empty_cow(c.parent_user_id),
            name,
            username,
        }
    }
}

/// The contact of a message: the one whose phone or user id matches, else the only one.
pub(super) fn match_contact<'a>(
    contacts: &[Contact<'a>],
    phone: Option<&str>,
    user_id: Option<&str>,
) -> Option<Contact<'a>> {
    contacts
        .iter()
        .find(|c| {
            (phone.is_some() && c.wa_id.as_deref() == phone)
                || (user_id.is_some() && c.user_id.as_deref() == user_id)
        })
        .or(if contacts.len() == 1 {
            contacts.first()
        } else {
            None
        })
        .cloned()
}
