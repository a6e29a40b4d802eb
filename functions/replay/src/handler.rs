//! One invocation, one replay: `{"dry_run": bool, "prefix": "quarantine/…", "since":
//! "YYYY-MM-DD", "start_after": key}` (every field optional; a dry run is the default and
//! writes nothing). The answer is the run's totals and its first objects.

use serde_json::{Value, json};
use shared::replay::{LiveReplay, ReplayRequest};

/// Objects a replay lists in its Lambda response (the log has every one).
pub const MAX_LISTED_OBJECTS: usize = 1000;

pub struct Replay {
    live: LiveReplay,
}

impl Replay {
    pub fn new(live: LiveReplay) -> Self {
        Self { live }
    }

    /// The request an invocation names; an unknown field or a bad value is an error (a typo
    /// must not turn a narrowed replay into a replay of everything).
    pub fn request(payload: &Value) -> Result<ReplayRequest, String> {
        let fields = payload
            .as_object()
            .ok_or("the payload is a JSON object: {\"dry_run\": false, …}")?;
        if let Some(unknown) = fields
            .keys()
            .find(|k| !["dry_run", "prefix", "since", "start_after"].contains(&k.as_str()))
        {
            return Err(format!(
                "unknown field {unknown:?}: dry_run, prefix, since, start_after"
            ));
        }
        let text = |k: &str| -> Result<Option<String>, String> {
            match payload.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(format!("{k} is a string, not {other}")),
            }
        };
        let dry_run = match payload.get("dry_run") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(other) => return Err(format!("dry_run is true or false, not {other}")),
        };
        let since = text("since")?
            .map(|d| ReplayRequest::since_day(&d))
            .transpose()
            .map_err(|e| e.to_string())?;
        Ok(ReplayRequest {
            prefix: text("prefix")?,
            since,
            start_after: text("start_after")?,
            dry_run,
        })
    }

    pub async fn handle(&self, payload: &Value) -> Result<Value, String> {
        let request = Self::request(payload)?;
        let mut summary = self.live.run(&request).await.map_err(|e| e.to_string())?;
        // A Lambda response is at most 6 MB: the totals always, the first objects (every one
        // is in the log).
        let listed = summary.objects.len();
        summary.objects.truncate(MAX_LISTED_OBJECTS);
        let mut out = serde_json::to_value(&summary).map_err(|e| e.to_string())?;
        out["objects_not_listed"] = json!(listed - summary.objects.len());
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::Replay;
    use serde_json::json;

    #[test]
    fn a_request_is_a_dry_run_unless_it_says_otherwise() {
        assert!(Replay::request(&json!({})).unwrap().dry_run);
        let r = Replay::request(&json!({"dry_run": false, "prefix": "quarantine/parse/",
            "since": "2026-11-20", "start_after": "quarantine/parse/x"}))
        .unwrap();
        assert!(!r.dry_run);
        assert_eq!(r.prefix.as_deref(), Some("quarantine/parse/"));
        assert_eq!(r.start_after.as_deref(), Some("quarantine/parse/x"));
        assert!(r.since.is_some());
    }

    #[test]
    fn typos_and_bad_values_are_refused() {
        for bad in [
            json!({"dryrun": false}),
            json!({"dry_run": "no"}),
            json!({"since": "20-11-2026"}),
            json!({"prefix": 3}),
            json!("replay"),
        ] {
            assert!(Replay::request(&bad).is_err(), "{bad}");
        }
    }
}
