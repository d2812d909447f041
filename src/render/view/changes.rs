//! "Since the last digest": the new alerts, how many are still open, and what became of those
//! that left.

use super::{AlertLine, Context, Kind, alert_line, format, labelled, window_days};
use crate::alert::Severity;
use crate::digest::{Digest, Left, Outcome};
use crate::render::display;
use crate::render::lang::{count, fill};

/// At most this many new alerts, and this many that left, are listed.
pub const MAX_LISTED: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// No earlier digest to compare with.
    pub first: bool,
    /// What this is compared with, or that there is nothing to compare with yet.
    pub intro: String,
    /// "3 new · 5 still open · 2 no longer open", and "· 1 still unresolved, now older than
    /// the window" when alerts aged out.
    pub counts: String,
    pub new: Vec<AlertLine>,
    pub new_more: Option<String>,
    pub left: Vec<LeftLine>,
    pub left_more: Option<String>,
}

/// An alert of the previous digest that this one does not list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftLine {
    pub id: String,
    pub type_label: String,
    pub severity: String,
    pub severity_class: &'static str,
    pub customer: String,
    /// "Fraud, by sec@partner.example, 2026-11-28 14:05".
    pub outcome: String,
    pub resolved: bool,
}

/// `new` are the first `max` new alerts, as positions in the digest's alerts.
pub(super) fn build(
    digest: &Digest,
    ctx: &Context<'_>,
    new: &[usize],
    max: usize,
    (alerts_where, older_where): (&str, &str),
) -> Changes {
    let t = ctx.language.catalogue();
    let Some(history) = &digest.history else {
        return Changes {
            first: true,
            intro: t.changes_first.to_owned(),
            counts: String::new(),
            new: Vec::new(),
            new_more: None,
            left: Vec::new(),
            left_more: None,
        };
    };
    let new_total = digest.totals.new;
    let new: Vec<AlertLine> = new
        .iter()
        .map(|&i| alert_line(&digest.alerts[i], ctx))
        .collect();
    let left: Vec<LeftLine> = history
        .left
        .iter()
        .take(max)
        .map(|l| left_line(l, digest, ctx, older_where))
        .collect();
    let more = |n: usize| (n > 0).then(|| fill(t.more_in, &[("n", &n), ("where", &alerts_where)]));
    let left_more = (history.left.len() > left.len())
        .then(|| count(history.left.len() - left.len(), t.alert_one, t.alert_many));
    Changes {
        first: false,
        intro: fill(
            t.changes_since,
            &[
                ("date", &history.previous_date),
                (
                    "as_of",
                    &format::local(history.previous_as_of, ctx.timezone),
                ),
            ],
        ),
        counts: {
            // Aged out is not "no longer open": those are still unresolved, in older.csv.
            let aged = history
                .left
                .iter()
                .filter(|l| matches!(l.outcome, Outcome::AgedOut))
                .count();
            let mut counts = fill(
                t.changes_counts,
                &[
                    ("new", &count(new_total, t.new_one, t.new_many)),
                    ("open", &history.still_open),
                    ("left", &(history.left.len() - aged)),
                ],
            );
            if aged > 0 {
                counts.push_str(" · ");
                counts.push_str(&fill(t.changes_aged, &[("n", &aged)]));
            }
            counts
        },
        new_more: more(new_total - new.len()),
        new,
        // Alerts that left are not in alerts.csv: only their number is told.
        left_more: left_more.map(|n| format!("+ {n}")),
        left,
    }
}

fn left_line(left: &Left, digest: &Digest, ctx: &Context<'_>, older_where: &str) -> LeftLine {
    let t = ctx.language.catalogue();
    let a = &left.alert;
    let (severity, severity_class) = format::severity(t, &Severity::from_raw(&a.severity));
    let outcome = match &left.outcome {
        Outcome::Resolved { reason, by, on } => {
            let reason = format::reason(t, reason.as_ref());
            match (by.as_deref().filter(|b| !b.trim().is_empty()), on) {
                (Some(by), Some(on)) => fill(
                    t.resolved_by_on,
                    &[
                        ("reason", &reason),
                        ("who", &display::line(by, 60)),
                        ("when", &format::local(*on, ctx.timezone)),
                    ],
                ),
                (Some(by), None) => fill(
                    t.resolved_by_on,
                    &[
                        ("reason", &reason),
                        ("who", &display::line(by, 60)),
                        ("when", &"—"),
                    ],
                ),
                (None, Some(on)) => fill(
                    t.resolved_on,
                    &[
                        ("reason", &reason),
                        ("when", &format::local(*on, ctx.timezone)),
                    ],
                ),
                (None, None) => fill(t.resolved_plain, &[("reason", &reason)]),
            }
        }
        Outcome::AgedOut => fill(
            t.aged_out,
            &[
                ("days", &window_days(digest)),
                ("older_where", &older_where),
            ],
        ),
        Outcome::NowTest => t.now_test.to_owned(),
        Outcome::NotReported => t.not_reported.to_owned(),
    };
    LeftLine {
        id: display::line(&a.id, 80),
        type_label: display::line(
            &crate::render::lang::alert_types::label(&a.alert_type, ctx.language),
            80,
        ),
        severity,
        severity_class,
        customer: labelled(t, a.customer.as_deref(), Kind::Customer, ctx.names).label,
        outcome,
        resolved: matches!(left.outcome, Outcome::Resolved { .. }),
    }
}
