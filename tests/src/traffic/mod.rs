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
//!
//! Here: the signature, the consent keywords and the public types (spec, traffic, truth);
//! `facts` (what is generated, the tables and random helpers), `generate` (facts and their
//! truth), `render` (facts → Meta's JSON), `deliver` (batching, duplicates, shuffling).

mod deliver;
mod facts;
mod generate;
mod render;
#[cfg(test)]
mod tests;

pub use deliver::{DeliveryOpts, deliveries, envelope, in_batches};
pub use generate::{BROADCAST_TAG, broadcast, generate, numbered_status, statuses_body};

use std::collections::{BTreeMap, BTreeSet};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
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
