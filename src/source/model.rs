//! The `partnerSecurityAlert` resource, parsed tolerantly: the service adds enum members and
//! fields without notice, and its own samples send booleans as strings.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::{self, Deserializer};

/// One alert as the digest sees it: validated, with evolvable enums kept as raw text when unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    /// Raw API value; an open set, compared case-insensitively.
    pub alert_type: String,
    pub status: Status,
    pub severity: Severity,
    pub confidence: Confidence,
    pub customer_tenant_id: Option<String>,
    pub subscription_id: Option<String>,
    pub reseller_tenant_id: Option<String>,
    pub catalog_offer_id: Option<String>,
    pub detected: DateTime<Utc>,
    pub first_observed: Option<DateTime<Utc>>,
    pub last_observed: Option<DateTime<Utc>>,
    pub resolved_reason: Option<ResolvedReason>,
    pub resolved_on: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub is_test: bool,
    pub affected_resources: Vec<AffectedResource>,
    pub activity_logs: Vec<ActivityLog>,
    pub additional_details: BTreeMap<String, String>,
}

impl Alert {
    /// The latest moment this copy of the alert speaks of; when the same alert arrives twice,
    /// the copy with the later moment is the more recent observation.
    pub fn last_change(&self) -> DateTime<Utc> {
        let logs = self.activity_logs.iter().filter_map(|l| l.updated);
        [Some(self.detected), self.last_observed, self.resolved_on]
            .into_iter()
            .flatten()
            .chain(logs)
            .max()
            .unwrap_or(self.detected)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AffectedResource {
    #[serde(default)]
    pub resource_id: Option<String>,
    #[serde(default)]
    pub resource_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityLog {
    pub status_from: Option<String>,
    pub status_to: Option<String>,
    pub updated_by: Option<String>,
    pub updated: Option<DateTime<Utc>>,
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

/// Why one record of a page was set aside instead of parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("not a JSON object of the expected shape: {0}")]
    Shape(String),
    #[error("no usable `id`")]
    MissingId,
    #[error("`detectedDateTime` is missing")]
    MissingDetected,
    #[error("`detectedDateTime` is not a date-time: {0:?}")]
    BadDetected(String),
}

/// Parses one record of a page. Wrong types for known fields and unparsable detection times
/// set the record aside; other timestamps that do not parse are dropped to `None`, since the
/// digest can still place the alert by its detection time.
pub fn parse_alert(json: &str) -> Result<Alert, RecordError> {
    let raw: RawAlert =
        serde_json::from_str(json).map_err(|e| RecordError::Shape(e.to_string()))?;
    raw.validate()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAlert {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    alert_type: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    confidence_level: Option<String>,
    #[serde(default)]
    customer_tenant_id: Option<String>,
    #[serde(default)]
    subscription_id: Option<String>,
    #[serde(default)]
    value_added_reseller_tenant_id: Option<String>,
    #[serde(default)]
    catalog_offer_id: Option<String>,
    #[serde(default)]
    detected_date_time: Option<String>,
    #[serde(default)]
    first_observed_date_time: Option<String>,
    #[serde(default)]
    last_observed_date_time: Option<String>,
    #[serde(default)]
    resolved_reason: Option<String>,
    #[serde(default)]
    resolved_on_date_time: Option<String>,
    #[serde(default)]
    resolved_by: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    is_test: Option<bool>,
    #[serde(default)]
    affected_resources: Option<Vec<AffectedResource>>,
    #[serde(default)]
    activity_logs: Option<Vec<RawActivityLog>>,
    #[serde(default)]
    additional_details: Option<BTreeMap<String, Option<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawActivityLog {
    #[serde(default)]
    status_from: Option<String>,
    #[serde(default)]
    status_to: Option<String>,
    #[serde(default)]
    updated_by: Option<String>,
    #[serde(default)]
    updated_date_time: Option<String>,
}

impl RawAlert {
    fn validate(self) -> Result<Alert, RecordError> {
        let id = non_empty(self.id).ok_or(RecordError::MissingId)?;
        let detected_raw = self
            .detected_date_time
            .ok_or(RecordError::MissingDetected)?;
        let detected = parse_time(&detected_raw).ok_or(RecordError::BadDetected(detected_raw))?;
        let opt_time = |v: Option<String>| v.as_deref().and_then(parse_time);
        Ok(Alert {
            id,
            display_name: non_empty(self.display_name),
            description: non_empty(self.description),
            alert_type: non_empty(self.alert_type).unwrap_or_else(|| "unknown".to_owned()),
            status: Status::from_raw(self.status.as_deref().unwrap_or("unknownFutureValue")),
            severity: Severity::from_raw(self.severity.as_deref().unwrap_or("unknownFutureValue")),
            confidence: Confidence::from_raw(
                self.confidence_level
                    .as_deref()
                    .unwrap_or("unknownFutureValue"),
            ),
            customer_tenant_id: non_empty(self.customer_tenant_id),
            subscription_id: non_empty(self.subscription_id),
            reseller_tenant_id: non_empty(self.value_added_reseller_tenant_id),
            catalog_offer_id: non_empty(self.catalog_offer_id),
            detected,
            first_observed: opt_time(self.first_observed_date_time),
            last_observed: opt_time(self.last_observed_date_time),
            resolved_reason: non_empty(self.resolved_reason).map(|r| ResolvedReason::from_raw(&r)),
            resolved_on: opt_time(self.resolved_on_date_time),
            resolved_by: non_empty(self.resolved_by),
            is_test: self.is_test.unwrap_or(false),
            affected_resources: self.affected_resources.unwrap_or_default(),
            activity_logs: self
                .activity_logs
                .unwrap_or_default()
                .into_iter()
                .map(|l| ActivityLog {
                    status_from: non_empty(l.status_from),
                    status_to: non_empty(l.status_to),
                    updated_by: non_empty(l.updated_by),
                    updated: l.updated_date_time.as_deref().and_then(parse_time),
                })
                .collect(),
            additional_details: self
                .additional_details
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.unwrap_or_default()))
                .collect(),
        })
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// RFC 3339 with any fraction length (the service sends up to 7 digits) and any offset.
pub fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `isTest` arrives as `true`, `"false"`, `"False"`, `1`…; anything else is a wrong type.
fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Loose {
        Bool(bool),
        Int(i64),
        Text(String),
    }
    match Option::<Loose>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Loose::Bool(b)) => Ok(Some(b)),
        Some(Loose::Int(0)) => Ok(Some(false)),
        Some(Loose::Int(1)) => Ok(Some(true)),
        Some(Loose::Text(t)) if t.trim().eq_ignore_ascii_case("true") || t.trim() == "1" => {
            Ok(Some(true))
        }
        Some(Loose::Text(t)) if t.trim().eq_ignore_ascii_case("false") || t.trim() == "0" => {
            Ok(Some(false))
        }
        Some(Loose::Text(t)) if t.trim().is_empty() => Ok(None),
        Some(_) => Err(de::Error::custom(
            "`isTest` is neither a boolean nor \"true\"/\"false\"",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert_json(extra: &str) -> String {
        format!(
            r#"{{"id":"a1","alertType":"CryptoMining","status":"active","severity":"high",
            "detectedDateTime":"2026-11-27T16:03:33.05Z"{extra}}}"#
        )
    }

    #[test]
    fn is_test_accepts_booleans_as_strings_and_numbers() {
        for (raw, expected) in [
            ("true", true),
            ("\"false\"", false),
            ("\"False\"", false),
            ("\"TRUE\"", true),
            ("1", true),
            ("0", false),
            ("null", false),
        ] {
            let alert = parse_alert(&alert_json(&format!(r#","isTest":{raw}"#))).unwrap();
            assert_eq!(alert.is_test, expected, "isTest {raw}");
        }
        assert!(parse_alert(&alert_json(r#","isTest":"maybe""#)).is_err());
    }

    #[test]
    fn unknown_enum_members_keep_their_raw_text() {
        let alert = parse_alert(
            r#"{"id":"x","status":"escalated","severity":"critical","confidenceLevel":"unknownFutureValue",
                "detectedDateTime":"2026-11-27T16:03:33Z"}"#,
        )
        .unwrap();
        assert_eq!(alert.status, Status::Unknown("escalated".into()));
        assert!(alert.status.is_unresolved());
        assert_eq!(alert.severity, Severity::Unknown("critical".into()));
        assert_eq!(
            alert.confidence,
            Confidence::Unknown("unknownFutureValue".into())
        );
    }

    #[test]
    fn seven_digit_fractions_and_offsets_parse() {
        let t = parse_time("2023-08-10T08:47:10.8454142Z").unwrap();
        assert_eq!(t.timestamp_subsec_nanos(), 845_414_200);
        let t = parse_time("2026-09-30T22:10:00+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-09-30T20:10:00+00:00");
        assert!(parse_time("not-a-date").is_none());
    }

    #[test]
    fn explicit_nulls_and_missing_optionals_parse() {
        let alert = parse_alert(&alert_json(
            r#","affectedResources":null,"activityLogs":null,"additionalDetails":null,
               "resolvedReason":null,"catalogOfferId":null,"valueAddedResellerTenantId":null"#,
        ))
        .unwrap();
        assert!(alert.affected_resources.is_empty());
        assert!(alert.reseller_tenant_id.is_none());
        assert!(alert.resolved_reason.is_none());
    }

    #[test]
    fn records_without_usable_id_or_detection_time_are_rejected() {
        let numeric = r#"{"id":42,"detectedDateTime":"2026-11-27T16:03:33Z"}"#;
        assert!(matches!(parse_alert(numeric), Err(RecordError::Shape(_))));
        let blank = r#"{"id":"  ","detectedDateTime":"2026-11-27T16:03:33Z"}"#;
        assert_eq!(parse_alert(blank), Err(RecordError::MissingId));
        let bad = r#"{"id":"x","detectedDateTime":"not-a-date"}"#;
        assert_eq!(
            parse_alert(bad),
            Err(RecordError::BadDetected("not-a-date".into()))
        );
        let missing = r#"{"id":"x"}"#;
        assert_eq!(parse_alert(missing), Err(RecordError::MissingDetected));
    }

    #[test]
    fn last_change_considers_resolution_and_activity() {
        let alert = parse_alert(&alert_json(
            r#","lastObservedDateTime":"2026-11-27T17:00:00Z",
               "activityLogs":[{"statusTo":"investigating","updatedDateTime":"2026-11-28T08:00:00Z"}]"#,
        ))
        .unwrap();
        assert_eq!(
            alert.last_change(),
            parse_time("2026-11-28T08:00:00Z").unwrap()
        );
    }
}
