//! Which alerts the digest is about: each alert once, unresolved, not a test, in the window.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};

use crate::source::Alert;

/// How the collected alerts were sorted out; every alert read lands in exactly one bucket
/// after de-duplication.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Selection {
    /// Records parsed (before de-duplication).
    pub read: usize,
    /// Copies dropped because the same id arrived more than once.
    pub duplicates: usize,
    /// Test alerts left out (`include_test_alerts = false`).
    pub test: usize,
    /// Alerts whose status is `resolved`.
    pub resolved: usize,
    /// Unresolved alerts detected inside the window: the digest's subject.
    pub in_window: usize,
    /// Unresolved alerts detected before the window starts.
    pub older_than_window: usize,
    /// Unresolved alerts detected after the as-of instant (clock skew, or an `--as-of` in the past).
    pub after_as_of: usize,
}

/// The window `[as_of − window_days × 24 h, as_of]`, closed at both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    pub fn ending_at(as_of: DateTime<Utc>, days: u32) -> Self {
        Self {
            start: as_of - TimeDelta::days(i64::from(days)),
            end: as_of,
        }
    }
}

/// Keeps one copy per id (compared case-insensitively): the copy with the latest change wins,
/// and on a tie the one received last. The order of first appearance is kept.
pub fn dedupe(alerts: Vec<Alert>) -> (Vec<Alert>, usize) {
    let mut position: HashMap<String, usize> = HashMap::with_capacity(alerts.len());
    let mut kept: Vec<Alert> = Vec::with_capacity(alerts.len());
    let mut duplicates = 0;
    for alert in alerts {
        let key = alert.id.to_lowercase();
        if let Some(&i) = position.get(&key) {
            duplicates += 1;
            if alert.last_change() >= kept[i].last_change() {
                kept[i] = alert;
            }
        } else {
            position.insert(key, kept.len());
            kept.push(alert);
        }
    }
    (kept, duplicates)
}

/// Where an alert was sorted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Test,
    Resolved,
    OlderThanWindow,
    AfterAsOf,
    InWindow,
}

/// Sorts out de-duplicated alerts; returns those in the window and the tally. `observe` sees
/// every de-duplicated alert with its bucket.
pub fn select(
    alerts: Vec<Alert>,
    window: Window,
    include_test_alerts: bool,
    mut observe: impl FnMut(&Alert, Bucket),
) -> (Vec<Alert>, Selection) {
    let read = alerts.len();
    let (alerts, duplicates) = dedupe(alerts);
    let mut tally = Selection {
        read,
        duplicates,
        ..Selection::default()
    };
    let mut selected = Vec::with_capacity(alerts.len());
    for alert in alerts {
        let bucket = if alert.is_test && !include_test_alerts {
            tally.test += 1;
            Bucket::Test
        } else if !alert.status.is_unresolved() {
            tally.resolved += 1;
            Bucket::Resolved
        } else if alert.detected < window.start {
            tally.older_than_window += 1;
            Bucket::OlderThanWindow
        } else if alert.detected > window.end {
            tally.after_as_of += 1;
            Bucket::AfterAsOf
        } else {
            tally.in_window += 1;
            Bucket::InWindow
        };
        observe(&alert, bucket);
        if bucket == Bucket::InWindow {
            selected.push(alert);
        }
    }
    (selected, tally)
}
