//! Ground truth about generated alerts, counted independently of the crate's digest code, for
//! the assertions of tests and the benchmark's `--check`.

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use crate::Options;
use crate::generator::scale::{IsTest, World};

/// Ground truth about a set of alerts, for assertions.
///
/// Each alert lands in at most one of `test`, `resolved`, `unresolved_in_window`,
/// `unresolved_older`, checked in that order:
/// - `test`: `isTest` (`true` or `"true"` in any case) and not `include_test`;
/// - `resolved`: otherwise, `status == "resolved"`;
/// - `unresolved_in_window`: otherwise, `detectedDateTime` within
///   `[as_of − window_days × 24 h, as_of]`, both ends included;
/// - `unresolved_older`: otherwise, detected before the window.
///
/// Unresolved alerts detected after `as_of` are in none of them (only in `total`); with `as_of`
/// at or after the generator's `reference` there are none. `customers_in_window` counts the
/// distinct `customerTenantId`s (lower-cased) of the `unresolved_in_window` alerts,
/// `subscriptions_in_window` their distinct `subscriptionId`s, and `partners_in_window` their
/// distinct `valueAddedResellerTenantId`s, with "no reseller" (direct customers) counting as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Truth {
    pub total: usize,
    pub resolved: usize,
    pub test: usize,
    pub unresolved_in_window: usize,
    pub unresolved_older: usize,
    pub customers_in_window: usize,
    pub subscriptions_in_window: usize,
    pub partners_in_window: usize,
}

/// Counts [`Truth`] over `alerts` (see there for the rules).
pub fn truth(
    alerts: &[Value],
    as_of: DateTime<Utc>,
    window_days: i64,
    include_test: bool,
) -> Truth {
    let mut tally = Tally::new(as_of, window_days, include_test);
    for alert in alerts {
        tally.add(alert);
    }
    tally.finish()
}

/// [`truth`] of the alerts a [`crate::FakeGraph`] started with `options` serves, generated one at a time
/// so that a million alerts need no memory.
pub fn truth_of(
    options: &Options,
    as_of: DateTime<Utc>,
    window_days: i64,
    include_test: bool,
) -> Truth {
    let world = World::new(options.alerts, options.seed, options.reference);
    let mut tally = Tally::new(as_of, window_days, include_test);
    for i in 0..options.alerts {
        let alert = world.alert(i);
        let is_test = match alert.is_test {
            IsTest::Bool(b) => b,
            IsTest::Text(s) => s.eq_ignore_ascii_case("true"),
        };
        tally.count(
            is_test,
            alert.status,
            &alert.detected_date_time,
            [
                alert.customer_tenant_id,
                alert.subscription_id,
                alert.value_added_reseller_tenant_id.unwrap_or_default(),
            ],
        );
    }
    tally.finish()
}

struct Tally {
    truth: Truth,
    /// Customers, subscriptions and partners (resellers, "" for direct) in the window.
    reach: [HashSet<String>; 3],
    start: DateTime<Utc>,
    as_of: DateTime<Utc>,
    include_test: bool,
}

impl Tally {
    fn new(as_of: DateTime<Utc>, window_days: i64, include_test: bool) -> Self {
        Self {
            truth: Truth::default(),
            reach: Default::default(),
            start: as_of - TimeDelta::hours(24 * window_days),
            as_of,
            include_test,
        }
    }

    fn add(&mut self, alert: &Value) {
        let is_test = match &alert["isTest"] {
            Value::Bool(b) => *b,
            Value::String(s) => s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        self.count(
            is_test,
            alert["status"].as_str().unwrap_or_default(),
            alert["detectedDateTime"].as_str().unwrap_or_default(),
            [
                alert["customerTenantId"].as_str().unwrap_or_default(),
                alert["subscriptionId"].as_str().unwrap_or_default(),
                alert["valueAddedResellerTenantId"]
                    .as_str()
                    .unwrap_or_default(),
            ],
        );
    }

    /// `ids`: customer, subscription and reseller tenant id ("" when absent).
    fn count(&mut self, is_test: bool, status: &str, detected: &str, ids: [&str; 3]) {
        self.truth.total += 1;
        if is_test && !self.include_test {
            self.truth.test += 1;
        } else if status == "resolved" {
            self.truth.resolved += 1;
        } else {
            let detected = DateTime::parse_from_rfc3339(detected)
                .expect("detectedDateTime is an RFC 3339 instant")
                .with_timezone(&Utc);
            if detected > self.as_of {
                // after as_of: in no counter
            } else if detected >= self.start {
                self.truth.unresolved_in_window += 1;
                for (set, id) in self.reach.iter_mut().zip(ids) {
                    set.insert(id.to_ascii_lowercase());
                }
            } else {
                self.truth.unresolved_older += 1;
            }
        }
    }

    fn finish(mut self) -> Truth {
        let [customers, subscriptions, partners] = self.reach.map(|set| set.len());
        self.truth.customers_in_window = customers;
        self.truth.subscriptions_in_window = subscriptions;
        self.truth.partners_in_window = partners;
        self.truth
    }
}

#[cfg(test)]
mod self_tests {
    use std::collections::HashSet;

    use super::*;
    use crate::generate;

    #[test]
    fn generator_is_deterministic_and_truthful() {
        let reference = Options::default().reference;
        let alerts = generate(2000, 42, reference);
        assert_eq!(alerts, generate(2000, 42, reference));
        assert_ne!(alerts, generate(2000, 43, reference));

        let ids: HashSet<&str> = alerts.iter().map(|a| a["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 2000);
        assert!(
            alerts
                .iter()
                .any(|a| a["detectedDateTime"].as_str().unwrap().len() == 28)
        );
        for alert in &alerts {
            assert!(alert["description"].as_str().unwrap().len() >= 200);
            let resources = alert["affectedResources"].as_array().unwrap();
            assert!((1..=3).contains(&resources.len()));
            assert!(
                resources[0]["resourceId"]
                    .as_str()
                    .unwrap()
                    .starts_with("/subscriptions/")
            );
        }

        let t = truth(&alerts, reference, 60, false);
        assert_eq!(t.total, 2000);
        assert_eq!(
            t.test + t.resolved + t.unresolved_in_window + t.unresolved_older,
            2000
        );
        assert!((10..=80).contains(&t.test), "{t:?}");
        assert!((480..=720).contains(&t.resolved), "{t:?}");
        assert!((250..=450).contains(&t.unresolved_older), "{t:?}");
        assert!((50..=100).contains(&t.customers_in_window), "{t:?}");
        assert_eq!(truth(&alerts, reference, 60, true).test, 0);

        let options = Options {
            alerts: 2000,
            seed: 42,
            ..Options::default()
        };
        assert_eq!(truth_of(&options, reference, 60, false), t);
        let earlier = reference - TimeDelta::days(10);
        assert_eq!(
            truth_of(&options, earlier, 30, false),
            truth(&alerts, earlier, 30, false)
        );
    }
}
