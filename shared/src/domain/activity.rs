//! Per-lead message activity, derived from the table's own items as they change (DynamoDB
//! Streams → the aggregator function): each inbound message (`MSG#<wamid>`/`IN`) and each
//! one-to-one outbound message (`MSG#<wamid>`/`OUT`) becomes one marker in its lead's
//! partition, so a lead's timeline can count messages and find the last inbound/outbound
//! times, and the consent check can find the business's first reply to an ad click.
//!
//! Written off the ingest path on purpose: a per-message index written by the webhook would
//! cost every status event a second write (the budget is 1.1).

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
    /// The marker's sort-key prefix in the lead's partition.
    pub fn prefix(self) -> &'static str {
        match self {
            Direction::Inbound => crate::keys::INBOUND_MARKER,
            Direction::Outbound => crate::keys::OUTBOUND_MARKER,
        }
    }
}

/// One message of one lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub user_key: String,
    pub direction: Direction,
    pub wamid: String,
    /// Meta's time of the message: the inbound `timestamp`; for outbound, the earliest status
    /// time known (the `sent` time once it has arrived).
    pub at: i64,
    /// The business number and account of the message, when the item names them (copied
    /// onto the marker so reports can filter and group without reading the message).
    pub phone_number_id: Option<String>,
    pub waba_id: Option<String>,
}

const OUTBOUND_TIMES: [&str; 5] = [
    "sent_at",
    "delivered_at",
    "read_at",
    "played_at",
    "failed_at",
];

/// The activity a table item stands for, read through `attr` (the value of a string or
/// number attribute). `None` for every other item, for `system` notices, and for group
/// messages (their recipient is a group, not a lead).
pub fn activity_of(attr: impl Fn(&str) -> Option<String>) -> Option<Activity> {
    let pk = attr("pk")?;
    let wamid = crate::keys::wamid_of(&pk)?.to_string();
    match attr("sk")?.as_str() {
        "IN" => {
            if attr("msg_type").as_deref() == Some("system") {
                return None;
            }
            Some(Activity {
                user_key: attr("user_key")?,
                direction: Direction::Inbound,
                wamid,
                at: attr("at")?.parse().ok()?,
                phone_number_id: attr("phone_number_id"),
                waba_id: attr("waba_id"),
            })
        }
        "OUT" => {
            let user_key = attr("recipient_user_id").or_else(|| attr("recipient_phone"))?;
            let at = OUTBOUND_TIMES
                .iter()
                .filter_map(|t| attr(t).and_then(|v| v.parse::<i64>().ok()))
                .min()?;
            Some(Activity {
                user_key,
                direction: Direction::Outbound,
                wamid,
                at,
                phone_number_id: attr("phone_number_id"),
                waba_id: attr("waba_id"),
            })
        }
        _ => None,
    }
}

/// What a change of one item means for its lead's markers: the activity to record when the
/// new image adds one or moves its time earlier; `None` when nothing changed for the lead
/// (most status updates: the `sent` time was already known).
pub fn activity_change(
    old: impl Fn(&str) -> Option<String>,
    new: impl Fn(&str) -> Option<String>,
) -> Option<Activity> {
    let new = activity_of(new)?;
    match activity_of(old) {
        Some(old) if old.at <= new.at && old.user_key == new.user_key => None,
        _ => Some(new),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn item(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn get(i: &HashMap<String, String>) -> impl Fn(&str) -> Option<String> + '_ {
        |k| i.get(k).cloned()
    }

    #[test]
    fn inbound_and_outbound_messages_become_markers() {
        let inbound = item(&[
            ("pk", "MSG#w1"),
            ("sk", "IN"),
            ("user_key", "551199"),
            ("at", "100"),
            ("msg_type", "text"),
        ]);
        assert_eq!(
            activity_of(get(&inbound)),
            Some(Activity {
                user_key: "551199".into(),
                direction: Direction::Inbound,
                wamid: "w1".into(),
                at: 100,
                phone_number_id: None,
                waba_id: None,
            })
        );
        // The earliest status time stands for the send until `sent` arrives.
        let read_first = item(&[
            ("pk", "MSG#w2"),
            ("sk", "OUT"),
            ("recipient_phone", "551199"),
            ("read_at", "210"),
        ]);
        let with_sent = item(&[
            ("pk", "MSG#w2"),
            ("sk", "OUT"),
            ("recipient_phone", "551199"),
            ("read_at", "210"),
            ("sent_at", "200"),
        ]);
        assert_eq!(activity_of(get(&read_first)).unwrap().at, 210);
        assert_eq!(
            activity_change(get(&read_first), get(&with_sent))
                .unwrap()
                .at,
            200
        );
        // A later status changes nothing for the lead.
        let delivered = item(&[
            ("pk", "MSG#w2"),
            ("sk", "OUT"),
            ("recipient_phone", "551199"),
            ("read_at", "210"),
            ("sent_at", "200"),
            ("delivered_at", "205"),
        ]);
        assert_eq!(activity_change(get(&with_sent), get(&delivered)), None);
        // A new item (no old image) is recorded.
        assert!(activity_change(get(&HashMap::new()), get(&with_sent)).is_some());
        // The business-scoped user id wins over the phone, as for lead keys.
        let bsuid = item(&[
            ("pk", "MSG#w3"),
            ("sk", "OUT"),
            ("recipient_phone", "551199"),
            ("recipient_user_id", "BR.9"),
            ("sent_at", "1"),
        ]);
        assert_eq!(activity_of(get(&bsuid)).unwrap().user_key, "BR.9");
    }

    #[test]
    fn other_items_system_notices_and_groups_are_not_activity() {
        for i in [
            item(&[("pk", "USER#5"), ("sk", "PROFILE"), ("at", "1")]),
            item(&[
                ("pk", "MSG#w"),
                ("sk", "IN"),
                ("user_key", "5"),
                ("at", "1"),
                ("msg_type", "system"),
            ]),
            item(&[
                ("pk", "MSG#w"),
                ("sk", "OUT#5511"),
                ("recipient_phone", "G1"),
                ("sent_at", "1"),
            ]),
            item(&[("pk", "MSG#w"), ("sk", "OUT"), ("sent_at", "1")]),
            item(&[("pk", "MSG#w"), ("sk", "IN"), ("at", "1")]),
        ] {
            assert_eq!(activity_of(get(&i)), None, "{i:?}");
        }
    }
}
