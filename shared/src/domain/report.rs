//! Report requests (what a manager or a schedule asks for), their validation with specific
//! error codes, and the record kept of each report.

use crate::domain::access::Access;
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

use super::metrics::query::{GroupBy, Query};

/// Longest period a report may cover, in days (inclusive count).
pub const MAX_RANGE_DAYS: i64 = 400;
/// Default SLA for response times, seconds.
pub const DEFAULT_SLA_SECONDS: i64 = 900;

/// Every report kind. The names are part of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    Conversations,
    Templates,
    Spend,
    ResponseTimes,
    Volume,
    Failures,
    Consent,
    Campaigns,
    Reconciliation,
    Messages,
    Leads,
    /// One self-contained HTML page with charts, linking the CSVs of every section.
    Summary,
}

impl ReportKind {
    pub const ALL: [ReportKind; 12] = [
        ReportKind::Conversations,
        ReportKind::Templates,
        ReportKind::Spend,
        ReportKind::ResponseTimes,
        ReportKind::Volume,
        ReportKind::Failures,
        ReportKind::Consent,
        ReportKind::Campaigns,
        ReportKind::Reconciliation,
        ReportKind::Messages,
        ReportKind::Leads,
        ReportKind::Summary,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Conversations => "conversations",
            ReportKind::Templates => "templates",
            ReportKind::Spend => "spend",
            ReportKind::ResponseTimes => "response_times",
            ReportKind::Volume => "volume",
            ReportKind::Failures => "failures",
            ReportKind::Consent => "consent",
            ReportKind::Campaigns => "campaigns",
            ReportKind::Reconciliation => "reconciliation",
            ReportKind::Messages => "messages",
            ReportKind::Leads => "leads",
            ReportKind::Summary => "summary",
        }
    }
}

impl FromStr for ReportKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        ReportKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(())
    }
}

/// Why a request was refused: a stable code for scripts and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct RequestError {
    pub code: &'static str,
    pub message: String,
}

fn bad(code: &'static str, message: impl Into<String>) -> RequestError {
    RequestError {
        code,
        message: message.into(),
    }
}

/// The body of `POST /v1/reports` as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRequestBody {
    pub kind: String,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub tz: Option<String>,
    #[serde(default)]
    pub group_by: Option<String>,
    #[serde(default)]
    pub phone_number_id: Option<String>,
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// Number formatting and labels of the `summary` page: `en` (default), `id`, `pt-BR`.
    #[serde(default)]
    pub locale: Option<String>,
}

/// The fields of a report request body; anything else is `unknown_field`.
pub const BODY_FIELDS: [&str; 8] = [
    "kind",
    "from",
    "to",
    "tz",
    "group_by",
    "phone_number_id",
    "expires_in",
    "locale",
];

impl ReportRequestBody {
    /// Reads a parsed JSON body field by field, so that every shape error names its field
    /// with the same code its value errors have: a body that is not an object is
    /// `malformed_body`; a field not in [`BODY_FIELDS`] is `unknown_field`; a missing or
    /// non-string `kind` is `unknown_kind`, `from` / `to` `bad_date`; a non-string `tz`,
    /// `group_by`, `phone_number_id` (`null` included: leave the field out for the default)
    /// is `unknown_zone`, `bad_group_by`, `bad_phone_number_id`; an `expires_in` that is not
    /// a whole number is `bad_expires_in`. Values are checked by [`ReportRequest::parse`].
    pub fn from_json(body: &serde_json::Value) -> Result<Self, RequestError> {
        let Some(fields) = body.as_object() else {
            return Err(bad("malformed_body", "the body must be a JSON object"));
        };
        if let Some(unknown) = fields.keys().find(|k| !BODY_FIELDS.contains(&k.as_str())) {
            return Err(bad(
                "unknown_field",
                format!(
                    "unknown field {unknown:?}; the fields are {}",
                    BODY_FIELDS.join(", ")
                ),
            ));
        }
        let required = |name: &str, code: &'static str, what: &str| match fields.get(name) {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(bad(code, format!("{name} must be {what}"))),
            None => Err(bad(code, format!("{name} is required ({what})"))),
        };
        let optional = |name: &str, code: &'static str, what: &str| match fields.get(name) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(
                code,
                format!("{name} must be {what} (leave it out for the default)"),
            )),
        };
        let kind = required("kind", "unknown_kind", "a report kind (a string)")?;
        let from = required("from", "bad_date", "a date YYYY-MM-DD")?;
        let to = required("to", "bad_date", "a date YYYY-MM-DD")?;
        let tz = optional("tz", "unknown_zone", "an IANA time zone name")?;
        let group_by = optional("group_by", "bad_group_by", "a string")?;
        let phone_number_id = optional(
            "phone_number_id",
            "bad_phone_number_id",
            "1–64 letters or digits",
        )?;
        let locale = optional("locale", "bad_locale", "en, id or pt-BR")?;
        let expires_in = match fields.get("expires_in") {
            None => None,
            Some(v) => Some(whole_number(v).ok_or_else(|| {
                bad(
                    "bad_expires_in",
                    "expires_in must be a whole number of seconds",
                )
            })?),
        };
        Ok(Self {
            kind,
            from,
            to,
            tz,
            group_by,
            phone_number_id,
            expires_in,
            locale,
        })
    }
}

/// A JSON number without a fraction (`900` or `900.0`) as an `i64`; saturates far out of
/// range values (they fail the range check anyway).
fn whole_number(v: &serde_json::Value) -> Option<i64> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    if n.as_u64().is_some() {
        return Some(i64::MAX);
    }
    let f = n.as_f64()?;
    (f.is_finite() && f.fract() == 0.0).then(|| f.clamp(i64::MIN as f64, i64::MAX as f64) as i64)
}

/// A calendar date written exactly `YYYY-MM-DD` (ASCII digits, year 0001–9999).
fn parse_date(v: &str) -> Option<NaiveDate> {
    let b = v.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && &b[..4] != b"0000";
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()
}

/// A validated report request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRequest {
    pub kind: ReportKind,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub tz: String,
    pub group_by: String,
    pub phone_number_id: Option<String>,
    pub expires_in: i64,
    /// `en`, `id` or `pt-BR` (the summary page's formatting).
    #[serde(default = "default_locale")]
    pub locale: String,
    /// The requester's WABAs when they may not see every one (set from their token, never
    /// from the request body); absent = every WABA. The report holds only their facts, and
    /// only callers who may see all of these WABAs may read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wabas: Option<Vec<String>>,
}

impl ReportRequest {
    /// Who the report is for (`crate::domain::access`).
    pub fn access(&self) -> Access {
        match &self.wabas {
            None => Access::All,
            Some(w) => Access::Wabas(w.iter().cloned().collect()),
        }
    }

    /// Restricts the request to `access`.
    pub fn for_access(mut self, access: &Access) -> Self {
        self.wabas = match access {
            Access::All => None,
            Access::Wabas(w) => Some(w.iter().cloned().collect()),
        };
        self
    }
}

fn default_locale() -> String {
    "en".to_string()
}

/// Limits on presigned links: the default life and the configured cap (never past 7 days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkPolicy {
    pub default_seconds: i64,
    pub max_seconds: i64,
}

/// SigV4 presigned URLs cannot live longer than 7 days.
pub const SIGV4_MAX_SECONDS: i64 = 604_800;

impl Default for LinkPolicy {
    fn default() -> Self {
        Self {
            default_seconds: 900,
            max_seconds: 3_600,
        }
    }
}

impl ReportRequest {
    /// Validates a request body; every refusal names its field.
    pub fn parse(body: ReportRequestBody, links: LinkPolicy) -> Result<Self, RequestError> {
        let kind: ReportKind = body.kind.parse().map_err(|_| {
            bad(
                "unknown_kind",
                format!(
                    "kind {:?} is not one of {}",
                    body.kind,
                    ReportKind::ALL.map(ReportKind::as_str).join(", ")
                ),
            )
        })?;
        let date = |field: &str, v: &str| {
            parse_date(v).ok_or_else(|| {
                bad(
                    "bad_date",
                    format!("{field} {v:?} is not a date (YYYY-MM-DD)"),
                )
            })
        };
        let from = date("from", &body.from)?;
        let to = date("to", &body.to)?;
        if from > to {
            return Err(bad(
                "from_after_to",
                format!("from {from} is after to {to}"),
            ));
        }
        let days = (to - from).num_days() + 1;
        if days > MAX_RANGE_DAYS {
            return Err(bad(
                "range_too_long",
                format!("{days} days requested; at most {MAX_RANGE_DAYS}"),
            ));
        }
        let tz = body.tz.unwrap_or_else(|| "UTC".to_string());
        if tz.parse::<Tz>().is_err() {
            return Err(bad(
                "unknown_zone",
                format!("tz {tz:?} is not an IANA time zone (e.g. Asia/Jakarta)"),
            ));
        }
        let group_by = body.group_by.unwrap_or_else(|| "day".to_string());
        let allowed: &[&str] = match kind {
            ReportKind::Volume => &["day", "week", "month", "none", "hour"],
            ReportKind::Summary => &["day", "week", "month"],
            _ => &["day", "week", "month", "none"],
        };
        if !allowed.contains(&group_by.as_str()) {
            return Err(bad(
                "bad_group_by",
                format!("group_by {group_by:?} is not one of {}", allowed.join(", ")),
            ));
        }
        if let Some(p) = &body.phone_number_id
            && (p.is_empty() || p.len() > 64 || !p.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(bad(
                "bad_phone_number_id",
                "phone_number_id must be 1–64 letters or digits",
            ));
        }
        let locale = body.locale.unwrap_or_else(default_locale);
        // Exactly the API's spellings (the page's parser is more forgiving).
        let parsed = ["en", "id", "pt-BR"]
            .contains(&locale.as_str())
            .then(|| super::summary::Locale::parse(&locale))
            .flatten();
        let Some(parsed) = parsed else {
            return Err(bad(
                "bad_locale",
                format!("locale {locale:?} is not one of en, id, pt-BR"),
            ));
        };
        let locale = parsed.tag().to_string();
        let expires_in = body.expires_in.unwrap_or(links.default_seconds);
        let cap = links.max_seconds.min(SIGV4_MAX_SECONDS);
        if !(60..=cap).contains(&expires_in) {
            return Err(bad(
                "bad_expires_in",
                format!("expires_in must be between 60 and {cap} seconds"),
            ));
        }
        Ok(Self {
            kind,
            from,
            to,
            tz,
            group_by,
            phone_number_id: body.phone_number_id,
            expires_in,
            locale,
            wabas: None,
        })
    }

    pub fn zone(&self) -> Tz {
        self.tz.parse().unwrap_or(Tz::UTC)
    }

    /// The metrics query this request stands for.
    pub fn query(&self, sla_seconds: i64) -> Query {
        Query {
            from: self.from,
            to: self.to,
            tz: self.zone(),
            group_by: match self.group_by.as_str() {
                "week" => GroupBy::Week,
                "month" => GroupBy::Month,
                "none" => GroupBy::None,
                "hour" => GroupBy::Hour,
                _ => GroupBy::Day,
            },
            phone_number_id: self.phone_number_id.clone(),
            sla_seconds,
        }
    }

    /// First and last second of the period in the report's zone (epoch seconds, inclusive).
    pub fn bounds(&self) -> (i64, i64) {
        let tz = self.zone();
        let start = |d: NaiveDate| {
            let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
            tz.from_local_datetime(&midnight)
                .earliest()
                // A zone whose midnight does not exist on that day starts at 01:00.
                .or_else(|| {
                    tz.from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                        .earliest()
                })
                .map(|t| t.timestamp())
                .unwrap_or_else(|| midnight.and_utc().timestamp())
        };
        let lo = start(self.from);
        let hi = self
            .to
            .succ_opt()
            .map(|d| start(d) - 1)
            .unwrap_or(i64::MAX / 2);
        (lo, hi)
    }
}

/// Where a report is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStatus {
    /// Being computed by the request that created it.
    Running,
    /// Handed to the jobs function (it took longer than the request may); shown to
    /// callers as `running`.
    Queued,
    Ready,
    Failed,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Running => "running",
            ReportStatus::Queued => "queued",
            ReportStatus::Ready => "ready",
            ReportStatus::Failed => "failed",
        }
    }
    /// What the API says: `running`, `ready` or `failed`.
    pub fn public(self) -> &'static str {
        match self {
            ReportStatus::Running | ReportStatus::Queued => "running",
            ReportStatus::Ready => "ready",
            ReportStatus::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "running" => Some(Self::Running),
            "queued" => Some(Self::Queued),
            "ready" => Some(Self::Ready),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// What is kept of each report (`REPORTS` / `R#<id>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRecord {
    pub id: String,
    pub kind: ReportKind,
    /// The validated request, as JSON.
    pub request_json: String,
    pub status: ReportStatus,
    pub created_at: i64,
    pub created_by: String,
    /// `api`, `scheduled:daily`, `scheduled:weekly`.
    pub origin: String,
    pub object_key: Option<String>,
    pub rows: Option<u64>,
    pub bytes: Option<u64>,
    pub sha256: Option<String>,
    pub reason: Option<String>,
    pub finished_at: Option<i64>,
    /// Epoch seconds after which the record (TTL) and its object (lifecycle) go.
    pub expires_at: Option<i64>,
}

impl ReportRecord {
    /// Whose facts the report holds (its request's WABAs). A request that cannot be read
    /// counts as every WABA, so only callers who see everything may read that record.
    pub fn access(&self) -> Access {
        serde_json::from_str::<ReportRequest>(&self.request_json)
            .map(|r| r.access())
            .unwrap_or(Access::All)
    }
}

/// A new report id: time-ordered (so the newest sort first) and unguessable.
pub fn new_report_id(now: i64, random: u64) -> String {
    format!("{now:010}-{random:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(kind: &str, from: &str, to: &str) -> ReportRequestBody {
        ReportRequestBody {
            kind: kind.into(),
            from: from.into(),
            to: to.into(),
            tz: None,
            group_by: None,
            phone_number_id: None,
            expires_in: None,
            locale: None,
        }
    }

    fn code(b: ReportRequestBody) -> &'static str {
        ReportRequest::parse(b, LinkPolicy::default())
            .unwrap_err()
            .code
    }

    #[test]
    fn defaults_and_validation_codes() {
        let r = ReportRequest::parse(
            body("conversations", "2026-11-01", "2026-11-07"),
            LinkPolicy::default(),
        )
        .unwrap();
        assert_eq!(
            (r.tz.as_str(), r.group_by.as_str(), r.expires_in),
            ("UTC", "day", 900)
        );
        assert_eq!(
            code(body("nope", "2026-11-01", "2026-11-07")),
            "unknown_kind"
        );
        assert_eq!(code(body("volume", "2026-11-1", "2026-11-07")), "bad_date");
        assert_eq!(code(body("volume", "2026-02-30", "2026-03-01")), "bad_date");
        assert_eq!(
            code(body("volume", "2026-11-08", "2026-11-07")),
            "from_after_to"
        );
        assert_eq!(
            code(body("volume", "2025-01-01", "2026-11-07")),
            "range_too_long"
        );
        let mut b = body("volume", "2026-11-01", "2026-11-07");
        b.tz = Some("Mars/Olympus".into());
        assert_eq!(code(b), "unknown_zone");
        let mut b = body("spend", "2026-11-01", "2026-11-07");
        b.group_by = Some("hour".into());
        assert_eq!(code(b), "bad_group_by");
        let mut b = body("spend", "2026-11-01", "2026-11-07");
        b.expires_in = Some(3_601);
        assert_eq!(code(b), "bad_expires_in");
        let mut b = body("spend", "2026-11-01", "2026-11-07");
        b.phone_number_id = Some("1 OR 1".into());
        assert_eq!(code(b), "bad_phone_number_id");
        // 400 days inclusive is allowed, 401 is not.
        assert!(
            ReportRequest::parse(
                body("volume", "2025-10-09", "2026-11-12"),
                LinkPolicy::default()
            )
            .is_ok()
        );
        assert_eq!(
            code(body("volume", "2025-10-08", "2026-11-12")),
            "range_too_long"
        );
    }

    fn json_code(v: serde_json::Value) -> &'static str {
        match ReportRequestBody::from_json(&v) {
            Err(e) => e.code,
            Ok(b) => code(b),
        }
    }

    #[test]
    fn json_bodies_name_the_field_at_fault() {
        use serde_json::json;
        let ok = json!({"kind": "volume", "from": "2026-11-01", "to": "2026-11-07",
                        "tz": "Asia/Jakarta", "group_by": "hour",
                        "phone_number_id": "106540352242922", "expires_in": 600.0});
        let r = ReportRequest::parse(
            ReportRequestBody::from_json(&ok).unwrap(),
            LinkPolicy::default(),
        )
        .unwrap();
        assert_eq!((r.group_by.as_str(), r.expires_in), ("hour", 600));
        assert_eq!(json_code(json!([ok])), "malformed_body");
        assert_eq!(json_code(json!("volume")), "malformed_body");
        assert_eq!(json_code(json!(null)), "malformed_body");
        let with = |k: &str, v: serde_json::Value| {
            let mut b = ok.clone();
            b[k] = v;
            json_code(b)
        };
        let without = |k: &str| {
            let mut b = ok.clone();
            b.as_object_mut().unwrap().remove(k);
            b
        };
        assert_eq!(with("format", json!("csv")), "unknown_field");
        assert_eq!(json_code(without("kind")), "unknown_kind");
        assert_eq!(with("kind", json!(3)), "unknown_kind");
        assert_eq!(json_code(without("from")), "bad_date");
        assert_eq!(json_code(without("to")), "bad_date");
        assert_eq!(with("to", json!(20261107)), "bad_date");
        assert_eq!(with("tz", json!(null)), "unknown_zone");
        assert_eq!(with("tz", json!("mars")), "unknown_zone");
        assert_eq!(with("group_by", json!(["day"])), "bad_group_by");
        assert_eq!(
            with("phone_number_id", json!(106540352242922_u64)),
            "bad_phone_number_id"
        );
        assert_eq!(with("phone_number_id", json!("")), "bad_phone_number_id");
        assert_eq!(with("expires_in", json!("600")), "bad_expires_in");
        assert_eq!(with("expires_in", json!(600.5)), "bad_expires_in");
        assert_eq!(with("expires_in", json!(true)), "bad_expires_in");
        assert_eq!(with("expires_in", json!(u64::MAX)), "bad_expires_in");
        assert_eq!(with("expires_in", json!(-1e300)), "bad_expires_in");
        assert_eq!(with("expires_in", json!(59)), "bad_expires_in");
        // Optional fields may be left out.
        let minimal = json!({"kind": "spend", "from": "2026-11-01", "to": "2026-11-01"});
        assert!(ReportRequestBody::from_json(&minimal).is_ok());
    }

    #[test]
    fn dates_are_exactly_yyyy_mm_dd() {
        for good in ["2026-11-01", "0001-01-01", "9999-12-31", "2024-02-29"] {
            assert!(parse_date(good).is_some(), "{good}");
        }
        for bad in [
            "0000-01-01",
            "2026-11-1",
            "2026-1-011",
            "+026-11-01",
            " 026-11-01",
            "2026-11-01 ",
            "2026/11/01",
            "20261101",
            "2025-02-29",
            "2026-13-01",
            "２０２6-11-01",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn bounds_follow_the_zone_including_dst_days() {
        let mut b = body("volume", "2026-11-01", "2026-11-01");
        b.tz = Some("America/New_York".into());
        let r = ReportRequest::parse(b, LinkPolicy::default()).unwrap();
        let (lo, hi) = r.bounds();
        // 2026-11-01 in New York: 04:00Z (EDT) to 05:00Z next day (EST): 25 hours.
        assert_eq!(hi - lo + 1, 25 * 3600);
        let mut b = body("volume", "2026-11-20", "2026-11-20");
        b.tz = Some("Asia/Kathmandu".into());
        let (lo, _) = ReportRequest::parse(b, LinkPolicy::default())
            .unwrap()
            .bounds();
        // Midnight +05:45 is 18:15Z the day before.
        assert_eq!(
            chrono::DateTime::from_timestamp(lo, 0)
                .unwrap()
                .to_rfc3339(),
            "2026-11-19T18:15:00+00:00"
        );
    }
}
