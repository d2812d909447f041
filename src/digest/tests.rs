//! Rules of the digest core, each stated as a behaviour.

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;

use super::*;
use crate::alert::{Severity, Status};
use crate::source::record::parse_time;

fn t(s: &str) -> DateTime<Utc> {
    parse_time(s).unwrap()
}

const AS_OF: &str = "2026-11-29T07:00:00Z";

fn alert(id: &str, detected: DateTime<Utc>) -> Alert {
    Alert {
        customer_tenant_id: Some("c1".into()),
        subscription_id: Some("s1".into()),
        ..Alert::sample(id, detected)
    }
}

fn rules() -> Rules {
    Rules {
        window_days: 60,
        include_test_alerts: false,
        timezone: chrono_tz::UTC,
    }
}

/// The digest of `alerts` as of [`AS_OF`], by the usual [`rules`].
fn digest_of(alerts: Vec<Alert>) -> Digest {
    build(alerts, t(AS_OF), rules())
}

fn ids(digest: &Digest) -> Vec<&str> {
    digest.alerts.iter().map(|a| a.alert.id.as_str()).collect()
}

#[test]
fn window_is_closed_at_both_ends_to_the_millisecond() {
    let as_of = t(AS_OF);
    let start = as_of - TimeDelta::days(60);
    let ms = TimeDelta::milliseconds(1);
    let alerts = vec![
        alert("before-start", start - ms),
        alert("at-start", start),
        alert("after-start", start + ms),
        alert("at-as-of", as_of),
        alert("after-as-of", as_of + ms),
    ];
    let digest = build(alerts, as_of, rules());
    let mut got = ids(&digest);
    got.sort_unstable();
    assert_eq!(got, ["after-start", "at-as-of", "at-start"]);
    assert_eq!(digest.selection.older_than_window, 1);
    assert_eq!(digest.selection.after_as_of, 1);
    assert_eq!(digest.window.start, t("2026-09-30T07:00:00Z"));
}

#[test]
fn unresolved_alerts_before_the_window_are_kept_for_older_csv_and_copies_move_between_lists() {
    let start = t(AS_OF) - TimeDelta::days(60);
    let mut resolved_old = alert("resolved-old", start - TimeDelta::days(3));
    resolved_old.status = Status::Resolved;
    let mut test_old = alert("test-old", start - TimeDelta::days(3));
    test_old.is_test = true;
    let mut low_old = alert("low-old", start - TimeDelta::days(1));
    low_old.severity = Severity::Low;
    // A copy of "moves" resolves it later: it leaves the older list.
    let moves = alert("moves", start - TimeDelta::days(2));
    let mut moves_resolved = moves.clone();
    moves_resolved.status = Status::Resolved;
    moves_resolved.resolved_on = Some(t(AS_OF));
    let digest = digest_of(vec![
        alert("high-old", start - TimeDelta::days(5)),
        low_old,
        moves,
        resolved_old,
        test_old,
        alert("in-window", start + TimeDelta::days(1)),
        moves_resolved,
    ]);
    let older: Vec<&str> = digest.older.iter().map(|a| a.alert.id.as_str()).collect();
    assert_eq!(
        older,
        ["high-old", "low-old"],
        "unresolved non-test only, in digest order"
    );
    assert_eq!(digest.selection.older_than_window, 2);
    assert_eq!(ids(&digest), ["in-window"]);
    assert!(digest.older.iter().all(|a| a.overdue && !a.is_new));
    assert_eq!(digest.older[0].age, TimeDelta::days(65));
}

#[test]
fn digest_counts_each_alert_once_across_pages_with_ids_compared_case_insensitively() {
    let mut first = alert("ABC-1", t("2026-11-28T00:00:00Z"));
    first.last_observed = Some(t("2026-11-28T01:00:00Z"));
    first.severity = Severity::Low;
    let mut later = alert("abc-1", t("2026-11-28T00:00:00Z"));
    later.last_observed = Some(t("2026-11-28T05:00:00Z"));
    let digest = digest_of(vec![later.clone(), first]);
    assert_eq!(digest.alerts.len(), 1);
    assert_eq!(digest.selection.duplicates, 1);
    assert_eq!(
        digest.alerts[0].alert, later,
        "the most recently observed copy wins"
    );
}

#[test]
fn a_later_copy_that_resolves_the_alert_removes_it_from_the_digest() {
    let open = alert("a", t("2026-11-28T00:00:00Z"));
    let mut resolved = open.clone();
    resolved.status = Status::Resolved;
    resolved.resolved_on = Some(t("2026-11-28T09:00:00Z"));
    let digest = digest_of(vec![open, resolved]);
    assert!(digest.is_empty());
    assert_eq!(digest.selection.resolved, 1);
}

#[test]
fn on_a_tie_the_copy_received_last_wins() {
    let a = alert("a", t("2026-11-28T00:00:00Z"));
    let mut b = a.clone();
    b.severity = Severity::Medium;
    let digest = digest_of(vec![a, b.clone()]);
    assert_eq!(digest.alerts[0].alert, b);
}

#[test]
fn unknown_and_investigating_statuses_count_as_unresolved() {
    let mut inv = alert("inv", t("2026-11-28T00:00:00Z"));
    inv.status = Status::Investigating;
    let mut esc = alert("esc", t("2026-11-28T00:00:00Z"));
    esc.status = Status::Unknown("escalated".into());
    let mut ufv = alert("ufv", t("2026-11-28T00:00:00Z"));
    ufv.status = Status::Unknown("unknownFutureValue".into());
    let mut res = alert("res", t("2026-11-28T00:00:00Z"));
    res.status = Status::Resolved;
    let digest = digest_of(vec![inv, esc, ufv, res]);
    assert_eq!(ids(&digest), ["esc", "inv", "ufv"]);
    assert_eq!(digest.selection.resolved, 1);
}

#[test]
fn test_alerts_are_left_out_unless_included() {
    let as_of = t(AS_OF);
    let mut test_alert = alert("test", t("2026-11-28T00:00:00Z"));
    test_alert.is_test = true;
    let real = alert("real", t("2026-11-28T00:00:00Z"));
    let digest = build(vec![test_alert.clone(), real.clone()], as_of, rules());
    assert_eq!(ids(&digest), ["real"]);
    assert_eq!(digest.selection.test, 1);
    let included = Rules {
        include_test_alerts: true,
        ..rules()
    };
    let digest = build(vec![test_alert, real], as_of, included);
    assert_eq!(digest.alerts.len(), 2);
}

#[test]
fn overdue_means_unresolved_for_more_than_24_hours() {
    let as_of = t(AS_OF);
    let digest = build(
        vec![
            alert("exactly-24h", as_of - TimeDelta::hours(24)),
            alert(
                "24h-and-1ms",
                as_of - TimeDelta::hours(24) - TimeDelta::milliseconds(1),
            ),
        ],
        as_of,
        rules(),
    );
    let overdue: Vec<_> = digest
        .alerts
        .iter()
        .map(|a| (a.alert.id.as_str(), a.overdue))
        .collect();
    assert_eq!(overdue, [("24h-and-1ms", true), ("exactly-24h", false)]);
    assert_eq!(digest.totals.overdue, 1);
    assert_eq!(
        digest.alerts[0].age,
        TimeDelta::hours(24) + TimeDelta::milliseconds(1)
    );
}

#[test]
fn order_is_severity_then_oldest_then_id() {
    let as_of = t(AS_OF);
    let mut low_old = alert("low-old", t("2026-11-01T00:00:00Z"));
    low_old.severity = Severity::Low;
    let high_new = alert("high-new", t("2026-11-28T00:00:00Z"));
    let high_old_b = alert("b", t("2026-11-02T00:00:00Z"));
    let high_old_a = alert("A", t("2026-11-02T00:00:00Z"));
    let mut critical = alert("crit", t("2026-11-28T00:00:00Z"));
    critical.severity = Severity::Unknown("critical".into());
    let mut info = alert("info", t("2026-11-01T00:00:00Z"));
    info.severity = Severity::Informational;
    let digest = build(
        vec![info, low_old, high_new, high_old_b, high_old_a, critical],
        as_of,
        rules(),
    );
    assert_eq!(
        ids(&digest),
        ["crit", "A", "b", "high-new", "low-old", "info"]
    );
}

#[test]
fn partner_is_the_reseller_when_there_is_one_else_direct() {
    let as_of = t(AS_OF);
    let direct = alert("d", t("2026-11-28T00:00:00Z"));
    let mut indirect = alert("i", t("2026-11-27T00:00:00Z"));
    indirect.reseller_tenant_id = Some("RESELLER-1".into());
    let digest = build(vec![direct, indirect], as_of, rules());
    let partners: Vec<_> = digest.partners.iter().map(|p| p.partner.clone()).collect();
    assert_eq!(
        partners,
        [Partner::Reseller("reseller-1".into()), Partner::Direct]
    );
    assert_eq!(digest.reach.partners, 2);
    assert_eq!(
        digest.reach.customers, 1,
        "the same customer under two partners counts once"
    );
}

#[test]
fn missing_ids_group_under_unknown_and_guids_compare_case_insensitively() {
    let as_of = t(AS_OF);
    let mut upper = alert("u", t("2026-11-28T00:00:00Z"));
    upper.customer_tenant_id = Some("6F1B2C3D-AAAA".into());
    upper.subscription_id = Some("SUB-X".into());
    let mut lower = alert("l", t("2026-11-28T01:00:00Z"));
    lower.customer_tenant_id = Some("6f1b2c3d-aaaa".into());
    lower.subscription_id = Some("sub-x".into());
    let mut none = alert("n", t("2026-11-28T02:00:00Z"));
    none.customer_tenant_id = None;
    none.subscription_id = None;
    let digest = build(vec![upper, lower, none], as_of, rules());
    let customers = &digest.partners[0].customers;
    assert_eq!(customers.len(), 2);
    assert_eq!(customers[0].tenant_id.as_deref(), Some("6f1b2c3d-aaaa"));
    assert_eq!(customers[0].subscriptions.len(), 1);
    assert_eq!(customers[0].subscriptions[0].alerts.len(), 2);
    assert_eq!(customers[1].tenant_id, None);
    assert_eq!(customers[1].subscriptions[0].subscription_id, None);
}

#[test]
fn per_type_stats_count_distinct_partners_customers_and_subscriptions() {
    let as_of = t(AS_OF);
    let mk = |id: &str, ty: &str, reseller: Option<&str>, customer: &str, sub: &str| {
        let mut a = alert(id, t("2026-11-28T00:00:00Z"));
        a.alert_type = ty.into();
        a.reseller_tenant_id = reseller.map(Into::into);
        a.customer_tenant_id = Some(customer.into());
        a.subscription_id = Some(sub.into());
        a
    };
    let digest = build(
        vec![
            mk("1", "usageAnomalyDetection", None, "c1", "s1"),
            mk("2", "UsageAnomalyDetection", Some("r1"), "c2", "s2"),
            mk("3", "usageanomalydetection", Some("r1"), "c2", "s3"),
            mk("4", "NewType_Never_Seen", None, "c1", "s1"),
        ],
        as_of,
        rules(),
    );
    assert_eq!(digest.types.len(), 2);
    let usage = &digest.types[0];
    assert_eq!(usage.key, "usageanomalydetection");
    assert_eq!(
        (
            usage.tally.alerts,
            usage.partners,
            usage.customers,
            usage.subscriptions
        ),
        (3, 2, 2, 3)
    );
    let new = &digest.types[1];
    assert!(!new.known);
    assert_eq!(new.raw, "NewType_Never_Seen");
    assert_eq!(
        (
            new.tally.alerts,
            new.partners,
            new.customers,
            new.subscriptions
        ),
        (1, 1, 1, 1)
    );
    // subscription-level type rows point at the re-ordered type table
    let s1 = &digest
        .partners
        .iter()
        .find(|p| p.partner == Partner::Direct)
        .unwrap()
        .customers[0]
        .subscriptions[0];
    let keys: Vec<_> = s1
        .types
        .iter()
        .map(|(i, _)| digest.types[*i].key.as_str())
        .collect();
    assert_eq!(keys, ["usageanomalydetection", "newtype_never_seen"]);
}

#[test]
fn totals_count_severities_including_unknown_ones() {
    let as_of = t(AS_OF);
    let sev = |id: &str, s: Severity| {
        let mut a = alert(id, t("2026-11-28T00:00:00Z"));
        a.severity = s;
        a
    };
    let digest = build(
        vec![
            sev("1", Severity::High),
            sev("2", Severity::Medium),
            sev("3", Severity::Low),
            sev("4", Severity::Informational),
            sev("5", Severity::Unknown("critical".into())),
        ],
        as_of,
        rules(),
    );
    let tally = digest.totals;
    assert_eq!(
        (
            tally.alerts,
            tally.high,
            tally.medium,
            tally.low,
            tally.informational,
            tally.other
        ),
        (5, 1, 1, 1, 1, 1)
    );
}

fn arb_alert() -> impl Strategy<Value = Alert> {
    (
        0u8..40,
        0u8..4,
        proptest::option::of(0u8..3),
        proptest::option::of(0u8..6),
        proptest::option::of(0u8..4),
        0i64..(80 * 24),
        0u8..6,
        any::<bool>(),
        0u8..5,
    )
        .prop_map(
            |(id, ty, reseller, customer, sub, hours_ago, severity, test, status)| {
                let mut a = alert(
                    &format!("ID-{id}"),
                    t(AS_OF) - TimeDelta::hours(hours_ago) + TimeDelta::hours(2),
                );
                a.alert_type = [
                    "CryptoMining",
                    "cryptomining",
                    "usageAnomalyDetection",
                    "X_New",
                ][usize::from(ty)]
                .into();
                a.reseller_tenant_id = reseller.map(|r| format!("R{r}").into());
                a.customer_tenant_id = customer.map(|c| format!("C{c}").into());
                a.subscription_id = sub.map(|s| format!("S{s}").into());
                a.severity = match severity {
                    0 => Severity::High,
                    1 => Severity::Medium,
                    2 => Severity::Low,
                    3 => Severity::Informational,
                    _ => Severity::Unknown("critical".into()),
                };
                a.is_test = test && id % 3 == 0;
                a.status = match status {
                    0 => Status::Resolved,
                    1 => Status::Investigating,
                    2 => Status::Unknown("escalated".into()),
                    _ => Status::Active,
                };
                a
            },
        )
}

proptest! {
    #[test]
    fn per_group_counts_add_up_to_the_total(alerts in proptest::collection::vec(arb_alert(), 0..120)) {
        let digest = build(alerts.clone(), t(AS_OF), rules());
        let s = digest.selection;
        prop_assert_eq!(s.read, alerts.len());
        prop_assert_eq!(
            s.read,
            s.duplicates + s.test + s.resolved + s.in_window + s.older_than_window + s.after_as_of
        );
        prop_assert_eq!(digest.alerts.len(), s.in_window);
        prop_assert_eq!(digest.totals.alerts, digest.alerts.len());

        let t = digest.totals;
        prop_assert_eq!(t.alerts, t.high + t.medium + t.low + t.informational + t.other);

        let partner_sum: usize = digest.partners.iter().map(|p| p.tally.alerts).sum();
        prop_assert_eq!(partner_sum, t.alerts);
        let type_sum: usize = digest.types.iter().map(|ty| ty.tally.alerts).sum();
        prop_assert_eq!(type_sum, t.alerts);
        let mut seen = vec![false; digest.alerts.len()];
        for p in &digest.partners {
            let customer_sum: usize = p.customers.iter().map(|c| c.tally.alerts).sum();
            prop_assert_eq!(customer_sum, p.tally.alerts);
            for c in &p.customers {
                let sub_sum: usize = c.subscriptions.iter().map(|s| s.tally.alerts).sum();
                prop_assert_eq!(sub_sum, c.tally.alerts);
                for sub in &c.subscriptions {
                    prop_assert_eq!(sub.alerts.len(), sub.tally.alerts);
                    let by_type: usize = sub.types.iter().map(|(_, tally)| tally.alerts).sum();
                    prop_assert_eq!(by_type, sub.tally.alerts);
                    for &i in &sub.alerts {
                        prop_assert!(!seen[i], "alert {} placed twice", i);
                        seen[i] = true;
                    }
                }
            }
        }
        prop_assert!(seen.iter().all(|s| *s), "every alert is in exactly one subscription group");
        // ids are unique after de-duplication
        let mut ids: Vec<_> = digest.alerts.iter().map(|a| a.alert.id.to_lowercase()).collect();
        ids.sort();
        ids.dedup();
        prop_assert_eq!(ids.len(), digest.alerts.len());
    }

    #[test]
    fn the_digest_does_not_depend_on_input_order(alerts in proptest::collection::vec(arb_alert(), 0..60)) {
        // distinct ids, so de-duplication tie-breaks do not come into play
        let mut alerts = alerts;
        for (i, a) in alerts.iter_mut().enumerate() { a.id = format!("id-{i}"); }
        let forward = build(alerts.clone(), t(AS_OF), rules());
        alerts.reverse();
        let backward = build(alerts, t(AS_OF), rules());
        prop_assert_eq!(forward, backward);
    }
}

proptest! {
    /// The key sort and the moves that follow it give the order a plain sort of whole alerts
    /// gives (issue 8: the digest is sorted on small keys).
    #[test]
    fn digest_order_is_severity_then_detection_then_id(
        spec in proptest::collection::vec((0..5_usize, 0..6_i64, "[a-dA-D]{1,3}"), 0..60)
    ) {
        let severities = [
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Informational,
            Severity::Unknown("critical".into()),
        ];
        let as_of = t(AS_OF);
        let alerts: Vec<Alert> = spec
            .iter()
            .map(|(severity, hours, id)| Alert {
                severity: severities[*severity].clone(),
                ..alert(id, as_of - TimeDelta::hours(*hours))
            })
            .collect();
        let digest = build(alerts, as_of, rules());
        let mut expected = digest.alerts.clone();
        expected.sort_by(digest_order);
        prop_assert_eq!(ids(&digest), expected.iter().map(|a| a.alert.id.as_str()).collect::<Vec<_>>());
    }
}
