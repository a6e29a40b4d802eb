//! Tenancy filing: who may see what a message stands for (`shared::domain::access`). An
//! inbound message files its sender's lead under the message's WABA, and any message records
//! its business number's WABA.

use crate::handler::Aggregator;
use shared::domain::activity::{Activity, Direction};
use shared::ports::{
    IdentityStore, LeadActivity, LeadStore, LeadsError, PersonFactsStore, PersonHistory,
    RollupStore,
};
use std::collections::HashSet;
use std::sync::Mutex;

/// Entries kept in [`Filed`] before it starts over.
const FILED_CAPACITY: usize = 100_000;

/// Tenancy facts this instance already wrote (`lead|<id>|<waba>`, `phone|<id>|<waba>`): the
/// writes are idempotent, so this only saves repeating them on a warm instance.
#[derive(Default)]
pub(crate) struct Filed(Mutex<HashSet<String>>);

impl Filed {
    fn contains(&self, fact: &str) -> bool {
        let filed = self.0.lock().unwrap_or_else(|e| e.into_inner());
        filed.contains(fact)
    }

    fn remember(&self, fact: String) {
        let mut filed = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if filed.len() >= FILED_CAPACITY {
            filed.clear();
        }
        filed.insert(fact);
    }
}

impl<S, I, R, F, H> Aggregator<S, I, R, F, H>
where
    S: LeadStore + LeadActivity,
    I: IdentityStore,
    R: RollupStore,
    F: PersonFactsStore,
    H: PersonHistory,
{
    /// Files the message's tenancy facts: idempotent set and put writes, skipped when this
    /// instance already made them (remembered only once written).
    pub(crate) async fn file_tenancy(&self, a: &Activity) -> Result<(), LeadsError> {
        let Some(waba) = a.waba_id.as_deref() else {
            return Ok(());
        };
        if a.direction == Direction::Inbound {
            let fact = format!("lead|{}|{waba}", a.user_key);
            if !self.filed.contains(&fact) {
                self.store.record_lead_waba(&a.user_key, waba).await?;
                self.filed.remember(fact);
            }
        }
        if let Some(phone) = a.phone_number_id.as_deref() {
            let fact = format!("phone|{phone}|{waba}");
            if !self.filed.contains(&fact) {
                self.store.record_phone_waba(phone, waba).await?;
                self.filed.remember(fact);
            }
        }
        Ok(())
    }
}
