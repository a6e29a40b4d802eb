//! The report query: period (local days `from..=to` in an IANA zone), grouping and filters,
//! and the rules mapping a timestamp or a day to its period label.

use chrono::{DateTime, Datelike, Days, NaiveDate, Timelike};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// How rows are grouped in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    /// `YYYY-MM-DD`
    #[default]
    Day,
    /// The week's Monday, `YYYY-MM-DD`.
    Week,
    /// `YYYY-MM`
    Month,
    /// `all`
    None,
    /// Local hour `YYYY-MM-DDTHH`; only the volume family splits by hour, the others treat
    /// it like [`GroupBy::Day`].
    Hour,
}

impl GroupBy {
    /// Parses the API spelling (`day`, `week`, `month`, `none`, `hour`).
    pub fn parse(s: &str) -> Option<GroupBy> {
        match s {
            "day" => Some(GroupBy::Day),
            "week" => Some(GroupBy::Week),
            "month" => Some(GroupBy::Month),
            "none" => Some(GroupBy::None),
            "hour" => Some(GroupBy::Hour),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Day => "day",
            GroupBy::Week => "week",
            GroupBy::Month => "month",
            GroupBy::None => "none",
            GroupBy::Hour => "hour",
        }
    }
}

/// A report request, already validated by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub from: NaiveDate,
    /// Inclusive.
    pub to: NaiveDate,
    pub tz: Tz,
    pub group_by: GroupBy,
    /// When set, messages, consent events and leads of other business numbers are left out.
    pub phone_number_id: Option<String>,
    /// Response-time SLA in seconds (default [`Query::DEFAULT_SLA_SECONDS`]).
    pub sla_seconds: i64,
}

impl Query {
    pub const DEFAULT_SLA_SECONDS: i64 = 900;

    /// Days `from..=to` in `tz`, grouped by day, no filter, default SLA.
    pub fn new(from: NaiveDate, to: NaiveDate, tz: Tz) -> Query {
        Query {
            from,
            to,
            tz,
            group_by: GroupBy::Day,
            phone_number_id: None,
            sla_seconds: Self::DEFAULT_SLA_SECONDS,
        }
    }

    /// The local calendar day of an epoch-seconds timestamp (`None` when out of range).
    pub fn local_day(&self, ts: i64) -> Option<NaiveDate> {
        local_day(ts, self.tz)
    }

    /// The day lies in `from..=to`.
    pub fn in_period(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }

    /// The period label of a day in the period ([`GroupBy::Hour`] is treated as a day).
    pub fn day_label(&self, day: NaiveDate) -> String {
        match self.group_by {
            GroupBy::Day | GroupBy::Hour => day.format("%Y-%m-%d").to_string(),
            GroupBy::Week => {
                let back = u64::from(day.weekday().num_days_from_monday());
                day.checked_sub_days(Days::new(back))
                    .unwrap_or(day)
                    .format("%Y-%m-%d")
                    .to_string()
            }
            GroupBy::Month => day.format("%Y-%m").to_string(),
            GroupBy::None => "all".to_string(),
        }
    }

    /// The period label of a timestamp whose local day is in the period, else `None`
    /// ([`GroupBy::Hour`] is treated as a day).
    pub fn period_of(&self, ts: i64) -> Option<String> {
        let day = self.local_day(ts)?;
        self.in_period(day).then(|| self.day_label(day))
    }

    /// The local hour label `YYYY-MM-DDTHH` of a timestamp whose local day is in the period.
    pub fn hour_of(&self, ts: i64) -> Option<String> {
        let local = DateTime::from_timestamp(ts, 0)?.with_timezone(&self.tz);
        let day = local.date_naive();
        self.in_period(day)
            .then(|| format!("{}T{:02}", day.format("%Y-%m-%d"), local.hour()))
    }

    /// The filter admits this business number.
    pub fn phone_matches(&self, phone_number_id: &str) -> bool {
        self.phone_number_id
            .as_deref()
            .is_none_or(|p| p == phone_number_id)
    }

    /// Like [`Query::phone_matches`] for an optional number (a missing one never matches a
    /// set filter).
    pub fn phone_matches_opt(&self, phone_number_id: Option<&str>) -> bool {
        match (&self.phone_number_id, phone_number_id) {
            (None, _) => true,
            (Some(want), Some(have)) => want == have,
            (Some(_), None) => false,
        }
    }

    /// The local days of the period, in order (empty when `from > to`).
    pub fn days(&self) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let mut d = self.from;
        while d <= self.to {
            out.push(d);
            match d.succ_opt() {
                Some(n) => d = n,
                None => break,
            }
        }
        out
    }
}

/// The local calendar day of an epoch-seconds timestamp in `tz`.
pub fn local_day(ts: i64, tz: Tz) -> Option<NaiveDate> {
    Some(
        DateTime::from_timestamp(ts, 0)?
            .with_timezone(&tz)
            .date_naive(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    #[test]
    fn labels_per_grouping() {
        let mut q = Query::new(d("2026-11-01"), d("2026-11-30"), Tz::UTC);
        assert_eq!(q.day_label(d("2026-11-05")), "2026-11-05");
        q.group_by = GroupBy::Week;
        // 2026-11-05 is a Thursday; its Monday is 2026-11-02. 2026-11-01 is a Sunday.
        assert_eq!(q.day_label(d("2026-11-05")), "2026-11-02");
        assert_eq!(q.day_label(d("2026-11-01")), "2026-10-26");
        assert_eq!(q.day_label(d("2026-11-02")), "2026-11-02");
        q.group_by = GroupBy::Month;
        assert_eq!(q.day_label(d("2026-11-05")), "2026-11");
        q.group_by = GroupBy::None;
        assert_eq!(q.day_label(d("2026-11-05")), "all");
        q.group_by = GroupBy::Hour;
        assert_eq!(q.day_label(d("2026-11-05")), "2026-11-05");
        // 2026-11-05T10:30:00Z in UTC.
        assert_eq!(q.hour_of(1_793_874_600).as_deref(), Some("2026-11-05T10"));
    }

    #[test]
    fn local_days_in_odd_zones() {
        // 2026-11-20T18:20:00Z: Kolkata (+5:30) 23:50 same day, Kathmandu (+5:45) 00:05 next day.
        let ts = 1_795_198_800;
        assert_eq!(
            local_day(ts, chrono_tz::Asia::Kolkata),
            Some(d("2026-11-20"))
        );
        assert_eq!(
            local_day(ts, chrono_tz::Asia::Kathmandu),
            Some(d("2026-11-21"))
        );
        // New York: 2026-11-01T04:30Z is 00:30 EDT (UTC-4) on Nov 1; 2026-11-02T04:30Z is
        // 23:30 EST (UTC-5) on Nov 1.
        let ny = chrono_tz::America::New_York;
        assert_eq!(local_day(1_793_507_400, ny), Some(d("2026-11-01")));
        assert_eq!(local_day(1_793_593_800, ny), Some(d("2026-11-01")));
        assert_eq!(local_day(1_793_503_800, ny), Some(d("2026-10-31")));
        assert_eq!(local_day(i64::MAX, ny), None);
    }

    #[test]
    fn parse_group_by_and_days() {
        assert_eq!(GroupBy::parse("week"), Some(GroupBy::Week));
        assert_eq!(GroupBy::parse("fortnight"), None);
        let q = Query::new(d("2026-11-02"), d("2026-11-04"), Tz::UTC);
        assert_eq!(q.days().len(), 3);
        let empty = Query::new(d("2026-11-04"), d("2026-11-02"), Tz::UTC);
        assert!(empty.days().is_empty());
    }
}
