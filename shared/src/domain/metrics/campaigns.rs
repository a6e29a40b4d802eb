//! Campaigns: leads created in the period, by first touch utm_source × utm_medium ×
//! utm_campaign (one row per campaign for the whole period: `group_by` does not split it).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::format::{CsvRow, money_e4, rate, safe_cell};
use super::input::{ConversionRow, Inputs};
use super::query::Query;

/// Where ad cost would come from; no ad spend source exists yet.
pub const COST_SOURCE: &str = "none";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignRow {
    pub utm_source: String,
    pub utm_medium: String,
    pub utm_campaign: String,
    pub leads: u64,
    pub converted_leads: u64,
    pub conversions: u64,
    /// Sum × 10^4 when all valued conversions share one currency.
    pub value_e4: Option<i64>,
    /// That currency, `mixed` when several, empty when no conversion has a value.
    pub currency: String,
    /// Distinct ad ids (`source_id`) of the leads, sorted.
    pub source_ids: Vec<String>,
}

/// Leads whose local creation day is in the period (phone filter on the lead's number).
/// A lead counts as converted with at least one conversion at or before the end of the `to`
/// day (its local day ≤ `to`); `conversions` counts those conversions.
///
/// Value: conversions without a value take no part. When the valued conversions all share
/// one currency (trimmed, upper-cased; a missing currency is its own, empty, currency) the
/// value is their exact sum; several currencies → `mixed` and no value; none → both empty.
pub fn campaigns(inputs: &Inputs, q: &Query) -> Vec<CampaignRow> {
    let mut by_lead: HashMap<&str, Vec<&ConversionRow>> = HashMap::new();
    for c in &inputs.conversions {
        if q.local_day(c.at).is_some_and(|day| day <= q.to) {
            by_lead.entry(c.lead_id.as_str()).or_default().push(c);
        }
    }
    #[derive(Default)]
    struct Acc<'a> {
        leads: u64,
        converted: u64,
        conversions: u64,
        value: i64,
        currencies: BTreeSet<String>,
        source_ids: BTreeSet<&'a str>,
    }
    let mut groups: BTreeMap<(&str, &str, &str), Acc<'_>> = BTreeMap::new();
    for lead in &inputs.leads {
        if !q.phone_matches_opt(lead.phone_number_id.as_deref()) {
            continue;
        }
        if !q
            .local_day(lead.created_at)
            .is_some_and(|day| q.in_period(day))
        {
            continue;
        }
        let key = (
            lead.utm_source.as_deref().unwrap_or(""),
            lead.utm_medium.as_deref().unwrap_or(""),
            lead.utm_campaign.as_deref().unwrap_or(""),
        );
        let acc = groups.entry(key).or_default();
        acc.leads += 1;
        if let Some(id) = lead.source_id.as_deref().filter(|s| !s.is_empty()) {
            acc.source_ids.insert(id);
        }
        let convs = by_lead
            .get(lead.lead_id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        if convs.is_empty() {
            continue;
        }
        acc.converted += 1;
        acc.conversions += convs.len() as u64;
        for c in convs {
            if let Some(v) = c.value_e4 {
                acc.value = acc.value.saturating_add(v);
                let cur = c.currency.as_deref().unwrap_or("").trim();
                acc.currencies.insert(cur.to_ascii_uppercase());
            }
        }
    }
    groups
        .into_iter()
        .map(|((source, medium, campaign), acc)| {
            let (value_e4, currency) = match acc.currencies.len() {
                0 => (None, String::new()),
                1 => (
                    Some(acc.value),
                    acc.currencies.into_iter().next().unwrap_or_default(),
                ),
                _ => (None, "mixed".to_string()),
            };
            CampaignRow {
                utm_source: source.to_string(),
                utm_medium: medium.to_string(),
                utm_campaign: campaign.to_string(),
                leads: acc.leads,
                converted_leads: acc.converted,
                conversions: acc.conversions,
                value_e4,
                currency,
                source_ids: acc.source_ids.into_iter().map(str::to_string).collect(),
            }
        })
        .collect()
}

impl CsvRow for CampaignRow {
    fn header() -> &'static [&'static str] {
        &[
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "leads",
            "converted_leads",
            "conversions",
            "conversion_rate",
            "value",
            "currency",
            "source_id",
            "cost_per_lead",
            "cost_per_conversion",
            "cost_source",
        ]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            safe_cell(&self.utm_source),
            safe_cell(&self.utm_medium),
            safe_cell(&self.utm_campaign),
            self.leads.to_string(),
            self.converted_leads.to_string(),
            self.conversions.to_string(),
            rate(self.converted_leads as i64, self.leads as i64),
            self.value_e4.map(money_e4).unwrap_or_default(),
            safe_cell(&self.currency),
            safe_cell(&self.source_ids.join(",")),
            String::new(),
            String::new(),
            COST_SOURCE.to_string(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::input::LeadRow;
    use super::super::message::testkit::*;
    use super::*;
    use chrono_tz::Tz;

    fn lead(id: &str, at: i64, campaign: Option<&str>, ad: Option<&str>) -> LeadRow {
        LeadRow {
            lead_id: id.to_string(),
            created_at: at,
            phone_number_id: Some("P1".to_string()),
            utm_source: campaign.map(|_| "facebook".to_string()),
            utm_medium: campaign.map(|_| "cpc".to_string()),
            utm_campaign: campaign.map(str::to_string),
            source_id: ad.map(str::to_string),
        }
    }

    fn conv(lead: &str, at: i64, value: Option<i64>, cur: Option<&str>) -> ConversionRow {
        ConversionRow {
            lead_id: lead.to_string(),
            at,
            conversion_type: "purchase".to_string(),
            value_e4: value,
            currency: cur.map(str::to_string),
        }
    }

    #[test]
    fn leads_conversions_value_and_mixed_currency() {
        let t = ts("2026-11-20T10:00:00");
        let end = ts("2026-11-21T23:59:59");
        let inputs = Inputs {
            leads: vec![
                lead("a", t, Some("bf"), Some("ad2")),
                lead("b", t, Some("bf"), Some("ad1")),
                lead("c", t, Some("bf"), Some("ad2")),
                lead("d", t, Some("=evil"), None),
                lead("e", t, None, None),
                lead("old", t - 7 * 86_400, Some("bf"), None), // created before the period
            ],
            conversions: vec![
                conv("a", t + 60, Some(100_000), Some("USD")),
                conv("a", end, Some(25_000), Some("usd")),
                conv("a", end + 1, Some(1), Some("USD")), // after the end of `to`
                conv("b", t + 60, None, None),
                conv("d", t + 60, Some(10_000), Some("USD")),
                conv("d", t + 61, Some(10_000), Some("EUR")),
                conv("old", t, Some(5), Some("USD")),
            ],
            ..Inputs::default()
        };
        let q = Query::new(d("2026-11-20"), d("2026-11-21"), Tz::UTC);
        let rows: Vec<Vec<String>> = campaigns(&inputs, &q).iter().map(CsvRow::cells).collect();
        assert_eq!(
            rows,
            vec![
                vec![
                    "", "", "", "1", "0", "0", "0.0000", "", "", "", "", "", "none"
                ],
                vec![
                    "facebook", "cpc", "'=evil", "1", "1", "2", "1.0000", "", "mixed", "", "", "",
                    "none"
                ],
                // a: 2 conversions in time (10 + 2.5 USD), b: one without value, c: none.
                vec![
                    "facebook", "cpc", "bf", "3", "2", "3", "0.6667", "12.5", "USD", "ad1,ad2", "",
                    "", "none"
                ],
            ]
        );
    }
}
