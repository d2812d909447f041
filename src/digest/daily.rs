//! New alerts per day: how many alerts were detected on each of the last days, by severity, in
//! the configured time zone. Resolved alerts count too: the chart shows what arrived, not what
//! is left.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::alert::Alert;
use crate::alert::Severity;

/// How many days the chart covers, ending with the as-of instant's day.
pub const DAYS: usize = 14;

/// Alerts detected on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub date: NaiveDate,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub informational: usize,
    pub other: usize,
}

impl Day {
    pub fn total(&self) -> usize {
        self.high + self.medium + self.low + self.informational + self.other
    }
}

#[derive(Debug)]
pub(super) struct Counter {
    first: NaiveDate,
    days: Vec<Day>,
    tz: Tz,
    as_of: DateTime<Utc>,
}

impl Counter {
    pub fn new(as_of: DateTime<Utc>, tz: Tz) -> Self {
        let last = as_of.with_timezone(&tz).date_naive();
        let first = last - TimeDelta::days(i64::try_from(DAYS).unwrap_or(14) - 1);
        let days = first
            .iter_days()
            .take(DAYS)
            .map(|date| Day {
                date,
                high: 0,
                medium: 0,
                low: 0,
                informational: 0,
                other: 0,
            })
            .collect();
        Self {
            first,
            days,
            tz,
            as_of,
        }
    }

    /// Where an alert counts: its day (index) and severity (0 high … 4 other), if it was
    /// detected on one of the days, up to the as-of instant.
    pub fn place(&self, alert: &Alert) -> Option<(u8, u8)> {
        if alert.detected > self.as_of {
            return None;
        }
        let date = alert.detected.with_timezone(&self.tz).date_naive();
        let day = usize::try_from((date - self.first).num_days()).ok()?;
        if day >= self.days.len() {
            return None;
        }
        let severity = match alert.severity {
            Severity::High => 0,
            Severity::Medium => 1,
            Severity::Low => 2,
            Severity::Informational => 3,
            Severity::Unknown(_) => 4,
        };
        Some((u8::try_from(day).ok()?, severity))
    }

    /// Counts (`up`) or uncounts an alert at `place`.
    pub fn count(&mut self, (day, severity): (u8, u8), up: bool) {
        let day = &mut self.days[usize::from(day)];
        let counter = match severity {
            0 => &mut day.high,
            1 => &mut day.medium,
            2 => &mut day.low,
            3 => &mut day.informational,
            _ => &mut day.other,
        };
        if up {
            *counter += 1;
        } else {
            *counter -= 1;
        }
    }

    pub fn finish(self) -> Vec<Day> {
        self.days
    }
}
