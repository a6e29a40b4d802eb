//! The webhook POST body model and parser.
//!
//! Every `entry` × `change` × item becomes exactly one [`Event`]: a typed event for what we
//! model, or [`EventKind::Kept`] (raw JSON kept, kind named) for what we do not. Unknown
//! fields inside typed items are reported by path (`serde_ignored`) and the item's raw JSON
//! rides along so nothing is dropped. Structs borrow from the body (`Cow` borrows unless a
//! string holds escapes), and items are parsed from `&RawValue` slices, so the hot path
//! allocates little and never builds a `serde_json::Value`.
//!
//! - `model`: the events the rest of the product reads ([`Batch`], [`Event`], [`EventKind`], …);
//! - `wire`: what Meta sends, as borrowed serde structs, and their mapping to the model;
//! - `parse`: the parser ([`parse`]): the one-pass fast path for status receipts and the
//!   lenient general path that keeps what it does not model.

mod model;
mod parse;
mod wire;

pub use super::lenient::Text;
pub use model::*;
pub use parse::{ENVELOPE_FIELD, parse};

type Str<'a> = Text<'a>;
