//! `MemoryGraph`: a fake of Meta's Graph API behind the [`GraphSource`] port, for fast
//! tests of the sync service and the meta-sync handler (no HTTP; the HTTP fake with paging
//! and retries is the tests crate's `fake_graph`). Per WABA it serves a template catalogue
//! and one daily data point per day (pricing, messaging, every template with insights),
//! each answer one page whose body is JSON in Meta's shape, parsed by the same models the
//! client uses. Failures are scripted: [`MemoryGraph::answer`] then [`MemoryGraph::fail`]
//! queue what the next calls get, in order; with the queue empty every call answers.
//! Clones share one fake.

use crate::domain::analytics::{
    Granularity, GraphResponseKind, InsightsFlagResponse, MessageTemplatesResponse,
    MessagingAnalyticsResponse, PricingAnalyticsResponse, PricingDimension,
    TemplateAnalyticsResponse, TemplateMetric, parse,
};
use crate::ports::GraphSource;
use crate::ports::graph::{GraphError, GraphPage, GraphPull};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

const DAY: i64 = 86_400;

/// How a scripted call fails, as the Graph client reports it after its own retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFault {
    /// Rate limited (code 80007) through every retry.
    Throttled,
    /// 5xx through every retry.
    Unavailable,
    /// The access token expired (code 190).
    ExpiredToken,
    /// The token lacks `whatsapp_business_management` on the WABA (code 200).
    MissingPermission,
}

impl GraphFault {
    fn error(self, waba: &str) -> GraphError {
        let waba = waba.to_string();
        match self {
            GraphFault::Throttled => GraphError::Throttled {
                waba,
                detail: "code 80007: (#80007) Rate limit hit".into(),
                code: Some(80007),
                http_status: 400,
                attempts: 3,
                retry_after: None,
            },
            GraphFault::Unavailable => GraphError::Transient {
                waba,
                reason: "HTTP 503".into(),
                http_status: Some(503),
                attempts: 3,
            },
            GraphFault::ExpiredToken => GraphError::Auth {
                waba,
                code: Some(190),
                subcode: Some(463),
                message: "Error validating access token: Session has expired".into(),
                fbtrace_id: None,
            },
            GraphFault::MissingPermission => GraphError::Api {
                waba,
                http_status: 403,
                code: Some(200),
                subcode: None,
                message: "(#200) Requires whatsapp_business_management permission".into(),
                fbtrace_id: None,
            },
        }
    }
}

/// One template of a fake WABA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryTemplate {
    pub id: String,
    pub name: String,
    pub status: String,
    /// Whether Meta has data points for it (a template never sent has none).
    pub has_insights: bool,
}

/// One fake WABA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryWaba {
    pub templates: Vec<MemoryTemplate>,
    pub insights_enabled: bool,
}

impl MemoryWaba {
    /// Three templates (two with insights) and template insights enabled.
    pub fn standard(waba_id: &str) -> Self {
        let t = |n: u32, name: &str, has_insights| MemoryTemplate {
            id: format!("{waba_id}{n:03}"),
            name: name.into(),
            status: "APPROVED".into(),
            has_insights,
        };
        Self {
            templates: vec![
                t(1, "order_update", true),
                t(2, "spring_sale", true),
                t(3, "never_sent", false),
            ],
            insights_enabled: true,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    wabas: BTreeMap<String, MemoryWaba>,
    /// What the next calls get, in order: `None` answers, `Some` fails.
    script: VecDeque<Option<GraphFault>>,
    calls: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct MemoryGraph {
    state: Arc<Mutex<State>>,
}

impl MemoryGraph {
    /// A fake serving these WABAs, each [`MemoryWaba::standard`].
    pub fn standard(waba_ids: &[&str]) -> Self {
        let graph = Self::default();
        for w in waba_ids {
            graph.set_waba(w, MemoryWaba::standard(w));
        }
        graph
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_waba(&self, waba_id: &str, waba: MemoryWaba) {
        self.lock().wabas.insert(waba_id.to_string(), waba);
    }

    /// The next `calls` calls answer (queued behind what is already scripted).
    pub fn answer(&self, calls: usize) {
        self.lock().script.extend(std::iter::repeat_n(None, calls));
    }

    /// The next `calls` calls fail with `fault` (queued behind what is already scripted).
    pub fn fail(&self, fault: GraphFault, calls: usize) {
        self.lock()
            .script
            .extend(std::iter::repeat_n(Some(fault), calls));
    }

    /// Every call so far, as `<edge> <waba>` (and the window, for the windowed ones).
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// Records the call; the scripted fault, or the WABA to answer from.
    fn call(&self, waba: &str, what: String) -> Result<MemoryWaba, GraphError> {
        let mut state = self.lock();
        state.calls.push(what);
        if let Some(fault) = state.script.pop_front().flatten() {
            return Err(fault.error(waba));
        }
        state
            .wabas
            .get(waba)
            .cloned()
            .ok_or_else(|| GraphError::Api {
                waba: waba.to_string(),
                http_status: 400,
                code: Some(100),
                subcode: Some(33),
                message: format!("Unsupported get request. Object with ID '{waba}' does not exist"),
                fbtrace_id: None,
            })
    }
}

/// One page in Meta's shape, parsed as the client parses it.
fn page<T: DeserializeOwned>(
    waba: &str,
    kind: GraphResponseKind,
    request: String,
    body: Value,
) -> Result<GraphPage<T>, GraphError> {
    let body = body.to_string();
    let parsed =
        parse::<T>(kind.as_str(), body.as_bytes()).map_err(|e| GraphError::Unreadable {
            waba: waba.to_string(),
            kind,
            reason: e.to_string(),
            body: body.clone(),
        })?;
    Ok(GraphPage {
        request,
        body,
        value: parsed.value,
        unknown_fields: parsed.unknown_fields,
        attempts: 1,
    })
}

fn pull<T: DeserializeOwned>(
    waba: &str,
    kind: GraphResponseKind,
    request: String,
    body: Value,
) -> Result<GraphPull<T>, GraphError> {
    Ok(GraphPull {
        waba: waba.to_string(),
        kind,
        pages: vec![page(waba, kind, request, body)?],
    })
}

/// The UTC-midnight day buckets in `[start, end)`.
fn days(start: i64, end: i64) -> impl Iterator<Item = (i64, i64)> {
    let first = start.div_euclid(DAY) * DAY;
    (0..)
        .map(move |i| first + i * DAY)
        .take_while(move |s| *s < end)
        .filter(move |s| *s >= start)
        .map(|s| (s, s + DAY))
}

/// A small number that varies by day and seed, so sums catch a lost or doubled row.
fn count(day_start: i64, seed: u64) -> u64 {
    (day_start / DAY) as u64 % 17 + seed
}

impl GraphSource for MemoryGraph {
    async fn pricing_analytics(
        &self,
        waba: &str,
        start: i64,
        end: i64,
        _granularity: Granularity,
        _dimensions: &[PricingDimension],
    ) -> Result<GraphPull<PricingAnalyticsResponse>, GraphError> {
        let request = format!("pricing_analytics {waba} {start}..{end}");
        self.call(waba, request.clone())?;
        let points: Vec<Value> = days(start, end)
            .flat_map(|(s, e)| {
                [("MARKETING", 5, 0.025), ("UTILITY", 1, 0.004)].map(|(category, seed, price)| {
                    let volume = count(s, seed);
                    json!({
                        "start": s, "end": e, "country": "ID", "phone_number": "15550001111",
                        "pricing_type": "REGULAR", "pricing_category": category,
                        "tier": "0:250", "volume": volume, "cost": volume as f64 * price,
                    })
                })
            })
            .collect();
        let body =
            json!({ "pricing_analytics": { "data": [{ "data_points": points }] }, "id": waba });
        pull(waba, GraphResponseKind::PricingAnalytics, request, body)
    }

    async fn template_analytics(
        &self,
        waba: &str,
        template_ids: &[String],
        start: i64,
        end: i64,
        _metric_types: &[TemplateMetric],
    ) -> Result<GraphPull<TemplateAnalyticsResponse>, GraphError> {
        let request = format!(
            "template_analytics {waba} {start}..{end} {}",
            template_ids.join(",")
        );
        let fake = self.call(waba, request.clone())?;
        let mut points = Vec::new();
        for t in fake.templates.iter().filter(|t| t.has_insights) {
            if !template_ids.contains(&t.id) {
                continue;
            }
            for (s, e) in days(start, end) {
                let sent = count(s, 10);
                points.push(json!({
                    "template_id": t.id, "start": s, "end": e,
                    "sent": sent, "delivered": sent - 1, "read": sent / 2,
                }));
            }
        }
        let body = json!({ "data": [{ "granularity": "DAILY", "product_type": "cloud_api", "data_points": points }] });
        pull(waba, GraphResponseKind::TemplateAnalytics, request, body)
    }

    async fn message_templates(
        &self,
        waba: &str,
        _fields: &[&str],
        _limit: u32,
    ) -> Result<GraphPull<MessageTemplatesResponse>, GraphError> {
        let request = format!("message_templates {waba}");
        let fake = self.call(waba, request.clone())?;
        let data: Vec<Value> = fake
            .templates
            .iter()
            .map(|t| {
                json!({
                    "id": t.id, "name": t.name, "language": "en_US",
                    "status": t.status, "category": "MARKETING",
                })
            })
            .collect();
        pull(
            waba,
            GraphResponseKind::MessageTemplates,
            request,
            json!({ "data": data }),
        )
    }

    async fn messaging_analytics(
        &self,
        waba: &str,
        start: i64,
        end: i64,
        _granularity: Granularity,
    ) -> Result<GraphPull<MessagingAnalyticsResponse>, GraphError> {
        let request = format!("analytics {waba} {start}..{end}");
        self.call(waba, request.clone())?;
        let points: Vec<Value> = days(start, end)
            .map(|(s, e)| {
                let sent = count(s, 20);
                json!({ "start": s, "end": e, "sent": sent, "delivered": sent - 2 })
            })
            .collect();
        let body = json!({ "analytics": {
            "phone_numbers": ["15550001111"], "granularity": "DAY", "data_points": points,
        }, "id": waba });
        pull(waba, GraphResponseKind::MessagingAnalytics, request, body)
    }

    async fn insights_enabled(
        &self,
        waba: &str,
    ) -> Result<GraphPage<InsightsFlagResponse>, GraphError> {
        let request = format!("is_enabled_for_insights {waba}");
        let fake = self.call(waba, request.clone())?;
        page(
            waba,
            GraphResponseKind::EnableInsights,
            request,
            json!({ "is_enabled_for_insights": fake.insights_enabled, "id": waba }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_parsed_pages_and_scripted_faults_in_order() {
        let graph = MemoryGraph::standard(&["1001"]);
        graph.answer(1);
        graph.fail(GraphFault::ExpiredToken, 1);
        let p = graph
            .messaging_analytics("1001", 0, 3 * DAY, Granularity::Daily)
            .await
            .unwrap();
        assert_eq!(p.values().map(|v| v.data_points().len()).sum::<usize>(), 3);
        assert!(p.unknown_fields().is_empty());
        let err = graph.message_templates("1001", &[], 100).await.unwrap_err();
        assert_eq!(err.class(), crate::ports::graph::ErrorClass::Auth);
        let templates = graph.message_templates("1001", &[], 100).await.unwrap();
        assert_eq!(templates.values().map(|v| v.data.len()).sum::<usize>(), 3);
        assert_eq!(graph.calls().len(), 3);
    }
}
