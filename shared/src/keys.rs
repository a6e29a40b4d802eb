//! Every key of the table, built and parsed here and nowhere else: partition keys (`pk`),
//! sort keys (`sk`) and index keys (`lead_list`, `time_bucket`, `lead_time`). Pure string
//! functions (no SDK types), so the domain can read keys of stream images with them too.
//! docs/DATA_MODEL.md ("Key prefixes") lists each item kind with its writers.

use std::fmt::Write as _;

// ----- partitions ---------------------------------------------------------------------

/// A message's partition: `MSG#<wamid>` (its `IN` item, or `OUT` / `OUT#<participant>`).
pub const MESSAGE_PREFIX: &str = "MSG#";
/// A user id's partition: `USER#<id>` (profile, markers, consent, history, conversions).
pub const USER_PREFIX: &str = "USER#";

pub fn message_pk(wamid: &str) -> String {
    let mut pk = String::with_capacity(MESSAGE_PREFIX.len() + wamid.len());
    pk.push_str(MESSAGE_PREFIX);
    pk.push_str(wamid);
    pk
}
/// The wamid of a message partition key.
pub fn wamid_of(pk: &str) -> Option<&str> {
    pk.strip_prefix(MESSAGE_PREFIX)
}
pub fn user_pk(user_key: &str) -> String {
    let mut pk = String::with_capacity(USER_PREFIX.len() + user_key.len());
    pk.push_str(USER_PREFIX);
    pk.push_str(user_key);
    pk
}
/// The user id of a user partition key.
pub fn user_of(pk: &str) -> Option<&str> {
    pk.strip_prefix(USER_PREFIX)
}
/// A business number's item: `PHONE#<phone_number_id>` / [`PHONE_WABA_SK`] names its WABA.
pub fn phone_pk(phone_number_id: &str) -> String {
    format!("PHONE#{phone_number_id}")
}
pub fn phone_of(pk: &str) -> Option<&str> {
    pk.strip_prefix("PHONE#")
}
pub fn template_pk(template_id: &str) -> String {
    format!("TPL#{template_id}")
}
pub fn waba_pk(waba_id: &str) -> String {
    format!("WABA#{waba_id}")
}
/// meta-sync's pricing rows of a WABA, one per day and dimension.
pub fn pricing_pk(waba_id: &str) -> String {
    format!("PRICING#{waba_id}")
}
/// meta-sync's template analytics rows of a template, one per day.
pub fn template_day_pk(template_id: &str) -> String {
    format!("TPLDAY#{template_id}")
}
/// meta-sync's messaging analytics rows of a WABA, one per day.
pub fn messaging_day_pk(waba_id: &str) -> String {
    format!("MSGDAY#{waba_id}")
}
/// The templates meta-sync has seen for a WABA.
pub fn waba_templates_pk(waba_id: &str) -> String {
    format!("TPLS#{waba_id}")
}
/// meta-sync's watermarks of a WABA.
pub fn sync_pk(waba_id: &str) -> String {
    format!("SYNC#{waba_id}")
}
/// Import jobs: one partition (imports are made by people, a few a day), `J#<job id>`.
pub const IMPORTS_PK: &str = "IMPORTS";
pub fn import_job_sk(job_id: &str) -> String {
    format!("J#{job_id}")
}
/// Report records: one partition, `R#<report id>`.
pub const REPORTS_PK: &str = "REPORTS";
pub fn report_sk(report_id: &str) -> String {
    format!("R#{report_id}")
}
/// Message rollups: one partition per UTC day, `ROLLUP#<YYYY-MM-DD>`, one item per 15-minute
/// slot, `SLOT#<HH:MM>` (the slot's UTC start). `None` outside chrono's range.
pub fn rollup_key(slot: i64) -> Option<(String, String)> {
    let t = chrono::DateTime::from_timestamp(slot, 0)?;
    Some((
        format!("ROLLUP#{}", t.format("%Y-%m-%d")),
        format!("SLOT#{}", t.format("%H:%M")),
    ))
}
/// The slot start (epoch seconds) of a rollup item's keys.
pub fn rollup_slot_of(pk: &str, sk: &str) -> Option<i64> {
    let day = pk.strip_prefix("ROLLUP#")?;
    let hm = sk.strip_prefix("SLOT#")?;
    let t = chrono::NaiveDateTime::parse_from_str(&format!("{day}T{hm}"), "%Y-%m-%dT%H:%M").ok()?;
    Some(t.and_utc().timestamp())
}
/// A person's stored facts (`crate::facts`): partition `FACTS#<lead id>`, with the claim
/// counter at [`FACTS_CLAIM_SK`] and one item per slot holding facts, `SLOT#<YYYY-MM-DDTHH:MM>`
/// (the slot's UTC start).
pub fn facts_pk(person: &str) -> String {
    format!("FACTS#{person}")
}
pub const FACTS_PREFIX: &str = "FACTS#";
pub const FACTS_CLAIM_SK: &str = "CLAIM";
pub fn facts_slot_sk(slot: i64) -> Option<String> {
    let t = chrono::DateTime::from_timestamp(slot, 0)?;
    Some(format!("SLOT#{}", t.format("%Y-%m-%dT%H:%M")))
}
/// The slot start of a person's facts item's sort key.
pub fn facts_slot_of(sk: &str) -> Option<i64> {
    let t =
        chrono::NaiveDateTime::parse_from_str(sk.strip_prefix("SLOT#")?, "%Y-%m-%dT%H:%M").ok()?;
    Some(t.and_utc().timestamp())
}
/// Partitions per UTC day of the fact sums, by the person's hash: a burst of replies spreads
/// its writes over them, and even a cell every person hits (a bot answering in 2 s) is summed
/// in this many items, each taking a share of the writes.
pub const FACT_SUM_SHARDS: u64 = 4;
pub const FACT_SUM_PREFIX: &str = "FACTSUM#";
/// The sum of one fact cell in one slot over the people of one shard: partition
/// `FACTSUM#<UTC day>#<person hash % FACT_SUM_SHARDS>`, sort key `<HH:MM>#<cell id>`. `None`
/// outside chrono's range.
pub fn fact_sum_key(slot: i64, person_hash: u64, cell_id: &str) -> Option<(String, String)> {
    let t = chrono::DateTime::from_timestamp(slot, 0)?;
    Some((
        format!(
            "{FACT_SUM_PREFIX}{}#{}",
            t.format("%Y-%m-%d"),
            person_hash % FACT_SUM_SHARDS
        ),
        format!("{}#{cell_id}", t.format("%H:%M")),
    ))
}
/// Every fact-sum partition of the UTC day holding `at`.
pub fn fact_sum_partitions(at: i64) -> Vec<String> {
    let Some(t) = chrono::DateTime::from_timestamp(at, 0) else {
        return Vec::new();
    };
    (0..FACT_SUM_SHARDS)
        .map(|k| format!("{FACT_SUM_PREFIX}{}#{k}", t.format("%Y-%m-%d")))
        .collect()
}
/// The slot start of a fact-sum item's keys.
pub fn fact_sum_slot_of(pk: &str, sk: &str) -> Option<i64> {
    let (day, _) = pk.strip_prefix(FACT_SUM_PREFIX)?.rsplit_once('#')?;
    let (hm, _) = sk.split_once('#')?;
    let t = chrono::NaiveDateTime::parse_from_str(&format!("{day}T{hm}"), "%Y-%m-%dT%H:%M").ok()?;
    Some(t.and_utc().timestamp())
}
/// The round-robin assignment counter's key.
pub const ASSIGNMENT_COUNTER: (&str, &str) = ("COUNTER#assignment", "ROUND_ROBIN");

// ----- items of a user partition ------------------------------------------------------

pub const PROFILE_SK: &str = "PROFILE";
/// A user id's message counters (`inbound_count`, `outbound_count`).
pub const ACTIVITY_SK: &str = "ACTIVITY";
/// The ids linked to this one (identity).
pub const PERSON_SK: &str = "PERSON";
pub const PHONE_WABA_SK: &str = "WABA";

/// Message markers: `IN#<wamid>` / `OUT#<wamid>`.
pub const INBOUND_MARKER: &str = "IN#";
pub const OUTBOUND_MARKER: &str = "OUT#";
pub fn marker_sk(prefix: &str, wamid: &str) -> String {
    let mut sk = String::with_capacity(prefix.len() + wamid.len());
    sk.push_str(prefix);
    sk.push_str(wamid);
    sk
}

/// Stage and owner history: `HIST#<at, 10 digits>#<change>#v<version>`.
pub const HISTORY_PREFIX: &str = "HIST#";
pub fn history_sk(at: i64, change: &str, version: u64) -> String {
    format!("{HISTORY_PREFIX}{at:010}#{change}#v{version}")
}
/// The webhook's owner assignment: `HIST#<at>#owner#assign`.
pub fn assignment_history_sk(at: i64) -> String {
    format!("{HISTORY_PREFIX}{at:010}#owner#assign")
}

/// Consent events: `CONSENT#<phone_number_id>#<at, 10 digits>#<source>#<id>`.
pub const CONSENT_PREFIX: &str = "CONSENT#";
pub fn consent_event_sk(phone_number_id: &str, at: i64, source: &str, id: &str) -> String {
    format!("{CONSENT_PREFIX}{phone_number_id}#{at:010}#{source}#{id}")
}
/// Every consent event of a number sorts after this key (and every event of a number that
/// sorts before it, below it).
pub fn consent_events_of(phone_number_id: &str) -> String {
    format!("{CONSENT_PREFIX}{phone_number_id}")
}
/// The number of a consent event's key.
pub fn consent_number_of(sk: &str) -> Option<&str> {
    sk.strip_prefix(CONSENT_PREFIX)?.split('#').next()
}
/// Current consent: `CONSENT_STATE#<phone_number_id>#<category>`.
pub const CONSENT_STATE_PREFIX: &str = "CONSENT_STATE#";
pub fn consent_state_sk(phone_number_id: &str, category: &str) -> String {
    format!("{CONSENT_STATE_PREFIX}{phone_number_id}#{category}")
}
/// The states of one number: the prefix of their keys.
pub fn consent_states_of(phone_number_id: &str) -> String {
    format!("{CONSENT_STATE_PREFIX}{phone_number_id}#")
}

/// Conversions: `CONV#<idempotency key>`.
pub const CONVERSION_PREFIX: &str = "CONV#";
pub fn conversion_sk(idempotency_key: &str) -> String {
    format!("{CONVERSION_PREFIX}{idempotency_key}")
}
pub fn conversion_key_of(sk: &str) -> Option<&str> {
    sk.strip_prefix(CONVERSION_PREFIX)
}

// ----- items of other partitions --------------------------------------------------------

/// A template's current state (`TPL#<id>`).
pub const TEMPLATE_STATE_SK: &str = "STATE";
/// A template's catalogue entry from meta-sync (`TPL#<id>`).
pub const TEMPLATE_CATALOGUE_SK: &str = "CATALOGUE";
/// A template event: `EVT#<at, 10 digits>#<change>#<content id>`.
pub fn template_event_sk(at: i64, change: &str, content_id: &str) -> String {
    format!("EVT#{at:010}#{change}#{content_id}")
}
/// A catalogue change: `CATHIST#<at, 10 digits>#<aspect>`.
pub fn catalogue_change_sk(at: i64, aspect: &str) -> String {
    format!("CATHIST#{at:010}#{aspect}")
}
/// A WABA event: `EVT#<field>#<at, 10 digits>#<id>`.
pub fn waba_event_sk(field: &str, at: i64, id: &str) -> String {
    format!("EVT#{field}#{at:010}#{id}")
}
/// A system error of a WABA: `ERR#<at, 10 digits>#<id>`.
pub fn waba_error_sk(at: i64, id: &str) -> String {
    format!("ERR#{at:010}#{id}")
}
/// An automatic event (a Click-to-WhatsApp purchase or lead event Meta detected):
/// `AUTO#<wamid, or the body's content id>#<event name>#<content id>`.
pub fn automatic_event_sk(who: &str, event_name: &str, content_id: &str) -> String {
    format!("AUTO#{who}#{event_name}#{content_id}")
}
/// An item kept raw: `KEPT#<kind>#<content id>`.
pub fn kept_sk(kind: &str, content_id: &str) -> String {
    format!("KEPT#{kind}#{content_id}")
}
/// An outbound message's item: `OUT`, or `OUT#<participant>` for a group message.
pub fn outbound_sk(participant: Option<&str>) -> String {
    match participant {
        Some(p) => format!("OUT#{p}"),
        None => "OUT".to_string(),
    }
}

// ----- index keys ------------------------------------------------------------------------

/// The sparse index over lead items: `lead_list` (S) / `created_at` (N), projection ALL.
pub const LEADS_INDEX: &str = "leads";
/// Index partitions leads are spread over. Every change of a lead item (one per inbound
/// message) is also an index write; eight partitions keep a broadcast's reply burst well
/// under a partition's 1,000 writes/s (Invariant 6). Listing reads every shard and merges.
pub const LEAD_SHARDS: u8 = 8;
/// A lead index partition, `LEAD#<0..8>`.
pub fn lead_list_shard(shard: u8) -> String {
    format!("LEAD#{shard}")
}
/// A lead's index partition, fixed by its key.
pub fn lead_list(user_key: &str) -> String {
    use sha2::{Digest, Sha256};
    lead_list_shard(Sha256::digest(user_key.as_bytes())[0] % LEAD_SHARDS)
}

/// The `by_time` partitions of the message markers start with this.
pub const MARKER_BUCKET_PREFIX: &str = "T#";
/// The `by_time` partitions of the consent events and conversions start with this.
pub const EVENT_BUCKET_PREFIX: &str = "E#";

/// `time_bucket` of a message marker (the `by_time` index): `T#<UTC day>#<shard>`.
pub fn time_bucket_key(day: &str, shard: u32) -> String {
    let mut key = String::with_capacity(day.len() + 6);
    let _ = write!(key, "{MARKER_BUCKET_PREFIX}{day}#{shard}");
    key
}

/// `time_bucket` of a consent event or a conversion (the `by_time` index): `E#<UTC day>`.
pub fn event_bucket_key(day: &str) -> String {
    let mut key = String::with_capacity(day.len() + 2);
    key.push_str(EVENT_BUCKET_PREFIX);
    key.push_str(day);
    key
}

/// `lead_time` (the `by_lead` index): `<user id>#OUT` or `<user id>#CONV`.
pub fn lead_time_key(user_key: &str, suffix: &str) -> String {
    let mut v = String::with_capacity(user_key.len() + suffix.len());
    v.push_str(user_key);
    v.push_str(suffix);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_their_parsers_round_trip() {
        assert_eq!(wamid_of(&message_pk("wamid.A")), Some("wamid.A"));
        assert_eq!(user_of(&user_pk("5511")), Some("5511"));
        assert_eq!(phone_of(&phone_pk("106")), Some("106"));
        assert_eq!(
            conversion_key_of(&conversion_sk("order-1")),
            Some("order-1")
        );
        assert_eq!(
            consent_number_of(&consent_event_sk("106", 5, "api", "x")),
            Some("106")
        );
        assert_eq!(history_sk(5, "stage", 2), "HIST#0000000005#stage#v2");
        assert_eq!(outbound_sk(None), "OUT");
        assert_eq!(outbound_sk(Some("p")), "OUT#p");
        assert_eq!(time_bucket_key("2026-11-20", 3), "T#2026-11-20#3");
        assert_eq!(event_bucket_key("2026-11-20"), "E#2026-11-20");
    }

    #[test]
    fn person_rollup_keys_give_back_their_slot() {
        let slot = 1_795_168_800 + 45 * 60; // 2026-11-20T10:45 UTC
        let sk = facts_slot_sk(slot).expect("a slot key");
        assert_eq!(sk, "SLOT#2026-11-20T10:45");
        assert_eq!(facts_slot_of(&sk), Some(slot));
        for person_hash in 0..8 {
            let (pk, sk) = fact_sum_key(slot, person_hash, "00ff").expect("a sum key");
            assert_eq!(sk, "10:45#00ff");
            assert!(fact_sum_partitions(slot).contains(&pk), "{pk}");
            assert_eq!(fact_sum_slot_of(&pk, &sk), Some(slot));
        }
        assert_eq!(fact_sum_partitions(slot).len() as u64, FACT_SUM_SHARDS);
        assert_eq!(facts_pk("5511"), "FACTS#5511");
    }

    #[test]
    fn a_numbers_events_sort_above_its_floor_and_below_a_larger_number() {
        let floor = consent_events_of("12");
        let event = consent_event_sk("12", 1, "api", "x");
        let longer = consent_event_sk("123", 1, "api", "x");
        assert!(floor < event);
        // "12" is a prefix of "123": its events still sort below the floor of "123".
        assert!(event < consent_events_of("123"));
        assert!(consent_events_of("123") < longer);
    }

    #[test]
    fn lead_lists_spread_over_the_shards() {
        let lists: std::collections::BTreeSet<String> = (0..200)
            .map(|i| lead_list(&format!("55119{i:08}")))
            .collect();
        assert_eq!(lists.len(), LEAD_SHARDS as usize);
    }
}
