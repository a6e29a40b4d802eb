//! The lead lifecycle: configured stages and which stage changes are allowed.
//!
//! Transition rules (pinned by tests):
//! - the target must be a configured stage;
//! - moving to the stage the lead is already in is an error (there is no change to record);
//! - between non-terminal stages any move is allowed, forwards or backwards (sales re-qualifies
//!   a lead, or skips a step);
//! - any non-terminal stage may move into a terminal stage;
//! - a terminal stage may only move back to the first stage ("reopen"). Won → lost is two
//!   changes (reopen, then lost), so the history shows both decisions;
//! - a lead whose stage is no longer configured (the lifecycle was edited since) may move to any
//!   configured stage, so it is never stuck.

use thiserror::Error;

/// new → qualified → in_progress → won / lost; `!` marks a terminal stage.
pub const DEFAULT_LIFECYCLE: &str = "new,qualified,in_progress,won!,lost!";

/// A valid lifecycle: at least one stage, unique names, a non-terminal first stage. The fields
/// are private so that every value has passed [`Lifecycle::from_config`] (or is the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    stages: Vec<String>,
    terminal: Vec<String>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        let owned = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect();
        Lifecycle {
            stages: owned(&["new", "qualified", "in_progress", "won", "lost"]),
            terminal: owned(&["won", "lost"]),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LifecycleError {
    #[error("lifecycle has no stages (expected e.g. \"{DEFAULT_LIFECYCLE}\")")]
    NoStages,
    #[error("lifecycle stage {position} is empty (a stray or doubled comma?)")]
    EmptyName { position: usize },
    #[error(
        "lifecycle stage {name:?} is not a valid name: use 1 to 64 lowercase letters, digits, '_' or '-', and '!' only at the end to mark a terminal stage"
    )]
    InvalidName { name: String },
    #[error("lifecycle stage {name:?} is listed twice")]
    Duplicate { name: String },
    #[error(
        "the first lifecycle stage {name:?} is where new leads start, so it cannot be terminal"
    )]
    InitialTerminal { name: String },
}

/// A refused stage change. Every variant names the stages allowed from `from`
/// ([`StageError::allowed`]) so the API can tell the caller what would work.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StageError {
    #[error("unknown stage {to:?}; allowed from {from:?}: {}", allowed.join(", "))]
    UnknownStage {
        from: String,
        to: String,
        allowed: Vec<String>,
    },
    #[error("the lead is already in stage {from:?}; allowed from {from:?}: {}", allowed.join(", "))]
    Unchanged { from: String, allowed: Vec<String> },
    #[error(
        "stage {from:?} is terminal: a lead can only be reopened from it, not moved to {to:?}; allowed from {from:?}: {}",
        allowed.join(", ")
    )]
    LeavingTerminal {
        from: String,
        to: String,
        allowed: Vec<String>,
    },
}

impl StageError {
    /// The stages the lead may move to instead.
    pub fn allowed(&self) -> &[String] {
        match self {
            StageError::UnknownStage { allowed, .. }
            | StageError::Unchanged { allowed, .. }
            | StageError::LeavingTerminal { allowed, .. } => allowed,
        }
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl Lifecycle {
    /// Parses `"new,qualified,in_progress,won!,lost!"`: stages in order, comma-separated,
    /// `!` after a name marks it terminal. Whitespace around names is ignored.
    pub fn from_config(config: &str) -> Result<Lifecycle, LifecycleError> {
        if config.trim().is_empty() {
            return Err(LifecycleError::NoStages);
        }
        let mut stages: Vec<String> = Vec::new();
        let mut terminal = Vec::new();
        for (i, part) in config.split(',').enumerate() {
            let part = part.trim();
            let (name, is_terminal) = match part.strip_suffix('!') {
                Some(name) => (name.trim_end(), true),
                None => (part, false),
            };
            if name.is_empty() {
                return Err(LifecycleError::EmptyName { position: i + 1 });
            }
            if !valid_name(name) {
                return Err(LifecycleError::InvalidName {
                    name: part.to_owned(),
                });
            }
            if stages.iter().any(|s| s == name) {
                return Err(LifecycleError::Duplicate {
                    name: name.to_owned(),
                });
            }
            stages.push(name.to_owned());
            if is_terminal {
                terminal.push(name.to_owned());
            }
        }
        if terminal.contains(&stages[0]) {
            return Err(LifecycleError::InitialTerminal {
                name: stages[0].clone(),
            });
        }
        Ok(Lifecycle { stages, terminal })
    }

    /// The config string this lifecycle parses from (`from_config(&l.to_config()) == l`).
    pub fn to_config(&self) -> String {
        let parts: Vec<String> = self
            .stages
            .iter()
            .map(|s| {
                if self.is_terminal(s) {
                    format!("{s}!")
                } else {
                    s.clone()
                }
            })
            .collect();
        parts.join(",")
    }

    /// All stages, in configured order.
    pub fn stages(&self) -> &[String] {
        &self.stages
    }

    /// The terminal stages, in configured order.
    pub fn terminal(&self) -> &[String] {
        &self.terminal
    }

    /// The stage new leads start in, and the one a terminal lead is reopened to.
    pub fn initial(&self) -> &str {
        &self.stages[0]
    }

    pub fn is_stage(&self, stage: &str) -> bool {
        self.stages.iter().any(|s| s == stage)
    }

    pub fn is_terminal(&self, stage: &str) -> bool {
        self.terminal.iter().any(|s| s == stage)
    }

    /// The configured stage equal to `stage` ignoring ASCII case and surrounding whitespace
    /// (`" Won "` → `"won"`), for hand-typed input such as CSV files.
    pub fn canonical(&self, stage: &str) -> Option<&str> {
        let stage = stage.trim();
        self.stages
            .iter()
            .find(|s| s.eq_ignore_ascii_case(stage))
            .map(String::as_str)
    }

    /// The stages a lead in `from` may move to, in configured order.
    pub fn allowed_from(&self, from: &str) -> Vec<&str> {
        self.stages
            .iter()
            .map(String::as_str)
            .filter(|to| self.check(from, to).is_ok())
            .collect()
    }

    /// Whether a lead in `from` may move to `to` (rules in the module docs).
    pub fn validate_transition(&self, from: &str, to: &str) -> Result<(), StageError> {
        self.check(from, to).map_err(|kind| {
            let allowed = self
                .allowed_from(from)
                .into_iter()
                .map(str::to_owned)
                .collect();
            let (from, to) = (from.to_owned(), to.to_owned());
            match kind {
                Refusal::Unknown => StageError::UnknownStage { from, to, allowed },
                Refusal::Unchanged => StageError::Unchanged { from, allowed },
                Refusal::LeavingTerminal => StageError::LeavingTerminal { from, to, allowed },
            }
        })
    }

    fn check(&self, from: &str, to: &str) -> Result<(), Refusal> {
        if !self.is_stage(to) {
            Err(Refusal::Unknown)
        } else if from == to {
            Err(Refusal::Unchanged)
        } else if self.is_terminal(from) && to != self.initial() {
            Err(Refusal::LeavingTerminal)
        } else {
            Ok(())
        }
    }
}

enum Refusal {
    Unknown,
    Unchanged,
    LeavingTerminal,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_product_lifecycle() {
        let l = Lifecycle::default();
        assert_eq!(
            l.stages(),
            ["new", "qualified", "in_progress", "won", "lost"]
        );
        assert_eq!(l.terminal(), ["won", "lost"]);
        assert_eq!(l.initial(), "new");
        assert_eq!(Lifecycle::from_config(DEFAULT_LIFECYCLE).unwrap(), l);
        assert_eq!(l.to_config(), DEFAULT_LIFECYCLE);
    }

    #[test]
    fn parses_a_custom_config() {
        let l =
            Lifecycle::from_config(" lead , contacted,demo ,closed_won !, closed_lost!").unwrap();
        assert_eq!(
            l.stages(),
            ["lead", "contacted", "demo", "closed_won", "closed_lost"]
        );
        assert_eq!(l.terminal(), ["closed_won", "closed_lost"]);
        assert_eq!(l.initial(), "lead");
        assert_eq!(
            l.to_config(),
            "lead,contacted,demo,closed_won!,closed_lost!"
        );
        assert!(l.is_terminal("closed_won"));
        assert!(!l.is_terminal("demo"));
        assert!(!l.is_stage("won"));
        // A single stage is a valid (if minimal) lifecycle.
        assert_eq!(Lifecycle::from_config("open").unwrap().stages(), ["open"]);
    }

    #[test]
    fn config_errors() {
        assert_eq!(Lifecycle::from_config(""), Err(LifecycleError::NoStages));
        assert_eq!(Lifecycle::from_config("  "), Err(LifecycleError::NoStages));
        assert_eq!(
            Lifecycle::from_config("new,,won!"),
            Err(LifecycleError::EmptyName { position: 2 })
        );
        assert_eq!(
            Lifecycle::from_config("new,qualified,"),
            Err(LifecycleError::EmptyName { position: 3 })
        );
        assert_eq!(
            Lifecycle::from_config("new,!"),
            Err(LifecycleError::EmptyName { position: 2 })
        );
        assert_eq!(
            Lifecycle::from_config("new,qualified,new"),
            Err(LifecycleError::Duplicate { name: "new".into() })
        );
        assert_eq!(
            Lifecycle::from_config("new,won!,won"),
            Err(LifecycleError::Duplicate { name: "won".into() })
        );
        assert_eq!(
            Lifecycle::from_config("new,In Progress"),
            Err(LifecycleError::InvalidName {
                name: "In Progress".into()
            })
        );
        assert_eq!(
            Lifecycle::from_config("new,wo!n"),
            Err(LifecycleError::InvalidName {
                name: "wo!n".into()
            })
        );
        assert_eq!(
            Lifecycle::from_config("won!,new"),
            Err(LifecycleError::InitialTerminal { name: "won".into() })
        );
        let msg = Lifecycle::from_config("new,new").unwrap_err().to_string();
        assert_eq!(msg, "lifecycle stage \"new\" is listed twice");
    }

    #[test]
    fn moves_between_open_stages_in_any_direction() {
        let l = Lifecycle::default();
        assert_eq!(l.validate_transition("new", "qualified"), Ok(()));
        assert_eq!(l.validate_transition("new", "in_progress"), Ok(()));
        assert_eq!(l.validate_transition("in_progress", "qualified"), Ok(()));
        assert_eq!(l.validate_transition("qualified", "new"), Ok(()));
    }

    #[test]
    fn any_open_stage_may_close() {
        let l = Lifecycle::default();
        for from in ["new", "qualified", "in_progress"] {
            assert_eq!(l.validate_transition(from, "won"), Ok(()), "{from}");
            assert_eq!(l.validate_transition(from, "lost"), Ok(()), "{from}");
        }
    }

    #[test]
    fn terminal_stages_only_reopen_to_the_first_stage() {
        let l = Lifecycle::default();
        assert_eq!(l.validate_transition("won", "new"), Ok(()));
        assert_eq!(l.validate_transition("lost", "new"), Ok(()));
        let err = l.validate_transition("won", "lost").unwrap_err();
        assert_eq!(
            err,
            StageError::LeavingTerminal {
                from: "won".into(),
                to: "lost".into(),
                allowed: vec!["new".into()]
            }
        );
        assert_eq!(
            err.to_string(),
            "stage \"won\" is terminal: a lead can only be reopened from it, not moved to \"lost\"; allowed from \"won\": new"
        );
        assert!(l.validate_transition("lost", "qualified").is_err());
        assert_eq!(l.allowed_from("lost"), ["new"]);
    }

    #[test]
    fn same_stage_is_not_a_change() {
        let l = Lifecycle::default();
        let err = l.validate_transition("qualified", "qualified").unwrap_err();
        assert_eq!(err.allowed(), ["new", "in_progress", "won", "lost"]);
        assert_eq!(
            err.to_string(),
            "the lead is already in stage \"qualified\"; allowed from \"qualified\": new, in_progress, won, lost"
        );
        assert!(matches!(
            l.validate_transition("won", "won"),
            Err(StageError::Unchanged { .. })
        ));
    }

    #[test]
    fn unknown_target_names_it_and_lists_the_allowed() {
        let l = Lifecycle::default();
        let err = l.validate_transition("new", "qualifed").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown stage \"qualifed\"; allowed from \"new\": qualified, in_progress, won, lost"
        );
        // Stage names are exact in transitions; `canonical` is for hand-typed input.
        assert!(l.validate_transition("new", "Won").is_err());
        assert_eq!(l.canonical(" Won "), Some("won"));
        assert_eq!(l.canonical("closed"), None);
    }

    #[test]
    fn a_lead_in_a_removed_stage_can_move_anywhere() {
        let l = Lifecycle::default();
        assert_eq!(l.validate_transition("archived", "new"), Ok(()));
        assert_eq!(l.validate_transition("archived", "won"), Ok(()));
        assert_eq!(l.allowed_from("archived").len(), 5);
    }
}
