//! What a meta-sync run is asked to do, as the invocation payload says it.

use super::report::SyncError;
use crate::domain::sync::SyncKind;
use chrono::NaiveDate;
use serde::Deserialize;

/// What to pull. The scheduler sends `{"mode": "scheduled"}` (an EventBridge event envelope
/// or an empty payload means the same); a backfill is invoked by hand:
/// `{"mode": "backfill", "from": "2026-08-24", "to": "2026-11-20", "kinds": ["templates"]}`.
/// `wabas` and `kinds` narrow either mode; kinds are `catalogue`, `pricing`, `templates`,
/// `messaging`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum SyncRequest {
    Scheduled {
        #[serde(default)]
        wabas: Option<Vec<String>>,
        #[serde(default)]
        kinds: Option<Vec<String>>,
    },
    Backfill {
        from: NaiveDate,
        to: NaiveDate,
        #[serde(default)]
        wabas: Option<Vec<String>>,
        #[serde(default)]
        kinds: Option<Vec<String>>,
    },
}

/// The mode of a run, as its report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    Scheduled,
    Backfill,
}

impl SyncMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncMode::Scheduled => "scheduled",
            SyncMode::Backfill => "backfill",
        }
    }
}

impl std::fmt::Display for SyncMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl SyncRequest {
    /// Reads the invocation payload.
    pub fn from_payload(payload: &serde_json::Value) -> Result<Self, SyncError> {
        let scheduled = SyncRequest::Scheduled {
            wabas: None,
            kinds: None,
        };
        match payload {
            serde_json::Value::Null => Ok(scheduled),
            serde_json::Value::Object(m) if m.is_empty() => Ok(scheduled),
            // An EventBridge event (a rule target, or a scheduler's templated target).
            serde_json::Value::Object(m) if m.contains_key("detail-type") => Ok(scheduled),
            other => serde_json::from_value(other.clone())
                .map_err(|e| SyncError::InvalidRequest(e.to_string())),
        }
    }

    pub(super) fn filters(&self) -> (&Option<Vec<String>>, &Option<Vec<String>>) {
        match self {
            SyncRequest::Scheduled { wabas, kinds }
            | SyncRequest::Backfill { wabas, kinds, .. } => (wabas, kinds),
        }
    }

    pub fn mode(&self) -> SyncMode {
        match self {
            SyncRequest::Scheduled { .. } => SyncMode::Scheduled,
            SyncRequest::Backfill { .. } => SyncMode::Backfill,
        }
    }
}

/// Which pulls a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Kinds([bool; 4]);

impl Kinds {
    /// Every kind when the request names none.
    pub(super) fn parse(list: Option<&[String]>) -> Result<Self, SyncError> {
        let Some(list) = list else {
            return Ok(Kinds([true; 4]));
        };
        let mut k = Kinds([false; 4]);
        for name in list {
            match SyncKind::parse(name) {
                Some(kind) => k.0[kind as usize] = true,
                None => {
                    return Err(SyncError::InvalidRequest(format!(
                        "unknown kind {:?}: expected catalogue, pricing, templates or messaging",
                        name.trim().to_ascii_lowercase()
                    )));
                }
            }
        }
        if list.is_empty() {
            return Err(SyncError::InvalidRequest("kinds is empty".into()));
        }
        Ok(k)
    }

    pub(super) fn wants(&self, kind: SyncKind) -> bool {
        self.0[kind as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payloads_name_the_request() {
        assert_eq!(
            SyncRequest::from_payload(&serde_json::Value::Null).unwrap(),
            SyncRequest::Scheduled {
                wabas: None,
                kinds: None
            }
        );
        let scheduler_event = json!({"version": "0", "detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": {}});
        assert!(matches!(
            SyncRequest::from_payload(&scheduler_event).unwrap(),
            SyncRequest::Scheduled { .. }
        ));
        let backfill = json!({"mode": "backfill", "from": "2026-08-24", "to": "2026-11-20", "kinds": ["templates"]});
        assert_eq!(
            SyncRequest::from_payload(&backfill).unwrap(),
            SyncRequest::Backfill {
                from: "2026-08-24".parse().unwrap(),
                to: "2026-11-20".parse().unwrap(),
                wabas: None,
                kinds: Some(vec!["templates".into()])
            }
        );
        let err = SyncRequest::from_payload(&json!({"mode": "backfill", "from": "yesterday"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid meta-sync request"), "{err}");
        assert!(
            SyncRequest::from_payload(
                &json!({"mode": "scheduled", "kinds": ["pricing"], "extra": 1})
            )
            .is_err()
        );
        assert!(Kinds::parse(Some(&["spend".to_string()])).is_err());
        assert!(Kinds::parse(Some(&[])).is_err());
    }

    #[test]
    fn kinds_are_named_as_the_payload_names_them() {
        let k = Kinds::parse(Some(&[" Catalog ".to_string(), "messaging".to_string()])).unwrap();
        assert!(k.wants(SyncKind::Catalogue) && k.wants(SyncKind::Messaging));
        assert!(!k.wants(SyncKind::Pricing) && !k.wants(SyncKind::Templates));
        let all = Kinds::parse(None).unwrap();
        assert!(SyncKind::ALL.into_iter().all(|kind| all.wants(kind)));
    }
}
