//! One person, one lead. Meta names a WhatsApp user by phone number (`from`, `wa_id`,
//! `recipient_id`) and, since 2026, by business-scoped user ids (BSUID: `from_user_id`,
//! `contacts[].user_id`, `recipient_user_id`, and the portfolio-level `parent_user_id`). A
//! number change (`user_changed_number`) or an id change (`user_changed_user_id`) gives the
//! same person yet another id. Every id the product has seen together for one person belongs
//! to one **person**; its **lead id** is fixed by [`lead_id`] from the set of ids alone, so it
//! does not depend on the order in which Meta delivered them.
//!
//! Facts stay under the id they arrived with (messages, consent, conversions, history);
//! readers resolve an id to its person and read all of them. This module holds the rules; the
//! links are written by the aggregator (off the ingest path) and read through
//! `ports::IdentityStore`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::consent::ConsentAction;

/// The longest id accepted anywhere (API paths, bodies, CSV): a BSUID is `<ISO2>.` plus up
/// to 128 characters, a parent id `<ISO2>.ENT.` plus as many.
pub const MAX_ID_LEN: usize = 160;

/// Whether `id` can name a person: 1 to [`MAX_ID_LEN`] letters, digits, `.`, `_`, `:` or `-`.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'-'))
}

/// At most this many ids make one person: a bound on the reads a resolution costs, and on
/// what a forged stream of number changes could chain together.
pub const MAX_IDS: usize = 16;

/// What kind of id a string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IdKind {
    /// A business-scoped user id: anything that is not all digits. Meta documents
    /// `<ISO2>.<alnum>` (e.g. `US.13491208655302741918`); its own webhook examples also show
    /// `user.9373795779eb…`.
    Bsuid,
    /// A phone number: digits only (`from`, `wa_id`, `recipient_id`).
    Phone,
    /// A portfolio-level parent id (`US.ENT.…`): shared by the person across the businesses
    /// of a managed portfolio; never the lead id while another id is known.
    Parent,
}

/// The kind of `id` by its shape.
pub fn kind(id: &str) -> IdKind {
    if id.contains(".ENT.") {
        IdKind::Parent
    } else if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        IdKind::Phone
    } else {
        IdKind::Bsuid
    }
}

/// The lead id of a person with these ids: the business-scoped id once one is known (the
/// smallest in byte order when a user id change gave the person two), else the smallest
/// phone number, else the parent id. `None` for an empty set.
pub fn lead_id<'a, I: IntoIterator<Item = &'a str>>(ids: I) -> Option<&'a str> {
    ids.into_iter()
        .min_by(|a, b| (kind(a), *a).cmp(&(kind(b), *b)))
}

/// The ids an item names for its person, read through `attr` (a string attribute of the
/// item with sort key `sk`): the sender of an inbound message (`MSG#<wamid>` / `IN`: phone,
/// user id, parent id, and for a `system` change notice the new phone or user id), the
/// one-to-one recipient of an outbound message (`OUT`), or the ids a webhook consent event
/// carried (`CONSENT#…`: a `user_preferences` item with `wa_id` and `user_id`). Group
/// messages name a group, not a person: none. Sorted, unique.
pub fn ids_of_message(sk: &str, attr: impl Fn(&str) -> Option<String>) -> BTreeSet<String> {
    let names: &[&str] = match sk {
        _ if sk.starts_with(crate::keys::CONSENT_PREFIX) => &["user_key", "also_id"],
        "IN" => &[
            "user_key",
            "from_phone",
            "from_user_id",
            "from_parent_user_id",
            "system_new_wa_id",
            "system_new_user_id",
        ],
        "OUT" => &["recipient_phone", "recipient_user_id"],
        _ => &[],
    };
    names
        .iter()
        .filter_map(|n| attr(n))
        .filter(|v| !v.is_empty())
        .collect()
}

/// One person: every id known to name them (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub ids: BTreeSet<String>,
}

impl Person {
    /// A person known by one id only.
    pub fn single(id: &str) -> Self {
        Self {
            ids: BTreeSet::from([id.to_string()]),
        }
    }
    /// The person's lead id ([`lead_id`]).
    pub fn lead_id(&self) -> &str {
        lead_id(self.ids.iter().map(String::as_str)).unwrap_or_default()
    }
    /// The person's ids other than the lead id.
    pub fn others(&self) -> impl Iterator<Item = &str> {
        let lead = self.lead_id();
        self.ids
            .iter()
            .map(String::as_str)
            .filter(move |i| *i != lead)
    }
}

/// Every person a set of known person records makes, as a map from each id to its lead id:
/// a union of overlapping id sets (a person record read at one id may be older than one read
/// at another; the union is the person). Ids absent from the map are people of one id.
#[derive(Debug, Clone, Default)]
pub struct IdentityMap {
    lead_of: HashMap<String, String>,
    members: HashMap<String, Vec<String>>,
}

impl IdentityMap {
    /// Builds the map from id sets (each the ids one record names together).
    pub fn from_sets<I, S>(sets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: IntoIterator<Item = String>,
    {
        // Union-find over the ids, by index.
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut parent: Vec<usize> = Vec::new();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for set in sets {
            let mut first: Option<usize> = None;
            for id in set {
                let next = index.len();
                let i = *index.entry(id).or_insert_with(|| {
                    parent.push(next);
                    next
                });
                match first {
                    None => first = Some(i),
                    Some(f) => {
                        let (a, b) = (root(&mut parent, f), root(&mut parent, i));
                        parent[b] = a;
                    }
                }
            }
        }
        let mut groups: BTreeMap<usize, Vec<&String>> = BTreeMap::new();
        let ids: Vec<(&String, usize)> = index.iter().map(|(k, v)| (k, *v)).collect();
        for (id, i) in ids {
            groups.entry(root(&mut parent, i)).or_default().push(id);
        }
        let mut lead_of = HashMap::with_capacity(index.len());
        let mut by_lead = HashMap::new();
        for members in groups.values() {
            if members.len() < 2 {
                continue;
            }
            let lead = lead_id(members.iter().map(|s| s.as_str()))
                .unwrap_or_default()
                .to_string();
            for m in members {
                lead_of.insert((*m).clone(), lead.clone());
            }
            let mut ids: Vec<String> = members.iter().map(|m| (*m).clone()).collect();
            ids.sort();
            by_lead.insert(lead, ids);
        }
        Self {
            lead_of,
            members: by_lead,
        }
    }

    /// The lead id of the person `id` belongs to (`id` itself when nothing links it).
    pub fn lead_of<'a>(&'a self, id: &'a str) -> &'a str {
        self.lead_of.get(id).map_or(id, String::as_str)
    }

    /// Every id of the person `id` belongs to, sorted (just `id` when nothing links it).
    pub fn ids_of<'a>(&'a self, id: &'a str) -> Vec<&'a str> {
        match self.members.get(self.lead_of(id)) {
            Some(ids) => ids.iter().map(String::as_str).collect(),
            None => vec![id],
        }
    }

    /// Every person of two or more ids, as their sorted ids.
    pub fn people(&self) -> impl Iterator<Item = &[String]> {
        self.members.values().map(Vec::as_slice)
    }

    /// This map and `other` as one (people that share an id become one).
    pub fn with(&self, other: &IdentityMap) -> IdentityMap {
        IdentityMap::from_sets(self.members.values().chain(other.members.values()).cloned())
    }

    /// Whether any id is linked to another.
    pub fn is_empty(&self) -> bool {
        self.lead_of.is_empty()
    }
}

/// Whether a consent state (`at`, `action`) replaces the current one (`current`): the most
/// recent wins; at the same second an opt-out beats an opt-in, so a STOP and a START in one
/// second leave the person opted out whatever order they arrived in.
pub fn consent_supersedes(
    at: i64,
    action: ConsentAction,
    current: Option<(i64, ConsentAction)>,
) -> bool {
    match current {
        None => true,
        Some((cur_at, cur_action)) => {
            at > cur_at
                || (at == cur_at
                    && action == ConsentAction::OptOut
                    && cur_action == ConsentAction::OptIn)
        }
    }
}

/// The DynamoDB condition that enforces [`consent_supersedes`] on a consent state item
/// (`changed_at`, `consent`), for a write of `action` (its values `:changed_at`, and for an
/// opt-out `:opt_in`). Idempotent: a retried write of the same state fails the condition.
pub fn consent_state_condition(action: ConsentAction) -> &'static str {
    match action {
        ConsentAction::OptOut => {
            "attribute_not_exists(changed_at) OR changed_at < :changed_at \
             OR (changed_at = :changed_at AND consent = :opt_in)"
        }
        ConsentAction::OptIn => "attribute_not_exists(changed_at) OR changed_at < :changed_at",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn ids_up_to_a_full_length_parent_id_are_valid() {
        let longest = format!("US.ENT.{}", "9".repeat(128));
        assert!(valid_id(&longest) && longest.len() < MAX_ID_LEN);
        assert!(valid_id(&format!("BR.{}", "a".repeat(128))));
        assert!(!valid_id(&"1".repeat(MAX_ID_LEN + 1)));
        assert!(!valid_id(""));
        assert!(!valid_id("55 11"));
        assert!(!valid_id("a/b"));
    }

    #[test]
    fn ids_are_classified_by_shape() {
        assert_eq!(kind("US.13491208655302741918"), IdKind::Bsuid);
        assert_eq!(kind("BR.abcXYZ09"), IdKind::Bsuid);
        assert_eq!(kind("US.ENT.11815799212886844830"), IdKind::Parent);
        assert_eq!(
            kind("user.9373795779eb6441c8adb2eaee5b848e7dd174ddd302d7db62142f4722d574b6"),
            IdKind::Bsuid
        );
        assert_eq!(kind("5511999990001"), IdKind::Phone);
    }

    #[test]
    fn the_lead_id_is_the_business_scoped_id_once_known_whatever_the_order() {
        let phone_only = ["5511999990002", "5511999990001"];
        assert_eq!(lead_id(phone_only), Some("5511999990001"));
        let mixed = ["5511999990001", "US.ENT.1", "BR.77", "BR.12"];
        for rotation in 0..mixed.len() {
            let mut ids = mixed.to_vec();
            ids.rotate_left(rotation);
            assert_eq!(lead_id(ids.iter().copied()), Some("BR.12"));
        }
        assert_eq!(lead_id(["5511", "US.ENT.9"]), Some("5511"));
        assert_eq!(lead_id(["US.ENT.9"]), Some("US.ENT.9"));
        assert_eq!(lead_id(std::iter::empty()), None);
    }

    fn attrs(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_message_names_its_person_by_every_id_it_carries() {
        let inbound = attrs(&[
            ("user_key", "BR.1"),
            ("from_phone", "5511"),
            ("from_user_id", "BR.1"),
            ("from_parent_user_id", "BR.ENT.1"),
            ("context_id", "wamid.x"),
        ]);
        let ids = ids_of_message("IN", |k| inbound.get(k).cloned());
        assert_eq!(
            ids.into_iter().collect::<Vec<_>>(),
            ["5511", "BR.1", "BR.ENT.1"]
        );
        let change = attrs(&[
            ("user_key", "5511"),
            ("from_phone", "5511"),
            ("system_new_wa_id", "5522"),
        ]);
        assert_eq!(ids_of_message("IN", |k| change.get(k).cloned()).len(), 2);
        let status = attrs(&[("recipient_phone", "5511"), ("recipient_user_id", "")]);
        assert_eq!(ids_of_message("OUT", |k| status.get(k).cloned()).len(), 1);
        let preference = attrs(&[("user_key", "BR.1"), ("also_id", "5511")]);
        assert_eq!(
            ids_of_message("CONSENT#P#0000000010#user_preferences#x", |k| preference
                .get(k)
                .cloned())
            .len(),
            2
        );
        let group = attrs(&[("recipient_phone", "G1"), ("recipient_user_id", "BR.1")]);
        assert!(ids_of_message("OUT#5511", |k| group.get(k).cloned()).is_empty());
    }

    #[test]
    fn overlapping_records_make_one_person_with_one_lead_id() {
        let sets = vec![
            vec!["5511".to_string(), "BR.9".to_string()],
            vec!["5522".to_string(), "5511".to_string()],
            vec!["BR.9".to_string()],
            vec!["6600".to_string(), "6601".to_string()],
        ];
        let map = IdentityMap::from_sets(sets);
        for id in ["5511", "BR.9", "5522"] {
            assert_eq!(map.lead_of(id), "BR.9");
        }
        assert_eq!(map.lead_of("6601"), "6600");
        assert_eq!(map.ids_of("5522"), ["5511", "5522", "BR.9"]);
        assert_eq!(map.ids_of("7777"), ["7777"]);
        assert_eq!(map.people().count(), 2);
        assert_eq!(map.lead_of("7777"), "7777");
        assert!(!map.is_empty());
        let more = IdentityMap::from_sets(vec![vec!["6601".to_string(), "5522".to_string()]]);
        assert_eq!(map.with(&more).lead_of("6600"), "BR.9");
        assert!(IdentityMap::from_sets(vec![vec!["1".to_string()]]).is_empty());
    }

    #[test]
    fn the_latest_consent_wins_and_an_opt_out_wins_a_tie() {
        use ConsentAction::{OptIn, OptOut};
        assert!(consent_supersedes(10, OptIn, None));
        assert!(consent_supersedes(11, OptIn, Some((10, OptOut))));
        assert!(!consent_supersedes(9, OptOut, Some((10, OptIn))));
        assert!(consent_supersedes(10, OptOut, Some((10, OptIn))));
        assert!(!consent_supersedes(10, OptIn, Some((10, OptOut))));
        // A retry of the same state is not a change.
        assert!(!consent_supersedes(10, OptOut, Some((10, OptOut))));
        assert!(!consent_supersedes(10, OptIn, Some((10, OptIn))));
        // Both arrival orders of a same-second STOP and START end opted out.
        for order in [[OptOut, OptIn], [OptIn, OptOut]] {
            let mut state = None;
            for action in order {
                if consent_supersedes(10, action, state) {
                    state = Some((10, action));
                }
            }
            assert_eq!(state, Some((10, OptOut)));
        }
    }
}
