//! What a stream record says: the attributes of its images and its move in the rollups.

use aws_lambda_events::event::dynamodb::{EventRecord, StreamRecord};
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

/// What a record means for the rollups, its images read once: its move in the message
/// rollups and the ids whose person facts it may change.
pub(crate) fn read_record(record: &EventRecord) -> (RecordChange, Vec<String>) {
    let change = &record.change;
    let sequence = change.sequence_number.clone().unwrap_or_default();
    // A removal is no move and no fact (an expired or erased item still happened).
    if record.event_name == "REMOVE" {
        let none = RecordChange {
            sequence,
            before: None,
            after: None,
        };
        return (none, Vec::new());
    }
    let (old, new) = (attrs_of(&change.old_image), attrs_of(&change.new_image));
    let tally = |a: &Option<Attrs>| a.as_ref().and_then(tally_of_item);
    let moved = RecordChange {
        sequence,
        before: tally(&old),
        after: tally(&new),
    };
    (moved, fact_ids(change, old.as_ref(), new.as_ref()))
}

/// The ids whose person facts (`shared::facts`) a change may change: the sender of a new
/// inbound message; the recipient (before and after) of an outbound message whose
/// fact-relevant state changed (`facts::relevant`: anchor, failure, delivery of a template,
/// number, tag, person); every id a message or consent event newly links (a merge changes
/// whose facts they are).
fn fact_ids(change: &StreamRecord, old: Option<&Attrs>, new: Option<&Attrs>) -> Vec<String> {
    let mut ids = Vec::new();
    let new_attr = |k: &str| attr(&change.new_image, k);
    let sk = new_attr("sk").unwrap_or_default();
    if sk == "IN" {
        if old.is_none() {
            ids.extend(new_attr("user_key"));
        }
    } else if sk == "OUT" {
        let (before, after) = (
            old.and_then(outbound_from_item),
            new.and_then(outbound_from_item),
        );
        if relevant(before.as_ref(), after.as_ref()) {
            ids.extend(before.and_then(|m| m.person));
            ids.extend(after.and_then(|m| m.person));
        }
    }
    // A link is new when the item names ids it did not before (a first message, a status
    // bringing the recipient's other id).
    let linked = ids_of_message(&sk, new_attr);
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
        let (insert, ids) = read_record(&record("INSERT"));
        assert_eq!(
            ids,
            vec!["628100".to_string()],
            "a new inbound message's sender"
        );
        assert_eq!(insert.sequence, "111000000000000000001");
        assert_eq!(insert.before, None);
        let after = insert.after.expect("an inbound tally");
        assert_eq!(after.at, 1_795_000_000);
        assert_eq!(after.cell.waba_id(), "W1");
        assert_eq!(after.counts.messages, 1);
        let (removed, no_ids) = read_record(&record("REMOVE"));
        assert!(no_ids.is_empty());
        assert_eq!((removed.before, removed.after), (None, None));
    }
}
