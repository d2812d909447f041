//! The shared noun: one alert as the digest sees it, validated, with the service's evolvable
//! enums kept as raw text when unknown. The collector makes alerts (`source::record` parses
//! the `partnerSecurityAlert` JSON); every later stage reads them.

mod details;
mod hash;
mod store;

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use details::{AffectedResource, Details, DetailsRef, ResourceRef, encode, sort_entries};
pub use hash::FastHasher;
pub use store::{Detail, DetailStore};

/// Text that repeats across alerts (tenant, subscription and type ids, titles), shared rather
/// than copied: a million alerts name a few thousand tenants.
pub type Text = Arc<str>;

/// One alert as the digest sees it: validated, with evolvable enums kept as raw text when unknown.
/// The digest sorts, groups and compares on these fields; the long free text the reports show
/// (description, affected resources, additional details) is in [`Alert::details`], which the
/// run may move out of memory (see [`DetailStore`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: String,
    pub display_name: Option<Text>,
    /// Raw API value; an open set, compared case-insensitively.
    pub alert_type: Text,
    pub status: Status,
    pub severity: Severity,
    pub confidence: Confidence,
    pub customer_tenant_id: Option<Text>,
    pub subscription_id: Option<Text>,
    pub reseller_tenant_id: Option<Text>,
    pub catalog_offer_id: Option<Text>,
    pub detected: DateTime<Utc>,
    pub first_observed: Option<DateTime<Utc>>,
    pub last_observed: Option<DateTime<Utc>>,
    pub resolved_reason: Option<ResolvedReason>,
    pub resolved_on: Option<DateTime<Utc>>,
    pub resolved_by: Option<Text>,
    pub is_test: bool,
    /// The latest `updatedDateTime` of the status history (`activityLogs`), which the digest
    /// uses only to tell which of two copies of an alert is the more recent.
    pub last_activity: Option<DateTime<Utc>>,
    /// Who made that latest status change (`updatedBy`), for the CSVs.
    pub last_activity_by: Option<Text>,
    pub details: Detail,
}

impl Alert {
    /// An active, high-severity `CryptoMining` alert with nothing else set, for tests to
    /// change what they need of (`Alert { severity, ..Alert::sample(id, detected) }`).
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn sample(id: &str, detected: DateTime<Utc>) -> Self {
        Self {
            id: id.to_owned(),
            display_name: None,
            alert_type: "CryptoMining".into(),
            status: Status::Active,
            severity: Severity::High,
            confidence: Confidence::High,
            customer_tenant_id: None,
            subscription_id: None,
            reseller_tenant_id: None,
            catalog_offer_id: None,
            detected,
            first_observed: None,
            last_observed: None,
            resolved_reason: None,
            resolved_on: None,
            resolved_by: None,
            is_test: false,
            last_activity: None,
            last_activity_by: None,
            details: Detail::default(),
        }
    }

    /// The latest moment this copy of the alert speaks of; when the same alert arrives twice,
    /// the copy with the later moment is the more recent observation.
    pub fn last_change(&self) -> DateTime<Utc> {
        [
            Some(self.detected),
            self.last_observed,
            self.resolved_on,
            self.last_activity,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(self.detected)
    }
}

/// Shares repeated text between alerts (see [`Text`]).
#[derive(Debug, Default)]
pub struct Interner {
    known: std::collections::HashSet<Text, std::hash::BuildHasherDefault<FastHasher>>,
}

impl Interner {
    pub fn text(&mut self, value: &str) -> Text {
        if let Some(text) = self.known.get(value) {
            return Arc::clone(text);
        }
        let text: Text = Arc::from(value);
        self.known.insert(Arc::clone(&text));
        text
    }

    pub(crate) fn non_empty(&mut self, value: Option<std::borrow::Cow<'_, str>>) -> Option<Text> {
        value
            .filter(|v| !v.trim().is_empty())
            .map(|v| self.text(&v))
    }
}

/// Declares an evolvable Graph enum: the known members, plus `Unknown(raw)` for anything else,
/// including the literal `unknownFutureValue`.
macro_rules! evolvable_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $raw:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A member this build does not know, with the service's raw text.
            Unknown(String),
        }

        impl $name {
            pub fn from_raw(raw: &str) -> Self {
                $(if raw.eq_ignore_ascii_case($raw) { return Self::$variant; })+
                Self::Unknown(raw.to_owned())
            }

            /// The API's spelling (or the raw text of an unknown member).
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $raw,)+
                    Self::Unknown(raw) => raw,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

evolvable_enum!(
    /// Alert status. Only `resolved` proves an alert is handled.
    Status { Active => "active", Investigating => "investigating", Resolved => "resolved" }
);
evolvable_enum!(Severity {
    High => "high",
    Medium => "medium",
    Low => "low",
    Informational => "informational",
});
evolvable_enum!(Confidence { High => "high", Medium => "medium", Low => "low" });
evolvable_enum!(ResolvedReason { Legitimate => "legitimate", Fraud => "fraud", Ignore => "ignore" });

impl Status {
    /// An unknown future status is not proof of resolution, so it counts as unresolved.
    pub fn is_unresolved(&self) -> bool {
        !matches!(self, Self::Resolved)
    }
}

impl Severity {
    /// Sort key, most urgent first. An unknown severity (`critical`, say) sorts first: nothing
    /// proves it is minor, and a new member is worth a look.
    pub fn rank(&self) -> u8 {
        match self {
            Self::Unknown(_) => 0,
            Self::High => 1,
            Self::Medium => 2,
            Self::Low => 3,
            Self::Informational => 4,
        }
    }
}
