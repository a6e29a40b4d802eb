//! Generation: a spec and a seed → the facts, and the ground truth computed from them.

use super::deliver::*;
use super::facts::*;
use super::render::*;
use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Generates the traffic described by `spec`, deterministically from `spec.seed`.
///
/// Outbound: recipients ~70% phone only, ~20% phone + BSUID, ~10% BSUID only
/// (`recipient_id: ""`); ladders sent→delivered→read 45%, sent→read 10%, sent→delivered 25%,
/// sent 5%, sent→failed 10%, sent→delivered→failed 5%; pricing ~82% PMP, ~15% CBP, ~3% none
/// (the v24 minimal status), carried on `sent` and on one of delivered/read (in ~10% of messages
/// only on delivered/read), never on `failed`; `biz_opaque_callback_data` on ~30%.
///
/// Inbound: each user sends 1–4 messages; ~40% of first messages carry a Click-to-WhatsApp
/// referral, ~20% of those users later send a second, different one; ~10% of users send an exact
/// STOP keyword (a third of them later START), ~5% send "stop the music". Users are ~70% phone +
/// BSUID, ~20% phone only, ~10% BSUID only (no `from`, contact `wa_id: ""`).
///
/// User preferences: ~8% of users with a phone stop marketing messages, half of them resume, and
/// one more user resumes without a prior stop.
pub fn generate(spec: &TrafficSpec) -> Traffic {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut mint = IdMint {
        taken: BTreeSet::new(),
    };

    let outbound = plan_outbound(spec, &mut rng, &mut mint);
    let users = plan_users(spec, &mut rng, &mut mint, &outbound);
    let preferences = plan_preferences(&mut rng, &users);

    let truth = ground_truth(&outbound, &users, &preferences);
    let events = render_events(spec, &outbound, &users, &preferences);
    Traffic { events, truth }
}

pub(super) fn plan_outbound(
    spec: &TrafficSpec,
    rng: &mut StdRng,
    mint: &mut IdMint,
) -> Vec<OutboundPlan> {
    // A recipient usually gets a few messages, as in a real campaign list.
    let pool_size = spec.outbound_messages.div_ceil(3).max(1);
    let recipients: Vec<Identity> = (0..pool_size)
        .map(|_| {
            let shape = *pick_weighted(
                rng,
                &[
                    (IdentityShape::PhoneOnly, 70),
                    (IdentityShape::PhoneAndBsuid, 20),
                    (IdentityShape::BsuidOnly, 10),
                ],
            );
            mint.identity(rng, shape)
        })
        .collect();

    (0..spec.outbound_messages)
        .map(|_| {
            let wamid = mint.wamid(rng);
            let recipient = pick(rng, &recipients).clone();
            let sent_at = spec.base_time + rng.random_range(0..3 * DAY);

            let (kinds, mut ladder) = plan_ladder(rng, sent_at);

            let roll = rng.random_range(0..100);
            let pricing = if roll < 3 {
                None
            } else if roll < 18 {
                let &(category, billable) = pick_weighted(rng, CBP_COMBOS);
                Some(PricingFact::Conversation {
                    category,
                    billable,
                    conversation_id: random_string(rng, HEX, 32),
                })
            } else {
                let &(category, pricing_type) = pick_weighted(rng, PMP_COMBOS);
                let fep_conversation_id =
                    (pricing_type == "free_entry_point").then(|| random_string(rng, HEX, 32));
                Some(PricingFact::PerMessage {
                    category,
                    pricing_type,
                    fep_conversation_id,
                })
            };
            if pricing.is_some() {
                attach_pricing(rng, &mut ladder);
            }

            let failure = kinds
                .contains(&Failed)
                .then(|| (*pick(rng, FAILURES), *pick(rng, ERROR_HREFS)));
            let callback = rng.random_bool(0.30).then(|| *pick(rng, CALLBACK_DATA));

            OutboundPlan {
                wamid,
                recipient,
                pricing,
                ladder,
                failure,
                callback,
            }
        })
        .collect()
}

/// One message's statuses from `sent_at`: a weighted lifecycle ([`LIFECYCLES`]), times strictly
/// increasing along it.
pub(super) fn plan_ladder(
    rng: &mut StdRng,
    sent_at: i64,
) -> (&'static [StatusKind], Vec<StatusStep>) {
    let kinds = *pick_weighted(rng, LIFECYCLES);
    let mut ladder = Vec::with_capacity(kinds.len());
    let mut at = sent_at;
    for (i, &kind) in kinds.iter().enumerate() {
        if i > 0 {
            at += match kind {
                Delivered => rng.random_range(1..=90),
                Read => rng.random_range(5..=6 * HOUR),
                Failed => rng.random_range(1..=600),
                Sent => 1,
            };
        }
        ladder.push(StatusStep {
            kind,
            at,
            carries_pricing: false,
        });
    }
    (kinds, ladder)
}

/// The sender tag of [`broadcast`]'s template (see README, *Sender tags*).
pub const BROADCAST_TAG: &str = "template=spring_sale:en_US;campaign=spring;by=bot";

/// A broadcast: one marketing template sent by a bot to `recipients` distinct people, 1,000 a
/// second from `spec.base_time`, then Meta's statuses for each message: the usual lifecycles
/// (see [`generate`]: most delivered, many read, some failed), per-message marketing pricing
/// (paid) on `sent` and on one of delivered/read, [`BROADCAST_TAG`] on every status.
/// Recipients are ~80% phone only, ~15% phone + BSUID, ~5% BSUID only. No inbound traffic.
pub fn broadcast(spec: &TrafficSpec, recipients: usize) -> Traffic {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut mint = IdMint {
        taken: BTreeSet::new(),
    };
    let outbound: Vec<OutboundPlan> = (0..recipients)
        .map(|i| {
            let shape = *pick_weighted(
                &mut rng,
                &[
                    (IdentityShape::PhoneOnly, 80),
                    (IdentityShape::PhoneAndBsuid, 15),
                    (IdentityShape::BsuidOnly, 5),
                ],
            );
            let recipient = mint.identity(&mut rng, shape);
            let wamid = mint.wamid(&mut rng);
            let (kinds, mut ladder) = plan_ladder(&mut rng, spec.base_time + (i / 1_000) as i64);
            attach_pricing(&mut rng, &mut ladder);
            let failure = kinds
                .contains(&Failed)
                .then(|| (*pick(&mut rng, FAILURES), *pick(&mut rng, ERROR_HREFS)));
            OutboundPlan {
                wamid,
                recipient,
                pricing: Some(PricingFact::PerMessage {
                    category: "marketing",
                    pricing_type: "regular",
                    fep_conversation_id: None,
                }),
                ladder,
                failure,
                callback: Some(BROADCAST_TAG),
            }
        })
        .collect();
    Traffic {
        truth: ground_truth(&outbound, &[], &[]),
        events: render_events(spec, &outbound, &[], &[]),
    }
}

/// One status of a synthetic bench body: `wamid.<prefix><i>` (one status per wamid), cycling
/// sent / delivered with PMP marketing pricing / read, a second apart, one recipient.
pub fn numbered_status(prefix: &str, i: usize) -> Value {
    let state = ["sent", "delivered", "read"][i % 3];
    let mut s = json!({"id": format!("wamid.{prefix}{i}"), "status": state,
        "timestamp": (1_763_600_000 + i).to_string(), "recipient_id": "16505551234"});
    if i % 3 == 1 {
        s["pricing"] = json!({"billable": true, "pricing_model": "PMP", "type": "regular", "category": "marketing"});
    }
    s
}

/// A POST body of the default spec's number holding these statuses in one change.
pub fn statuses_body(statuses: &[Value]) -> Vec<u8> {
    let events: Vec<Event> = statuses.iter().cloned().map(Event::Status).collect();
    let refs: Vec<&Event> = events.iter().collect();
    envelope(&TrafficSpec::default(), &refs)
        .to_string()
        .into_bytes()
}

/// Meta's rule: pricing rides on `sent` and on exactly one of delivered/read; never on `failed`.
/// Sometimes the `sent` copy is missing, so billing must be read from whichever status has it.
pub(super) fn attach_pricing(rng: &mut StdRng, ladder: &mut [StatusStep]) {
    let follow_ups: Vec<usize> = ladder
        .iter()
        .enumerate()
        .filter(|(_, step)| matches!(step.kind, Delivered | Read))
        .map(|(i, _)| i)
        .collect();
    let follow_up = (!follow_ups.is_empty()).then(|| *pick(rng, &follow_ups));
    let on_sent = follow_up.is_none() || !rng.random_bool(0.10);
    for (i, step) in ladder.iter_mut().enumerate() {
        step.carries_pricing = match step.kind {
            Sent => on_sent,
            Delivered | Read => follow_up == Some(i),
            Failed => false,
        };
    }
}

pub(super) fn plan_referral(
    rng: &mut StdRng,
    mint: &mut IdMint,
    exclude: Option<&str>,
) -> ReferralFact {
    let ad = loop {
        let ad = pick(rng, ADS);
        if Some(ad.source_id) != exclude {
            break ad;
        }
    };
    // Some ads link to a short URL without UTM parameters.
    let utm = if rng.random_bool(0.15) {
        Utm {
            source: None,
            medium: None,
            campaign: None,
            content: None,
            term: None,
        }
    } else {
        Utm {
            source: Some(*pick(rng, UTM_SOURCES)),
            medium: Some(*pick(rng, UTM_MEDIUMS)),
            campaign: Some(ad.campaign),
            content: Some(ad.content),
            term: rng.random_bool(0.8).then(|| *pick(rng, UTM_TERMS)),
        }
    };
    let source_url = match utm {
        Utm {
            source: Some(source),
            medium: Some(medium),
            campaign: Some(campaign),
            content: Some(content),
            term,
        } => {
            let mut url = format!(
                "https://example.com/promo?utm_source={source}&utm_medium={medium}&utm_campaign={campaign}&utm_content={content}"
            );
            if let Some(term) = term {
                url.push_str("&utm_term=");
                url.push_str(term);
            }
            url
        }
        _ => format!("https://fb.me/{}", random_string(rng, ALNUM, 9)),
    };
    let ctwa_clid = rng
        .random_bool(0.90)
        .then(|| mint.unique(|| format!("Aff-{}", random_string(rng, CLID_CHARS, 96))));
    ReferralFact {
        ad,
        source_url,
        ctwa_clid,
        with_welcome_message: rng.random_bool(0.5),
        utm,
    }
}

pub(super) fn plan_users(
    spec: &TrafficSpec,
    rng: &mut StdRng,
    mint: &mut IdMint,
    outbound: &[OutboundPlan],
) -> Vec<UserPlan> {
    let n = spec.inbound_users;
    // Fixed quotas (not coin flips) so every case shows up even in small specs.
    let stoppers = sample_indices(rng, n, quota(n, 10));
    let restarters: BTreeSet<usize> = {
        let list: Vec<usize> = stoppers.iter().copied().collect();
        // "A few" of the stoppers come back; none when there is only one to watch.
        let count = if list.len() >= 2 {
            (list.len() / 3).max(1)
        } else {
            0
        };
        sample_indices(rng, list.len(), count)
            .into_iter()
            .map(|i| list[i])
            .collect()
    };
    let music_fans = sample_indices(rng, n, quota(n, 5));

    (0..n)
        .map(|u| {
            let shape = *pick_weighted(
                rng,
                &[
                    (IdentityShape::PhoneAndBsuid, 70),
                    (IdentityShape::PhoneOnly, 20),
                    (IdentityShape::BsuidOnly, 10),
                ],
            );
            let identity = mint.identity(rng, shape);
            let name = *pick(rng, NAMES);

            let regular = rng.random_range(1..=4);
            let mut contents: Vec<(InboundContent, Option<ConsentKeyword>)> = (0..regular)
                .map(|_| (plan_content(rng, mint, outbound), None))
                .collect();
            if music_fans.contains(&u) {
                let slot = rng.random_range(0..regular);
                contents[slot].0 = InboundContent::Text(NOT_A_STOP.to_string());
            }
            if stoppers.contains(&u) {
                let text = *pick(rng, STOP_TEXTS);
                contents.push((
                    InboundContent::Text(text.to_string()),
                    Some(ConsentKeyword::Stop),
                ));
                if restarters.contains(&u) {
                    let text = *pick(rng, START_TEXTS);
                    contents.push((
                        InboundContent::Text(text.to_string()),
                        Some(ConsentKeyword::Start),
                    ));
                }
            }

            // Referrals only on regular messages; a keyword message stays a bare keyword.
            let mut referrals: Vec<Option<ReferralFact>> = vec![None; contents.len()];
            if rng.random_bool(0.40) {
                let first = plan_referral(rng, mint, None);
                if regular >= 2 && rng.random_bool(0.20) {
                    let later = rng.random_range(1..regular);
                    referrals[later] = Some(plan_referral(rng, mint, Some(first.ad.source_id)));
                }
                referrals[0] = Some(first);
            } else if regular >= 2 && rng.random_bool(0.05) {
                // First touch on a later message: the user chatted before clicking an ad.
                let later = rng.random_range(1..regular);
                referrals[later] = Some(plan_referral(rng, mint, None));
            }

            let mut at = spec.base_time + rng.random_range(0..2 * DAY);
            let messages = contents
                .into_iter()
                .zip(referrals)
                .enumerate()
                .map(|(i, ((mut content, keyword), referral))| {
                    if i > 0 {
                        at += rng.random_range(20..=4 * HOUR);
                    }
                    // An ad click opens the chat with text, not with a template quick reply.
                    if referral.is_some() && matches!(content, InboundContent::Button { .. }) {
                        content = InboundContent::Text(pick(rng, CHAT_TEXTS).to_string());
                    }
                    InboundPlan {
                        wamid: mint.wamid(rng),
                        at,
                        content,
                        referral,
                        keyword,
                    }
                })
                .collect();

            UserPlan {
                identity,
                name,
                messages,
            }
        })
        .collect()
}

pub(super) fn plan_content(
    rng: &mut StdRng,
    mint: &mut IdMint,
    outbound: &[OutboundPlan],
) -> InboundContent {
    let roll = rng.random_range(0..100);
    if roll < 10 && !outbound.is_empty() {
        InboundContent::Button {
            payload: STOP_PROMOTIONS,
            context_wamid: pick(rng, outbound).wamid.clone(),
        }
    } else if roll < 25 {
        InboundContent::Image {
            media_id: mint.unique(|| format!("1{}", random_string(rng, DIGITS, 15))),
            sha256: format!("{}=", random_string(rng, BASE64, 43)),
            caption: rng.random_bool(0.5).then(|| *pick(rng, IMAGE_CAPTIONS)),
        }
    } else {
        InboundContent::Text(pick(rng, CHAT_TEXTS).to_string())
    }
}

pub(super) fn plan_preferences(rng: &mut StdRng, users: &[UserPlan]) -> Vec<PreferencePlan> {
    // `user_preferences` items carry only `wa_id`, so only users with a phone qualify.
    let with_phone: Vec<(&String, i64)> = users
        .iter()
        .filter_map(|user| {
            let first_at = user.messages.first().map_or(0, |m| m.at);
            user.identity.phone.as_ref().map(|phone| (phone, first_at))
        })
        .collect();
    let chosen = sample_indices(rng, with_phone.len(), quota(with_phone.len(), 8) + 1);

    let mut preferences = Vec::new();
    for (nth, &i) in chosen.iter().enumerate() {
        let (phone, first_at) = with_phone[i];
        let stop_at = first_at + rng.random_range(HOUR..=2 * DAY);
        // The first chosen user only resumes (Meta's own example has no prior stop).
        if nth == 0 {
            preferences.push(PreferencePlan {
                phone: phone.clone(),
                at: stop_at,
                stop: false,
            });
            continue;
        }
        preferences.push(PreferencePlan {
            phone: phone.clone(),
            at: stop_at,
            stop: true,
        });
        if nth % 2 == 0 {
            preferences.push(PreferencePlan {
                phone: phone.clone(),
                at: stop_at + rng.random_range(HOUR..=DAY),
                stop: false,
            });
        }
    }
    preferences
}

// ---------------------------------------------------------------------------------------------
// Truth
// ---------------------------------------------------------------------------------------------

pub(super) fn ground_truth(
    outbound: &[OutboundPlan],
    users: &[UserPlan],
    preferences: &[PreferencePlan],
) -> GroundTruth {
    let outbound_truth = outbound
        .iter()
        .map(|plan| {
            let has = |kind: StatusKind| plan.ladder.iter().any(|step| step.kind == kind);
            let priced = plan.ladder.iter().any(|step| step.carries_pricing);
            let pricing = plan.pricing.as_ref().filter(|_| priced);
            let truth = OutboundTruth {
                sent: has(Sent),
                delivered: has(Delivered) || has(Read),
                read: has(Read),
                failed: plan.ladder.last().is_some_and(|step| step.kind == Failed),
                error_code: plan.failure.map(|(failure, _)| failure.code),
                paid: pricing.map(PricingFact::paid),
                pricing_category: pricing.map(|p| p.category().to_string()),
                pricing_model: pricing.map(|p| p.model().to_string()),
                biz_opaque_callback_data: plan.callback.map(str::to_string),
                status_count: plan.ladder.len(),
            };
            (plan.wamid.clone(), truth)
        })
        .collect();

    let mut consent_events = preferences.len();
    let mut inbound_wamids = BTreeSet::new();
    let mut user_truth = BTreeMap::new();
    for user in users {
        let keywords: Vec<ConsentKeyword> =
            user.messages.iter().filter_map(|m| m.keyword).collect();
        consent_events += keywords.len();
        inbound_wamids.extend(user.messages.iter().map(|m| m.wamid.clone()));
        let first_touch = user
            .messages
            .iter()
            .find_map(|m| m.referral.as_ref())
            .map(|referral| FirstTouch {
                source_id: referral.ad.source_id.to_string(),
                source_url: referral.source_url.clone(),
                ctwa_clid: referral.ctwa_clid.clone(),
                headline: referral.ad.headline.to_string(),
                utm_campaign: referral.utm.campaign.map(str::to_string),
                utm_source: referral.utm.source.map(str::to_string),
                utm_medium: referral.utm.medium.map(str::to_string),
                utm_content: referral.utm.content.map(str::to_string),
                utm_term: referral.utm.term.map(str::to_string),
            });
        user_truth.insert(
            user.identity.lead_key(),
            UserTruth {
                phone: user.identity.phone.clone(),
                user_id: user.identity.user_id.clone(),
                first_touch,
                inbound_count: user.messages.len(),
                opted_out_by_keyword: keywords.last() == Some(&ConsentKeyword::Stop),
            },
        );
    }

    GroundTruth {
        outbound: outbound_truth,
        inbound_wamids,
        users: user_truth,
        consent_events,
    }
}
