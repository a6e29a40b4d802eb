//! Metrics: pure functions from stored items ([`Inputs`]) and a report [`Query`] to the rows of
//! each report family, with their CSV cells. No I/O, no AWS, no dependency on the rest of the
//! crate; nothing here panics on odd input.
//!
//! # Definitions (PRODUCT.md "Definitions" and issue 10; tests pin them)
//! - **Day**: a timestamp's local calendar day in the query's IANA zone; the report period is
//!   the local days `from..=to`. Period labels: day `YYYY-MM-DD`, week its Monday
//!   `YYYY-MM-DD`, month `YYYY-MM`, none `all`, hour `YYYY-MM-DDTHH` (volume only; the other
//!   families treat hour as day).
//! - **Anchor**: a message's `sent` time, else its earliest status time. Its day is the
//!   anchor's day; later statuses (a read three days later) count on that day.
//! - **sent** = every outbound message with a status; **delivered** = delivered, read or played;
//!   **read** = read; **failed** = last status failed (no delivered/read/played time after
//!   `failed_at`; a tie is a failure).
//! - A failed message has no pricing: empty category and type, neither paid nor free. Else
//!   paid = the stored `paid == Some(true)`, free = `Some(false)`.
//! - **Replied**: delivered, and an inbound message of the same person with
//!   `anchor < at <= anchor + 72 h` (same second does not count: inbound sorts first).
//! - **Total order** of message events: (time, inbound before outbound, wamid).
//! - **Response times**: see the `response_times` module; **spike** rule: the `volume`
//!   module; quartile method: [`stats`]; tag grammar: [`tag`]; template matching: the
//!   `templates` module.
//! - The `phone_number_id` filter applies to messages (both directions), consent events and
//!   leads (conversions through their lead); Meta's pricing and template rows are not
//!   per-number and are not filtered.
//!
//! # CSV
//! Every row type implements [`CsvRow`]: the issue-11 columns first, extras after. Rates have 4
//! decimals and are empty on a zero denominator; money is printed exactly from integer units;
//! times are ISO-8601 UTC; missing is empty, never zero; free text goes through
//! [`safe_cell`].

pub mod campaigns;
pub mod consent;
pub mod conversations;
pub mod export;
pub mod facts;
pub mod failures;
pub mod format;
pub mod input;
pub mod message;
pub mod query;
pub mod reconciliation;
pub mod response_times;
pub mod spend;
pub mod stats;
pub mod tag;
pub mod tally;
pub mod templates;
pub mod volume;

pub use self::campaigns::{CampaignRow, campaigns};
pub use self::consent::{ConsentRow, consent};
pub use self::conversations::{ConversationRow, conversations};
pub use self::export::{MessageRow, message_row, messages, opt_out_attribution};
pub use self::failures::{FailureRow, failures};
#[cfg(feature = "csv")]
pub use self::format::to_csv;
pub use self::format::{CsvRow, safe_cell};
pub use self::input::{
    ConsentAction, ConsentEvt, ConsentSource, ConversionRow, InboundMsg, Inputs, LeadRow,
    MessagingDay, MsgPricing, OutboundMsg, PricingDay, TemplateDay, Times,
};
pub use self::message::Status;
pub use self::query::{GroupBy, Query};
pub use self::reconciliation::{ReconciliationRow, reconciliation};
pub use self::response_times::{
    ResponseKind, ResponseSample, ResponseTimeRow, response_samples, response_times,
};
pub use self::spend::{SpendRow, spend};
pub use self::tag::{Responder, SenderTag, parse_tag};
pub use self::templates::{TemplateRow, templates};
pub use self::volume::{Spike, VolumeRow, volume};

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11's column contracts: these exact first columns, in this order.
    fn starts_with(header: &[&str], contract: &str) {
        let want: Vec<&str> = contract.split(", ").collect();
        assert_eq!(header.get(..want.len()), Some(want.as_slice()));
    }

    #[test]
    fn headers_follow_the_csv_contracts() {
        starts_with(
            ConversationRow::header(),
            "period, phone_number_id, category, pricing_type, sent, delivered, read, failed, \
             paid, free, delivery_rate, read_rate",
        );
        starts_with(
            TemplateRow::header(),
            "period, template, sent, delivered, read, failed, replied, delivery_rate, \
             read_rate, reply_rate, meta_sent, meta_delivered, meta_read, meta_clicked, \
             meta_cost, cost_per_delivered, cost_per_url_click",
        );
        starts_with(
            SpendRow::header(),
            "period, phone_number, country, category, pricing_type, tier, volume, cost, \
             cost_state",
        );
        starts_with(
            ResponseTimeRow::header(),
            "period, responder, responses, mean_s, median_s, p90_s, max_s, over_sla, outliers",
        );
        starts_with(
            VolumeRow::header(),
            "period, inbound, outbound, new_leads, conversions, spike",
        );
        starts_with(
            FailureRow::header(),
            "period, error_code, error_title, category, failed",
        );
        starts_with(
            ConsentRow::header(),
            "period, action, source, category, events, people",
        );
        starts_with(
            CampaignRow::header(),
            "utm_source, utm_medium, utm_campaign, leads, converted_leads, conversions, \
             conversion_rate, value, currency",
        );
        starts_with(
            ReconciliationRow::header(),
            "period, phone_number_id, webhook_sent, meta_sent, sent_diff, webhook_delivered, \
             meta_delivered, delivered_diff, webhook_paid, meta_paid_volume, paid_diff",
        );
        starts_with(
            MessageRow::header(),
            "wamid, lead_id, phone_number_id, template, campaign, responder, category, \
             pricing_type, paid, status, sent_at, delivered_at, read_at, failed_at, \
             error_code, error_title, opted_out_at",
        );
    }

    #[test]
    fn every_row_has_one_cell_per_column_and_odd_input_does_not_panic() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default();
        let extreme = Times {
            sent_at: Some(i64::MAX),
            failed_at: Some(i64::MIN),
            ..Times::default()
        };
        let inputs = Inputs {
            outbound: vec![
                OutboundMsg {
                    wamid: "a".into(),
                    person: Some("p".into()),
                    times: Times {
                        sent_at: Some(1_795_168_800),
                        delivered_at: Some(1_795_168_801),
                        ..Times::default()
                    },
                    tag: Some("template=t;by=bot".into()),
                    ..OutboundMsg::default()
                },
                OutboundMsg {
                    wamid: "b".into(),
                    times: extreme,
                    tag: Some("{broken".into()),
                    ..OutboundMsg::default()
                },
                OutboundMsg::default(),
            ],
            inbound: vec![InboundMsg {
                wamid: "i".into(),
                person: "p".into(),
                at: 1_795_168_700,
                ..InboundMsg::default()
            }],
            consent: vec![ConsentEvt {
                person: "p".into(),
                phone_number_id: String::new(),
                at: i64::MIN,
                action: ConsentAction::OptOut,
                source: ConsentSource::Api,
                categories: vec![],
            }],
            leads: vec![LeadRow {
                lead_id: "p".into(),
                created_at: 1_795_168_800,
                ..LeadRow::default()
            }],
            conversions: vec![ConversionRow {
                lead_id: "p".into(),
                at: i64::MAX,
                ..ConversionRow::default()
            }],
            pricing: vec![PricingDay {
                day,
                volume: i64::MAX,
                ..PricingDay::default()
            }],
            templates: vec![TemplateDay {
                template_id: "t".into(),
                day,
                cost_e6: Some(i64::MIN),
                delivered: Some(-1),
                ..TemplateDay::default()
            }],
            messaging: vec![MessagingDay {
                day,
                sent: Some(i64::MIN),
                ..MessagingDay::default()
            }],
            tallies: None,
            facts: None,
        };
        for group_by in [
            GroupBy::Day,
            GroupBy::Week,
            GroupBy::Month,
            GroupBy::None,
            GroupBy::Hour,
        ] {
            let mut q = Query::new(day, day, chrono_tz::Asia::Kathmandu);
            q.group_by = group_by;
            fn check<R: CsvRow>(rows: &[R]) {
                for r in rows {
                    assert_eq!(r.cells().len(), R::header().len());
                }
                assert!(to_csv(rows).is_ok());
            }
            check(&conversations(&inputs, &q));
            check(&templates(&inputs, &q));
            check(&spend(&inputs, &q));
            check(&response_times(&inputs, &q));
            check(&volume(&inputs, &q));
            check(&failures(&inputs, &q));
            check(&consent(&inputs, &q));
            check(&campaigns(&inputs, &q));
            check(&reconciliation(&inputs, &q));
            check(&messages(&inputs, &q));
            assert!(!volume(&inputs, &q).is_empty());
            assert!(!templates(&inputs, &q).is_empty());
        }
    }
}
