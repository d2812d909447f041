//! What `resolve` prints: one line per row with a decision, in file order, then one summary
//! line; and the exit code the results add up to. Text from the CSV or the service is shown
//! with control and bidirectional-override characters escaped, so it cannot rewrite a terminal.

use std::fmt::Write as _;

use super::plan::{Invalid, Item, Plan};
use super::update::{Done, Outcome};
use crate::exit::Exit;
use crate::source::graph::alert::AlertState;

/// The counts of one `resolve`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Rows (or `--id`) with a decision.
    pub planned: usize,
    /// Changed by the service (in a dry run: would be changed).
    pub updated: usize,
    /// Rows with no decision, or repeating an earlier row.
    pub blank: usize,
    /// Alerts that already had the decided status and reason.
    pub already: usize,
    /// Resolved alerts not changed without `--force`.
    pub refused: usize,
    /// Rows with an unusable decision or id, and ids the service does not know (404).
    pub invalid: usize,
    /// Reads or updates that failed, or were not tried after the batch stopped.
    pub failed: usize,
}

impl Counts {
    /// Everything that changed nothing without failing.
    pub fn skipped(&self) -> usize {
        self.blank + self.already + self.refused + self.invalid
    }
}

/// The report of a finished batch.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub lines: Vec<String>,
    pub counts: Counts,
    pub exit: Exit,
}

/// Builds the report from the plan's set-aside rows and the batch's results.
pub fn report(plan: &Plan, done: &[Done], dry_run: bool) -> Report {
    let mut counts = Counts {
        planned: plan.items.len(),
        blank: plan.blank + plan.repeated,
        invalid: plan.invalid.len(),
        ..Counts::default()
    };
    let (mut config, mut transient, mut partial) = (!plan.invalid.is_empty(), false, false);
    let mut rows: Vec<(u64, String)> = plan
        .invalid
        .iter()
        .map(|i| (i.line, invalid_line(i)))
        .collect();
    for d in done {
        match &d.outcome {
            Outcome::Updated { .. } | Outcome::WouldUpdate { .. } => counts.updated += 1,
            Outcome::AlreadyDone { .. } => counts.already += 1,
            Outcome::Refused { .. } => {
                counts.refused += 1;
                config = true;
            }
            Outcome::NotFound { .. } => {
                counts.invalid += 1;
                config = true;
            }
            Outcome::Failed { error, .. } => {
                counts.failed += 1;
                if matches!(
                    error,
                    crate::source::graph::GraphError::Auth { .. }
                        | crate::source::graph::GraphError::SignInExpired { .. }
                        | crate::source::graph::GraphError::Unauthorized { .. }
                        | crate::source::graph::GraphError::Forbidden { .. }
                        | crate::source::graph::GraphError::MissingMfa { .. }
                ) {
                    config = true;
                } else if error.is_permanent() {
                    partial = true;
                } else {
                    transient = true;
                }
            }
            Outcome::NotTried { why } => {
                counts.failed += 1;
                if why.contains("deadline") {
                    transient = true;
                }
            }
        }
        rows.push((d.item.line.unwrap_or(0), outcome_line(&d.item, &d.outcome)));
    }
    rows.sort_by_key(|(line, _)| *line);
    let mut lines: Vec<String> = rows.into_iter().map(|(_, text)| text).collect();
    lines.push(summary_line(&counts, dry_run));
    let exit = if config {
        Exit::Config
    } else if transient {
        Exit::Transient
    } else if partial {
        Exit::Partial
    } else {
        Exit::Done
    };
    Report {
        lines,
        counts,
        exit,
    }
}

fn summary_line(c: &Counts, dry_run: bool) -> String {
    let mut line = if dry_run {
        format!(
            "dry run: {} to update, {} skipped, {} failed; nothing was changed",
            c.updated,
            c.skipped(),
            c.failed
        )
    } else {
        format!(
            "{} updated, {} skipped, {} failed",
            c.updated,
            c.skipped(),
            c.failed
        )
    };
    let details: Vec<String> = [
        (c.blank, "without a decision"),
        (c.already, "already so"),
        (c.refused, "resolved before (--force changes them)"),
        (c.invalid, "invalid"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if !details.is_empty() {
        let _ = write!(line, " (skipped: {})", details.join(", "));
    }
    line
}

fn place(line: Option<u64>) -> String {
    line.map_or_else(|| "--id".to_owned(), |l| format!("line {l}"))
}

fn invalid_line(i: &Invalid) -> String {
    let id = i.id.as_deref().map(shown).unwrap_or_default();
    let sep = if id.is_empty() { "" } else { "  " };
    format!(
        "{:<9} line {}{sep}{id}  {}",
        "invalid",
        i.line,
        shown(&i.problem)
    )
}

/// `status (reason)` as the service reports it.
fn state_text(s: &AlertState) -> String {
    match &s.resolved_reason {
        Some(reason) if !s.status.is_unresolved() => format!("{} ({reason})", s.status),
        _ => s.status.to_string(),
    }
}

/// `<id>  customer <c>  <type>`, the service's values first, the CSV's otherwise.
fn subject(item: &Item, state: Option<&AlertState>) -> String {
    let customer = state
        .and_then(|s| s.customer_tenant_id.as_deref())
        .or(item.customer.as_deref())
        .unwrap_or("—");
    let alert_type = state
        .and_then(|s| s.alert_type.as_deref())
        .or(item.alert_type.as_deref())
        .unwrap_or("—");
    format!(
        "{}  customer {}  {}",
        shown(&item.id),
        shown(customer),
        shown(alert_type)
    )
}

fn outcome_line(item: &Item, outcome: &Outcome) -> String {
    let at = place(item.line);
    let to = item.decision.target_text();
    // `<subject>  <state>`, or `<subject>  already <state>`: the alert as it was found.
    let found = |before: &AlertState, already: &str| {
        format!(
            "{}  {already}{}",
            subject(item, Some(before)),
            shown(&state_text(before))
        )
    };
    let (verdict, text) = match outcome {
        Outcome::Updated { before, answer } => {
            let reported = answer.alert.as_ref().map_or_else(
                || format!(" (HTTP {}, no alert in the answer)", answer.http_status),
                |a| {
                    let now = state_text(a);
                    if now == to {
                        String::new()
                    } else {
                        format!(" (the service now reports {})", shown(&now))
                    }
                },
            );
            ("updated", format!("{} → {to}{reported}", found(before, "")))
        }
        Outcome::WouldUpdate { before } => ("plan", format!("{} → {to}", found(before, ""))),
        Outcome::AlreadyDone { before } => ("skipped", found(before, "already ")),
        Outcome::Refused { before } => {
            let by = before
                .resolved_by
                .as_deref()
                .map(|b| format!(" by {}", shown(b)))
                .unwrap_or_default();
            let on = before
                .resolved_on
                .as_deref()
                .map(|o| format!(" on {}", shown(o)))
                .unwrap_or_default();
            (
                "refused",
                format!(
                    "{}{by}{on}; not changed to {to} without --force",
                    found(before, "already ")
                ),
            )
        }
        Outcome::NotFound { .. } => (
            "invalid",
            format!("{}  no such alert (404): check the id", subject(item, None)),
        ),
        Outcome::Failed { before, error } => {
            let from = before
                .as_ref()
                .map(|b| format!("  {} → {to}", shown(&state_text(b))))
                .unwrap_or_default();
            (
                "failed",
                format!(
                    "{}{from}: {}",
                    subject(item, before.as_ref()),
                    shown(&error.to_string())
                ),
            )
        }
        Outcome::NotTried { why } => (
            "failed",
            format!("{}  not tried: {}", subject(item, None), shown(why)),
        ),
    };
    format!("{verdict:<9} {at}  {text}")
}

/// Text with control and bidirectional-formatting characters escaped (`\u{202e}`).
pub fn shown(text: &str) -> String {
    text.chars()
        .map(|c| {
            let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_text_cannot_steer_a_terminal() {
        assert_eq!(
            shown("a\u{1b}[2Jb\u{202e}c\nd"),
            "a\\u{1b}[2Jb\\u{202e}c\\u{a}d"
        );
        assert_eq!(shown("Åsa — ok"), "Åsa — ok");
    }
}
