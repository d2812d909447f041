//! What changed since the previous digest: which of today's alerts are new, and what became of
//! the alerts the previous digest listed. The previous digest comes from the ledger; this module
//! only compares.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::alert::Alert;
use crate::alert::ResolvedReason;

/// An alert as the ledger remembers it from a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    /// Lower-cased id.
    pub id: String,
    pub alert_type: String,
    pub severity: String,
    pub customer: Option<String>,
    pub subscription: Option<String>,
    pub detected: DateTime<Utc>,
}

impl Remembered {
    pub fn of(alert: &Alert) -> Self {
        let lower = |id: &Option<super::Text>| id.as_deref().map(str::to_ascii_lowercase);
        Self {
            id: alert.id.to_lowercase(),
            alert_type: alert.alert_type.to_string(),
            severity: alert.severity.as_str().to_owned(),
            customer: lower(&alert.customer_tenant_id),
            subscription: lower(&alert.subscription_id),
            detected: alert.detected,
        }
    }
}

/// The digest before this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previous {
    pub digest_date: String,
    pub as_of: DateTime<Utc>,
    pub alerts: Vec<Remembered>,
    /// Alerts this job's `resolve` command resolved since then (the ledger's `resolutions`).
    pub resolved_here: Vec<ResolvedHere>,
}

/// An alert resolved with `csp-alert-digest resolve`, as the ledger recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedHere {
    /// Lower-cased id.
    pub id: String,
    pub reason: Option<ResolvedReason>,
    /// Who ran `resolve`: `--actor`, or the machine user.
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// What became of an alert of the previous digest that this one does not list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Resolved {
        reason: Option<ResolvedReason>,
        by: Option<String>,
        on: Option<DateTime<Utc>>,
    },
    /// Still unresolved, but detected before this digest's window.
    AgedOut,
    /// Now marked as a test alert (and test alerts are left out).
    NowTest,
    /// The source no longer returns it: resolved (with a server-side filter) or removed.
    NotReported,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Left {
    pub alert: Remembered,
    pub outcome: Outcome,
}

/// The comparison with the previous digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    pub previous_date: String,
    pub previous_as_of: DateTime<Utc>,
    /// Alerts of the previous digest that this one lists too.
    pub still_open: usize,
    /// Alerts of the previous digest that this one does not list, resolved first, then by
    /// detection.
    pub left: Vec<Left>,
}

/// Collects, while the alerts are sorted out, what became of the previous digest's alerts.
#[derive(Debug)]
pub(super) struct Tracker<'a> {
    previous: &'a Previous,
    ids: HashSet<&'a str>,
    seen: HashMap<String, Outcome>,
}

impl<'a> Tracker<'a> {
    pub fn new(previous: &'a Previous) -> Self {
        Self {
            previous,
            ids: previous.alerts.iter().map(|a| a.id.as_str()).collect(),
            seen: HashMap::new(),
        }
    }

    pub fn was_listed(&self, id_lower: &str) -> bool {
        self.ids.contains(id_lower)
    }

    /// Notes an alert this digest does not list (a later copy of the same alert replaces it).
    pub fn not_listed(&mut self, id_lower: &str, outcome: impl FnOnce() -> Outcome) {
        if self.ids.contains(id_lower) {
            self.seen.insert(id_lower.to_owned(), outcome());
        }
    }

    pub fn finish(mut self, listed: &HashSet<&str>) -> History {
        let mut still_open = 0;
        let mut left = Vec::new();
        for alert in &self.previous.alerts {
            if listed.contains(alert.id.as_str()) {
                still_open += 1;
            } else {
                let outcome = self.seen.remove(&alert.id).unwrap_or(Outcome::NotReported);
                let outcome = self.with_local_resolution(&alert.id, outcome);
                left.push(Left {
                    alert: alert.clone(),
                    outcome,
                });
            }
        }
        left.sort_by(|a, b| {
            rank(&a.outcome)
                .cmp(&rank(&b.outcome))
                .then(a.alert.detected.cmp(&b.alert.detected))
                .then_with(|| a.alert.id.cmp(&b.alert.id))
        });
        History {
            previous_date: self.previous.digest_date.clone(),
            previous_as_of: self.previous.as_of,
            still_open,
            left,
        }
    }
}

impl Tracker<'_> {
    /// The service's reason and time win; who resolved it is the person our own `resolve` record
    /// names (the service can only name the app that sent the update). When a server-side filter
    /// hides resolved alerts, the whole outcome comes from that record.
    fn with_local_resolution(&self, id: &str, outcome: Outcome) -> Outcome {
        let Some(here) = self
            .previous
            .resolved_here
            .iter()
            .rev()
            .find(|r| r.id == id)
        else {
            return outcome;
        };
        match outcome {
            Outcome::NotReported => Outcome::Resolved {
                reason: here.reason.clone(),
                by: Some(here.actor.clone()),
                on: Some(here.at),
            },
            Outcome::Resolved { reason, by, on } => Outcome::Resolved {
                reason: reason.or_else(|| here.reason.clone()),
                by: Some(here.actor.clone()).or(by),
                on: on.or(Some(here.at)),
            },
            other => other,
        }
    }
}

fn rank(outcome: &Outcome) -> u8 {
    match outcome {
        Outcome::Resolved { .. } => 0,
        Outcome::NotReported => 1,
        Outcome::AgedOut => 2,
        Outcome::NowTest => 3,
    }
}
