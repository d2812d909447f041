//! The drill-down: the most urgent alerts in their partner, customer and subscription groups,
//! each group saying how many of its alerts it leaves out.

use super::{
    Context, CustomerView, Kind, Labels, Listing, PartnerView, SubscriptionView, alert_line, count,
    id_or_unknown, labelled, partner_labels,
};
use crate::digest::Digest;
use crate::render::display;
use crate::render::lang::fill;

/// The drill-down: the most urgent alerts (the first `max_listed` in digest order), shown in
/// their partner, customer and subscription groups.
pub(super) fn groups(
    digest: &Digest,
    ctx: &Context<'_>,
    listing: &Listing,
    max_listed: usize,
    alerts_where: &str,
) -> Vec<PartnerView> {
    let t = ctx.language.catalogue();
    let mut groups = Vec::new();
    // Only the groups the listing found can hold any of the first `max_listed` alerts.
    for (pi, listed_customers) in &listing.groups {
        let p = &digest.partners[*pi];
        let mut customers = Vec::new();
        for (ci, listed_subscriptions) in listed_customers {
            let c = &p.customers[*ci];
            let mut subscriptions = Vec::new();
            let mut shown = 0;
            for s in listed_subscriptions.iter().map(|&si| &c.subscriptions[si]) {
                let take = s.alerts.partition_point(|&i| i < max_listed);
                if take == 0 {
                    continue;
                }
                shown += take;
                let Labels {
                    label,
                    full_label,
                    name,
                } = labelled(
                    t,
                    s.subscription_id.as_deref(),
                    Kind::Subscription,
                    ctx.names,
                );
                subscriptions.push(SubscriptionView {
                    label,
                    full_label,
                    name,
                    id: id_or_unknown(s.subscription_id.as_deref()),
                    count: count(s.tally.alerts, t.alert_one, t.alert_many),
                    alerts: s.alerts[..take]
                        .iter()
                        .map(|&i| alert_line(&digest.alerts[i], ctx))
                        .collect(),
                });
            }
            if !subscriptions.is_empty() {
                let Labels {
                    label,
                    full_label,
                    name,
                } = labelled(t, c.tenant_id.as_deref(), Kind::Customer, ctx.names);
                customers.push(CustomerView {
                    label,
                    full_label,
                    name,
                    id: id_or_unknown(c.tenant_id.as_deref()),
                    count: count(c.tally.alerts, t.alert_one, t.alert_many),
                    tenant: c
                        .tenant_id
                        .as_deref()
                        .map(|id| fill(t.tenant, &[("id", &display::line(id, 80))])),
                    cut: (shown < c.tally.alerts).then(|| {
                        fill(
                            t.group_cut,
                            &[("n", &(c.tally.alerts - shown)), ("where", &alerts_where)],
                        )
                    }),
                    only_subscription: (c.subscriptions.len() == 1).then(|| {
                        labelled(
                            t,
                            c.subscriptions[0].subscription_id.as_deref(),
                            Kind::Subscription,
                            ctx.names,
                        )
                        .label
                    }),
                    subscriptions,
                });
            }
        }
        if !customers.is_empty() {
            let (labels, id) = partner_labels(t, &p.partner, ctx);
            let Labels {
                label,
                full_label,
                name,
            } = labels;
            groups.push(PartnerView {
                full_label,
                label,
                name,
                id,
                tally: p.tally,
                summary: format!(
                    "{} · {} {} · {} {}",
                    count(p.tally.alerts, t.alert_one, t.alert_many),
                    p.tally.high,
                    t.sev_high,
                    p.tally.overdue,
                    t.count_overdue
                ),
                customers,
            });
        }
    }
    groups
}
