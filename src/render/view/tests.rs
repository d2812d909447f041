use chrono::{DateTime, TimeDelta};

use super::*;
use crate::digest::{self, Previous, Remembered, ResolvedHere, Rules};
use crate::names::Origin;
use crate::source::record::parse_alert;

const AS_OF: &str = "2026-11-29T07:00:00Z";

fn alert_json(id: &str, customer: &str, severity: &str, detected: &str, status: &str) -> String {
    format!(
        r#"{{"id":"{id}","status":"{status}","severity":"{severity}","customerTenantId":"{customer}",
            "subscriptionId":"s","alertType":"cryptoMining","detectedDateTime":"{detected}",
            "resolvedReason":"fraud","resolvedBy":"ann@partner.example","resolvedOnDateTime":"2026-11-28T12:30:00Z"}}"#
    )
}

fn rules() -> Rules {
    Rules {
        window_days: 60,
        include_test_alerts: false,
        timezone: chrono_tz::Europe::Stockholm,
    }
}

fn digest_of(alerts: &[(&str, &str, &str)], previous: Option<&Previous>) -> Digest {
    let alerts = alerts
        .iter()
        .map(|(id, customer, severity)| {
            parse_alert(&alert_json(
                id,
                customer,
                severity,
                "2026-11-28T00:00:00Z",
                "active",
            ))
            .unwrap()
        })
        .collect();
    digest::build_since(alerts, as_of(), rules(), previous)
}

fn as_of() -> DateTime<chrono::Utc> {
    DateTime::parse_from_rfc3339(AS_OF).unwrap().into()
}

fn ctx(language: Language) -> Context<'static> {
    Context {
        digest_date: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
        timezone: chrono_tz::Europe::Stockholm,
        language,
        subject_prefix: Some("Alerts"),
        set_aside: 0,
        names: Box::leak(Box::default()),
        details: Box::leak(Box::default()),
        stale_sign_in_days: None,
    }
}

/// The whole English view of `digest`.
fn english_view(digest: &Digest) -> View {
    View::build(digest, &ctx(Language::English), Limits::FULL, attachments())
}

fn attachments() -> Attachments {
    Attachments::fitting(1, 1, 1, 10)
}

#[test]
fn the_listed_alerts_are_the_most_urgent_ones_in_their_groups() {
    // customer a has the most urgent alert and a minor one; customer b the second most urgent
    let digest = digest_of(
        &[
            ("a-high", "a", "high"),
            ("a-low", "a", "low"),
            ("b-med", "b", "medium"),
        ],
        None,
    );
    let limits = Limits {
        drill_down: 2,
        ..Limits::FULL
    };
    let view = View::build(&digest, &ctx(Language::English), limits, attachments());
    let listed: Vec<(&str, Vec<&str>)> = view.groups[0]
        .customers
        .iter()
        .map(|c| {
            let ids = c
                .subscriptions
                .iter()
                .flat_map(|s| s.alerts.iter().map(|a| a.id.as_str()));
            (c.id.as_str(), ids.collect())
        })
        .collect();
    assert_eq!(listed, [("a", vec!["a-high"]), ("b", vec!["b-med"])]);
    assert_eq!((view.listed, view.not_listed), (2, 1));
    assert_eq!(
        view.groups[0].customers[0].count, "2 alerts",
        "group counts stay whole"
    );
    assert_eq!(
        view.listed_more.as_deref(),
        Some("The 2 most urgent alerts are listed above; 1 more are in the attached alerts.csv.")
    );
}

#[test]
fn the_subject_carries_the_date_and_counts_only_in_the_language() {
    let digest = digest_of(&[("x", "<script>", "high")], None);
    let en = Language::English.catalogue();
    let sv = Language::Swedish.catalogue();
    assert_eq!(
        subject(en, "Alerts", "2026-11-29", &digest, &Names::default()),
        "Alerts 2026-11-29: 1 unresolved alert (1 high, 1 overdue) in 1 customer"
    );
    assert_eq!(
        subject(sv, "Larm", "2026-11-29", &digest, &Names::default()),
        "Larm 2026-11-29: 1 olöst larm (1 höga, 1 försenade) hos 1 kund"
    );
    let empty = digest_of(&[], None);
    assert_eq!(
        subject(en, "Alerts", "2026-11-29", &empty, &Names::default()),
        "Alerts 2026-11-29: no unresolved alerts"
    );
}

#[test]
fn overdue_alerts_are_listed_most_severe_then_oldest_first_and_capped_without_act_first_ones() {
    let mut alerts = Vec::new();
    for (i, (hours, severity)) in [
        (30, "low"),
        (100, "low"),
        (25, "medium"),
        (2, "low"),
        (50, "low"),
        (40, "high"),
    ]
    .iter()
    .enumerate()
    {
        let detected = (as_of() - TimeDelta::hours(*hours)).to_rfc3339();
        alerts.push(
            parse_alert(&alert_json(
                &format!("a{i}"),
                "c",
                severity,
                &detected,
                "active",
            ))
            .unwrap(),
        );
    }
    let digest = digest::build(alerts, as_of(), rules());
    let limits = Limits {
        overdue: 3,
        ..Limits::FULL
    };
    let view = View::build(&digest, &ctx(Language::English), limits, attachments());
    let ages: Vec<String> = view
        .overdue
        .iter()
        .map(|a| a.age.replace('\u{a0}', " "))
        .collect();
    // The high one is under "Act first", with the new one: not repeated here.
    assert_eq!(ages, ["25 h", "4 d 4 h", "2 d 2 h"]);
    assert_eq!(
        view.overdue_more.as_deref(),
        Some("1 more are in the attached alerts.csv.")
    );
    let first: Vec<&str> = view.act_first.customers[0]
        .alerts
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(first, ["a5", "a3"]);
    assert_eq!(
        view.totals.new, 1,
        "only the 2-hour-old alert is new on a first digest"
    );
}

#[test]
fn the_first_digest_says_it_has_no_history() {
    let digest = digest_of(&[("a", "c", "high")], None);
    let view = View::build(
        &digest,
        &ctx(Language::Swedish),
        Limits::FULL,
        attachments(),
    );
    assert!(view.changes.first);
    assert!(view.changes.intro.starts_with("Det här är den första"));
}

/// An alert the previous digest (a day earlier) listed, detected three days before now.
fn remembered(id: &str) -> Remembered {
    Remembered {
        id: id.to_owned(),
        alert_type: "usageAnomalyDetection".to_owned(),
        severity: "medium".to_owned(),
        customer: Some("c".to_owned()),
        subscription: None,
        detected: as_of() - TimeDelta::days(3),
    }
}

#[test]
fn changes_list_new_alerts_and_what_became_of_the_others() {
    let previous = Previous {
        digest_date: "2026-11-28".to_owned(),
        as_of: as_of() - TimeDelta::days(1),
        alerts: vec![remembered("kept"), remembered("fixed"), remembered("gone")],
        resolved_here: Vec::new(),
    };
    let mut alerts: Vec<_> = ["kept", "fresh"]
        .iter()
        .map(|id| {
            parse_alert(&alert_json(
                id,
                "c",
                "high",
                "2026-11-27T00:00:00Z",
                "active",
            ))
            .unwrap()
        })
        .collect();
    alerts.push(
        parse_alert(&alert_json(
            "FIXED",
            "c",
            "high",
            "2026-11-26T00:00:00Z",
            "resolved",
        ))
        .unwrap(),
    );
    let digest = digest::build_since(alerts, as_of(), rules(), Some(&previous));
    let view = english_view(&digest);
    let c = &view.changes;
    assert!(!c.first);
    assert_eq!(
        c.intro,
        "Compared with the digest of 2026-11-28 (as of 2026-11-28 08:00)."
    );
    assert_eq!(c.counts, "1 new · 1 still open · 2 no longer open");
    assert_eq!(
        c.new.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["fresh"]
    );
    let left: Vec<(&str, &str, bool)> = c
        .left
        .iter()
        .map(|l| (l.id.as_str(), l.outcome.as_str(), l.resolved))
        .collect();
    assert_eq!(
        left,
        [
            (
                "fixed",
                "Fraud, by ann@partner.example, 2026-11-28 13:30",
                true
            ),
            (
                "gone",
                "No longer reported by Microsoft (resolved or removed)",
                false
            ),
        ]
    );
    assert_eq!(view.totals.new, 1);
}

#[test]
fn the_subject_names_a_single_named_customer_without_control_characters() {
    let en = Language::English.catalogue();
    let mut names = Names::default();
    names.insert(
        "C1",
        "Contoso\r\nBcc: victim@evil.example\u{7}",
        Origin::PartnerCenter,
    );
    let one = digest_of(&[("x", "c1", "high"), ("y", "C1", "low")], None);
    assert_eq!(
        subject(en, "Alerts", "2026-11-29", &one, &names),
        "Alerts 2026-11-29: 2 unresolved alerts (1 high, 2 overdue) in Contoso Bcc: victim@evil.example"
    );
    let two = digest_of(&[("x", "c1", "high"), ("y", "c2", "low")], None);
    assert!(
        subject(en, "Alerts", "2026-11-29", &two, &names).ends_with("in 2 customers"),
        "two customers are counted, not named"
    );
    let unnamed = digest_of(&[("x", "c3", "high")], None);
    assert!(subject(en, "Alerts", "2026-11-29", &unnamed, &names).ends_with("in 1 customer"));
}

#[test]
fn named_groups_show_the_name_with_the_short_id_and_unnamed_ones_the_short_id() {
    let mut names = Names::default();
    names.insert(
        "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "Contoso <Ltd>\u{202E}",
        Origin::File,
    );
    let digest = digest_of(
        &[
            ("a", "6F1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D", "high"),
            ("b", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "low"),
        ],
        None,
    );
    let ctx = Context {
        names: &names,
        ..ctx(Language::English)
    };
    let view = View::build(&digest, &ctx, Limits::FULL, attachments());
    let customers = &view.groups[0].customers;
    assert_eq!(
        customers[0].label,
        "Customer Contoso <Ltd>[U+202E] (6f1b2c3d…)"
    );
    assert_eq!(customers[0].name.as_deref(), Some("Contoso <Ltd>[U+202E]"));
    assert_eq!(customers[1].label, "Customer 0a1b2c3d…");
    assert_eq!(customers[1].name, None);
}

#[test]
fn an_alert_resolved_with_our_resolve_command_names_who_ran_it() {
    // The service (filtering resolved alerts out) no longer reports it; the ledger says who
    // resolved it, and how.
    let previous = Previous {
        digest_date: "2026-11-28".to_owned(),
        as_of: as_of() - TimeDelta::days(1),
        alerts: vec![remembered("gone")],
        resolved_here: vec![ResolvedHere {
            id: "gone".to_owned(),
            reason: Some(crate::alert::ResolvedReason::Legitimate),
            actor: "bo@workstation".to_owned(),
            at: as_of() - TimeDelta::hours(2),
        }],
    };
    let digest = digest::build_since(Vec::new(), as_of(), rules(), Some(&previous));
    let view = View::build(
        &digest,
        &ctx(Language::Swedish),
        Limits::FULL,
        attachments(),
    );
    let gone = &view.changes.left[0];
    assert_eq!(
        gone.outcome,
        "Legitimt, av bo@workstation, 2026-11-29 06:00"
    );
    assert!(gone.resolved);
}

#[test]
fn the_signed_in_partners_own_name_leads_the_headline_and_labels_its_direct_customers() {
    let digest = digest_of(
        &[("a", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "high")],
        None,
    );
    let plain = english_view(&digest);
    assert_eq!(plain.groups[0].label, "Direct customers");

    let mut names = Names::default();
    names.set_own_name(Some("Contoso Partner\u{202E}".to_owned()));
    let unnamed_ctx = ctx;
    for (language, direct) in [
        (
            Language::English,
            "Direct customers of Contoso Partner[U+202E]",
        ),
        (
            Language::Swedish,
            "Direktkunder hos Contoso Partner[U+202E]",
        ),
    ] {
        let ctx = Context {
            names: &names,
            ..ctx(language)
        };
        let view = View::build(&digest, &ctx, Limits::FULL, attachments());
        assert_eq!(view.groups[0].label, direct);
        let unnamed = View::build(&digest, &unnamed_ctx(language), Limits::FULL, attachments());
        assert_eq!(
            view.headline,
            format!("Contoso Partner[U+202E]: {}", unnamed.headline)
        );
    }
}

#[test]
fn a_sign_in_not_renewed_for_over_60_days_is_in_the_notes_once_in_each_language() {
    let digest = digest_of(&[("a", "c", "high")], None);
    for (language, says) in [
        (Language::English, "last renewed 65 days ago"),
        (Language::Swedish, "för 65 dagar sedan"),
    ] {
        let stale = Context {
            stale_sign_in_days: Some(65),
            ..ctx(language)
        };
        let view = View::build(&digest, &stale, Limits::FULL, attachments());
        assert_eq!(
            view.notes.iter().filter(|n| n.contains(says)).count(),
            1,
            "{:?}",
            view.notes
        );
        let fresh = View::build(&digest, &ctx(language), Limits::FULL, attachments());
        assert!(!fresh.notes.iter().any(|n| n.contains("login")));
    }
}

/// On a generated 20,000-alert set: "Act first" lists, for every customer it shows, every alert
/// that is new or high, critical or of an unknown severity — and only those — with customers
/// ranked by high and critical count, then overdue count, then oldest age.
#[test]
fn act_first_lists_every_alert_needing_a_person_of_the_customers_it_shows_in_rank_order() {
    let severities = [
        "high",
        "medium",
        "low",
        "informational",
        "critical",
        "unknownFutureValue",
    ];
    let alerts: Vec<_> = (0..20_000_usize)
        .map(|i| {
            let hours = i64::try_from(1 + (i * 37) % 1400).unwrap();
            let detected = (as_of() - TimeDelta::hours(hours)).to_rfc3339();
            parse_alert(&alert_json(
                &format!("a{i}"),
                &format!("c{}", (i * 7) % 701),
                severities[(i * 13) % 6],
                &detected,
                "active",
            ))
            .unwrap()
        })
        .collect();
    let digest = digest::build(alerts, as_of(), rules());
    let view = english_view(&digest);
    let first = &view.act_first;
    assert!(!first.customers.is_empty() && first.more.is_some());
    let needs = |a: &DigestAlert| {
        a.is_new
            || matches!(
                a.alert.severity,
                crate::alert::Severity::High | crate::alert::Severity::Unknown(_)
            )
    };
    let key = |customer: &str| {
        let mine: Vec<&DigestAlert> = digest
            .alerts
            .iter()
            .filter(|a| a.customer.as_deref() == Some(customer) && needs(a))
            .collect();
        let severe = mine
            .iter()
            .filter(|a| {
                !matches!(
                    a.alert.severity,
                    crate::alert::Severity::Medium
                        | crate::alert::Severity::Low
                        | crate::alert::Severity::Informational
                )
            })
            .count();
        let overdue = mine.iter().filter(|a| a.overdue).count();
        let oldest = mine.iter().map(|a| a.age).max().unwrap();
        (
            (severe, overdue, oldest),
            mine.iter().map(|a| a.alert.id.clone()).collect::<Vec<_>>(),
        )
    };
    let mut listed = 0;
    let mut previous = None;
    for c in &first.customers {
        let id = c
            .tenant
            .as_deref()
            .unwrap()
            .strip_prefix("tenant ")
            .unwrap();
        let (rank, expected) = key(id);
        let shown: Vec<String> = c.alerts.iter().map(|a| a.id.clone()).collect();
        assert_eq!(
            shown, expected,
            "{id}: every alert needing a person, in digest order"
        );
        assert!(c.cut.is_none());
        if let Some(previous) = previous {
            assert!(rank <= previous, "{id} ranks after a customer above it");
        }
        previous = Some(rank);
        listed += shown.len();
    }
    assert!(listed <= act_first::MAX_LISTED);
    // The best-ranked customer not shown ranks no higher than the last one shown.
    let shown: std::collections::HashSet<&str> = first
        .customers
        .iter()
        .filter_map(|c| c.tenant.as_deref()?.strip_prefix("tenant "))
        .collect();
    let best_left = digest
        .alerts
        .iter()
        .filter(|a| needs(a))
        .filter_map(|a| a.customer.as_deref())
        .filter(|c| !shown.contains(c))
        .map(|c| key(c).0)
        .max()
        .unwrap();
    assert!(best_left <= previous.unwrap());
}

/// `language = "sv"` with the default subject: every word of the subject is Swedish.
#[test]
fn a_swedish_digest_with_the_default_subject_does_not_mix_languages() {
    let digest = digest_of(&[("a", "c1", "high"), ("b", "c2", "low")], None);
    let context = Context {
        subject_prefix: None,
        ..ctx(Language::Swedish)
    };
    let view = View::build(&digest, &context, Limits::FULL, attachments());
    assert_eq!(
        view.subject,
        "Azure-säkerhetslarm 2026-11-29: 2 olösta larm (1 höga, 2 försenade) hos 2 kunder"
    );
    let english = Language::English.catalogue();
    for word in view.subject.split_whitespace() {
        let word = word.trim_matches(|c: char| !c.is_alphabetic());
        for (key, text) in english.entries() {
            assert!(
                word.is_empty() || word == "Azure" || !text.split_whitespace().any(|w| w == word),
                "{word:?} is English ({key})"
            );
        }
    }
}
