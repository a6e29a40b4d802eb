//! What managers change about leads through the API and imports: a lead's patch and a
//! consent record. Pure types; the store adapters write them (`crate::ports::LeadStore`).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A change to a lead; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadPatch {
    pub expected_version: u64,
    #[serde(default)]
    pub stage: Option<String>,
    /// `Some(None)` unassigns.
    #[serde(default, with = "double_option")]
    pub owner: Option<Option<String>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub custom_fields: Option<BTreeMap<String, String>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

/// An opt-in or opt-out recorded through the API or an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    pub user: String,
    pub phone_number_id: String,
    /// `opt_in` / `opt_out`.
    pub action: String,
    /// Sorted, unique: `marketing`, `utility`.
    pub categories: Vec<String>,
    /// The channel: `api`, `web_form`, `qr`, `in_app`, `sms`, `store`, `import`, `other`.
    pub source: String,
    pub proof: Option<String>,
    pub at: DateTime<Utc>,
    pub recorded_by: String,
    /// How it was recorded: `api` (`POST /v1/consent`) or `import` (a CSV row's opt-in);
    /// stored as `recorded_via`, the consent report's source.
    pub via: &'static str,
}

impl ConsentRecord {
    /// The event's id: a hash of its content, so a retried request records once.
    pub fn event_id(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(
            format!(
                "{}|{}|{}|{}|{}|{}|{}",
                self.user,
                self.phone_number_id,
                self.action,
                self.categories.join(","),
                self.source,
                self.proof.as_deref().unwrap_or(""),
                self.at.timestamp()
            )
            .as_bytes(),
        );
        hex::encode(&digest[..12])
    }
}
