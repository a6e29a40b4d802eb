//! What the pulls ask Meta for.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_spellings_follow_meta() {
        assert_eq!(Granularity::Daily.messaging_param(), "DAY");
        assert_eq!(Granularity::Daily.pricing_param(), "DAILY");
        let ids: Vec<String> = (0..23).map(|i| i.to_string()).collect();
        let sizes: Vec<usize> = template_id_batches(&ids).map(<[String]>::len).collect();
        assert_eq!(sizes, vec![10, 10, 3]);
    }
}
