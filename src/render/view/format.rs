//! Small formatting rules shared by the view: ages, times, severities, resource labels.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::alert::{ResolvedReason, Severity};
use crate::render::display;
use crate::render::lang::{Catalogue, fill};

/// `45 min`, `5 h`, `3 d 4 h` (in the catalogue's words), with no-break spaces: an age never
/// wraps, even where a mail client ignores `white-space: nowrap` (Outlook for Windows).
pub fn age(t: &Catalogue, age: TimeDelta) -> String {
    let minutes = age.num_minutes().max(0);
    let age = if minutes < 60 {
        fill(t.age_minutes, &[("n", &minutes)])
    } else if minutes < 48 * 60 {
        fill(t.age_hours, &[("n", &(minutes / 60))])
    } else {
        let hours = minutes / 60;
        fill(t.age_days, &[("d", &(hours / 24)), ("h", &(hours % 24))])
    };
    age.replace(' ', "\u{a0}")
}

/// A time in the configured zone, to the minute. The zone is named once, in the header.
pub fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// A severity's name in the language, and the class that picks its colours.
///
/// A severity this build does not know is drawn as an alarm (the service sends it for a reason),
/// `critical` (documented nowhere today, but a level of its own) darkest of all; their raw name
/// is in the CSV only.
pub fn severity(t: &Catalogue, severity: &Severity) -> (String, &'static str) {
    match severity {
        Severity::High => (t.sev_high.to_owned(), "high"),
        Severity::Medium => (t.sev_medium.to_owned(), "medium"),
        Severity::Low => (t.sev_low.to_owned(), "low"),
        Severity::Informational => (t.sev_informational.to_owned(), "info"),
        Severity::Unknown(raw) if raw.trim().eq_ignore_ascii_case("critical") => {
            (t.sev_critical.to_owned(), "critical")
        }
        Severity::Unknown(_) => (t.sev_unknown_chip.to_owned(), "alarm"),
    }
}

/// The words for a resolution reason.
pub fn reason(t: &Catalogue, reason: Option<&ResolvedReason>) -> String {
    match reason {
        Some(ResolvedReason::Legitimate) => t.reason_legitimate.to_owned(),
        Some(ResolvedReason::Fraud) => t.reason_fraud.to_owned(),
        Some(ResolvedReason::Ignore) => t.reason_ignore.to_owned(),
        Some(ResolvedReason::Unknown(raw)) => {
            format!("{} ({})", t.reason_unknown, display::line(raw, 30))
        }
        None => t.reason_unknown.to_owned(),
    }
}

/// The last two segments of an ARM id (`virtualMachines/vm-01`): the part a person recognises.
pub fn resource_label(id: &str) -> &str {
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

/// A whole number of megabytes with one decimal, for notes about large files.
pub fn megabytes(bytes: usize) -> String {
    let tenths = bytes.saturating_mul(10) / (1024 * 1024);
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::lang::Language;

    #[test]
    fn ages_read_in_minutes_hours_or_days_in_each_language() {
        let en = Language::English.catalogue();
        let sv = Language::Swedish.catalogue();
        // No-break spaces: an age never wraps, whatever the client does with `nowrap`.
        assert_eq!(age(en, TimeDelta::minutes(45)), "45\u{a0}min");
        assert_eq!(age(en, TimeDelta::minutes(60 * 5 + 10)), "5\u{a0}h");
        assert_eq!(age(en, TimeDelta::hours(47)), "47\u{a0}h");
        assert_eq!(age(en, TimeDelta::hours(76)), "3\u{a0}d\u{a0}4\u{a0}h");
        assert_eq!(age(sv, TimeDelta::hours(76)), "3\u{a0}d\u{a0}4\u{a0}tim");
        assert_eq!(age(sv, TimeDelta::minutes(-5)), "0\u{a0}min");
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

    #[test]
    fn megabytes_have_one_decimal() {
        assert_eq!(megabytes(5 * 1024 * 1024 + 600 * 1024), "5.5");
        assert_eq!(megabytes(0), "0.0");
    }
}
