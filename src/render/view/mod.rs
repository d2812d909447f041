//! The plain view model every report renders from: numbers, and strings already made safe to
//! display, in the configured language and time zone. Templates only lay it out.

mod act_first;
mod attachments;
mod changes;
pub mod chart;
mod drill_down;
pub mod format;

use chrono::NaiveDate;
use chrono_tz::Tz;

pub use act_first::{ActCustomer, ActFirst};
pub use attachments::Attachments;
pub use changes::{Changes, LeftLine};
pub use chart::{ChartRow, Segment};

use super::display;
use super::lang::{Catalogue, count, fill};
use super::lang::{Language, alert_types};
use crate::alert::DetailStore;
use crate::digest::{Digest, DigestAlert, Partner, Tally};
use crate::names::Names;

/// The Partner Center Security Alerts dashboard. Links in the digest are only ever fixed URLs
/// like this one, never strings from the API.
pub const PORTAL_URL: &str =
    "https://partner.microsoft.com/dashboard/commerce2/insights/security/alerts";

/// At most this many alerts are listed in the drill-down; the CSV carries all of them. The HTML
/// size budget in [`super::render`] may list fewer.
pub const MAX_LISTED_ALERTS: usize = 100;
/// At most this many overdue alerts are listed before the drill-down.
pub const MAX_LISTED_OVERDUE: usize = 10;
/// At most this many alert types in the email's type table.
pub const MAX_LISTED_TYPES: usize = 25;
const MAX_TITLE_CHARS: usize = 120;
const MAX_RESOURCE_CHARS: usize = 60;
/// Names of customers, resellers and subscriptions in the email.
const MAX_NAME_CHARS: usize = 60;

/// What the view needs besides the digest.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub digest_date: NaiveDate,
    pub timezone: Tz,
    pub language: Language,
    /// The configured subject prefix; `None`: the language's "Azure security alerts".
    pub subject_prefix: Option<&'a str>,
    /// Records the source could not understand.
    pub set_aside: usize,
    /// Names of tenants and subscriptions; ids without one are shown as ids.
    pub names: &'a Names,
    /// Where the alerts' details are kept.
    pub details: &'a DetailStore,
    /// Days since the App+User sign-in's refresh token was last rotated, when that is long
    /// enough to warn about.
    pub stale_sign_in_days: Option<i64>,
}

/// How many alerts the drill-down and the shorter lists show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub drill_down: usize,
    pub overdue: usize,
    pub changes: usize,
    pub act_first: usize,
}

impl Limits {
    pub const FULL: Self = Self {
        drill_down: MAX_LISTED_ALERTS,
        overdue: MAX_LISTED_OVERDUE,
        changes: changes::MAX_LISTED,
        act_first: act_first::MAX_LISTED,
    };
    pub const NONE: Self = Self {
        drill_down: 0,
        overdue: 0,
        changes: 0,
        act_first: 0,
    };
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The language's fixed words, for headings and column names.
    pub t: &'static Catalogue,
    pub lang: &'static str,
    pub subject: String,
    /// "Azure security alerts · Digest of Sunday 29 November 2026".
    pub kicker: String,
    pub digest_date: String,
    pub headline: String,
    /// As-of time, window and the time zone every time is shown in.
    pub as_of_line: String,
    pub empty: bool,
    pub totals: Tally,
    pub counts: Vec<Count>,
    pub severity_line: String,
    pub act_first: ActFirst,
    pub changes: Changes,
    pub overdue: Vec<AlertLine>,
    pub overdue_more: Option<String>,
    pub chart: Vec<ChartRow>,
    pub chart_legend: String,
    /// (bar class, severity name): the HTML legend's colour swatches.
    pub chart_swatches: Vec<(&'static str, &'static str)>,
    pub types: Vec<TypeRow>,
    pub types_more: Option<String>,
    pub groups: Vec<PartnerView>,
    pub listed: usize,
    pub not_listed: usize,
    pub listed_more: Option<String>,
    /// Facts about what the digest does not show, one sentence each.
    pub notes: Vec<String>,
    pub act: [&'static str; 4],
    pub footer: String,
    /// How to give decisions back: fill in `alerts.csv`, then `resolve --from-csv`.
    pub respond_intro: String,
    pub portal_url: &'static str,
}

/// One number of the headline row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    pub value: usize,
    pub label: &'static str,
    /// Drawn in the alarm colour when not zero.
    pub alarm: bool,
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
    /// The label with the whole id, for the text part.
    pub full_label: String,
    pub id: String,
    pub tally: Tally,
    /// "1 alert · 1 high · 0 over 24 h".
    pub summary: String,
    pub customers: Vec<CustomerView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerView {
    /// "Customer Name (short id…)", or "Customer short id…".
    pub label: String,
    pub name: Option<String>,
    /// The label with the whole id, for the text part.
    pub full_label: String,
    pub id: String,
    /// "1 alert", "3 alerts".
    pub count: String,
    /// "tenant 6f1b…": the whole tenant id, once per customer.
    pub tenant: Option<String>,
    /// How many of its alerts the drill-down leaves out, and where they are.
    pub cut: Option<String>,
    /// The label of the customer's one subscription, when it has just one: shown on the
    /// customer's line instead of a line of its own.
    pub only_subscription: Option<String>,
    pub subscriptions: Vec<SubscriptionView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionView {
    /// "Subscription Name (short id…)", or "Subscription short id…".
    pub label: String,
    pub name: Option<String>,
    /// The label with the whole id, for the text part.
    pub full_label: String,
    pub id: String,
    /// "1 alert", "3 alerts".
    pub count: String,
    pub alerts: Vec<AlertLine>,
}

/// One alert, as every list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertLine {
    pub id: String,
    pub title: String,
    pub type_label: String,
    pub severity: String,
    /// `high`, `medium`, `low`, `info` or `other`: picks the colour.
    pub severity_class: &'static str,
    /// "Customer 6f1b2c3d…".
    pub customer: String,
    pub age: String,
    pub overdue: bool,
    pub is_new: bool,
    pub detected: String,
    pub resource: String,
    pub more_resources: usize,
}

/// The alerts and groups the view's lists may show, found once for a digest: each pass of the
/// HTML size budget ([`crate::render`]) only cuts these lists shorter, so a pass costs the same
/// however many alerts and groups the digest holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// What this listing was found for; a view may ask for less, never for more.
    limits: Limits,
    /// The first overdue alerts, most severe then oldest first, that "Act first" does not show
    /// (see [`first_overdue`]), and how many such there are.
    overdue: Vec<usize>,
    overdue_total: usize,
    /// The first new alerts, in digest order.
    new: Vec<usize>,
    /// The drill-down's candidates: (partner, [(customer, [subscription])]) positions in the
    /// digest's groups, in group order, of the subscriptions holding any of the first
    /// `limits.drill_down` alerts.
    groups: Vec<(usize, Vec<ListedCustomer>)>,
    /// "Act first"'s customers in rank order, each with its alerts.
    act_first: Vec<Vec<usize>>,
}

/// A customer's position in its partner group, and those of its subscriptions a [`Listing`]
/// found.
type ListedCustomer = (usize, Vec<usize>);

impl Listing {
    pub fn of(digest: &Digest, limits: Limits) -> Self {
        let act_first = act_first::ranked(digest);
        let shown_first: std::collections::HashSet<usize> =
            act_first::listed(&act_first, limits.act_first)
                .into_iter()
                .flatten()
                .copied()
                .collect();
        let (overdue, overdue_total) = first_overdue(digest, limits.overdue, &shown_first);
        let new = (0..digest.alerts.len())
            .filter(|&i| digest.alerts[i].is_new)
            .take(limits.changes)
            .collect();
        let max_listed = limits.drill_down;
        let groups = digest
            .partners
            .iter()
            .enumerate()
            .filter_map(|(pi, p)| {
                let customers: Vec<ListedCustomer> = p
                    .customers
                    .iter()
                    .enumerate()
                    .filter_map(|(ci, c)| {
                        let subscriptions: Vec<usize> = c
                            .subscriptions
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| s.alerts.first().is_some_and(|&i| i < max_listed))
                            .map(|(si, _)| si)
                            .collect();
                        (!subscriptions.is_empty()).then_some((ci, subscriptions))
                    })
                    .collect();
                (!customers.is_empty()).then_some((pi, customers))
            })
            .collect();
        Self {
            limits,
            overdue,
            overdue_total,
            new,
            groups,
            act_first,
        }
    }

    fn check(&self, limits: Limits) {
        assert!(
            limits.drill_down <= self.limits.drill_down
                && limits.overdue <= self.limits.overdue
                && limits.changes <= self.limits.changes
                && limits.act_first <= self.limits.act_first,
            "a view lists no more than its listing holds"
        );
    }

    /// The first `max` new alerts.
    fn first_new(&self, max: usize) -> &[usize] {
        &self.new[..max.min(self.new.len())]
    }
}

impl View {
    /// Builds the view, listing at most `limits` alerts in each list.
    pub fn build(
        digest: &Digest,
        ctx: &Context<'_>,
        limits: Limits,
        attachments: Attachments,
    ) -> Self {
        Self::build_from(
            digest,
            ctx,
            limits,
            attachments,
            &Listing::of(digest, limits),
        )
    }

    /// [`View::build`] from a [`Listing`] of the digest found for limits at least as large.
    pub fn build_from(
        digest: &Digest,
        ctx: &Context<'_>,
        limits: Limits,
        attachments: Attachments,
        listing: &Listing,
    ) -> Self {
        listing.check(limits);
        let t = ctx.language.catalogue();
        let tz = ctx.timezone;
        let totals = digest.totals;
        let days = window_days(digest);
        let digest_date = ctx.digest_date.format("%Y-%m-%d").to_string();
        let alerts_where = csv_where(t, "alerts.csv", attachments.alerts_csv);
        let summary_where = csv_where(t, "summary.csv", attachments.summary_csv);
        let older_where = csv_where(t, "older.csv", attachments.older_csv);

        let types: Vec<TypeRow> = digest
            .types
            .iter()
            .take(MAX_LISTED_TYPES)
            .map(|ty| TypeRow {
                label: display::line(&alert_types::label(&ty.raw, ctx.language), 80),
                raw: display::line(&ty.raw, 80),
                tally: ty.tally,
                partners: ty.partners,
                customers: ty.customers,
                subscriptions: ty.subscriptions,
            })
            .collect();
        let types_not_listed = digest.types.len() - types.len();

        let listed = limits.drill_down.min(digest.alerts.len());
        let not_listed = digest.alerts.len() - listed;
        let (overdue, overdue_total) = overdue(digest, ctx, listing, limits.overdue);
        let new = listing.first_new(limits.changes);

        Self {
            t,
            lang: ctx.language.tag(),
            subject: subject(
                t,
                ctx.subject_prefix.unwrap_or(t.brand),
                &digest_date,
                digest,
                ctx.names,
            ),
            kicker: format!(
                "{} · {}",
                t.brand,
                fill(t.digest_of, &[("date", &t.long_date(ctx.digest_date))])
            ),
            headline: headline_of(t, digest, ctx),
            as_of_line: fill(
                t.as_of_line,
                &[
                    ("as_of", &format::local(digest.as_of, tz)),
                    ("start", &format::local(digest.window.start, tz)),
                    ("days", &days),
                    ("zone", &tz.name()),
                ],
            ),
            empty: digest.is_empty(),
            totals,
            counts: counts(t, digest),
            severity_line: severity_line(t, totals),
            act_first: act_first::build(
                digest,
                ctx,
                &listing.act_first,
                limits.act_first,
                &alerts_where,
            ),
            changes: changes::build(
                digest,
                ctx,
                new,
                limits.changes,
                (&alerts_where, &older_where),
            ),
            overdue_more: (overdue_total > overdue.len()).then(|| {
                fill(
                    t.more_in,
                    &[
                        ("n", &(overdue_total - overdue.len())),
                        ("where", &alerts_where),
                    ],
                )
            }),
            overdue,
            chart: chart::rows(t, &digest.daily),
            chart_legend: chart::legend(t),
            chart_swatches: chart::swatches(t),
            types_more: (types_not_listed > 0)
                .then(|| fill(t.types_more, &[("n", &types_not_listed)])),
            types,
            groups: drill_down::groups(digest, ctx, listing, limits.drill_down, &alerts_where),
            listed,
            not_listed,
            listed_more: listed_more(t, listed, not_listed, &alerts_where),
            notes: notes(t, digest, ctx, attachments),
            act: [t.act_verify, t.act_review, t.act_report, t.act_compromised],
            footer: footer(t, [&alerts_where, &older_where, &summary_where]),
            respond_intro: fill(t.respond_intro, &[("where", &alerts_where)]),
            portal_url: PORTAL_URL,
            digest_date,
        }
    }
}

/// The overdue alerts, most severe first, then oldest, at most `max`; and how many there are in
/// all.
fn overdue(
    digest: &Digest,
    ctx: &Context<'_>,
    listing: &Listing,
    max: usize,
) -> (Vec<AlertLine>, usize) {
    let lines = listing
        .overdue
        .iter()
        .take(max)
        .map(|&i| alert_line(&digest.alerts[i], ctx))
        .collect();
    (lines, listing.overdue_total)
}

/// The `max` oldest overdue alerts (by detection, then severity, then digest order), as
/// indexes into the digest's alerts; and how many are overdue in all. Only the `max` are
/// sorted: the email lists ten however many there are.
fn first_overdue(
    digest: &Digest,
    max: usize,
    shown_first: &std::collections::HashSet<usize>,
) -> (Vec<usize>, usize) {
    // The digest's order is severity, then oldest: the first overdue ones in it that "Act
    // first" does not already show above.
    let mut total = 0;
    let mut first = Vec::with_capacity(max);
    for (i, alert) in digest.alerts.iter().enumerate() {
        if alert.overdue && !shown_first.contains(&i) {
            total += 1;
            if first.len() < max {
                first.push(i);
            }
        }
    }
    (first, total)
}

/// Every alert the email may list, as indexes into the digest's alerts: the drill-down's
/// first [`MAX_LISTED_ALERTS`], "Act first", the first [`MAX_LISTED_OVERDUE`] overdue ones
/// besides those and the first new ones. Only these have their details read for the email.
pub fn listable(digest: &Digest, listing: &Listing) -> Vec<usize> {
    let mut listed: Vec<usize> = (0..digest.alerts.len().min(MAX_LISTED_ALERTS)).collect();
    listed.extend(&listing.overdue);
    listed.extend(
        act_first::listed(&listing.act_first, act_first::MAX_LISTED)
            .into_iter()
            .flatten(),
    );
    listed.extend(
        (0..digest.alerts.len())
            .filter(|&i| digest.alerts[i].is_new)
            .take(changes::MAX_LISTED),
    );
    listed.sort_unstable();
    listed.dedup();
    listed
}

/// What a group is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Reseller,
    Customer,
    Subscription,
}

/// How a tenant or subscription is shown: `label` with the short id for the HTML ("Customer
/// Name (6f1b2c3d…)" or "Customer 6f1b2c3d…"), `full_label` with the whole id for the text part,
/// and the name alone; all safe to display.
pub(super) struct Labels {
    pub label: String,
    pub full_label: String,
    pub name: Option<String>,
}

pub(super) fn labelled(t: &Catalogue, id: Option<&str>, kind: Kind, names: &Names) -> Labels {
    let (template, unknown) = match kind {
        Kind::Reseller => (t.reseller, t.unknown_customer),
        Kind::Customer => (t.customer, t.unknown_customer),
        Kind::Subscription => (t.subscription, t.unknown_subscription),
    };
    let Some(id) = id else {
        return Labels {
            label: unknown.to_owned(),
            full_label: unknown.to_owned(),
            name: None,
        };
    };
    let name = names
        .get(id)
        .map(|name| display::line(name, MAX_NAME_CHARS));
    let shown = |id: String| match &name {
        Some(name) => format!("{name} ({id})"),
        None => id,
    };
    Labels {
        label: fill(template, &[("id", &shown(display::short_id(id)))]),
        full_label: fill(template, &[("id", &shown(display::line(id, 80)))]),
        name,
    }
}

fn csv_where(t: &Catalogue, name: &str, attached: Option<usize>) -> String {
    match attached {
        Some(_) => fill(t.csv_attached, &[("name", &name)]),
        None => fill(t.csv_saved, &[("name", &name)]),
    }
}

/// "The 30 most urgent alerts are listed above; 166 more are in …", when some are not.
fn listed_more(t: &Catalogue, listed: usize, not_listed: usize, where_: &str) -> Option<String> {
    (not_listed > 0).then(|| {
        fill(
            t.listed_more,
            &[
                ("listed", &listed),
                ("more", &not_listed),
                ("where", &where_),
            ],
        )
    })
}

/// Where each CSV is: `alerts.csv`, `older.csv`, `summary.csv`.
fn footer(t: &Catalogue, [alerts, older, summary]: [&str; 3]) -> String {
    fill(
        t.footer,
        &[
            ("alerts_where", &alerts),
            ("older_where", &older),
            ("summary_where", &summary),
        ],
    )
}

fn window_days(digest: &Digest) -> u32 {
    u32::try_from((digest.window.end - digest.window.start).num_days()).unwrap_or(u32::MAX)
}

fn id_or_unknown(id: Option<&str>) -> String {
    id.map_or_else(|| "unknown".to_owned(), |id| display::line(id, 80))
}

fn alert_line(a: &DigestAlert, ctx: &Context<'_>) -> AlertLine {
    let t = ctx.language.catalogue();
    let alert = &a.alert;
    // Read back from the spill file when they are there (checked readable before the view is
    // built; see [`listable`]).
    let mut buffer = Vec::new();
    let details = ctx
        .details
        .load(&alert.details, &mut buffer)
        .unwrap_or_default();
    let title = alert
        .display_name
        .as_deref()
        .or(details.description)
        .unwrap_or(t.no_title);
    let mut resources = details.affected_resources().filter_map(|r| r.resource_id);
    let resource = resources.next().map_or_else(
        || "—".to_owned(),
        |r| display::line(format::resource_label(r), MAX_RESOURCE_CHARS),
    );
    let (severity, severity_class) = format::severity(t, &alert.severity);
    AlertLine {
        id: display::line(&alert.id, 80),
        title: display::line(title, MAX_TITLE_CHARS),
        type_label: display::line(&alert_types::label(&alert.alert_type, ctx.language), 80),
        severity,
        severity_class,
        customer: labelled(t, a.customer.as_deref(), Kind::Customer, ctx.names).label,
        age: format::age(t, a.age),
        overdue: a.overdue,
        is_new: a.is_new,
        detected: fill(
            t.detected_at,
            &[("time", &format::local(alert.detected, ctx.timezone))],
        ),
        resource,
        more_resources: resources.count(),
    }
}

/// The headline row.
fn counts(t: &'static Catalogue, digest: &Digest) -> Vec<Count> {
    let totals = digest.totals;
    let count = |value, label, alarm| Count {
        value,
        label,
        alarm,
    };
    vec![
        count(totals.alerts, t.count_unresolved, false),
        count(totals.new, t.count_new, false),
        count(totals.overdue, t.count_overdue, true),
        count(digest.reach.partners, t.count_partners, false),
        count(digest.reach.customers, t.count_customers, false),
        count(digest.reach.subscriptions, t.count_subscriptions, false),
    ]
}

fn severity_line(t: &Catalogue, totals: Tally) -> String {
    let mut line = fill(
        t.by_severity,
        &[
            ("high", &totals.high),
            ("medium", &totals.medium),
            ("low", &totals.low),
            ("informational", &totals.informational),
        ],
    );
    if totals.other > 0 {
        line.push_str(" · ");
        line.push_str(&fill(t.by_severity_unknown, &[("n", &totals.other)]));
    }
    line
}

/// The headline, after the signed-in partner's own name when Partner Center gave it.
fn headline_of(t: &Catalogue, d: &Digest, ctx: &Context<'_>) -> String {
    match ctx.names.own_name() {
        Some(partner) => fill(
            t.headline_of,
            &[
                ("partner", &display::line(partner, 80)),
                ("headline", &headline(t, d)),
            ],
        ),
        None => headline(t, d),
    }
}

/// A partner group's labels and id: the reseller's, or "Direct customers", "of" the signed-in
/// partner when its name is known.
fn partner_labels(t: &Catalogue, partner: &Partner, ctx: &Context<'_>) -> (Labels, String) {
    match partner {
        Partner::Direct => {
            let label = match ctx.names.own_name() {
                Some(own) => fill(
                    t.direct_customers_of,
                    &[("partner", &display::line(own, 80))],
                ),
                None => t.direct_customers.to_owned(),
            };
            (
                Labels {
                    full_label: label.clone(),
                    label,
                    name: None,
                },
                String::new(),
            )
        }
        Partner::Reseller(id) => (
            labelled(t, Some(id), Kind::Reseller, ctx.names),
            display::line(id, 80),
        ),
    }
}

fn headline(t: &Catalogue, d: &Digest) -> String {
    let totals = d.totals;
    if totals.alerts == 0 {
        return fill(t.headline_empty, &[("days", &window_days(d))]);
    }
    fill(
        t.headline,
        &[
            (
                "alerts",
                &count(totals.alerts, t.unresolved_one, t.unresolved_many),
            ),
            (
                "customers",
                &count(d.reach.customers, t.customer_one, t.customer_many),
            ),
            (
                "subscriptions",
                &count(
                    d.reach.subscriptions,
                    t.subscription_one,
                    t.subscription_many,
                ),
            ),
            (
                "new",
                &fill(
                    if d.history.is_some() {
                        t.new_since
                    } else {
                        t.new_recent
                    },
                    &[("new", &count(totals.new, t.new_one, t.new_many))],
                ),
            ),
            ("overdue", &totals.overdue),
        ],
    )
}

/// The subject carries the date and the counts, never a string from the alerts; when every
/// alert concerns one customer with a known name, that name, without control characters.
pub fn subject(
    t: &Catalogue,
    prefix: &str,
    digest_date: &str,
    d: &Digest,
    names: &Names,
) -> String {
    let totals = d.totals;
    if totals.alerts == 0 {
        return fill(
            t.subject_empty,
            &[("prefix", &prefix), ("date", &digest_date)],
        );
    }
    let single = (d.reach.customers == 1)
        .then(|| d.alerts.first().and_then(|a| a.customer.as_deref()))
        .flatten()
        .and_then(|id| names.get(id))
        .map(|name| display::header_text(name, MAX_NAME_CHARS))
        .filter(|name| !name.is_empty());
    fill(
        t.subject,
        &[
            ("prefix", &prefix),
            ("date", &digest_date),
            (
                "alerts",
                &count(totals.alerts, t.unresolved_one, t.unresolved_many),
            ),
            ("high", &totals.high),
            ("overdue", &totals.overdue),
            (
                "customers",
                &single
                    .unwrap_or_else(|| count(d.reach.customers, t.customer_one, t.customer_many)),
            ),
        ],
    )
}

fn notes(t: &Catalogue, d: &Digest, ctx: &Context<'_>, attachments: Attachments) -> Vec<String> {
    let s = d.selection;
    let mut notes = Vec::new();
    if let Some(oldest) = d.older.iter().map(|a| a.age).max() {
        let older_where = csv_where(t, "older.csv", attachments.older_csv);
        notes.push(fill(
            if d.older.len() == 1 {
                t.older_one
            } else {
                t.older_many
            },
            &[
                ("n", &d.older.len()),
                (
                    "date",
                    &d.window
                        .start
                        .with_timezone(&ctx.timezone)
                        .format("%Y-%m-%d"),
                ),
                ("days", &window_days(d)),
                ("oldest", &format::age(t, oldest)),
                ("older_where", &older_where),
            ],
        ));
    }
    if s.after_as_of > 0 {
        notes.push(count(s.after_as_of, t.after_as_of_one, t.after_as_of_many));
    }
    if s.test > 0 {
        notes.push(count(s.test, t.test_one, t.test_many));
    }
    if ctx.set_aside > 0 {
        notes.push(count(ctx.set_aside, t.set_aside_one, t.set_aside_many));
    }
    if let Some(days) = ctx.stale_sign_in_days {
        notes.push(fill(t.sign_in_stale, &[("days", &days)]));
    }
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
        ("older.csv", attachments.older_csv, attachments.older_bytes),
    ] {
        if attached.is_none() {
            notes.push(fill(
                t.csv_too_large,
                &[("name", &name), ("mb", &format::megabytes(bytes))],
            ));
        }
    }
    notes
}

#[cfg(test)]
mod tests;
