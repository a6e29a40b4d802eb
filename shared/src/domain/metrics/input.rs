//! What the metric functions read: one stored item per outbound message (its status ladder),
//! inbound messages, consent events, leads, conversions and Meta's own analytics rows.
//!
//! Every type is plain data; the caller builds them from the table. Inputs may hold items
//! outside the report period (history for response times and spikes, replies after the end):
//! the family functions select what belongs to the period themselves.

use chrono::NaiveDate;

use crate::domain::access::{Access, Tenancy};
use serde::{Deserialize, Serialize};

/// First-seen Meta timestamps of each status of one outbound message (epoch seconds, UTC).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Times {
    pub sent_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub read_at: Option<i64>,
    pub played_at: Option<i64>,
    pub failed_at: Option<i64>,
}

/// The pricing object stored with a message (from whichever status carried it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MsgPricing {
    pub model: Option<String>,
    pub category: Option<String>,
    pub pricing_type: Option<String>,
    pub billable: Option<bool>,
    /// The stored classification: PMP type regular → paid, `free_*` → free, else CBP billable.
    pub paid: Option<bool>,
}

/// One outbound message with its whole status ladder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OutboundMsg {
    pub wamid: String,
    /// Lead key; `None` for group messages.
    pub person: Option<String>,
    pub waba_id: String,
    pub phone_number_id: String,
    pub times: Times,
    pub pricing: Option<MsgPricing>,
    /// Raw `biz_opaque_callback_data` (see [`super::tag::parse_tag`]).
    pub tag: Option<String>,
    pub error_code: Option<i64>,
    pub error_title: Option<String>,
}

/// One inbound (user → business) message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InboundMsg {
    pub wamid: String,
    pub person: String,
    pub waba_id: String,
    pub phone_number_id: String,
    pub at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAction {
    OptIn,
    OptOut,
    Resume,
}

impl ConsentAction {
    /// The CSV spelling: `opt_in`, `opt_out`, `resume`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentAction::OptIn => "opt_in",
            ConsentAction::OptOut => "opt_out",
            ConsentAction::Resume => "resume",
        }
    }
}

/// The channel a consent change arrived by, as the reports count it: the webhook's
/// `keyword` or `user_preferences`, or a manager's record through the `api` or an `import`
/// (told apart by the event's `recorded_via`, see `adapters::dynamodb::reports`).
///
/// Not the stored consent source (`domain::consent::ConsentSource`, what the API, the import
/// and the ingest write: `web_form`, `qr`, …): every manager-recorded source folds into `api`
/// or `import` here, and `import` is never a stored source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentSource {
    Keyword,
    UserPreferences,
    Api,
    Import,
}

impl ConsentSource {
    /// The CSV spelling: `keyword`, `user_preferences`, `api`, `import`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentSource::Keyword => "keyword",
            ConsentSource::UserPreferences => "user_preferences",
            ConsentSource::Api => "api",
            ConsentSource::Import => "import",
        }
    }
}

/// One consent change of one person on one business number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConsentEvt {
    pub person: String,
    pub phone_number_id: String,
    pub at: i64,
    pub action: ConsentAction,
    pub source: ConsentSource,
    pub categories: Vec<String>,
}

/// A lead with its first touch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LeadRow {
    pub lead_id: String,
    pub created_at: i64,
    pub phone_number_id: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    /// Ad id of a click-to-WhatsApp referral.
    pub source_id: Option<String>,
}

/// A conversion reported for a lead.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConversionRow {
    pub lead_id: String,
    pub at: i64,
    pub conversion_type: String,
    /// Value × 10^4, exact.
    pub value_e4: Option<i64>,
    pub currency: Option<String>,
}

/// One row of Meta's `pricing_analytics` (Meta's own day bucket).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PricingDay {
    pub waba_id: String,
    pub day: NaiveDate,
    pub phone_number: String,
    pub country: String,
    pub category: String,
    pub pricing_type: String,
    /// `-` when none.
    pub tier: String,
    pub volume: i64,
    /// Cost × 10^6; `None` when Meta did not return it (never read as zero).
    pub cost_e6: Option<i64>,
    /// `reported` | `not_returned` | …
    pub cost_state: String,
}

/// One row of Meta's `template_analytics` for one template and day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TemplateDay {
    pub template_id: String,
    pub name: Option<String>,
    pub language: Option<String>,
    pub day: NaiveDate,
    pub sent: Option<i64>,
    pub delivered: Option<i64>,
    pub read: Option<i64>,
    /// All buttons.
    pub clicked: Option<i64>,
    pub url_clicks: Option<i64>,
    /// `reported` | `unavailable_in_region` | …
    pub clicks_state: String,
    pub cost_e6: Option<i64>,
    pub cost_state: String,
}

/// One row of Meta's messaging analytics for one WABA and day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MessagingDay {
    pub waba_id: String,
    pub day: NaiveDate,
    pub sent: Option<i64>,
    pub delivered: Option<i64>,
}

/// Everything a report reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    pub outbound: Vec<OutboundMsg>,
    pub inbound: Vec<InboundMsg>,
    pub consent: Vec<ConsentEvt>,
    pub leads: Vec<LeadRow>,
    pub conversions: Vec<ConversionRow>,
    pub pricing: Vec<PricingDay>,
    pub templates: Vec<TemplateDay>,
    pub messaging: Vec<MessagingDay>,
    /// Message tallies already summed per rollup slot (`super::tally`); when set, the
    /// additive families read these instead of `outbound` / `inbound`.
    #[serde(default)]
    pub tallies: Option<Vec<super::tally::Tally>>,
    /// Person facts already summed per rollup slot (`super::facts`); when set, the
    /// `response_times` and `templates` families read these instead of the messages.
    #[serde(default)]
    pub facts: Option<Vec<super::tally::Tally>>,
}

impl Inputs {
    /// The lead ids and business numbers whose WABA decides what a restricted caller sees
    /// (leads, conversions, consent events), for [`Inputs::restrict`].
    pub fn tenancy_keys(&self) -> (Vec<String>, Vec<String>) {
        let mut leads: Vec<String> = self
            .leads
            .iter()
            .map(|l| l.lead_id.clone())
            .chain(self.conversions.iter().map(|c| c.lead_id.clone()))
            .collect();
        leads.sort();
        leads.dedup();
        let mut phones: Vec<String> = self
            .consent
            .iter()
            .map(|c| c.phone_number_id.clone())
            .collect();
        phones.sort();
        phones.dedup();
        (leads, phones)
    }

    /// Only what `access` may see: messages and Meta's days of its WABAs, leads and their
    /// conversions filed under one of them, consent events on their numbers. Meta's template
    /// days are selected by WABA where they are read (`ReportWindow::wabas`).
    pub fn restrict(mut self, access: &Access, tenancy: &Tenancy) -> Inputs {
        if *access == Access::All {
            return self;
        }
        self.outbound.retain(|m| access.allows(&m.waba_id));
        self.inbound.retain(|m| access.allows(&m.waba_id));
        if let Some(t) = self.tallies.as_mut() {
            t.retain(|t| access.allows(t.cell.waba_id()));
        }
        self.consent
            .retain(|c| tenancy.phone_visible(access, &c.phone_number_id));
        self.leads
            .retain(|l| tenancy.lead_visible(access, &l.lead_id));
        self.conversions
            .retain(|c| tenancy.lead_visible(access, &c.lead_id));
        self.pricing.retain(|p| access.allows(&p.waba_id));
        self.messaging.retain(|m| access.allows(&m.waba_id));
        self
    }
}

#[cfg(test)]
mod restrict_tests {
    use super::*;

    #[test]
    fn a_restricted_caller_sees_only_its_wabas() {
        let out = |w: &str, waba: &str| OutboundMsg {
            wamid: w.into(),
            waba_id: waba.into(),
            ..Default::default()
        };
        let inputs = Inputs {
            outbound: vec![out("a", "A"), out("b", "B")],
            inbound: vec![InboundMsg {
                wamid: "i".into(),
                person: "p".into(),
                waba_id: "B".into(),
                phone_number_id: "PB".into(),
                at: 1,
            }],
            consent: vec![
                ConsentEvt {
                    person: "p".into(),
                    phone_number_id: "PA".into(),
                    at: 1,
                    action: ConsentAction::OptOut,
                    source: ConsentSource::Api,
                    categories: vec![],
                },
                ConsentEvt {
                    person: "p".into(),
                    phone_number_id: "PB".into(),
                    at: 1,
                    action: ConsentAction::OptOut,
                    source: ConsentSource::Api,
                    categories: vec![],
                },
            ],
            leads: vec![
                LeadRow {
                    lead_id: "la".into(),
                    ..Default::default()
                },
                LeadRow {
                    lead_id: "lb".into(),
                    ..Default::default()
                },
            ],
            conversions: vec![ConversionRow {
                lead_id: "lb".into(),
                ..Default::default()
            }],
            pricing: vec![PricingDay {
                waba_id: "B".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let tenancy = Tenancy {
            lead_wabas: [
                ("la".to_string(), vec!["A".to_string()]),
                ("lb".to_string(), vec!["B".to_string()]),
            ]
            .into(),
            phone_wabas: [
                ("PA".to_string(), "A".to_string()),
                ("PB".to_string(), "B".to_string()),
            ]
            .into(),
        };
        assert_eq!(
            inputs.tenancy_keys(),
            (
                vec!["la".to_string(), "lb".to_string()],
                vec!["PA".to_string(), "PB".to_string()]
            )
        );
        let a = Access::Wabas(["A".to_string()].into());
        let seen = inputs.clone().restrict(&a, &tenancy);
        assert_eq!(seen.outbound.len(), 1);
        assert_eq!(seen.outbound[0].wamid, "a");
        assert!(seen.inbound.is_empty() && seen.conversions.is_empty() && seen.pricing.is_empty());
        assert_eq!(seen.consent.len(), 1);
        assert_eq!(seen.consent[0].phone_number_id, "PA");
        assert_eq!(seen.leads.len(), 1);
        assert_eq!(seen.leads[0].lead_id, "la");
        assert_eq!(
            inputs.clone().restrict(&Access::All, &Tenancy::default()),
            inputs
        );
    }
}
