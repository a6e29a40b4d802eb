//! Meta's WhatsApp analytics responses (Graph API, WABA node) and the rows we store from them.
//!
//! Covered: `pricing_analytics` (what messages cost), `template_analytics` (what each template
//! did), `analytics` (sent/delivered, a cross-check), `conversation_analytics` (CBP era), the
//! `message_templates` catalogue and the enable-insights answer. `template_group_analytics`,
//! `call_analytics` and `group_analytics` are recognised and kept raw, not modelled.
//!
//! Parsing is lenient (ids as strings or numbers, optional keys) and lossless: every key we do
//! not model is reported by path in [`Parsed::unknown_fields`], so a new Meta field is seen
//! and counted instead of dropped. The raw body is what goes to the snapshot store.
//!
//! Missing data is an explicit state, never a zero: [`Cost::NotReturned`] (WABAs on a Solution
//! Partner's credit line get no COST), [`Clicks::UnavailableInRegion`] and
//! [`TemplateInsights::NotEnabled`].

use super::lenient::{Text, Timestamp};
use chrono::{DateTime, NaiveDate};
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use std::fmt;

// ---------------------------------------------------------------------------------------
// Request vocabulary (what the pulls ask Meta for)
// ---------------------------------------------------------------------------------------

/// Bucket size. Meta spells it differently per field: `analytics` takes `DAY`/`MONTH`,
/// `pricing_analytics`/`conversation_analytics` take `DAILY`/`MONTHLY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    HalfHour,
    Daily,
    Monthly,
}

impl Granularity {
    /// The spelling for `pricing_analytics`, `conversation_analytics` and `template_analytics`.
    pub fn pricing_param(self) -> &'static str {
        match self {
            Granularity::HalfHour => "HALF_HOUR",
            Granularity::Daily => "DAILY",
            Granularity::Monthly => "MONTHLY",
        }
    }

    /// The spelling for the messaging `analytics` field.
    pub fn messaging_param(self) -> &'static str {
        match self {
            Granularity::HalfHour => "HALF_HOUR",
            Granularity::Daily => "DAY",
            Granularity::Monthly => "MONTH",
        }
    }
}

/// `pricing_analytics` dimensions. Tier needs country and pricing category alongside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PricingDimension {
    Country,
    Phone,
    PricingCategory,
    PricingType,
    Tier,
}

impl PricingDimension {
    pub const ALL: [PricingDimension; 5] = [
        PricingDimension::PricingCategory,
        PricingDimension::PricingType,
        PricingDimension::Country,
        PricingDimension::Phone,
        PricingDimension::Tier,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PricingDimension::Country => "COUNTRY",
            PricingDimension::Phone => "PHONE",
            PricingDimension::PricingCategory => "PRICING_CATEGORY",
            PricingDimension::PricingType => "PRICING_TYPE",
            PricingDimension::Tier => "TIER",
        }
    }
}

/// `pricing_analytics` metric types; an empty list asks for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PricingMetric {
    Cost,
    Volume,
}

impl PricingMetric {
    pub fn as_str(self) -> &'static str {
        match self {
            PricingMetric::Cost => "COST",
            PricingMetric::Volume => "VOLUME",
        }
    }
}

/// `template_analytics` metric types; an empty list asks for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateMetric {
    Sent,
    Delivered,
    Read,
    Clicked,
    Cost,
}

impl TemplateMetric {
    pub const ALL: [TemplateMetric; 5] = [
        TemplateMetric::Sent,
        TemplateMetric::Delivered,
        TemplateMetric::Read,
        TemplateMetric::Clicked,
        TemplateMetric::Cost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TemplateMetric::Sent => "SENT",
            TemplateMetric::Delivered => "DELIVERED",
            TemplateMetric::Read => "READ",
            TemplateMetric::Clicked => "CLICKED",
            TemplateMetric::Cost => "COST",
        }
    }
}

/// Meta rejects more template ids than this in one `template_analytics` request.
pub const MAX_TEMPLATE_IDS_PER_REQUEST: usize = 10;

/// Template ids in request-sized groups (≤ [`MAX_TEMPLATE_IDS_PER_REQUEST`]).
pub fn template_id_batches(ids: &[String]) -> impl Iterator<Item = &[String]> {
    ids.chunks(MAX_TEMPLATE_IDS_PER_REQUEST)
}

// ---------------------------------------------------------------------------------------
// Lossless parsing
// ---------------------------------------------------------------------------------------

/// A parsed response and the paths of every key it held that the model does not declare.
#[derive(Debug, Clone)]
pub struct Parsed<T> {
    pub value: T,
    pub unknown_fields: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsParseError {
    #[error("not a {kind} response: {source}")]
    Shape {
        kind: &'static str,
        source: serde_json::Error,
    },
    #[error("not a Graph analytics or templates response we recognise")]
    Unrecognised,
}

/// Parses `T` from `body`, collecting the paths of keys `T` does not declare.
pub fn parse<T: DeserializeOwned>(
    kind: &'static str,
    body: &[u8],
) -> Result<Parsed<T>, AnalyticsParseError> {
    let shape = |source| AnalyticsParseError::Shape { kind, source };
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut unknown = Vec::new();
    let value =
        serde_ignored::deserialize(&mut de, |path| unknown.push(clean_path(&path.to_string())))
            .map_err(shape)?;
    de.end().map_err(shape)?;
    Ok(Parsed {
        value,
        unknown_fields: unknown,
    })
}

/// `data.0.data_points.3.?.x` → `data.0.data_points.3.x` (`?` marks an `Option` level).
fn clean_path(path: &str) -> String {
    path.split('.')
        .filter(|seg| *seg != "?")
        .collect::<Vec<_>>()
        .join(".")
}

fn id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Text::deserialize(d).map(|t| t.0.into_owned())
}

fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<Text>::deserialize(d).map(|t| t.map(|t| t.0.into_owned()))
}

// ---------------------------------------------------------------------------------------
// Wire models
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Domain rows
// ---------------------------------------------------------------------------------------

/// An amount Meta reports in the WABA's currency, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cost {
    Amount(f64),
    /// The request did not ask for COST.
    NotRequested,
    /// Asked for but absent: Meta does not return COST for WABAs that share a Solution
    /// Partner's credit line. Unknown, not free.
    NotReturned,
}

impl Cost {
    pub fn amount(self) -> Option<f64> {
        match self {
            Cost::Amount(a) => Some(a),
            _ => None,
        }
    }
}

/// The calendar day a daily bucket covers in the WABA's time zone. Meta aligns buckets to
/// the WABA's zone (07:00 UTC for US Pacific), so the bucket's UTC midpoint names the day for
/// any offset strictly between −12 h and +12 h.
pub fn bucket_day(start: Timestamp, end: Timestamp) -> NaiveDate {
    let mid = start.0 + (end.0 - start.0).clamp(0, 86_400) / 2;
    DateTime::from_timestamp(mid, 0)
        .unwrap_or_default()
        .date_naive()
}

/// One pricing bucket for one combination of the requested dimensions: volume = messages
/// delivered, cost = Meta's approximate charge for them.
#[derive(Debug, Clone, PartialEq)]
pub struct PricingRow {
    pub start: Timestamp,
    pub end: Timestamp,
    pub day: NaiveDate,
    pub dimensions: PricingDimensions,
    /// `None` when the request left VOLUME out.
    pub volume: Option<u64>,
    pub cost: Cost,
}

/// A value is `None` when its dimension was not requested (or, for `tier`, for free
/// messages, which have no tier).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PricingDimensions {
    pub phone_number: Option<String>,
    pub country: Option<String>,
    pub pricing_category: Option<String>,
    pub pricing_type: Option<String>,
    pub tier: Option<String>,
}

impl PricingDimensions {
    /// A stable key for idempotent overwrite per bucket × dimension combination.
    pub fn key(&self) -> String {
        let part = |v: &Option<String>| v.as_deref().unwrap_or("-").to_string();
        [
            part(&self.phone_number),
            part(&self.country),
            part(&self.pricing_category),
            part(&self.pricing_type),
            part(&self.tier),
        ]
        .join("#")
    }
}

fn wanted<T: PartialEq>(requested: &[T], metric: T) -> bool {
    requested.is_empty() || requested.contains(&metric)
}

/// One row per data point (Meta sends one point per bucket × dimension combination).
/// `metrics` is what the request asked for (empty = all), which tells a missing cost that was
/// not asked for from one Meta withheld.
pub fn pricing_rows(resp: &PricingAnalyticsResponse, metrics: &[PricingMetric]) -> Vec<PricingRow> {
    let cost_wanted = wanted(metrics, PricingMetric::Cost);
    resp.data_points()
        .map(|p| PricingRow {
            start: p.start,
            end: p.end,
            day: bucket_day(p.start, p.end),
            dimensions: PricingDimensions {
                phone_number: p.phone_number.clone(),
                country: p.country.clone(),
                pricing_category: p
                    .pricing_category
                    .as_deref()
                    .map(|c| super::pricing::normalise_category(c).into_owned()),
                pricing_type: p.pricing_type.clone(),
                tier: p.tier.clone(),
            },
            volume: p.volume,
            cost: match (p.cost, cost_wanted) {
                (Some(c), _) => Cost::Amount(c),
                (None, true) => Cost::NotReturned,
                (None, false) => Cost::NotRequested,
            },
        })
        .collect()
}

/// What the pull knows beyond the response, so absent metrics get the right state.
#[derive(Debug, Clone)]
pub struct TemplateRowContext {
    /// What the request asked for (empty = all).
    pub metrics: Vec<TemplateMetric>,
    /// `false` for WABAs (or numbers) where Meta reports no clicks by region (EU, UK, Japan).
    pub clicks_available: bool,
}

impl Default for TemplateRowContext {
    fn default() -> Self {
        Self {
            metrics: Vec::new(),
            clicks_available: true,
        }
    }
}

/// Button clicks for one template on one day.
#[derive(Debug, Clone, PartialEq)]
pub enum Clicks {
    /// What Meta counted, per button (an empty list: asked, no clicks reported).
    Counted(Vec<ButtonClicks>),
    /// The request did not ask for CLICKED.
    NotRequested,
    /// Asked for but absent: Meta reports clicks only for MARKETING/UTILITY templates with
    /// tracked buttons.
    NotReturned,
    /// Meta does not report clicks for this WABA's region.
    UnavailableInRegion,
}

impl Clicks {
    /// Clicks of one button type (`url_button`, `unique_url_button`, `quick_reply_button`)
    /// summed over buttons; `None` when clicks are not known.
    pub fn count(&self, click_type: &str) -> Option<u64> {
        match self {
            Clicks::Counted(c) => Some(
                c.iter()
                    .filter(|b| b.click_type == click_type)
                    .map(|b| b.count)
                    .sum(),
            ),
            _ => None,
        }
    }
}

/// Template cost for one day, per cost type.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateCost {
    Reported(Vec<TemplateCostValue>),
    NotRequested,
    /// Asked for but absent (credit-line WABAs get no COST).
    NotReturned,
}

impl TemplateCost {
    /// `amount_spent`, `cost_per_delivered`, `cost_per_url_button_click` (the last is
    /// omitted by Meta when the template has no URL button).
    pub fn value(&self, cost_type: &str) -> Option<f64> {
        match self {
            TemplateCost::Reported(v) => {
                v.iter().find(|c| c.cost_type == cost_type).map(|c| c.value)
            }
            _ => None,
        }
    }
}

/// One template on one day. Counts are `None` when not requested or not sent by Meta.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateDayRow {
    pub template_id: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub day: NaiveDate,
    pub sent: Option<u64>,
    pub delivered: Option<u64>,
    pub read: Option<u64>,
    pub clicks: Clicks,
    pub cost: TemplateCost,
}

/// One row per data point of the response (one per template × day).
pub fn template_rows(
    resp: &TemplateAnalyticsResponse,
    ctx: &TemplateRowContext,
) -> Vec<TemplateDayRow> {
    let clicks_wanted = wanted(&ctx.metrics, TemplateMetric::Clicked);
    let cost_wanted = wanted(&ctx.metrics, TemplateMetric::Cost);
    resp.data_points()
        .map(|p| TemplateDayRow {
            template_id: p.template_id.clone(),
            start: p.start,
            end: p.end,
            day: bucket_day(p.start, p.end),
            sent: p.sent,
            delivered: p.delivered,
            read: p.read,
            clicks: match (&p.clicked, clicks_wanted) {
                (Some(c), _) => Clicks::Counted(c.clone()),
                (None, false) => Clicks::NotRequested,
                (None, true) if !ctx.clicks_available => Clicks::UnavailableInRegion,
                (None, true) => Clicks::NotReturned,
            },
            cost: match (&p.cost, cost_wanted) {
                (Some(c), _) => TemplateCost::Reported(c.clone()),
                (None, true) => TemplateCost::NotReturned,
                (None, false) => TemplateCost::NotRequested,
            },
        })
        .collect()
}

/// What Meta said about one requested template over a window.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateInsights {
    /// Day rows as reported.
    Reported(Vec<TemplateDayRow>),
    /// Template analytics are not enabled on the WABA (`is_enabled_for_insights` false): no
    /// data exists, which is not the same as zero sends.
    NotEnabled,
    /// Enabled, but Meta returned no data point for this template in the window.
    NoDataPoints,
}

/// Groups rows by requested template, naming templates Meta said nothing about.
pub fn template_insights(
    requested: &[String],
    rows: Vec<TemplateDayRow>,
    insights_enabled: bool,
) -> Vec<(String, TemplateInsights)> {
    let mut by_id: std::collections::BTreeMap<String, Vec<TemplateDayRow>> =
        std::collections::BTreeMap::new();
    for row in rows {
        by_id.entry(row.template_id.clone()).or_default().push(row);
    }
    let mut out: Vec<(String, TemplateInsights)> = requested
        .iter()
        .map(|id| {
            let state = match by_id.remove(id) {
                Some(rows) => TemplateInsights::Reported(rows),
                None if !insights_enabled => TemplateInsights::NotEnabled,
                None => TemplateInsights::NoDataPoints,
            };
            (id.clone(), state)
        })
        .collect();
    // Rows for ids we did not ask about are still Meta's data: keep them, never drop.
    out.extend(
        by_id
            .into_iter()
            .map(|(id, rows)| (id, TemplateInsights::Reported(rows))),
    );
    out
}

/// Sent/delivered per bucket from the messaging `analytics` field (a cross-check for ours).
#[derive(Debug, Clone, PartialEq)]
pub struct MessagingRow {
    pub start: Timestamp,
    pub end: Timestamp,
    pub day: NaiveDate,
    pub sent: Option<u64>,
    pub delivered: Option<u64>,
}

pub fn messaging_rows(resp: &MessagingAnalyticsResponse) -> Vec<MessagingRow> {
    resp.data_points()
        .iter()
        .map(|p| MessagingRow {
            start: p.start,
            end: p.end,
            day: bucket_day(p.start, p.end),
            sent: p.sent,
            delivered: p.delivered,
        })
        .collect()
}

/// CBP-era conversations per bucket × dimension combination.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationRow {
    pub start: Timestamp,
    pub end: Timestamp,
    pub phone_number: Option<String>,
    pub country: Option<String>,
    pub conversation_type: Option<String>,
    pub conversation_direction: Option<String>,
    pub conversation_category: Option<String>,
    pub conversations: Option<u64>,
    pub cost: Cost,
}

pub fn conversation_rows(resp: &ConversationAnalyticsResponse) -> Vec<ConversationRow> {
    resp.data_points()
        .map(|p| ConversationRow {
            start: p.start,
            end: p.end,
            phone_number: p.phone_number.clone(),
            country: p.country.clone(),
            conversation_type: p.conversation_type.clone(),
            conversation_direction: p.conversation_direction.clone(),
            conversation_category: p.conversation_category.clone(),
            conversations: p.conversation,
            cost: p.cost.map_or(Cost::NotReturned, Cost::Amount),
        })
        .collect()
}

/// Component count and types of a template (`HEADER`, `BODY`, `FOOTER`, `BUTTONS`, …) and
/// its button types (`URL`, `QUICK_REPLY`, …), which decide whether URL clicks can exist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentsSummary {
    pub count: usize,
    pub types: Vec<String>,
    pub button_types: Vec<String>,
}

/// One template in the catalogue. A field is `None` when not requested in `fields=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateCatalogueRow {
    pub template_id: String,
    pub name: Option<String>,
    pub language: Option<String>,
    pub status: Option<String>,
    pub category: Option<String>,
    pub sub_category: Option<String>,
    pub previous_category: Option<String>,
    pub parameter_format: Option<String>,
    pub quality_score: Option<String>,
    pub components: Option<ComponentsSummary>,
}

impl TemplateCatalogueRow {
    pub fn has_url_button(&self) -> Option<bool> {
        self.components
            .as_ref()
            .map(|c| c.button_types.iter().any(|t| t == "URL"))
    }
}

pub fn catalogue_rows(resp: &MessageTemplatesResponse) -> Vec<TemplateCatalogueRow> {
    resp.data
        .iter()
        .map(|t| TemplateCatalogueRow {
            template_id: t.id.clone(),
            name: t.name.clone(),
            language: t.language.clone(),
            status: t.status.clone(),
            category: t.category.clone(),
            sub_category: t.sub_category.clone(),
            previous_category: t.previous_category.clone(),
            parameter_format: t.parameter_format.clone(),
            quality_score: t.quality_score.as_ref().and_then(|q| q.score.clone()),
            components: t.components.as_ref().map(|c| ComponentsSummary {
                count: c.len(),
                types: c.iter().map(|c| c.component_type.clone()).collect(),
                button_types: c
                    .iter()
                    .flat_map(|c| c.buttons.iter().flatten())
                    .map(|b| b.button_type.clone())
                    .collect(),
            }),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Recognising a stored response (raw snapshots, conformance)
// ---------------------------------------------------------------------------------------

/// The Graph response kinds the product meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GraphResponseKind {
    PricingAnalytics,
    TemplateAnalytics,
    MessagingAnalytics,
    ConversationAnalytics,
    MessageTemplates,
    EnableInsights,
    TemplateGroupAnalytics,
    CallAnalytics,
    GroupAnalytics,
    /// The Conversions API's answer to `POST /<dataset>/events`.
    ConversionEvents,
}

impl GraphResponseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GraphResponseKind::PricingAnalytics => "pricing_analytics",
            GraphResponseKind::TemplateAnalytics => "template_analytics",
            GraphResponseKind::MessagingAnalytics => "analytics",
            GraphResponseKind::ConversationAnalytics => "conversation_analytics",
            GraphResponseKind::MessageTemplates => "message_templates",
            GraphResponseKind::EnableInsights => "enable_insights",
            GraphResponseKind::TemplateGroupAnalytics => "template_group_analytics",
            GraphResponseKind::CallAnalytics => "call_analytics",
            GraphResponseKind::GroupAnalytics => "group_analytics",
            GraphResponseKind::ConversionEvents => "conversion_events",
        }
    }
}

impl fmt::Display for GraphResponseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Names the kind of a Graph response from its shape (the client knows the kind it asked
/// for; this is for stored bodies). `None` when the body says too little, e.g. `{"data":[]}`.
pub fn recognise(body: &[u8]) -> Option<GraphResponseKind> {
    use GraphResponseKind as K;
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = v.as_object()?;
    for (key, kind) in [
        ("pricing_analytics", K::PricingAnalytics),
        ("conversation_analytics", K::ConversationAnalytics),
        ("analytics", K::MessagingAnalytics),
        ("call_analytics", K::CallAnalytics),
        ("template_group_analytics", K::TemplateGroupAnalytics),
        ("group_analytics", K::GroupAnalytics),
    ] {
        if obj.contains_key(key) {
            return Some(kind);
        }
    }
    if let Some(data) = obj.get("data").and_then(|d| d.as_array()) {
        let first = data.first()?.as_object()?;
        if let Some(points) = first.get("data_points").and_then(|p| p.as_array()) {
            let point = points.first().and_then(|p| p.as_object());
            let has = |k: &str| point.is_some_and(|p| p.contains_key(k));
            return if has("template_id") || first.contains_key("product_type") {
                Some(K::TemplateAnalytics)
            } else if has("template_group_id") {
                Some(K::TemplateGroupAnalytics)
            } else if has("group_id") {
                Some(K::GroupAnalytics)
            } else if has("conversation") {
                Some(K::ConversationAnalytics)
            } else if has("volume") {
                Some(K::PricingAnalytics)
            } else {
                None
            };
        }
        return ["name", "status", "category", "language", "components"]
            .iter()
            .any(|k| first.contains_key(*k))
            .then_some(K::MessageTemplates);
    }
    (obj.len() <= 2 && obj.contains_key("id") && obj.keys().all(|k| k == "id" || k == "success"))
        .then_some(K::EnableInsights)
}

/// A stored Graph response, parsed when modelled and kept raw when not.
#[derive(Debug, Clone)]
pub enum GraphDocument {
    PricingAnalytics(Parsed<PricingAnalyticsResponse>),
    TemplateAnalytics(Parsed<TemplateAnalyticsResponse>),
    MessagingAnalytics(Parsed<MessagingAnalyticsResponse>),
    ConversationAnalytics(Parsed<ConversationAnalyticsResponse>),
    MessageTemplates(Parsed<MessageTemplatesResponse>),
    EnableInsights(Parsed<EnableInsightsResponse>),
    /// Recognised but not modelled (`template_group_analytics`, `call_analytics`,
    /// `group_analytics`): the body is kept verbatim with its kind named.
    Kept {
        kind: GraphResponseKind,
        raw: String,
        data_points: usize,
    },
}

pub fn parse_document(body: &[u8]) -> Result<GraphDocument, AnalyticsParseError> {
    use GraphResponseKind as K;
    let kind = recognise(body).ok_or(AnalyticsParseError::Unrecognised)?;
    let name = kind.as_str();
    Ok(match kind {
        K::PricingAnalytics => GraphDocument::PricingAnalytics(parse(name, body)?),
        K::TemplateAnalytics => GraphDocument::TemplateAnalytics(parse(name, body)?),
        K::MessagingAnalytics => GraphDocument::MessagingAnalytics(parse(name, body)?),
        K::ConversationAnalytics => GraphDocument::ConversationAnalytics(parse(name, body)?),
        K::MessageTemplates => GraphDocument::MessageTemplates(parse(name, body)?),
        K::EnableInsights => GraphDocument::EnableInsights(parse(name, body)?),
        // Never stored as a snapshot (recognise() does not name it); kept raw if it were.
        K::TemplateGroupAnalytics | K::CallAnalytics | K::GroupAnalytics | K::ConversionEvents => {
            let raw = std::str::from_utf8(body)
                .map_err(|_| AnalyticsParseError::Unrecognised)?
                .to_string();
            let data_points = count_data_points(&serde_json::from_str(&raw).unwrap_or_default());
            GraphDocument::Kept {
                kind,
                raw,
                data_points,
            }
        }
    })
}

/// Counts `data_points` entries anywhere in a body.
pub fn count_data_points(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, v)| match (k.as_str(), v) {
                ("data_points", serde_json::Value::Array(a)) => a.len(),
                _ => count_data_points(v),
            })
            .sum(),
        serde_json::Value::Array(a) => a.iter().map(count_data_points).sum(),
        _ => 0,
    }
}

impl GraphDocument {
    pub fn kind(&self) -> GraphResponseKind {
        use GraphResponseKind as K;
        match self {
            GraphDocument::PricingAnalytics(_) => K::PricingAnalytics,
            GraphDocument::TemplateAnalytics(_) => K::TemplateAnalytics,
            GraphDocument::MessagingAnalytics(_) => K::MessagingAnalytics,
            GraphDocument::ConversationAnalytics(_) => K::ConversationAnalytics,
            GraphDocument::MessageTemplates(_) => K::MessageTemplates,
            GraphDocument::EnableInsights(_) => K::EnableInsights,
            GraphDocument::Kept { kind, .. } => *kind,
        }
    }

    /// Keys the model does not declare (always empty for kept documents: nothing was read).
    pub fn unknown_fields(&self) -> &[String] {
        match self {
            GraphDocument::PricingAnalytics(p) => &p.unknown_fields,
            GraphDocument::TemplateAnalytics(p) => &p.unknown_fields,
            GraphDocument::MessagingAnalytics(p) => &p.unknown_fields,
            GraphDocument::ConversationAnalytics(p) => &p.unknown_fields,
            GraphDocument::MessageTemplates(p) => &p.unknown_fields,
            GraphDocument::EnableInsights(p) => &p.unknown_fields,
            GraphDocument::Kept { .. } => &[],
        }
    }

    /// Rows the document turns into (with all metrics assumed requested): one per data
    /// point, per template in a catalogue page, one for the enable-insights answer.
    pub fn row_count(&self) -> usize {
        match self {
            GraphDocument::PricingAnalytics(p) => pricing_rows(&p.value, &[]).len(),
            GraphDocument::TemplateAnalytics(p) => {
                template_rows(&p.value, &TemplateRowContext::default()).len()
            }
            GraphDocument::MessagingAnalytics(p) => messaging_rows(&p.value).len(),
            GraphDocument::ConversationAnalytics(p) => conversation_rows(&p.value).len(),
            GraphDocument::MessageTemplates(p) => catalogue_rows(&p.value).len(),
            GraphDocument::EnableInsights(_) => 1,
            GraphDocument::Kept { data_points, .. } => *data_points,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRICING: &str = r#"{"pricing_analytics":{"data":[{"data_points":[
        {"start":1748761200,"end":1748847600,"country":"US","tier":"0:MAX","pricing_type":"REGULAR","pricing_category":"MARKETING","volume":4,"cost":40},
        {"start":1748761200,"end":1748847600,"country":"US","pricing_type":"FREE_CUSTOMER_SERVICE","pricing_category":"SERVICE","volume":2},
        {"start":1748761200,"end":1748847600,"country":"IN","pricing_category":"AUTHENTICATION-INTERNATIONAL","volume":1,"cost":2.3,"surprise":true}
    ]}]}}"#;

    #[test]
    fn pricing_rows_keep_dimensions_and_mark_withheld_cost() {
        let parsed: Parsed<PricingAnalyticsResponse> =
            parse("pricing_analytics", PRICING.as_bytes()).unwrap();
        assert_eq!(
            parsed.unknown_fields,
            vec!["pricing_analytics.data.0.data_points.2.surprise"]
        );
        let rows = pricing_rows(&parsed.value, &[]);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].cost, Cost::Amount(40.0));
        assert_eq!(rows[0].volume, Some(4));
        assert_eq!(rows[0].dimensions.tier.as_deref(), Some("0:MAX"));
        assert_eq!(
            rows[0].day,
            NaiveDate::from_ymd_opt(2025, 6, 1).unwrap(),
            "a 07:00 UTC bucket is the Pacific day it starts"
        );
        assert_eq!(rows[1].cost, Cost::NotReturned, "absent cost is not zero");
        assert_eq!(
            rows[2].dimensions.pricing_category.as_deref(),
            Some("AUTHENTICATION_INTERNATIONAL")
        );
        let volume_only = pricing_rows(&parsed.value, &[PricingMetric::Volume]);
        assert_eq!(volume_only[1].cost, Cost::NotRequested);
        assert_ne!(rows[0].dimensions.key(), rows[1].dimensions.key());
    }

    const TEMPLATES: &str = r#"{"data":[{"granularity":"DAILY","product_type":"cloud_api","data_points":[
        {"template_id":1421988012088524,"start":1718064000,"end":1718150400,"sent":3,"delivered":2,"read":1},
        {"template_id":"2632273056924580","start":1718064000,"end":1718150400,"sent":5,"delivered":5,"read":4,
         "clicked":[{"type":"url_button","button_content":"Shop","count":3},{"type":"url_button","button_content":"More","count":2},{"type":"quick_reply_button","button_content":"Stop","count":1}],
         "cost":[{"type":"amount_spent","value":0.05},{"type":"cost_per_url_button_click","value":0.01}]}
    ]}],"paging":{"cursors":{"before":"MAZDZD","after":"MjQZD"}}}"#;

    #[test]
    fn template_rows_have_explicit_states() {
        let parsed: Parsed<TemplateAnalyticsResponse> =
            parse("template_analytics", TEMPLATES.as_bytes()).unwrap();
        assert!(parsed.unknown_fields.is_empty());
        assert_eq!(
            parsed
                .value
                .paging()
                .and_then(|p| p.cursors.as_ref())
                .and_then(|c| c.after.as_deref()),
            Some("MjQZD")
        );
        let rows = template_rows(&parsed.value, &TemplateRowContext::default());
        assert_eq!(
            rows[0].template_id, "1421988012088524",
            "numeric id kept as text"
        );
        assert_eq!(rows[0].clicks, Clicks::NotReturned);
        assert_eq!(rows[0].cost, TemplateCost::NotReturned);
        assert_eq!(rows[1].clicks.count("url_button"), Some(5));
        assert_eq!(rows[1].clicks.count("unique_url_button"), Some(0));
        assert_eq!(rows[1].cost.value("amount_spent"), Some(0.05));
        assert_eq!(rows[1].cost.value("cost_per_delivered"), None);

        let eu = TemplateRowContext {
            metrics: vec![TemplateMetric::Sent, TemplateMetric::Clicked],
            clicks_available: false,
        };
        let rows = template_rows(&parsed.value, &eu);
        assert_eq!(rows[0].clicks, Clicks::UnavailableInRegion);
        assert_eq!(rows[0].cost, TemplateCost::NotRequested);

        let requested = vec![
            "2632273056924580".to_string(),
            "999".to_string(),
            "1421988012088524".to_string(),
        ];
        let rows = template_rows(&parsed.value, &TemplateRowContext::default());
        let insights = template_insights(&requested, rows.clone(), true);
        assert!(matches!(&insights[0].1, TemplateInsights::Reported(r) if r.len() == 1));
        assert_eq!(insights[1], ("999".into(), TemplateInsights::NoDataPoints));
        let insights = template_insights(&requested, Vec::new(), false);
        assert!(
            insights
                .iter()
                .all(|(_, s)| *s == TemplateInsights::NotEnabled)
        );
    }

    #[test]
    fn catalogue_summarises_components_and_reads_both_quality_shapes() {
        let body = r#"{"data":[
            {"id":"1","name":"a","status":"APPROVED","category":"MARKETING","quality_score":{"score":"GREEN","date":1700000000,"extra":1},
             "components":[{"type":"BODY","text":"hi"},{"type":"BUTTONS","buttons":[{"type":"URL","text":"go","url":"https://x"},{"type":"QUICK_REPLY","text":"stop"}]}]},
            {"id":2,"name":"b","quality_score":"YELLOW"}
        ],"paging":{"cursors":{"before":"a","after":"b"},"next":"https://graph.facebook.com/v23.0/1/message_templates?after=b"}}"#;
        let parsed: Parsed<MessageTemplatesResponse> =
            parse("message_templates", body.as_bytes()).unwrap();
        assert_eq!(
            parsed.unknown_fields,
            vec!["data.0.quality_score.extra"],
            "unknown keys inside the hand-written quality visitor are still reported"
        );
        let rows = catalogue_rows(&parsed.value);
        assert_eq!(rows[0].quality_score.as_deref(), Some("GREEN"));
        assert_eq!(rows[0].has_url_button(), Some(true));
        assert_eq!(rows[0].components.as_ref().unwrap().count, 2);
        assert_eq!(rows[1].template_id, "2");
        assert_eq!(rows[1].quality_score.as_deref(), Some("YELLOW"));
        assert_eq!(rows[1].components, None, "not requested, not empty");
    }

    #[test]
    fn recognises_kinds_by_shape() {
        use GraphResponseKind as K;
        assert_eq!(recognise(PRICING.as_bytes()), Some(K::PricingAnalytics));
        assert_eq!(recognise(TEMPLATES.as_bytes()), Some(K::TemplateAnalytics));
        assert_eq!(
            recognise(br#"{"id": 102290129340398}"#),
            Some(K::EnableInsights)
        );
        assert_eq!(
            recognise(br#"{"data":[{"data_points":[{"start":1,"end":2,"conversation":3}]}]}"#),
            Some(K::ConversationAnalytics)
        );
        assert_eq!(recognise(br#"{"data":[]}"#), None);
        assert!(matches!(
            parse_document(
                br#"{"call_analytics":{"data_points":[{"start":1,"end":2,"count":3}]}}"#
            ),
            Ok(GraphDocument::Kept {
                kind: K::CallAnalytics,
                data_points: 1,
                ..
            })
        ));
    }

    #[test]
    fn request_spellings_follow_meta() {
        assert_eq!(Granularity::Daily.messaging_param(), "DAY");
        assert_eq!(Granularity::Daily.pricing_param(), "DAILY");
        let ids: Vec<String> = (0..23).map(|i| i.to_string()).collect();
        let sizes: Vec<usize> = template_id_batches(&ids).map(<[String]>::len).collect();
        assert_eq!(sizes, vec![10, 10, 3]);
    }
}
