//! Deterministic WhatsApp Cloud API webhook traffic, with the answers.
//!
//! [`generate`] invents a day or three of one business number's traffic: outbound messages
//! climbing their status ladder (sent → delivered → read, or failed), inbound user messages
//! (Click-to-WhatsApp referrals, STOP/START keywords, BSUID-only users) and `user_preferences`
//! opt-outs. Alongside the events it records a [`GroundTruth`], computed from the generated facts
//! rather than read back from the JSON, so a test can compare stored results with it exactly.
//!
//! [`deliveries`] then shapes the events the way Meta delivers them: batched, duplicated
//! (retries), shuffled (no ordering guarantee), occasionally one 1000-update body. [`sign`]
//! produces the `X-Hub-Signature-256` value for each body. [`broadcast`] invents one template
//! sent to many people, and [`in_batches`] delivers its statuses in large batches.
//!
//! Everything is seeded; nothing reads the wall clock, so the same spec gives the same bytes.

use std::collections::{BTreeMap, BTreeSet};

use hmac::{Hmac, KeyInit, Mac};
use rand::rngs::StdRng;
use rand::seq::{SliceRandom, index};
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use sha2::Sha256;

// ---------------------------------------------------------------------------------------------
// Signature
// ---------------------------------------------------------------------------------------------

/// The `X-Hub-Signature-256` header value Meta sends: `sha256=<lowercase hex HMAC-SHA256>` of the
/// exact body bytes, keyed with the app secret.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length (long keys are hashed), so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .expect("HMAC-SHA256 accepts a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

// ---------------------------------------------------------------------------------------------
// Consent keywords
// ---------------------------------------------------------------------------------------------

/// Whole-message opt-out keywords: `stop`, `unsubscribe`, `berhenti`, `parar`, `sair`,
/// `cancelar`, `baja`.
///
/// A message is a STOP only if, after trimming surrounding whitespace and Unicode lower-casing,
/// it equals one of these exactly. "stop the music" or a "Stop promotions" quick-reply button
/// are not opt-outs.
pub const STOP_KEYWORDS: &[&str] = &[
    "stop",
    "unsubscribe",
    "berhenti",
    "parar",
    "sair",
    "cancelar",
    "baja",
];

/// Whole-message opt-in keywords (same matching rule as [`STOP_KEYWORDS`]): `start`, `resume`,
/// `mulai`, `voltar`.
pub const START_KEYWORDS: &[&str] = &["start", "resume", "mulai", "voltar"];

/// What a consent keyword asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentKeyword {
    Stop,
    Start,
}

/// Classifies a text message body: exact whole-message match after trim and Unicode lower-case
/// against [`STOP_KEYWORDS`] and [`START_KEYWORDS`].
pub fn consent_keyword(text: &str) -> Option<ConsentKeyword> {
    let folded = text.trim().to_lowercase();
    if STOP_KEYWORDS.contains(&folded.as_str()) {
        Some(ConsentKeyword::Stop)
    } else if START_KEYWORDS.contains(&folded.as_str()) {
        Some(ConsentKeyword::Start)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficSpec {
    pub seed: u64,
    pub outbound_messages: usize,
    pub inbound_users: usize,
    pub waba_id: String,
    pub phone_number_id: String,
    pub display_phone_number: String,
    /// Unix seconds; every timestamp in the traffic is at or after this.
    pub base_time: i64,
}

impl Default for TrafficSpec {
    fn default() -> Self {
        // Ids are the ones in Meta's own examples, so payloads look familiar.
        Self {
            seed: 7,
            outbound_messages: 300,
            inbound_users: 60,
            waba_id: "102290129340398".to_string(),
            phone_number_id: "106540352242922".to_string(),
            display_phone_number: "15550783881".to_string(),
            base_time: 1_763_600_000,
        }
    }
}

/// Generated events (in timestamp order) and the truth they imply.
#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    pub events: Vec<Event>,
    pub truth: GroundTruth,
}

/// One webhook update, as Meta puts it inside `changes[].value`.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// One `statuses[]` item.
    Status(Value),
    /// One `messages[]` item and the `contacts[]` item that goes with it.
    Inbound { message: Value, contact: Value },
    /// One `user_preferences[]` item.
    UserPreference(Value),
}

/// Expected stored results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroundTruth {
    /// Keyed by wamid.
    pub outbound: BTreeMap<String, OutboundTruth>,
    pub inbound_wamids: BTreeSet<String>,
    /// Keyed by the lead key: the BSUID `user_id` when the user has one, else the phone.
    pub users: BTreeMap<String, UserTruth>,
    /// Exact-match STOP/START keyword messages plus `user_preferences` items.
    pub consent_events: usize,
}

/// Expected state of one outbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundTruth {
    /// Always true: every generated message has a `sent` status.
    pub sent: bool,
    /// A `delivered` or a `read` status exists (Meta skips `delivered` on an instant read).
    pub delivered: bool,
    pub read: bool,
    /// The last status by timestamp is `failed`.
    pub failed: bool,
    pub error_code: Option<i64>,
    /// PMP: `type == "regular"`; CBP: `billable`. `None` when no status carried pricing.
    pub paid: Option<bool>,
    pub pricing_category: Option<String>,
    pub pricing_model: Option<String>,
    pub biz_opaque_callback_data: Option<String>,
    /// Distinct status updates generated for this wamid (duplicates in delivery not counted).
    pub status_count: usize,
}

/// Expected state of one lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTruth {
    pub phone: Option<String>,
    pub user_id: Option<String>,
    /// Referral of the first message (in send order) that carried one; later referrals never
    /// replace it.
    pub first_touch: Option<FirstTouch>,
    pub inbound_count: usize,
    /// The user's last consent keyword message was a STOP.
    pub opted_out_by_keyword: bool,
}

/// Click-to-WhatsApp first touch, with UTM parameters as they appear in `source_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstTouch {
    pub source_id: String,
    pub source_url: String,
    pub ctwa_clid: Option<String>,
    pub headline: String,
    pub utm_campaign: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_content: Option<String>,
    pub utm_term: Option<String>,
}

impl GroundTruth {
    /// Outbound messages with any status (all of them).
    pub fn sent(&self) -> usize {
        self.count(|m| m.sent)
    }

    /// Outbound messages with a `delivered` or `read` status.
    pub fn delivered(&self) -> usize {
        self.count(|m| m.delivered)
    }

    pub fn read(&self) -> usize {
        self.count(|m| m.read)
    }

    /// Outbound messages whose last status is `failed`.
    pub fn failed(&self) -> usize {
        self.count(|m| m.failed)
    }

    /// Outbound messages whose pricing says paid.
    pub fn paid(&self) -> usize {
        self.count(|m| m.paid == Some(true))
    }

    /// Outbound messages with pricing that says free.
    pub fn free(&self) -> usize {
        self.count(|m| m.paid == Some(false))
    }

    fn count(&self, keep: impl Fn(&OutboundTruth) -> bool) -> usize {
        self.outbound.values().filter(|m| keep(m)).count()
    }
}

// ---------------------------------------------------------------------------------------------
// Generated facts (the truth is derived from these, the JSON is rendered from these)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Identity {
    phone: Option<String>,
    user_id: Option<String>,
}

impl Identity {
    /// Leads are keyed on the BSUID when present, since the phone may be withheld later.
    fn lead_key(&self) -> String {
        self.user_id
            .clone()
            .or_else(|| self.phone.clone())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdentityShape {
    PhoneOnly,
    PhoneAndBsuid,
    BsuidOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusKind {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl StatusKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone)]
struct StatusStep {
    kind: StatusKind,
    at: i64,
    carries_pricing: bool,
}

#[derive(Debug, Clone)]
enum PricingFact {
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
    fn paid(&self) -> bool {
        match self {
            Self::PerMessage { pricing_type, .. } => *pricing_type == "regular",
            Self::Conversation { billable, .. } => *billable,
        }
    }

    fn model(&self) -> &'static str {
        match self {
            Self::PerMessage { .. } => "PMP",
            Self::Conversation { .. } => "CBP",
        }
    }

    fn category(&self) -> &'static str {
        match self {
            Self::PerMessage { category, .. } | Self::Conversation { category, .. } => category,
        }
    }

    fn pricing_json(&self) -> Value {
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
    fn conversation_json(&self, step: &StatusStep, sent_at: i64) -> Option<Value> {
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
struct FailureFact {
    code: i64,
    title: &'static str,
    details: &'static str,
}

#[derive(Debug, Clone)]
struct OutboundPlan {
    wamid: String,
    recipient: Identity,
    pricing: Option<PricingFact>,
    ladder: Vec<StatusStep>,
    failure: Option<(FailureFact, &'static str)>,
    callback: Option<&'static str>,
}

#[derive(Debug, Clone)]
struct Utm {
    source: Option<&'static str>,
    medium: Option<&'static str>,
    campaign: Option<&'static str>,
    content: Option<&'static str>,
    term: Option<&'static str>,
}

#[derive(Debug, Clone)]
struct ReferralFact {
    ad: &'static Ad,
    source_url: String,
    ctwa_clid: Option<String>,
    with_welcome_message: bool,
    utm: Utm,
}

#[derive(Debug, Clone)]
enum InboundContent {
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
struct InboundPlan {
    wamid: String,
    at: i64,
    content: InboundContent,
    referral: Option<ReferralFact>,
    keyword: Option<ConsentKeyword>,
}

#[derive(Debug, Clone)]
struct UserPlan {
    identity: Identity,
    name: &'static str,
    messages: Vec<InboundPlan>,
}

#[derive(Debug, Clone)]
struct PreferencePlan {
    phone: String,
    at: i64,
    stop: bool,
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

use StatusKind::{Delivered, Failed, Read, Sent};

/// Status ladders with their weights (percent).
const LIFECYCLES: &[(&[StatusKind], u32)] = &[
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
const PMP_COMBOS: &[((&str, &str), u32)] = &[
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
const CBP_COMBOS: &[((&str, bool), u32)] = &[
    (("marketing", true), 4),
    (("utility", true), 3),
    (("authentication", true), 1),
    (("service", false), 2),
    (("service", true), 1),
    (("referral_conversion", false), 1),
];

const FAILURES: &[FailureFact] = &[
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
const ERROR_HREFS: &[&str] = &[
    "/documentation/business-messaging/whatsapp/support/error-codes",
    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
];

/// Sender tags set on send; the product reads campaign and bot/human from them.
const CALLBACK_DATA: &[&str] = &[
    "campaign=spring;sender=bot",
    "campaign=spring;sender=human:agent7",
    "campaign=flash_sale;sender=bot",
    "sender=human:agent7",
    "sender=human:agent3",
    "sender=bot",
];

/// (country code, ISO region, national prefix, random digits after it)
const COUNTRIES: &[(&str, &str, &str, usize)] = &[
    ("62", "ID", "812", 8),
    ("55", "BR", "119", 8),
    ("1", "US", "650", 7),
    ("34", "ES", "6", 8),
    ("84", "VN", "9", 8),
];

const NAMES: &[&str] = &[
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

const CHAT_TEXTS: &[&str] = &[
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
const NOT_A_STOP: &str = "stop the music";

const STOP_TEXTS: &[&str] = &["STOP", " stop ", "Berhenti", "PARAR", "unsubscribe"];
const START_TEXTS: &[&str] = &["START", "start", " Mulai "];

const IMAGE_CAPTIONS: &[&str] = &["Ini yang saya mau", "Foto do produto", "Size chart?"];

/// Quick-reply payload on marketing templates; not a keyword, interpreting it is a product choice.
const STOP_PROMOTIONS: &str = "Stop promotions";

#[derive(Debug)]
struct Ad {
    source_id: &'static str,
    campaign: &'static str,
    content: &'static str,
    headline: &'static str,
    body: &'static str,
}

const ADS: &[Ad] = &[
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

const UTM_SOURCES: &[&str] = &["facebook", "instagram"];
const UTM_MEDIUMS: &[&str] = &["cpc", "paid_social"];
const UTM_TERMS: &[&str] = &["succulents", "running_shoes", "promo2026", "sepatu_lari"];

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const CLID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &[u8] = b"0123456789abcdef";
const DIGITS: &[u8] = b"0123456789";

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

// ---------------------------------------------------------------------------------------------
// Random helpers
// ---------------------------------------------------------------------------------------------

/// One item of a non-empty constant table.
fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// One item of a non-empty constant table with positive weights.
fn pick_weighted<'a, T>(rng: &mut StdRng, items: &'a [(T, u32)]) -> &'a T {
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

fn random_string(rng: &mut StdRng, alphabet: &[u8], len: usize) -> String {
    (0..len).map(|_| char::from(*pick(rng, alphabet))).collect()
}

/// `count` distinct indices below `len`, as a set (clamped to `len`).
fn sample_indices(rng: &mut StdRng, len: usize, count: usize) -> BTreeSet<usize> {
    index::sample(rng, len, count.min(len))
        .into_iter()
        .collect()
}

/// Share of `n` rounded to nearest, at least one when `n > 0` and the share is positive.
fn quota(n: usize, percent: usize) -> usize {
    if n == 0 || percent == 0 {
        0
    } else {
        ((n * percent + 50) / 100).max(1)
    }
}

/// Generates ids and numbers that are unique across the whole traffic.
struct IdMint {
    taken: BTreeSet<String>,
}

impl IdMint {
    fn unique(&mut self, mut make: impl FnMut() -> String) -> String {
        loop {
            let candidate = make();
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
    }

    /// `wamid.` + 40 base64-ish chars, shaped like Meta's (`HBgL…`).
    fn wamid(&mut self, rng: &mut StdRng) -> String {
        self.unique(|| format!("wamid.HBgL{}", random_string(rng, ALNUM, 36)))
    }

    fn identity(&mut self, rng: &mut StdRng, shape: IdentityShape) -> Identity {
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

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

/// Generates the traffic described by `spec`, deterministically from `spec.seed`.
///
/// Outbound: recipients ~70% phone only, ~20% phone + BSUID, ~10% BSUID only
/// (`recipient_id: ""`); ladders sent→delivered→read 45%, sent→read 10%, sent→delivered 25%,
/// sent 5%, sent→failed 10%, sent→delivered→failed 5%; pricing ~82% PMP, ~15% CBP, ~3% none
/// (the v24 minimal status), carried on `sent` and on one of delivered/read (in ~10% of messages
/// only on delivered/read), never on `failed`; `biz_opaque_callback_data` on ~30%.
///
/// Inbound: each user sends 1–4 messages; ~40% of first messages carry a Click-to-WhatsApp
/// referral, ~20% of those users later send a second, different one; ~10% of users send an exact
/// STOP keyword (a third of them later START), ~5% send "stop the music". Users are ~70% phone +
/// BSUID, ~20% phone only, ~10% BSUID only (no `from`, contact `wa_id: ""`).
///
/// User preferences: ~8% of users with a phone stop marketing messages, half of them resume, and
/// one more user resumes without a prior stop.
pub fn generate(spec: &TrafficSpec) -> Traffic {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut mint = IdMint {
        taken: BTreeSet::new(),
    };

    let outbound = plan_outbound(spec, &mut rng, &mut mint);
    let users = plan_users(spec, &mut rng, &mut mint, &outbound);
    let preferences = plan_preferences(&mut rng, &users);

    let truth = ground_truth(&outbound, &users, &preferences);
    let events = render_events(spec, &outbound, &users, &preferences);
    Traffic { events, truth }
}

fn plan_outbound(spec: &TrafficSpec, rng: &mut StdRng, mint: &mut IdMint) -> Vec<OutboundPlan> {
    // A recipient usually gets a few messages, as in a real campaign list.
    let pool_size = spec.outbound_messages.div_ceil(3).max(1);
    let recipients: Vec<Identity> = (0..pool_size)
        .map(|_| {
            let shape = *pick_weighted(
                rng,
                &[
                    (IdentityShape::PhoneOnly, 70),
                    (IdentityShape::PhoneAndBsuid, 20),
                    (IdentityShape::BsuidOnly, 10),
                ],
            );
            mint.identity(rng, shape)
        })
        .collect();

    (0..spec.outbound_messages)
        .map(|_| {
            let wamid = mint.wamid(rng);
            let recipient = pick(rng, &recipients).clone();
            let sent_at = spec.base_time + rng.random_range(0..3 * DAY);

            let (kinds, mut ladder) = plan_ladder(rng, sent_at);

            let roll = rng.random_range(0..100);
            let pricing = if roll < 3 {
                None
            } else if roll < 18 {
                let &(category, billable) = pick_weighted(rng, CBP_COMBOS);
                Some(PricingFact::Conversation {
                    category,
                    billable,
                    conversation_id: random_string(rng, HEX, 32),
                })
            } else {
                let &(category, pricing_type) = pick_weighted(rng, PMP_COMBOS);
                let fep_conversation_id =
                    (pricing_type == "free_entry_point").then(|| random_string(rng, HEX, 32));
                Some(PricingFact::PerMessage {
                    category,
                    pricing_type,
                    fep_conversation_id,
                })
            };
            if pricing.is_some() {
                attach_pricing(rng, &mut ladder);
            }

            let failure = kinds
                .contains(&Failed)
                .then(|| (*pick(rng, FAILURES), *pick(rng, ERROR_HREFS)));
            let callback = rng.random_bool(0.30).then(|| *pick(rng, CALLBACK_DATA));

            OutboundPlan {
                wamid,
                recipient,
                pricing,
                ladder,
                failure,
                callback,
            }
        })
        .collect()
}

/// One message's statuses from `sent_at`: a weighted lifecycle ([`LIFECYCLES`]), times strictly
/// increasing along it.
fn plan_ladder(rng: &mut StdRng, sent_at: i64) -> (&'static [StatusKind], Vec<StatusStep>) {
    let kinds = *pick_weighted(rng, LIFECYCLES);
    let mut ladder = Vec::with_capacity(kinds.len());
    let mut at = sent_at;
    for (i, &kind) in kinds.iter().enumerate() {
        if i > 0 {
            at += match kind {
                Delivered => rng.random_range(1..=90),
                Read => rng.random_range(5..=6 * HOUR),
                Failed => rng.random_range(1..=600),
                Sent => 1,
            };
        }
        ladder.push(StatusStep {
            kind,
            at,
            carries_pricing: false,
        });
    }
    (kinds, ladder)
}

/// The sender tag of [`broadcast`]'s template (see README, *Sender tags*).
pub const BROADCAST_TAG: &str = "template=spring_sale:en_US;campaign=spring;by=bot";

/// A broadcast: one marketing template sent by a bot to `recipients` distinct people, 1,000 a
/// second from `spec.base_time`, then Meta's statuses for each message: the usual lifecycles
/// (see [`generate`]: most delivered, many read, some failed), per-message marketing pricing
/// (paid) on `sent` and on one of delivered/read, [`BROADCAST_TAG`] on every status.
/// Recipients are ~80% phone only, ~15% phone + BSUID, ~5% BSUID only. No inbound traffic.
pub fn broadcast(spec: &TrafficSpec, recipients: usize) -> Traffic {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut mint = IdMint {
        taken: BTreeSet::new(),
    };
    let outbound: Vec<OutboundPlan> = (0..recipients)
        .map(|i| {
            let shape = *pick_weighted(
                &mut rng,
                &[
                    (IdentityShape::PhoneOnly, 80),
                    (IdentityShape::PhoneAndBsuid, 15),
                    (IdentityShape::BsuidOnly, 5),
                ],
            );
            let recipient = mint.identity(&mut rng, shape);
            let wamid = mint.wamid(&mut rng);
            let (kinds, mut ladder) = plan_ladder(&mut rng, spec.base_time + (i / 1_000) as i64);
            attach_pricing(&mut rng, &mut ladder);
            let failure = kinds
                .contains(&Failed)
                .then(|| (*pick(&mut rng, FAILURES), *pick(&mut rng, ERROR_HREFS)));
            OutboundPlan {
                wamid,
                recipient,
                pricing: Some(PricingFact::PerMessage {
                    category: "marketing",
                    pricing_type: "regular",
                    fep_conversation_id: None,
                }),
                ladder,
                failure,
                callback: Some(BROADCAST_TAG),
            }
        })
        .collect();
    Traffic {
        truth: ground_truth(&outbound, &[], &[]),
        events: render_events(spec, &outbound, &[], &[]),
    }
}

/// One status of a synthetic bench body: `wamid.<prefix><i>` (one status per wamid), cycling
/// sent / delivered with PMP marketing pricing / read, a second apart, one recipient.
pub fn numbered_status(prefix: &str, i: usize) -> Value {
    let state = ["sent", "delivered", "read"][i % 3];
    let mut s = json!({"id": format!("wamid.{prefix}{i}"), "status": state,
        "timestamp": (1_763_600_000 + i).to_string(), "recipient_id": "16505551234"});
    if i % 3 == 1 {
        s["pricing"] = json!({"billable": true, "pricing_model": "PMP", "type": "regular", "category": "marketing"});
    }
    s
}

/// A POST body of the default spec's number holding these statuses in one change.
pub fn statuses_body(statuses: &[Value]) -> Vec<u8> {
    let events: Vec<Event> = statuses.iter().cloned().map(Event::Status).collect();
    let refs: Vec<&Event> = events.iter().collect();
    envelope(&TrafficSpec::default(), &refs)
        .to_string()
        .into_bytes()
}

/// Meta's rule: pricing rides on `sent` and on exactly one of delivered/read; never on `failed`.
/// Sometimes the `sent` copy is missing, so billing must be read from whichever status has it.
fn attach_pricing(rng: &mut StdRng, ladder: &mut [StatusStep]) {
    let follow_ups: Vec<usize> = ladder
        .iter()
        .enumerate()
        .filter(|(_, step)| matches!(step.kind, Delivered | Read))
        .map(|(i, _)| i)
        .collect();
    let follow_up = (!follow_ups.is_empty()).then(|| *pick(rng, &follow_ups));
    let on_sent = follow_up.is_none() || !rng.random_bool(0.10);
    for (i, step) in ladder.iter_mut().enumerate() {
        step.carries_pricing = match step.kind {
            Sent => on_sent,
            Delivered | Read => follow_up == Some(i),
            Failed => false,
        };
    }
}

fn plan_referral(rng: &mut StdRng, mint: &mut IdMint, exclude: Option<&str>) -> ReferralFact {
    let ad = loop {
        let ad = pick(rng, ADS);
        if Some(ad.source_id) != exclude {
            break ad;
        }
    };
    // Some ads link to a short URL without UTM parameters.
    let utm = if rng.random_bool(0.15) {
        Utm {
            source: None,
            medium: None,
            campaign: None,
            content: None,
            term: None,
        }
    } else {
        Utm {
            source: Some(*pick(rng, UTM_SOURCES)),
            medium: Some(*pick(rng, UTM_MEDIUMS)),
            campaign: Some(ad.campaign),
            content: Some(ad.content),
            term: rng.random_bool(0.8).then(|| *pick(rng, UTM_TERMS)),
        }
    };
    let source_url = match utm {
        Utm {
            source: Some(source),
            medium: Some(medium),
            campaign: Some(campaign),
            content: Some(content),
            term,
        } => {
            let mut url = format!(
                "https://example.com/promo?utm_source={source}&utm_medium={medium}&utm_campaign={campaign}&utm_content={content}"
            );
            if let Some(term) = term {
                url.push_str("&utm_term=");
                url.push_str(term);
            }
            url
        }
        _ => format!("https://fb.me/{}", random_string(rng, ALNUM, 9)),
    };
    let ctwa_clid = rng
        .random_bool(0.90)
        .then(|| mint.unique(|| format!("Aff-{}", random_string(rng, CLID_CHARS, 96))));
    ReferralFact {
        ad,
        source_url,
        ctwa_clid,
        with_welcome_message: rng.random_bool(0.5),
        utm,
    }
}

fn plan_users(
    spec: &TrafficSpec,
    rng: &mut StdRng,
    mint: &mut IdMint,
    outbound: &[OutboundPlan],
) -> Vec<UserPlan> {
    let n = spec.inbound_users;
    // Fixed quotas (not coin flips) so every case shows up even in small specs.
    let stoppers = sample_indices(rng, n, quota(n, 10));
    let restarters: BTreeSet<usize> = {
        let list: Vec<usize> = stoppers.iter().copied().collect();
        // "A few" of the stoppers come back; none when there is only one to watch.
        let count = if list.len() >= 2 {
            (list.len() / 3).max(1)
        } else {
            0
        };
        sample_indices(rng, list.len(), count)
            .into_iter()
            .map(|i| list[i])
            .collect()
    };
    let music_fans = sample_indices(rng, n, quota(n, 5));

    (0..n)
        .map(|u| {
            let shape = *pick_weighted(
                rng,
                &[
                    (IdentityShape::PhoneAndBsuid, 70),
                    (IdentityShape::PhoneOnly, 20),
                    (IdentityShape::BsuidOnly, 10),
                ],
            );
            let identity = mint.identity(rng, shape);
            let name = *pick(rng, NAMES);

            let regular = rng.random_range(1..=4);
            let mut contents: Vec<(InboundContent, Option<ConsentKeyword>)> = (0..regular)
                .map(|_| (plan_content(rng, mint, outbound), None))
                .collect();
            if music_fans.contains(&u) {
                let slot = rng.random_range(0..regular);
                contents[slot].0 = InboundContent::Text(NOT_A_STOP.to_string());
            }
            if stoppers.contains(&u) {
                let text = *pick(rng, STOP_TEXTS);
                contents.push((
                    InboundContent::Text(text.to_string()),
                    Some(ConsentKeyword::Stop),
                ));
                if restarters.contains(&u) {
                    let text = *pick(rng, START_TEXTS);
                    contents.push((
                        InboundContent::Text(text.to_string()),
                        Some(ConsentKeyword::Start),
                    ));
                }
            }

            // Referrals only on regular messages; a keyword message stays a bare keyword.
            let mut referrals: Vec<Option<ReferralFact>> = vec![None; contents.len()];
            if rng.random_bool(0.40) {
                let first = plan_referral(rng, mint, None);
                if regular >= 2 && rng.random_bool(0.20) {
                    let later = rng.random_range(1..regular);
                    referrals[later] = Some(plan_referral(rng, mint, Some(first.ad.source_id)));
                }
                referrals[0] = Some(first);
            } else if regular >= 2 && rng.random_bool(0.05) {
                // First touch on a later message: the user chatted before clicking an ad.
                let later = rng.random_range(1..regular);
                referrals[later] = Some(plan_referral(rng, mint, None));
            }

            let mut at = spec.base_time + rng.random_range(0..2 * DAY);
            let messages = contents
                .into_iter()
                .zip(referrals)
                .enumerate()
                .map(|(i, ((mut content, keyword), referral))| {
                    if i > 0 {
                        at += rng.random_range(20..=4 * HOUR);
                    }
                    // An ad click opens the chat with text, not with a template quick reply.
                    if referral.is_some() && matches!(content, InboundContent::Button { .. }) {
                        content = InboundContent::Text(pick(rng, CHAT_TEXTS).to_string());
                    }
                    InboundPlan {
                        wamid: mint.wamid(rng),
                        at,
                        content,
                        referral,
                        keyword,
                    }
                })
                .collect();

            UserPlan {
                identity,
                name,
                messages,
            }
        })
        .collect()
}

fn plan_content(rng: &mut StdRng, mint: &mut IdMint, outbound: &[OutboundPlan]) -> InboundContent {
    let roll = rng.random_range(0..100);
    if roll < 10 && !outbound.is_empty() {
        InboundContent::Button {
            payload: STOP_PROMOTIONS,
            context_wamid: pick(rng, outbound).wamid.clone(),
        }
    } else if roll < 25 {
        InboundContent::Image {
            media_id: mint.unique(|| format!("1{}", random_string(rng, DIGITS, 15))),
            sha256: format!("{}=", random_string(rng, BASE64, 43)),
            caption: rng.random_bool(0.5).then(|| *pick(rng, IMAGE_CAPTIONS)),
        }
    } else {
        InboundContent::Text(pick(rng, CHAT_TEXTS).to_string())
    }
}

fn plan_preferences(rng: &mut StdRng, users: &[UserPlan]) -> Vec<PreferencePlan> {
    // `user_preferences` items carry only `wa_id`, so only users with a phone qualify.
    let with_phone: Vec<(&String, i64)> = users
        .iter()
        .filter_map(|user| {
            let first_at = user.messages.first().map_or(0, |m| m.at);
            user.identity.phone.as_ref().map(|phone| (phone, first_at))
        })
        .collect();
    let chosen = sample_indices(rng, with_phone.len(), quota(with_phone.len(), 8) + 1);

    let mut preferences = Vec::new();
    for (nth, &i) in chosen.iter().enumerate() {
        let (phone, first_at) = with_phone[i];
        let stop_at = first_at + rng.random_range(HOUR..=2 * DAY);
        // The first chosen user only resumes (Meta's own example has no prior stop).
        if nth == 0 {
            preferences.push(PreferencePlan {
                phone: phone.clone(),
                at: stop_at,
                stop: false,
            });
            continue;
        }
        preferences.push(PreferencePlan {
            phone: phone.clone(),
            at: stop_at,
            stop: true,
        });
        if nth % 2 == 0 {
            preferences.push(PreferencePlan {
                phone: phone.clone(),
                at: stop_at + rng.random_range(HOUR..=DAY),
                stop: false,
            });
        }
    }
    preferences
}

// ---------------------------------------------------------------------------------------------
// Truth
// ---------------------------------------------------------------------------------------------

fn ground_truth(
    outbound: &[OutboundPlan],
    users: &[UserPlan],
    preferences: &[PreferencePlan],
) -> GroundTruth {
    let outbound_truth = outbound
        .iter()
        .map(|plan| {
            let has = |kind: StatusKind| plan.ladder.iter().any(|step| step.kind == kind);
            let priced = plan.ladder.iter().any(|step| step.carries_pricing);
            let pricing = plan.pricing.as_ref().filter(|_| priced);
            let truth = OutboundTruth {
                sent: has(Sent),
                delivered: has(Delivered) || has(Read),
                read: has(Read),
                failed: plan.ladder.last().is_some_and(|step| step.kind == Failed),
                error_code: plan.failure.map(|(failure, _)| failure.code),
                paid: pricing.map(PricingFact::paid),
                pricing_category: pricing.map(|p| p.category().to_string()),
                pricing_model: pricing.map(|p| p.model().to_string()),
                biz_opaque_callback_data: plan.callback.map(str::to_string),
                status_count: plan.ladder.len(),
            };
            (plan.wamid.clone(), truth)
        })
        .collect();

    let mut consent_events = preferences.len();
    let mut inbound_wamids = BTreeSet::new();
    let mut user_truth = BTreeMap::new();
    for user in users {
        let keywords: Vec<ConsentKeyword> =
            user.messages.iter().filter_map(|m| m.keyword).collect();
        consent_events += keywords.len();
        inbound_wamids.extend(user.messages.iter().map(|m| m.wamid.clone()));
        let first_touch = user
            .messages
            .iter()
            .find_map(|m| m.referral.as_ref())
            .map(|referral| FirstTouch {
                source_id: referral.ad.source_id.to_string(),
                source_url: referral.source_url.clone(),
                ctwa_clid: referral.ctwa_clid.clone(),
                headline: referral.ad.headline.to_string(),
                utm_campaign: referral.utm.campaign.map(str::to_string),
                utm_source: referral.utm.source.map(str::to_string),
                utm_medium: referral.utm.medium.map(str::to_string),
                utm_content: referral.utm.content.map(str::to_string),
                utm_term: referral.utm.term.map(str::to_string),
            });
        user_truth.insert(
            user.identity.lead_key(),
            UserTruth {
                phone: user.identity.phone.clone(),
                user_id: user.identity.user_id.clone(),
                first_touch,
                inbound_count: user.messages.len(),
                opted_out_by_keyword: keywords.last() == Some(&ConsentKeyword::Stop),
            },
        );
    }

    GroundTruth {
        outbound: outbound_truth,
        inbound_wamids,
        users: user_truth,
        consent_events,
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering facts as Meta's JSON
// ---------------------------------------------------------------------------------------------

fn render_events(
    spec: &TrafficSpec,
    outbound: &[OutboundPlan],
    users: &[UserPlan],
    preferences: &[PreferencePlan],
) -> Vec<Event> {
    let mut timed: Vec<(i64, Event)> = Vec::new();
    for plan in outbound {
        let sent_at = plan.ladder.first().map_or(0, |step| step.at);
        for step in &plan.ladder {
            timed.push((step.at, Event::Status(status_json(plan, step, sent_at))));
        }
    }
    for user in users {
        let contact = contact_json(user);
        for message in &user.messages {
            timed.push((
                message.at,
                Event::Inbound {
                    message: message_json(spec, &user.identity, message),
                    contact: contact.clone(),
                },
            ));
        }
    }
    for preference in preferences {
        timed.push((
            preference.at,
            Event::UserPreference(preference_json(preference)),
        ));
    }
    // Stable sort: equal timestamps keep generation order, so a ladder never reorders.
    timed.sort_by_key(|(at, _)| *at);
    timed.into_iter().map(|(_, event)| event).collect()
}

fn status_json(plan: &OutboundPlan, step: &StatusStep, sent_at: i64) -> Value {
    let mut status = Map::new();
    status.insert("id".into(), json!(plan.wamid));
    status.insert("status".into(), json!(step.kind.as_str()));
    status.insert("timestamp".into(), json!(step.at.to_string()));
    status.insert(
        "recipient_id".into(),
        json!(plan.recipient.phone.as_deref().unwrap_or("")),
    );
    // Meta omits `recipient_user_id` on a failed status when the message went to the phone.
    let phone_failure = step.kind == Failed && plan.recipient.phone.is_some();
    if let (Some(user_id), false) = (&plan.recipient.user_id, phone_failure) {
        status.insert("recipient_user_id".into(), json!(user_id));
    }
    if let Some(callback) = plan.callback {
        status.insert("biz_opaque_callback_data".into(), json!(callback));
    }
    if let (Some(pricing), true) = (&plan.pricing, step.carries_pricing) {
        if let Some(conversation) = pricing.conversation_json(step, sent_at) {
            status.insert("conversation".into(), conversation);
        }
        status.insert("pricing".into(), pricing.pricing_json());
    }
    if let (Some((failure, href)), Failed) = (plan.failure, step.kind) {
        status.insert(
            "errors".into(),
            json!([{
                "code": failure.code,
                "title": failure.title,
                "message": failure.title,
                "error_data": { "details": failure.details },
                "href": href,
            }]),
        );
    }
    Value::Object(status)
}

fn contact_json(user: &UserPlan) -> Value {
    let mut contact = Map::new();
    contact.insert("profile".into(), json!({ "name": user.name }));
    contact.insert(
        "wa_id".into(),
        json!(user.identity.phone.as_deref().unwrap_or("")),
    );
    if let Some(user_id) = &user.identity.user_id {
        contact.insert("user_id".into(), json!(user_id));
    }
    Value::Object(contact)
}

fn message_json(spec: &TrafficSpec, identity: &Identity, message: &InboundPlan) -> Value {
    let mut item = Map::new();
    if let Some(phone) = &identity.phone {
        item.insert("from".into(), json!(phone));
    }
    if let Some(user_id) = &identity.user_id {
        item.insert("from_user_id".into(), json!(user_id));
    }
    item.insert("id".into(), json!(message.wamid));
    item.insert("timestamp".into(), json!(message.at.to_string()));
    match &message.content {
        InboundContent::Text(body) => {
            item.insert("type".into(), json!("text"));
            item.insert("text".into(), json!({ "body": body }));
        }
        InboundContent::Button {
            payload,
            context_wamid,
        } => {
            item.insert("type".into(), json!("button"));
            item.insert(
                "button".into(),
                json!({ "payload": payload, "text": payload }),
            );
            // A quick reply answers a template: `context` points at the business's message.
            item.insert(
                "context".into(),
                json!({ "from": spec.display_phone_number, "id": context_wamid }),
            );
        }
        InboundContent::Image {
            media_id,
            sha256,
            caption,
        } => {
            let mut image = Map::new();
            if let Some(caption) = caption {
                image.insert("caption".into(), json!(caption));
            }
            image.insert("mime_type".into(), json!("image/jpeg"));
            image.insert("sha256".into(), json!(sha256));
            image.insert("id".into(), json!(media_id));
            item.insert("type".into(), json!("image"));
            item.insert("image".into(), Value::Object(image));
        }
    }
    if let Some(referral) = &message.referral {
        item.insert("referral".into(), referral_json(referral));
    }
    Value::Object(item)
}

fn referral_json(referral: &ReferralFact) -> Value {
    let mut item = Map::new();
    item.insert("source_url".into(), json!(referral.source_url));
    item.insert("source_id".into(), json!(referral.ad.source_id));
    item.insert("source_type".into(), json!("ad"));
    item.insert("body".into(), json!(referral.ad.body));
    item.insert("headline".into(), json!(referral.ad.headline));
    item.insert("media_type".into(), json!("image"));
    item.insert(
        "image_url".into(),
        json!(format!(
            "https://scontent.xx.fbcdn.net/v/t45.1600-4/{}.jpg",
            referral.ad.content
        )),
    );
    if let Some(clid) = &referral.ctwa_clid {
        item.insert("ctwa_clid".into(), json!(clid));
    }
    if referral.with_welcome_message {
        item.insert(
            "welcome_message".into(),
            json!({ "text": "Hi there! Let us know how we can help!" }),
        );
    }
    Value::Object(item)
}

fn preference_json(preference: &PreferencePlan) -> Value {
    let (value, detail) = if preference.stop {
        ("stop", "User requested to stop marketing messages")
    } else {
        ("resume", "User requested to resume marketing messages")
    };
    json!({
        "wa_id": preference.phone,
        "detail": detail,
        "category": "marketing_messages",
        "value": value,
        "timestamp": preference.at,
    })
}

// ---------------------------------------------------------------------------------------------
// Delivery shaping
// ---------------------------------------------------------------------------------------------

/// How [`deliveries`] shapes the traffic into POST bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOpts {
    pub seed: u64,
    /// Each body is sent this many times in total (0 is treated as 1); copies are byte-exact.
    pub duplicate_factor: usize,
    /// Shuffle the bodies, so statuses arrive out of order (e.g. `read` before `sent`).
    pub shuffle: bool,
    /// If > 0, this many status events (fewer if there are fewer) go into one body; the rest
    /// are batched 1..=20 per body.
    pub big_batch: usize,
}

impl Default for DeliveryOpts {
    fn default() -> Self {
        Self {
            seed: 11,
            duplicate_factor: 1,
            shuffle: false,
            big_batch: 0,
        }
    }
}

/// One webhook body for `items`: statuses share one `messages` change (placed where the first
/// status is), each inbound message gets its own `messages` change with its contact, each user
/// preference its own `user_preferences` change.
pub fn envelope(spec: &TrafficSpec, items: &[&Event]) -> Value {
    let metadata = json!({
        "display_phone_number": spec.display_phone_number,
        "phone_number_id": spec.phone_number_id,
    });
    let mut changes: Vec<Value> = Vec::new();
    let mut statuses: Vec<Value> = Vec::new();
    let mut status_slot: Option<usize> = None;
    for event in items {
        match event {
            Event::Status(status) => {
                if status_slot.is_none() {
                    status_slot = Some(changes.len());
                    changes.push(Value::Null);
                }
                statuses.push(status.clone());
            }
            Event::Inbound { message, contact } => changes.push(json!({
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": metadata,
                    "contacts": [contact],
                    "messages": [message],
                },
            })),
            Event::UserPreference(preference) => {
                let wa_id = preference.get("wa_id").cloned().unwrap_or(Value::Null);
                changes.push(json!({
                    "field": "user_preferences",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": metadata,
                        "contacts": [{ "wa_id": wa_id }],
                        "user_preferences": [preference],
                    },
                }));
            }
        }
    }
    if let Some(slot) = status_slot {
        changes[slot] = json!({
            "field": "messages",
            "value": {
                "messaging_product": "whatsapp",
                "metadata": metadata,
                "statuses": statuses,
            },
        });
    }
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": spec.waba_id, "changes": changes }],
    })
}

/// All events as serialized POST bodies, shaped by `opts`. Every event lands in exactly one
/// distinct body; each body then appears `duplicate_factor` times.
///
/// About half the bodies escape non-ASCII as `\uXXXX` (lowercase hex), as Meta does, and half
/// carry raw UTF-8: both must verify when the signature is computed over the exact bytes, and a
/// receiver that re-serializes before verifying fails on one kind or the other.
pub fn deliveries(spec: &TrafficSpec, traffic: &Traffic, opts: &DeliveryOpts) -> Vec<Vec<u8>> {
    let mut rng = StdRng::seed_from_u64(opts.seed);

    let status_positions: Vec<usize> = traffic
        .events
        .iter()
        .enumerate()
        .filter(|(_, event)| matches!(event, Event::Status(_)))
        .map(|(i, _)| i)
        .collect();
    let in_big_batch: BTreeSet<usize> = if opts.big_batch > 0 {
        sample_indices(&mut rng, status_positions.len(), opts.big_batch)
            .into_iter()
            .map(|i| status_positions[i])
            .collect()
    } else {
        BTreeSet::new()
    };

    let mut batches: Vec<Vec<&Event>> = Vec::new();
    if !in_big_batch.is_empty() {
        batches.push(in_big_batch.iter().map(|&i| &traffic.events[i]).collect());
    }
    let rest: Vec<&Event> = traffic
        .events
        .iter()
        .enumerate()
        .filter(|(i, _)| !in_big_batch.contains(i))
        .map(|(_, event)| event)
        .collect();
    let mut start = 0;
    while start < rest.len() {
        let size = rng.random_range(1..=20).min(rest.len() - start);
        batches.push(rest[start..start + size].to_vec());
        start += size;
    }

    render_copies(spec, &batches, &mut rng, opts)
}

/// Status events in bodies of `size` statuses, in event (time) order — a broadcast's sents
/// first, then its deliveries and reads — each body sent `opts.duplicate_factor` times,
/// shuffled when `opts.shuffle`: Meta's large batches, retried and reordered. Other events
/// are left out; `opts.big_batch` is ignored.
pub fn in_batches(
    spec: &TrafficSpec,
    traffic: &Traffic,
    size: usize,
    opts: &DeliveryOpts,
) -> Vec<Vec<u8>> {
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let statuses: Vec<&Event> = traffic
        .events
        .iter()
        .filter(|e| matches!(e, Event::Status(_)))
        .collect();
    let batches: Vec<Vec<&Event>> = statuses.chunks(size.max(1)).map(<[_]>::to_vec).collect();
    render_copies(spec, &batches, &mut rng, opts)
}

/// Each batch as a body (half of them with non-ASCII escaped, as Meta does), every body
/// `duplicate_factor` times, shuffled when asked.
fn render_copies(
    spec: &TrafficSpec,
    batches: &[Vec<&Event>],
    rng: &mut StdRng,
    opts: &DeliveryOpts,
) -> Vec<Vec<u8>> {
    let bodies: Vec<Vec<u8>> = batches
        .iter()
        .map(|batch| {
            let text = envelope(spec, batch).to_string();
            let text = if rng.random_bool(0.5) {
                escape_non_ascii(&text)
            } else {
                text
            };
            text.into_bytes()
        })
        .collect();

    let copies = opts.duplicate_factor.max(1);
    let mut out = Vec::with_capacity(bodies.len() * copies);
    // Resends come as later rounds of the same bytes.
    for _ in 0..copies {
        out.extend(bodies.iter().cloned());
    }
    if opts.shuffle {
        out.shuffle(rng);
    }
    out
}

/// Meta's signing form: every non-ASCII char as `\uXXXX` UTF-16 units, lowercase hex. Safe on
/// serialized JSON because non-ASCII only ever occurs inside string literals.
fn escape_non_ascii(json_text: &str) -> String {
    let mut out = String::with_capacity(json_text.len());
    let mut units = [0u16; 2];
    for ch in json_text.chars() {
        if ch.is_ascii() {
            out.push(ch);
        } else {
            for unit in ch.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn status_items(traffic: &Traffic) -> Vec<&Value> {
        traffic
            .events
            .iter()
            .filter_map(|event| match event {
                Event::Status(status) => Some(status),
                _ => None,
            })
            .collect()
    }

    fn parse(body: &[u8]) -> Value {
        serde_json::from_slice(body).expect("every body is JSON")
    }

    /// Every `value` object in a body, with its change's field.
    fn values(body: &Value) -> Vec<(String, Value)> {
        body["entry"]
            .as_array()
            .expect("entry array")
            .iter()
            .flat_map(|entry| entry["changes"].as_array().expect("changes").clone())
            .map(|change| {
                (
                    change["field"].as_str().expect("field").to_string(),
                    change["value"].clone(),
                )
            })
            .collect()
    }

    fn rank(status: &str) -> u8 {
        match status {
            "sent" => 0,
            "delivered" => 1,
            "read" | "failed" => 2,
            other => panic!("unexpected status {other}"),
        }
    }

    #[test]
    fn traffic_signature_matches_github_test_vector() {
        assert_eq!(
            sign(b"It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn traffic_is_deterministic() {
        let spec = TrafficSpec::default();
        let opts = DeliveryOpts {
            seed: 3,
            duplicate_factor: 3,
            shuffle: true,
            big_batch: 200,
        };
        let first = generate(&spec);
        let second = generate(&spec);
        assert_eq!(first, second);
        assert_eq!(
            deliveries(&spec, &first, &opts),
            deliveries(&spec, &second, &opts)
        );

        let other = generate(&TrafficSpec {
            seed: 8,
            ..TrafficSpec::default()
        });
        assert_ne!(
            deliveries(&spec, &first, &opts),
            deliveries(&spec, &other, &opts)
        );
    }

    #[test]
    fn traffic_every_event_lands_in_a_delivery() {
        let spec = TrafficSpec::default();
        let traffic = generate(&spec);
        let opts = DeliveryOpts {
            seed: 5,
            duplicate_factor: 3,
            shuffle: true,
            big_batch: 0,
        };
        let bodies = deliveries(&spec, &traffic, &opts);

        let mut statuses = BTreeSet::new();
        let mut inbound = BTreeSet::new();
        let mut preferences = Vec::new();
        for body in &bodies {
            let body = parse(body);
            assert_eq!(body["object"], "whatsapp_business_account");
            assert_eq!(body["entry"][0]["id"], spec.waba_id.as_str());
            for (field, value) in values(&body) {
                assert_eq!(
                    value["metadata"]["phone_number_id"],
                    spec.phone_number_id.as_str()
                );
                for status in value["statuses"].as_array().into_iter().flatten() {
                    statuses.insert(status.to_string());
                }
                for message in value["messages"].as_array().into_iter().flatten() {
                    assert_eq!(field, "messages");
                    assert_eq!(value["contacts"].as_array().map(Vec::len), Some(1));
                    inbound.insert(message["id"].as_str().expect("id").to_string());
                }
                for preference in value["user_preferences"].as_array().into_iter().flatten() {
                    assert_eq!(field, "user_preferences");
                    preferences.push(preference.to_string());
                }
            }
        }

        let expected_statuses: BTreeSet<String> = status_items(&traffic)
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(statuses, expected_statuses);
        let delivered_wamids: BTreeSet<String> = statuses
            .iter()
            .map(|s| parse(s.as_bytes())["id"].as_str().expect("id").to_string())
            .collect();
        let outbound_wamids: BTreeSet<String> = traffic.truth.outbound.keys().cloned().collect();
        assert_eq!(delivered_wamids, outbound_wamids);
        assert_eq!(inbound, traffic.truth.inbound_wamids);
        let expected_preferences = traffic
            .events
            .iter()
            .filter(|e| matches!(e, Event::UserPreference(_)))
            .count();
        assert!(expected_preferences > 0);
        assert_eq!(preferences.len(), expected_preferences * 3);

        // Duplicates are exact byte copies, each body exactly duplicate_factor times.
        let mut copies: BTreeMap<&[u8], usize> = BTreeMap::new();
        for body in &bodies {
            *copies.entry(body.as_slice()).or_default() += 1;
        }
        assert!(copies.values().all(|&n| n == 3));

        // Shuffled delivery really does put some later status before a wamid's `sent`.
        let mut first_seen: BTreeMap<String, String> = BTreeMap::new();
        for body in &bodies {
            for (_, value) in values(&parse(body)) {
                for status in value["statuses"].as_array().into_iter().flatten() {
                    first_seen
                        .entry(status["id"].as_str().expect("id").to_string())
                        .or_insert_with(|| status["status"].as_str().expect("status").to_string());
                }
            }
        }
        assert!(first_seen.values().any(|status| status != "sent"));
    }

    #[test]
    fn traffic_bodies_mix_raw_utf8_and_meta_escaping() {
        let spec = TrafficSpec::default();
        let traffic = generate(&spec);
        let bodies = deliveries(&spec, &traffic, &DeliveryOpts::default());
        let raw = bodies.iter().filter(|b| !b.is_ascii()).count();
        let escaped = bodies
            .iter()
            .filter(|b| b.is_ascii() && b.windows(2).any(|w| w == b"\\u"))
            .count();
        assert!(raw > 0 && escaped > 0, "raw {raw}, escaped {escaped}");
        let text = r#"{"name":"Lucía 👍"}"#;
        let escaped_text = escape_non_ascii(text);
        assert_eq!(escaped_text, r#"{"name":"Luc\u00eda \ud83d\udc4d"}"#);
        assert_eq!(
            parse(escaped_text.as_bytes()),
            parse(text.as_bytes()),
            "escaping must not change the JSON"
        );
    }

    #[test]
    fn traffic_big_batch_holds_exactly_big_batch_statuses() {
        let spec = TrafficSpec {
            outbound_messages: 500,
            ..TrafficSpec::default()
        };
        let traffic = generate(&spec);
        assert!(status_items(&traffic).len() > 1000);
        let opts = DeliveryOpts {
            seed: 1,
            duplicate_factor: 1,
            shuffle: true,
            big_batch: 1000,
        };
        let mut per_body: Vec<(usize, usize)> = deliveries(&spec, &traffic, &opts)
            .iter()
            .map(|body| {
                let values = values(&parse(body));
                let statuses = values
                    .iter()
                    .map(|(_, v)| v["statuses"].as_array().map_or(0, Vec::len))
                    .sum();
                let events = values
                    .iter()
                    .map(|(_, v)| {
                        v["statuses"].as_array().map_or(0, Vec::len)
                            + v["messages"].as_array().map_or(0, Vec::len)
                            + v["user_preferences"].as_array().map_or(0, Vec::len)
                    })
                    .sum();
                (statuses, events)
            })
            .collect();
        per_body.sort();
        let (big_statuses, big_events) = per_body.pop().expect("bodies");
        assert_eq!((big_statuses, big_events), (1000, 1000));
        assert!(
            per_body
                .iter()
                .all(|&(_, events)| (1..=20).contains(&events))
        );
        let total: usize = per_body.iter().map(|&(_, e)| e).sum::<usize>() + big_events;
        assert_eq!(total, traffic.events.len());
    }

    #[test]
    fn traffic_status_ladders_follow_meta_rules() {
        let traffic = generate(&TrafficSpec::default());
        let mut ladders: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
        for status in status_items(&traffic) {
            ladders
                .entry(status["id"].as_str().expect("id"))
                .or_default()
                .push(status);
        }
        assert_eq!(ladders.len(), 300);
        for (wamid, ladder) in &ladders {
            assert_eq!(ladder[0]["status"], "sent", "{wamid}");
            let mut priced_follow_ups = 0;
            for pair in ladder.windows(2) {
                let at = |s: &Value| {
                    s["timestamp"]
                        .as_str()
                        .expect("timestamp is a string")
                        .parse::<i64>()
                        .expect("unix seconds")
                };
                assert!(at(pair[0]) < at(pair[1]), "{wamid} timestamps");
                let (a, b) = (
                    rank(pair[0]["status"].as_str().expect("status")),
                    rank(pair[1]["status"].as_str().expect("status")),
                );
                assert!(a < b, "{wamid} ladder order");
            }
            for status in ladder {
                let priced = status.get("pricing").is_some();
                match status["status"].as_str().expect("status") {
                    "failed" => {
                        assert!(!priced, "{wamid}: pricing on failed");
                        assert!(status["errors"][0]["code"].is_i64());
                    }
                    "delivered" | "read" if priced => priced_follow_ups += 1,
                    _ => {}
                }
                assert_eq!(
                    status.get("conversation").is_some(),
                    priced
                        && (status["pricing"]["pricing_model"] == "CBP"
                            || status["pricing"]["type"] == "free_entry_point"),
                    "{wamid}: conversation rides with CBP/FEP pricing"
                );
                if let Some(pricing) = status.get("pricing") {
                    let category = pricing["category"].as_str().expect("category");
                    if pricing["pricing_model"] == "PMP" {
                        let kind = pricing["type"].as_str().expect("type");
                        assert_eq!(pricing["billable"], kind == "regular");
                        match kind {
                            "free_customer_service" => {
                                assert!(["utility", "service"].contains(&category));
                            }
                            "regular" => assert!(
                                ["marketing", "utility", "authentication", "marketing_lite"]
                                    .contains(&category)
                            ),
                            "free_entry_point" => {}
                            other => panic!("unexpected pricing type {other}"),
                        }
                    }
                }
            }
            assert!(
                priced_follow_ups <= 1,
                "{wamid}: pricing on delivered and read"
            );
        }
    }

    #[test]
    fn traffic_truth_matches_the_generated_json() {
        let spec = TrafficSpec::default();
        let traffic = generate(&spec);
        let truth = &traffic.truth;

        assert_eq!(truth.sent(), spec.outbound_messages);
        assert_eq!(truth.outbound.len(), spec.outbound_messages);
        assert!(truth.delivered() >= truth.read());
        assert!(truth.read() > 0 && truth.failed() > 0);
        assert!(truth.paid() > 0 && truth.free() > 0);
        assert!(truth.paid() + truth.free() <= truth.sent());
        assert!(truth.outbound.values().any(|m| m.paid.is_none()));
        assert!(truth.outbound.values().any(|m| m.failed && m.delivered));
        let statuses = status_items(&traffic);
        assert_eq!(
            truth
                .outbound
                .values()
                .map(|m| m.status_count)
                .sum::<usize>(),
            statuses.len()
        );

        // Recompute each message's truth from its statuses and compare.
        for (wamid, expected) in &truth.outbound {
            let mine: Vec<&&Value> = statuses.iter().filter(|s| s["id"] == **wamid).collect();
            let has = |name: &str| mine.iter().any(|s| s["status"] == name);
            let pricing = mine.iter().find_map(|s| s.get("pricing"));
            let paid = pricing.map(|p| {
                if p["pricing_model"] == "PMP" {
                    p["type"] == "regular"
                } else {
                    p["billable"] == true
                }
            });
            let last = mine.last().expect("at least sent");
            assert_eq!(expected.delivered, has("delivered") || has("read"));
            assert_eq!(expected.read, has("read"));
            assert_eq!(expected.failed, last["status"] == "failed");
            assert_eq!(expected.error_code, last["errors"][0]["code"].as_i64());
            assert_eq!(expected.paid, paid);
            assert_eq!(
                expected.pricing_category.as_deref(),
                pricing.and_then(|p| p["category"].as_str())
            );
            assert_eq!(
                expected.pricing_model.as_deref(),
                pricing.and_then(|p| p["pricing_model"].as_str())
            );
            assert_eq!(
                expected.biz_opaque_callback_data.as_deref(),
                last["biz_opaque_callback_data"].as_str()
            );
            assert_eq!(expected.status_count, mine.len());
        }

        // Users: identity, counts, first touch (never overwritten), keyword consent.
        let mut seen: BTreeMap<String, (usize, Option<Value>, Option<ConsentKeyword>)> =
            BTreeMap::new();
        let mut keyword_messages = 0;
        let mut second_referrals = 0;
        let mut not_a_stop = 0;
        for event in &traffic.events {
            let Event::Inbound { message, contact } = event else {
                continue;
            };
            let key = message["from_user_id"]
                .as_str()
                .or_else(|| message["from"].as_str())
                .expect("from or from_user_id")
                .to_string();
            assert_eq!(contact["wa_id"], message["from"].as_str().unwrap_or(""));
            let entry = seen.entry(key).or_insert((0, None, None));
            entry.0 += 1;
            if let Some(referral) = message.get("referral") {
                if entry.1.is_some() {
                    second_referrals += 1;
                    assert_ne!(
                        entry.1.as_ref().map(|r| &r["source_id"]),
                        Some(&referral["source_id"])
                    );
                } else {
                    entry.1 = Some(referral.clone());
                }
            }
            if let Some(body) = message["text"]["body"].as_str() {
                if body == NOT_A_STOP {
                    not_a_stop += 1;
                }
                if let Some(keyword) = consent_keyword(body) {
                    keyword_messages += 1;
                    entry.2 = Some(keyword);
                }
            }
        }
        assert!(second_referrals > 0 && not_a_stop > 0);
        assert_eq!(seen.len(), spec.inbound_users);
        assert_eq!(truth.users.len(), spec.inbound_users);
        for (key, (count, referral, keyword)) in &seen {
            let user = &truth.users[key];
            assert_eq!(user.inbound_count, *count, "{key}");
            assert_eq!(
                user.opted_out_by_keyword,
                *keyword == Some(ConsentKeyword::Stop),
                "{key}"
            );
            let touch = user.first_touch.as_ref();
            assert_eq!(
                touch.map(|t| t.source_id.as_str()),
                referral.as_ref().and_then(|r| r["source_id"].as_str()),
                "{key}"
            );
            if let (Some(touch), Some(referral)) = (touch, referral) {
                assert_eq!(
                    touch.source_url,
                    referral["source_url"].as_str().unwrap_or("")
                );
                assert_eq!(touch.ctwa_clid.as_deref(), referral["ctwa_clid"].as_str());
                assert_eq!(
                    touch.utm_campaign.is_some(),
                    touch.source_url.contains("utm_campaign=")
                );
            }
        }
        assert!(truth.users.values().any(|u| u.opted_out_by_keyword));
        assert!(truth.users.values().any(|u| u.phone.is_none()));
        assert!(truth.users.values().any(|u| u.user_id.is_none()));
        assert!(truth.users.values().any(|u| u.first_touch.is_some()));

        let preferences = traffic
            .events
            .iter()
            .filter(|e| matches!(e, Event::UserPreference(_)))
            .count();
        assert_eq!(truth.consent_events, keyword_messages + preferences);
        assert_eq!(
            truth.inbound_wamids.len(),
            seen.values().map(|(n, _, _)| n).sum::<usize>()
        );
    }

    #[test]
    fn traffic_consent_keywords_match_whole_messages_only() {
        assert_eq!(consent_keyword(" stop "), Some(ConsentKeyword::Stop));
        assert_eq!(consent_keyword("Berhenti"), Some(ConsentKeyword::Stop));
        assert_eq!(consent_keyword("BAJA"), Some(ConsentKeyword::Stop));
        assert_eq!(consent_keyword("START"), Some(ConsentKeyword::Start));
        assert_eq!(consent_keyword(" Mulai "), Some(ConsentKeyword::Start));
        assert_eq!(consent_keyword("stop the music"), None);
        assert_eq!(consent_keyword(STOP_PROMOTIONS), None);
        assert_eq!(consent_keyword("Can I stop by the store tomorrow?"), None);
        for text in STOP_TEXTS {
            assert_eq!(consent_keyword(text), Some(ConsentKeyword::Stop));
        }
        for text in START_TEXTS {
            assert_eq!(consent_keyword(text), Some(ConsentKeyword::Start));
        }
    }

    #[test]
    fn traffic_handles_empty_and_tiny_specs() {
        let spec = TrafficSpec {
            outbound_messages: 0,
            inbound_users: 0,
            ..TrafficSpec::default()
        };
        let traffic = generate(&spec);
        assert!(traffic.events.is_empty());
        assert_eq!(traffic.truth, GroundTruth::default());
        assert!(deliveries(&spec, &traffic, &DeliveryOpts::default()).is_empty());

        let spec = TrafficSpec {
            outbound_messages: 1,
            inbound_users: 1,
            ..TrafficSpec::default()
        };
        let traffic = generate(&spec);
        assert_eq!(traffic.truth.sent(), 1);
        assert_eq!(traffic.truth.users.len(), 1);
        let opts = DeliveryOpts {
            big_batch: 1000,
            ..DeliveryOpts::default()
        };
        assert!(!deliveries(&spec, &traffic, &opts).is_empty());
    }

    #[test]
    fn traffic_broadcast_is_one_paid_template_to_distinct_people_in_large_batches() {
        let spec = TrafficSpec::default();
        let traffic = broadcast(&spec, 2_500);
        assert_eq!(traffic.truth.outbound.len(), 2_500);
        assert!(traffic.truth.users.is_empty() && traffic.truth.inbound_wamids.is_empty());
        let statuses = status_items(&traffic);
        let recipients: BTreeSet<String> = statuses
            .iter()
            .filter(|s| s["status"] == "sent")
            .map(|s| format!("{}/{}", s["recipient_id"], s["recipient_user_id"]))
            .collect();
        assert_eq!(recipients.len(), 2_500, "one message per person");
        assert!(
            statuses
                .iter()
                .all(|s| s["biz_opaque_callback_data"] == BROADCAST_TAG)
        );
        // Sent within three seconds, paid marketing wherever pricing rode along.
        assert!(statuses.iter().filter(|s| s["status"] == "sent").all(|s| {
            let at: i64 = s["timestamp"].as_str().unwrap().parse().unwrap();
            (spec.base_time..spec.base_time + 3).contains(&at)
        }));
        assert!(traffic.truth.outbound.values().all(|m| {
            m.paid == Some(true) && m.pricing_category.as_deref() == Some("marketing")
        }));
        assert!(traffic.truth.read() > 0 && traffic.truth.failed() > 0);

        let opts = DeliveryOpts {
            seed: 2,
            duplicate_factor: 2,
            shuffle: true,
            big_batch: 0,
        };
        let bodies = in_batches(&spec, &traffic, 1_000, &opts);
        assert_eq!(bodies.len(), 2 * statuses.len().div_ceil(1_000));
        let mut delivered: BTreeMap<String, usize> = BTreeMap::new();
        for body in &bodies {
            for (_, value) in values(&parse(body)) {
                let batch = value["statuses"].as_array().expect("statuses");
                assert!(batch.len() <= 1_000);
                for status in batch {
                    *delivered.entry(status.to_string()).or_default() += 1;
                }
            }
        }
        let expected: BTreeMap<String, usize> =
            statuses.iter().map(|s| (s.to_string(), 2)).collect();
        assert_eq!(delivered, expected, "every status exactly twice");
    }
}
