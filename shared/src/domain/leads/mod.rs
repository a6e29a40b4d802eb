//! Leads as the managers' API sees them, and the rules around them: the configurable lifecycle
//! (`lifecycle`), list filters from query parameters (`filter`), assignment on creation
//! (`assignment`), CSV import/export (`csv_io`), import jobs (`jobs`), what managers change
//! (`changes`: a lead's patch, a consent record) and a lead's timeline (`timeline`). Pure:
//! no AWS or HTTP types; the lead functions and the store adapters map to and from these.

mod assignment;
mod changes;
mod csv_io;
mod filter;
pub mod jobs;
mod lifecycle;
mod timeline;

pub use assignment::{
    Assignment, AssignmentError, AssignmentInput, AssignmentRule, AssignmentRules, Condition,
    WHEN_KEYS,
};
pub use changes::{ConsentRecord, LeadPatch};
#[cfg(feature = "csv")]
pub use csv_io::{EXPORT_COLUMNS, export_csv, parse_import};
pub use csv_io::{ImportOutcome, ImportRow, OPT_IN_CATEGORIES, OptIn, RowError};
pub use filter::{
    DEFAULT_LIMIT, FILTER_PARAMS, FilterError, LeadFilter, MAX_LIMIT, OwnerFilter, TimeRange,
};
pub use jobs::ImportCounts;
pub use lifecycle::{DEFAULT_LIFECYCLE, Lifecycle, LifecycleError, StageError};
pub use timeline::{
    Change, ConsentEventView, ConsentStateView, Conversion, MessageActivity, TIMELINE_ENTRIES,
    Timeline, keep_latest,
};

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

/// `origin` of a lead created by a first inbound WhatsApp message.
pub const ORIGIN_WHATSAPP: &str = "whatsapp";
/// `origin` of a lead created by a CSV import.
pub const ORIGIN_IMPORT: &str = "import";

/// The value of `owner` filters (and reserved as an owner name) meaning "nobody".
pub const NO_OWNER: &str = "none";

/// A lead as the API returns it. `None` fields serialise as `null` so every lead has the same
/// JSON shape.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LeadView {
    /// The user key: business-scoped user id (BSUID) when known, else the phone digits.
    pub lead_id: String,
    pub waba_id: Option<String>,
    pub phone_number_id: Option<String>,
    pub phone: Option<String>,
    pub user_id: Option<String>,
    pub profile_name: Option<String>,
    pub stage: String,
    pub owner: Option<String>,
    /// Sorted and unique ([`normalize_tags`]).
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub last_inbound_at: Option<DateTime<Utc>>,
    pub first_touch: Option<FirstTouch>,
    /// Optimistic-concurrency version: every update names the version it read.
    pub version: u64,
    /// [`ORIGIN_WHATSAPP`] or [`ORIGIN_IMPORT`].
    pub origin: String,
    /// Every id the person is known by (phone numbers, business-scoped ids), sorted; the
    /// lead answers for any of them (`domain::identity`).
    #[serde(default)]
    pub ids: Vec<String>,
    /// The WABAs the person wrote to (and the one an import filed the lead under), sorted:
    /// who may see the lead (`domain::access`).
    #[serde(default)]
    pub waba_ids: Vec<String>,
}

impl LeadView {
    /// Whether `access` may see this lead.
    pub fn visible_to(&self, access: &crate::domain::access::Access) -> bool {
        access.allows_any(self.waba_ids.iter().map(String::as_str))
    }
}

/// The Click-to-WhatsApp referral that brought the lead, captured once and never overwritten;
/// UTM fields are parsed from `source_url`. For imported leads, the UTM/source columns.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct FirstTouch {
    pub source_id: Option<String>,
    pub source_url: Option<String>,
    pub source_type: Option<String>,
    pub headline: Option<String>,
    pub media_type: Option<String>,
    pub ctwa_clid: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_content: Option<String>,
    pub utm_term: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

/// Tags as stored: trimmed, empty ones dropped, sorted, unique.
pub fn normalize_tags<I, S>(tags: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out: Vec<String> = tags
        .into_iter()
        .map(|t| t.as_ref().trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// At most this many tags on a lead, each at most [`MAX_TAG_CHARS`] characters.
pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_CHARS: usize = 64;
/// At most this many custom fields on a lead; names match `^[A-Za-z0-9_-]{1,64}$`, values
/// are at most [`MAX_FIELD_CHARS`] characters. With the other bounded attributes this keeps
/// a lead item far below DynamoDB's 400 KB item limit (≈ 60 KB at most).
pub const MAX_FIELDS: usize = 50;
pub const MAX_FIELD_CHARS: usize = 1024;
/// Any other text a manager sets (import cells such as `name`, `utm_*`, `source_id`).
pub const MAX_TEXT_CHARS: usize = 256;

/// Tags within the declared limits (after [`normalize_tags`]).
pub fn check_tags(tags: &[String]) -> Result<(), String> {
    if tags.len() > MAX_TAGS {
        return Err(format!(
            "{} tags; a lead has at most {MAX_TAGS}",
            tags.len()
        ));
    }
    match tags
        .iter()
        .find(|t| t.chars().count() > MAX_TAG_CHARS || t.contains(';'))
    {
        Some(t) => Err(format!(
            "tag {:?}: at most {MAX_TAG_CHARS} characters, without ';'",
            t.chars().take(80).collect::<String>()
        )),
        None => Ok(()),
    }
}

/// Whether a custom field name matches `^[A-Za-z0-9_-]{1,64}$`.
pub fn valid_field_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Custom fields within the declared limits.
pub fn check_custom_fields(fields: &BTreeMap<String, String>) -> Result<(), String> {
    if fields.len() > MAX_FIELDS {
        return Err(format!(
            "{} custom fields; a lead has at most {MAX_FIELDS}",
            fields.len()
        ));
    }
    if let Some(name) = fields.keys().find(|k| !valid_field_name(k)) {
        return Err(format!(
            "custom field name {:?}: 1 to 64 letters, digits, '_' or '-'",
            name.chars().take(80).collect::<String>()
        ));
    }
    match fields
        .iter()
        .find(|(_, v)| v.chars().count() > MAX_FIELD_CHARS)
    {
        Some((k, _)) => Err(format!(
            "custom field {k:?}: a value is at most {MAX_FIELD_CHARS} characters"
        )),
        None => Ok(()),
    }
}

/// A phone number as a lead key: digits only. Accepts one leading `+` and the separators
/// people type (space, `-`, `.`, parentheses); anything else is an error. 6–15 digits (E.164
/// allows at most 15).
pub fn normalize_phone(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    let mut digits = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '\u{a0}' | '-' | '.' | '(' | ')' => {}
            _ => {
                return Err(format!(
                    "unexpected character {c:?}; use digits, an optional leading '+', spaces or dashes"
                ));
            }
        }
    }
    if !(6..=15).contains(&digits.len()) {
        return Err(format!("must have 6 to 15 digits, has {}", digits.len()));
    }
    Ok(digits)
}

/// 23:59:59.999999999, the inclusive end of a day.
const END_OF_DAY: NaiveTime = match NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999) {
    Some(t) => t,
    None => panic!("valid time"),
};

/// A time given as an RFC 3339 instant or a `YYYY-MM-DD` calendar day (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeInput {
    Instant(DateTime<Utc>),
    Day(NaiveDate),
}

impl TimeInput {
    fn parse(s: &str) -> Option<TimeInput> {
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Some(TimeInput::Instant(t.with_timezone(&Utc)));
        }
        // Exactly 10 characters: chrono alone would also take `2024-5-1`.
        if s.len() == 10
            && let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        {
            return Some(TimeInput::Day(d));
        }
        None
    }

    /// The instant itself, or the day's first instant.
    fn start(self) -> DateTime<Utc> {
        match self {
            TimeInput::Instant(t) => t,
            TimeInput::Day(d) => d.and_time(NaiveTime::MIN).and_utc(),
        }
    }

    /// The instant itself, or the day's last instant: a day as an upper bound includes all of it.
    fn end_inclusive(self) -> DateTime<Utc> {
        match self {
            TimeInput::Instant(t) => t,
            TimeInput::Day(d) => d.and_time(END_OF_DAY).and_utc(),
        }
    }
}

const TIME_FORMATS: &str = "expected RFC 3339 (e.g. 2024-05-01T09:30:00Z) or YYYY-MM-DD";

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn lead_view_serialises_none_as_null() {
        let lead = LeadView {
            lead_id: "6281234567".into(),
            waba_id: None,
            phone_number_id: None,
            phone: Some("6281234567".into()),
            user_id: None,
            profile_name: None,
            stage: "new".into(),
            owner: None,
            tags: vec![],
            custom_fields: BTreeMap::new(),
            created_at: ts("2024-05-01T10:00:00Z"),
            last_inbound_at: None,
            first_touch: Some(FirstTouch::default()),
            version: 1,
            origin: ORIGIN_WHATSAPP.into(),
            ids: vec!["6281234567".into()],
            waba_ids: vec!["1001".into()],
        };
        let v = serde_json::to_value(&lead).unwrap();
        assert_eq!(v["owner"], serde_json::Value::Null);
        assert_eq!(v["last_inbound_at"], serde_json::Value::Null);
        assert_eq!(v["first_touch"]["utm_campaign"], serde_json::Value::Null);
        assert_eq!(v["first_touch"]["at"], serde_json::Value::Null);
        assert_eq!(v["created_at"], "2024-05-01T10:00:00Z");
        assert_eq!(v.as_object().unwrap().len(), 17);
        assert_eq!(v["first_touch"].as_object().unwrap().len(), 12);
        let back: LeadView = serde_json::from_value(v).unwrap();
        assert_eq!(back, lead);
    }

    #[test]
    fn declared_limits() {
        let tags = |n: usize, len: usize| (0..n).map(|i| format!("{i:0>len$}")).collect::<Vec<_>>();
        assert!(check_tags(&tags(50, 64)).is_ok());
        assert!(check_tags(&tags(51, 3)).unwrap_err().contains("at most 50"));
        assert!(check_tags(&tags(1, 65)).is_err());
        assert!(check_tags(&["a;b".to_string()]).is_err());
        let fields = |n: usize, len: usize| {
            (0..n)
                .map(|i| (format!("f{i}"), "x".repeat(len)))
                .collect::<BTreeMap<_, _>>()
        };
        assert!(check_custom_fields(&fields(50, 1024)).is_ok());
        assert!(check_custom_fields(&fields(51, 1)).is_err());
        assert!(check_custom_fields(&fields(1, 1025)).is_err());
        let bad_name = BTreeMap::from([("a b".to_string(), "v".to_string())]);
        assert!(check_custom_fields(&bad_name).is_err());
        assert!(valid_field_name(&"a".repeat(64)) && !valid_field_name(&"a".repeat(65)));
    }

    #[test]
    fn tags_are_trimmed_sorted_unique() {
        assert_eq!(
            normalize_tags([" vip", "b2b", "", "vip ", "a"]),
            vec!["a", "b2b", "vip"]
        );
    }

    #[test]
    fn phone_normalisation() {
        assert_eq!(
            normalize_phone("+62 812-3456-7890").unwrap(),
            "6281234567890"
        );
        assert_eq!(
            normalize_phone("(55) 11.98765-4321").unwrap(),
            "5511987654321"
        );
        assert_eq!(
            normalize_phone("12345").unwrap_err(),
            "must have 6 to 15 digits, has 5"
        );
        assert_eq!(
            normalize_phone("1234567890123456").unwrap_err(),
            "must have 6 to 15 digits, has 16"
        );
        assert!(normalize_phone("62812x45678").unwrap_err().contains("'x'"));
        assert!(normalize_phone("++6281234567").is_err());
    }

    #[test]
    fn time_inputs() {
        assert_eq!(
            TimeInput::parse("2024-05-01").unwrap().start(),
            ts("2024-05-01T00:00:00Z")
        );
        assert_eq!(
            TimeInput::parse("2024-05-01").unwrap().end_inclusive(),
            ts("2024-05-01T23:59:59.999999999Z")
        );
        assert_eq!(
            TimeInput::parse("2024-05-01T10:00:00+07:00")
                .unwrap()
                .end_inclusive(),
            ts("2024-05-01T03:00:00Z")
        );
        assert_eq!(TimeInput::parse("2024-5-1"), None);
        assert_eq!(TimeInput::parse("2024-05-01T10:00:00"), None);
        assert_eq!(TimeInput::parse("yesterday"), None);
    }
}
