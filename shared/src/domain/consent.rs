//! Consent signals from inbound traffic: STOP/START keywords (exact whole-message match
//! after trim and case-fold) and Meta's `user_preferences` stop/resume.

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
}
