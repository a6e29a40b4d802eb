//! What a stream record says: the attributes of its images and its move in the rollups.

use aws_lambda_events::event::dynamodb::EventRecord;
use shared::adapters::dynamodb::rollups::tally_of_item;
use shared::rollups::RecordChange;

/// A string or number attribute of a stream image, as text.
pub(crate) fn attr(item: &serde_dynamo::Item, name: &str) -> Option<String> {
    match item.get(name)? {
        serde_dynamo::AttributeValue::S(s) | serde_dynamo::AttributeValue::N(s) => Some(s.clone()),
        _ => None,
    }
}

/// A record's move in the rollups: its message's tally before and after. A removal is not a
/// move (an expired or erased item still happened).
pub(crate) fn rollup_change(record: &EventRecord) -> RecordChange {
    let tally = |image: &serde_dynamo::Item| -> Option<shared::domain::metrics::tally::Tally> {
        if image.is_empty() {
            return None;
        }
        let attrs: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
            image
                .clone()
                .into_inner()
                .into_iter()
                .map(|(k, v)| (k, v.into()))
                .collect();
        tally_of_item(&attrs)
    };
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
