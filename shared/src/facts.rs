//! Keeping the person rollups equal to the facts of every person's messages
//! (`domain::metrics::facts`), whatever the order, duplication or concurrency of the stream.
//!
//! A person's facts are not a sum of per-message changes (a late inbound message turns an
//! earlier wait into two), so instead of moving deltas, the aggregator **recomputes** a
//! person's facts from their whole history whenever a change relevant to them is folded,
//! and moves the difference between the stored facts and the new ones into the slot sums:
//!
//! 1. claim the person (a counter only ever raised: every commit names its claim);
//! 2. read which person the id is now (after the claim: a merge seen late cannot be missed);
//! 3. read the stored facts and the history, both consistently;
//! 4. per slot where they differ, commit `new` with the slot sum's `new − old`, atomically,
//!    only if the claim is still the latest.
//!
//! Invariant: each slot sum equals the sum of the facts stored for that slot (every commit
//! changes both at once). Convergence: the last claim is taken after the last change of the
//! person's messages was written (each change's stream record triggers a recompute after it
//! is folded), so its reads see every change; an earlier claim's commits fail once it is
//! taken. A recompute whose commit fails stops: the later claim's recompute does the work.
//! A retried batch recomputes the same facts again and commits nothing (no difference).

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::metrics::facts::person_facts;
use crate::domain::metrics::tally::{Tally, fold_into_slots};
use crate::ports::facts::{FactsCommit, PersonFactsStore, PersonHistory};
use crate::ports::{IdentityStore, StoreError};

/// What recomputing one person did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recomputed {
    /// Ids whose stored facts were brought up to date (the person's lead id, and any other id
    /// of theirs, whose facts are none).
    pub ids: Vec<String>,
    /// Slots committed.
    pub commits: usize,
    /// Whether a later claim took over (some slots left to that recompute).
    pub superseded: bool,
}

/// Facts grouped by slot start.
fn by_slot(tallies: Vec<Tally>) -> BTreeMap<i64, Vec<Tally>> {
    let mut out: BTreeMap<i64, Vec<Tally>> = BTreeMap::new();
    for t in fold_into_slots(tallies) {
        out.entry(t.at).or_default().push(t);
    }
    out
}

/// Brings the stored facts of one id up to date: its person's facts if it is the person's
/// lead id, none otherwise (merged into another lead). Returns (commits, superseded).
async fn refresh<F, H, I>(
    facts: &F,
    history: &H,
    identity: &I,
    id: &str,
) -> Result<(usize, bool), StoreError>
where
    F: PersonFactsStore,
    H: PersonHistory,
    I: IdentityStore,
{
    let claim = facts.claim(id).await?;
    let person = identity.person(id).await?;
    let new = if person.lead_id() == id {
        let ids: Vec<String> = person.ids.iter().cloned().collect();
        let (inbound, outbound) = history.history(id, &ids).await?;
        by_slot(person_facts(&inbound, &outbound))
    } else {
        BTreeMap::new()
    };
    let mut stored = facts.stored(id).await?;
    let slots: BTreeSet<i64> = stored.keys().chain(new.keys()).copied().collect();
    let mut commits = 0;
    for slot in slots {
        let old = stored.remove(&slot).unwrap_or_default();
        let new = new.get(&slot).cloned().unwrap_or_default();
        if old == new {
            continue;
        }
        let c = FactsCommit {
            person: id.to_string(),
            claim,
            slot,
            old,
            new,
        };
        if !facts.commit(&c).await? {
            return Ok((commits, true));
        }
        commits += 1;
    }
    Ok((commits, false))
}

/// Recomputes the facts of the person `id` names, and clears those stored under their other
/// ids (a person merged into another lead has no facts of their own).
pub async fn recompute<F, H, I>(
    facts: &F,
    history: &H,
    identity: &I,
    id: &str,
) -> Result<Recomputed, StoreError>
where
    F: PersonFactsStore,
    H: PersonHistory,
    I: IdentityStore,
{
    let person = identity.person(id).await?;
    let mut ids: BTreeSet<String> = person.ids.clone();
    ids.insert(id.to_string());
    let mut out = Recomputed::default();
    // Someone who never wrote has no facts (every fact needs an inbound message), and never
    // had any: inbound counts only rise. Racing their first inbound message is safe: its own
    // recompute runs after its marker (and count) is written, and this read runs after this
    // record's marker is, so one of the two sees the other.
    let list: Vec<String> = ids.iter().cloned().collect();
    if !history.has_inbound(&list).await? {
        out.ids = list;
        return Ok(out);
    }
    for key in ids {
        let (commits, superseded) = refresh(facts, history, identity, &key).await?;
        out.commits += commits;
        out.superseded |= superseded;
        out.ids.push(key);
    }
    Ok(out)
}

/// Recomputes every person from nothing: clears the stored facts and sums, then recomputes
/// each id of `ids` (every id any message is filed under). Exact only while no stream
/// record is pending (docs/RUNBOOK.md, "Rebuilding the rollups").
pub async fn rebuild<F, H, I>(
    facts: &F,
    history: &H,
    identity: &I,
    ids: &BTreeSet<String>,
) -> Result<(u64, usize), StoreError>
where
    F: PersonFactsStore,
    H: PersonHistory,
    I: IdentityStore,
{
    let cleared = facts.clear().await?;
    let mut done: BTreeSet<String> = BTreeSet::new();
    for id in ids {
        if done.contains(id) {
            continue;
        }
        let r = recompute(facts, history, identity, id).await?;
        done.extend(r.ids);
    }
    Ok((cleared, done.len()))
}

#[cfg(all(test, feature = "test-util"))]
mod tests {
    use super::*;
    use crate::domain::metrics::facts::facts_of;
    use crate::domain::metrics::input::{InboundMsg, Inputs, OutboundMsg, Times};
    use crate::memory::facts::{MemoryFactsStore, MemoryHistory};
    use crate::memory::identity::MemoryIdentityStore;
    use crate::ports::IdentityStore;

    const T0: i64 = 1_795_000_000;

    fn inb(wamid: &str, person: &str, at: i64, phone: &str) -> InboundMsg {
        InboundMsg {
            wamid: wamid.into(),
            person: person.into(),
            waba_id: "W1".into(),
            phone_number_id: phone.into(),
            at,
        }
    }

    fn out(wamid: &str, person: &str, times: Times, tag: &str) -> OutboundMsg {
        OutboundMsg {
            wamid: wamid.into(),
            person: Some(person.into()),
            waba_id: "W1".into(),
            phone_number_id: "P1".into(),
            times,
            tag: Some(tag.into()),
            ..OutboundMsg::default()
        }
    }

    /// The changes a person's messages go through, as the stream brings them: inbound
    /// messages, then outbound states (sent, delivered, a late `sent` moving the anchor, a
    /// failure), for two people on two numbers.
    fn changes() -> Vec<Result<InboundMsg, OutboundMsg>> {
        let mut v: Vec<Result<InboundMsg, OutboundMsg>> = Vec::new();
        for (i, p) in ["a", "b"].iter().enumerate() {
            let t = T0 + i as i64 * 7_000;
            v.push(Ok(inb(&format!("{p}i1"), p, t, "P1")));
            v.push(Ok(inb(&format!("{p}i2"), p, t + 400, "P2")));
            let mut times = Times {
                delivered_at: Some(t + 30),
                ..Times::default()
            };
            v.push(Err(out(
                &format!("{p}o1"),
                p,
                times,
                "template=hello;by=bot",
            )));
            times.sent_at = Some(t + 20);
            v.push(Err(out(
                &format!("{p}o1"),
                p,
                times,
                "template=hello;by=bot",
            )));
            let human = Times {
                sent_at: Some(t + 900),
                delivered_at: Some(t + 905),
                ..Times::default()
            };
            v.push(Err(out(&format!("{p}o2"), p, human, "by=human")));
            v.push(Ok(inb(&format!("{p}i3"), p, t + 1_000, "P1")));
            let failed = Times {
                failed_at: Some(t + 2_000),
                ..human
            };
            v.push(Err(out(&format!("{p}o3"), p, failed, "by=human")));
        }
        v
    }

    /// The facts of the people's messages as they stand (the per-message path).
    async fn expected(h: &MemoryHistory, ids: &[&str]) -> Vec<Tally> {
        let mut inputs = Inputs::default();
        for id in ids {
            let (i, o) = h.history(id, &[id.to_string()]).await.expect("in memory");
            inputs.inbound.extend(i);
            inputs.outbound.extend(o);
        }
        fold_into_slots(facts_of(&inputs))
    }

    #[tokio::test]
    async fn recomputing_after_each_change_in_any_order_equals_the_facts_of_the_end_state() {
        // Forward, reversed, and interleaved orders; each change followed by a recompute
        // (and some recomputes repeated, as a retried batch would).
        let base = changes();
        let mut orders = vec![base.clone(), base.iter().rev().cloned().collect()];
        let mut shuffled = base.clone();
        shuffled.rotate_left(5);
        shuffled.swap(0, 9);
        orders.push(shuffled);
        for order in orders {
            let (facts, history, identity) = (
                MemoryFactsStore::new(),
                MemoryHistory::new(),
                MemoryIdentityStore::new(),
            );
            for (n, change) in order.iter().enumerate() {
                let person = match change {
                    Ok(m) => {
                        history.inbound(m.clone());
                        m.person.clone()
                    }
                    Err(m) => {
                        history.outbound(m.clone());
                        m.person.clone().unwrap_or_default()
                    }
                };
                recompute(&facts, &history, &identity, &person)
                    .await
                    .expect("recompute");
                if n % 3 == 0 {
                    let again = recompute(&facts, &history, &identity, &person)
                        .await
                        .expect("recompute");
                    assert_eq!(again.commits, 0, "a repeated recompute changes nothing");
                }
            }
            let want = expected(&history, &["a", "b"]).await;
            assert!(
                want.iter()
                    .any(|t| matches!(t.cell, crate::domain::metrics::tally::Cell::Replied { .. }))
            );
            assert!(
                want.len() > 6,
                "waits in both scopes and a replied message: {want:?}"
            );
            assert_eq!(facts.slots(0, i64::MAX).await.expect("slots"), want);
            assert_eq!(facts.stored_sums(), want);
        }
    }

    #[tokio::test]
    async fn a_stale_recompute_is_superseded_by_a_later_claim() {
        let (facts, history, identity) = (
            MemoryFactsStore::new(),
            MemoryHistory::new(),
            MemoryIdentityStore::new(),
        );
        for c in changes().into_iter().take(4) {
            match c {
                Ok(m) => history.inbound(m),
                Err(m) => history.outbound(m),
            }
        }
        // A stale worker claims first, then a later one claims and commits everything.
        let stale = facts.claim("a").await.expect("claim");
        recompute(&facts, &history, &identity, "a")
            .await
            .expect("recompute");
        let stored = facts.stored("a").await.expect("stored");
        let (slot, old) = stored.iter().next().expect("facts stored");
        let commit = FactsCommit {
            person: "a".into(),
            claim: stale,
            slot: *slot,
            old: old.clone(),
            new: Vec::new(),
        };
        assert!(
            !facts.commit(&commit).await.expect("commit"),
            "an old claim commits nothing"
        );
        assert_eq!(
            facts.stored_sums(),
            facts.slots(0, i64::MAX).await.expect("slots")
        );
        assert_eq!(
            facts.slots(0, i64::MAX).await.expect("slots"),
            expected(&history, &["a"]).await
        );
    }

    #[tokio::test]
    async fn a_merged_id_keeps_no_facts_and_its_lead_has_them_all() {
        let (facts, history, identity) = (
            MemoryFactsStore::new(),
            MemoryHistory::new(),
            MemoryIdentityStore::new(),
        );
        // Two ids of one person, recomputed apart before anything links them.
        history.inbound(inb("i1", "628100", T0, "P1"));
        history.outbound(out(
            "o1",
            "bsuid.x",
            Times {
                sent_at: Some(T0 + 60),
                delivered_at: Some(T0 + 61),
                ..Times::default()
            },
            "template=hello",
        ));
        history.inbound(inb("i2", "bsuid.x", T0 + 120, "P1"));
        for id in ["628100", "bsuid.x"] {
            recompute(&facts, &history, &identity, id)
                .await
                .expect("recompute");
        }
        let apart = facts.slots(0, i64::MAX).await.expect("slots");
        let ids: std::collections::BTreeSet<String> =
            ["628100".to_string(), "bsuid.x".to_string()].into();
        let (person, _) = identity.link(&ids).await.expect("link");
        let lead = person.lead_id().to_string();
        let r = recompute(&facts, &history, &identity, "628100")
            .await
            .expect("recompute");
        assert_eq!(r.ids.len(), 2);
        let other = person.others().next().expect("two ids").to_string();
        assert!(facts.stored(&other).await.expect("stored").is_empty());
        assert!(!facts.stored(&lead).await.expect("stored").is_empty());
        // One person now: i1 → o1 is one wait (60 s), and o1 was replied to by i2.
        let mut joint = Inputs::default();
        let (i, o) = history
            .history(&lead, &person.ids.iter().cloned().collect::<Vec<_>>())
            .await
            .expect("history");
        joint.inbound = i;
        joint.outbound = o;
        let want = fold_into_slots(facts_of(&joint));
        assert_eq!(facts.slots(0, i64::MAX).await.expect("slots"), want);
        assert_ne!(apart, want);
        assert_eq!(facts.stored_sums(), want);
    }

    #[tokio::test]
    async fn a_rebuild_from_nothing_equals_the_incremental_sums() {
        let (facts, history, identity) = (
            MemoryFactsStore::new(),
            MemoryHistory::new(),
            MemoryIdentityStore::new(),
        );
        for c in changes() {
            let p = match c {
                Ok(m) => {
                    let p = m.person.clone();
                    history.inbound(m);
                    p
                }
                Err(m) => {
                    let p = m.person.clone().unwrap_or_default();
                    history.outbound(m);
                    p
                }
            };
            recompute(&facts, &history, &identity, &p)
                .await
                .expect("recompute");
        }
        let incremental = facts.slots(0, i64::MAX).await.expect("slots");
        let ids = ["a".to_string(), "b".to_string()].into();
        let (cleared, people) = rebuild(&facts, &history, &identity, &ids)
            .await
            .expect("rebuild");
        assert!(cleared > 0);
        assert_eq!(people, 2);
        assert_eq!(facts.slots(0, i64::MAX).await.expect("slots"), incremental);
    }
}
