//! Lead list filters from the managers' API query parameters.
//!
//! Strict on purpose: an unknown parameter (a typo), a repeated one, or an empty or invalid
//! value is an error naming it, because silently ignoring it would return every lead.
//! All criteria must hold (AND). Stage, owner, tag, `source_*` and `utm_*` compare exactly and
//! case-sensitively, as Meta and the ad tools send them (`Spring_Sale` ≠ `spring_sale`).
//! Dates are RFC 3339 instants or `YYYY-MM-DD` UTC calendar days; both bounds are inclusive and
//! a day as a `_to` bound includes that whole day.

use chrono::{DateTime, TimeDelta, Utc};
use thiserror::Error;

use crate::domain::access::Access;

use super::{LeadView, Lifecycle, NO_OWNER, TIME_FORMATS, TimeInput};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;
/// The longest dormancy a filter may ask for (ten years).
pub const MAX_DORMANT_DAYS: u32 = 3_650;

/// Every query parameter [`LeadFilter::from_query`] accepts.
pub const FILTER_PARAMS: &[&str] = &[
    "stage",
    "owner",
    "tag",
    "source_id",
    "source_type",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "created_from",
    "created_to",
    "last_inbound_from",
    "last_inbound_to",
    "dormant_days",
    "limit",
    "cursor",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerFilter {
    /// `owner=none`: leads nobody owns.
    Unowned,
    Owner(String),
}

/// Inclusive bounds on a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeRange {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl TimeRange {
    pub fn is_unbounded(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }

    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from.is_none_or(|from| t >= from) && self.to.is_none_or(|to| t <= to)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadFilter {
    pub stage: Option<String>,
    pub owner: Option<OwnerFilter>,
    pub tag: Option<String>,
    pub source_id: Option<String>,
    pub source_type: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_content: Option<String>,
    pub utm_term: Option<String>,
    /// `created_from` / `created_to`.
    pub created: TimeRange,
    /// `last_inbound_from` / `last_inbound_to`; a lead that never wrote in matches neither.
    pub last_inbound: TimeRange,
    /// No inbound message for at least this many days (see [`LeadFilter::matches`]).
    pub dormant_days: Option<u32>,
    /// Page size, 1..=[`MAX_LIMIT`].
    pub limit: u32,
    /// Opaque paging token, carried to the store as given.
    pub cursor: Option<String>,
    /// Who asks: only leads of their WABAs match (set by the API from the caller, never
    /// from the query string).
    pub access: Access,
}

impl Default for LeadFilter {
    /// Every lead, first page.
    fn default() -> Self {
        LeadFilter {
            stage: None,
            owner: None,
            tag: None,
            source_id: None,
            source_type: None,
            utm_source: None,
            utm_medium: None,
            utm_campaign: None,
            utm_content: None,
            utm_term: None,
            created: TimeRange::default(),
            last_inbound: TimeRange::default(),
            dormant_days: None,
            limit: DEFAULT_LIMIT,
            cursor: None,
            access: Access::All,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    #[error("unknown query parameter(s): {}; allowed: {}", names.join(", "), FILTER_PARAMS.join(", "))]
    Unknown { names: Vec<String> },
    #[error("query parameter {name} is given more than once")]
    Repeated { name: &'static str },
    #[error("invalid {name}={value:?}: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error("{from_param} is after {to_param}: no lead can match")]
    EmptyRange {
        from_param: &'static str,
        to_param: &'static str,
    },
}

fn invalid(name: &'static str, value: &str, reason: impl Into<String>) -> FilterError {
    FilterError::Invalid {
        name,
        value: value.to_owned(),
        reason: reason.into(),
    }
}

fn time(name: &'static str, value: &str) -> Result<TimeInput, FilterError> {
    TimeInput::parse(value).ok_or_else(|| invalid(name, value, TIME_FORMATS))
}

impl LeadFilter {
    /// Builds a filter from decoded query pairs. Errors, in this order: unknown parameters (all
    /// of them at once), a repeated parameter, an empty or invalid value, a `_from` after its
    /// `_to`. Values are trimmed.
    pub fn from_query(pairs: &[(String, String)]) -> Result<LeadFilter, FilterError> {
        let mut unknown: Vec<String> = Vec::new();
        for (name, _) in pairs {
            if !FILTER_PARAMS.contains(&name.as_str()) && !unknown.contains(name) {
                unknown.push(name.clone());
            }
        }
        if !unknown.is_empty() {
            return Err(FilterError::Unknown { names: unknown });
        }

        let mut seen: Vec<&'static str> = Vec::with_capacity(pairs.len());
        let mut f = LeadFilter::default();
        for (name, value) in pairs {
            let Some(name) = FILTER_PARAMS.iter().copied().find(|p| p == name) else {
                continue; // unreachable: unknown names were rejected above
            };
            if seen.contains(&name) {
                return Err(FilterError::Repeated { name });
            }
            seen.push(name);
            let v = value.trim();
            if v.is_empty() {
                return Err(invalid(
                    name,
                    value,
                    "empty value; leave the parameter out instead",
                ));
            }
            let max_chars = match name {
                "stage" | "tag" => 64,
                "owner" => 128,
                "cursor" => 2048,
                _ => 256,
            };
            if v.chars().count() > max_chars {
                return Err(invalid(
                    name,
                    &v.chars().take(40).collect::<String>(),
                    format!("at most {max_chars} characters"),
                ));
            }
            let text = || Some(v.to_owned());
            match name {
                "stage" => f.stage = text(),
                "owner" => {
                    f.owner = Some(if v == NO_OWNER {
                        OwnerFilter::Unowned
                    } else {
                        OwnerFilter::Owner(v.to_owned())
                    })
                }
                "tag" => f.tag = text(),
                "source_id" => f.source_id = text(),
                "source_type" => f.source_type = text(),
                "utm_source" => f.utm_source = text(),
                "utm_medium" => f.utm_medium = text(),
                "utm_campaign" => f.utm_campaign = text(),
                "utm_content" => f.utm_content = text(),
                "utm_term" => f.utm_term = text(),
                "created_from" => f.created.from = Some(time(name, v)?.start()),
                "created_to" => f.created.to = Some(time(name, v)?.end_inclusive()),
                "last_inbound_from" => f.last_inbound.from = Some(time(name, v)?.start()),
                "last_inbound_to" => f.last_inbound.to = Some(time(name, v)?.end_inclusive()),
                "dormant_days" => match v.parse::<u32>() {
                    Ok(n) if (1..=MAX_DORMANT_DAYS).contains(&n) => f.dormant_days = Some(n),
                    _ => {
                        return Err(invalid(
                            name,
                            v,
                            format!("expected a whole number of days from 1 to {MAX_DORMANT_DAYS}"),
                        ));
                    }
                },
                "limit" => match v.parse::<u32>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => f.limit = n,
                    _ => {
                        return Err(invalid(
                            name,
                            v,
                            format!("expected a whole number from 1 to {MAX_LIMIT}"),
                        ));
                    }
                },
                "cursor" => f.cursor = text(),
                _ => {}
            }
        }

        for (range, from_param, to_param) in [
            (f.created, "created_from", "created_to"),
            (f.last_inbound, "last_inbound_from", "last_inbound_to"),
        ] {
            if let (Some(from), Some(to)) = (range.from, range.to)
                && from > to
            {
                return Err(FilterError::EmptyRange {
                    from_param,
                    to_param,
                });
            }
        }
        Ok(f)
    }

    /// Checks `stage` against the lifecycle, so a misspelt stage is a 400 rather than an empty
    /// list.
    pub fn check_stage(&self, lifecycle: &Lifecycle) -> Result<(), FilterError> {
        match &self.stage {
            Some(stage) if !lifecycle.is_stage(stage) => Err(invalid(
                "stage",
                stage,
                format!(
                    "not a configured stage; stages: {}",
                    lifecycle.stages().join(", ")
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Whether `lead` passes every criterion. Dormant: the last inbound message (or, for a lead
    /// that never wrote in, its creation) is at least `dormant_days` × 24 h before `now`;
    /// exactly N days counts as dormant.
    pub fn matches(&self, lead: &LeadView, now: DateTime<Utc>) -> bool {
        let eq = |want: &Option<String>, have: Option<&String>| {
            want.as_ref().is_none_or(|w| have == Some(w))
        };
        let touch = lead.first_touch.as_ref();
        let owner_ok = match &self.owner {
            None => true,
            Some(OwnerFilter::Unowned) => lead.owner.is_none(),
            Some(OwnerFilter::Owner(o)) => lead.owner.as_ref() == Some(o),
        };
        lead.visible_to(&self.access)
            && owner_ok
            && eq(&self.stage, Some(&lead.stage))
            && self.tag.as_ref().is_none_or(|t| lead.tags.contains(t))
            && eq(&self.source_id, touch.and_then(|t| t.source_id.as_ref()))
            && eq(
                &self.source_type,
                touch.and_then(|t| t.source_type.as_ref()),
            )
            && eq(&self.utm_source, touch.and_then(|t| t.utm_source.as_ref()))
            && eq(&self.utm_medium, touch.and_then(|t| t.utm_medium.as_ref()))
            && eq(
                &self.utm_campaign,
                touch.and_then(|t| t.utm_campaign.as_ref()),
            )
            && eq(
                &self.utm_content,
                touch.and_then(|t| t.utm_content.as_ref()),
            )
            && eq(&self.utm_term, touch.and_then(|t| t.utm_term.as_ref()))
            && self.created.contains(lead.created_at)
            && (self.last_inbound.is_unbounded()
                || lead
                    .last_inbound_at
                    .is_some_and(|t| self.last_inbound.contains(t)))
            && self
                .dormant_days
                .is_none_or(|days| is_dormant(lead, days, now))
    }
}

fn is_dormant(lead: &LeadView, days: u32, now: DateTime<Utc>) -> bool {
    // Beyond chrono's range no time is old enough: nothing is dormant.
    let Some(cutoff) = TimeDelta::try_days(i64::from(days)).and_then(|d| now.checked_sub_signed(d))
    else {
        return false;
    };
    lead.last_inbound_at.unwrap_or(lead.created_at) <= cutoff
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::{FirstTouch, ORIGIN_WHATSAPP};
    use super::*;

    fn ts(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn q(pairs: &[(&str, &str)]) -> Result<LeadFilter, FilterError> {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        LeadFilter::from_query(&owned)
    }

    fn lead() -> LeadView {
        LeadView {
            lead_id: "6281234567890".into(),
            waba_id: Some("1001".into()),
            phone_number_id: Some("2002".into()),
            phone: Some("6281234567890".into()),
            user_id: None,
            profile_name: Some("Dewi".into()),
            stage: "qualified".into(),
            owner: Some("alice".into()),
            tags: vec!["b2b".into(), "vip".into()],
            custom_fields: BTreeMap::new(),
            created_at: ts("2024-05-01T10:00:00Z"),
            last_inbound_at: Some(ts("2024-05-10T08:00:00Z")),
            first_touch: Some(FirstTouch {
                source_id: Some("120201234".into()),
                source_type: Some("ad".into()),
                utm_source: Some("facebook".into()),
                utm_medium: Some("cpc".into()),
                utm_campaign: Some("spring_sale".into()),
                utm_content: Some("video1".into()),
                utm_term: Some("shoes".into()),
                ..FirstTouch::default()
            }),
            version: 3,
            origin: ORIGIN_WHATSAPP.into(),
            ids: vec![],
            waba_ids: vec!["1001".into()],
        }
    }

    fn now() -> DateTime<Utc> {
        ts("2024-06-01T00:00:00Z")
    }

    fn hit(pairs: &[(&str, &str)], lead: &LeadView) -> bool {
        q(pairs).unwrap().matches(lead, now())
    }

    #[test]
    fn empty_query_is_everything_first_page() {
        let f = q(&[]).unwrap();
        assert_eq!(f, LeadFilter::default());
        assert_eq!(f.limit, 50);
        assert!(f.matches(&lead(), now()));
    }

    #[test]
    fn stage_tag_and_owner() {
        let l = lead();
        assert!(hit(&[("stage", "qualified")], &l));
        assert!(!hit(&[("stage", "new")], &l));
        assert!(hit(&[("tag", "vip")], &l));
        assert!(!hit(&[("tag", "VIP")], &l));
        assert!(hit(&[("owner", "alice")], &l));
        assert!(!hit(&[("owner", "bob")], &l));
        assert!(!hit(&[("owner", "none")], &l));
        let unowned = LeadView {
            owner: None,
            ..lead()
        };
        assert!(hit(&[("owner", "none")], &unowned));
        assert!(!hit(&[("owner", "alice")], &unowned));
        assert_eq!(
            q(&[("owner", "none")]).unwrap().owner,
            Some(OwnerFilter::Unowned)
        );
    }

    #[test]
    fn source_and_utm_fields_are_exact_and_case_sensitive() {
        let l = lead();
        for (k, v) in [
            ("source_id", "120201234"),
            ("source_type", "ad"),
            ("utm_source", "facebook"),
            ("utm_medium", "cpc"),
            ("utm_campaign", "spring_sale"),
            ("utm_content", "video1"),
            ("utm_term", "shoes"),
        ] {
            assert!(hit(&[(k, v)], &l), "{k}={v}");
            if v.to_uppercase() != v {
                assert!(!hit(&[(k, &v.to_uppercase())], &l), "{k} is case-sensitive");
            }
            assert!(
                !hit(&[(k, &v[..v.len() - 1])], &l),
                "{k} is not a prefix match"
            );
        }
        let organic = LeadView {
            first_touch: None,
            ..lead()
        };
        assert!(!hit(&[("utm_campaign", "spring_sale")], &organic));
        assert!(hit(&[("stage", "qualified")], &organic));
    }

    #[test]
    fn all_criteria_must_hold() {
        let l = lead();
        assert!(hit(
            &[
                ("stage", "qualified"),
                ("utm_campaign", "spring_sale"),
                ("owner", "alice")
            ],
            &l
        ));
        assert!(!hit(
            &[
                ("stage", "qualified"),
                ("utm_campaign", "spring_sale"),
                ("owner", "bob")
            ],
            &l
        ));
    }

    #[test]
    fn created_range_dates_are_inclusive_whole_days() {
        let l = lead(); // created 2024-05-01T10:00:00Z
        assert!(hit(&[("created_from", "2024-05-01")], &l));
        assert!(!hit(&[("created_from", "2024-05-02")], &l));
        assert!(
            hit(&[("created_to", "2024-05-01")], &l),
            "a _to day includes the whole day"
        );
        assert!(!hit(&[("created_to", "2024-04-30")], &l));
        assert!(hit(
            &[("created_from", "2024-05-01"), ("created_to", "2024-05-01")],
            &l
        ));
        let f = q(&[("created_to", "2024-05-01")]).unwrap();
        assert_eq!(f.created.to, Some(ts("2024-05-01T23:59:59.999999999Z")));
        let late = LeadView {
            created_at: ts("2024-05-01T23:59:59Z"),
            ..lead()
        };
        assert!(f.matches(&late, now()));
        let next = LeadView {
            created_at: ts("2024-05-02T00:00:00Z"),
            ..lead()
        };
        assert!(!f.matches(&next, now()));
    }

    #[test]
    fn created_range_instants_are_inclusive() {
        let l = lead();
        assert!(hit(&[("created_to", "2024-05-01T10:00:00Z")], &l));
        assert!(!hit(&[("created_to", "2024-05-01T09:59:59Z")], &l));
        assert!(hit(&[("created_from", "2024-05-01T10:00:00Z")], &l));
        assert!(!hit(&[("created_from", "2024-05-01T10:00:01Z")], &l));
        // Offsets are honoured: 17:00+07:00 is 10:00Z.
        assert!(hit(&[("created_to", "2024-05-01T17:00:00+07:00")], &l));
    }

    #[test]
    fn last_inbound_range() {
        let l = lead(); // last inbound 2024-05-10T08:00:00Z
        assert!(hit(
            &[
                ("last_inbound_from", "2024-05-10"),
                ("last_inbound_to", "2024-05-10")
            ],
            &l
        ));
        assert!(!hit(&[("last_inbound_from", "2024-05-11")], &l));
        assert!(!hit(&[("last_inbound_to", "2024-05-09")], &l));
        let silent = LeadView {
            last_inbound_at: None,
            ..lead()
        };
        assert!(!hit(&[("last_inbound_from", "2020-01-01")], &silent));
        assert!(!hit(&[("last_inbound_to", "2030-01-01")], &silent));
    }

    #[test]
    fn dormant_days_edge_is_inclusive() {
        let f = q(&[("dormant_days", "7")]).unwrap();
        assert_eq!(f.dormant_days, Some(7));
        let at = |t: &str| LeadView {
            last_inbound_at: Some(ts(t)),
            ..lead()
        };
        // now = 2024-06-01T00:00:00Z; exactly 7 days before is 2024-05-25T00:00:00Z.
        assert!(
            f.matches(&at("2024-05-25T00:00:00Z"), now()),
            "exactly N days is dormant"
        );
        assert!(
            !f.matches(&at("2024-05-25T00:00:01Z"), now()),
            "one second short is not"
        );
        assert!(f.matches(&at("2024-05-01T00:00:00Z"), now()));
    }

    #[test]
    fn dormant_without_inbound_counts_from_creation() {
        let f = q(&[("dormant_days", "7")]).unwrap();
        let imported = |created: &str| LeadView {
            last_inbound_at: None,
            created_at: ts(created),
            ..lead()
        };
        assert!(f.matches(&imported("2024-05-25T00:00:00Z"), now()));
        assert!(!f.matches(&imported("2024-05-30T00:00:00Z"), now()));
        // The longest declared N is not reached by a recent lead.
        let far = q(&[("dormant_days", "3650")]).unwrap();
        assert!(!far.matches(&imported("2024-05-25T00:00:00Z"), now()));
    }

    #[test]
    fn limit_and_cursor() {
        assert_eq!(q(&[("limit", "1")]).unwrap().limit, 1);
        assert_eq!(q(&[("limit", "200")]).unwrap().limit, 200);
        for bad in ["0", "201", "-1", "ten", "2.5"] {
            assert_eq!(
                q(&[("limit", bad)]).unwrap_err(),
                FilterError::Invalid {
                    name: "limit",
                    value: bad.into(),
                    reason: "expected a whole number from 1 to 200".into()
                }
            );
        }
        let f = q(&[("cursor", "eyJwayI6IlVTRVIjMSJ9")]).unwrap();
        assert_eq!(f.cursor.as_deref(), Some("eyJwayI6IlVTRVIjMSJ9"));
        assert!(f.matches(&lead(), now()), "the cursor does not filter");
    }

    #[test]
    fn unknown_parameters_are_named() {
        let err = q(&[
            ("stage", "new"),
            ("utm_campain", "x"),
            ("sort", "asc"),
            ("utm_campain", "y"),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            FilterError::Unknown {
                names: vec!["utm_campain".into(), "sort".into()]
            }
        );
        assert!(
            err.to_string().starts_with(
                "unknown query parameter(s): utm_campain, sort; allowed: stage, owner,"
            )
        );
        // Names are case-sensitive.
        assert!(matches!(
            q(&[("Stage", "new")]),
            Err(FilterError::Unknown { .. })
        ));
    }

    #[test]
    fn repeated_parameters_are_an_error() {
        let err = q(&[("tag", "vip"), ("tag", "b2b")]).unwrap_err();
        assert_eq!(err, FilterError::Repeated { name: "tag" });
        assert_eq!(
            err.to_string(),
            "query parameter tag is given more than once"
        );
    }

    #[test]
    fn invalid_values_name_param_and_value() {
        let err = q(&[("created_from", "01/05/2024")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid created_from=\"01/05/2024\": expected RFC 3339 (e.g. 2024-05-01T09:30:00Z) or YYYY-MM-DD"
        );
        assert!(matches!(
            q(&[("last_inbound_to", "2024-13-01")]),
            Err(FilterError::Invalid {
                name: "last_inbound_to",
                ..
            })
        ));
        for bad in ["0", "-3", "x", "1.5"] {
            assert!(
                matches!(q(&[("dormant_days", bad)]), Err(FilterError::Invalid { name: "dormant_days", ref value, .. }) if value == bad),
                "{bad}"
            );
        }
        let err = q(&[("stage", "  ")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid stage=\"  \": empty value; leave the parameter out instead"
        );
    }

    #[test]
    fn from_after_to_is_an_error() {
        assert_eq!(
            q(&[("created_from", "2024-05-02"), ("created_to", "2024-05-01")]).unwrap_err(),
            FilterError::EmptyRange {
                from_param: "created_from",
                to_param: "created_to"
            }
        );
        assert!(matches!(
            q(&[
                ("last_inbound_from", "2024-05-02T00:00:00Z"),
                ("last_inbound_to", "2024-05-01")
            ]),
            Err(FilterError::EmptyRange {
                from_param: "last_inbound_from",
                ..
            })
        ));
    }

    #[test]
    fn stage_checked_against_the_lifecycle() {
        let l = Lifecycle::default();
        assert_eq!(q(&[("stage", "won")]).unwrap().check_stage(&l), Ok(()));
        assert_eq!(q(&[]).unwrap().check_stage(&l), Ok(()));
        assert_eq!(
            q(&[("stage", "wonn")])
                .unwrap()
                .check_stage(&l)
                .unwrap_err()
                .to_string(),
            "invalid stage=\"wonn\": not a configured stage; stages: new, qualified, in_progress, won, lost"
        );
    }

    #[test]
    fn a_caller_sees_only_leads_of_its_wabas() {
        let l = lead();
        let only = |w: &str| LeadFilter {
            access: Access::Wabas([w.to_string()].into()),
            ..LeadFilter::default()
        };
        let now = ts("2024-06-01T00:00:00Z");
        assert!(only("1001").matches(&l, now));
        assert!(!only("9999").matches(&l, now));
        assert!(LeadFilter::default().matches(&l, now));
        let unfiled = LeadView {
            waba_ids: vec![],
            ..l
        };
        assert!(!only("1001").matches(&unfiled, now));
        assert!(LeadFilter::default().matches(&unfiled, now));
    }

    #[test]
    fn declared_lengths_and_ranges_are_enforced() {
        let long = |n: usize| "x".repeat(n);
        for (name, max) in [
            ("tag", 64),
            ("stage", 64),
            ("owner", 128),
            ("utm_source", 256),
            ("cursor", 2048),
        ] {
            assert!(q(&[(name, &long(max))]).is_ok(), "{name} at {max}");
            let e = q(&[(name, &long(max + 1))]).unwrap_err();
            assert!(
                e.to_string().contains(&format!("at most {max}")),
                "{name}: {e}"
            );
        }
        assert!(q(&[("dormant_days", "3650")]).is_ok());
        assert!(q(&[("dormant_days", "3651")]).is_err());
    }
}
