//! Who owns a new lead: configured rules (by campaign, ad, language, country prefix), first
//! match wins, else round robin among agents.
//!
//! Config (JSON):
//! `{"rules":[{"name":"meta-spring","when":{"utm_campaign":"spring_sale"},"assign_to":"alice"}],
//!   "round_robin":["ed","fay","gus"]}`. `when` keys: `utm_campaign` and `source_id` (exact,
//! case-sensitive), `language` (the part before `_`/`-`, case-insensitive: `pt` matches
//! `pt_BR`), `country_prefix` (the phone's digits start with it). Several keys: all must match.
//! Round robin is deterministic: the caller draws a ticket from an atomic counter in storage and
//! agent `ticket % n` gets the lead, so concurrent creations split evenly.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use super::NO_OWNER;

/// The `when` keys a rule may use.
pub const WHEN_KEYS: &[&str] = &["utm_campaign", "source_id", "language", "country_prefix"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    UtmCampaign(String),
    SourceId(String),
    /// Lowercase language code, e.g. `pt`.
    Language(String),
    /// Digits, e.g. `62`.
    CountryPrefix(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentRule {
    pub name: String,
    /// All must match; never empty.
    pub when: Vec<Condition>,
    pub assign_to: String,
}

/// Validated assignment config; build it with [`AssignmentRules::from_json`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssignmentRules {
    rules: Vec<AssignmentRule>,
    round_robin: Vec<String>,
}

/// What is known about a lead when it is created.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssignmentInput {
    pub utm_campaign: Option<String>,
    pub source_id: Option<String>,
    /// A language tag such as `pt_BR`, `pt-BR` or `pt`.
    pub language: Option<String>,
    /// The user's phone (digits; `+` and separators are ignored).
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    /// The first rule that matched.
    Rule { rule: String, owner: String },
    /// No rule matched: take a ticket and call [`AssignmentRules::round_robin_owner`].
    RoundRobin,
    /// No rule matched and no round-robin agents are configured.
    Unassigned,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AssignmentError {
    #[error("assignment rules are not valid: {0}")]
    Json(String),
    #[error("round_robin[{index}] is an empty agent name")]
    EmptyAgent { index: usize },
    #[error("round_robin lists agent {name:?} twice")]
    DuplicateAgent { name: String },
    #[error(
        "{place}: {NO_OWNER:?} is reserved (it means \"no owner\" in filters) and cannot be an agent name"
    )]
    ReservedOwner { place: String },
    #[error("rules[{index}] has an empty name")]
    EmptyRuleName { index: usize },
    #[error("rule name {name:?} is used twice")]
    DuplicateRule { name: String },
    #[error("rule {rule:?} has no `when` keys (allowed: {})", WHEN_KEYS.join(", "))]
    EmptyWhen { rule: String },
    #[error("rule {rule:?} has unknown `when` key(s): {}; allowed: {}", keys.join(", "), WHEN_KEYS.join(", "))]
    UnknownWhenKeys { rule: String, keys: Vec<String> },
    #[error("rule {rule:?}: invalid `when` {key}={value}: {reason}")]
    InvalidWhen {
        rule: String,
        key: String,
        value: String,
        reason: &'static str,
    },
    #[error("rule {rule:?} has an empty assign_to")]
    EmptyAssignTo { rule: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    round_robin: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    #[serde(default)]
    when: BTreeMap<String, Value>,
    assign_to: String,
}

fn is_reserved(owner: &str) -> bool {
    owner.eq_ignore_ascii_case(NO_OWNER)
}

/// The language part of a tag: `pt_BR` → `pt`.
fn language_prefix(tag: &str) -> &str {
    let tag = tag.trim();
    tag.split(['_', '-']).next().unwrap_or(tag)
}

fn condition(rule: &str, key: &str, value: &Value) -> Result<Condition, AssignmentError> {
    let bad = |reason| AssignmentError::InvalidWhen {
        rule: rule.to_owned(),
        key: key.to_owned(),
        value: value.to_string(),
        reason,
    };
    let s = value
        .as_str()
        .ok_or_else(|| bad("expected a string"))?
        .trim();
    if s.is_empty() {
        return Err(bad("empty value"));
    }
    Ok(match key {
        "utm_campaign" => Condition::UtmCampaign(s.to_owned()),
        "source_id" => Condition::SourceId(s.to_owned()),
        "language" => {
            if !(2..=8).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(bad(
                    "expected a bare language code such as \"pt\" (it matches pt_BR, pt-PT, …)",
                ));
            }
            Condition::Language(s.to_ascii_lowercase())
        }
        _ => {
            let digits = s.strip_prefix('+').unwrap_or(s);
            if !(1..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(
                    "expected the leading digits of a phone number, such as \"62\"",
                ));
            }
            Condition::CountryPrefix(digits.to_owned())
        }
    })
}

impl Condition {
    /// The `when` key this condition came from.
    pub fn key(&self) -> &'static str {
        match self {
            Condition::UtmCampaign(_) => "utm_campaign",
            Condition::SourceId(_) => "source_id",
            Condition::Language(_) => "language",
            Condition::CountryPrefix(_) => "country_prefix",
        }
    }

    pub fn matches(&self, input: &AssignmentInput) -> bool {
        match self {
            Condition::UtmCampaign(c) => input.utm_campaign.as_ref() == Some(c),
            Condition::SourceId(s) => input.source_id.as_ref() == Some(s),
            Condition::Language(l) => input
                .language
                .as_deref()
                .is_some_and(|tag| language_prefix(tag).eq_ignore_ascii_case(l)),
            Condition::CountryPrefix(p) => input.phone.as_deref().is_some_and(|phone| {
                let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
                digits.starts_with(p.as_str())
            }),
        }
    }
}

impl AssignmentRules {
    /// Parses and validates the JSON config. `rules` and `round_robin` may be left out; unknown
    /// fields are errors (a misspelt `assign_to` must not silently drop a rule).
    pub fn from_json(json: &str) -> Result<AssignmentRules, AssignmentError> {
        let json_err = |e: serde_json::Error| AssignmentError::Json(e.to_string());
        let value: Value = serde_json::from_str(json).map_err(json_err)?;
        if !value.is_object() {
            // serde would also build a struct from an array; the config is an object.
            return Err(AssignmentError::Json(format!(
                "expected a JSON object, found {value}"
            )));
        }
        let raw = RawConfig::deserialize(value).map_err(json_err)?;

        let mut round_robin: Vec<String> = Vec::with_capacity(raw.round_robin.len());
        for (index, agent) in raw.round_robin.iter().enumerate() {
            let agent = agent.trim();
            if agent.is_empty() {
                return Err(AssignmentError::EmptyAgent { index });
            }
            if is_reserved(agent) {
                return Err(AssignmentError::ReservedOwner {
                    place: format!("round_robin[{index}]"),
                });
            }
            if round_robin.iter().any(|a| a == agent) {
                return Err(AssignmentError::DuplicateAgent {
                    name: agent.to_owned(),
                });
            }
            round_robin.push(agent.to_owned());
        }

        let mut rules: Vec<AssignmentRule> = Vec::with_capacity(raw.rules.len());
        for (index, rule) in raw.rules.iter().enumerate() {
            let name = rule.name.trim();
            if name.is_empty() {
                return Err(AssignmentError::EmptyRuleName { index });
            }
            if rules.iter().any(|r| r.name == name) {
                return Err(AssignmentError::DuplicateRule {
                    name: name.to_owned(),
                });
            }
            let unknown: Vec<String> = rule
                .when
                .keys()
                .filter(|k| !WHEN_KEYS.contains(&k.as_str()))
                .cloned()
                .collect();
            if !unknown.is_empty() {
                return Err(AssignmentError::UnknownWhenKeys {
                    rule: name.to_owned(),
                    keys: unknown,
                });
            }
            if rule.when.is_empty() {
                return Err(AssignmentError::EmptyWhen {
                    rule: name.to_owned(),
                });
            }
            let when = rule
                .when
                .iter()
                .map(|(k, v)| condition(name, k, v))
                .collect::<Result<Vec<_>, _>>()?;
            let assign_to = rule.assign_to.trim();
            if assign_to.is_empty() {
                return Err(AssignmentError::EmptyAssignTo {
                    rule: name.to_owned(),
                });
            }
            if is_reserved(assign_to) {
                return Err(AssignmentError::ReservedOwner {
                    place: format!("rule {name:?} assign_to"),
                });
            }
            rules.push(AssignmentRule {
                name: name.to_owned(),
                when,
                assign_to: assign_to.to_owned(),
            });
        }
        Ok(AssignmentRules { rules, round_robin })
    }

    pub fn rules(&self) -> &[AssignmentRule] {
        &self.rules
    }

    /// The round-robin agents, in configured order.
    pub fn agents(&self) -> &[String] {
        &self.round_robin
    }

    /// The first rule whose conditions all match; else round robin if agents are configured.
    pub fn decide(&self, input: &AssignmentInput) -> Assignment {
        if let Some(rule) = self
            .rules
            .iter()
            .find(|r| r.when.iter().all(|c| c.matches(input)))
        {
            return Assignment::Rule {
                rule: rule.name.clone(),
                owner: rule.assign_to.clone(),
            };
        }
        if self.round_robin.is_empty() {
            Assignment::Unassigned
        } else {
            Assignment::RoundRobin
        }
    }

    /// Agent `ticket % n`; `None` when no agents are configured.
    pub fn round_robin_owner(&self, ticket: u64) -> Option<&str> {
        let n = self.round_robin.len() as u64;
        if n == 0 {
            return None;
        }
        // The remainder is < n, which came from a usize.
        let index = usize::try_from(ticket % n).ok()?;
        self.round_robin.get(index).map(String::as_str)
    }
}

impl AssignmentInput {
    /// What the webhook knows of a lead from its creating message: the referral's campaign
    /// and ad, and the phone. Webhooks carry no user language: the phone's country stands in
    /// for it.
    pub fn of_message(msg: &crate::domain::webhook::Inbound<'_>) -> AssignmentInput {
        use crate::domain::attribution::{language_of_phone, utm_of};
        AssignmentInput {
            utm_campaign: msg.referral.as_ref().map(utm_of).and_then(|u| u.campaign),
            source_id: msg
                .referral
                .as_ref()
                .and_then(|r| r.source_id.as_deref())
                .map(str::to_string),
            language: msg.phone().and_then(language_of_phone).map(str::to_string),
            phone: msg.phone().map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{"rules":[
        {"name":"meta-spring","when":{"utm_campaign":"spring_sale"},"assign_to":"alice"},
        {"name":"ad-123","when":{"source_id":"120201234"},"assign_to":"bob"},
        {"name":"pt","when":{"language":"pt"},"assign_to":"carla"},
        {"name":"indonesia","when":{"country_prefix":"62"},"assign_to":"dewi"}],
        "round_robin":["ed","fay","gus"]}"#;

    fn input(
        campaign: Option<&str>,
        source: Option<&str>,
        lang: Option<&str>,
        phone: Option<&str>,
    ) -> AssignmentInput {
        AssignmentInput {
            utm_campaign: campaign.map(Into::into),
            source_id: source.map(Into::into),
            language: lang.map(Into::into),
            phone: phone.map(Into::into),
        }
    }

    fn rule(name: &str, owner: &str) -> Assignment {
        Assignment::Rule {
            rule: name.into(),
            owner: owner.into(),
        }
    }

    #[test]
    fn parses_the_example() {
        let r = AssignmentRules::from_json(EXAMPLE).unwrap();
        assert_eq!(r.agents(), ["ed", "fay", "gus"]);
        assert_eq!(r.rules().len(), 4);
        assert_eq!(
            r.rules()[3].when,
            vec![Condition::CountryPrefix("62".into())]
        );
        assert_eq!(r.rules()[3].when[0].key(), "country_prefix");
    }

    #[test]
    fn first_matching_rule_wins() {
        let r = AssignmentRules::from_json(EXAMPLE).unwrap();
        // Matches every rule: the first one listed wins.
        let all = input(
            Some("spring_sale"),
            Some("120201234"),
            Some("pt_BR"),
            Some("6281234567"),
        );
        assert_eq!(r.decide(&all), rule("meta-spring", "alice"));
        let no_campaign = AssignmentInput {
            utm_campaign: Some("other".into()),
            ..all.clone()
        };
        assert_eq!(r.decide(&no_campaign), rule("ad-123", "bob"));
        let only_lang_and_phone = input(None, None, Some("pt_BR"), Some("6281234567"));
        assert_eq!(r.decide(&only_lang_and_phone), rule("pt", "carla"));
        assert_eq!(
            r.decide(&input(None, None, Some("id"), Some("6281234567"))),
            rule("indonesia", "dewi")
        );
        assert_eq!(
            r.decide(&input(None, None, None, Some("5511987654321"))),
            Assignment::RoundRobin
        );
        assert_eq!(
            r.decide(&AssignmentInput::default()),
            Assignment::RoundRobin
        );
    }

    #[test]
    fn campaign_and_source_are_exact() {
        let r = AssignmentRules::from_json(EXAMPLE).unwrap();
        assert_eq!(
            r.decide(&input(Some("Spring_Sale"), None, None, None)),
            Assignment::RoundRobin
        );
        assert_eq!(
            r.decide(&input(None, Some("1202012345"), None, None)),
            Assignment::RoundRobin
        );
    }

    #[test]
    fn language_matches_the_prefix_case_insensitively() {
        let r = AssignmentRules::from_json(EXAMPLE).unwrap();
        for tag in ["pt", "pt_BR", "pt-PT", "PT_br", " pt "] {
            assert_eq!(
                r.decide(&input(None, None, Some(tag), None)),
                rule("pt", "carla"),
                "{tag}"
            );
        }
        for tag in ["ptx", "es_PT", "", "p"] {
            assert_eq!(
                r.decide(&input(None, None, Some(tag), None)),
                Assignment::RoundRobin,
                "{tag}"
            );
        }
    }

    #[test]
    fn country_prefix_matches_leading_digits() {
        let r = AssignmentRules::from_json(EXAMPLE).unwrap();
        assert_eq!(
            r.decide(&input(None, None, None, Some("+62 812-3456"))),
            rule("indonesia", "dewi")
        );
        assert_eq!(
            r.decide(&input(None, None, None, Some("16205550100"))),
            Assignment::RoundRobin
        );
        let plus = AssignmentRules::from_json(
            r#"{"rules":[{"name":"br","when":{"country_prefix":"+55"},"assign_to":"x"}]}"#,
        )
        .unwrap();
        assert_eq!(
            plus.rules()[0].when,
            vec![Condition::CountryPrefix("55".into())]
        );
    }

    #[test]
    fn multi_key_when_needs_all() {
        let r = AssignmentRules::from_json(
            r#"{"rules":[{"name":"id-spring","when":{"utm_campaign":"spring_sale","country_prefix":"62"},"assign_to":"dewi"}]}"#,
        )
        .unwrap();
        assert_eq!(
            r.decide(&input(Some("spring_sale"), None, None, Some("6281234567"))),
            rule("id-spring", "dewi")
        );
        assert_eq!(
            r.decide(&input(Some("spring_sale"), None, None, Some("5511987654"))),
            Assignment::Unassigned
        );
        assert_eq!(
            r.decide(&input(None, None, None, Some("6281234567"))),
            Assignment::Unassigned
        );
    }

    #[test]
    fn no_agents_means_unassigned() {
        let r = AssignmentRules::from_json("{}").unwrap();
        assert_eq!(
            r.decide(&AssignmentInput::default()),
            Assignment::Unassigned
        );
        assert_eq!(r.round_robin_owner(0), None);
        assert_eq!(r.round_robin_owner(7), None);
    }

    #[test]
    fn round_robin_splits_evenly() {
        let r = AssignmentRules::from_json(EXAMPLE).unwrap();
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for ticket in 0..10 {
            *counts
                .entry(r.round_robin_owner(ticket).unwrap())
                .or_default() += 1;
        }
        assert_eq!(counts, BTreeMap::from([("ed", 4), ("fay", 3), ("gus", 3)]));
        assert_eq!(r.round_robin_owner(0), Some("ed"));
        assert_eq!(r.round_robin_owner(4), Some("fay"));
        assert_eq!(r.round_robin_owner(u64::MAX), Some("ed")); // u64::MAX % 3 == 0
    }

    #[test]
    fn config_errors_name_the_problem() {
        let err = |json: &str| AssignmentRules::from_json(json).unwrap_err();
        assert_eq!(
            err(r#"{"round_robin":["ed"," "]}"#),
            AssignmentError::EmptyAgent { index: 1 }
        );
        assert_eq!(
            err(r#"{"round_robin":["ed","ed"]}"#),
            AssignmentError::DuplicateAgent { name: "ed".into() }
        );
        assert_eq!(
            err(r#"{"round_robin":["None"]}"#).to_string(),
            "round_robin[0]: \"none\" is reserved (it means \"no owner\" in filters) and cannot be an agent name"
        );
        assert_eq!(
            err(r#"{"rules":[{"name":"r1","when":{},"assign_to":"a"}]}"#),
            AssignmentError::EmptyWhen { rule: "r1".into() }
        );
        assert_eq!(
            err(r#"{"rules":[{"name":"r1","assign_to":"a"}]}"#),
            AssignmentError::EmptyWhen { rule: "r1".into() }
        );
        let unknown = err(
            r#"{"rules":[{"name":"r1","when":{"utm_campain":"x","city":"y","language":"pt"},"assign_to":"a"}]}"#,
        );
        assert_eq!(
            unknown,
            AssignmentError::UnknownWhenKeys {
                rule: "r1".into(),
                keys: vec!["city".into(), "utm_campain".into()]
            }
        );
        assert_eq!(
            unknown.to_string(),
            "rule \"r1\" has unknown `when` key(s): city, utm_campain; allowed: utm_campaign, source_id, language, country_prefix"
        );
        assert_eq!(
            err(r#"{"rules":[{"name":"","when":{"language":"pt"},"assign_to":"a"}]}"#),
            AssignmentError::EmptyRuleName { index: 0 }
        );
        assert_eq!(
            err(
                r#"{"rules":[{"name":"a","when":{"language":"pt"},"assign_to":"x"},{"name":"a","when":{"language":"id"},"assign_to":"y"}]}"#
            ),
            AssignmentError::DuplicateRule { name: "a".into() }
        );
        assert_eq!(
            err(r#"{"rules":[{"name":"r","when":{"language":"pt"},"assign_to":" "}]}"#),
            AssignmentError::EmptyAssignTo { rule: "r".into() }
        );
        assert!(matches!(
            err(r#"{"rules":[{"name":"r","when":{"language":"pt"},"assign_to":"none"}]}"#),
            AssignmentError::ReservedOwner { .. }
        ));
        assert_eq!(
            err(r#"{"rules":[{"name":"r","when":{"country_prefix":62},"assign_to":"a"}]}"#),
            AssignmentError::InvalidWhen {
                rule: "r".into(),
                key: "country_prefix".into(),
                value: "62".into(),
                reason: "expected a string"
            }
        );
        assert!(matches!(
            err(r#"{"rules":[{"name":"r","when":{"country_prefix":"62a"},"assign_to":"a"}]}"#),
            AssignmentError::InvalidWhen { .. }
        ));
        assert!(matches!(
            err(r#"{"rules":[{"name":"r","when":{"language":"pt_BR"},"assign_to":"a"}]}"#),
            AssignmentError::InvalidWhen { .. }
        ));
        assert!(matches!(
            err(r#"{"rules":[{"name":"r","when":{"utm_campaign":""},"assign_to":"a"}]}"#),
            AssignmentError::InvalidWhen {
                reason: "empty value",
                ..
            }
        ));
        let typo = err(r#"{"rules":[{"name":"r","when":{"language":"pt"},"asign_to":"a"}]}"#);
        assert!(
            typo.to_string().contains("unknown field `asign_to`"),
            "{typo}"
        );
        assert_eq!(
            err("[]").to_string(),
            "assignment rules are not valid: expected a JSON object, found []"
        );
        assert!(matches!(err("{"), AssignmentError::Json(_)));
        assert!(matches!(
            err(r#"{"round_robin":["a"],"agents":[]}"#),
            AssignmentError::Json(_)
        ));
    }
}
