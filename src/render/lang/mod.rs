//! The words of the reports, one catalogue per language. Every string of the HTML, the text and
//! the subject comes from here; CSV column names do not (they are stable identifiers).
//!
//! Each language is a [`Catalogue`] value, so a missing string is a compile error; a unit test
//! checks that every entry takes the same `{placeholders}` in every language. Entries with
//! placeholders are filled with [`fill`].

pub mod alert_types;
mod en;
mod sv;

use chrono::{Datelike, NaiveDate};

/// The language of the reports' prose. CSV column names never change with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    Swedish,
}

impl Language {
    pub const SUPPORTED: &[&str] = &["en", "sv"];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.to_ascii_lowercase().as_str() {
            "en" | "en-us" | "en-gb" => Some(Self::English),
            "sv" | "sv-se" | "sv-fi" => Some(Self::Swedish),
            _ => None,
        }
    }

    /// The BCP 47 tag written into the HTML.
    pub fn tag(self) -> &'static str {
        match self {
            Self::English => "en",
            Self::Swedish => "sv",
        }
    }
}

/// Defines [`Catalogue`] with one `&'static str` field per key, and `entries()` listing them
/// by name for the tests.
macro_rules! catalogue {
    ($($(#[$doc:meta])* $key:ident,)*) => {
        /// The strings of one language.
        #[derive(Debug, PartialEq, Eq)]
        pub struct Catalogue {
            /// Month names, January first.
            pub months: [&'static str; 12],
            /// Short month names, January first.
            pub months_short: [&'static str; 12],
            /// Weekday names, Monday first.
            pub weekdays: [&'static str; 7],
            /// Short weekday names, Monday first.
            pub weekdays_short: [&'static str; 7],
            $($(#[$doc])* pub $key: &'static str,)*
        }

        impl Catalogue {
            /// Every string entry by key, in declaration order.
            pub fn entries(&self) -> Vec<(&'static str, &'static str)> {
                vec![$((stringify!($key), self.$key),)*]
            }
        }
    };
}

catalogue! {
    /// "Azure security alerts"
    brand,
    /// "Digest of {date}"
    digest_of,
    /// The first line of the digest: `{alerts}`, `{customers}`, `{subscriptions}`, `{new}`, `{overdue}`.
    headline,
    /// `{new}`: the headline's new alerts when there is a previous digest.
    new_since,
    /// `{new}`: the headline's new alerts in the first digest.
    new_recent,
    /// `{days}`
    headline_empty,
    /// The headline with the signed-in partner's own name: `{partner}`, `{headline}`.
    headline_of,
    /// `{as_of}`, `{start}`, `{days}`, `{zone}`
    as_of_line,
    unresolved_one,
    unresolved_many,
    alert_one,
    alert_many,
    customer_one,
    customer_many,
    subscription_one,
    subscription_many,
    new_one,
    new_many,
    overdue_one,
    overdue_many,
    count_unresolved,
    count_new,
    count_overdue,
    count_partners,
    count_customers,
    count_subscriptions,
    /// `{high}`, `{medium}`, `{low}`, `{informational}`
    by_severity,
    /// `{n}`
    by_severity_unknown,
    sev_high,
    sev_medium,
    sev_low,
    sev_informational,
    sev_unknown,
    sev_critical,
    /// The chip of a severity this build does not know (its raw name is in the CSV only).
    sev_unknown_chip,
    first_title,
    first_intro,
    first_none,
    /// `{n}`, `{overdue}`
    first_summary,
    /// `{n}`, `{where}`
    first_cut,
    /// `{customers}`, `{n}`, `{where}`
    first_more,
    /// `{id}`: a tenant's whole id
    tenant,
    /// `{n}`, `{where}`
    group_cut,
    respond_title,
    /// `{where}`
    respond_intro,
    open_portal,
    changes_title,
    /// `{date}`, `{as_of}`
    changes_since,
    changes_first,
    /// `{new}`, `{open}`, `{left}`
    changes_counts,
    /// `{n}`
    changes_aged,
    changes_new,
    changes_left,
    changes_none_new,
    changes_none_left,
    reason_legitimate,
    reason_fraud,
    reason_ignore,
    reason_unknown,
    /// `{reason}`, `{who}`, `{when}`
    resolved_by_on,
    /// `{reason}`, `{when}`
    resolved_on,
    /// `{reason}`
    resolved_plain,
    not_reported,
    /// `{days}`, `{older_where}`
    aged_out,
    now_test,
    /// `{n}`, `{where}`
    more_in,
    overdue_title,
    overdue_intro,
    overdue_none,
    chart_title,
    chart_note,
    chart_total,
    types_title,
    col_type,
    col_alerts,
    col_partners,
    col_customers,
    col_subscriptions,
    /// `{n}`
    types_more,
    groups_title,
    groups_intro,
    direct_customers,
    /// `{partner}`: the signed-in partner's own name.
    direct_customers_of,
    /// `{id}`
    reseller,
    /// `{id}`
    customer,
    /// `{id}`
    subscription,
    unknown_customer,
    unknown_subscription,
    /// `{listed}`, `{more}`, `{where}`
    listed_more,
    no_title,
    /// `{n}`
    age_minutes,
    /// `{n}`
    age_hours,
    /// `{d}`, `{h}`
    age_days,
    overdue_mark,
    /// `{time}`
    detected_at,
    /// `{n}`, `{date}`, `{days}`, `{oldest}`, `{older_where}`
    older_one,
    /// `{n}`, `{date}`, `{days}`, `{oldest}`, `{older_where}`
    older_many,
    after_as_of_one,
    after_as_of_many,
    test_one,
    test_many,
    set_aside_one,
    set_aside_many,
    /// `{days}`: days since the sign-in's refresh token was last rotated (over 60).
    sign_in_stale,
    /// `{name}`, `{mb}`
    csv_too_large,
    /// `{name}`
    csv_attached,
    /// `{name}`
    csv_saved,
    act_title,
    act_verify,
    act_review,
    act_report,
    act_compromised,
    /// `{alerts_where}`, `{older_where}`, `{summary_where}`
    footer,
    /// `{prefix}`, `{date}`
    subject_empty,
    /// `{prefix}`, `{date}`, `{alerts}`, `{high}`, `{overdue}`, `{customers}`
    subject,
}

impl Language {
    /// This language's strings.
    pub fn catalogue(self) -> &'static Catalogue {
        match self {
            Self::English => &en::EN,
            Self::Swedish => &sv::SV,
        }
    }
}

/// Replaces each `{name}` in `template` by its value. Unknown placeholders stay as they are,
/// which the catalogue test would catch.
pub fn fill(template: &str, values: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &after[..close];
        if let Some((_, value)) = values.iter().find(|(n, _)| *n == name) {
            use std::fmt::Write as _;
            let _ = write!(out, "{value}");
        } else {
            out.push_str(&rest[open..=open + 1 + close]);
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// `{n}` in the singular or plural entry.
pub fn count(n: usize, one: &str, many: &str) -> String {
    fill(if n == 1 { one } else { many }, &[("n", &n)])
}

impl Catalogue {
    /// "Sunday 29 November 2026" / "söndag 29 november 2026".
    pub fn long_date(&self, date: NaiveDate) -> String {
        format!(
            "{} {} {} {}",
            self.weekdays[date.weekday().num_days_from_monday() as usize],
            date.day(),
            self.months[date.month0() as usize],
            date.year()
        )
    }

    /// "Sun 29 Nov" / "sön 29 nov".
    pub fn short_date(&self, date: NaiveDate) -> String {
        format!(
            "{} {} {}",
            self.weekdays_short[date.weekday().num_days_from_monday() as usize],
            date.day(),
            self.months_short[date.month0() as usize],
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    const ALL: [Language; 2] = [Language::English, Language::Swedish];

    fn placeholders(s: &str) -> BTreeSet<&str> {
        let mut found = BTreeSet::new();
        let mut rest = s;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let close = after.find('}').expect("an unclosed placeholder");
            found.insert(&after[..close]);
            rest = &after[close + 1..];
        }
        found
    }

    #[test]
    fn every_key_exists_in_every_language_with_the_same_placeholders() {
        let english = Language::English.catalogue().entries();
        for language in ALL {
            let entries = language.catalogue().entries();
            assert_eq!(
                entries.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
                english.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
                "{language:?} has the same keys as English"
            );
            for ((key, text), (_, reference)) in entries.iter().zip(&english) {
                assert!(!text.trim().is_empty(), "{language:?}.{key} is empty");
                assert_eq!(
                    placeholders(text),
                    placeholders(reference),
                    "{language:?}.{key} takes the same placeholders as English"
                );
            }
        }
    }

    #[test]
    fn swedish_is_translated() {
        // Entries made only of placeholders, units and product names may read the same.
        const MAY_MATCH: &[&str] = &[
            "age_minutes",
            "resolved_on",
            "resolved_plain",
            "headline_of",
        ];
        let en = Language::English.catalogue().entries();
        let sv = Language::Swedish.catalogue().entries();
        for ((key, a), (_, b)) in en.iter().zip(&sv) {
            assert!(
                a != b || MAY_MATCH.contains(key),
                "{key} is not translated: {a:?}"
            );
        }
    }

    #[test]
    fn fill_replaces_known_placeholders_only() {
        assert_eq!(
            fill("{a} and {b}", &[("a", &1), ("b", &"two")]),
            "1 and two"
        );
        assert_eq!(fill("{a} {c}", &[("a", &1)]), "1 {c}");
        assert_eq!(fill("no { close", &[]), "no { close");
        assert_eq!(count(1, "{n} alert", "{n} alerts"), "1 alert");
        assert_eq!(count(2, "{n} alert", "{n} alerts"), "2 alerts");
    }

    #[test]
    fn dates_follow_the_language() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(
            Language::English.catalogue().long_date(d),
            "Sunday 29 November 2026"
        );
        assert_eq!(
            Language::Swedish.catalogue().long_date(d),
            "söndag 29 november 2026"
        );
        assert_eq!(Language::English.catalogue().short_date(d), "Sun 29 Nov");
        assert_eq!(Language::Swedish.catalogue().short_date(d), "sön 29 nov");
    }
}
