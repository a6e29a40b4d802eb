//! The rows we store from Meta's answers; missing data is an explicit state, never a zero.

use super::*;
use crate::domain::lenient::Timestamp;
use chrono::{DateTime, NaiveDate};

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
                    .map(|c| crate::domain::pricing::normalise_category(c).into_owned()),
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
