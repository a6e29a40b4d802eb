//! Delivery shaping: envelopes, batches, duplicates and shuffling, as Meta delivers.

use super::facts::*;
use super::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// How [`deliveries`] shapes the traffic into POST bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOpts {
    pub seed: u64,
    /// Each body is sent this many times in total (0 is treated as 1); copies are byte-exact.
    pub duplicate_factor: usize,
    /// Shuffle the bodies, so statuses arrive out of order (e.g. `read` before `sent`).
    pub shuffle: bool,
    /// If > 0, this many status events (fewer if there are fewer) go into one body; the rest
    /// are batched 1..=20 per body.
    pub big_batch: usize,
}

impl Default for DeliveryOpts {
    fn default() -> Self {
        Self {
            seed: 11,
            duplicate_factor: 1,
            shuffle: false,
            big_batch: 0,
        }
    }
}

/// One webhook body for `items`: statuses share one `messages` change (placed where the first
/// status is), each inbound message gets its own `messages` change with its contact, each user
/// preference its own `user_preferences` change.
pub fn envelope(spec: &TrafficSpec, items: &[&Event]) -> Value {
    let metadata = json!({
        "display_phone_number": spec.display_phone_number,
        "phone_number_id": spec.phone_number_id,
    });
    let mut changes: Vec<Value> = Vec::new();
    let mut statuses: Vec<Value> = Vec::new();
    let mut status_slot: Option<usize> = None;
    for event in items {
        match event {
            Event::Status(status) => {
                if status_slot.is_none() {
                    status_slot = Some(changes.len());
                    changes.push(Value::Null);
                }
                statuses.push(status.clone());
            }
            Event::Inbound { message, contact } => changes.push(json!({
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": metadata,
                    "contacts": [contact],
                    "messages": [message],
                },
            })),
            Event::UserPreference(preference) => {
                let wa_id = preference.get("wa_id").cloned().unwrap_or(Value::Null);
                changes.push(json!({
                    "field": "user_preferences",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": metadata,
                        "contacts": [{ "wa_id": wa_id }],
                        "user_preferences": [preference],
                    },
                }));
            }
        }
    }
    if let Some(slot) = status_slot {
        changes[slot] = json!({
            "field": "messages",
            "value": {
                "messaging_product": "whatsapp",
                "metadata": metadata,
                "statuses": statuses,
            },
        });
    }
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": spec.waba_id, "changes": changes }],
    })
}

/// All events as serialized POST bodies, shaped by `opts`. Every event lands in exactly one
/// distinct body; each body then appears `duplicate_factor` times.
///
/// About half the bodies escape non-ASCII as `\uXXXX` (lowercase hex), as Meta does, and half
/// carry raw UTF-8: both must verify when the signature is computed over the exact bytes, and a
/// receiver that re-serializes before verifying fails on one kind or the other.
pub fn deliveries(spec: &TrafficSpec, traffic: &Traffic, opts: &DeliveryOpts) -> Vec<Vec<u8>> {
    let mut rng = StdRng::seed_from_u64(opts.seed);

    let status_positions: Vec<usize> = traffic
        .events
        .iter()
        .enumerate()
        .filter(|(_, event)| matches!(event, Event::Status(_)))
        .map(|(i, _)| i)
        .collect();
    let in_big_batch: BTreeSet<usize> = if opts.big_batch > 0 {
        sample_indices(&mut rng, status_positions.len(), opts.big_batch)
            .into_iter()
            .map(|i| status_positions[i])
            .collect()
    } else {
        BTreeSet::new()
    };

    let mut batches: Vec<Vec<&Event>> = Vec::new();
    if !in_big_batch.is_empty() {
        batches.push(in_big_batch.iter().map(|&i| &traffic.events[i]).collect());
    }
    let rest: Vec<&Event> = traffic
        .events
        .iter()
        .enumerate()
        .filter(|(i, _)| !in_big_batch.contains(i))
        .map(|(_, event)| event)
        .collect();
    let mut start = 0;
    while start < rest.len() {
        let size = rng.random_range(1..=20).min(rest.len() - start);
        batches.push(rest[start..start + size].to_vec());
        start += size;
    }

    render_copies(spec, &batches, &mut rng, opts)
}

/// Status events in bodies of `size` statuses, in event (time) order — a broadcast's sents
/// first, then its deliveries and reads — each body sent `opts.duplicate_factor` times,
/// shuffled when `opts.shuffle`: Meta's large batches, retried and reordered. Other events
/// are left out; `opts.big_batch` is ignored.
pub fn in_batches(
    spec: &TrafficSpec,
    traffic: &Traffic,
    size: usize,
    opts: &DeliveryOpts,
) -> Vec<Vec<u8>> {
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let statuses: Vec<&Event> = traffic
        .events
        .iter()
        .filter(|e| matches!(e, Event::Status(_)))
        .collect();
    let batches: Vec<Vec<&Event>> = statuses.chunks(size.max(1)).map(<[_]>::to_vec).collect();
    render_copies(spec, &batches, &mut rng, opts)
}

/// Each batch as a body (half of them with non-ASCII escaped, as Meta does), every body
/// `duplicate_factor` times, shuffled when asked.
pub(super) fn render_copies(
    spec: &TrafficSpec,
    batches: &[Vec<&Event>],
    rng: &mut StdRng,
    opts: &DeliveryOpts,
) -> Vec<Vec<u8>> {
    let bodies: Vec<Vec<u8>> = batches
        .iter()
        .map(|batch| {
            let text = envelope(spec, batch).to_string();
            let text = if rng.random_bool(0.5) {
                escape_non_ascii(&text)
            } else {
                text
            };
            text.into_bytes()
        })
        .collect();

    let copies = opts.duplicate_factor.max(1);
    let mut out = Vec::with_capacity(bodies.len() * copies);
    // Resends come as later rounds of the same bytes.
    for _ in 0..copies {
        out.extend(bodies.iter().cloned());
    }
    if opts.shuffle {
        out.shuffle(rng);
    }
    out
}

/// Meta's signing form: every non-ASCII char as `\uXXXX` UTF-16 units, lowercase hex. Safe on
/// serialized JSON because non-ASCII only ever occurs inside string literals.
pub(super) fn escape_non_ascii(json_text: &str) -> String {
    let mut out = String::with_capacity(json_text.len());
    let mut units = [0u16; 2];
    for ch in json_text.chars() {
        if ch.is_ascii() {
            out.push(ch);
        } else {
            for unit in ch.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}
