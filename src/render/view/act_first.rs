//! "Act first": the alerts that need a person today, at the top of the digest — those new since
//! the last digest (on the first digest, detected in the last 24 hours) and every open high,
//! critical or unknown-severity alert — grouped by customer. Customers are ranked by how many
//! high and critical alerts they have, then how many are overdue, then how old their oldest is;
//! each customer shown is shown whole, so a reader who works down the list misses nothing of the
//! customers above the cut.

use super::{AlertLine, Context, Kind, alert_line, labelled};
use crate::alert::Severity;
use crate::digest::{Digest, DigestAlert};
use crate::render::display;
use crate::render::lang::fill;

/// At most this many alerts are listed (fewer when the email's size budget asks for it).
pub const MAX_LISTED: usize = 20;

/// One customer of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActCustomer {
    /// "Customer Name" or "Customer 6f1b2c3d…".
    pub label: String,
    /// "tenant 6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d": the whole id, once per customer.
    pub tenant: Option<String>,
    /// "3 to act on · 1 over 24 h".
    pub summary: String,
    pub alerts: Vec<AlertLine>,
    /// "2 more of this customer's are in …": only when one customer alone passes the cap.
    pub cut: Option<String>,
}

/// The whole list, as the view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActFirst {
    pub customers: Vec<ActCustomer>,
    /// "4 more customers with 9 such alerts are in …".
    pub more: Option<String>,
}

/// Whether an alert needs a person today.
pub fn needs_person(a: &DigestAlert) -> bool {
    a.is_new || is_severe(&a.alert.severity)
}

/// High, critical or a severity this build does not know (critical is one of those today).
fn is_severe(severity: &Severity) -> bool {
    matches!(severity, Severity::High | Severity::Unknown(_))
}

/// The customers of the list in rank order, each with its alerts (positions in the digest's
/// alerts, in digest order).
pub fn ranked(digest: &Digest) -> Vec<Vec<usize>> {
    let mut by_customer: std::collections::HashMap<Option<&str>, Vec<usize>> =
        std::collections::HashMap::new();
    for (i, a) in digest.alerts.iter().enumerate() {
        if needs_person(a) {
            by_customer
                .entry(a.customer.as_deref())
                .or_default()
                .push(i);
        }
    }
    let mut customers: Vec<Vec<usize>> = by_customer.into_values().collect();
    let key = |alerts: &Vec<usize>| {
        let severe = alerts
            .iter()
            .filter(|&&i| is_severe(&digest.alerts[i].alert.severity))
            .count();
        let overdue = alerts.iter().filter(|&&i| digest.alerts[i].overdue).count();
        let oldest = alerts
            .iter()
            .map(|&i| digest.alerts[i].age)
            .max()
            .unwrap_or_default();
        // Ties go in digest order (of each customer's first alert): the order every other
        // list of the digest follows.
        (
            std::cmp::Reverse(severe),
            std::cmp::Reverse(overdue),
            std::cmp::Reverse(oldest),
            alerts[0],
        )
    };
    customers.sort_by_cached_key(key);
    customers
}

/// The positions of the alerts listed with at most `max` alerts: whole customers in rank order
/// while they fit, and the first customer cut at `max` if it alone passes it.
pub fn listed(ranked: &[Vec<usize>], max: usize) -> Vec<&[usize]> {
    let mut shown: Vec<&[usize]> = Vec::new();
    let mut count = 0;
    for alerts in ranked {
        if count + alerts.len() > max {
            if shown.is_empty() && max > 0 {
                shown.push(&alerts[..max]);
            }
            break;
        }
        count += alerts.len();
        shown.push(alerts);
    }
    shown
}

pub(super) fn build(
    digest: &Digest,
    ctx: &Context<'_>,
    ranked: &[Vec<usize>],
    max: usize,
    alerts_where: &str,
) -> ActFirst {
    let t = ctx.language.catalogue();
    let shown = listed(ranked, max);
    let customers: Vec<ActCustomer> = shown
        .iter()
        .zip(ranked)
        .map(|(alerts, all)| {
            let first = &digest.alerts[all[0]];
            let id = first.customer.as_deref();
            let labels = labelled(t, id, Kind::Customer, ctx.names);
            let overdue = all.iter().filter(|&&i| digest.alerts[i].overdue).count();
            ActCustomer {
                label: labels.name.unwrap_or(labels.label),
                tenant: id.map(|id| fill(t.tenant, &[("id", &display::line(id, 80))])),
                summary: fill(t.first_summary, &[("n", &all.len()), ("overdue", &overdue)]),
                alerts: alerts
                    .iter()
                    .map(|&i| alert_line(&digest.alerts[i], ctx))
                    .collect(),
                cut: (alerts.len() < all.len()).then(|| {
                    fill(
                        t.first_cut,
                        &[("n", &(all.len() - alerts.len())), ("where", &alerts_where)],
                    )
                }),
            }
        })
        .collect();
    let rest = &ranked[customers.len()..];
    let more = (!rest.is_empty()).then(|| {
        fill(
            t.first_more,
            &[
                ("customers", &rest.len()),
                ("n", &rest.iter().map(Vec::len).sum::<usize>()),
                ("where", &alerts_where),
            ],
        )
    });
    ActFirst { customers, more }
}
