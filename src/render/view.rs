//! The plain view model every report renders from: numbers, and strings already made safe to
//! display and formatted for the configured time zone. Templates only lay it out.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use super::display;
use crate::config::Language;
use crate::digest::{Digest, DigestAlert, Partner, Tally};
use crate::source::model::Severity;
use crate::source::names::Names;

/// The Partner Center Security Alerts dashboard. Links in the digest are only ever fixed URLs
/// like this one, never strings from the API.
pub const PORTAL_URL: &str =
    "https://partner.microsoft.com/dashboard/commerce2/insights/security/alerts";

/// At most this many alerts are listed in the email; the CSV carries all of them. The HTML
/// size budget in [`super::render`] may list fewer.
pub const MAX_LISTED_ALERTS: usize = 100;
/// At most this many alert types in the email's type table.
pub const MAX_LISTED_TYPES: usize = 25;
const MAX_TITLE_CHARS: usize = 120;
const MAX_RESOURCE_CHARS: usize = 60;
/// Names of customers, resellers and subscriptions in the email.
const MAX_NAME_CHARS: usize = 60;

/// Which CSVs the email carries; the others stay in the run folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attachments {
    pub alerts_csv: Option<usize>,
    pub summary_csv: Option<usize>,
    /// Sizes, for the note when one is left out.
    pub alerts_bytes: usize,
    pub summary_bytes: usize,
}

impl Attachments {
    /// Both if they fit `max` together; else the summary alone if it fits; else neither.
    pub fn fitting(alerts: usize, summary: usize, max: usize) -> Self {
        let both = alerts + summary <= max;
        Self {
            alerts_csv: both.then_some(alerts),
            summary_csv: (summary <= max).then_some(summary),
            alerts_bytes: alerts,
            summary_bytes: summary,
        }
    }
}

/// What the view needs besides the digest.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub digest_date: NaiveDate,
    pub timezone: Tz,
    pub language: Language,
    pub subject_prefix: &'a str,
    /// Records the source could not understand.
    pub set_aside: usize,
    /// Names of tenants and subscriptions; ids without one are shown as ids.
    pub names: &'a Names,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub lang: &'static str,
    pub subject: String,
    pub digest_date: String,
    pub as_of: String,
    pub window_days: u32,
    pub window_start: String,
    pub headline: String,
    pub empty: bool,
    pub totals: Tally,
    pub partners: usize,
    pub customers: usize,
    pub subscriptions: usize,
    pub types: Vec<TypeRow>,
    pub types_not_listed: usize,
    pub groups: Vec<PartnerView>,
    pub listed: usize,
    pub not_listed: usize,
    /// "the attached alerts.csv", or where it is when too large to attach.
    pub alerts_csv_where: String,
    pub summary_csv_where: String,
    /// Facts about what the digest does not show, one sentence each.
    pub notes: Vec<String>,
    pub portal_url: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRow {
    pub label: String,
    pub raw: String,
    pub tally: Tally,
    pub partners: usize,
    pub customers: usize,
    pub subscriptions: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerView {
    /// "Reseller Name (short id…)", "Reseller short id…" or "Direct customers".
    pub label: String,
    /// The reseller's name, made safe to display.
    pub name: Option<String>,
    pub id: String,
    pub tally: Tally,
    /// "1 alert", "3 alerts".
    pub count: String,
    pub customers: Vec<CustomerView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerView {
    /// "Name (short id…)", or the short id.
    pub label: String,
    pub name: Option<String>,
    pub id: String,
    pub tally: Tally,
    /// "1 alert", "3 alerts".
    pub count: String,
    pub subscriptions: Vec<SubscriptionView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionView {
    /// "Name (short id…)", or the short id.
    pub label: String,
    pub name: Option<String>,
    pub id: String,
    pub tally: Tally,
    /// "1 alert", "3 alerts".
    pub count: String,
    pub alerts: Vec<AlertRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRow {
    pub id: String,
    pub title: String,
    pub type_label: String,
    pub severity: String,
    /// `high`, `medium`, `low`, `info` or `other`: picks the colour.
    pub severity_class: &'static str,
    pub age: String,
    pub overdue: bool,
    pub detected: String,
    pub resource: String,
    pub more_resources: usize,
}

impl View {
    /// Builds the view listing at most `max_listed` alerts in the drill-down.
    pub fn build(
        digest: &Digest,
        ctx: &Context<'_>,
        max_listed: usize,
        attachments: Attachments,
    ) -> Self {
        let tz = ctx.timezone;
        let totals = digest.totals;
        let types: Vec<TypeRow> = digest
            .types
            .iter()
            .take(MAX_LISTED_TYPES)
            .map(|t| TypeRow {
                label: display::line(&t.label, 80),
                raw: display::line(&t.raw, 80),
                tally: t.tally,
                partners: t.partners,
                customers: t.customers,
                subscriptions: t.subscriptions,
            })
            .collect();

        let groups = groups(digest, tz, max_listed, ctx.names);
        let listed = max_listed.min(digest.alerts.len());

        let digest_date = ctx.digest_date.format("%Y-%m-%d").to_string();
        Self {
            lang: ctx.language.tag(),
            subject: subject(ctx.subject_prefix, &digest_date, digest, ctx.names),
            as_of: local(digest.as_of, tz),
            window_days: window_days(digest),
            window_start: local(digest.window.start, tz),
            headline: headline(digest),
            empty: digest.is_empty(),
            totals,
            partners: digest.reach.partners,
            customers: digest.reach.customers,
            subscriptions: digest.reach.subscriptions,
            types_not_listed: digest.types.len() - types.len(),
            types,
            groups,
            listed,
            not_listed: digest.alerts.len() - listed,
            notes: {
                let mut notes = notes(digest, ctx.set_aside, tz);
                for (name, attached, bytes) in [
                    (
                        "alerts.csv",
                        attachments.alerts_csv,
                        attachments.alerts_bytes,
                    ),
                    (
                        "summary.csv",
                        attachments.summary_csv,
                        attachments.summary_bytes,
                    ),
                ] {
                    if attached.is_none() {
                        notes.push(format!(
                            "{name} ({:.1} MB) is too large to attach; it is saved with this digest's reports on the machine that made it.",
                            megabytes(bytes)
                        ));
                    }
                }
                notes
            },
            alerts_csv_where: csv_where("alerts.csv", attachments.alerts_csv),
            summary_csv_where: csv_where("summary.csv", attachments.summary_csv),
            portal_url: PORTAL_URL,
            digest_date,
        }
    }
}

/// The drill-down: the most urgent alerts (the first `max_listed` in digest order), shown in
/// their partner, customer and subscription groups.
fn groups(digest: &Digest, tz: Tz, max_listed: usize, names: &Names) -> Vec<PartnerView> {
    let mut groups = Vec::new();
    for p in &digest.partners {
        let mut customers = Vec::new();
        for c in &p.customers {
            let mut subscriptions = Vec::new();
            for s in &c.subscriptions {
                let take = s.alerts.partition_point(|&i| i < max_listed);
                if take == 0 {
                    continue;
                }
                let (label, name) = labelled(s.subscription_id.as_deref(), "subscription", names);
                subscriptions.push(SubscriptionView {
                    label,
                    name,
                    id: id_or_unknown(s.subscription_id.as_deref()),
                    tally: s.tally,
                    count: alert_count(s.tally.alerts),
                    alerts: s.alerts[..take]
                        .iter()
                        .map(|&i| alert_row(&digest.alerts[i], tz))
                        .collect(),
                });
            }
            if !subscriptions.is_empty() {
                let (label, name) = labelled(c.tenant_id.as_deref(), "customer", names);
                customers.push(CustomerView {
                    label,
                    name,
                    id: id_or_unknown(c.tenant_id.as_deref()),
                    tally: c.tally,
                    count: alert_count(c.tally.alerts),
                    subscriptions,
                });
            }
        }
        if !customers.is_empty() {
            let (label, name, id) = match &p.partner {
                Partner::Direct => ("Direct customers".to_owned(), None, String::new()),
                Partner::Reseller(id) => {
                    let (label, name) = labelled(Some(id), "reseller", names);
                    (format!("Reseller {label}"), name, display::line(id, 80))
                }
            };
            groups.push(PartnerView {
                label,
                name,
                id,
                tally: p.tally,
                count: alert_count(p.tally.alerts),
                customers,
            });
        }
    }
    groups
}

/// The label of a tenant or subscription, "Name (short id…)" when it has a name, and the name
/// alone, both safe to display.
fn labelled(id: Option<&str>, what: &str, names: &Names) -> (String, Option<String>) {
    let Some(id) = id else {
        return (format!("Unknown {what}"), None);
    };
    match names.get(id) {
        Some(name) => {
            let name = display::line(name, MAX_NAME_CHARS);
            (format!("{name} ({})", display::short_id(id)), Some(name))
        }
        None => (display::short_id(id), None),
    }
}

fn csv_where(name: &str, attached: Option<usize>) -> String {
    match attached {
        Some(_) => format!("the attached {name}"),
        None => format!("{name}, saved with the reports (too large to attach)"),
    }
}

fn megabytes(bytes: usize) -> f64 {
    // exact for any realistic size; the note shows one decimal
    f64::from(u32::try_from(bytes / 1024).unwrap_or(u32::MAX)) / 1024.0
}

fn window_days(digest: &Digest) -> u32 {
    u32::try_from((digest.window.end - digest.window.start).num_days()).unwrap_or(u32::MAX)
}

fn id_or_unknown(id: Option<&str>) -> String {
    id.map_or_else(|| "unknown".to_owned(), |id| display::line(id, 80))
}

fn alert_row(a: &DigestAlert, tz: Tz) -> AlertRow {
    let alert = &a.alert;
    let title = alert
        .display_name
        .as_deref()
        .or(alert.description.as_deref())
        .unwrap_or("(no title)");
    let mut resources = alert
        .affected_resources
        .iter()
        .filter_map(|r| r.resource_id.as_deref());
    let resource = resources.next().map_or_else(
        || "—".to_owned(),
        |r| display::line(resource_label(r), MAX_RESOURCE_CHARS),
    );
    AlertRow {
        id: display::line(&alert.id, 80),
        title: display::line(title, MAX_TITLE_CHARS),
        type_label: display::line(&crate::digest::alert_type::label(&alert.alert_type), 80),
        severity: display::line(alert.severity.as_str(), 30),
        severity_class: match alert.severity {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Informational => "info",
            Severity::Unknown(_) => "other",
        },
        age: age(a.age),
        overdue: a.overdue,
        detected: local(alert.detected, tz),
        resource,
        more_resources: resources.count(),
    }
}

/// The last two segments of an ARM id (`virtualMachines/vm-01`): the part a person recognises.
fn resource_label(id: &str) -> &str {
    let trimmed = id.trim_end_matches('/');
    let mut cut = trimmed.len();
    for _ in 0..2 {
        match trimmed[..cut].rfind('/') {
            Some(i) => cut = i,
            None => return trimmed,
        }
    }
    &trimmed[cut + 1..]
}

/// `45 min`, `5 h`, `3 d 4 h`.
pub fn age(age: TimeDelta) -> String {
    let minutes = age.num_minutes().max(0);
    if minutes < 60 {
        format!("{minutes} min")
    } else if minutes < 48 * 60 {
        format!("{} h", minutes / 60)
    } else {
        let hours = minutes / 60;
        format!("{} d {} h", hours / 24, hours % 24)
    }
}

/// A time in the configured zone, to the minute, with the zone's abbreviation.
pub fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

fn alert_count(n: usize) -> String {
    plural(n, "alert", "alerts")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn headline(d: &Digest) -> String {
    let t = d.totals;
    if t.alerts == 0 {
        return format!(
            "No unresolved alerts were detected in the past {} days.",
            window_days(d)
        );
    }
    let mut s = format!(
        "{} across {} and {}",
        plural(t.alerts, "unresolved alert", "unresolved alerts"),
        plural(d.reach.customers, "customer", "customers"),
        plural(d.reach.subscriptions, "subscription", "subscriptions"),
    );
    let _ = write!(
        s,
        "; {} high severity, {} open for more than 24 hours.",
        t.high, t.overdue
    );
    s
}

/// The subject carries the date and the counts, never a string from the alerts; when every
/// alert concerns one customer with a known name, that name, without control characters.
pub fn subject(prefix: &str, digest_date: &str, d: &Digest, names: &Names) -> String {
    let t = d.totals;
    if t.alerts == 0 {
        return format!("{prefix} {digest_date}: no unresolved alerts");
    }
    let single = (d.reach.customers == 1)
        .then(|| d.alerts.first().and_then(|a| a.customer.as_deref()))
        .flatten()
        .and_then(|id| names.get(id))
        .map(|name| display::header_text(name, MAX_NAME_CHARS))
        .filter(|name| !name.is_empty());
    format!(
        "{prefix} {digest_date}: {} ({} high, {} overdue) in {}",
        plural(t.alerts, "unresolved alert", "unresolved alerts"),
        t.high,
        t.overdue,
        single.unwrap_or_else(|| plural(d.reach.customers, "customer", "customers")),
    )
}

fn notes(d: &Digest, set_aside: usize, tz: Tz) -> Vec<String> {
    let s = d.selection;
    let mut notes = Vec::new();
    if s.older_than_window > 0 {
        notes.push(format!(
            "{} detected before {} (older than the {}-day window) {} still unresolved; see the Partner Center dashboard.",
            plural(s.older_than_window, "alert", "alerts"),
            d.window.start.with_timezone(&tz).format("%Y-%m-%d"),
            window_days(d),
            if s.older_than_window == 1 { "is" } else { "are" },
        ));
    }
    if s.after_as_of > 0 {
        notes.push(format!(
            "{} detected after this digest's as-of time {} not included.",
            plural(s.after_as_of, "unresolved alert", "unresolved alerts"),
            if s.after_as_of == 1 { "is" } else { "are" },
        ));
    }
    if s.test > 0 {
        notes.push(format!(
            "{} left out.",
            plural(s.test, "test alert was", "test alerts were")
        ));
    }
    if set_aside > 0 {
        notes.push(format!(
            "{} could not be read and {} set aside; the job's log names them.",
            plural(set_aside, "record", "records"),
            if set_aside == 1 { "was" } else { "were" },
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::digest::{self, Rules};
    use crate::source::model::parse_alert;
    use crate::source::names::Origin;

    fn digest_of(alerts: &[(&str, &str, &str)]) -> Digest {
        let alerts = alerts
            .iter()
            .map(|(id, customer, severity)| {
                parse_alert(&format!(
                    r#"{{"id":"{id}","status":"active","severity":"{severity}","customerTenantId":"{customer}",
                        "subscriptionId":"s","detectedDateTime":"2026-11-28T00:00:00Z"}}"#
                ))
                .unwrap()
            })
            .collect();
        let as_of = DateTime::parse_from_rfc3339("2026-11-29T07:00:00Z").unwrap();
        digest::build(
            alerts,
            as_of.into(),
            Rules {
                window_days: 60,
                include_test_alerts: false,
            },
        )
    }

    fn ctx() -> Context<'static> {
        Context {
            digest_date: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
            timezone: chrono_tz::UTC,
            language: Language::English,
            subject_prefix: "Alerts",
            set_aside: 0,
            names: Box::leak(Box::default()),
        }
    }

    #[test]
    fn the_listed_alerts_are_the_most_urgent_ones_in_their_groups() {
        // customer a has the most urgent alert and a minor one; customer b the second most urgent
        let digest = digest_of(&[
            ("a-high", "a", "high"),
            ("a-low", "a", "low"),
            ("b-med", "b", "medium"),
        ]);
        let view = View::build(&digest, &ctx(), 2, Attachments::fitting(1, 1, 10));
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
    }

    #[test]
    fn the_subject_carries_the_date_and_counts_only() {
        let none = Names::default();
        let digest = digest_of(&[("x", "<script>", "high")]);
        assert_eq!(
            subject("Alerts", "2026-11-29", &digest, &none),
            "Alerts 2026-11-29: 1 unresolved alert (1 high, 1 overdue) in 1 customer"
        );
        let empty = digest_of(&[]);
        assert_eq!(
            subject("Alerts", "2026-11-29", &empty, &none),
            "Alerts 2026-11-29: no unresolved alerts"
        );
    }

    #[test]
    fn the_subject_names_a_single_named_customer_without_control_characters() {
        let mut names = Names::default();
        names.insert(
            "C1",
            "Contoso\r\nBcc: victim@evil.example\u{7}",
            Origin::PartnerCenter,
        );
        let one = digest_of(&[("x", "c1", "high"), ("y", "C1", "low")]);
        assert_eq!(
            subject("Alerts", "2026-11-29", &one, &names),
            "Alerts 2026-11-29: 2 unresolved alerts (1 high, 2 overdue) in Contoso Bcc: victim@evil.example"
        );
        let two = digest_of(&[("x", "c1", "high"), ("y", "c2", "low")]);
        assert!(
            subject("Alerts", "2026-11-29", &two, &names).ends_with("in 2 customers"),
            "two customers are counted, not named"
        );
        let unnamed = digest_of(&[("x", "c3", "high")]);
        assert!(subject("Alerts", "2026-11-29", &unnamed, &names).ends_with("in 1 customer"));
    }

    #[test]
    fn named_groups_show_the_name_with_the_short_id_and_unnamed_ones_the_short_id() {
        let mut names = Names::default();
        names.insert(
            "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            "Contoso <Ltd>\u{202E}",
            Origin::File,
        );
        let digest = digest_of(&[
            ("a", "6F1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D", "high"),
            ("b", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "low"),
        ]);
        let ctx = Context {
            names: &names,
            ..ctx()
        };
        let view = View::build(&digest, &ctx, 10, Attachments::fitting(1, 1, 10));
        let customers = &view.groups[0].customers;
        assert_eq!(customers[0].label, "Contoso <Ltd>[U+202E] (6f1b2c3d…)");
        assert_eq!(customers[0].name.as_deref(), Some("Contoso <Ltd>[U+202E]"));
        assert_eq!(customers[1].label, "0a1b2c3d…");
        assert_eq!(customers[1].name, None);
    }

    #[test]
    fn ages_read_in_minutes_hours_or_days() {
        assert_eq!(age(TimeDelta::minutes(45)), "45 min");
        assert_eq!(age(TimeDelta::minutes(60 * 5 + 10)), "5 h");
        assert_eq!(age(TimeDelta::hours(47)), "47 h");
        assert_eq!(age(TimeDelta::hours(76)), "3 d 4 h");
    }

    #[test]
    fn resource_labels_keep_the_last_two_segments() {
        assert_eq!(
            resource_label(
                "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-01"
            ),
            "virtualMachines/vm-01"
        );
        assert_eq!(resource_label("vm-01"), "vm-01");
        assert_eq!(resource_label("a/b"), "a/b");
    }
}
