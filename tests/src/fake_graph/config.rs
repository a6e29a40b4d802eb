//! What the fake serves (WABAs, templates, paging) and the faults it can inject.

use super::*;
use std::collections::BTreeMap;
use std::time::Duration;

/// One template in a fake WABA's catalogue.
#[derive(Debug, Clone)]
pub struct FakeTemplate {
    pub id: String,
    pub name: String,
    pub language: String,
    pub status: String,
    pub category: String,
    pub sub_category: Option<String>,
    pub previous_category: Option<String>,
    /// Button types: `URL`, `QUICK_REPLY`, `PHONE_NUMBER`, `OTP`.
    pub buttons: Vec<String>,
    /// `false`: Meta returns no template_analytics data points for it (e.g. never sent).
    pub has_insights: bool,
}

impl FakeTemplate {
    fn new(id: &str, name: &str, category: &str, status: &str, buttons: &[&str]) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            language: "en_US".into(),
            status: status.into(),
            category: category.into(),
            sub_category: None,
            previous_category: None,
            buttons: buttons.iter().map(|b| b.to_string()).collect(),
            has_insights: status == "APPROVED",
        }
    }

    pub(super) fn has_button(&self, kind: &str) -> bool {
        self.buttons.iter().any(|b| b == kind)
    }
}

/// A WhatsApp Business Account as the fake knows it.
#[derive(Debug, Clone)]
pub struct FakeWaba {
    pub id: String,
    pub phone_numbers: Vec<String>,
    pub templates: Vec<FakeTemplate>,
    /// `is_enabled_for_insights`; when false template_analytics answers with no data.
    pub insights_enabled: bool,
    /// `false` for a WABA where Meta reports no clicks (EU, UK, Japan).
    pub clicks_available: bool,
    /// `false` for a WABA on a Solution Partner's credit line: COST is never returned.
    pub cost_reported: bool,
    /// Varies the generated volumes per WABA.
    pub seed: u64,
}

#[derive(Debug, Clone)]
pub struct FakeGraphConfig {
    pub token: String,
    /// Data points (or templates) per page.
    pub page_size: usize,
    /// `false`: pages carry only `cursors` (like Meta's template_analytics example), never
    /// `next`.
    pub links_next: bool,
    pub wabas: Vec<FakeWaba>,
}

impl Default for FakeGraphConfig {
    fn default() -> Self {
        Self::standard()
    }
}

impl FakeGraphConfig {
    /// Three WABAs: the corpus one (US/IN numbers, 10+ templates, everything reported), an
    /// EU one on a partner's credit line (no clicks, no cost), and one without template
    /// insights enabled.
    pub fn standard() -> Self {
        let mut promo = FakeTemplate::new(
            "1304694804498707",
            "coupon_expiration_reminder_number_vars",
            "MARKETING",
            "APPROVED",
            &["URL", "QUICK_REPLY"],
        );
        promo.language = "en".into();
        promo.sub_category = Some("CUSTOM".into());
        let mut hello = FakeTemplate::new(
            "1192339204654487",
            "hello_world",
            "MARKETING",
            "APPROVED",
            &[],
        );
        hello.previous_category = Some("ACCOUNT_UPDATE".into());
        let main = FakeWaba {
            id: "102290129340398".into(),
            phone_numbers: vec!["16505550111".into(), "16505550112".into()],
            templates: vec![
                FakeTemplate::new(
                    "1387372356726668",
                    "reservation_confirmation",
                    "UTILITY",
                    "APPROVED",
                    &["URL", "PHONE_NUMBER", "QUICK_REPLY"],
                ),
                promo,
                FakeTemplate::new(
                    "1625063511800527",
                    "coupon_expiration_reminder_named_vars",
                    "MARKETING",
                    "APPROVED",
                    &["URL"],
                ),
                FakeTemplate::new(
                    "1137051647947973",
                    "address_update",
                    "UTILITY",
                    "PENDING",
                    &[],
                ),
                FakeTemplate::new(
                    "1166414785519855",
                    "reservation_confirmation_short_banner",
                    "UTILITY",
                    "REJECTED",
                    &["URL"],
                ),
                hello,
                FakeTemplate::new(
                    "920070352646140",
                    "2023_april_promo",
                    "MARKETING",
                    "APPROVED",
                    &["QUICK_REPLY"],
                ),
                FakeTemplate::new(
                    "1421988012088524",
                    "login_code",
                    "AUTHENTICATION",
                    "APPROVED",
                    &["OTP"],
                ),
                FakeTemplate::new(
                    "2632273056924580",
                    "support_follow_up",
                    "UTILITY",
                    "APPROVED",
                    &["URL", "QUICK_REPLY"],
                ),
                FakeTemplate::new(
                    "1000000000000010",
                    "order_shipped",
                    "UTILITY",
                    "APPROVED",
                    &["URL"],
                ),
                FakeTemplate::new(
                    "1000000000000011",
                    "winter_sale",
                    "MARKETING",
                    "PAUSED",
                    &["URL"],
                ),
                FakeTemplate::new(
                    "1000000000000012",
                    "cart_reminder",
                    "MARKETING",
                    "APPROVED",
                    &["URL", "QUICK_REPLY"],
                ),
            ],
            insights_enabled: true,
            clicks_available: true,
            cost_reported: true,
            seed: 1,
        };
        let eu = FakeWaba {
            id: "209876543210987".into(),
            phone_numbers: vec!["4915123456789".into()],
            templates: vec![
                FakeTemplate::new(
                    "2000000000000001",
                    "angebot_der_woche",
                    "MARKETING",
                    "APPROVED",
                    &["URL"],
                ),
                FakeTemplate::new(
                    "2000000000000002",
                    "versand_info",
                    "UTILITY",
                    "APPROVED",
                    &["QUICK_REPLY"],
                ),
            ],
            insights_enabled: true,
            clicks_available: false,
            cost_reported: false,
            seed: 2,
        };
        let no_insights = FakeWaba {
            id: "301122334455667".into(),
            phone_numbers: vec!["5511987654321".into()],
            templates: vec![
                FakeTemplate::new(
                    "3000000000000001",
                    "boas_vindas",
                    "MARKETING",
                    "APPROVED",
                    &["URL"],
                ),
                FakeTemplate::new(
                    "3000000000000002",
                    "codigo_acesso",
                    "AUTHENTICATION",
                    "APPROVED",
                    &["OTP"],
                ),
            ],
            insights_enabled: false,
            clicks_available: true,
            cost_reported: true,
            seed: 3,
        };
        Self {
            token: FAKE_GRAPH_TOKEN.into(),
            page_size: 25,
            links_next: true,
            wabas: vec![main, eu, no_insights],
        }
    }
}

/// A fault answered instead of (or before) the normal response.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// HTTP 400 with a Graph error of this code (4, 17, 32, 613, 80007, 130429) and an
    /// `x-business-use-case-usage` header asking to wait `regain_minutes`.
    Throttle { code: i64, regain_minutes: u64 },
    /// A bare HTTP 429 without a Graph body.
    TooManyRequests,
    /// This status (429 or 5xx) with a plain-text body and a `Retry-After: <seconds>` header
    /// (what a proxy in front of Graph answers), no usage header.
    RetryAfter { status: u16, seconds: u64 },
    /// HTTP 401, code 190 subcode 463: the session has expired.
    ExpiredToken,
    /// This status (500: Graph's transient JSON error; others: a plain-text proxy page).
    ServerError(u16),
    /// Answers normally after this delay.
    Slow(Duration),
}

impl Fault {
    pub fn throttle(code: i64) -> Self {
        Fault::Throttle {
            code,
            regain_minutes: 0,
        }
    }
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The query decoded.
    pub params: BTreeMap<String, String>,
    pub authorized: bool,
    /// The request body (POSTs to the Conversions API).
    pub body: String,
    /// When it arrived (retries are spaced by the client's backoff).
    pub at: std::time::Instant,
}

impl RecordedRequest {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}
