//! A deterministic week of WhatsApp Cloud API traffic on one WABA with two business numbers,
//! with the expected report rows computed independently from the generated facts.
//!
//! [`generate_week`] invents people (phone-only, BSUID-only, and people who move from phone to
//! BSUID during the week: one person, one lead), their conversations with the
//! business (Click-to-WhatsApp first messages, bot replies, human replies after a bot hand-off,
//! unanswered messages, STOP/START keywords, `user_preferences` stops), template broadcasts with
//! status ladders (sent → delivered → read, read without delivered, late reads, failures with and
//! without `sent`), PMP and CBP pricing, sender tags in `biz_opaque_callback_data`, and the
//! business's own API calls (consent opt-ins/opt-outs, conversions).
//!
//! The facts are kept; [`Week::bodies`] renders them as Meta's webhook POST bodies (every logical
//! update delivered 1–3 times, batched, shuffled) and [`Week::api_calls`] as requests to the
//! leads API. [`Week::expected`] computes every report's CSV rows from the facts alone (not from
//! the JSON, not from the product's code), following the definitions of PRODUCT.md and issues
//! 10/11.
//!
//! Everything is seeded; nothing reads the wall clock.
//!
//! Choices where the definitions are silent (the product must agree or the test says so):
//! - `pricing_type` is the PMP `type` as Meta reported it; CBP pricing has no type, so its
//!   `pricing_type` cell is empty (its category and paid/free still count).
//! - Rates (4 decimals) and mean/median seconds (1 decimal) are the exact quotient rounded
//!   half up (1/32 → `0.0313`), computed in integers.
//! - Outliers need quartiles: with one sample there are none (0 outliers).
//! - `lead_id` in the `messages` export is the recipient's key (BSUID when present, else the
//!   phone), whether or not that person ever wrote (became a lead).
//! - Opt-outs counted for `opted_out_at`: STOP keywords, `user_preferences` stops and API
//!   opt-outs, attributed to the person's latest outbound message (failed ones included).
//! - The spike rule looks at all traffic (not only the report's range): a day is judged only
//!   when its 7 previous calendar days all lie on or after the first day with traffic (days
//!   without traffic inside that window count 0); earlier days are never spikes. `spike` is
//!   the number of spike days in the period (`0`/`1` for a day).
//! - `volume` has a row for every period of the range, zeros included.
//! - `campaigns` ignores `group_by` (one row per first-touch campaign over `from..=to`);
//!   `messages` ignores it too (one row per message).
//! - Query values in `source_url` are percent-decoded (`utm_campaign=%3Dspring` is `=spring`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
const MINUTE: i64 = 60;
/// `replied`: an inbound message within 72 h after the message's anchor.
const REPLY_WINDOW: i64 = 259_200;
/// Default SLA of the response-time report.
const SLA_SECONDS: i64 = 900;

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekSpec {
    pub seed: u64,
    /// Unix seconds of the first day's UTC midnight (e.g. 2026-10-26T00:00:00Z, a Monday).
    pub start: i64,
    pub days: u32,
    pub people: usize,
    pub waba_id: String,
    /// The WABA's business numbers (two by default); people are spread over them.
    pub phone_number_ids: Vec<String>,
    /// `metadata.display_phone_number` for each of `phone_number_ids` (same order).
    pub display_phone_numbers: Vec<String>,
}

impl Default for WeekSpec {
    fn default() -> Self {
        Self {
            seed: 2026,
            // 2026-10-26T00:00:00Z, Monday; New York leaves DST on 2026-11-01 at 06:00Z.
            start: 1_792_972_800,
            days: 7,
            people: 40,
            waba_id: "102290129340398".to_string(),
            phone_number_ids: vec!["106540352242922".to_string(), "107655329152203".to_string()],
            display_phone_numbers: vec!["15550783881".to_string(), "15550783882".to_string()],
        }
    }
}

/// The generated week: what to send and what the reports must say.
#[derive(Debug, Clone, PartialEq)]
pub struct Week {
    /// Webhook POST bodies in delivery order (sign each and POST it).
    pub bodies: Vec<Vec<u8>>,
    /// Calls to the leads API, to make after every body is POSTed (consent first, then
    /// conversions; conversions only for people who wrote, so their lead exists).
    pub api_calls: Vec<ApiCall>,
    facts: Facts,
}

/// One request to the leads API (always `POST`, JSON body, bearer token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiCall {
    /// `POST /v1/leads/{lead_id}/conversions`.
    Conversion(ConversionCall),
    /// `POST /v1/consent`.
    Consent(ConsentCall),
}

/// A conversion event for a lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionCall {
    pub lead_id: String,
    pub idempotency_key: String,
    /// `purchase`, `booking`, `lead_submitted` or `payment_confirmed`.
    pub kind: String,
    /// Decimal, at most 2 decimals, trailing zeros trimmed (`150000`, `19.9`, `19.99`).
    pub value: String,
    pub currency: String,
    /// Unix seconds; rendered as RFC 3339 UTC.
    pub at: i64,
}

/// A consent record made through the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentCall {
    pub user: String,
    pub phone_number_id: String,
    /// `opt_in` or `opt_out`.
    pub action: String,
    pub categories: Vec<String>,
    /// `web_form`, `qr`, `api`, … (reported as source `api`).
    pub source: String,
    pub proof: Option<String>,
    pub at: i64,
}

impl ApiCall {
    pub fn method(&self) -> &'static str {
        "POST"
    }

    /// Path below the API's base URL.
    pub fn path(&self) -> String {
        match self {
            Self::Conversion(c) => format!("/v1/leads/{}/conversions", c.lead_id),
            Self::Consent(_) => "/v1/consent".to_string(),
        }
    }

    /// The `Idempotency-Key` to send (it is also in the body).
    pub fn idempotency_key(&self) -> Option<&str> {
        match self {
            Self::Conversion(c) => Some(&c.idempotency_key),
            Self::Consent(_) => None,
        }
    }

    /// Request body, exactly `ConversionRequest` / `ConsentRequest` of docs/openapi.yaml.
    pub fn body(&self) -> Value {
        match self {
            Self::Conversion(c) => json!({
                "type": c.kind,
                "value": decimal_json(&c.value),
                "currency": c.currency,
                "at": iso(c.at),
                "idempotency_key": c.idempotency_key,
            }),
            Self::Consent(c) => {
                let mut body = Map::new();
                body.insert("user".into(), json!(c.user));
                body.insert("phone_number_id".into(), json!(c.phone_number_id));
                body.insert("action".into(), json!(c.action));
                body.insert("categories".into(), json!(c.categories));
                body.insert("source".into(), json!(c.source));
                if let Some(proof) = &c.proof {
                    body.insert("proof".into(), json!(proof));
                }
                body.insert("at".into(), json!(iso(c.at)));
                Value::Object(body)
            }
        }
    }
}

/// Counts of what was generated (for logs and for waiting on ingestion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekStats {
    pub people: usize,
    /// People who sent at least one inbound message.
    pub leads: usize,
    pub outbound: usize,
    pub inbound: usize,
    /// Distinct status updates (sum over messages of their ladders).
    pub statuses: usize,
    pub user_preferences: usize,
    pub consent_calls: usize,
    pub conversions: usize,
    /// Bodies including duplicates, and distinct bodies.
    pub bodies: usize,
    pub distinct_bodies: usize,
}

/// Every report kind [`Week::expected`] knows.
pub const KINDS: &[&str] = &[
    "conversations",
    "templates",
    "response_times",
    "volume",
    "failures",
    "consent",
    "campaigns",
    "reconciliation",
    "messages",
];

/// Header row (issue 11's column contract) for `kind`.
pub fn header(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "conversations" => &[
            "period",
            "phone_number_id",
            "category",
            "pricing_type",
            "sent",
            "delivered",
            "read",
            "failed",
            "paid",
            "free",
            "delivery_rate",
            "read_rate",
        ],
        "templates" => &[
            "period",
            "template",
            "sent",
            "delivered",
            "read",
            "failed",
            "replied",
            "delivery_rate",
            "read_rate",
            "reply_rate",
            "meta_sent",
            "meta_delivered",
            "meta_read",
            "meta_clicked",
            "meta_cost",
            "cost_per_delivered",
            "cost_per_url_click",
        ],
        "response_times" => &[
            "period",
            "responder",
            "responses",
            "mean_s",
            "median_s",
            "p90_s",
            "max_s",
            "over_sla",
            "outliers",
        ],
        "volume" => &[
            "period",
            "inbound",
            "outbound",
            "new_leads",
            "conversions",
            "spike",
        ],
        "failures" => &["period", "error_code", "error_title", "category", "failed"],
        "consent" => &["period", "action", "source", "category", "events", "people"],
        "campaigns" => &[
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "leads",
            "converted_leads",
            "conversions",
            "conversion_rate",
            "value",
            "currency",
        ],
        "reconciliation" => &[
            "period",
            "phone_number_id",
            "webhook_sent",
            "meta_sent",
            "sent_diff",
            "webhook_delivered",
            "meta_delivered",
            "delivered_diff",
            "webhook_paid",
            "meta_paid_volume",
            "paid_diff",
        ],
        "messages" => &[
            "wamid",
            "lead_id",
            "phone_number_id",
            "template",
            "campaign",
            "responder",
            "category",
            "pricing_type",
            "paid",
            "status",
            "sent_at",
            "delivered_at",
            "read_at",
            "failed_at",
            "error_code",
            "error_title",
            "opted_out_at",
        ],
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Facts (the truth is derived from these; the JSON is rendered from these)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
struct Person {
    /// Lead key: the BSUID when the person has one, else the phone.
    key: String,
    phone: Option<String>,
    user_id: Option<String>,
    /// People who move to business-scoped ids (both `phone` and `user_id`): Meta names them
    /// by phone only before `.0`, by both from `.0`, by BSUID only from `.1` (set once their
    /// story is known; at least one item falls in the middle, so the product can link them).
    migration: Option<(i64, i64)>,
    name: &'static str,
    /// Index into the spec's phone numbers: every message of this person uses that number.
    pn: usize,
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

use StatusKind::{Delivered, Failed, Read, Sent};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StatusFact {
    kind: StatusKind,
    at: i64,
    /// This status carries the message's pricing object.
    priced: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pricing {
    Pmp {
        category: &'static str,
        kind: &'static str,
    },
    Cbp {
        category: &'static str,
        billable: bool,
    },
}

impl Pricing {
    fn category(self) -> &'static str {
        match self {
            Self::Pmp { category, .. } | Self::Cbp { category, .. } => category,
        }
    }

    /// PMP `type`; CBP has none (empty cell).
    fn pricing_type(self) -> &'static str {
        match self {
            Self::Pmp { kind, .. } => kind,
            Self::Cbp { .. } => "",
        }
    }

    fn paid(self) -> bool {
        match self {
            Self::Pmp { kind, .. } => kind == "regular",
            Self::Cbp { billable, .. } => billable,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FailureFact {
    code: i64,
    title: &'static str,
    details: &'static str,
}

const F131049: FailureFact = FailureFact {
    code: 131049,
    title: "This message was not delivered to maintain healthy ecosystem engagement.",
    details: "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
};
const F131026: FailureFact = FailureFact {
    code: 131026,
    title: "Message undeliverable",
    details: "Message Undeliverable.",
};
const F131047: FailureFact = FailureFact {
    code: 131047,
    title: "Re-engagement message",
    details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
};
const F131050: FailureFact = FailureFact {
    code: 131050,
    title: "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
    details: "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
};
const F130472: FailureFact = FailureFact {
    code: 130472,
    title: "User's number is part of an experiment",
    details: "Failed to send message because this user's phone number is part of an experiment",
};

const FAILURES: &[(FailureFact, u32)] =
    &[(F131049, 40), (F131026, 30), (F131047, 15), (F130472, 15)];

/// Sender tag facts; `raw` is what goes into `biz_opaque_callback_data`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Tag {
    raw: Option<String>,
    template: Option<&'static str>,
    campaign: Option<&'static str>,
    bot: bool,
}

impl Tag {
    /// `key=value;…` form.
    fn pairs(
        template: Option<&'static str>,
        campaign: Option<&'static str>,
        bot: bool,
        agent: Option<&'static str>,
    ) -> Self {
        let mut parts = Vec::new();
        if let Some(t) = template {
            parts.push(format!("template={t}"));
        }
        if let Some(c) = campaign {
            parts.push(format!("campaign={c}"));
        }
        parts.push(format!("by={}", if bot { "bot" } else { "human" }));
        if let Some(a) = agent {
            parts.push(format!("agent={a}"));
        }
        Self {
            raw: Some(parts.join(";")),
            template,
            campaign,
            bot,
        }
    }

    /// JSON-object form.
    fn json(template: Option<&'static str>, campaign: Option<&'static str>, bot: bool) -> Self {
        let mut object = Map::new();
        if let Some(t) = template {
            object.insert("template".into(), json!(t));
        }
        if let Some(c) = campaign {
            object.insert("campaign".into(), json!(c));
        }
        object.insert("by".into(), json!(if bot { "bot" } else { "human" }));
        Self {
            raw: Some(Value::Object(object).to_string()),
            template,
            campaign,
            bot,
        }
    }

    /// A tag the product must keep raw and ignore: human, no template.
    fn raw_only(raw: &str) -> Self {
        Self {
            raw: Some(raw.to_string()),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Outbound {
    wamid: String,
    person: usize,
    tag: Tag,
    pricing: Option<Pricing>,
    /// For the `conversation` object riding with CBP and free-entry-point pricing.
    conversation_id: String,
    /// Strictly increasing times.
    statuses: Vec<StatusFact>,
    failure: Option<FailureFact>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Stop,
    Start,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inbound {
    wamid: String,
    person: usize,
    at: i64,
    text: String,
    /// Set when `text` is a whole-message STOP/START keyword.
    keyword: Option<Keyword>,
    /// Index into [`ADS`].
    referral: Option<usize>,
    ctwa_clid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Preference {
    person: usize,
    at: i64,
    stop: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ApiConsent {
    person: usize,
    opt_in: bool,
    categories: Vec<&'static str>,
    source: &'static str,
    proof: Option<String>,
    at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Conversion {
    person: usize,
    key: String,
    kind: &'static str,
    cents: i64,
    currency: &'static str,
    at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Facts {
    phone_number_ids: Vec<String>,
    people: Vec<Person>,
    outbound: Vec<Outbound>,
    inbound: Vec<Inbound>,
    preferences: Vec<Preference>,
    consents: Vec<ApiConsent>,
    conversions: Vec<Conversion>,
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Ad {
    source_id: &'static str,
    source_url: &'static str,
    /// The UTM values as a URL parser decodes them from `source_url`.
    utm_source: Option<&'static str>,
    utm_medium: Option<&'static str>,
    utm_campaign: Option<&'static str>,
    headline: &'static str,
    body: &'static str,
    /// Currency of this ad's conversions (the first converting lead of [`MIXED_AD`] pays in
    /// two currencies).
    currency: &'static str,
}

const ADS: &[Ad] = &[
    Ad {
        source_id: "120226305854810726",
        source_url: "https://example.com/nov?utm_source=facebook&utm_medium=cpc&utm_campaign=nov_sale&utm_content=ad1",
        utm_source: Some("facebook"),
        utm_medium: Some("cpc"),
        utm_campaign: Some("nov_sale"),
        headline: "Chat with us",
        body: "November sale: 30% off everything.",
        currency: "IDR",
    },
    Ad {
        source_id: "120226305854810727",
        source_url: "https://example.com/nov?utm_source=instagram&utm_medium=paid_social&utm_campaign=nov_sale&utm_content=ad2",
        utm_source: Some("instagram"),
        utm_medium: Some("paid_social"),
        utm_campaign: Some("nov_sale"),
        headline: "Diskon 30% hari ini",
        body: "Sepatu lari terbaru, kirim gratis.",
        currency: "USD",
    },
    Ad {
        source_id: "120226305854810801",
        source_url: "https://example.com/bf?utm_source=facebook&utm_medium=cpc&utm_campaign=black_friday&utm_term=shoes",
        utm_source: Some("facebook"),
        utm_medium: Some("cpc"),
        utm_campaign: Some("black_friday"),
        headline: "Black Friday early access",
        body: "Hampers spesial untuk keluarga.",
        currency: "IDR",
    },
    Ad {
        source_id: "120226305854810802",
        // A campaign name that a spreadsheet would run as a formula: the CSV cell gets a `'`.
        source_url: "https://example.com/spring?utm_source=facebook&utm_medium=paid_social&utm_campaign=%3Dspring",
        utm_source: Some("facebook"),
        utm_medium: Some("paid_social"),
        utm_campaign: Some("=spring"),
        headline: "Fale com a gente",
        body: "Frete grátis para todo o Brasil!",
        currency: "USD",
    },
    Ad {
        source_id: "120226305854810955",
        // Short link: no UTM parameters.
        source_url: "https://fb.me/8Xk2pQ7rZ",
        utm_source: None,
        utm_medium: None,
        utm_campaign: None,
        headline: "Back to school",
        body: "Backpacks from $19.",
        currency: "IDR",
    },
];

/// Index of the ad whose first converting lead pays in two currencies (`mixed`).
const MIXED_AD: usize = 2;

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

/// Not a keyword: a STOP must be the whole message.
const NOT_A_STOP: &str = "stop the music";
const STOP_TEXTS: &[&str] = &["STOP", " stop ", "Berhenti"];
const START_TEXTS: &[&str] = &["START", "start"];

const AGENTS: &[&str] = &["a1", "a2", "a3"];

/// (phone prefix, random digits, BSUID country)
const COUNTRIES: &[(&str, usize, &str)] = &[
    ("62812", 8, "ID"),
    ("55119", 8, "BR"),
    ("1650", 7, "US"),
    ("346", 8, "ES"),
];

const DIGITS: &[u8] = b"0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Status ladders (kinds in time order) with weights.
const LADDERS: &[(&[StatusKind], u32)] = &[
    (&[Sent, Delivered, Read], 40),
    // Read at once: Meta sends no `delivered`.
    (&[Sent, Read], 8),
    (&[Sent, Delivered], 20),
    (&[Sent], 6),
    (&[Sent, Failed], 8),
    // Failed without `sent`: its anchor is the failure.
    (&[Failed], 3),
    // Delivered to one device, failed on another: delivered and failed.
    (&[Sent, Delivered, Failed], 3),
    // `sent` never arrives: anchored on the earliest status.
    (&[Delivered, Read], 5),
    (&[Read], 2),
];

const CONVERSION_KINDS: &[&str] = &["purchase", "booking", "lead_submitted", "payment_confirmed"];

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

/// What an outbound message is, for its pricing.
#[derive(Debug, Clone, Copy)]
enum Purpose {
    /// A reply inside the customer-service window; `fep` inside a CTWA free entry point.
    Reply { fep: bool },
    /// A template of this category.
    Template(&'static str),
    /// Marketing to someone who stopped marketing: Meta refuses it.
    Refused,
}

struct Gen<'a> {
    spec: &'a WeekSpec,
    rng: StdRng,
    taken: BTreeSet<String>,
    facts: Facts,
    end: i64,
    /// Per person: inbound times and outbound anchors already used (kept distinct).
    inbound_times: Vec<BTreeSet<i64>>,
    outbound_times: Vec<BTreeSet<i64>>,
    /// Per person: (time, stopped) marketing-consent changes, for refusing broadcasts.
    consent_changes: Vec<Vec<(i64, bool)>>,
    malformed_done: bool,
    /// Ladder for the next [`Gen::send`] (instead of a random one).
    next_ladder: Option<&'static [StatusKind]>,
    /// Failures generated so far (the first two are 131049 and 131026).
    failures_made: usize,
    same_second_done: bool,
    other_by_done: bool,
}

fn random_string(rng: &mut StdRng, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

fn pick_weighted<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for (item, weight) in items {
        if roll < *weight {
            return *item;
        }
        roll -= weight;
    }
    items[items.len() - 1].0
}

impl Gen<'_> {
    fn unique(&mut self, mut make: impl FnMut(&mut StdRng) -> String) -> String {
        loop {
            let candidate = make(&mut self.rng);
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
    }

    fn wamid(&mut self) -> String {
        self.unique(|rng| format!("wamid.HBgL{}", random_string(rng, ALNUM, 36)))
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.random_range(lo..=hi)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn day_count(&self) -> i64 {
        i64::from(self.spec.days.max(1))
    }

    /// A time within a few minutes of a local midnight (UTC, Kathmandu or New York) on day `d`
    /// of the week, so the three zones put it on different days.
    fn near_midnight(&mut self, d: i64) -> i64 {
        let zones = [
            chrono_tz::UTC,
            chrono_tz::Asia::Kathmandu,
            chrono_tz::America::New_York,
        ];
        let zone = pick(&mut self.rng, &zones);
        let jitter = self.range(-25 * MINUTE, 25 * MINUTE);
        let base = self.spec.start + d * DAY;
        for shift in [0, 1] {
            let Some(date) = DateTime::from_timestamp(base + shift * DAY, 0) else {
                continue;
            };
            if let Some(midnight) = local_midnight(zone, date.date_naive()) {
                let t = midnight + jitter;
                if t >= self.spec.start + MINUTE && t < self.end - 2 * HOUR {
                    return t;
                }
            }
        }
        self.uniform(d)
    }

    /// Any second of day `d` (UTC), between 07:00 and 22:00 mostly.
    fn uniform(&mut self, d: i64) -> i64 {
        let d = d.clamp(0, self.day_count() - 1);
        self.spec.start + d * DAY + self.range(7 * HOUR, 22 * HOUR)
    }

    fn some_time(&mut self, d: i64) -> i64 {
        if self.chance(0.4) {
            self.near_midnight(d)
        } else {
            self.uniform(d)
        }
    }

    fn day_of(&self, t: i64) -> i64 {
        (t - self.spec.start).div_euclid(DAY)
    }

    fn person(&mut self, i: usize) {
        let pn_count = self.spec.phone_number_ids.len().max(1);
        // Every fourth person is BSUID-only; every eighth moves from phone to BSUID during the
        // week (phone only, then both, then BSUID only: one person, one lead); the rest are
        // phone-only.
        let (bsuid, migrating) = (i % 4 == 1, i % 8 == 3);
        let (prefix, digits, country) = pick(&mut self.rng, COUNTRIES);
        let new_bsuid = |g: &mut Self| {
            g.unique(|rng| {
                let len = rng.random_range(15..=18);
                format!("{country}.{}", random_string(rng, DIGITS, len))
            })
        };
        let (phone, user_id) = if bsuid {
            (None, Some(new_bsuid(self)))
        } else {
            let phone =
                self.unique(|rng| format!("{prefix}{}", random_string(rng, DIGITS, digits)));
            (Some(phone), migrating.then(|| new_bsuid(self)))
        };
        let key = user_id
            .clone()
            .or_else(|| phone.clone())
            .unwrap_or_default();
        let name = pick(&mut self.rng, NAMES);
        self.facts.people.push(Person {
            key,
            phone,
            user_id,
            migration: None,
            name,
            pn: if i % 3 == 2 { 1 % pn_count } else { 0 },
        });
        self.inbound_times.push(BTreeSet::new());
        self.outbound_times.push(BTreeSet::new());
        self.consent_changes.push(Vec::new());
    }

    fn receive(
        &mut self,
        person: usize,
        at: i64,
        text: &str,
        keyword: Option<Keyword>,
        referral: Option<usize>,
    ) -> i64 {
        let mut at = at;
        while self.inbound_times[person].contains(&at) {
            at += 1;
        }
        self.inbound_times[person].insert(at);
        let wamid = self.wamid();
        let ctwa_clid = match referral {
            Some(_) if self.chance(0.9) => {
                Some(self.unique(|rng| format!("Aff-{}", random_string(rng, ALNUM, 60))))
            }
            _ => None,
        };
        if let Some(keyword) = keyword {
            self.consent_changes[person].push((at, keyword == Keyword::Stop));
        }
        self.facts.inbound.push(Inbound {
            wamid,
            person,
            at,
            text: text.to_string(),
            keyword,
            referral,
            ctwa_clid,
        });
        at
    }

    fn chat(&mut self, person: usize, at: i64, referral: Option<usize>) -> i64 {
        let text = pick(&mut self.rng, CHAT_TEXTS);
        self.receive(person, at, text, None, referral)
    }

    /// Sends one message with anchor `at` (bumped to stay distinct per person); returns the
    /// anchor.
    fn send(&mut self, person: usize, at: i64, tag: Tag, purpose: Purpose) -> i64 {
        let mut anchor = at;
        while self.outbound_times[person].contains(&anchor) {
            anchor += 1;
        }
        self.outbound_times[person].insert(anchor);
        let wamid = self.wamid();
        let conversation_id = random_string(&mut self.rng, HEX, 32);

        // A forced ladder is also always priced.
        let forced = self.next_ladder.is_some();
        let (kinds, failure): (&[StatusKind], Option<FailureFact>) = match purpose {
            Purpose::Refused => {
                let kinds: &[StatusKind] = if self.chance(0.5) {
                    &[Sent, Failed]
                } else {
                    &[Failed]
                };
                (kinds, Some(F131050))
            }
            _ => {
                let kinds = match self.next_ladder.take() {
                    Some(kinds) => kinds,
                    None => pick_weighted(&mut self.rng, LADDERS),
                };
                let failure = if !kinds.contains(&Failed) {
                    None
                } else {
                    self.failures_made += 1;
                    Some(match self.failures_made {
                        1 => F131049,
                        2 => F131026,
                        _ => pick_weighted(&mut self.rng, FAILURES),
                    })
                };
                (kinds, failure)
            }
        };
        let mut statuses = Vec::with_capacity(kinds.len());
        let mut t = anchor;
        for (i, &kind) in kinds.iter().enumerate() {
            if i > 0 {
                t += match kind {
                    Delivered => self.range(1, 120),
                    Read if self.chance(0.15) => self.range(DAY, 3 * DAY),
                    Read => self.range(10, 6 * HOUR),
                    Failed => self.range(1, 600),
                    Sent => 1,
                };
            }
            statuses.push(StatusFact {
                kind,
                at: t,
                priced: false,
            });
        }

        let pricing = if kinds == [Failed] || (!forced && self.chance(0.04)) {
            None
        } else {
            Some(self.pricing(purpose))
        };
        if pricing.is_some() {
            self.attach_pricing(&mut statuses);
        }
        self.facts.outbound.push(Outbound {
            wamid,
            person,
            tag,
            pricing,
            conversation_id,
            statuses,
            failure,
        });
        anchor
    }

    fn pricing(&mut self, purpose: Purpose) -> Pricing {
        let (category, kind) = match purpose {
            Purpose::Reply { fep: true } => ("service", "free_entry_point"),
            Purpose::Reply { fep: false } => {
                if self.chance(0.2) {
                    ("utility", "free_customer_service")
                } else {
                    ("service", "free_customer_service")
                }
            }
            Purpose::Template(category) => (category, "regular"),
            Purpose::Refused => ("marketing", "regular"),
        };
        if self.chance(0.12) {
            Pricing::Cbp {
                category,
                billable: category != "service",
            }
        } else {
            Pricing::Pmp { category, kind }
        }
    }

    /// Pricing rides on `sent` and on one of delivered/read (sometimes only on the latter),
    /// never on `failed`.
    fn attach_pricing(&mut self, statuses: &mut [StatusFact]) {
        let follow_ups: Vec<usize> = statuses
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.kind, Delivered | Read))
            .map(|(i, _)| i)
            .collect();
        let follow_up = (!follow_ups.is_empty()).then(|| pick(&mut self.rng, &follow_ups));
        let has_sent = statuses.iter().any(|s| s.kind == Sent);
        let on_sent = has_sent && (follow_up.is_none() || !self.chance(0.1));
        for (i, status) in statuses.iter_mut().enumerate() {
            status.priced = match status.kind {
                Sent => on_sent,
                Delivered | Read => follow_up == Some(i),
                Failed => false,
            };
        }
    }

    fn bot_tag(&mut self) -> Tag {
        let roll = self.range(0, 99);
        if roll < 15 {
            Tag::json(Some("welcome_bot"), None, true)
        } else if roll < 60 {
            Tag::pairs(Some("welcome_bot"), None, true, None)
        } else {
            Tag::pairs(None, None, true, None)
        }
    }

    fn human_tag(&mut self) -> Tag {
        if !self.malformed_done {
            self.malformed_done = true;
            return Tag::raw_only("%%%");
        }
        if !self.other_by_done {
            self.other_by_done = true;
            return Tag::raw_only("by=support;agent=a2");
        }
        if self.chance(0.2) {
            return Tag::default();
        }
        let agent = pick(&mut self.rng, AGENTS);
        Tag::pairs(None, None, false, Some(agent))
    }

    fn human_delay(&mut self, lo: i64, hi: i64) -> i64 {
        if self.chance(0.1) {
            self.range(2 * HOUR, 5 * HOUR)
        } else {
            self.range(lo, hi)
        }
    }

    fn opted_out_at(&self, person: usize, at: i64) -> bool {
        self.consent_changes[person]
            .iter()
            .filter(|(t, _)| *t <= at)
            .max_by_key(|(t, _)| *t)
            .is_some_and(|(_, stopped)| *stopped)
    }

    /// A person who writes: sessions of inbound messages answered by bot and/or human.
    fn lead_story(&mut self, person: usize, lead_no: usize, unanswered: bool) {
        let days = self.day_count();
        let referral = match lead_no % 6 {
            5 => None,
            ad => Some(ad),
        };
        if unanswered {
            // Writes late in the week and is never answered (no outbound after it, ever).
            let d = (days - 2).max(0);
            let t = self.some_time(d);
            let t = self.chat(person, t, referral);
            if lead_no.is_multiple_of(2) {
                let later = t + self.range(5 * MINUTE, 3 * HOUR);
                self.chat(person, later, None);
            }
            return;
        }
        // Lead 10 stops early (one session, no START): the broadcast to them is refused.
        let d0 = if lead_no == 10 {
            0
        } else {
            self.range(0, (days - 3).max(0))
        };
        let mut t = self.some_time(d0);
        let sessions = if lead_no == 10 { 1 } else { self.range(1, 3) };
        let mut last = t;
        for s in 0..sessions {
            if t >= self.end - 3 * HOUR {
                break;
            }
            let fep = s == 0 && referral.is_some();
            let at = self.chat(person, t, if s == 0 { referral } else { None });
            let mode = self.range(0, 99);
            let last_out = if mode < 45 {
                // Bot first (sometimes in the same second), then a human after the hand-off.
                let bot_delay = if self.same_second_done || s > 0 {
                    self.range(0, 15)
                } else {
                    // One bot answer in the very second of the message (and it arrives).
                    self.same_second_done = true;
                    self.next_ladder = Some(&[Sent, Delivered, Read]);
                    0
                };
                let tag = self.bot_tag();
                self.send(person, at + bot_delay, tag, Purpose::Reply { fep });
                let delay = self.human_delay(60, 1500);
                let tag = self.human_tag();
                self.send(person, at + delay, tag, Purpose::Reply { fep })
            } else if mode < 80 {
                let delay = self.human_delay(20, 1200);
                let tag = self.human_tag();
                self.send(person, at + delay, tag, Purpose::Reply { fep })
            } else {
                let delay = self.range(1, 10);
                let tag = self.bot_tag();
                self.send(person, at + delay, tag, Purpose::Reply { fep })
            };
            last = last_out;
            if self.chance(0.6) {
                let follow = last_out + self.range(30, 900);
                let follow = self.chat(person, follow, None);
                if self.chance(0.8) {
                    let delay = self.range(20, 1000);
                    let tag = self.human_tag();
                    last = self.send(person, follow + delay, tag, Purpose::Reply { fep });
                } else {
                    last = follow;
                }
            }
            let gap = self.range(8 * HOUR, 2 * DAY);
            t = last + gap;
            if self.chance(0.5) {
                let d = self.day_of(t);
                if d < days {
                    t = self.near_midnight(d);
                    if t <= last {
                        t = last + gap;
                    }
                }
            }
        }

        // Keywords: some stop (one of them with a non-keyword "stop …" first), some come back.
        if lead_no % 7 == 3 {
            let mut at = last + self.range(HOUR, 12 * HOUR);
            if lead_no == 3 {
                at = self.receive(person, at, NOT_A_STOP, None, None) + self.range(60, 600);
            }
            let text = STOP_TEXTS[(lead_no / 7) % STOP_TEXTS.len()];
            let stop_at = self.receive(person, at, text, Some(Keyword::Stop), None);
            if lead_no % 14 == 3 {
                let start_at = stop_at + self.range(3 * HOUR, DAY);
                let text = START_TEXTS[(lead_no / 14) % START_TEXTS.len()];
                let start_at = self.receive(person, start_at, text, Some(Keyword::Start), None);
                let delay = self.range(1, 5);
                self.send(
                    person,
                    start_at + delay,
                    Tag::pairs(Some("welcome_back"), None, true, None),
                    Purpose::Reply { fep: false },
                );
            }
        }
        // `user_preferences` carries only `wa_id`: phone people only.
        if lead_no % 9 == 4 && self.facts.people[person].phone.is_some() {
            let at = last + self.range(2 * HOUR, DAY);
            self.preference(person, at, true);
            if lead_no % 18 == 4 {
                let resume = at + self.range(HOUR, DAY);
                self.preference(person, resume, false);
            }
        }
    }

    /// The first instant in the week when New York's UTC offset changes, if any.
    fn new_york_offset_change(&self) -> Option<i64> {
        let offset = |t: i64| {
            DateTime::from_timestamp(t, 0).map(|d| {
                use chrono::Offset;
                chrono_tz::America::New_York
                    .offset_from_utc_datetime(&d.naive_utc())
                    .fix()
                    .local_minus_utc()
            })
        };
        let mut t = self.spec.start;
        while t + HOUR < self.end {
            if offset(t) != offset(t + HOUR) {
                return Some(t + HOUR);
            }
            t += HOUR;
        }
        None
    }

    /// A message answered by the bot, then by a human.
    fn night_session(&mut self, person: usize, at: i64) {
        let at = self.chat(person, at, None);
        let delay = self.range(2, 20);
        let tag = self.bot_tag();
        self.send(person, at + delay, tag, Purpose::Reply { fep: false });
        let delay = self.range(300, 1500);
        let tag = self.human_tag();
        self.send(person, at + delay, tag, Purpose::Reply { fep: false });
    }

    fn preference(&mut self, person: usize, at: i64, stop: bool) {
        self.consent_changes[person].push((at, stop));
        self.facts.preferences.push(Preference { person, at, stop });
    }

    /// A person on the business's lists: templates on a few days, sometimes a reply within or
    /// beyond 72 h.
    fn recipient_story(&mut self, person: usize, no: usize) {
        let days = self.day_count();
        let sends = self.range(1, 3);
        let mut first: Option<i64> = None;
        // Who replies after 72 h got the first template early in the week, and it arrived.
        let late_replier = no % 5 == 1;
        for i in 0..sends {
            let d = if late_replier && i == 0 {
                self.next_ladder = Some(&[Sent, Delivered]);
                self.range(0, 1.min(days - 1))
            } else {
                self.range(0, days - 1)
            };
            let t = self.some_time(d);
            let roll = if no == 0 && i == 0 {
                // The first recipient's first message is a delivered OTP.
                self.next_ladder = Some(&[Sent, Delivered]);
                99
            } else {
                self.range(0, 99)
            };
            let (tag, category) = if roll < 45 {
                (
                    Tag::pairs(Some("nov_promo"), Some("nov_sale"), true, None),
                    "marketing",
                )
            } else if roll < 80 {
                let tag = if self.chance(0.5) {
                    Tag::default()
                } else {
                    Tag::pairs(Some("order_update"), None, true, None)
                };
                (tag, "utility")
            } else {
                (
                    Tag::pairs(Some("otp_login"), None, true, None),
                    "authentication",
                )
            };
            let anchor = self.send(person, t, tag, Purpose::Template(category));
            first = Some(first.map_or(anchor, |f: i64| f.min(anchor)));
        }
        let Some(first) = first else { return };
        let reply_at = match no % 5 {
            0 | 3 => Some(first + self.range(10 * MINUTE, 60 * HOUR)),
            1 => Some(first + self.range(REPLY_WINDOW + MINUTE, REPLY_WINDOW + 20 * HOUR)),
            _ => None,
        };
        if let Some(at) = reply_at.filter(|&at| at < self.end - HOUR) {
            let at = self.chat(person, at, None);
            let delay = self.human_delay(30, 1800);
            let tag = self.human_tag();
            self.send(person, at + delay, tag, Purpose::Reply { fep: false });
        }
    }

    /// A marketing broadcast in two waves on one day (a teaser in the morning, the catalogue
    /// in the afternoon): the volume spike.
    fn broadcast(&mut self, people: &[usize]) {
        let d = (self.day_count() - 3).max(0);
        for (wave, (template, hour)) in [("black_friday_teaser", 9), ("black_friday_catalog", 13)]
            .into_iter()
            .enumerate()
        {
            let mut t = self.spec.start + d * DAY + hour * HOUR;
            for (n, &person) in people.iter().enumerate() {
                t += self.range(5, 90);
                let tag = if n.is_multiple_of(7) {
                    Tag::json(Some(template), Some("black_friday"), true)
                } else {
                    Tag::pairs(Some(template), Some("black_friday"), true, None)
                };
                let purpose = if self.opted_out_at(person, t) {
                    Purpose::Refused
                } else {
                    Purpose::Template("marketing")
                };
                let anchor = self.send(person, t, tag, purpose);
                if wave == 0 && n % 3 == 1 {
                    let at = anchor + self.range(5 * MINUTE, 4 * HOUR);
                    if at < self.end - HOUR {
                        let at = self.chat(person, at, None);
                        let delay = self.human_delay(30, 1200);
                        let tag = self.human_tag();
                        self.send(person, at + delay, tag, Purpose::Reply { fep: false });
                    }
                }
            }
        }
    }

    fn api_consents(&mut self) {
        let days = self.day_count();
        let mut opt_out_done = false;
        for person in 0..self.facts.people.len() {
            if person.is_multiple_of(8) {
                let d = self.range(0, days - 1);
                let at = self.some_time(d);
                let (source, proof) = if person.is_multiple_of(16) {
                    (
                        "web_form",
                        "Ticked \"Send me offers on WhatsApp\" on example.com/signup",
                    )
                } else {
                    (
                        "qr",
                        "Scanned the in-store QR code and confirmed on the landing page",
                    )
                };
                let categories = if person.is_multiple_of(3) {
                    vec!["marketing", "utility"]
                } else {
                    vec!["marketing"]
                };
                self.facts.consents.push(ApiConsent {
                    person,
                    opt_in: true,
                    categories,
                    source,
                    proof: Some(proof.to_string()),
                    at,
                });
            } else if person % 8 == 6 && !opt_out_done {
                opt_out_done = true;
                let d = self.range(1.min(days - 1), days - 1);
                let at = self.uniform(d);
                self.facts.consents.push(ApiConsent {
                    person,
                    opt_in: false,
                    categories: vec!["marketing"],
                    source: "api",
                    proof: None,
                    at,
                });
            }
        }
    }

    fn conversions(&mut self) {
        // Leads in person order, with their first inbound time and referral.
        let mut firsts: BTreeMap<usize, (i64, Option<usize>)> = BTreeMap::new();
        for message in &self.facts.inbound {
            let entry = firsts
                .entry(message.person)
                .or_insert((message.at, message.referral));
            if message.at < entry.0 {
                *entry = (message.at, message.referral);
            }
        }
        let mut mixed_done = false;
        let mut n = 0usize;
        for (k, (&person, &(first, referral))) in firsts.iter().enumerate() {
            let mixed = !mixed_done && referral == Some(MIXED_AD);
            let count = if mixed {
                2
            } else {
                match k % 5 {
                    0 | 2 => 1,
                    3 => 2,
                    _ => 0,
                }
            };
            if count == 0 {
                continue;
            }
            mixed_done |= mixed;
            let currency = referral.map_or("IDR", |ad| ADS[ad].currency);
            let key = self.facts.people[person].key.clone();
            let mut at = first;
            for c in 0..count {
                at += self.range(2 * HOUR, DAY + 12 * HOUR);
                if at >= self.end {
                    at = self.end - self.range(10 * MINUTE, 2 * HOUR);
                    if at <= first + MINUTE {
                        break;
                    }
                }
                let currency = if mixed && c == 1 { "USD" } else { currency };
                let cents = if currency == "USD" {
                    if self.chance(0.3) {
                        self.range(10, 150) * 100
                    } else {
                        self.range(500, 15_000)
                    }
                } else {
                    self.range(5, 300) * 1000 * 100
                };
                let kind = CONVERSION_KINDS[n % CONVERSION_KINDS.len()];
                n += 1;
                self.facts.conversions.push(Conversion {
                    person,
                    key: key.clone(),
                    kind,
                    cents,
                    currency,
                    at,
                });
            }
        }
        // One more conversion three hours after the week (same lead, same currency): outside
        // a report that ends on the week's last day, inside one that goes further.
        if let Some(last) = self.facts.conversions.last().cloned() {
            let cents = last.cents + 100;
            self.facts.conversions.push(Conversion {
                kind: CONVERSION_KINDS[n % CONVERSION_KINDS.len()],
                cents,
                at: self.end + 3 * HOUR,
                ..last
            });
        }
    }
}

/// Generates the week described by `spec`, deterministically from `spec.seed`.
///
/// Shape (default spec, 40 people, two numbers: about 210 outbound and 110 inbound messages,
/// ~400 status updates, ~450 bodies of which ~290 distinct):
/// - ~3/4 of the people write first (two of them are never answered: no outbound after their
///   messages); their first message carries a Click-to-WhatsApp referral for 5 in 6 of them
///   (4 UTM campaigns, one of them `=spring`, and a short link without UTM). Sessions: a bot
///   reply then a human after the hand-off (45%), a human only (35%), a bot only (20%), half with
///   a follow-up message; some end with STOP (a third of those come back with START), some
///   phone users stop (and one resumes) marketing through `user_preferences`.
/// - The others receive templates (marketing, utility, authentication) on random days; some
///   reply within 72 h, some later.
/// - On the week's fifth day a two-wave marketing broadcast reaches most people (refused with
///   131050 for those who had stopped marketing): the volume spike.
/// - Every fourth person is BSUID-only; every third uses the second number.
/// - Ladders: sent→delivered→read 40%, sent→read 8%, sent→delivered 20%, sent 6%,
///   sent→failed 8%, failed 3%, sent→delivered→failed 3%, delivered→read 5%, read 2%; 15% of
///   reads come 1–3 days late. Pricing: PMP, 12% CBP, 4% none.
/// - API: opt-ins (web_form, qr) for every eighth person, one API opt-out, then 1–2 conversions
///   for some leads (one lead of the `black_friday` ad pays in IDR and USD), the last one three
///   hours after the week.
pub fn generate_week(spec: &WeekSpec) -> Week {
    let days = i64::from(spec.days.max(1));
    let mut g = Gen {
        spec,
        rng: StdRng::seed_from_u64(spec.seed),
        taken: BTreeSet::new(),
        facts: Facts {
            phone_number_ids: spec.phone_number_ids.clone(),
            ..Facts::default()
        },
        end: spec.start + days * DAY,
        inbound_times: Vec::new(),
        outbound_times: Vec::new(),
        consent_changes: Vec::new(),
        malformed_done: false,
        other_by_done: false,
        next_ladder: None,
        failures_made: 0,
        same_second_done: false,
    };
    for i in 0..spec.people {
        g.person(i);
    }
    let writers = (spec.people * 3).div_ceil(4);
    let unanswered: BTreeSet<usize> = [writers.saturating_sub(1), writers / 2]
        .into_iter()
        .filter(|&i| writers >= 4 && i < writers)
        .collect();
    for person in 0..spec.people {
        if person < writers {
            g.lead_story(person, person, unanswered.contains(&person));
        } else {
            g.recipient_story(person, person - writers);
        }
    }
    // Two people write in the night of New York's DST change, an hour before and after it.
    if let Some(change) = g.new_york_offset_change() {
        let owls = (0..writers).filter(|p| !unanswered.contains(p)).take(2);
        for (person, at) in owls.zip([change - 40 * MINUTE, change + 25 * MINUTE]) {
            g.night_session(person, at);
        }
    }
    let audience: Vec<usize> = (0..spec.people)
        .filter(|p| !unanswered.contains(p) && p % 6 != 5)
        .collect();
    g.broadcast(&audience);
    g.api_consents();
    g.conversions();

    let mut facts = g.facts;
    set_migrations(&mut facts);
    let mut rng = g.rng;
    facts.inbound.sort_by_key(|m| (m.at, m.person));
    let bodies = deliver(spec, &facts, &mut rng);
    let api_calls = api_calls(&facts);
    Week {
        bodies,
        api_calls,
        facts,
    }
}

/// The phases of the people who move to business-scoped ids: from the distinct times of their
/// items (messages and statuses), the first third by phone only, the second by both, the rest
/// by BSUID only; with fewer than three times, every item carries both.
fn set_migrations(facts: &mut Facts) {
    let mut times: Vec<BTreeSet<i64>> = vec![BTreeSet::new(); facts.people.len()];
    for m in &facts.inbound {
        times[m.person].insert(m.at);
    }
    for m in &facts.outbound {
        times[m.person].extend(m.statuses.iter().map(|s| s.at));
    }
    for (person, times) in facts.people.iter_mut().zip(times) {
        if person.phone.is_none() || person.user_id.is_none() {
            continue;
        }
        let times: Vec<i64> = times.into_iter().collect();
        person.migration = Some(match times.len() {
            0 => continue,
            1 | 2 => (times[0], i64::MAX),
            n => (times[n / 3], times[2 * n / 3]),
        });
    }
}

impl Person {
    /// The ids Meta names this person by in an item at `at`: (phone, BSUID).
    fn ids_at(&self, at: i64) -> (Option<&str>, Option<&str>) {
        let (phone, bsuid) = (self.phone.as_deref(), self.user_id.as_deref());
        match self.migration {
            Some((both, _)) if at < both => (phone, None),
            Some((_, only)) if at >= only => (None, bsuid),
            _ => (phone, bsuid),
        }
    }
}

fn api_calls(facts: &Facts) -> Vec<ApiCall> {
    let mut calls = Vec::new();
    for consent in &facts.consents {
        let Some(person) = facts.people.get(consent.person) else {
            continue;
        };
        calls.push(ApiCall::Consent(ConsentCall {
            user: person.key.clone(),
            phone_number_id: facts
                .phone_number_ids
                .get(person.pn)
                .cloned()
                .unwrap_or_default(),
            action: if consent.opt_in { "opt_in" } else { "opt_out" }.to_string(),
            categories: consent.categories.iter().map(|c| c.to_string()).collect(),
            source: consent.source.to_string(),
            proof: consent.proof.clone(),
            at: consent.at,
        }));
    }
    for (n, conversion) in facts.conversions.iter().enumerate() {
        calls.push(ApiCall::Conversion(ConversionCall {
            lead_id: conversion.key.clone(),
            idempotency_key: format!("week-conv-{n:03}"),
            kind: conversion.kind.to_string(),
            value: money(conversion.cents),
            currency: conversion.currency.to_string(),
            at: conversion.at,
        }));
    }
    calls
}

// ---------------------------------------------------------------------------------------------
// Rendering and delivery
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Update {
    Status(usize, usize),
    Inbound(usize),
    Preference(usize),
}

fn deliver(spec: &WeekSpec, facts: &Facts, rng: &mut StdRng) -> Vec<Vec<u8>> {
    let mut updates: Vec<Update> = Vec::new();
    for (m, message) in facts.outbound.iter().enumerate() {
        updates.extend((0..message.statuses.len()).map(|s| Update::Status(m, s)));
    }
    updates.extend((0..facts.inbound.len()).map(Update::Inbound));
    updates.extend((0..facts.preferences.len()).map(Update::Preference));
    updates.shuffle(rng);

    let mut bodies = Vec::new();
    let mut start = 0;
    while start < updates.len() {
        let size = if rng.random_bool(0.6) {
            1
        } else {
            rng.random_range(2..=4)
        };
        let batch = &updates[start..(start + size).min(updates.len())];
        start += batch.len();
        let body = envelope(spec, facts, batch).to_string().into_bytes();
        let copies = pick_weighted(rng, &[(1usize, 55), (2, 30), (3, 15)]);
        for _ in 0..copies {
            bodies.push(body.clone());
        }
    }
    bodies.shuffle(rng);
    bodies
}

fn metadata(spec: &WeekSpec, pn: usize) -> Value {
    let id = spec.phone_number_ids.get(pn).cloned().unwrap_or_default();
    let display = spec
        .display_phone_numbers
        .get(pn)
        .cloned()
        .unwrap_or_else(|| format!("1555000{pn:04}"));
    json!({ "display_phone_number": display, "phone_number_id": id })
}

/// One POST body: statuses grouped per business number in one `messages` change, each inbound
/// message in its own change with its contact, each preference in a `user_preferences` change.
fn envelope(spec: &WeekSpec, facts: &Facts, batch: &[Update]) -> Value {
    let mut changes: Vec<Value> = Vec::new();
    // pn → (slot in changes, statuses)
    let mut status_changes: BTreeMap<usize, (usize, Vec<Value>)> = BTreeMap::new();
    for update in batch {
        match *update {
            Update::Status(m, s) => {
                let message = &facts.outbound[m];
                let person = &facts.people[message.person];
                let slot = changes.len();
                let entry = status_changes
                    .entry(person.pn)
                    .or_insert_with(|| (slot, Vec::new()));
                if entry.0 == slot {
                    changes.push(Value::Null);
                }
                entry.1.push(status_json(message, person, s));
            }
            Update::Inbound(i) => {
                let message = &facts.inbound[i];
                let person = &facts.people[message.person];
                changes.push(json!({
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": metadata(spec, person.pn),
                        "contacts": [contact_json(person, message.at)],
                        "messages": [message_json(message, person)],
                    },
                }));
            }
            Update::Preference(p) => {
                let preference = &facts.preferences[p];
                let person = &facts.people[preference.person];
                let wa_id = person.phone.clone().unwrap_or_default();
                let (value, detail) = if preference.stop {
                    ("stop", "User requested to stop marketing messages")
                } else {
                    ("resume", "User requested to resume marketing messages")
                };
                changes.push(json!({
                    "field": "user_preferences",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": metadata(spec, person.pn),
                        "contacts": [{ "wa_id": wa_id }],
                        "user_preferences": [{
                            "wa_id": wa_id,
                            "detail": detail,
                            "category": "marketing_messages",
                            "value": value,
                            "timestamp": preference.at,
                        }],
                    },
                }));
            }
        }
    }
    for (pn, (slot, statuses)) in status_changes {
        changes[slot] = json!({
            "field": "messages",
            "value": {
                "messaging_product": "whatsapp",
                "metadata": metadata(spec, pn),
                "statuses": statuses,
            },
        });
    }
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": spec.waba_id, "changes": changes }],
    })
}

fn status_json(message: &Outbound, person: &Person, s: usize) -> Value {
    let step = message.statuses[s];
    let mut status = Map::new();
    status.insert("id".into(), json!(message.wamid));
    status.insert("status".into(), json!(step.kind.as_str()));
    status.insert("timestamp".into(), json!(step.at.to_string()));
    let (phone, user_id) = person.ids_at(step.at);
    status.insert("recipient_id".into(), json!(phone.unwrap_or("")));
    if let Some(user_id) = user_id {
        status.insert("recipient_user_id".into(), json!(user_id));
    }
    if let Some(raw) = &message.tag.raw {
        status.insert("biz_opaque_callback_data".into(), json!(raw));
    }
    if let (Some(pricing), true) = (message.pricing, step.priced) {
        let origin = match pricing {
            Pricing::Cbp { category, .. } => Some((category, DAY)),
            Pricing::Pmp {
                kind: "free_entry_point",
                ..
            } => Some(("referral_conversion", 3 * DAY)),
            Pricing::Pmp { .. } => None,
        };
        if let Some((origin, window)) = origin {
            let mut conversation = Map::new();
            conversation.insert("id".into(), json!(message.conversation_id));
            if step.kind == Sent {
                conversation.insert(
                    "expiration_timestamp".into(),
                    json!((step.at + window).to_string()),
                );
            }
            conversation.insert("origin".into(), json!({ "type": origin }));
            status.insert("conversation".into(), Value::Object(conversation));
        }
        let pricing_json = match pricing {
            Pricing::Pmp { category, kind } => json!({
                "billable": kind == "regular",
                "pricing_model": "PMP",
                "type": kind,
                "category": category,
            }),
            Pricing::Cbp { category, billable } => json!({
                "billable": billable,
                "pricing_model": "CBP",
                "category": category,
            }),
        };
        status.insert("pricing".into(), pricing_json);
    }
    if let (Some(failure), Failed) = (message.failure, step.kind) {
        status.insert(
            "errors".into(),
            json!([{
                "code": failure.code,
                "title": failure.title,
                "message": failure.title,
                "error_data": { "details": failure.details },
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }]),
        );
    }
    Value::Object(status)
}

fn contact_json(person: &Person, at: i64) -> Value {
    let (phone, user_id) = person.ids_at(at);
    let mut contact = Map::new();
    contact.insert("profile".into(), json!({ "name": person.name }));
    contact.insert("wa_id".into(), json!(phone.unwrap_or("")));
    if let Some(user_id) = user_id {
        contact.insert("user_id".into(), json!(user_id));
    }
    Value::Object(contact)
}

fn message_json(message: &Inbound, person: &Person) -> Value {
    let (phone, user_id) = person.ids_at(message.at);
    let mut item = Map::new();
    // BSUID-only users: `from` is empty, as in Meta's username-user example.
    item.insert("from".into(), json!(phone.unwrap_or("")));
    if let Some(user_id) = user_id {
        item.insert("from_user_id".into(), json!(user_id));
    }
    item.insert("id".into(), json!(message.wamid));
    item.insert("timestamp".into(), json!(message.at.to_string()));
    item.insert("type".into(), json!("text"));
    item.insert("text".into(), json!({ "body": message.text }));
    if let Some(ad) = message.referral.and_then(|i| ADS.get(i)) {
        let mut referral = Map::new();
        referral.insert("source_url".into(), json!(ad.source_url));
        referral.insert("source_id".into(), json!(ad.source_id));
        referral.insert("source_type".into(), json!("ad"));
        referral.insert("body".into(), json!(ad.body));
        referral.insert("headline".into(), json!(ad.headline));
        referral.insert("media_type".into(), json!("image"));
        referral.insert(
            "image_url".into(),
            json!(format!(
                "https://scontent.xx.fbcdn.net/v/t45.1600-4/{}.jpg",
                ad.source_id
            )),
        );
        if let Some(clid) = &message.ctwa_clid {
            referral.insert("ctwa_clid".into(), json!(clid));
        }
        item.insert("referral".into(), Value::Object(referral));
    }
    Value::Object(item)
}

// ---------------------------------------------------------------------------------------------
// Formatting helpers
// ---------------------------------------------------------------------------------------------

/// `2026-10-27T10:00:00Z`; empty for an out-of-range time.
fn iso(ts: i64) -> String {
    DateTime::from_timestamp(ts, 0)
        .map_or_else(String::new, |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

fn opt_iso(ts: Option<i64>) -> String {
    ts.map(iso).unwrap_or_default()
}

/// Cents as a decimal with at most 2 decimals, trailing zeros trimmed: 15000000 → `150000`,
/// 1990 → `19.9`, 1999 → `19.99`.
fn money(cents: i64) -> String {
    let (units, rest) = (cents / 100, cents % 100);
    if rest == 0 {
        units.to_string()
    } else if rest % 10 == 0 {
        format!("{units}.{}", rest / 10)
    } else {
        format!("{units}.{rest:02}")
    }
}

/// A decimal string as a JSON number (integers stay integers).
fn decimal_json(value: &str) -> Value {
    if let Ok(int) = value.parse::<i64>() {
        return json!(int);
    }
    value
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

fn rate(num: usize, den: usize) -> String {
    if den == 0 {
        String::new()
    } else {
        decimals(num as i128, den as i128, 4)
    }
}

/// `num / den` rounded half up to `places` decimals, exactly (integers only).
fn decimals(num: i128, den: i128, places: u32) -> String {
    let scale = 10i128.pow(places);
    let scaled = (2 * num * scale + den) / (2 * den);
    format!(
        "{}.{:0width$}",
        scaled / scale,
        scaled % scale,
        width = places as usize
    )
}

/// Formula-injection guard for CSV cells.
fn csv_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

fn local_midnight(tz: Tz, date: NaiveDate) -> Option<i64> {
    let naive = date.and_hms_opt(0, 0, 0)?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|d| d.timestamp())
}

fn local_day(ts: i64, tz: Tz) -> NaiveDate {
    DateTime::from_timestamp(ts, 0)
        .map(|d| d.with_timezone(&tz).date_naive())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Truth
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grouping {
    Day,
    Week,
    Month,
    None,
}

impl Grouping {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "day" => Self::Day,
            "week" => Self::Week,
            "month" => Self::Month,
            "none" => Self::None,
            _ => return None,
        })
    }

    fn label(self, day: NaiveDate) -> String {
        match self {
            Self::Day => day.format("%Y-%m-%d").to_string(),
            Self::Week => {
                let back = u64::from(day.weekday().num_days_from_monday());
                day.checked_sub_days(Days::new(back))
                    .unwrap_or(day)
                    .format("%Y-%m-%d")
                    .to_string()
            }
            Self::Month => day.format("%Y-%m").to_string(),
            Self::None => "all".to_string(),
        }
    }
}

/// What the truth needs of one outbound message.
#[derive(Debug, Clone)]
struct View<'a> {
    message: &'a Outbound,
    person: &'a Person,
    anchor: i64,
    delivered: bool,
    read: bool,
    failed: bool,
    /// The pricing some status carried (even on a failed message).
    carried: Option<Pricing>,
    sent_at: Option<i64>,
    delivered_at: Option<i64>,
    read_at: Option<i64>,
    failed_at: Option<i64>,
}

impl View<'_> {
    /// Pricing as reported: none for a failed message.
    fn pricing(&self) -> Option<Pricing> {
        self.carried.filter(|_| !self.failed)
    }

    fn status(&self) -> &'static str {
        if self.failed {
            "failed"
        } else if self.read {
            "read"
        } else if self.delivered {
            "delivered"
        } else {
            "sent"
        }
    }
}

fn view<'a>(facts: &'a Facts, message: &'a Outbound) -> Option<View<'a>> {
    let person = facts.people.get(message.person)?;
    let first = message.statuses.iter().map(|s| s.at).min()?;
    let at = |kind: StatusKind| {
        message
            .statuses
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| s.at)
            .min()
    };
    let last = message.statuses.iter().max_by_key(|s| s.at)?;
    let sent_at = at(Sent);
    Some(View {
        message,
        person,
        anchor: sent_at.unwrap_or(first),
        delivered: at(Delivered).is_some() || at(Read).is_some(),
        read: at(Read).is_some(),
        failed: last.kind == Failed,
        carried: message
            .pricing
            .filter(|_| message.statuses.iter().any(|s| s.priced)),
        sent_at,
        delivered_at: at(Delivered),
        read_at: at(Read),
        failed_at: at(Failed),
    })
}

struct ConsentEvent {
    at: i64,
    person: String,
    action: &'static str,
    source: &'static str,
    category: &'static str,
}

struct Truth<'a> {
    facts: &'a Facts,
    tz: Tz,
    grouping: Grouping,
    from: NaiveDate,
    to: NaiveDate,
    views: Vec<View<'a>>,
}

impl<'a> Truth<'a> {
    fn new(facts: &'a Facts, tz: Tz, grouping: Grouping, from: NaiveDate, to: NaiveDate) -> Self {
        let views = facts
            .outbound
            .iter()
            .filter_map(|m| view(facts, m))
            .collect();
        Self {
            facts,
            tz,
            grouping,
            from,
            to,
            views,
        }
    }

    fn day(&self, ts: i64) -> NaiveDate {
        local_day(ts, self.tz)
    }

    /// The period label of `ts`, or None when its local day is outside `from..=to`.
    fn period(&self, ts: i64) -> Option<String> {
        let day = self.day(ts);
        (self.from <= day && day <= self.to).then(|| self.grouping.label(day))
    }

    fn in_range(&self, ts: i64) -> bool {
        let day = self.day(ts);
        self.from <= day && day <= self.to
    }

    fn inbound_of(&self, key: &str) -> Vec<i64> {
        let mut times: Vec<i64> = self
            .facts
            .inbound
            .iter()
            .filter(|m| {
                self.facts
                    .people
                    .get(m.person)
                    .is_some_and(|p| p.key == key)
            })
            .map(|m| m.at)
            .collect();
        times.sort_unstable();
        times
    }

    fn replied(&self, v: &View<'_>) -> bool {
        v.delivered
            && self
                .inbound_of(&v.person.key)
                .iter()
                .any(|&at| v.anchor < at && at <= v.anchor + REPLY_WINDOW)
    }

    fn conversations(&self) -> Vec<Vec<String>> {
        let mut groups: BTreeMap<(String, String, String, String), [usize; 6]> = BTreeMap::new();
        for v in &self.views {
            let Some(period) = self.period(v.anchor) else {
                continue;
            };
            let pricing = v.pricing();
            let key = (
                period,
                self.facts
                    .phone_number_ids
                    .get(v.person.pn)
                    .cloned()
                    .unwrap_or_default(),
                pricing
                    .map(Pricing::category)
                    .unwrap_or_default()
                    .to_string(),
                pricing
                    .map(Pricing::pricing_type)
                    .unwrap_or_default()
                    .to_string(),
            );
            let c = groups.entry(key).or_default();
            c[0] += 1;
            c[1] += usize::from(v.delivered);
            c[2] += usize::from(v.read);
            c[3] += usize::from(v.failed);
            c[4] += usize::from(pricing.is_some_and(Pricing::paid));
            c[5] += usize::from(pricing.is_some_and(|p| !p.paid()));
        }
        groups
            .into_iter()
            .map(|((period, pn, category, kind), c)| {
                vec![
                    period,
                    pn,
                    category,
                    kind,
                    c[0].to_string(),
                    c[1].to_string(),
                    c[2].to_string(),
                    c[3].to_string(),
                    c[4].to_string(),
                    c[5].to_string(),
                    rate(c[1], c[0]),
                    rate(c[2], c[1]),
                ]
            })
            .collect()
    }

    fn templates(&self) -> Vec<Vec<String>> {
        let mut groups: BTreeMap<(String, String), [usize; 5]> = BTreeMap::new();
        for v in &self.views {
            let (Some(period), Some(template)) = (self.period(v.anchor), v.message.tag.template)
            else {
                continue;
            };
            let c = groups.entry((period, template.to_string())).or_default();
            c[0] += 1;
            c[1] += usize::from(v.delivered);
            c[2] += usize::from(v.read);
            c[3] += usize::from(v.failed);
            c[4] += usize::from(self.replied(v));
        }
        groups
            .into_iter()
            .map(|((period, template), c)| {
                let mut row = vec![
                    period,
                    template,
                    c[0].to_string(),
                    c[1].to_string(),
                    c[2].to_string(),
                    c[3].to_string(),
                    c[4].to_string(),
                    rate(c[1], c[0]),
                    rate(c[2], c[1]),
                    rate(c[4], c[1]),
                ];
                row.extend(std::iter::repeat_n(String::new(), 7));
                row
            })
            .collect()
    }

    /// (wait start, seconds, responder) for every answered wait, all people, all days.
    fn response_samples(&self) -> Vec<(i64, i64, &'static str)> {
        // person key → events (time, 0 = inbound / 1 = outbound, bot)
        let mut timelines: BTreeMap<&str, Vec<(i64, u8, bool)>> = BTreeMap::new();
        for m in &self.facts.inbound {
            if let Some(p) = self.facts.people.get(m.person) {
                timelines.entry(&p.key).or_default().push((m.at, 0, false));
            }
        }
        for v in self.views.iter().filter(|v| !v.failed) {
            timelines
                .entry(&v.person.key)
                .or_default()
                .push((v.anchor, 1, v.message.tag.bot));
        }
        let mut samples = Vec::new();
        for events in timelines.values_mut() {
            // Inbound before outbound at the same second: a same-second reply answers.
            events.sort_unstable();
            let (mut any, mut human): (Option<i64>, Option<i64>) = (None, None);
            for &(at, kind, bot) in events.iter() {
                if kind == 0 {
                    any.get_or_insert(at);
                    human.get_or_insert(at);
                    continue;
                }
                if let Some(start) = any.take() {
                    samples.push((start, at - start, "any"));
                    if bot {
                        samples.push((start, at - start, "bot"));
                    }
                }
                if !bot && let Some(start) = human.take() {
                    samples.push((start, at - start, "human"));
                }
            }
        }
        samples
    }

    fn response_times(&self) -> Vec<Vec<String>> {
        let mut groups: BTreeMap<(String, &'static str), Vec<i64>> = BTreeMap::new();
        for (start, secs, responder) in self.response_samples() {
            if let Some(period) = self.period(start) {
                groups.entry((period, responder)).or_default().push(secs);
            }
        }
        groups
            .into_iter()
            .map(|((period, responder), samples)| {
                let mut row = vec![period, responder.to_string()];
                row.extend(response_stats(samples));
                row
            })
            .collect()
    }

    /// inbound + outbound per local day, over all traffic.
    fn daily_traffic(&self) -> BTreeMap<NaiveDate, i64> {
        let mut days: BTreeMap<NaiveDate, i64> = BTreeMap::new();
        for m in &self.facts.inbound {
            *days.entry(self.day(m.at)).or_default() += 1;
        }
        for v in &self.views {
            *days.entry(self.day(v.anchor)).or_default() += 1;
        }
        days
    }

    fn lead_created(&self) -> BTreeMap<&'a str, i64> {
        let mut created: BTreeMap<&'a str, i64> = BTreeMap::new();
        for m in &self.facts.inbound {
            if let Some(p) = self.facts.people.get(m.person) {
                let entry = created.entry(p.key.as_str()).or_insert(m.at);
                *entry = (*entry).min(m.at);
            }
        }
        created
    }

    fn volume(&self) -> Vec<Vec<String>> {
        let daily = self.daily_traffic();
        let mut groups: BTreeMap<String, [usize; 5]> = BTreeMap::new();
        for m in &self.facts.inbound {
            if let Some(period) = self.period(m.at) {
                groups.entry(period).or_default()[0] += 1;
            }
        }
        for v in &self.views {
            if let Some(period) = self.period(v.anchor) {
                groups.entry(period).or_default()[1] += 1;
            }
        }
        for &at in self.lead_created().values() {
            if let Some(period) = self.period(at) {
                groups.entry(period).or_default()[2] += 1;
            }
        }
        for c in &self.facts.conversions {
            if let Some(period) = self.period(c.at) {
                groups.entry(period).or_default()[3] += 1;
            }
        }
        for (&day, &count) in &daily {
            if day < self.from || day > self.to || !is_spike(&daily, day, count) {
                continue;
            }
            groups.entry(self.grouping.label(day)).or_default()[4] += 1;
        }
        // Every period of the range has a row, zeros included.
        let mut day = self.from;
        while day <= self.to {
            groups.entry(self.grouping.label(day)).or_default();
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        groups
            .into_iter()
            .map(|(period, c)| {
                let mut row = vec![period];
                row.extend(c.iter().map(|n| n.to_string()));
                row
            })
            .collect()
    }

    fn failures(&self) -> Vec<Vec<String>> {
        let mut groups: BTreeMap<(String, String, String, String), usize> = BTreeMap::new();
        for v in self.views.iter().filter(|v| v.failed) {
            let Some(period) = self.period(v.anchor) else {
                continue;
            };
            let (code, title) = v
                .message
                .failure
                .map_or((String::new(), String::new()), |f| {
                    (f.code.to_string(), f.title.to_string())
                });
            let category = v.carried.map(Pricing::category).unwrap_or_default();
            *groups
                .entry((period, code, title, category.to_string()))
                .or_default() += 1;
        }
        groups
            .into_iter()
            .map(|((period, code, title, category), n)| {
                vec![period, code, title, category, n.to_string()]
            })
            .collect()
    }

    fn consent_events(&self) -> Vec<ConsentEvent> {
        let mut events = Vec::new();
        let key = |person: usize| {
            self.facts
                .people
                .get(person)
                .map(|p| p.key.clone())
                .unwrap_or_default()
        };
        for m in &self.facts.inbound {
            let Some(keyword) = m.keyword else { continue };
            let action = match keyword {
                Keyword::Stop => "opt_out",
                Keyword::Start => "resume",
            };
            for category in ["marketing", "utility"] {
                events.push(ConsentEvent {
                    at: m.at,
                    person: key(m.person),
                    action,
                    source: "keyword",
                    category,
                });
            }
        }
        for p in &self.facts.preferences {
            events.push(ConsentEvent {
                at: p.at,
                person: key(p.person),
                action: if p.stop { "opt_out" } else { "resume" },
                source: "user_preferences",
                category: "marketing",
            });
        }
        for c in &self.facts.consents {
            for &category in &c.categories {
                events.push(ConsentEvent {
                    at: c.at,
                    person: key(c.person),
                    action: if c.opt_in { "opt_in" } else { "opt_out" },
                    source: "api",
                    category,
                });
            }
        }
        events
    }

    fn consent(&self) -> Vec<Vec<String>> {
        type Key = (String, &'static str, &'static str, &'static str);
        let mut groups: BTreeMap<Key, (usize, BTreeSet<String>)> = BTreeMap::new();
        for e in self.consent_events() {
            let Some(period) = self.period(e.at) else {
                continue;
            };
            let g = groups
                .entry((period, e.action, e.source, e.category))
                .or_default();
            g.0 += 1;
            g.1.insert(e.person);
        }
        groups
            .into_iter()
            .map(|((period, action, source, category), (events, people))| {
                vec![
                    period,
                    action.to_string(),
                    source.to_string(),
                    category.to_string(),
                    events.to_string(),
                    people.len().to_string(),
                ]
            })
            .collect()
    }

    fn campaigns(&self) -> Vec<Vec<String>> {
        // First touch: the earliest inbound message with a referral.
        let mut touch: BTreeMap<&str, (i64, usize)> = BTreeMap::new();
        for m in &self.facts.inbound {
            let (Some(ad), Some(p)) = (m.referral, self.facts.people.get(m.person)) else {
                continue;
            };
            let entry = touch.entry(p.key.as_str()).or_insert((m.at, ad));
            if m.at < entry.0 {
                *entry = (m.at, ad);
            }
        }
        type Key = (String, String, String);
        // (leads, converted leads, conversions, cents, currencies)
        let mut groups: BTreeMap<Key, (usize, usize, usize, i64, BTreeSet<&str>)> = BTreeMap::new();
        for (key, created) in self.lead_created() {
            if !self.in_range(created) {
                continue;
            }
            let ad = touch.get(key).and_then(|&(_, ad)| ADS.get(ad));
            let utm =
                |f: fn(&Ad) -> Option<&'static str>| ad.and_then(f).unwrap_or_default().to_string();
            let g = groups
                .entry((
                    utm(|a| a.utm_source),
                    utm(|a| a.utm_medium),
                    utm(|a| a.utm_campaign),
                ))
                .or_default();
            g.0 += 1;
            let conversions: Vec<&Conversion> = self
                .facts
                .conversions
                .iter()
                .filter(|c| c.key == key && self.day(c.at) <= self.to)
                .collect();
            g.1 += usize::from(!conversions.is_empty());
            g.2 += conversions.len();
            for c in conversions {
                g.3 += c.cents;
                g.4.insert(c.currency);
            }
        }
        groups
            .into_iter()
            .map(
                |((source, medium, campaign), (leads, converted, n, cents, currencies))| {
                    let (value, currency) = match currencies.len() {
                        0 => (String::new(), String::new()),
                        1 => (
                            money(cents),
                            currencies
                                .first()
                                .map(|c| c.to_string())
                                .unwrap_or_default(),
                        ),
                        _ => (String::new(), "mixed".to_string()),
                    };
                    vec![
                        source,
                        medium,
                        campaign,
                        leads.to_string(),
                        converted.to_string(),
                        n.to_string(),
                        rate(converted, leads),
                        value,
                        currency,
                    ]
                },
            )
            .collect()
    }

    fn reconciliation(&self) -> Vec<Vec<String>> {
        let number = match self.facts.phone_number_ids.as_slice() {
            [only] => only.clone(),
            _ => "*".to_string(),
        };
        let mut groups: BTreeMap<String, [usize; 3]> = BTreeMap::new();
        for v in &self.views {
            let Some(period) = self.period(v.anchor) else {
                continue;
            };
            let c = groups.entry(period).or_default();
            c[0] += 1;
            c[1] += usize::from(v.delivered);
            c[2] += usize::from(v.pricing().is_some_and(Pricing::paid));
        }
        groups
            .into_iter()
            .map(|(period, c)| {
                vec![
                    period,
                    number.clone(),
                    c[0].to_string(),
                    String::new(),
                    String::new(),
                    c[1].to_string(),
                    String::new(),
                    String::new(),
                    c[2].to_string(),
                    String::new(),
                    String::new(),
                ]
            })
            .collect()
    }

    fn messages(&self) -> Vec<Vec<String>> {
        // Opt-outs per person: STOP keywords, `user_preferences` stops, API opt-outs.
        let mut opt_outs: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for e in self.consent_events() {
            if e.action == "opt_out" {
                opt_outs.entry(e.person).or_default().push(e.at);
            }
        }
        // wamid → earliest opt-out attributed to it.
        let mut attributed: BTreeMap<&str, i64> = BTreeMap::new();
        for (person, times) in &opt_outs {
            for &at in times {
                let latest = self
                    .views
                    .iter()
                    .filter(|v| &v.person.key == person && v.anchor <= at)
                    .max_by_key(|v| v.anchor);
                if let Some(v) = latest {
                    let entry = attributed.entry(v.message.wamid.as_str()).or_insert(at);
                    *entry = (*entry).min(at);
                }
            }
        }
        self.views
            .iter()
            .filter(|v| self.in_range(v.anchor))
            .map(|v| {
                let pricing = v.pricing();
                let failure = v.message.failure.filter(|_| v.failed);
                vec![
                    v.message.wamid.clone(),
                    v.person.key.clone(),
                    self.facts
                        .phone_number_ids
                        .get(v.person.pn)
                        .cloned()
                        .unwrap_or_default(),
                    v.message.tag.template.unwrap_or_default().to_string(),
                    v.message.tag.campaign.unwrap_or_default().to_string(),
                    if v.message.tag.bot { "bot" } else { "human" }.to_string(),
                    pricing
                        .map(Pricing::category)
                        .unwrap_or_default()
                        .to_string(),
                    pricing
                        .map(Pricing::pricing_type)
                        .unwrap_or_default()
                        .to_string(),
                    pricing.map(|p| p.paid().to_string()).unwrap_or_default(),
                    v.status().to_string(),
                    opt_iso(v.sent_at),
                    opt_iso(v.delivered_at),
                    opt_iso(v.read_at),
                    opt_iso(v.failed_at),
                    failure.map(|f| f.code.to_string()).unwrap_or_default(),
                    failure.map(|f| f.title.to_string()).unwrap_or_default(),
                    opt_iso(attributed.get(v.message.wamid.as_str()).copied()),
                ]
            })
            .collect()
    }
}

/// A day is a spike when its traffic exceeds the mean + 3σ (population) of the 7 calendar days
/// before it (missing days count 0). Exact in integers:
/// x > S/7 + 3·√(7Q − S²)/7  ⇔  7x − S > 0 ∧ (7x − S)² > 9·(7Q − S²).
fn is_spike(daily: &BTreeMap<NaiveDate, i64>, day: NaiveDate, count: i64) -> bool {
    let Some(first) = daily.keys().next() else {
        return false;
    };
    if day
        .checked_sub_days(Days::new(7))
        .is_none_or(|start| start < *first)
    {
        return false;
    }
    let (mut sum, mut squares) = (0i128, 0i128);
    for back in 1..=7u64 {
        let n = day
            .checked_sub_days(Days::new(back))
            .and_then(|d| daily.get(&d))
            .copied()
            .unwrap_or(0);
        sum += i128::from(n);
        squares += i128::from(n) * i128::from(n);
    }
    let lead = 7 * i128::from(count) - sum;
    lead > 0 && lead * lead > 9 * (7 * squares - sum * sum)
}

/// responses, mean_s, median_s, p90_s, max_s, over_sla, outliers.
fn response_stats(mut samples: Vec<i64>) -> Vec<String> {
    samples.sort_unstable();
    let n = samples.len();
    if n == 0 {
        return Vec::new();
    }
    let sum: i64 = samples.iter().sum();
    let mean = decimals(i128::from(sum), n as i128, 1);
    let median = decimals(i128::from(median_x2(&samples)), 2, 1);
    let p90 = samples[(9 * n).div_ceil(10).max(1) - 1];
    let max = samples[n - 1];
    let over = samples.iter().filter(|&&s| s > SLA_SECONDS).count();
    let outliers = if n < 2 {
        0
    } else {
        let q1x2 = median_x2(&samples[..n / 2]);
        let q3x2 = median_x2(&samples[n.div_ceil(2)..]);
        // v > Q3 + 1.5·IQR  ⇔  4v > 2·(2Q3) + 3·(2Q3 − 2Q1)
        samples
            .iter()
            .filter(|&&v| 4 * v > 2 * q3x2 + 3 * (q3x2 - q1x2))
            .count()
    };
    vec![
        n.to_string(),
        mean,
        median,
        p90.to_string(),
        max.to_string(),
        over.to_string(),
        outliers.to_string(),
    ]
}

/// Twice the median of a sorted non-empty slice (exact in integers).
fn median_x2(sorted: &[i64]) -> i64 {
    let n = sorted.len();
    if n == 0 {
        0
    } else if !n.is_multiple_of(2) {
        2 * sorted[n / 2]
    } else {
        sorted[n / 2 - 1] + sorted[n / 2]
    }
}

impl Week {
    /// The expected CSV rows of report `kind` for `from..=to` (local days in `tz`) grouped by
    /// `group_by` (`day`, `week`, `month`, `none`): the header (issue 11's columns, in order,
    /// nothing more), then the rows sorted by their cells in string order. Formula-like cells
    /// carry a leading `'`. Empty (not even a header) for an unknown kind or grouping.
    ///
    /// `reconciliation`'s `phone_number_id` is the WABA's number when it has one, else `*`
    /// (the default spec has two numbers, so `*`): webhook counts summed over the numbers, the
    /// Meta and difference columns empty (no Meta data in this test). `templates` has only the
    /// webhook-side columns filled. `campaigns` and `messages` ignore `group_by`.
    pub fn expected(
        &self,
        kind: &str,
        tz: Tz,
        group_by: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Vec<Vec<String>> {
        let (Some(grouping), Some(header)) = (Grouping::parse(group_by), header(kind)) else {
            return Vec::new();
        };
        let truth = Truth::new(&self.facts, tz, grouping, from, to);
        let mut rows = match kind {
            "conversations" => truth.conversations(),
            "templates" => truth.templates(),
            "response_times" => truth.response_times(),
            "volume" => truth.volume(),
            "failures" => truth.failures(),
            "consent" => truth.consent(),
            "campaigns" => truth.campaigns(),
            "reconciliation" => truth.reconciliation(),
            "messages" => truth.messages(),
            _ => return Vec::new(),
        };
        for row in &mut rows {
            for cell in row.iter_mut() {
                *cell = csv_safe(cell);
            }
        }
        rows.sort();
        let mut out = vec![header.iter().map(|c| c.to_string()).collect()];
        out.extend(rows);
        out
    }

    pub fn stats(&self) -> WeekStats {
        let f = &self.facts;
        let leads: BTreeSet<usize> = f.inbound.iter().map(|m| m.person).collect();
        let distinct: BTreeSet<&Vec<u8>> = self.bodies.iter().collect();
        WeekStats {
            people: f.people.len(),
            leads: leads.len(),
            outbound: f.outbound.len(),
            inbound: f.inbound.len(),
            statuses: f.outbound.iter().map(|m| m.statuses.len()).sum(),
            user_preferences: f.preferences.len(),
            consent_calls: f.consents.len(),
            conversions: f.conversions.len(),
            bodies: self.bodies.len(),
            distinct_bodies: distinct.len(),
        }
    }

    /// Earliest and latest timestamp of any event or API call (0, 0 when empty).
    pub fn span(&self) -> (i64, i64) {
        let f = &self.facts;
        let times: Vec<i64> = f
            .outbound
            .iter()
            .flat_map(|m| m.statuses.iter().map(|s| s.at))
            .chain(f.inbound.iter().map(|m| m.at))
            .chain(f.preferences.iter().map(|p| p.at))
            .chain(f.consents.iter().map(|c| c.at))
            .chain(f.conversions.iter().map(|c| c.at))
            .collect();
        (
            times.iter().copied().min().unwrap_or(0),
            times.iter().copied().max().unwrap_or(0),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    const KATHMANDU: Tz = chrono_tz::Asia::Kathmandu;
    const NEW_YORK: Tz = chrono_tz::America::New_York;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    /// The week's local days in any zone, with a margin for late reads.
    fn whole(week: &Week) -> (NaiveDate, NaiveDate) {
        let (lo, hi) = week.span();
        (
            local_day(lo, chrono_tz::UTC) - Days::new(1),
            local_day(hi, chrono_tz::UTC) + Days::new(1),
        )
    }

    fn parse(body: &[u8]) -> Value {
        serde_json::from_slice(body).expect("every body is JSON")
    }

    /// Every logical update in a body: ("status", wamid|status|ts), ("inbound", wamid),
    /// ("preference", wa_id|value|ts).
    fn updates_in(body: &Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        assert_eq!(body["object"], "whatsapp_business_account");
        for entry in body["entry"].as_array().expect("entry") {
            assert!(entry["id"].is_string());
            for change in entry["changes"].as_array().expect("changes") {
                let value = &change["value"];
                assert!(value["metadata"]["phone_number_id"].is_string());
                assert!(value["metadata"]["display_phone_number"].is_string());
                for s in value["statuses"].as_array().into_iter().flatten() {
                    out.push((
                        "status".to_string(),
                        format!("{}|{}|{}", s["id"], s["status"], s["timestamp"]),
                    ));
                }
                for m in value["messages"].as_array().into_iter().flatten() {
                    assert_eq!(value["contacts"].as_array().map(Vec::len), Some(1));
                    out.push(("inbound".to_string(), m["id"].to_string()));
                }
                for p in value["user_preferences"].as_array().into_iter().flatten() {
                    out.push((
                        "preference".to_string(),
                        format!("{}|{}|{}", p["wa_id"], p["value"], p["timestamp"]),
                    ));
                }
            }
        }
        out
    }

    fn expected_updates(facts: &Facts) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for m in &facts.outbound {
            for s in &m.statuses {
                out.insert((
                    "status".to_string(),
                    format!("\"{}\"|\"{}\"|\"{}\"", m.wamid, s.kind.as_str(), s.at),
                ));
            }
        }
        for m in &facts.inbound {
            out.insert(("inbound".to_string(), format!("\"{}\"", m.wamid)));
        }
        for p in &facts.preferences {
            let phone = facts.people[p.person].phone.clone().unwrap_or_default();
            let value = if p.stop { "stop" } else { "resume" };
            out.insert((
                "preference".to_string(),
                format!("\"{phone}\"|\"{value}\"|{}", p.at),
            ));
        }
        out
    }

    #[test]
    fn week_is_deterministic_for_a_seed() {
        let spec = WeekSpec::default();
        let a = generate_week(&spec);
        let b = generate_week(&spec);
        assert_eq!(a, b);
        let c = generate_week(&WeekSpec {
            seed: spec.seed + 1,
            ..spec.clone()
        });
        assert_ne!(a.bodies, c.bodies);
    }

    #[test]
    fn week_has_the_intended_size() {
        let week = generate_week(&WeekSpec::default());
        let stats = week.stats();
        println!("{stats:?}");
        assert!((150..=250).contains(&stats.outbound), "{stats:?}");
        assert!((100..=150).contains(&stats.inbound), "{stats:?}");
        assert!(stats.bodies > stats.distinct_bodies);
        for seed in 0..40 {
            let stats = generate_week(&WeekSpec {
                seed,
                ..WeekSpec::default()
            })
            .stats();
            assert!((150..=260).contains(&stats.outbound), "{seed} {stats:?}");
            assert!((90..=160).contains(&stats.inbound), "{seed} {stats:?}");
        }
    }

    #[test]
    fn week_delivers_every_update_one_to_three_times_shuffled() {
        let week = generate_week(&WeekSpec::default());
        let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut first_at: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut batched = 0;
        for (i, body) in week.bodies.iter().enumerate() {
            let updates = updates_in(&parse(body));
            assert!(!updates.is_empty());
            batched += usize::from(updates.len() > 1);
            for u in updates {
                first_at.entry(u.clone()).or_insert(i);
                *seen.entry(u).or_default() += 1;
            }
        }
        assert!(batched > 0, "some bodies batch several updates");
        let expected = expected_updates(&week.facts);
        assert_eq!(seen.keys().cloned().collect::<BTreeSet<_>>(), expected);
        assert!(seen.values().all(|&n| (1..=3).contains(&n)));
        assert!(seen.values().any(|&n| n > 1));

        // Out of order: some message's read arrives before its sent.
        let position = |wamid: &str, kind: &str| {
            first_at
                .iter()
                .find(|((k, v), _)| {
                    k == "status" && v.starts_with(&format!("\"{wamid}\"|\"{kind}\""))
                })
                .map(|(_, &i)| i)
        };
        let reordered = week.facts.outbound.iter().any(|m| {
            matches!(
                (position(&m.wamid, "read"), position(&m.wamid, "sent")),
                (Some(r), Some(s)) if r < s
            )
        });
        assert!(reordered, "a read arrives before its sent");
    }

    #[test]
    fn week_json_shapes_follow_meta() {
        let week = generate_week(&WeekSpec::default());
        let (mut bsuid_inbound, mut bsuid_status, mut referral, mut cbp, mut pmp) = (0, 0, 0, 0, 0);
        let (mut both_inbound, mut both_status) = (0, 0);
        let mut linked_phones = BTreeSet::new();
        for body in &week.bodies {
            let body = parse(body);
            for change in body["entry"][0]["changes"].as_array().expect("changes") {
                let value = &change["value"];
                for m in value["messages"].as_array().into_iter().flatten() {
                    if m["from"] == "" {
                        bsuid_inbound += 1;
                        assert!(m["from_user_id"].is_string());
                        assert_eq!(value["contacts"][0]["wa_id"], "");
                        assert_eq!(value["contacts"][0]["user_id"], m["from_user_id"]);
                    } else if let Some(user_id) = m.get("from_user_id") {
                        // A person moving to business-scoped ids: both, in message and contact.
                        both_inbound += 1;
                        linked_phones.insert(m["from"].as_str().unwrap_or_default().to_string());
                        assert_eq!(&value["contacts"][0]["user_id"], user_id);
                        assert_eq!(value["contacts"][0]["wa_id"], m["from"]);
                    }
                    if let Some(r) = m.get("referral") {
                        referral += 1;
                        assert!(r["source_url"].is_string() && r["source_id"].is_string());
                    }
                }
                for s in value["statuses"].as_array().into_iter().flatten() {
                    if s["recipient_id"] == "" {
                        bsuid_status += 1;
                        assert!(s["recipient_user_id"].is_string());
                    } else if s.get("recipient_user_id").is_some() {
                        both_status += 1;
                        linked_phones
                            .insert(s["recipient_id"].as_str().unwrap_or_default().to_string());
                    }
                    if let Some(p) = s.get("pricing") {
                        assert_ne!(s["status"], "failed");
                        match p["pricing_model"].as_str() {
                            Some("PMP") => {
                                pmp += 1;
                                assert!(p["type"].is_string());
                            }
                            Some("CBP") => {
                                cbp += 1;
                                assert!(p.get("type").is_none() && p["billable"].is_boolean());
                            }
                            other => panic!("pricing model {other:?}"),
                        }
                    }
                    if s["status"] == "failed" {
                        assert!(s["errors"][0]["code"].is_i64());
                        assert!(s["errors"][0]["title"].is_string());
                    }
                }
            }
        }
        assert!(bsuid_inbound > 0 && bsuid_status > 0 && referral > 0 && cbp > 0 && pmp > 0);
        assert!(
            both_inbound + both_status > 0,
            "some items carry phone and BSUID"
        );
        // Every person moving to business-scoped ids has at least one item carrying both ids
        // (what links them), and no one else has.
        let movers: BTreeSet<String> = week
            .facts
            .people
            .iter()
            .filter(|p| p.migration.is_some())
            .filter_map(|p| p.phone.clone())
            .collect();
        assert!(!movers.is_empty());
        assert_eq!(linked_phones, movers);
    }

    #[test]
    fn week_api_calls_match_the_openapi_bodies() {
        let week = generate_week(&WeekSpec::default());
        let leads: BTreeSet<&str> = week
            .facts
            .inbound
            .iter()
            .map(|m| week.facts.people[m.person].key.as_str())
            .collect();
        let mut seen_conversion = false;
        for call in &week.api_calls {
            let body = call.body();
            let keys: BTreeSet<&str> = body
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            match call {
                ApiCall::Conversion(c) => {
                    seen_conversion = true;
                    assert!(leads.contains(c.lead_id.as_str()), "lead exists");
                    assert_eq!(call.path(), format!("/v1/leads/{}/conversions", c.lead_id));
                    assert_eq!(
                        keys,
                        BTreeSet::from(["type", "value", "currency", "at", "idempotency_key"])
                    );
                    assert!(body["value"].is_number());
                    let text = body["value"].to_string();
                    assert_eq!(text, c.value, "JSON number prints as the decimal string");
                    assert!(text.split('.').nth(1).is_none_or(|d| d.len() <= 2));
                    assert!(CONVERSION_KINDS.contains(&c.kind.as_str()));
                    assert_eq!(call.idempotency_key(), Some(c.idempotency_key.as_str()));
                    assert!(body["at"].as_str().expect("at").ends_with('Z'));
                }
                ApiCall::Consent(c) => {
                    assert!(!seen_conversion, "consent calls come first");
                    assert_eq!(call.path(), "/v1/consent");
                    let mut want = BTreeSet::from([
                        "user",
                        "phone_number_id",
                        "action",
                        "categories",
                        "source",
                        "at",
                    ]);
                    if c.action == "opt_in" {
                        want.insert("proof");
                    }
                    assert_eq!(keys, want);
                    assert!(week.facts.phone_number_ids.contains(&c.phone_number_id));
                }
            }
        }
        assert!(seen_conversion);
        let keys: BTreeSet<&str> = week
            .api_calls
            .iter()
            .filter_map(ApiCall::idempotency_key)
            .collect();
        assert_eq!(keys.len(), week.facts.conversions.len());
    }

    #[test]
    fn week_exercises_every_case() {
        // The default seed and a few others (checked for seeds 0..=80 while writing this).
        for seed in [WeekSpec::default().seed, 1, 2, 3, 11, 15, 23, 29, 30, 44] {
            exercises_every_case(seed);
        }
    }

    fn exercises_every_case(seed: u64) {
        let week = generate_week(&WeekSpec {
            seed,
            ..WeekSpec::default()
        });
        let f = &week.facts;
        let views: Vec<View<'_>> = f.outbound.iter().filter_map(|m| view(f, m)).collect();
        assert_eq!(views.len(), f.outbound.len());
        let count = |keep: &dyn Fn(&View<'_>) -> bool| views.iter().filter(|v| keep(v)).count();
        let kinds = |v: &View<'_>| {
            v.message
                .statuses
                .iter()
                .map(|s| s.kind.as_str())
                .collect::<Vec<_>>()
                .join(",")
        };
        assert!(
            count(&|v| kinds(v) == "sent,read") > 0,
            "read without delivered"
        );
        assert!(count(&|v| kinds(v) == "failed") > 0, "failed without sent");
        assert!(count(&|v| kinds(v) == "sent,failed") > 0);
        assert!(count(&|v| kinds(v) == "sent,delivered,failed") > 0);
        assert!(count(&|v| v.sent_at.is_none() && !v.failed) > 0, "no sent");
        assert!(
            count(&|v| v.read_at.is_some_and(|r| r - v.anchor >= DAY)) > 0,
            "late reads"
        );
        for code in [131049, 131026, 131050] {
            assert!(count(&|v| v.failed && v.message.failure.is_some_and(|e| e.code == code)) > 0);
        }
        assert!(
            count(&|v| v.failed && v.carried.is_some()) > 0,
            "failed with pricing"
        );
        for kind in ["regular", "free_customer_service", "free_entry_point"] {
            assert!(count(&|v| v.pricing().is_some_and(|p| p.pricing_type() == kind)) > 0);
        }
        for category in ["marketing", "utility", "service", "authentication"] {
            assert!(count(&|v| v.pricing().is_some_and(|p| p.category() == category)) > 0);
        }
        assert!(count(&|v| matches!(v.pricing(), Some(Pricing::Cbp { billable: true, .. }))) > 0);
        assert!(
            count(&|v| matches!(
                v.pricing(),
                Some(Pricing::Cbp {
                    billable: false,
                    ..
                })
            )) > 0
        );
        assert!(count(&|v| !v.failed && v.carried.is_none()) > 0, "unpriced");
        assert!(
            count(&|v| v
                .message
                .statuses
                .iter()
                .all(|s| s.kind != Sent || !s.priced)
                && v.carried.is_some())
                > 0,
            "pricing only on a follow-up"
        );
        assert!(count(&|v| v.message.tag.raw.as_deref() == Some("%%%")) == 1);
        assert!(count(&|v| v.message.tag.raw.is_none()) > 0, "untagged");
        assert!(
            count(&|v| v
                .message
                .tag
                .raw
                .as_deref()
                .is_some_and(|r| r.starts_with('{')))
                > 0
        );
        assert!(count(&|v| v.message.tag.bot) > 0 && count(&|v| !v.message.tag.bot) > 0);
        let pns: BTreeSet<usize> = views.iter().map(|v| v.person.pn).collect();
        assert_eq!(pns.len(), 2);
        assert!(views.iter().any(|v| v.person.user_id.is_some()));
        assert!(views.iter().any(|v| v.person.phone.is_some()));

        // Inbound side.
        assert!(f.inbound.iter().any(|m| m.keyword == Some(Keyword::Stop)));
        assert!(f.inbound.iter().any(|m| m.keyword == Some(Keyword::Start)));
        assert!(
            f.inbound
                .iter()
                .any(|m| m.text == NOT_A_STOP && m.keyword.is_none())
        );
        assert!(f.preferences.iter().any(|p| p.stop));
        assert!(f.preferences.iter().any(|p| !p.stop));
        assert!(
            f.inbound
                .iter()
                .any(|m| m.referral.is_some() && m.ctwa_clid.is_some())
        );
        assert!(
            f.inbound
                .iter()
                .any(|m| f.people[m.person].user_id.is_some())
        );
        assert!(
            f.consents
                .iter()
                .any(|c| c.opt_in && c.source == "web_form")
        );
        assert!(f.consents.iter().any(|c| c.opt_in && c.source == "qr"));
        assert!(f.consents.iter().any(|c| !c.opt_in));

        // Replies within and beyond 72 h of a delivered message.
        let truth = Truth::new(
            f,
            chrono_tz::UTC,
            Grouping::None,
            date("2000-01-01"),
            date("2100-01-01"),
        );
        assert!(views.iter().any(|v| truth.replied(v)));
        let late_reply = views.iter().any(|v| {
            v.delivered
                && truth
                    .inbound_of(&v.person.key)
                    .iter()
                    .any(|&at| at > v.anchor + REPLY_WINDOW)
                && !truth.replied(v)
        });
        assert!(late_reply, "a reply beyond 72 h");
        // An inbound message never answered: no outbound at or after it.
        let unanswered = f.inbound.iter().any(|m| {
            !views
                .iter()
                .any(|v| v.person.key == f.people[m.person].key && v.anchor >= m.at)
        });
        assert!(unanswered);
        let samples = truth.response_samples();
        assert!(samples.iter().any(|s| s.2 == "bot"));
        assert!(samples.iter().any(|s| s.2 == "human" && s.1 > SLA_SECONDS));
        assert!(samples.iter().any(|s| s.1 == 0), "a same-second answer");
    }

    #[test]
    fn week_truth_covers_every_kind_in_utc_and_kathmandu() {
        let week = generate_week(&WeekSpec::default());
        let (from, to) = whole(&week);
        for tz in [chrono_tz::UTC, KATHMANDU, NEW_YORK] {
            for kind in KINDS {
                for group_by in ["day", "week", "month", "none"] {
                    let rows = week.expected(kind, tz, group_by, from, to);
                    assert!(rows.len() > 1, "{kind} {tz} {group_by}");
                    let head = header(kind).expect("known kind");
                    assert_eq!(rows[0], row(head));
                    assert!(rows[1..].iter().all(|r| r.len() == head.len()));
                    let mut sorted = rows[1..].to_vec();
                    sorted.sort();
                    assert_eq!(sorted, rows[1..].to_vec());
                }
            }
        }
        assert!(
            week.expected("spend", chrono_tz::UTC, "day", from, to)
                .is_empty()
        );
        assert!(
            week.expected("volume", chrono_tz::UTC, "hour", from, to)
                .is_empty()
        );

        let utc = |kind: &str| week.expected(kind, chrono_tz::UTC, "none", from, to);
        let responders: BTreeSet<String> = utc("response_times")[1..]
            .iter()
            .map(|r| r[1].clone())
            .collect();
        assert_eq!(
            responders,
            BTreeSet::from(["any", "bot", "human"].map(String::from))
        );
        assert!(
            utc("response_times")[1..].iter().any(|r| r[8] != "0"),
            "outliers"
        );
        let campaigns = utc("campaigns");
        assert!(campaigns.iter().any(|r| r[2] == "'=spring"));
        assert!(campaigns.iter().any(|r| r[8] == "mixed" && r[7].is_empty()));
        assert!(campaigns.iter().any(|r| r[2].is_empty()), "organic leads");
        assert!(utc("failures").iter().any(|r| r[1] == "131049"));
        let consent = utc("consent");
        for (action, source) in [
            ("opt_out", "keyword"),
            ("resume", "keyword"),
            ("opt_out", "user_preferences"),
            ("resume", "user_preferences"),
            ("opt_in", "api"),
            ("opt_out", "api"),
        ] {
            assert!(
                consent.iter().any(|r| r[1] == action && r[2] == source),
                "{action} {source}"
            );
        }
        assert!(
            utc("messages")[1..].iter().any(|r| !r[16].is_empty()),
            "opted_out_at"
        );
        assert_eq!(utc("reconciliation")[1][1], "*");
        for tz in [chrono_tz::UTC, KATHMANDU, NEW_YORK] {
            // Within the first 7 days nothing has a trailing window: no spikes; every day
            // has a row.
            let volume = week.expected("volume", tz, "day", from, to);
            let spikes = volume[1..].iter().filter(|r| r[5] == "1").count();
            assert_eq!(
                volume.len() - 1,
                (to - from).num_days() as usize + 1,
                "{tz}"
            );
            assert!(volume[1..].iter().any(|r| r[5] == "0"));
            let weekly = week.expected("volume", tz, "none", from, to);
            assert_eq!(weekly[1][5], spikes.to_string());
        }

        // Totals agree across zones and groupings.
        let total = |tz: Tz, group_by: &str| -> usize {
            week.expected("conversations", tz, group_by, from, to)[1..]
                .iter()
                .map(|r| r[4].parse::<usize>().expect("sent"))
                .sum()
        };
        for tz in [chrono_tz::UTC, KATHMANDU, NEW_YORK] {
            for group_by in ["day", "week", "month", "none"] {
                assert_eq!(total(tz, group_by), week.facts.outbound.len());
            }
        }
        assert_eq!(utc("messages").len() - 1, week.facts.outbound.len());
    }

    #[test]
    fn week_local_days_differ_between_zones() {
        let week = generate_week(&WeekSpec::default());
        let anchors: Vec<i64> = week
            .facts
            .outbound
            .iter()
            .filter_map(|m| view(&week.facts, m))
            .map(|v| v.anchor)
            .collect();
        for tz in [KATHMANDU, NEW_YORK] {
            assert!(
                anchors
                    .iter()
                    .any(|&t| local_day(t, tz) != local_day(t, chrono_tz::UTC)),
                "{tz}"
            );
        }
        // Both sides of New York's DST change (2026-11-01 06:00Z) carry traffic.
        let change = 1_793_512_800;
        assert!(
            anchors
                .iter()
                .any(|&t| t < change && local_day(t, NEW_YORK) == date("2026-11-01"))
        );
        assert!(
            anchors
                .iter()
                .any(|&t| t >= change && local_day(t, NEW_YORK) == date("2026-11-01"))
        );
        // The same report differs by zone.
        let (from, to) = whole(&week);
        let day = |tz: Tz| week.expected("volume", tz, "day", from, to);
        assert_ne!(day(chrono_tz::UTC), day(KATHMANDU));
        assert_ne!(day(chrono_tz::UTC), day(NEW_YORK));
    }

    #[test]
    fn week_handles_tiny_and_empty_specs() {
        for (people, days) in [(0, 7), (1, 7), (3, 7), (5, 7), (40, 1), (40, 2), (12, 0)] {
            let week = generate_week(&WeekSpec {
                people,
                days,
                ..WeekSpec::default()
            });
            let (from, to) = (date("2026-10-20"), date("2026-11-10"));
            for kind in KINDS {
                let rows = week.expected(kind, KATHMANDU, "day", from, to);
                assert_eq!(rows[0], row(header(kind).expect("kind")));
            }
            for body in &week.bodies {
                updates_in(&parse(body));
            }
        }
        let single = generate_week(&WeekSpec {
            phone_number_ids: vec!["106540352242922".to_string()],
            ..WeekSpec::default()
        });
        let rows = single.expected(
            "reconciliation",
            chrono_tz::UTC,
            "none",
            date("2026-10-01"),
            date("2026-11-30"),
        );
        assert_eq!(rows[1][1], "106540352242922");
    }

    // -----------------------------------------------------------------------------------------
    // Hand-checked truth on a hand-built week
    // -----------------------------------------------------------------------------------------

    const T: i64 = 1_792_972_800; // 2026-10-26T00:00:00Z
    const T0: i64 = T + 10 * HOUR;

    fn status(kind: StatusKind, at: i64, priced: bool) -> StatusFact {
        StatusFact { kind, at, priced }
    }

    fn out(
        wamid: &str,
        person: usize,
        tag: Tag,
        pricing: Option<Pricing>,
        statuses: Vec<StatusFact>,
        failure: Option<FailureFact>,
    ) -> Outbound {
        Outbound {
            wamid: wamid.to_string(),
            person,
            tag,
            pricing,
            conversation_id: "c".to_string(),
            statuses,
            failure,
        }
    }

    fn inbound(wamid: &str, person: usize, at: i64, keyword: Option<Keyword>) -> Inbound {
        Inbound {
            wamid: wamid.to_string(),
            person,
            at,
            text: "hi".to_string(),
            keyword,
            referral: (wamid == "in1").then_some(0),
            ctwa_clid: None,
        }
    }

    fn hand_week() -> Week {
        let fep = Some(Pricing::Pmp {
            category: "service",
            kind: "free_entry_point",
        });
        let facts = Facts {
            phone_number_ids: vec!["PN1".to_string()],
            people: vec![
                Person {
                    key: "111".to_string(),
                    phone: Some("111".to_string()),
                    user_id: None,
                    migration: None,
                    name: "A",
                    pn: 0,
                },
                Person {
                    key: "US.222".to_string(),
                    phone: None,
                    user_id: Some("US.222".to_string()),
                    migration: None,
                    name: "B",
                    pn: 0,
                },
            ],
            outbound: vec![
                out(
                    "m1",
                    0,
                    Tag::pairs(Some("welcome_bot"), None, true, None),
                    fep,
                    vec![
                        status(Sent, T0 + 5, true),
                        status(Delivered, T0 + 10, false),
                        status(Read, T0 + 100, false),
                    ],
                    None,
                ),
                out(
                    "m2",
                    0,
                    Tag::pairs(None, None, false, Some("a1")),
                    fep,
                    vec![
                        status(Sent, T0 + 1000, false),
                        status(Read, T0 + 1100, true),
                    ],
                    None,
                ),
                out(
                    "m3",
                    0,
                    Tag::raw_only("%%%"),
                    Some(Pricing::Pmp {
                        category: "marketing",
                        kind: "regular",
                    }),
                    vec![
                        status(Sent, T0 + 2000, true),
                        status(Failed, T0 + 2100, false),
                    ],
                    Some(F131049),
                ),
                out(
                    "m4",
                    0,
                    Tag::default(),
                    Some(Pricing::Cbp {
                        category: "marketing",
                        billable: true,
                    }),
                    vec![
                        status(Sent, T0 + 3000, true),
                        status(Delivered, T0 + 3010, true),
                    ],
                    None,
                ),
                out(
                    "m5",
                    1,
                    Tag::pairs(Some("nov_promo"), Some("nov_sale"), true, None),
                    None,
                    // 2026-10-27T18:20Z = 2026-10-28 00:05 in Kathmandu.
                    vec![status(Failed, T + DAY + 18 * HOUR + 20 * MINUTE, false)],
                    Some(F131026),
                ),
            ],
            inbound: vec![
                inbound("in1", 0, T0, None),
                inbound("in2", 0, T0 + 2000, None),
                inbound("in3", 1, T + DAY + 19 * HOUR, None),
                inbound("in4", 1, T + DAY + 20 * HOUR, Some(Keyword::Stop)),
            ],
            preferences: Vec::new(),
            consents: vec![ApiConsent {
                person: 0,
                opt_in: true,
                categories: vec!["marketing", "utility"],
                source: "web_form",
                proof: Some("form".to_string()),
                // 2026-10-25 22:00 in New York (a Sunday: week of 2026-10-19).
                at: T + 2 * HOUR,
            }],
            conversions: vec![
                Conversion {
                    person: 0,
                    key: "111".to_string(),
                    kind: "purchase",
                    cents: 1999,
                    currency: "USD",
                    at: T0 + 5000,
                },
                Conversion {
                    person: 0,
                    key: "111".to_string(),
                    kind: "booking",
                    cents: 15_000_000,
                    currency: "IDR",
                    at: T0 + 6000,
                },
            ],
        };
        Week {
            bodies: Vec::new(),
            api_calls: api_calls(&facts),
            facts,
        }
    }

    #[test]
    fn week_hand_checked_truth() {
        let week = hand_week();
        let (from, to) = (date("2026-10-26"), date("2026-10-27"));
        let utc = |kind: &str, group_by: &str| {
            week.expected(kind, chrono_tz::UTC, group_by, from, to)[1..].to_vec()
        };
        assert_eq!(
            utc("conversations", "day"),
            vec![
                row(&[
                    "2026-10-26",
                    "PN1",
                    "",
                    "",
                    "1",
                    "0",
                    "0",
                    "1",
                    "0",
                    "0",
                    "0.0000",
                    ""
                ]),
                row(&[
                    "2026-10-26",
                    "PN1",
                    "marketing",
                    "",
                    "1",
                    "1",
                    "0",
                    "0",
                    "1",
                    "0",
                    "1.0000",
                    "0.0000"
                ]),
                row(&[
                    "2026-10-26",
                    "PN1",
                    "service",
                    "free_entry_point",
                    "2",
                    "2",
                    "2",
                    "0",
                    "0",
                    "2",
                    "1.0000",
                    "1.0000"
                ]),
                row(&[
                    "2026-10-27",
                    "PN1",
                    "",
                    "",
                    "1",
                    "0",
                    "0",
                    "1",
                    "0",
                    "0",
                    "0.0000",
                    ""
                ]),
            ]
        );
        assert_eq!(
            utc("templates", "day"),
            vec![
                row(&[
                    "2026-10-26",
                    "welcome_bot",
                    "1",
                    "1",
                    "1",
                    "0",
                    "1",
                    "1.0000",
                    "1.0000",
                    "1.0000",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    ""
                ]),
                row(&[
                    "2026-10-27",
                    "nov_promo",
                    "1",
                    "0",
                    "0",
                    "1",
                    "0",
                    "0.0000",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    ""
                ]),
            ]
        );
        // any: 5 s (bot) and 1000 s (m4; m3 failed, never answers); human: 1000 s and 1000 s.
        assert_eq!(
            utc("response_times", "day"),
            vec![
                row(&[
                    "2026-10-26",
                    "any",
                    "2",
                    "502.5",
                    "502.5",
                    "1000",
                    "1000",
                    "1",
                    "0"
                ]),
                row(&["2026-10-26", "bot", "1", "5.0", "5.0", "5", "5", "0", "0"]),
                row(&[
                    "2026-10-26",
                    "human",
                    "2",
                    "1000.0",
                    "1000.0",
                    "1000",
                    "1000",
                    "2",
                    "0"
                ]),
            ]
        );
        assert_eq!(
            utc("volume", "day"),
            vec![
                row(&["2026-10-26", "2", "4", "1", "2", "0"]),
                row(&["2026-10-27", "2", "1", "1", "0", "0"]),
            ]
        );
        assert_eq!(
            utc("volume", "week"),
            vec![row(&["2026-10-26", "4", "5", "2", "2", "0"])]
        );
        assert_eq!(
            utc("failures", "day"),
            vec![
                row(&["2026-10-26", "131049", F131049.title, "marketing", "1"]),
                row(&["2026-10-27", "131026", "Message undeliverable", "", "1"]),
            ]
        );
        assert_eq!(
            utc("consent", "day"),
            vec![
                row(&["2026-10-26", "opt_in", "api", "marketing", "1", "1"]),
                row(&["2026-10-26", "opt_in", "api", "utility", "1", "1"]),
                row(&["2026-10-27", "opt_out", "keyword", "marketing", "1", "1"]),
                row(&["2026-10-27", "opt_out", "keyword", "utility", "1", "1"]),
            ]
        );
        assert_eq!(
            utc("campaigns", "none"),
            vec![
                row(&["", "", "", "1", "0", "0", "0.0000", "", ""]),
                row(&[
                    "facebook", "cpc", "nov_sale", "1", "1", "2", "1.0000", "", "mixed"
                ]),
            ]
        );
        assert_eq!(
            utc("reconciliation", "month"),
            vec![row(&[
                "2026-10", "PN1", "5", "", "", "3", "", "", "1", "", ""
            ])]
        );
        let messages = utc("messages", "day");
        assert_eq!(
            messages[2],
            row(&[
                "m3",
                "111",
                "PN1",
                "",
                "",
                "human",
                "",
                "",
                "",
                "failed",
                "2026-10-26T10:33:20Z",
                "",
                "",
                "2026-10-26T10:35:00Z",
                "131049",
                F131049.title,
                "",
            ])
        );
        assert_eq!(
            messages[1],
            row(&[
                "m2",
                "111",
                "PN1",
                "",
                "",
                "human",
                "service",
                "free_entry_point",
                "false",
                "read",
                "2026-10-26T10:16:40Z",
                "",
                "2026-10-26T10:18:20Z",
                "",
                "",
                "",
                "",
            ])
        );
        assert_eq!(
            messages[4],
            row(&[
                "m5",
                "US.222",
                "PN1",
                "nov_promo",
                "nov_sale",
                "bot",
                "",
                "",
                "",
                "failed",
                "",
                "",
                "",
                "2026-10-27T18:20:00Z",
                "131026",
                "Message undeliverable",
                "2026-10-27T20:00:00Z",
            ])
        );
        assert_eq!(messages[3][8], "true");

        // Kathmandu: m5 (18:20Z) is on the 28th, outside the range; New York: the opt-in at
        // 02:00Z is Sunday the 25th, in the week of the 19th.
        let ktm = week.expected("failures", KATHMANDU, "day", from, to);
        assert_eq!(ktm.len(), 2);
        let ny = week.expected("consent", NEW_YORK, "week", date("2026-10-25"), to);
        assert_eq!(
            ny[1],
            row(&["2026-10-19", "opt_in", "api", "marketing", "1", "1"])
        );

        // Conversions render as the API expects.
        let ApiCall::Conversion(c) = &week.api_calls[1] else {
            panic!("conversion")
        };
        assert_eq!(c.value, "19.99");
        assert_eq!(week.api_calls[1].body()["value"], json!(19.99));
        assert_eq!(week.api_calls[2].body()["value"], json!(150000));
        assert_eq!(week.api_calls[2].body()["at"], "2026-10-26T11:40:00Z");
    }

    #[test]
    fn week_statistics_follow_the_definitions() {
        // Odd n: halves exclude the middle. [1,2,3,4,100]: Q1 = 1.5, Q3 = 52 → no outlier.
        assert_eq!(
            response_stats(vec![100, 3, 1, 2, 4]),
            row(&["5", "22.0", "3.0", "100", "100", "0", "0"])
        );
        // [10,10,10,10,10,10,10,10,10,5000]: Q1 = Q3 = 10 → 5000 is an outlier; p90 = 9th.
        let mut samples = vec![10; 9];
        samples.push(5000);
        assert_eq!(
            response_stats(samples),
            row(&["10", "509.0", "10.0", "10", "5000", "1", "1"])
        );
        assert_eq!(
            response_stats(vec![7]),
            row(&["1", "7.0", "7.0", "7", "7", "0", "0"])
        );
        assert_eq!(money(15_000_000), "150000");
        assert_eq!(money(1990), "19.9");
        assert_eq!(money(1905), "19.05");
        assert_eq!(rate(5, 6), "0.8333");
        assert_eq!(rate(1, 0), "");
        assert_eq!(csv_safe("=spring"), "'=spring");
        assert_eq!(csv_safe("-1"), "'-1");
        assert_eq!(Grouping::Week.label(date("2026-11-01")), "2026-10-26");
        let mut daily = BTreeMap::new();
        for (d, n) in [
            ("2026-10-16", 1),
            ("2026-10-20", 10),
            ("2026-10-21", 10),
            ("2026-10-22", 10),
        ] {
            daily.insert(date(d), n);
        }
        // Window 10-16..10-22: mean 31/7, σ = √(7·301 − 961)/7 ≈ 4.84: threshold ≈ 18.96.
        assert!(!is_spike(&daily, date("2026-10-23"), 18));
        assert!(is_spike(&daily, date("2026-10-23"), 19));
        // A day whose window starts before the first day with traffic is never judged.
        assert!(!is_spike(&daily, date("2026-10-22"), 1_000));
        assert!(!is_spike(&BTreeMap::new(), date("2026-10-23"), 1));
    }
}
