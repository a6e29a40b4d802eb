//! Consent signals from inbound traffic: STOP/START keywords (exact whole-message match
//! after trim and case-fold) and Meta's `user_preferences` stop/resume; and the one list of
//! consent sources ([`ConsentSource`]) every writer of a consent event spells from.

use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentAction {
    OptOut,
    OptIn,
}

impl ConsentAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentAction::OptOut => "opt_out",
            ConsentAction::OptIn => "opt_in",
        }
    }
}

/// Where a consent event came from: the `source` of every consent event item
/// (`USER#…`/`CONSENT#…`), the `source` of `POST /v1/consent`, an import row's
/// `opt_in_source` and the API's consent history. The webhook's signals are `keyword` and
/// `user_preferences`; a manager (API or import) names the channel the opt-in was collected
/// on. One list, so the API, the import, the ingest and `docs/openapi.yaml` cannot drift
/// (`tests/tests/it/openapi.rs` pins the document to [`ConsentSource::ALL`] and
/// [`ConsentSource::RECORDABLE`]).
///
/// Not the metrics' `domain::metrics::input::ConsentSource`: that one is the channel a
/// consent change arrived by (`keyword`, `user_preferences`, `api`, `import`), which the
/// reports derive from this source and the event's `recorded_via`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentSource {
    /// A STOP/START keyword message (webhook).
    Keyword,
    /// Meta's `user_preferences` stop/resume (webhook).
    UserPreferences,
    /// Recorded through the API without a more specific channel.
    Api,
    WebForm,
    Qr,
    InApp,
    Sms,
    Store,
    Other,
}

impl ConsentSource {
    /// Every source a consent event may carry, in the order `docs/openapi.yaml` lists them.
    pub const ALL: [ConsentSource; 9] = [
        ConsentSource::Keyword,
        ConsentSource::UserPreferences,
        ConsentSource::Api,
        ConsentSource::WebForm,
        ConsentSource::Qr,
        ConsentSource::InApp,
        ConsentSource::Sms,
        ConsentSource::Store,
        ConsentSource::Other,
    ];

    /// What `POST /v1/consent` accepts as its `source` (the webhook's own sources are not a
    /// manager's to record).
    pub const RECORDABLE: [ConsentSource; 7] = [
        ConsentSource::Api,
        ConsentSource::WebForm,
        ConsentSource::Qr,
        ConsentSource::InApp,
        ConsentSource::Sms,
        ConsentSource::Store,
        ConsentSource::Other,
    ];

    /// What an import row's `opt_in_source` may name (an empty cell is [`Other`](Self::Other)).
    pub const IMPORTABLE: [ConsentSource; 6] = [
        ConsentSource::WebForm,
        ConsentSource::Qr,
        ConsentSource::InApp,
        ConsentSource::Sms,
        ConsentSource::Store,
        ConsentSource::Other,
    ];

    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentSource::Keyword => "keyword",
            ConsentSource::UserPreferences => "user_preferences",
            ConsentSource::Api => "api",
            ConsentSource::WebForm => "web_form",
            ConsentSource::Qr => "qr",
            ConsentSource::InApp => "in_app",
            ConsentSource::Sms => "sms",
            ConsentSource::Store => "store",
            ConsentSource::Other => "other",
        }
    }

    /// The exact spelling (as the API takes it).
    pub fn parse(s: &str) -> Option<ConsentSource> {
        ConsentSource::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// `s` if it is exactly one of `allowed` (the API's `source`).
    pub fn parse_in(s: &str, allowed: &[ConsentSource]) -> Option<ConsentSource> {
        ConsentSource::parse(s).filter(|x| allowed.contains(x))
    }

    /// `s`, trimmed and case-insensitive, if it is one of `allowed` (an import cell).
    pub fn parse_lenient_in(s: &str, allowed: &[ConsentSource]) -> Option<ConsentSource> {
        let s = s.trim();
        allowed
            .iter()
            .copied()
            .find(|x| x.as_str().eq_ignore_ascii_case(s))
    }

    /// The spellings of `sources`, comma-separated (for "expected one of …" messages).
    pub fn list(sources: &[ConsentSource]) -> String {
        sources
            .iter()
            .map(|x| x.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Multi-language defaults (English, Indonesian, Portuguese, Spanish).
pub const DEFAULT_STOP_KEYWORDS: &[&str] = &[
    "stop",
    "unsubscribe",
    "berhenti",
    "parar",
    "sair",
    "cancelar",
    "baja",
    "stopp",
];
pub const DEFAULT_START_KEYWORDS: &[&str] =
    &["start", "resume", "mulai", "voltar", "alta", "unstop"];

/// Configured keyword sets, normalised once.
#[derive(Debug, Clone)]
pub struct ConsentKeywords {
    stop: HashSet<String>,
    start: HashSet<String>,
}

impl Default for ConsentKeywords {
    fn default() -> Self {
        Self::new(
            DEFAULT_STOP_KEYWORDS.iter().copied(),
            DEFAULT_START_KEYWORDS.iter().copied(),
        )
    }
}

impl ConsentKeywords {
    pub fn new<'a>(
        stop: impl IntoIterator<Item = &'a str>,
        start: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let norm = |it: &mut dyn Iterator<Item = &'a str>| {
            it.map(normalise)
                .filter(|s| !s.is_empty())
                .collect::<HashSet<_>>()
        };
        Self {
            stop: norm(&mut stop.into_iter()),
            start: norm(&mut start.into_iter()),
        }
    }

    /// Configured lists replace the defaults; an unset list keeps its defaults.
    pub fn configured(stop: Option<&[String]>, start: Option<&[String]>) -> Self {
        let pick =
            |configured: Option<&[String]>, defaults: &'static [&'static str]| -> Vec<String> {
                match configured {
                    Some(list) => list.to_vec(),
                    None => defaults.iter().map(|s| s.to_string()).collect(),
                }
            };
        let (stop, start) = (
            pick(stop, DEFAULT_STOP_KEYWORDS),
            pick(start, DEFAULT_START_KEYWORDS),
        );
        Self::new(
            stop.iter().map(String::as_str),
            start.iter().map(String::as_str),
        )
    }

    /// The whole message, trimmed and case-folded, must equal a keyword:
    /// "STOP" and " stop " opt out; "stop the music" does not.
    pub fn classify(&self, text: &str) -> Option<ConsentAction> {
        // Cheap pre-check: keywords are short; most messages are not.
        if text.len() > 64 {
            return None;
        }
        let key = normalise(text);
        if self.stop.contains(&key) {
            Some(ConsentAction::OptOut)
        } else if self.start.contains(&key) {
            Some(ConsentAction::OptIn)
        } else {
            None
        }
    }
}

fn normalise(s: &str) -> String {
    s.trim().to_lowercase()
}

/// `user_preferences[].value`: `stop` / `resume`; other values are not consent changes.
pub fn from_user_preference(value: &str) -> Option<ConsentAction> {
    match value.trim().to_ascii_lowercase().as_str() {
        "stop" => Some(ConsentAction::OptOut),
        "resume" => Some(ConsentAction::OptIn),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_whole_message_match_after_trim_and_case_fold() {
        let k = ConsentKeywords::default();
        assert_eq!(k.classify("STOP"), Some(ConsentAction::OptOut));
        assert_eq!(k.classify("  stop \n"), Some(ConsentAction::OptOut));
        assert_eq!(k.classify("Berhenti"), Some(ConsentAction::OptOut));
        assert_eq!(k.classify("PARAR"), Some(ConsentAction::OptOut));
        assert_eq!(k.classify("Start"), Some(ConsentAction::OptIn));
        assert_eq!(k.classify("stop the music"), None);
        assert_eq!(k.classify("please stop"), None);
        assert_eq!(k.classify("stop!"), None);
        assert_eq!(k.classify(""), None);
    }

    #[test]
    fn configured_keywords_replace_the_defaults() {
        let k = ConsentKeywords::new(["ALTO", " halt "], ["GO"]);
        assert_eq!(k.classify("alto"), Some(ConsentAction::OptOut));
        assert_eq!(k.classify("HALT"), Some(ConsentAction::OptOut));
        assert_eq!(k.classify("go"), Some(ConsentAction::OptIn));
        assert_eq!(k.classify("stop"), None);
        let only_stop = ConsentKeywords::configured(Some(&["alto".to_string()]), None);
        assert_eq!(only_stop.classify("alto"), Some(ConsentAction::OptOut));
        assert_eq!(
            only_stop.classify("start"),
            Some(ConsentAction::OptIn),
            "unset START list keeps defaults"
        );
    }

    #[test]
    fn user_preference_values() {
        assert_eq!(from_user_preference("stop"), Some(ConsentAction::OptOut));
        assert_eq!(from_user_preference("resume"), Some(ConsentAction::OptIn));
        assert_eq!(from_user_preference("signup"), None);
    }

    #[test]
    fn consent_sources_round_trip_and_each_list_parses_only_its_own() {
        for s in ConsentSource::ALL {
            assert_eq!(ConsentSource::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(
                json,
                format!("\"{}\"", s.as_str()),
                "serde spells it as_str does"
            );
        }
        assert_eq!(
            ConsentSource::parse("Web_Form"),
            None,
            "the API's spelling is exact"
        );
        assert_eq!(
            ConsentSource::parse_in("keyword", &ConsentSource::RECORDABLE),
            None
        );
        assert_eq!(
            ConsentSource::parse_in("api", &ConsentSource::RECORDABLE),
            Some(ConsentSource::Api)
        );
        assert_eq!(
            ConsentSource::parse_lenient_in(" QR ", &ConsentSource::IMPORTABLE),
            Some(ConsentSource::Qr)
        );
        assert_eq!(
            ConsentSource::parse_lenient_in("api", &ConsentSource::IMPORTABLE),
            None
        );
        assert_eq!(
            ConsentSource::list(&ConsentSource::RECORDABLE),
            "api, web_form, qr, in_app, sms, store, other"
        );
        assert_eq!(
            ConsentSource::list(&ConsentSource::IMPORTABLE),
            "web_form, qr, in_app, sms, store, other"
        );
        assert!(
            ConsentSource::RECORDABLE
                .iter()
                .all(|s| ConsentSource::ALL.contains(s))
        );
        assert!(
            ConsentSource::IMPORTABLE
                .iter()
                .all(|s| ConsentSource::RECORDABLE.contains(s))
        );
    }
}
