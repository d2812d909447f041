//! The digest core: pure functions from collected alerts and an as-of instant to what the
//! reports say. Nothing here reads a clock, a file or the network.
//!
//! The rules:
//! - each alert counts once (ids compared case-insensitively; the copy with the latest change
//!   wins, and on a tie the copy received last);
//! - test alerts are left out unless `include_test_alerts`;
//! - unresolved means any status but `resolved` (an unknown future status is no proof of
//!   resolution);
//! - the window is `[as_of − window_days × 24 h, as_of]`, closed at both ends, compared on
//!   `detectedDateTime`; unresolved alerts before it are counted as "older than the window",
//!   those after `as_of` as "after the as-of instant";
//! - an alert is overdue when it has been unresolved for more than 24 hours (Microsoft's
//!   response target), measured from `detectedDateTime` to `as_of`;
//! - order: severity (unknown, high, medium, low, informational), then oldest first, then id;
//! - an alert is new when the previous digest did not list it; with no previous digest, when it
//!   was detected in the 24 hours before `as_of`;
//! - the daily chart counts every alert detected on each of the last 14 days in the configured
//!   time zone, resolved or not, test alerts only when they are included.

pub mod alert_type;
pub mod daily;
pub mod group;
pub mod history;
pub mod select;

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

pub use daily::Day;
pub use group::{CustomerGroup, PartnerGroup, Reach, SubscriptionGroup, Tally, TypeStats};
pub use history::{History, Left, Outcome, Previous, Remembered, ResolvedHere};
pub use select::{Bucket, Selection, Window};

use crate::source::Alert;

/// Microsoft asks partners to respond to an alert within 24 hours.
pub const RESPONSE_TARGET: TimeDelta = TimeDelta::hours(24);

/// What decides which alerts a digest holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub window_days: u32,
    pub include_test_alerts: bool,
    /// The zone whose days the daily chart counts.
    pub timezone: Tz,
}

/// Who stands between the partner and the customer: an indirect reseller, or nobody.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Partner {
    /// The partner's own direct customers.
    Direct,
    /// An indirect reseller, by lower-cased tenant id.
    Reseller(String),
}

impl Partner {
    /// A stable key: the reseller tenant id, or the empty string for direct customers.
    pub fn key(&self) -> &str {
        match self {
            Self::Direct => "",
            Self::Reseller(id) => id,
        }
    }
}

/// An alert placed in the digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestAlert {
    pub alert: Alert,
    pub partner: Partner,
    /// Lower-cased customer tenant id.
    pub customer: Option<String>,
    /// Lower-cased subscription id.
    pub subscription: Option<String>,
    pub type_key: String,
    /// Time from detection to the as-of instant.
    pub age: TimeDelta,
    pub overdue: bool,
    /// Not listed by the previous digest (see the module's rules).
    pub is_new: bool,
}

/// Everything the reports say, computed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub as_of: DateTime<Utc>,
    pub window: Window,
    pub selection: Selection,
    /// The unresolved alerts in the window, in digest order.
    pub alerts: Vec<DigestAlert>,
    pub partners: Vec<PartnerGroup>,
    pub types: Vec<TypeStats>,
    pub totals: Tally,
    pub reach: Reach,
    /// Alerts detected per day over the last [`daily::DAYS`] days, oldest first.
    pub daily: Vec<Day>,
    /// The comparison with the previous digest; `None` for the first one.
    pub history: Option<History>,
}

impl Digest {
    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }
}

/// Builds the first digest for `as_of`: no previous one to compare with.
pub fn build(alerts: Vec<Alert>, as_of: DateTime<Utc>, rules: Rules) -> Digest {
    build_since(alerts, as_of, rules, None)
}

/// Builds the digest for `as_of`, compared with the previous one when there is one.
pub fn build_since(
    alerts: Vec<Alert>,
    as_of: DateTime<Utc>,
    rules: Rules,
    previous: Option<&Previous>,
) -> Digest {
    let window = Window::ending_at(as_of, rules.window_days);
    let mut days = daily::Counter::new(as_of, rules.timezone);
    let mut tracker = previous.map(history::Tracker::new);
    let (selected, selection) = select::select(
        alerts,
        window,
        rules.include_test_alerts,
        |alert, bucket| {
            if bucket != Bucket::Test {
                days.add(alert);
            }
            if let Some(tracker) = tracker.as_mut() {
                match bucket {
                    Bucket::InWindow => {}
                    Bucket::Test => tracker.not_listed(alert, || Outcome::NowTest),
                    Bucket::Resolved => tracker.not_listed(alert, || Outcome::Resolved {
                        reason: alert.resolved_reason.clone(),
                        by: alert.resolved_by.clone(),
                        on: alert.resolved_on,
                    }),
                    Bucket::OlderThanWindow => tracker.not_listed(alert, || Outcome::AgedOut),
                    Bucket::AfterAsOf => tracker.not_listed(alert, || Outcome::NotReported),
                }
            }
        },
    );

    let mut alerts: Vec<DigestAlert> = selected
        .into_iter()
        .map(|alert| {
            let is_new = tracker.as_ref().map_or_else(
                || as_of - alert.detected <= RESPONSE_TARGET,
                |t| !t.was_listed(&alert.id.to_lowercase()),
            );
            place(alert, as_of, is_new)
        })
        .collect();
    alerts.sort_by(|a, b| {
        a.alert
            .severity
            .rank()
            .cmp(&b.alert.severity.rank())
            .then(a.alert.detected.cmp(&b.alert.detected))
            .then_with(|| a.alert.id.to_lowercase().cmp(&b.alert.id.to_lowercase()))
    });

    let mut totals = Tally::default();
    for alert in &alerts {
        totals.add(alert);
    }
    let (partners, types, reach) = group::group(&alerts);
    let history = tracker.map(|t| {
        let listed: HashSet<String> = alerts.iter().map(|a| a.alert.id.to_lowercase()).collect();
        t.finish(&listed)
    });
    Digest {
        as_of,
        window,
        selection,
        alerts,
        partners,
        types,
        totals,
        reach,
        daily: days.finish(),
        history,
    }
}

fn place(alert: Alert, as_of: DateTime<Utc>, is_new: bool) -> DigestAlert {
    let lower = |id: &Option<String>| id.as_deref().map(str::to_ascii_lowercase);
    let age = as_of - alert.detected;
    DigestAlert {
        partner: lower(&alert.reseller_tenant_id).map_or(Partner::Direct, Partner::Reseller),
        customer: lower(&alert.customer_tenant_id),
        subscription: lower(&alert.subscription_id),
        type_key: alert_type::key(&alert.alert_type),
        overdue: age > RESPONSE_TARGET,
        is_new,
        age,
        alert,
    }
}

#[cfg(test)]
mod tests;
