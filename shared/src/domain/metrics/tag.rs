//! Sender tags carried in `biz_opaque_callback_data`.
//!
//! Two spellings: `key=value` pairs separated by `;` (whitespace around keys, values and
//! pairs trimmed; empty pairs skipped), or a JSON object. Keys (case-insensitive): `template`,
//! `campaign`, `by` (`bot` | `human`, case-insensitive; absent or anything else = human),
//! `agent`; other keys are ignored. The first occurrence of a key wins; an empty value counts
//! as absent. JSON values may be strings or numbers (template ids are often numeric).
//!
//! A malformed tag (a pair without `=` or with an empty key, or text starting with `{` that is
//! not a JSON object) is ignored as a whole: every field is empty and the sender is human. The
//! raw text stays in the store; it is never an error.

use serde_json::Value;

/// Who sent an outbound message, from the tag's `by` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Responder {
    Bot,
    #[default]
    Human,
}

impl Responder {
    pub fn as_str(self) -> &'static str {
        match self {
            Responder::Bot => "bot",
            Responder::Human => "human",
        }
    }
}

/// A parsed sender tag.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SenderTag {
    pub template: Option<String>,
    pub campaign: Option<String>,
    pub by: Responder,
    pub agent: Option<String>,
    /// The raw text was not a valid tag and was ignored.
    pub malformed: bool,
}

/// Parses a raw `biz_opaque_callback_data`; never fails (see the module docs).
pub fn parse_tag(raw: &str) -> SenderTag {
    let text = raw.trim();
    let pairs = if text.starts_with('{') {
        json_pairs(text)
    } else {
        kv_pairs(text)
    };
    let Some(pairs) = pairs else {
        return SenderTag {
            malformed: true,
            ..SenderTag::default()
        };
    };
    let mut tag = SenderTag::default();
    let mut by: Option<String> = None;
    for (key, value) in pairs {
        let slot = match key.to_ascii_lowercase().as_str() {
            "template" => &mut tag.template,
            "campaign" => &mut tag.campaign,
            "agent" => &mut tag.agent,
            "by" => &mut by,
            _ => continue,
        };
        if slot.is_none() && !value.is_empty() {
            *slot = Some(value);
        }
    }
    if by.is_some_and(|b| b.eq_ignore_ascii_case("bot")) {
        tag.by = Responder::Bot;
    }
    tag
}

/// Parses an optional raw tag (`None` → an empty, human tag).
pub fn parse_opt_tag(raw: Option<&str>) -> SenderTag {
    raw.map(parse_tag).unwrap_or_default()
}

fn kv_pairs(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for part in text.split(';') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=')?;
        let k = k.trim();
        if k.is_empty() {
            return None;
        }
        out.push((k.to_string(), v.trim().to_string()));
    }
    Some(out)
}

fn json_pairs(text: &str) -> Option<Vec<(String, String)>> {
    let map: serde_json::Map<String, Value> = serde_json::from_str(text).ok()?;
    let mut out = Vec::new();
    for (k, v) in map {
        let v = match v {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            _ => continue,
        };
        out.push((k.trim().to_string(), v));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_pairs() {
        let t = parse_tag(" template = welcome_v2 ; campaign=bf26;by=bot; agent=a7 ;");
        assert_eq!(t.template.as_deref(), Some("welcome_v2"));
        assert_eq!(t.campaign.as_deref(), Some("bf26"));
        assert_eq!(t.agent.as_deref(), Some("a7"));
        assert_eq!(t.by, Responder::Bot);
        assert!(!t.malformed);
    }

    #[test]
    fn by_defaults_to_human() {
        assert_eq!(parse_tag("template=x").by, Responder::Human);
        assert_eq!(parse_tag("by=robot").by, Responder::Human);
        assert_eq!(parse_tag("by=human").by, Responder::Human);
        assert_eq!(parse_tag("BY=Bot").by, Responder::Bot);
        assert_eq!(parse_tag("").by, Responder::Human);
        assert_eq!(parse_opt_tag(None), SenderTag::default());
    }

    #[test]
    fn json_object() {
        let t = parse_tag(r#"{"template": 123456, "by": "bot", "campaign": "c", "x": [1]}"#);
        assert_eq!(t.template.as_deref(), Some("123456"));
        assert_eq!(t.campaign.as_deref(), Some("c"));
        assert_eq!(t.by, Responder::Bot);
        assert!(!t.malformed);
    }

    #[test]
    fn malformed_tags_are_ignored() {
        for raw in [
            "c",
            "template=x;oops",
            "=v",
            "{not json",
            "{\"a\":1",
            "[1,2]",
        ] {
            let t = parse_tag(raw);
            assert!(t.malformed, "{raw}");
            assert_eq!(t.template, None, "{raw}");
            assert_eq!(t.by, Responder::Human, "{raw}");
        }
    }

    #[test]
    fn first_key_wins_and_empty_is_absent() {
        let t = parse_tag("template=;template=a;template=b;a=b=c");
        assert_eq!(t.template.as_deref(), Some("a"));
    }
}
