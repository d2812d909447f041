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
//!   `detectedDateTime`; unresolved alerts before it are "older than the window" (kept, in
//!   digest order, for `older.csv`: Microsoft asks partners to resolve them too), those after
//!   `as_of` are counted as "after the as-of instant";
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
mod order;
pub mod select;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

pub use daily::Day;
pub use group::{CustomerGroup, PartnerGroup, Reach, SubscriptionGroup, Tally, TypeStats};
pub use history::{History, Left, Outcome, Previous, Remembered, ResolvedHere};
pub use select::{Bucket, Selection, Window};

use crate::alert::Alert;
use crate::alert::{Interner, Text};

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
    Reseller(Text),
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
    pub customer: Option<Text>,
    /// Lower-cased subscription id.
    pub subscription: Option<Text>,
    pub type_key: Text,
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
    /// The unresolved alerts detected before the window, in digest order (`older.csv`).
    pub older: Vec<DigestAlert>,
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
    let mut intake = Intake::new(as_of, rules, previous);
    for alert in alerts {
        intake.add(alert);
    }
    intake.finish()
}

/// Builds a digest one alert at a time, as they are collected: each alert is sorted out on
/// arrival, so only the alerts the digest lists (in the window, or unresolved before it) are
/// kept. Of the others it keeps what the
/// rules need if a later copy of the same alert turns up: a 16-byte key of the id, the copy's
/// latest change and where it was counted. The result is the same as [`build_since`] on all
/// the alerts at once, in any order of arrival but that of copies of one alert.
#[derive(Debug)]
pub struct Intake<'p> {
    as_of: DateTime<Utc>,
    window: Window,
    rules: Rules,
    hasher: select::IdHasher,
    seen: select::IdMap<Seen>,
    kept: Vec<DigestAlert>,
    /// Positions in `kept` whose alert a later copy replaced with one the digest does not list.
    dropped: HashSet<u32>,
    /// The unresolved alerts before the window, and the positions a later copy replaced.
    older: Vec<DigestAlert>,
    dropped_older: HashSet<u32>,
    selection: Selection,
    days: daily::Counter,
    tracker: Option<history::Tracker<'p>>,
    /// Lower-cased ids and type keys, shared.
    keys: Interner,
    type_keys: HashMap<Text, Text>,
}

/// What [`Intake`] remembers of the copy of an alert that counts.
#[derive(Debug, Clone, Copy)]
struct Seen {
    last_change: DateTime<Utc>,
    bucket: Bucket,
    day: Option<(u8, u8)>,
    /// Position in `kept` (an alert in the window) or `older` (one before it).
    kept: u32,
}

impl<'p> Intake<'p> {
    pub fn new(as_of: DateTime<Utc>, rules: Rules, previous: Option<&'p Previous>) -> Self {
        Self {
            as_of,
            window: Window::ending_at(as_of, rules.window_days),
            rules,
            hasher: select::IdHasher::default(),
            seen: select::IdMap::default(),
            kept: Vec::new(),
            dropped: HashSet::new(),
            older: Vec::new(),
            dropped_older: HashSet::new(),
            selection: Selection::default(),
            days: daily::Counter::new(as_of, rules.timezone),
            tracker: previous.map(history::Tracker::new),
            keys: Interner::default(),
            type_keys: HashMap::new(),
        }
    }

    /// Where `alert` goes, by itself (a later copy of it may still replace it).
    pub fn bucket(&self, alert: &Alert) -> Bucket {
        Selection::bucket(alert, self.window, self.rules.include_test_alerts)
    }

    /// Sorts out one more alert.
    pub fn add(&mut self, alert: Alert) {
        self.selection.read += 1;
        let key = self.hasher.key(&alert.id);
        let last_change = alert.last_change();
        let before = self.seen.get(&key).copied();
        if let Some(before) = before {
            self.selection.duplicates += 1;
            if last_change < before.last_change {
                return;
            }
            self.selection.count(before.bucket, false);
            if let Some(day) = before.day {
                self.days.count(day, false);
            }
        }
        let bucket = self.bucket(&alert);
        self.selection.count(bucket, true);
        let day = (bucket != Bucket::Test)
            .then(|| self.days.place(&alert))
            .flatten();
        if let Some(day) = day {
            self.days.count(day, true);
        }
        let id_lower = select::lower(&alert.id);
        if let Some(tracker) = self.tracker.as_mut() {
            match bucket {
                Bucket::InWindow => {}
                Bucket::Test => tracker.not_listed(&id_lower, || Outcome::NowTest),
                Bucket::Resolved => tracker.not_listed(&id_lower, || Outcome::Resolved {
                    reason: alert.resolved_reason.clone(),
                    by: alert.resolved_by.as_deref().map(str::to_owned),
                    on: alert.resolved_on,
                }),
                Bucket::OlderThanWindow => tracker.not_listed(&id_lower, || Outcome::AgedOut),
                Bucket::AfterAsOf => tracker.not_listed(&id_lower, || Outcome::NotReported),
            }
        }
        // Where the copy before this one was kept, if it was: it is replaced in place, or
        // dropped when this copy goes elsewhere.
        let before_kept = before.and_then(|b| match b.bucket {
            Bucket::InWindow | Bucket::OlderThanWindow => Some((b.bucket, b.kept)),
            _ => None,
        });
        if let Some((was, i)) = before_kept
            && was != bucket
        {
            match was {
                Bucket::InWindow => self.dropped.insert(i),
                _ => self.dropped_older.insert(i),
            };
        }
        let same_place = before_kept
            .filter(|(was, _)| *was == bucket)
            .map(|(_, i)| i);
        let kept = match bucket {
            Bucket::InWindow | Bucket::OlderThanWindow => {
                let in_window = bucket == Bucket::InWindow;
                let is_new = in_window
                    && self.tracker.as_ref().map_or_else(
                        || self.as_of - alert.detected <= RESPONSE_TARGET,
                        |t| !t.was_listed(&id_lower),
                    );
                let placed = place(
                    alert,
                    self.as_of,
                    is_new,
                    &mut self.keys,
                    &mut self.type_keys,
                );
                let (list, dropped) = if in_window {
                    (&mut self.kept, &mut self.dropped)
                } else {
                    (&mut self.older, &mut self.dropped_older)
                };
                if let Some(i) = same_place {
                    list[i as usize] = placed;
                    dropped.remove(&i);
                    i
                } else {
                    list.push(placed);
                    u32::try_from(list.len() - 1).unwrap_or(u32::MAX)
                }
            }
            _ => u32::MAX,
        };
        self.seen.insert(
            key,
            Seen {
                last_change,
                bucket,
                day,
                kept,
            },
        );
    }

    /// The digest of every alert added.
    pub fn finish(self) -> Digest {
        let Self {
            as_of,
            window,
            selection,
            days,
            tracker,
            mut kept,
            dropped,
            mut older,
            dropped_older,
            seen,
            ..
        } = self;
        drop(seen);
        for (list, dropped) in [(&mut kept, &dropped), (&mut older, &dropped_older)] {
            if !dropped.is_empty() {
                let mut position = 0;
                list.retain(|_| {
                    let keep = !dropped.contains(&position);
                    position += 1;
                    keep
                });
            }
        }
        let mut alerts = kept;
        // Ids are unique by now, so the order is total and an unstable sort (in place) gives
        // the same order as a stable one. Each alert is moved once, not at every pass.
        order::sort_in_place_by(&mut alerts, digest_order);
        order::sort_in_place_by(&mut older, digest_order);

        let mut totals = Tally::default();
        for alert in &alerts {
            totals.add(alert);
        }
        let (partners, types, reach) = group::group(&alerts);
        let history = tracker.map(|t| {
            let lowered: Vec<std::borrow::Cow<'_, str>> =
                alerts.iter().map(|a| select::lower(&a.alert.id)).collect();
            let listed: HashSet<&str> = lowered.iter().map(AsRef::as_ref).collect();
            t.finish(&listed)
        });
        Digest {
            as_of,
            window,
            selection,
            alerts,
            older,
            partners,
            types,
            totals,
            reach,
            daily: days.finish(),
            history,
        }
    }
}

fn place(
    alert: Alert,
    as_of: DateTime<Utc>,
    is_new: bool,
    keys: &mut Interner,
    type_keys: &mut HashMap<Text, Text>,
) -> DigestAlert {
    let mut lower = |id: &Option<Text>| {
        id.as_deref().map(|id| {
            if id.bytes().any(|b| b.is_ascii_uppercase()) {
                keys.text(&id.to_ascii_lowercase())
            } else {
                keys.text(id)
            }
        })
    };
    let partner = lower(&alert.reseller_tenant_id).map_or(Partner::Direct, Partner::Reseller);
    let customer = lower(&alert.customer_tenant_id);
    let subscription = lower(&alert.subscription_id);
    let type_key = type_keys
        .entry(alert.alert_type.clone())
        .or_insert_with(|| keys.text(&alert_type::key(&alert.alert_type)))
        .clone();
    let age = as_of - alert.detected;
    DigestAlert {
        partner,
        customer,
        subscription,
        type_key,
        overdue: age > RESPONSE_TARGET,
        is_new,
        age,
        alert,
    }
}

/// Digest order: most severe first, then oldest, then by id.
fn digest_order(a: &DigestAlert, b: &DigestAlert) -> std::cmp::Ordering {
    a.alert
        .severity
        .rank()
        .cmp(&b.alert.severity.rank())
        .then(a.alert.detected.cmp(&b.alert.detected))
        .then_with(|| select::cmp_lower(&a.alert.id, &b.alert.id))
}

#[cfg(test)]
mod tests;
