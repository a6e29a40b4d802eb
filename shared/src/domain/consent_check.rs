//! The consent check: "may I send category C to user U on business number N at time T, and
//! would it be free or paid?" under per-message pricing (PMP), from the consent state, the
//! 24 h customer-service window (CSW) and the 72 h free-entry-point (FEP) window.
//!
//! Meta's rules, from `reference/meta-api.md` §6 "Pricing rules" (line numbers in that file):
//! - l. 672–674: a user message opens a 24 h CSW (or refreshes it); inside it any message
//!   type can be sent, outside it only templates.
//! - l. 675–678: free are non-template messages (CSW only), utility templates inside the CSW
//!   and everything inside an FEP window.
//! - l. 679–684: the FEP window opens when the user writes from a Click-to-WhatsApp ad or a
//!   Facebook Page CTA **and** the business responds within 24 h; the response is free and
//!   opens the window "from the time of the response" (not from the user's message); it lasts
//!   72 h.
//! - l. 685–686: the CSW is independent: once it closes only templates can be sent, still free
//!   inside the FEP window. So a free-form message inside the FEP window but outside the CSW is
//!   not sendable.
//! - l. 689–690: marketing and authentication templates are charged, utility templates
//!   outside the CSW (inside an FEP window everything is free, l. 678).
//!
//! Window ends are exclusive: a window opened at `t` for 24 h is closed at `t + 24 h`.
//!
//! Consent (our policy, not Meta's):
//! - marketing needs an opt-in on record; an opt-out (or no record) blocks it;
//! - utility and authentication are blocked by an opt-out (the user said stop), but need no
//!   opt-in: transactional messages to a user who contacted the business do not need a
//!   separate marketing opt-in;
//! - a free-form (service) message is a reply to a user who wrote to us, so consent does not
//!   apply, even after a marketing or utility opt-out; only the CSW decides.
//!
//! This is a prediction; what Meta actually bills is what its status webhooks report
//! (`super::pricing`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::Serialize;

/// How long a user message keeps the customer-service window open (l. 672).
pub const CUSTOMER_SERVICE_WINDOW: TimeDelta = TimeDelta::hours(24);
/// How long after the referral message the business may reply to open an FEP window (l. 682).
pub const ENTRY_POINT_REPLY_WINDOW: TimeDelta = TimeDelta::hours(24);
/// How long a free-entry-point window lasts from the business's reply (l. 683–684).
pub const ENTRY_POINT_WINDOW: TimeDelta = TimeDelta::hours(72);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageCategory {
    Marketing,
    Utility,
    /// Includes `authentication_international` (a different rate, the same rules).
    Authentication,
    /// A non-template (free-form) message.
    Service,
}

impl MessageCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageCategory::Marketing => "marketing",
            MessageCategory::Utility => "utility",
            MessageCategory::Authentication => "authentication",
            MessageCategory::Service => "service",
        }
    }

    /// Service is the only non-template category; the others are always templates.
    pub fn is_template(self) -> bool {
        self != MessageCategory::Service
    }
}

impl fmt::Display for MessageCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown message category {0:?}: expected marketing, utility, authentication, \
     authentication_international or service"
)]
pub struct UnknownCategory(pub String);

impl FromStr for MessageCategory {
    type Err = UnknownCategory;

    /// Case-insensitive, so the templates API's `MARKETING` works too; both spellings of
    /// authentication-international are accepted (meta-api.md §3.3).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "marketing" => Ok(MessageCategory::Marketing),
            "utility" => Ok(MessageCategory::Utility),
            "authentication" | "authentication_international" | "authentication-international" => {
                Ok(MessageCategory::Authentication)
            }
            "service" => Ok(MessageCategory::Service),
            _ => Err(UnknownCategory(s.to_string())),
        }
    }
}

/// The current consent state for one (user, business number, category); the caller resolves
/// history (an opt-in followed by an opt-out is `OptedOut`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentStatus {
    /// `source`: "keyword", "user_preferences", "api", "web_form", …
    OptedIn {
        since: DateTime<Utc>,
        source: String,
    },
    OptedOut {
        since: DateTime<Utc>,
        source: String,
    },
    Unknown,
}

/// Free-entry-point facts: the user's message carrying a Click-to-WhatsApp ad or Facebook
/// Page CTA referral, and the business's first reply to it, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryPoint {
    pub referral_at: DateTime<Utc>,
    pub first_reply_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInput {
    pub category: MessageCategory,
    pub consent: ConsentStatus,
    /// The user's last inbound message to this business number.
    pub last_inbound_at: Option<DateTime<Utc>>,
    pub entry_point: Option<EntryPoint>,
    pub now: DateTime<Utc>,
}

/// A time window as seen at the check time. A closed window keeps the times of the last one
/// (`None` when there never was one). For an FEP window not opened yet, these are the times of
/// the window the checked message would open if sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Window {
    pub open: bool,
    pub opened_at: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl Window {
    fn at(opened_at: DateTime<Utc>, length: TimeDelta, now: DateTime<Utc>) -> Self {
        let until = opened_at + length;
        Window {
            open: opened_at <= now && now < until,
            opened_at: Some(opened_at),
            until: Some(until),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FreeBecause {
    EntryPointWindow,
    CustomerServiceWindow,
}

impl FreeBecause {
    pub fn as_str(self) -> &'static str {
        match self {
            FreeBecause::EntryPointWindow => "entry_point_window",
            FreeBecause::CustomerServiceWindow => "customer_service_window",
        }
    }
}

/// JSON: `{"kind":"free","why":"customer_service_window"}`, `{"kind":"paid"}`,
/// `{"kind":"not_sendable"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pricing {
    Free { why: FreeBecause },
    Paid,
    NotSendable,
}

impl Pricing {
    pub fn as_str(self) -> &'static str {
        match self {
            Pricing::Free { .. } => "free",
            Pricing::Paid => "paid",
            Pricing::NotSendable => "not_sendable",
        }
    }

    /// The `pricing.type` Meta's status webhook should report for this message (l. 336 of
    /// meta-api.md), so a prediction can be compared with what was billed.
    pub fn meta_pricing_type(self) -> Option<&'static str> {
        match self {
            Pricing::Free {
                why: FreeBecause::EntryPointWindow,
            } => Some("free_entry_point"),
            Pricing::Free {
                why: FreeBecause::CustomerServiceWindow,
            } => Some("free_customer_service"),
            Pricing::Paid => Some("regular"),
            Pricing::NotSendable => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// Consent: an opt-in is on record.
    OptedIn,
    /// Consent: the user opted out of this category.
    OptedOut,
    /// Consent: marketing without an opt-in on record.
    NoMarketingOptIn,
    /// Consent: utility/authentication with no record; no opt-in needed.
    TransactionalWithoutOptIn,
    /// A free-form reply inside the CSW; consent does not apply.
    ReplyInsideCustomerServiceWindow,
    /// A free-form message outside the CSW.
    OutsideCustomerServiceWindow,
    /// Pricing: free inside an open FEP window.
    FreeEntryPointWindow,
    /// Pricing: this reply to a referral opens an FEP window, so it is free.
    OpensEntryPointWindow,
    /// Pricing: free-form or utility inside the CSW.
    FreeCustomerServiceWindow,
    /// Pricing: a charged template.
    ChargedTemplate,
}

impl ReasonCode {
    /// Every code, as the OpenAPI document's enum lists them.
    pub const ALL: [ReasonCode; 10] = [
        ReasonCode::OptedIn,
        ReasonCode::OptedOut,
        ReasonCode::NoMarketingOptIn,
        ReasonCode::TransactionalWithoutOptIn,
        ReasonCode::ReplyInsideCustomerServiceWindow,
        ReasonCode::OutsideCustomerServiceWindow,
        ReasonCode::FreeEntryPointWindow,
        ReasonCode::OpensEntryPointWindow,
        ReasonCode::FreeCustomerServiceWindow,
        ReasonCode::ChargedTemplate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::OptedIn => "opted_in",
            ReasonCode::OptedOut => "opted_out",
            ReasonCode::NoMarketingOptIn => "no_marketing_opt_in",
            ReasonCode::TransactionalWithoutOptIn => "transactional_without_opt_in",
            ReasonCode::ReplyInsideCustomerServiceWindow => "reply_inside_customer_service_window",
            ReasonCode::OutsideCustomerServiceWindow => "outside_customer_service_window",
            ReasonCode::FreeEntryPointWindow => "free_entry_point_window",
            ReasonCode::OpensEntryPointWindow => "opens_entry_point_window",
            ReasonCode::FreeCustomerServiceWindow => "free_customer_service_window",
            ReasonCode::ChargedTemplate => "charged_template",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub message: String,
}

impl Reason {
    fn new(code: ReasonCode, message: impl Into<String>) -> Self {
        Reason {
            code,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentDecision {
    pub allowed: bool,
    /// The first reason is the deciding one (why not, or what permits it); a sendable message
    /// has a second reason explaining its pricing.
    pub reasons: Vec<Reason>,
    pub pricing: Pricing,
    pub customer_service_window: Window,
    pub entry_point_window: Window,
}

/// The (customer-service, free-entry-point) windows at `now`.
///
/// The referral message is itself an inbound message, so it also opens the CSW. An FEP window
/// opens only if the first reply came within 24 h of the referral; with no reply yet and `now`
/// within those 24 h, it is the window a reply sent now would open.
pub fn windows(
    last_inbound_at: Option<DateTime<Utc>>,
    entry_point: Option<EntryPoint>,
    now: DateTime<Utc>,
) -> (Window, Window) {
    let last_inbound = last_inbound_at.max(entry_point.map(|e| e.referral_at));
    let csw = last_inbound
        .map(|at| Window::at(at, CUSTOMER_SERVICE_WINDOW, now))
        .unwrap_or_default();

    let fep = entry_point
        .and_then(|e| {
            let reply_at = e.first_reply_at.unwrap_or(now);
            let in_time =
                e.referral_at <= reply_at && reply_at < e.referral_at + ENTRY_POINT_REPLY_WINDOW;
            in_time.then(|| Window::at(reply_at, ENTRY_POINT_WINDOW, now))
        })
        .unwrap_or_default();
    (csw, fep)
}

/// Decide whether `input.category` may be sent now and whether it would be free or paid.
pub fn check(input: &CheckInput) -> ConsentDecision {
    let (csw, fep) = windows(input.last_inbound_at, input.entry_point, input.now);
    let decision = |allowed, reasons, pricing| ConsentDecision {
        allowed,
        reasons,
        pricing,
        customer_service_window: csw,
        entry_point_window: fep,
    };

    let permit = match permission(input, &csw, &fep) {
        Ok(permit) => permit,
        Err(blocker) => return decision(false, vec![blocker], Pricing::NotSendable),
    };
    let (pricing, why) = price(input, &csw, &fep);
    decision(true, vec![permit, why], pricing)
}

/// `Ok(reason it may be sent)` or `Err(reason it may not)`.
fn permission(input: &CheckInput, csw: &Window, fep: &Window) -> Result<Reason, Reason> {
    let category = input.category;
    if !category.is_template() {
        return if csw.open {
            let mut message = "free-form reply inside the customer service window: consent does \
                               not apply (the user wrote to us)"
                .to_string();
            if let ConsentStatus::OptedOut { since, source } = &input.consent {
                message.push_str(&format!(
                    "; the opt-out via {source} at {} covers templates, not replies",
                    time(*since)
                ));
            }
            Ok(Reason::new(
                ReasonCode::ReplyInsideCustomerServiceWindow,
                message,
            ))
        } else {
            let mut message = match csw.opened_at {
                Some(at) => format!(
                    "outside the customer service window (24 h from the user's last message at {}): \
                     only templates can be sent",
                    time(at)
                ),
                None => "outside the customer service window (the user never wrote to this \
                         number): only templates can be sent"
                    .to_string(),
            };
            if fep.open {
                message.push_str(", even inside the free entry point window");
            }
            Err(Reason::new(
                ReasonCode::OutsideCustomerServiceWindow,
                message,
            ))
        };
    }

    match &input.consent {
        ConsentStatus::OptedOut { since, source } => Err(Reason::new(
            ReasonCode::OptedOut,
            format!(
                "user opted out of {category} messages via {source} at {}",
                time(*since)
            ),
        )),
        ConsentStatus::OptedIn { since, source } => Ok(Reason::new(
            ReasonCode::OptedIn,
            format!(
                "user opted in to {category} messages via {source} at {}",
                time(*since)
            ),
        )),
        ConsentStatus::Unknown if category == MessageCategory::Marketing => Err(Reason::new(
            ReasonCode::NoMarketingOptIn,
            "no marketing opt-in on record",
        )),
        ConsentStatus::Unknown => Ok(Reason::new(
            ReasonCode::TransactionalWithoutOptIn,
            format!(
                "no opt-in or opt-out on record: {category} messages to a user who contacted the \
                 business do not need a separate marketing opt-in"
            ),
        )),
    }
}

fn price(input: &CheckInput, csw: &Window, fep: &Window) -> (Pricing, Reason) {
    let category = input.category;
    if fep.open {
        let until = fep.until.map(time).unwrap_or_default();
        let reason = match input.entry_point.and_then(|e| e.first_reply_at) {
            Some(_) => Reason::new(
                ReasonCode::FreeEntryPointWindow,
                format!("inside the free entry point window until {until}: every message is free"),
            ),
            None => Reason::new(
                ReasonCode::OpensEntryPointWindow,
                format!(
                    "first reply within 24 h of the ad/CTA referral: it is free and opens a \
                     free entry point window until {until}"
                ),
            ),
        };
        let free = Pricing::Free {
            why: FreeBecause::EntryPointWindow,
        };
        return (free, reason);
    }

    match category {
        MessageCategory::Service | MessageCategory::Utility if csw.open => (
            Pricing::Free {
                why: FreeBecause::CustomerServiceWindow,
            },
            Reason::new(
                ReasonCode::FreeCustomerServiceWindow,
                format!("{category} messages inside the customer service window are free"),
            ),
        ),
        MessageCategory::Utility => (
            Pricing::Paid,
            Reason::new(
                ReasonCode::ChargedTemplate,
                "utility templates are charged outside the customer service window",
            ),
        ),
        _ => (
            Pricing::Paid,
            Reason::new(
                ReasonCode::ChargedTemplate,
                format!(
                    "{category} templates are charged outside a free entry point window, even \
                     inside the customer service window"
                ),
            ),
        ),
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    use MessageCategory::{Authentication, Marketing, Service, Utility};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 4, 9, 0, 0).unwrap()
    }

    fn hm(hours: i64, minutes: i64) -> TimeDelta {
        TimeDelta::hours(hours) + TimeDelta::minutes(minutes)
    }

    fn opted_in() -> ConsentStatus {
        ConsentStatus::OptedIn {
            since: t0() - TimeDelta::days(30),
            source: "web_form".into(),
        }
    }

    fn opted_out() -> ConsentStatus {
        ConsentStatus::OptedOut {
            since: t0() - TimeDelta::days(2),
            source: "keyword".into(),
        }
    }

    /// GIVEN the user last wrote at t0, WHEN checking at t0 + `after`.
    fn after_inbound(
        category: MessageCategory,
        consent: ConsentStatus,
        after: TimeDelta,
    ) -> CheckInput {
        CheckInput {
            category,
            consent,
            last_inbound_at: Some(t0()),
            entry_point: None,
            now: t0() + after,
        }
    }

    fn inside_csw(category: MessageCategory) -> ConsentDecision {
        check(&after_inbound(category, opted_in(), hm(2, 0)))
    }

    fn outside_csw(category: MessageCategory) -> ConsentDecision {
        check(&after_inbound(category, opted_in(), TimeDelta::days(3)))
    }

    /// GIVEN a CTWA referral at t0, answered 1 h later, and no later user message, WHEN checking
    /// 48 h after the reply: the FEP window is open, the CSW (from t0) closed.
    fn inside_fep_only(category: MessageCategory) -> ConsentDecision {
        check(&CheckInput {
            category,
            consent: opted_in(),
            last_inbound_at: Some(t0()),
            entry_point: Some(EntryPoint {
                referral_at: t0(),
                first_reply_at: Some(t0() + hm(1, 0)),
            }),
            now: t0() + hm(49, 0),
        })
    }

    const FREE_CSW: Pricing = Pricing::Free {
        why: FreeBecause::CustomerServiceWindow,
    };
    const FREE_FEP: Pricing = Pricing::Free {
        why: FreeBecause::EntryPointWindow,
    };

    fn codes(d: &ConsentDecision) -> Vec<&'static str> {
        d.reasons.iter().map(|r| r.code.as_str()).collect()
    }

    // ---- pricing: each category × {inside CSW, outside CSW, inside FEP} ----

    #[test]
    fn marketing_is_paid_except_inside_the_fep_window() {
        let d = inside_csw(Marketing);
        assert!(d.allowed);
        assert_eq!(d.pricing, Pricing::Paid);
        assert_eq!(codes(&d), ["opted_in", "charged_template"]);

        let d = outside_csw(Marketing);
        assert!(d.allowed);
        assert_eq!(d.pricing, Pricing::Paid);
        assert_eq!(codes(&d), ["opted_in", "charged_template"]);

        let d = inside_fep_only(Marketing);
        assert!(d.allowed);
        assert_eq!(d.pricing, FREE_FEP);
        assert_eq!(codes(&d), ["opted_in", "free_entry_point_window"]);
    }

    #[test]
    fn utility_is_free_inside_either_window_and_paid_outside() {
        let d = inside_csw(Utility);
        assert!(d.allowed);
        assert_eq!(d.pricing, FREE_CSW);
        assert_eq!(codes(&d), ["opted_in", "free_customer_service_window"]);

        let d = outside_csw(Utility);
        assert!(d.allowed);
        assert_eq!(d.pricing, Pricing::Paid);
        assert_eq!(
            d.reasons[1].message,
            "utility templates are charged outside the customer service window"
        );

        let d = inside_fep_only(Utility);
        assert!(d.allowed);
        assert_eq!(d.pricing, FREE_FEP);
    }

    #[test]
    fn authentication_is_paid_except_inside_the_fep_window() {
        let d = inside_csw(Authentication);
        assert!(d.allowed);
        assert_eq!(d.pricing, Pricing::Paid);
        assert_eq!(
            d.reasons[1].message,
            "authentication templates are charged outside a free entry point window, even inside \
             the customer service window"
        );

        let d = outside_csw(Authentication);
        assert!(d.allowed);
        assert_eq!(d.pricing, Pricing::Paid);

        let d = inside_fep_only(Authentication);
        assert!(d.allowed);
        assert_eq!(d.pricing, FREE_FEP);
    }

    #[test]
    fn free_form_needs_the_csw_even_inside_the_fep_window() {
        let d = inside_csw(Service);
        assert!(d.allowed);
        assert_eq!(d.pricing, FREE_CSW);
        assert_eq!(
            codes(&d),
            [
                "reply_inside_customer_service_window",
                "free_customer_service_window"
            ]
        );

        let d = outside_csw(Service);
        assert!(!d.allowed);
        assert_eq!(d.pricing, Pricing::NotSendable);
        assert_eq!(codes(&d), ["outside_customer_service_window"]);
        assert_eq!(
            d.reasons[0].message,
            "outside the customer service window (24 h from the user's last message at \
             2026-05-04T09:00:00Z): only templates can be sent"
        );

        // meta-api.md l. 685–686: after the CSW closes only templates, even in the FEP window.
        let d = inside_fep_only(Service);
        assert!(!d.allowed);
        assert_eq!(d.pricing, Pricing::NotSendable);
        assert!(d.entry_point_window.open);
        assert!(!d.customer_service_window.open);
        assert_eq!(
            d.reasons[0].message,
            "outside the customer service window (24 h from the user's last message at \
             2026-05-04T09:00:00Z): only templates can be sent, even inside the free entry point \
             window"
        );
    }

    #[test]
    fn free_form_inside_both_windows_is_free_as_entry_point() {
        let d = check(&CheckInput {
            category: Service,
            consent: ConsentStatus::Unknown,
            last_inbound_at: Some(t0() + hm(10, 0)),
            entry_point: Some(EntryPoint {
                referral_at: t0(),
                first_reply_at: Some(t0() + hm(1, 0)),
            }),
            now: t0() + hm(12, 0),
        });
        assert!(d.allowed);
        assert_eq!(d.pricing, FREE_FEP);
        assert_eq!(d.pricing.meta_pricing_type(), Some("free_entry_point"));
    }

    #[test]
    fn free_form_without_any_inbound_is_not_sendable() {
        let d = check(&CheckInput {
            category: Service,
            consent: ConsentStatus::Unknown,
            last_inbound_at: None,
            entry_point: None,
            now: t0(),
        });
        assert!(!d.allowed);
        assert_eq!(
            d.reasons[0].message,
            "outside the customer service window (the user never wrote to this number): only \
             templates can be sent"
        );
        assert_eq!(d.customer_service_window, Window::default());
        assert_eq!(d.entry_point_window, Window::default());
    }

    // ---- CSW edges ----

    #[test]
    fn csw_is_open_at_23h59_and_closed_at_24h00_and_24h01() {
        let open = check(&after_inbound(Service, ConsentStatus::Unknown, hm(23, 59)));
        assert!(open.allowed);
        assert_eq!(
            open.customer_service_window,
            Window {
                open: true,
                opened_at: Some(t0()),
                until: Some(t0() + hm(24, 0)),
            }
        );

        for after in [hm(24, 0), hm(24, 1)] {
            let closed = check(&after_inbound(Service, ConsentStatus::Unknown, after));
            assert!(!closed.allowed, "{after}");
            assert_eq!(
                closed.customer_service_window,
                Window {
                    open: false,
                    opened_at: Some(t0()),
                    until: Some(t0() + hm(24, 0)),
                }
            );
        }

        let utility = |after| check(&after_inbound(Utility, opted_in(), after)).pricing;
        assert_eq!(utility(hm(23, 59)), FREE_CSW);
        assert_eq!(utility(hm(24, 0)), Pricing::Paid);
        assert_eq!(utility(hm(24, 1)), Pricing::Paid);
    }

    #[test]
    fn the_referral_message_opens_the_csw_itself() {
        let (csw, _) = windows(
            None,
            Some(EntryPoint {
                referral_at: t0(),
                first_reply_at: None,
            }),
            t0() + hm(1, 0),
        );
        assert_eq!(
            csw,
            Window {
                open: true,
                opened_at: Some(t0()),
                until: Some(t0() + hm(24, 0)),
            }
        );
    }

    // ---- FEP window ----

    fn referral_answered_after(reply_after: TimeDelta) -> EntryPoint {
        EntryPoint {
            referral_at: t0(),
            first_reply_at: Some(t0() + reply_after),
        }
    }

    #[test]
    fn reply_at_23h59_opens_a_72h_window_from_the_reply() {
        let ep = referral_answered_after(hm(23, 59));
        let reply = t0() + hm(23, 59);
        let at = |after_reply: TimeDelta| {
            check(&CheckInput {
                category: Marketing,
                consent: opted_in(),
                last_inbound_at: Some(t0()),
                entry_point: Some(ep),
                now: reply + after_reply,
            })
        };
        let expected_window = |open| Window {
            open,
            opened_at: Some(reply),
            until: Some(reply + hm(72, 0)),
        };

        let d = at(hm(71, 59));
        assert_eq!(d.pricing, FREE_FEP);
        assert_eq!(d.entry_point_window, expected_window(true));
        assert_eq!(
            d.reasons[1].message,
            "inside the free entry point window until 2026-05-08T08:59:00Z: every message is free"
        );

        for after in [hm(72, 0), hm(72, 1)] {
            let d = at(after);
            assert_eq!(d.pricing, Pricing::Paid, "{after}");
            assert_eq!(d.entry_point_window, expected_window(false));
        }
    }

    #[test]
    fn reply_at_24h00_or_later_opens_no_window() {
        for reply_after in [hm(24, 0), hm(24, 1)] {
            let d = check(&CheckInput {
                category: Utility,
                consent: ConsentStatus::Unknown,
                last_inbound_at: Some(t0()),
                entry_point: Some(referral_answered_after(reply_after)),
                now: t0() + reply_after + hm(1, 0),
            });
            assert_eq!(d.entry_point_window, Window::default(), "{reply_after}");
            assert!(!d.customer_service_window.open);
            assert_eq!(d.pricing, Pricing::Paid);
        }
    }

    #[test]
    fn first_reply_within_24h_is_free_and_reports_the_window_it_opens() {
        let now = t0() + hm(23, 0);
        let d = check(&CheckInput {
            category: Marketing,
            consent: opted_in(),
            last_inbound_at: Some(t0()),
            entry_point: Some(EntryPoint {
                referral_at: t0(),
                first_reply_at: None,
            }),
            now,
        });
        assert!(d.allowed);
        assert_eq!(d.pricing, FREE_FEP);
        assert_eq!(codes(&d), ["opted_in", "opens_entry_point_window"]);
        assert_eq!(
            d.entry_point_window,
            Window {
                open: true,
                opened_at: Some(now),
                until: Some(now + hm(72, 0)),
            }
        );
        assert_eq!(
            d.reasons[1].message,
            "first reply within 24 h of the ad/CTA referral: it is free and opens a free entry \
             point window until 2026-05-08T08:00:00Z"
        );
    }

    #[test]
    fn no_reply_and_referral_older_than_24h_opens_nothing() {
        let d = check(&CheckInput {
            category: Marketing,
            consent: opted_in(),
            last_inbound_at: Some(t0()),
            entry_point: Some(EntryPoint {
                referral_at: t0(),
                first_reply_at: None,
            }),
            now: t0() + hm(24, 1),
        });
        assert_eq!(d.entry_point_window, Window::default());
        assert_eq!(d.pricing, Pricing::Paid);
    }

    // ---- consent ----

    #[test]
    fn marketing_opted_out_is_blocked_naming_source_and_time() {
        let d = inside_csw_with(Marketing, opted_out());
        assert!(!d.allowed);
        assert_eq!(d.pricing, Pricing::NotSendable);
        assert_eq!(d.reasons.len(), 1);
        assert_eq!(d.reasons[0].code, ReasonCode::OptedOut);
        assert_eq!(
            d.reasons[0].message,
            "user opted out of marketing messages via keyword at 2026-05-02T09:00:00Z"
        );
    }

    #[test]
    fn marketing_opted_out_is_blocked_even_when_it_would_be_free() {
        let mut input = after_inbound(Marketing, opted_out(), hm(2, 0));
        input.entry_point = Some(referral_answered_after(hm(1, 0)));
        let d = check(&input);
        assert!(!d.allowed);
        assert_eq!(d.pricing, Pricing::NotSendable);
        assert!(d.entry_point_window.open);
    }

    #[test]
    fn marketing_unknown_is_blocked() {
        let d = inside_csw_with(Marketing, ConsentStatus::Unknown);
        assert!(!d.allowed);
        assert_eq!(d.pricing, Pricing::NotSendable);
        assert_eq!(d.reasons[0].code, ReasonCode::NoMarketingOptIn);
        assert_eq!(d.reasons[0].message, "no marketing opt-in on record");
    }

    #[test]
    fn current_state_decides_opt_in_then_later_opt_out() {
        let opted_in_then = inside_csw_with(Marketing, opted_in());
        assert!(opted_in_then.allowed);
        assert_eq!(
            opted_in_then.reasons[0].message,
            "user opted in to marketing messages via web_form at 2026-04-04T09:00:00Z"
        );
        // The caller resolved the later opt-out into the current state.
        let later_opted_out = inside_csw_with(
            Marketing,
            ConsentStatus::OptedOut {
                since: t0() - TimeDelta::days(1),
                source: "user_preferences".into(),
            },
        );
        assert!(!later_opted_out.allowed);
        assert_eq!(
            later_opted_out.reasons[0].message,
            "user opted out of marketing messages via user_preferences at 2026-05-03T09:00:00Z"
        );
    }

    #[test]
    fn utility_and_authentication_opted_out_are_blocked() {
        for category in [Utility, Authentication] {
            let d = inside_csw_with(category, opted_out());
            assert!(!d.allowed, "{category}");
            assert_eq!(d.pricing, Pricing::NotSendable);
            assert_eq!(d.reasons[0].code, ReasonCode::OptedOut);
            assert_eq!(
                d.reasons[0].message,
                format!(
                    "user opted out of {category} messages via keyword at 2026-05-02T09:00:00Z"
                )
            );
        }
    }

    #[test]
    fn utility_and_authentication_unknown_are_allowed_without_opt_in() {
        let d = inside_csw_with(Utility, ConsentStatus::Unknown);
        assert!(d.allowed);
        assert_eq!(d.pricing, FREE_CSW);
        assert_eq!(
            codes(&d),
            [
                "transactional_without_opt_in",
                "free_customer_service_window"
            ]
        );
        assert_eq!(
            d.reasons[0].message,
            "no opt-in or opt-out on record: utility messages to a user who contacted the \
             business do not need a separate marketing opt-in"
        );

        let d = inside_csw_with(Authentication, ConsentStatus::Unknown);
        assert!(d.allowed);
        assert_eq!(d.pricing, Pricing::Paid);
        assert_eq!(d.reasons[0].code, ReasonCode::TransactionalWithoutOptIn);
    }

    #[test]
    fn free_form_reply_inside_the_csw_ignores_an_opt_out() {
        let d = inside_csw_with(Service, opted_out());
        assert!(d.allowed);
        assert_eq!(d.pricing, FREE_CSW);
        assert_eq!(
            d.reasons[0].message,
            "free-form reply inside the customer service window: consent does not apply (the \
             user wrote to us); the opt-out via keyword at 2026-05-02T09:00:00Z covers templates, \
             not replies"
        );
    }

    fn inside_csw_with(category: MessageCategory, consent: ConsentStatus) -> ConsentDecision {
        check(&after_inbound(category, consent, hm(2, 0)))
    }

    // ---- category parsing ----

    #[test]
    fn category_parses_known_values() {
        let parse = |s: &str| s.parse::<MessageCategory>();
        assert_eq!(parse("marketing"), Ok(Marketing));
        assert_eq!(parse("utility"), Ok(Utility));
        assert_eq!(parse("authentication"), Ok(Authentication));
        assert_eq!(parse("authentication_international"), Ok(Authentication));
        assert_eq!(parse("authentication-international"), Ok(Authentication));
        assert_eq!(parse("service"), Ok(Service));
        assert_eq!(parse(" MARKETING "), Ok(Marketing));
        for c in [Marketing, Utility, Authentication, Service] {
            assert_eq!(parse(c.as_str()), Ok(c));
        }
        assert!(Marketing.is_template());
        assert!(!Service.is_template());
    }

    #[test]
    fn category_parse_rejects_unknown_values() {
        for bad in ["", "promo", "marketing_lite", "referral_conversion"] {
            assert_eq!(
                bad.parse::<MessageCategory>(),
                Err(UnknownCategory(bad.to_string()))
            );
        }
        assert_eq!(
            "promo".parse::<MessageCategory>().unwrap_err().to_string(),
            "unknown message category \"promo\": expected marketing, utility, authentication, \
             authentication_international or service"
        );
    }

    // ---- output shape ----

    #[test]
    fn codes_match_their_json_form() {
        for code in ReasonCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        for why in [
            FreeBecause::EntryPointWindow,
            FreeBecause::CustomerServiceWindow,
        ] {
            assert_eq!(serde_json::to_value(why).unwrap(), why.as_str());
        }
        for (p, kind, meta) in [
            (FREE_CSW, "free", Some("free_customer_service")),
            (FREE_FEP, "free", Some("free_entry_point")),
            (Pricing::Paid, "paid", Some("regular")),
            (Pricing::NotSendable, "not_sendable", None),
        ] {
            assert_eq!(p.as_str(), kind);
            assert_eq!(serde_json::to_value(p).unwrap()["kind"], kind);
            assert_eq!(p.meta_pricing_type(), meta);
        }
    }

    #[test]
    fn decision_serialises_to_json_with_rfc3339_times() {
        let d = inside_csw(Utility);
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            serde_json::json!({
                "allowed": true,
                "reasons": [
                    {
                        "code": "opted_in",
                        "message": "user opted in to utility messages via web_form at 2026-04-04T09:00:00Z"
                    },
                    {
                        "code": "free_customer_service_window",
                        "message": "utility messages inside the customer service window are free"
                    }
                ],
                "pricing": { "kind": "free", "why": "customer_service_window" },
                "customer_service_window": {
                    "open": true,
                    "opened_at": "2026-05-04T09:00:00Z",
                    "until": "2026-05-05T09:00:00Z"
                },
                "entry_point_window": { "open": false, "opened_at": null, "until": null }
            })
        );
    }
}
