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
//!
//! - `request`: the vocabulary of the pulls (granularity, dimensions, metrics);
//! - `lossless`: parsing that names every key it does not model;
//! - `responses`: Meta's answers as Graph sends them;
//! - `rows`: the rows we store from them, missing data explicit;
//! - `document`: recognising a stored response by its shape (snapshots, conformance).

mod document;
mod lossless;
mod request;
mod responses;
mod rows;

pub use document::*;
pub use lossless::{AnalyticsParseError, Parsed, parse};
pub use request::*;
pub use responses::*;
pub use rows::*;

#[cfg(test)]
mod tests;
