//! The generated facts (the truth is derived from these, the JSON rendered from them), the
//! tables they are drawn from and the seeded random helpers.

use super::*;
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::index;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
pub(super) struct Identity {
    pub(super) phone: Option<String>,
    pub(super) user_id: Option<String>,
}

impl Identity {
    /// Leads are keyed on the BSUID when present, since the phone may be withheld later.
    pub(super) fn lead_key(&self) -> String {
        self.user_id
            .clone()
            .or_else(|| self.phone.clone())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IdentityShape {
    PhoneOnly,
    PhoneAndBsuid,
    BsuidOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StatusKind {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl StatusKind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct StatusStep {
    pub(super) kind: StatusKind,
    pub(super) at: i64,
    pub(super) carries_pricing: bool,
}

#[derive(Debug, Clone)]
pub(super) enum PricingFact {
    /// Per-message pricing; FEP messages also get a `referral_conversion` conversation.
    PerMessage {
        category: &'static str,
        pricing_type: &'static str,
        fep_conversation_id: Option<String>,
    },
    /// Conversation-based pricing (pre-July-2025 form).
    Conversation {
        category: &'static str,
        billable: bool,
        conversation_id: String,
    },
}

impl PricingFact {
    pub(super) fn paid(&self) -> bool {
        match self {
            Self::PerMessage { pricing_type, .. } => *pricing_type == "regular",
            Self::Conversation { billable, .. } => *billable,
        }
    }

    pub(super) fn model(&self) -> &'static str {
        match self {
            Self::PerMessage { .. } => "PMP",
            Self::Conversation { .. } => "CBP",
        }
    }

    pub(super) fn category(&self) -> &'static str {
        match self {
            Self::PerMessage { category, .. } | Self::Conversation { category, .. } => category,
        }
    }

    pub(super) fn pricing_json(&self) -> Value {
        match self {
            Self::PerMessage {
                category,
                pricing_type,
                ..
            } => json!({
                "billable": self.paid(),
                "pricing_model": "PMP",
                "type": pricing_type,
                "category": category,
            }),
            Self::Conversation {
                category, billable, ..
            } => json!({
                "billable": billable,
                "pricing_model": "CBP",
                "category": category,
            }),
        }
    }

    /// The `conversation` object riding with pricing; `expiration_timestamp` only on `sent`.
    pub(super) fn conversation_json(&self, step: &StatusStep, sent_at: i64) -> Option<Value> {
        let (id, origin, window_secs) = match self {
            Self::PerMessage {
                fep_conversation_id: Some(id),
                ..
            } => (id, "referral_conversion", 72 * 3600),
            Self::PerMessage { .. } => return None,
            Self::Conversation {
                category,
                conversation_id,
                ..
            } => (conversation_id, *category, 24 * 3600),
        };
        let mut conversation = Map::new();
        conversation.insert("id".into(), json!(id));
        if step.kind == StatusKind::Sent {
            conversation.insert(
                "expiration_timestamp".into(),
                json!((sent_at + window_secs).to_string()),
            );
        }
        conversation.insert("origin".into(), json!({ "type": origin }));
        Some(Value::Object(conversation))
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct FailureFact {
    pub(super) code: i64,
    pub(super) title: &'static str,
    pub(super) details: &'static str,
}

#[derive(Debug, Clone)]
pub(super) struct OutboundPlan {
    pub(super) wamid: String,
    pub(super) recipient: Identity,
    pub(super) pricing: Option<PricingFact>,
    pub(super) ladder: Vec<StatusStep>,
    pub(super) failure: Option<(FailureFact, &'static str)>,
    pub(super) callback: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub(super) struct Utm {
    pub(super) source: Option<&'static str>,
    pub(super) medium: Option<&'static str>,
    pub(super) campaign: Option<&'static str>,
    pub(super) content: Option<&'static str>,
    pub(super) term: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub(super) struct ReferralFact {
    pub(super) ad: &'static Ad,
    pub(super) source_url: String,
    pub(super) ctwa_clid: Option<String>,
    pub(super) with_welcome_message: bool,
    pub(super) utm: Utm,
}

#[derive(Debug, Clone)]
pub(super) enum InboundContent {
    Text(String),
    /// Template quick reply, answering one of the business's messages.
    Button {
        payload: &'static str,
        context_wamid: String,
    },
    Image {
        media_id: String,
        sha256: String,
        caption: Option<&'static str>,
    },
}

#[derive(Debug, Clone)]
pub(super) struct InboundPlan {
    pub(super) wamid: String,
    pub(super) at: i64,
    pub(super) content: InboundContent,
    pub(super) referral: Option<ReferralFact>,
    pub(super) keyword: Option<ConsentKeyword>,
}

#[derive(Debug, Clone)]
pub(super) struct UserPlan {
    pub(super) identity: Identity,
    pub(super) name: &'static str,
    pub(super) messages: Vec<InboundPlan>,
}

#[derive(Debug, Clone)]
pub(super) struct PreferencePlan {
    pub(super) phone: String,
    pub(super) at: i64,
    pub(super) stop: bool,
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

pub(super) use StatusKind::{Delivered, Failed, Read, Sent};

/// Status ladders with their weights (percent).
pub(super) const LIFECYCLES: &[(&[StatusKind], u32)] = &[
    (&[Sent, Delivered, Read], 45),
    // Read at once: Meta sends no `delivered`.
    (&[Sent, Read], 10),
    (&[Sent, Delivered], 25),
    (&[Sent], 5),
    (&[Sent, Failed], 10),
    // Delivered to one device, failed on another.
    (&[Sent, Delivered, Failed], 5),
];

/// PMP (category, type) combinations Meta can report, weighted. `free_customer_service` only for
/// utility/service, `regular` never for service, `free_entry_point` for anything.
pub(super) const PMP_COMBOS: &[((&str, &str), u32)] = &[
    (("marketing", "regular"), 30),
    (("marketing", "free_entry_point"), 4),
    (("utility", "regular"), 10),
    (("utility", "free_customer_service"), 10),
    (("utility", "free_entry_point"), 2),
    (("authentication", "regular"), 8),
    (("authentication", "free_entry_point"), 1),
    (("service", "free_customer_service"), 15),
    (("service", "free_entry_point"), 3),
    (("marketing_lite", "regular"), 8),
    (("marketing_lite", "free_entry_point"), 1),
];

/// CBP (category, billable) combinations, weighted. Service was billable before Nov 2024.
pub(super) const CBP_COMBOS: &[((&str, bool), u32)] = &[
    (("marketing", true), 4),
    (("utility", true), 3),
    (("authentication", true), 1),
    (("service", false), 2),
    (("service", true), 1),
    (("referral_conversion", false), 1),
];

pub(super) const FAILURES: &[FailureFact] = &[
    FailureFact {
        code: 131049,
        title: "This message was not delivered to maintain healthy ecosystem engagement.",
        details: "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    },
    FailureFact {
        code: 131026,
        title: "Message undeliverable",
        details: "Message Undeliverable.",
    },
    FailureFact {
        code: 131047,
        title: "Re-engagement message",
        details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    },
    FailureFact {
        code: 131050,
        title: "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
        details: "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
    },
    FailureFact {
        code: 130472,
        title: "User's number is part of an experiment",
        details: "Failed to send message because this user's phone number is part of an experiment",
    },
];

/// Both `href` forms seen in Meta's payloads.
pub(super) const ERROR_HREFS: &[&str] = &[
    "/documentation/business-messaging/whatsapp/support/error-codes",
    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
];

/// Sender tags set on send; the product reads campaign and bot/human from them.
pub(super) const CALLBACK_DATA: &[&str] = &[
    "campaign=spring;sender=bot",
    "campaign=spring;sender=human:agent7",
    "campaign=flash_sale;sender=bot",
    "sender=human:agent7",
    "sender=human:agent3",
    "sender=bot",
];

/// (country code, ISO region, national prefix, random digits after it)
pub(super) const COUNTRIES: &[(&str, &str, &str, usize)] = &[
    ("62", "ID", "812", 8),
    ("55", "BR", "119", 8),
    ("1", "US", "650", 7),
    ("34", "ES", "6", 8),
    ("84", "VN", "9", 8),
];

pub(super) const NAMES: &[&str] = &[
    "Lucía Gómez",
    "Đặng Thu",
    "Sheena Nelson",
    "Budi Santoso",
    "João Pereira",
    "Nguyễn Văn An",
    "Siti Rahmawati",
    "Zoë Müller",
    "Ahmad Fauzi",
    "Chloé Dubois",
    "Putri 🌸",
    "Carlos Ruiz",
];

pub(super) const CHAT_TEXTS: &[&str] = &[
    "Hello! Can I get more info on this?",
    "Berapa harganya kak?",
    "Quanto custa o frete?",
    "¿Tienen envío a Madrid?",
    "Cảm ơn bạn nhiều!",
    "Great, thanks 👍",
    "Is the promo still on?",
    "Bisa kirim ke Surabaya?",
    "Obrigado! 🙏",
    "Can I stop by the store tomorrow?",
];

/// Not an opt-out: a STOP keyword must be the whole message.
pub(super) const NOT_A_STOP: &str = "stop the music";

pub(super) const STOP_TEXTS: &[&str] = &["STOP", " stop ", "Berhenti", "PARAR", "unsubscribe"];
pub(super) const START_TEXTS: &[&str] = &["START", "start", " Mulai "];

pub(super) const IMAGE_CAPTIONS: &[&str] = &["Ini yang saya mau", "Foto do produto", "Size chart?"];

/// Quick-reply payload on marketing templates; not a keyword, interpreting it is a product choice.
pub(super) const STOP_PROMOTIONS: &str = "Stop promotions";

#[derive(Debug)]
pub(super) struct Ad {
    pub(super) source_id: &'static str,
    pub(super) campaign: &'static str,
    pub(super) content: &'static str,
    pub(super) headline: &'static str,
    pub(super) body: &'static str,
}

pub(super) const ADS: &[Ad] = &[
    Ad {
        source_id: "120226305854810726",
        campaign: "spring_sale",
        content: "ad1",
        headline: "Chat with us",
        body: "Summer Succulents are here!",
    },
    Ad {
        source_id: "120226305854810727",
        campaign: "spring_sale",
        content: "ad2",
        headline: "Diskon 50% hari ini",
        body: "Sepatu lari terbaru, kirim gratis.",
    },
    Ad {
        source_id: "120226305854810801",
        campaign: "ramadan_promo",
        content: "ad3",
        headline: "Promo Ramadan",
        body: "Hampers spesial untuk keluarga.",
    },
    Ad {
        source_id: "120226305854810802",
        campaign: "ramadan_promo",
        content: "ad4",
        headline: "Fale com a gente",
        body: "Frete grátis para todo o Brasil!",
    },
    Ad {
        source_id: "120226305854810955",
        campaign: "back_to_school",
        content: "ad5",
        headline: "Back to school",
        body: "Backpacks from $19.",
    },
];

pub(super) const UTM_SOURCES: &[&str] = &["facebook", "instagram"];
pub(super) const UTM_MEDIUMS: &[&str] = &["cpc", "paid_social"];
pub(super) const UTM_TERMS: &[&str] = &["succulents", "running_shoes", "promo2026", "sepatu_lari"];

pub(super) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub(super) const CLID_CHARS: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
pub(super) const BASE64: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub(super) const HEX: &[u8] = b"0123456789abcdef";
pub(super) const DIGITS: &[u8] = b"0123456789";

pub(super) const DAY: i64 = 86_400;
pub(super) const HOUR: i64 = 3_600;

// ---------------------------------------------------------------------------------------------
// Random helpers
// ---------------------------------------------------------------------------------------------

/// One item of a non-empty constant table.
pub(super) fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// One item of a non-empty constant table with positive weights.
pub(super) fn pick_weighted<'a, T>(rng: &mut StdRng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, weight)| weight).sum();
    let mut roll = rng.random_range(0..total);
    for (item, weight) in items {
        if roll < *weight {
            return item;
        }
        roll -= weight;
    }
    &items[items.len() - 1].0
}

pub(super) fn random_string(rng: &mut StdRng, alphabet: &[u8], len: usize) -> String {
    (0..len).map(|_| char::from(*pick(rng, alphabet))).collect()
}

/// `count` distinct indices below `len`, as a set (clamped to `len`).
pub(super) fn sample_indices(rng: &mut StdRng, len: usize, count: usize) -> BTreeSet<usize> {
    index::sample(rng, len, count.min(len))
        .into_iter()
        .collect()
}

/// Share of `n` rounded to nearest, at least one when `n > 0` and the share is positive.
pub(super) fn quota(n: usize, percent: usize) -> usize {
    if n == 0 || percent == 0 {
        0
    } else {
        ((n * percent + 50) / 100).max(1)
    }
}

/// Generates ids and numbers that are unique across the whole traffic.
pub(super) struct IdMint {
    pub(super) taken: BTreeSet<String>,
}

impl IdMint {
    pub(super) fn unique(&mut self, mut make: impl FnMut() -> String) -> String {
        loop {
            let candidate = make();
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
    }

    /// `wamid.` + 40 base64-ish chars, shaped like Meta's (`HBgL…`).
    pub(super) fn wamid(&mut self, rng: &mut StdRng) -> String {
        self.unique(|| format!("wamid.HBgL{}", random_string(rng, ALNUM, 36)))
    }

    pub(super) fn identity(&mut self, rng: &mut StdRng, shape: IdentityShape) -> Identity {
        let &(cc, iso, prefix, digits) = pick(rng, COUNTRIES);
        let phone = match shape {
            IdentityShape::PhoneOnly | IdentityShape::PhoneAndBsuid => {
                Some(self.unique(|| format!("{cc}{prefix}{}", random_string(rng, DIGITS, digits))))
            }
            IdentityShape::BsuidOnly => None,
        };
        let user_id = match shape {
            IdentityShape::PhoneAndBsuid | IdentityShape::BsuidOnly => Some(self.unique(|| {
                let len = rng.random_range(15..=18);
                let lead = rng.random_range(1..=9);
                format!("{iso}.{lead}{}", random_string(rng, DIGITS, len))
            })),
            IdentityShape::PhoneOnly => None,
        };
        Identity { phone, user_id }
    }
}
