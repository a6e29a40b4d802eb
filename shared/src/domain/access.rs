//! Who may see what: the managers' APIs (leads, reports) turn a verified token's claims into
//! a [`Caller`] with an [`Access`]: every WABA, or the WABAs its tenant claim names.
//!
//! Authentication is API Gateway's (the JWT authorizer verified the signature, issuer,
//! audience and expiry); this module is the authorization: the token must carry the
//! configured scope or group ([`AccessPolicy::required_scope`], else 403 `insufficient_scope`)
//! and name the WABAs it may see ([`AccessPolicy::tenant_claim`], else 403 `no_tenant`).
//! A tenant claim value `*` grants every WABA. Pure: claims in, a decision out.

use std::collections::{BTreeSet, HashMap};

/// The claims a required scope may be found in: OAuth 2 `scope` (space-separated), Azure's
/// `scp`, Cognito's and others' groups.
pub const SCOPE_CLAIMS: [&str; 4] = ["scope", "scp", "cognito:groups", "groups"];

/// The default required scope (`AUTH_SCOPE`).
pub const DEFAULT_SCOPE: &str = "wa-insights/api";

/// The default tenant claim (`AUTH_TENANT_CLAIM`): the WABA ids a token may see.
pub const DEFAULT_TENANT_CLAIM: &str = "custom:waba_ids";

/// What a verified token must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    /// A value that must appear in one of [`SCOPE_CLAIMS`]; `None` requires none.
    pub required_scope: Option<String>,
    /// The claim holding the caller's WABA ids (`*` = all).
    pub tenant_claim: String,
}

impl Default for AccessPolicy {
    fn default() -> Self {
        Self {
            required_scope: Some(DEFAULT_SCOPE.to_string()),
            tenant_claim: DEFAULT_TENANT_CLAIM.to_string(),
        }
    }
}

/// The WABAs a caller may read and write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Every WABA (the local token, or a tenant claim of `*`).
    All,
    /// These WABA ids only (never empty).
    Wabas(BTreeSet<String>),
}

impl Access {
    /// Whether a fact of `waba_id` is visible.
    pub fn allows(&self, waba_id: &str) -> bool {
        match self {
            Access::All => true,
            Access::Wabas(w) => w.contains(waba_id),
        }
    }

    /// Whether anything of a person known to these WABAs is visible.
    pub fn allows_any<'a>(&self, wabas: impl IntoIterator<Item = &'a str>) -> bool {
        match self {
            Access::All => true,
            Access::Wabas(w) => wabas.into_iter().any(|x| w.contains(x)),
        }
    }

    /// Whether everything `other` may see, this access may see too.
    pub fn covers(&self, other: &Access) -> bool {
        match (self, other) {
            (Access::All, _) => true,
            (Access::Wabas(_), Access::All) => false,
            (Access::Wabas(mine), Access::Wabas(theirs)) => theirs.is_subset(mine),
        }
    }

    /// The one WABA of a caller restricted to exactly one (where new leads are filed).
    pub fn single(&self) -> Option<&str> {
        match self {
            Access::Wabas(w) if w.len() == 1 => w.iter().next().map(String::as_str),
            _ => None,
        }
    }

    /// Stored form: `*`, or the sorted ids joined by spaces.
    pub fn to_stored(&self) -> String {
        match self {
            Access::All => "*".to_string(),
            Access::Wabas(w) => w.iter().cloned().collect::<Vec<_>>().join(" "),
        }
    }

    /// Reads [`Access::to_stored`]'s form; an absent or empty value is [`Access::All`] (records
    /// written before access existed were made by callers who saw everything).
    pub fn from_stored(v: Option<&str>) -> Access {
        match v.map(str::trim) {
            None | Some("") | Some("*") => Access::All,
            Some(list) => Access::Wabas(list.split_whitespace().map(str::to_string).collect()),
        }
    }
}

/// An authenticated, authorized caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// For history and report records (`sub`, or `api-token` locally).
    pub name: String,
    pub access: Access,
}

impl Caller {
    /// The local stack's bearer token: sees everything.
    pub fn local() -> Caller {
        Caller {
            name: "api-token".to_string(),
            access: Access::All,
        }
    }
}

/// Why a verified token is refused (HTTP 403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("the token lacks the required scope or group {0:?}")]
    InsufficientScope(String),
    #[error("the token names no WABA in its {0:?} claim")]
    NoTenant(String),
    #[error("the token has no subject (sub)")]
    NoSubject,
}

impl AccessError {
    /// The API error code.
    pub fn code(&self) -> &'static str {
        match self {
            AccessError::InsufficientScope(_) => "insufficient_scope",
            AccessError::NoTenant(_) => "no_tenant",
            AccessError::NoSubject => "no_subject",
        }
    }
}

/// The values of one claim as API Gateway hands them over: a string, space- or
/// comma-separated, or an array flattened to `[a b]` / `["a","b"]`.
pub fn claim_values(raw: &str) -> Vec<String> {
    raw.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|v| v.trim_matches('"').trim())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// The caller a verified token's claims stand for, under `policy`.
pub fn caller_from_claims(
    claims: &HashMap<String, String>,
    policy: &AccessPolicy,
) -> Result<Caller, AccessError> {
    let name = claims
        .get("sub")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or(AccessError::NoSubject)?
        .to_string();
    if let Some(scope) = &policy.required_scope {
        let has = SCOPE_CLAIMS
            .iter()
            .filter_map(|c| claims.get(*c))
            .any(|v| claim_values(v).iter().any(|x| x == scope));
        if !has {
            return Err(AccessError::InsufficientScope(scope.clone()));
        }
    }
    let wabas: BTreeSet<String> = claims
        .get(&policy.tenant_claim)
        .map(|v| claim_values(v))
        .unwrap_or_default()
        .into_iter()
        .collect();
    let access = if wabas.contains("*") {
        Access::All
    } else if wabas.is_empty() {
        return Err(AccessError::NoTenant(policy.tenant_claim.clone()));
    } else {
        Access::Wabas(wabas)
    };
    Ok(Caller { name, access })
}

/// Which WABAs the leads and business numbers a report names belong to: the lead profiles'
/// sets (`waba_id` and `waba_ids`) and each number's WABA as its messages said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tenancy {
    pub lead_wabas: HashMap<String, Vec<String>>,
    pub phone_wabas: HashMap<String, String>,
}

impl Tenancy {
    /// Whether `access` may see the lead `lead_id` (unknown leads are not visible).
    pub fn lead_visible(&self, access: &Access, lead_id: &str) -> bool {
        *access == Access::All
            || self
                .lead_wabas
                .get(lead_id)
                .is_some_and(|w| access.allows_any(w.iter().map(String::as_str)))
    }

    /// Whether `access` may see facts of the business number `phone_number_id`.
    pub fn phone_visible(&self, access: &Access, phone_number_id: &str) -> bool {
        *access == Access::All
            || self
                .phone_wabas
                .get(phone_number_id)
                .is_some_and(|w| access.allows(w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn scope_and_tenant_are_both_required() {
        let p = AccessPolicy::default();
        let ok = claims(&[
            ("sub", "m1"),
            ("scope", "openid wa-insights/api"),
            ("custom:waba_ids", "111,222"),
        ]);
        let c = caller_from_claims(&ok, &p).unwrap();
        assert_eq!(c.name, "m1");
        assert_eq!(
            c.access,
            Access::Wabas(["111".to_string(), "222".to_string()].into())
        );
        let no_scope = claims(&[("sub", "m1"), ("custom:waba_ids", "111")]);
        assert_eq!(
            caller_from_claims(&no_scope, &p).unwrap_err().code(),
            "insufficient_scope"
        );
        let other_scope = claims(&[
            ("sub", "m1"),
            ("scope", "wa-insights/apix"),
            ("custom:waba_ids", "1"),
        ]);
        assert!(caller_from_claims(&other_scope, &p).is_err());
        let no_tenant = claims(&[("sub", "m1"), ("scope", "wa-insights/api")]);
        assert_eq!(
            caller_from_claims(&no_tenant, &p).unwrap_err().code(),
            "no_tenant"
        );
        let empty_tenant = claims(&[
            ("sub", "m1"),
            ("scope", "wa-insights/api"),
            ("custom:waba_ids", "[]"),
        ]);
        assert!(caller_from_claims(&empty_tenant, &p).is_err());
        let no_sub = claims(&[("scope", "wa-insights/api"), ("custom:waba_ids", "*")]);
        assert_eq!(
            caller_from_claims(&no_sub, &p).unwrap_err().code(),
            "no_subject"
        );
    }

    #[test]
    fn groups_arrays_and_the_wildcard() {
        let p = AccessPolicy {
            required_scope: Some("managers".into()),
            tenant_claim: "wabas".into(),
        };
        let c = caller_from_claims(
            &claims(&[
                ("sub", "m"),
                ("cognito:groups", "[admins managers]"),
                ("wabas", "[\"*\"]"),
            ]),
            &p,
        )
        .unwrap();
        assert_eq!(c.access, Access::All);
        let none = AccessPolicy {
            required_scope: None,
            tenant_claim: "wabas".into(),
        };
        let c = caller_from_claims(&claims(&[("sub", "m"), ("wabas", "9")]), &none).unwrap();
        assert_eq!(c.access.single(), Some("9"));
    }

    #[test]
    fn access_rules() {
        let a = Access::Wabas(["1".to_string()].into());
        let ab = Access::Wabas(["1".to_string(), "2".to_string()].into());
        assert!(a.allows("1") && !a.allows("2"));
        assert!(ab.covers(&a) && !a.covers(&ab) && !a.covers(&Access::All));
        assert!(Access::All.covers(&ab));
        assert!(a.allows_any(["3", "1"]) && !a.allows_any(["3"]));
        assert_eq!(Access::from_stored(Some(&ab.to_stored())), ab);
        assert_eq!(Access::from_stored(None), Access::All);
        assert_eq!(Access::from_stored(Some("*")), Access::All);
        assert_eq!(ab.single(), None);
    }
}
