//! Groups the digest's alerts partner → customer → subscription, and tallies them per alert
//! type the way Microsoft's own summary does (alerts and distinct partners, customers and
//! subscriptions affected).

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;

use super::{DigestAlert, Partner, alert_type};
use crate::alert::{FastHasher, Severity};

/// The grouping's maps hash short ids, many times per alert: with a fast hash, not `SipHash`
/// (nothing an attacker could exploit: a collision costs a comparison, not a wrong group).
type Map<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
type Set<K> = HashSet<K, BuildHasherDefault<FastHasher>>;

/// Counts of a set of alerts by severity, plus how many are overdue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub alerts: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub informational: usize,
    /// Severities this build does not know (`critical`, `unknownFutureValue`…).
    pub other: usize,
    /// Unresolved for longer than the response target (24 hours).
    pub overdue: usize,
    /// Not in the previous digest.
    pub new: usize,
}

impl Tally {
    pub fn add(&mut self, alert: &DigestAlert) {
        self.alerts += 1;
        match alert.alert.severity {
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
            Severity::Informational => self.informational += 1,
            Severity::Unknown(_) => self.other += 1,
        }
        if alert.overdue {
            self.overdue += 1;
        }
        if alert.is_new {
            self.new += 1;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerGroup {
    pub partner: Partner,
    pub tally: Tally,
    pub customers: Vec<CustomerGroup>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerGroup {
    /// Lower-cased customer tenant id; `None` when the alert did not say.
    pub tenant_id: Option<String>,
    pub tally: Tally,
    pub subscriptions: Vec<SubscriptionGroup>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionGroup {
    /// Lower-cased subscription id; `None` when the alert did not say.
    pub subscription_id: Option<String>,
    pub tally: Tally,
    /// Indexes into [`super::Digest::alerts`], in digest order.
    pub alerts: Vec<usize>,
    /// Per alert type (index into [`super::Digest::types`]), in order of first appearance.
    pub types: Vec<(usize, Tally)>,
}

/// One alert type across the whole digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeStats {
    /// Case-folded key; spellings that differ only in case are one type.
    pub key: String,
    /// The raw API spelling of the most urgent alert of this type.
    pub raw: String,
    pub known: bool,
    pub tally: Tally,
    pub partners: usize,
    pub customers: usize,
    pub subscriptions: usize,
}

/// Distinct partners, customers and subscriptions affected. A missing id counts once, as
/// "unknown".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reach {
    pub partners: usize,
    pub customers: usize,
    pub subscriptions: usize,
}

/// Groups alerts that are already in digest order; groups appear in order of their most
/// urgent alert, so the tree reads worst-first at every level.
pub fn group(alerts: &[DigestAlert]) -> (Vec<PartnerGroup>, Vec<TypeStats>, Reach) {
    let mut partners: Vec<PartnerGroup> = Vec::new();
    let mut partner_index: Map<&Partner, usize> = Map::default();
    let mut customer_index: Map<(&Partner, Option<&str>), usize> = Map::default();
    let mut subscription_index: Map<(&Partner, Option<&str>, Option<&str>), usize> = Map::default();

    let mut types: Vec<TypeStats> = Vec::new();
    let mut type_index: Map<&str, usize> = Map::default();
    let mut type_reach: Vec<[Set<&str>; 3]> = Vec::new();

    let mut all_customers: Set<Option<&str>> = Set::default();
    let mut all_subscriptions: Set<Option<&str>> = Set::default();

    for (i, alert) in alerts.iter().enumerate() {
        let customer = alert.customer.as_deref();
        let subscription = alert.subscription.as_deref();

        let t = *type_index.entry(&alert.type_key).or_insert_with(|| {
            types.push(TypeStats {
                key: alert.type_key.to_string(),
                raw: alert.alert.alert_type.to_string(),
                known: alert_type::is_known(&alert.alert.alert_type),
                tally: Tally::default(),
                partners: 0,
                customers: 0,
                subscriptions: 0,
            });
            type_reach.push(Default::default());
            types.len() - 1
        });
        types[t].tally.add(alert);
        let [p_set, c_set, s_set] = &mut type_reach[t];
        p_set.insert(alert.partner.key());
        c_set.insert(customer.unwrap_or(""));
        s_set.insert(subscription.unwrap_or(""));
        all_customers.insert(customer);
        all_subscriptions.insert(subscription);

        let p = *partner_index.entry(&alert.partner).or_insert_with(|| {
            partners.push(PartnerGroup {
                partner: alert.partner.clone(),
                tally: Tally::default(),
                customers: Vec::new(),
            });
            partners.len() - 1
        });
        let partner = &mut partners[p];
        partner.tally.add(alert);

        let c = *customer_index
            .entry((&alert.partner, customer))
            .or_insert_with(|| {
                partner.customers.push(CustomerGroup {
                    tenant_id: alert.customer.as_deref().map(str::to_owned),
                    tally: Tally::default(),
                    subscriptions: Vec::new(),
                });
                partner.customers.len() - 1
            });
        let customer_group = &mut partner.customers[c];
        customer_group.tally.add(alert);

        let s = *subscription_index
            .entry((&alert.partner, customer, subscription))
            .or_insert_with(|| {
                customer_group.subscriptions.push(SubscriptionGroup {
                    subscription_id: alert.subscription.as_deref().map(str::to_owned),
                    tally: Tally::default(),
                    alerts: Vec::new(),
                    types: Vec::new(),
                });
                customer_group.subscriptions.len() - 1
            });
        let sub = &mut customer_group.subscriptions[s];
        sub.tally.add(alert);
        sub.alerts.push(i);
        if let Some((_, tally)) = sub.types.iter_mut().find(|(ti, _)| *ti == t) {
            tally.add(alert);
        } else {
            let mut tally = Tally::default();
            tally.add(alert);
            sub.types.push((t, tally));
        }
    }

    for (stats, [p, c, s]) in types.iter_mut().zip(&type_reach) {
        stats.partners = p.len();
        stats.customers = c.len();
        stats.subscriptions = s.len();
    }
    let types = most_frequent_first(types, &mut partners);
    let reach = Reach {
        partners: partners.len(),
        customers: all_customers.len(),
        subscriptions: all_subscriptions.len(),
    };
    (partners, types, reach)
}

/// Orders the type table as Microsoft's summary does, most frequent first, and re-points the
/// subscription groups' type indexes at the new order.
fn most_frequent_first(types: Vec<TypeStats>, partners: &mut [PartnerGroup]) -> Vec<TypeStats> {
    let mut order: Vec<usize> = (0..types.len()).collect();
    order.sort_by(|&a, &b| {
        types[b]
            .tally
            .alerts
            .cmp(&types[a].tally.alerts)
            .then_with(|| types[a].key.cmp(&types[b].key))
    });
    let mut new_position = vec![0; types.len()];
    for (new, &old) in order.iter().enumerate() {
        new_position[old] = new;
    }
    for sub in partners
        .iter_mut()
        .flat_map(|p| p.customers.iter_mut())
        .flat_map(|c| c.subscriptions.iter_mut())
    {
        for (t, _) in &mut sub.types {
            *t = new_position[*t];
        }
    }
    let mut slots: Vec<Option<TypeStats>> = types.into_iter().map(Some).collect();
    order.iter().filter_map(|&old| slots[old].take()).collect()
}
