//! Meta's answers as the Graph API sends them (lenient: ids as strings or numbers).

use crate::domain::lenient::Timestamp;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::fmt;

use super::lossless::{id, opt_id};

/// Cursor paging as Graph sends it. `next` is a full URL; absent on the last page.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Paging {
    #[serde(default)]
    pub cursors: Option<Cursors>,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub previous: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Cursors {
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
}

/// Responses that may continue on another page.
pub trait Paged {
    fn paging(&self) -> Option<&Paging>;
    /// Items on this page (data points, templates); an empty page ends cursor-only paging.
    fn item_count(&self) -> usize;
}

/// `GET /<WABA>?fields=pricing_analytics…`. Also accepts the connection without its
/// wrapper (`{"data": …, "paging": …}`), which is what a followed `next` link can return.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PricingAnalyticsResponse {
    #[serde(default)]
    pub pricing_analytics: Option<Connection<PricingSeries>>,
    #[serde(default)]
    pub data: Option<Vec<PricingSeries>>,
    #[serde(default)]
    pub paging: Option<Paging>,
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
}

/// A Graph connection (`{"data": […], "paging": …}`), as Meta nests it under a field name
/// (`pricing_analytics`, `conversation_analytics`).
#[derive(Debug, Clone, Deserialize)]
pub struct Connection<S> {
    #[serde(default = "Vec::new")]
    pub data: Vec<S>,
    #[serde(default)]
    pub paging: Option<Paging>,
}

impl<S> Default for Connection<S> {
    fn default() -> Self {
        Self {
            data: Vec::new(),
            paging: None,
        }
    }
}

/// The series of a response that comes wrapped in its field name or bare (`{"data": …}`,
/// what a followed `next` link or one of Meta's examples returns).
fn wrapped_or_bare<'a, S>(wrapped: &'a Option<Connection<S>>, bare: &'a Option<Vec<S>>) -> &'a [S] {
    match (wrapped, bare) {
        (Some(c), _) => &c.data,
        (None, Some(d)) => d,
        (None, None) => &[],
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PricingSeries {
    #[serde(default)]
    pub data_points: Vec<PricingDataPoint>,
}

/// Keys other than start/end/volume/cost appear only for the dimensions requested.
#[derive(Debug, Clone, Deserialize)]
pub struct PricingDataPoint {
    pub start: Timestamp,
    pub end: Timestamp,
    #[serde(default, deserialize_with = "opt_id")]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub tier: Option<String>,
    #[serde(default)]
    pub pricing_type: Option<String>,
    #[serde(default)]
    pub pricing_category: Option<String>,
    #[serde(default)]
    pub volume: Option<u64>,
    #[serde(default)]
    pub cost: Option<f64>,
}

impl PricingAnalyticsResponse {
    pub fn series(&self) -> &[PricingSeries] {
        wrapped_or_bare(&self.pricing_analytics, &self.data)
    }

    pub fn data_points(&self) -> impl Iterator<Item = &PricingDataPoint> {
        self.series().iter().flat_map(|s| &s.data_points)
    }
}

impl Paged for PricingAnalyticsResponse {
    fn paging(&self) -> Option<&Paging> {
        self.pricing_analytics
            .as_ref()
            .and_then(|p| p.paging.as_ref())
            .or(self.paging.as_ref())
    }
    fn item_count(&self) -> usize {
        self.data_points().count()
    }
}

/// `GET /<WABA>/template_analytics?…` (the edge form).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TemplateAnalyticsResponse {
    #[serde(default)]
    pub data: Vec<TemplateSeries>,
    #[serde(default)]
    pub paging: Option<Paging>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TemplateSeries {
    #[serde(default)]
    pub granularity: Option<String>,
    #[serde(default)]
    pub product_type: Option<String>,
    /// Present when the request set `use_waba_timezone=true`.
    #[serde(default)]
    pub waba_timezone: Option<String>,
    #[serde(default)]
    pub data_points: Vec<TemplateDataPoint>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TemplateDataPoint {
    #[serde(deserialize_with = "id")]
    pub template_id: String,
    pub start: Timestamp,
    pub end: Timestamp,
    #[serde(default)]
    pub sent: Option<u64>,
    #[serde(default)]
    pub delivered: Option<u64>,
    #[serde(default)]
    pub read: Option<u64>,
    #[serde(default)]
    pub clicked: Option<Vec<ButtonClicks>>,
    #[serde(default)]
    pub cost: Option<Vec<TemplateCostValue>>,
}

/// Clicks on one button of a template on one day.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ButtonClicks {
    /// `url_button` (all clicks), `unique_url_button` (distinct users), `quick_reply_button`.
    #[serde(rename = "type")]
    pub click_type: String,
    #[serde(default)]
    pub button_content: Option<String>,
    pub count: u64,
}

/// One `cost[]` entry: `amount_spent`, `cost_per_delivered`, `cost_per_url_button_click`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TemplateCostValue {
    #[serde(rename = "type")]
    pub cost_type: String,
    pub value: f64,
}

impl TemplateAnalyticsResponse {
    pub fn data_points(&self) -> impl Iterator<Item = &TemplateDataPoint> {
        self.data.iter().flat_map(|s| &s.data_points)
    }
}

impl Paged for TemplateAnalyticsResponse {
    fn paging(&self) -> Option<&Paging> {
        self.paging.as_ref()
    }
    fn item_count(&self) -> usize {
        self.data_points().count()
    }
}

/// `GET /<WABA>?fields=analytics…` (messaging: sent/delivered per bucket).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MessagingAnalyticsResponse {
    #[serde(default)]
    pub analytics: Option<MessagingAnalytics>,
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MessagingAnalytics {
    #[serde(default)]
    pub phone_numbers: Vec<String>,
    #[serde(default)]
    pub country_codes: Vec<String>,
    #[serde(default)]
    pub granularity: Option<String>,
    #[serde(default)]
    pub data_points: Vec<MessagingDataPoint>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MessagingDataPoint {
    pub start: Timestamp,
    pub end: Timestamp,
    #[serde(default)]
    pub sent: Option<u64>,
    #[serde(default)]
    pub delivered: Option<u64>,
}

impl MessagingAnalyticsResponse {
    pub fn data_points(&self) -> &[MessagingDataPoint] {
        self.analytics
            .as_ref()
            .map(|a| a.data_points.as_slice())
            .unwrap_or_default()
    }
}

impl Paged for MessagingAnalyticsResponse {
    fn paging(&self) -> Option<&Paging> {
        None
    }
    fn item_count(&self) -> usize {
        self.data_points().len()
    }
}

/// `conversation_analytics`, with the `{"conversation_analytics": …, "id"}` wrapper or
/// without it (one of Meta's examples omits it).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConversationAnalyticsResponse {
    #[serde(default)]
    pub conversation_analytics: Option<Connection<ConversationSeries>>,
    #[serde(default)]
    pub data: Option<Vec<ConversationSeries>>,
    #[serde(default)]
    pub paging: Option<Paging>,
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConversationSeries {
    #[serde(default)]
    pub data_points: Vec<ConversationDataPoint>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ConversationDataPoint {
    pub start: Timestamp,
    pub end: Timestamp,
    #[serde(default)]
    pub conversation: Option<u64>,
    #[serde(default, deserialize_with = "opt_id")]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub conversation_type: Option<String>,
    #[serde(default)]
    pub conversation_direction: Option<String>,
    #[serde(default)]
    pub conversation_category: Option<String>,
    #[serde(default)]
    pub cost: Option<f64>,
}

impl ConversationAnalyticsResponse {
    pub fn data_points(&self) -> impl Iterator<Item = &ConversationDataPoint> {
        wrapped_or_bare(&self.conversation_analytics, &self.data)
            .iter()
            .flat_map(|s| &s.data_points)
    }
}

/// `GET /<WABA>/message_templates?fields=…&limit=…`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MessageTemplatesResponse {
    #[serde(default)]
    pub data: Vec<MessageTemplate>,
    #[serde(default)]
    pub paging: Option<Paging>,
}

impl Paged for MessageTemplatesResponse {
    fn paging(&self) -> Option<&Paging> {
        self.paging.as_ref()
    }
    fn item_count(&self) -> usize {
        self.data.len()
    }
}

/// Every key is optional but `id`: `fields=` chooses which come back.
#[derive(Debug, Clone, Deserialize)]
pub struct MessageTemplate {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub sub_category: Option<String>,
    #[serde(default)]
    pub previous_category: Option<String>,
    #[serde(default)]
    pub parameter_format: Option<String>,
    #[serde(default)]
    pub quality_score: Option<QualityScore>,
    #[serde(default)]
    pub rejected_reason: Option<String>,
    #[serde(default)]
    pub components: Option<Vec<TemplateComponent>>,
}

/// The parts of a component the catalogue summarises. Free-form content (`example`, carousel
/// `cards`) is accepted whole; the raw snapshot keeps it verbatim.
#[derive(Debug, Clone, Deserialize)]
pub struct TemplateComponent {
    #[serde(rename = "type")]
    pub component_type: String,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub example: Option<serde_json::Value>,
    #[serde(default)]
    pub buttons: Option<Vec<TemplateButton>>,
    #[serde(default)]
    pub cards: Option<serde_json::Value>,
    #[serde(default)]
    pub add_security_recommendation: Option<bool>,
    #[serde(default)]
    pub code_expiration_minutes: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TemplateButton {
    #[serde(rename = "type")]
    pub button_type: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub example: Option<serde_json::Value>,
    #[serde(default)]
    pub otp_type: Option<String>,
    #[serde(default)]
    pub flow_id: Option<serde_json::Value>,
    #[serde(default)]
    pub flow_action: Option<String>,
    #[serde(default)]
    pub navigate_screen: Option<String>,
}

/// `quality_score` arrives as `"GREEN"` or as `{"score": "GREEN", "date": …, "reasons": …}`
/// depending on the API version; both are read, other keys are reported as unknown.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QualityScore {
    pub score: Option<String>,
    pub date: Option<Timestamp>,
    pub reasons: Vec<String>,
}

impl<'de> Deserialize<'de> for QualityScore {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = QualityScore;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a quality score as a string or an object")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<QualityScore, E> {
                Ok(QualityScore {
                    score: Some(v.to_string()),
                    ..QualityScore::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<QualityScore, A::Error> {
                let mut q = QualityScore::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "score" => q.score = map.next_value()?,
                        "date" => q.date = map.next_value()?,
                        "reasons" => q.reasons = map.next_value::<Option<_>>()?.unwrap_or_default(),
                        // Goes through `deserialize_ignored_any`, so serde_ignored reports it.
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(q)
            }
        }
        d.deserialize_any(V)
    }
}

/// `POST /<WABA>?is_enabled_for_insights=true` → `{"id": 102290129340398}` (a number here).
#[derive(Debug, Clone, Deserialize)]
pub struct EnableInsightsResponse {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(default)]
    pub success: Option<bool>,
}

/// `POST /<dataset id>/events` (Conversions API) → `{"events_received": 1, …}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ConversionEventsResponse {
    pub events_received: u64,
    #[serde(default)]
    pub messages: Vec<serde_json::Value>,
    #[serde(default)]
    pub fbtrace_id: Option<String>,
}

/// `GET /<WABA>?fields=is_enabled_for_insights`.
#[derive(Debug, Clone, Deserialize)]
pub struct InsightsFlagResponse {
    #[serde(default)]
    pub is_enabled_for_insights: Option<bool>,
    #[serde(deserialize_with = "id")]
    pub id: String,
}
