//! One `partnerSecurityAlert` record of a page, parsed tolerantly into an [`Alert`]: the service
//! adds enum members and fields without notice, and its own samples send booleans as strings.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::alert::{Alert, Confidence, Detail, Interner, ResolvedReason, Severity, Status};

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

/// Parses one record of a page, details in memory. Wrong types for known fields and unparsable
/// detection times set the record aside; other timestamps that do not parse are dropped to
/// `None`, since the digest can still place the alert by its detection time.
pub fn parse_alert(json: &str) -> Result<Alert, RecordError> {
    parse_alert_with(json, &mut Interner::default())
}

/// [`parse_alert`], sharing repeated text through `interner`.
pub fn parse_alert_with(json: &str, interner: &mut Interner) -> Result<Alert, RecordError> {
    let raw: RawAlert =
        serde_json::from_str(json).map_err(|e| RecordError::Shape(e.to_string()))?;
    raw.validate(interner)
}

/// The record as sent; strings borrow from the page unless they hold escapes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAlert<'a> {
    #[serde(default, borrow, deserialize_with = "borrowed")]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    display_name: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    description: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    alert_type: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    status: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    severity: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    confidence_level: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    customer_tenant_id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    subscription_id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    value_added_reseller_tenant_id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    catalog_offer_id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    detected_date_time: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    first_observed_date_time: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    last_observed_date_time: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    resolved_reason: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    resolved_on_date_time: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    resolved_by: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "lenient_bool")]
    is_test: Option<bool>,
    #[serde(default, borrow)]
    affected_resources: Option<Vec<RawResource<'a>>>,
    #[serde(default, borrow, deserialize_with = "latest_activity")]
    activity_logs: Option<Latest<'a>>,
    #[serde(default, borrow, deserialize_with = "entries")]
    additional_details: Option<Vec<Entry<'a>>>,
}

/// One of `additionalDetails`, as sent: its key, and its value (a string or `null`).
type Entry<'a> = (Cow<'a, str>, Option<Cow<'a, str>>);

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawResource<'a> {
    #[serde(default, borrow, deserialize_with = "borrowed")]
    resource_id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    resource_type: Option<Cow<'a, str>>,
}

/// The latest valid entry of the status history: when, and by whom.
#[derive(Debug)]
struct Latest<'a> {
    at: DateTime<Utc>,
    by: Option<Cow<'a, str>>,
}

/// Of the status history the time and who count (see [`Alert::last_activity`]); the other
/// members are still checked for their types.
#[derive(Debug, Deserialize)]
struct RawActivityLog<'a> {
    #[serde(default, borrow, deserialize_with = "borrowed", rename = "statusFrom")]
    _status_from: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed", rename = "statusTo")]
    _status_to: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed", rename = "updatedBy")]
    updated_by: Option<Cow<'a, str>>,
    #[serde(
        default,
        borrow,
        deserialize_with = "borrowed",
        rename = "updatedDateTime"
    )]
    updated_date_time: Option<Cow<'a, str>>,
}

impl RawAlert<'_> {
    fn validate(self, interner: &mut Interner) -> Result<Alert, RecordError> {
        let id = self
            .id
            .filter(|v| !v.trim().is_empty())
            .ok_or(RecordError::MissingId)?
            .into_owned();
        let detected_raw = self
            .detected_date_time
            .ok_or(RecordError::MissingDetected)?;
        let detected = parse_time(&detected_raw)
            .ok_or_else(|| RecordError::BadDetected(detected_raw.into_owned()))?;
        let opt_time = |v: Option<Cow<'_, str>>| v.as_deref().and_then(parse_time);
        let unknown = || Cow::Borrowed("unknownFutureValue");
        Ok(Alert {
            id,
            display_name: interner.non_empty(self.display_name),
            alert_type: interner
                .non_empty(self.alert_type)
                .unwrap_or_else(|| interner.text("unknown")),
            status: Status::from_raw(&self.status.unwrap_or_else(unknown)),
            severity: Severity::from_raw(&self.severity.unwrap_or_else(unknown)),
            confidence: Confidence::from_raw(&self.confidence_level.unwrap_or_else(unknown)),
            customer_tenant_id: interner.non_empty(self.customer_tenant_id),
            subscription_id: interner.non_empty(self.subscription_id),
            reseller_tenant_id: interner.non_empty(self.value_added_reseller_tenant_id),
            catalog_offer_id: interner.non_empty(self.catalog_offer_id),
            detected,
            first_observed: opt_time(self.first_observed_date_time),
            last_observed: opt_time(self.last_observed_date_time),
            resolved_reason: self
                .resolved_reason
                .filter(|r| !r.trim().is_empty())
                .map(|r| ResolvedReason::from_raw(&r)),
            resolved_on: opt_time(self.resolved_on_date_time),
            resolved_by: interner.non_empty(self.resolved_by),
            is_test: self.is_test.unwrap_or(false),
            last_activity: self.activity_logs.as_ref().map(|l| l.at),
            last_activity_by: interner.non_empty(self.activity_logs.and_then(|l| l.by)),
            details: Detail::encoded(encode_details(
                self.description,
                self.affected_resources.as_deref(),
                self.additional_details,
            )),
        })
    }
}

/// The details as sent, encoded straight from the page (see [`crate::alert::Details`]).
fn encode_details(
    description: Option<Cow<'_, str>>,
    resources: Option<&[RawResource<'_>]>,
    entries: Option<Vec<Entry<'_>>>,
) -> Box<[u8]> {
    let description = description.filter(|d| !d.trim().is_empty());
    let resources: Vec<(Option<&str>, Option<&str>)> = resources
        .unwrap_or_default()
        .iter()
        .map(|r| (r.resource_id.as_deref(), r.resource_type.as_deref()))
        .collect();
    let mut entries = entries.unwrap_or_default();
    crate::alert::sort_entries(&mut entries);
    let entries: Vec<(&str, &str)> = entries
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_deref().unwrap_or("")))
        .collect();
    crate::alert::encode(description.as_deref(), &resources, &entries)
}

/// RFC 3339 with any fraction length (the service sends up to 7 digits) and any offset.
pub fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The methods every visitor of "a value or `null`" below shares: `null` (unit or none) is
/// `None`, and a value that is there is read with the deserializer's `$read`.
macro_rules! null_is_none {
    ($read:ident) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.$read(self)
        }
    };
}

/// An optional string, borrowed from the page when it holds no escapes (serde's own `Cow`
/// support borrows only outside an `Option`). `null` is `None`; another type is an error.
fn borrowed<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    struct Text;
    impl<'de> de::Visitor<'de> for Text {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or null")
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v)))
        }
        null_is_none!(deserialize_str);
    }
    deserializer.deserialize_option(Text)
}

/// `activityLogs`: a list of status changes (or `null`), reduced as it is read to the entry
/// with the latest valid `updatedDateTime` (the first of equals); each entry's members are
/// still checked for their types.
fn latest_activity<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Latest<'de>>, D::Error> {
    struct Logs;
    impl<'de> de::Visitor<'de> for Logs {
        type Value = Option<Latest<'de>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of status changes or null")
        }
        null_is_none!(deserialize_seq);
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut latest: Option<Latest<'de>> = None;
            while let Some(log) = seq.next_element::<RawActivityLog<'de>>()? {
                let Some(at) = log.updated_date_time.as_deref().and_then(parse_time) else {
                    continue;
                };
                if latest.as_ref().is_none_or(|l| at > l.at) {
                    latest = Some(Latest {
                        at,
                        by: log.updated_by,
                    });
                }
            }
            Ok(latest)
        }
    }
    deserializer.deserialize_option(Logs)
}

/// `additionalDetails`: an object of strings (or `null`s), or `null`; the entries as sent,
/// borrowed from the page where they hold no escapes.
fn entries<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<Entry<'de>>>, D::Error> {
    struct Entries;
    impl<'de> de::Visitor<'de> for Entries {
        type Value = Option<Vec<Entry<'de>>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of strings or null")
        }
        null_is_none!(deserialize_map);
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
            while let Some(key) = map.next_key::<Key<'de>>()? {
                let value = map.next_value::<Value<'de>>()?;
                entries.push((key.0, value.0));
            }
            Ok(Some(entries))
        }
    }
    /// A key: a string, borrowed when it can be.
    struct Key<'a>(Cow<'a, str>);
    impl<'de> Deserialize<'de> for Key<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            borrowed(d)?
                .map(Key)
                .ok_or_else(|| de::Error::custom("a key of additionalDetails is null"))
        }
    }
    /// A value: a string or `null`.
    struct Value<'a>(Option<Cow<'a, str>>);
    impl<'de> Deserialize<'de> for Value<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            borrowed(d).map(Value)
        }
    }
    deserializer.deserialize_option(Entries)
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
        assert_eq!(alert.details.held().unwrap().affected_resources().len(), 0);
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

    /// Microsoft's documented `GET /security/partner/securityAlerts/{id}` response
    /// (tests/fixtures/microsoft/SOURCES.md): two status changes by one user.
    #[test]
    fn the_latest_status_change_and_who_made_it_come_from_the_documented_activity_logs() {
        let documented =
            include_str!("../../tests/fixtures/microsoft/graph-partnersecurityalert-get.json");
        let alert = parse_alert(documented).unwrap();
        assert_eq!(
            alert.last_activity,
            parse_time("2023-08-10T08:47:25.2089246Z")
        );
        assert_eq!(
            alert.last_activity_by.as_deref(),
            Some("samanthab@contoso.com")
        );
        // The latest by time, not the last in the list; entries without a time do not count.
        let alert = parse_alert(&alert_json(
            r#","activityLogs":[
                {"updatedBy":"late@p.example","updatedDateTime":"2026-11-28T09:00:00Z"},
                {"updatedBy":"early@p.example","updatedDateTime":"2026-11-28T08:00:00Z"},
                {"updatedBy":"timeless@p.example"}]"#,
        ))
        .unwrap();
        assert_eq!(alert.last_activity_by.as_deref(), Some("late@p.example"));
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
