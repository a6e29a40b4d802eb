//! What a stream record says: the attributes of its images and its move in the rollups.

use aws_lambda_events::event::dynamodb::EventRecord;
use shared::adapters::dynamodb::reports::outbound_from_item;
use shared::adapters::dynamodb::rollups::tally_of_item;
use shared::domain::identity::ids_of_message;
use shared::domain::metrics::facts::relevant;
use shared::rollups::RecordChange;

/// A string or number attribute of a stream image, as text.
pub(crate) fn attr(item: &serde_dynamo::Item, name: &str) -> Option<String> {
    match item.get(name)? {
        serde_dynamo::AttributeValue::S(s) | serde_dynamo::AttributeValue::N(s) => Some(s.clone()),
        _ => None,
    }
}

type Attrs = std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;

/// A stream image as SDK attributes; `None` when empty.
fn attrs_of(image: &serde_dynamo::Item) -> Option<Attrs> {
    (!image.is_empty()).then(|| {
        image
            .clone()
            .into_inner()
            .into_iter()
            .map(|(k, v)| (k, v.into()))
            .collect()
    })
}

/// A record's move in the rollups: its message's tally before and after. A removal is not a
/// move (an expired or erased item still happened).
pub(crate) fn rollup_change(record: &EventRecord) -> RecordChange {
    let tally = |image: &serde_dynamo::Item| attrs_of(image).and_then(|a| tally_of_item(&a));
    let change = &record.change;
    let removed = record.event_name == "REMOVE";
    RecordChange {
        sequence: change.sequence_number.clone().unwrap_or_default(),
        before: if removed {
            None
        } else {
            tally(&change.old_image)
        },
        after: if removed {
            None
        } else {
            tally(&change.new_image)
        },
    }
}

/// The ids whose person facts (`shared::facts`) a record may change: the sender of a new
/// inbound message; the recipient (before and after) of an outbound message whose
/// fact-relevant state changed (`facts::relevant`: anchor, failure, delivery, number, tag,
/// person); every id a message or consent event newly links (a merge changes whose facts
/// they are).
pub(crate) fn fact_ids(record: &EventRecord) -> Vec<String> {
    let change = &record.change;
    let mut ids = Vec::new();
    if record.event_name == "REMOVE" {
        return ids;
    }
    let new = |k: &str| attr(&change.new_image, k);
    let sk = new("sk").unwrap_or_default();
    if sk == "IN" {
        if change.old_image.is_empty() {
            ids.extend(new("user_key"));
        }
    } else if sk == "OUT" {
        let msg = |image: &serde_dynamo::Item| attrs_of(image).and_then(|a| outbound_from_item(&a));
        let (before, after) = (msg(&change.old_image), msg(&change.new_image));
        if relevant(before.as_ref(), after.as_ref()) {
            ids.extend(before.and_then(|m| m.person));
            ids.extend(after.and_then(|m| m.person));
        }
    }
    // A link is new when the item names ids it did not before (a first message, a status
    // bringing the recipient's other id).
    let linked = ids_of_message(&sk, new);
    let old_sk = attr(&change.old_image, "sk").unwrap_or_default();
    if linked.len() > 1 && linked != ids_of_message(&old_sk, |k| attr(&change.old_image, k)) {
        ids.extend(linked);
    }
    let mut seen = std::collections::BTreeSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A record's rollup change comes from its images; a removal moves nothing.
    #[test]
    fn records_become_tally_moves() {
        let record = |name: &str| -> EventRecord {
            serde_json::from_value(json!({
                "eventID": "1",
                "eventName": name,
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "eu-west-1",
                "eventSourceARN": "arn:aws:dynamodb:eu-west-1:1:table/t/stream/x",
                "dynamodb": {
                    "ApproximateCreationDateTime": 1795000000,
                    "Keys": {"pk": {"S": "MSG#wamid.1"}, "sk": {"S": "IN"}},
                    "SequenceNumber": "111000000000000000001",
                    "SizeBytes": 120,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                    "OldImage": {},
                    "NewImage": {
                        "pk": {"S": "MSG#wamid.1"}, "sk": {"S": "IN"},
                        "user_key": {"S": "628100"}, "at": {"N": "1795000000"},
                        "phone_number_id": {"S": "P1"}, "waba_id": {"S": "W1"}
                    }
                }
            }))
            .expect("a record")
        };
        let insert = rollup_change(&record("INSERT"));
        assert_eq!(insert.sequence, "111000000000000000001");
        assert_eq!(insert.before, None);
        let after = insert.after.expect("an inbound tally");
        assert_eq!(after.at, 1_795_000_000);
        assert_eq!(after.cell.waba_id(), "W1");
        assert_eq!(after.counts.messages, 1);
        let removed = rollup_change(&record("REMOVE"));
        assert_eq!((removed.before, removed.after), (None, None));
    }
}
