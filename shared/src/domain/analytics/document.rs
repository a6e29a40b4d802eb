//! Recognising a stored response by its shape (raw snapshots, conformance).

use super::*;
use std::fmt;

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
