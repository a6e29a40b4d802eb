//! The status ladder as stored: one first-seen time per state. Everything a report needs
//! (delivered, read, failed, current state) is derived from which times exist, so the
//! result does not depend on the order statuses arrived in.

use super::webhook::StatusKind;

/// First-seen Meta timestamps of each state of one outbound message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageTimes {
    pub sent_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub read_at: Option<i64>,
    pub played_at: Option<i64>,
    pub failed_at: Option<i64>,
}

impl MessageTimes {
    pub fn get(&self, kind: StatusKind) -> Option<i64> {
        match kind {
            StatusKind::Sent => self.sent_at,
            StatusKind::Delivered => self.delivered_at,
            StatusKind::Read => self.read_at,
            StatusKind::Played => self.played_at,
            StatusKind::Failed => self.failed_at,
        }
    }

    /// Any status at all: the message was sent.
    pub fn sent(&self) -> bool {
        StatusKind::ALL.iter().any(|k| self.get(*k).is_some())
    }
    /// Meta skips `delivered` when a message is read at once: read implies it (and so does
    /// `played`, the first play of a voice message).
    pub fn delivered(&self) -> bool {
        self.delivered_at.is_some() || self.read_at.is_some() || self.played_at.is_some()
    }
    /// PRODUCT's definition: those with a `read` status.
    pub fn read(&self) -> bool {
        self.read_at.is_some()
    }
    /// The last status (by Meta's timestamp) is `failed`. On a tie the failure wins: Meta
    /// reports a failure only when delivery did not happen.
    pub fn failed(&self) -> bool {
        let Some(failed_at) = self.failed_at else {
            return false;
        };
        [self.delivered_at, self.read_at, self.played_at]
            .iter()
            .flatten()
            .all(|t| *t <= failed_at)
    }
    /// Current ladder position.
    pub fn state(&self) -> Option<StatusKind> {
        if self.failed() {
            Some(StatusKind::Failed)
        } else if self.played_at.is_some() {
            Some(StatusKind::Played)
        } else if self.read_at.is_some() {
            Some(StatusKind::Read)
        } else if self.delivered() {
            Some(StatusKind::Delivered)
        } else if self.sent() {
            Some(StatusKind::Sent)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(pairs: &[(StatusKind, i64)]) -> MessageTimes {
        let mut t = MessageTimes::default();
        for (k, at) in pairs {
            let slot = match k {
                StatusKind::Sent => &mut t.sent_at,
                StatusKind::Delivered => &mut t.delivered_at,
                StatusKind::Read => &mut t.read_at,
                StatusKind::Played => &mut t.played_at,
                StatusKind::Failed => &mut t.failed_at,
            };
            slot.get_or_insert(*at);
        }
        t
    }

    #[test]
    fn read_without_delivered_counts_as_delivered() {
        let t = times(&[(StatusKind::Read, 5)]);
        assert!(t.sent() && t.delivered() && t.read());
        assert_eq!(t.state(), Some(StatusKind::Read));
    }

    #[test]
    fn failure_is_the_state_only_when_it_is_last() {
        let t = times(&[
            (StatusKind::Sent, 1),
            (StatusKind::Delivered, 2),
            (StatusKind::Failed, 3),
        ]);
        assert!(t.failed());
        assert_eq!(t.state(), Some(StatusKind::Failed));
        let t = times(&[
            (StatusKind::Sent, 1),
            (StatusKind::Failed, 2),
            (StatusKind::Delivered, 3),
        ]);
        assert!(!t.failed());
        assert_eq!(t.state(), Some(StatusKind::Delivered));
    }

    #[test]
    fn any_arrival_order_gives_the_same_state() {
        let events = [
            (StatusKind::Sent, 1),
            (StatusKind::Delivered, 2),
            (StatusKind::Read, 3),
        ];
        let mut orders = vec![events.to_vec()];
        orders.push(vec![events[2], events[0], events[1]]);
        orders.push(vec![events[1], events[2], events[0]]);
        let states: Vec<_> = orders.iter().map(|o| times(o).state()).collect();
        assert!(states.iter().all(|s| *s == Some(StatusKind::Read)));
    }
}
