//! One alert by id, for `resolve`: read it (`GET .../securityAlerts/{id}`) and change its status
//! (`PATCH .../securityAlerts/{id}` with `status` and `resolvedReason`; the service answers 200
//! with the updated alert). Both go through [`send_authorized`]: the collector's client, retries,
//! throttling and token rules.

use serde::Serialize;
use serde_json::Value;

use super::{ALERTS_PATH, Call, GraphError, Http, TokenSource, WRITE_PERMISSION, send_authorized};
use crate::alert::{ResolvedReason, Status};

/// What `resolve` needs to know about an alert's state, read leniently: a field of a wrong type
/// counts as absent, an unknown status keeps its raw text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertState {
    pub id: Option<String>,
    pub status: Status,
    pub resolved_reason: Option<ResolvedReason>,
    pub customer_tenant_id: Option<String>,
    pub alert_type: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_on: Option<String>,
}

impl AlertState {
    /// Reads an alert's JSON; `None` when it is not a JSON object.
    pub fn from_json(bytes: &[u8]) -> Option<Self> {
        let value: Value = serde_json::from_slice(bytes).ok()?;
        let object = value.as_object()?;
        let text = |name: &str| {
            object
                .get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Some(Self {
            id: text("id"),
            // No status is no proof of resolution: it counts as an unknown (open) one.
            status: Status::from_raw(text("status").as_deref().unwrap_or("unknownFutureValue")),
            resolved_reason: text("resolvedReason").map(|r| ResolvedReason::from_raw(&r)),
            customer_tenant_id: text("customerTenantId"),
            alert_type: text("alertType"),
            resolved_by: text("resolvedBy"),
            resolved_on: text("resolvedOnDateTime"),
        })
    }
}

/// The body of an update: `{"status": "resolved", "resolvedReason": "fraud"}`, or only the
/// status when there is no reason (`investigating`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_reason: Option<&'static str>,
}

impl Change {
    /// The JSON body, fields in the documented order.
    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Why `id` cannot be an alert id: empty, `.` or `..`, control characters, or longer than
/// 1,000 bytes. Ids are otherwise opaque (GUIDs, `{subscriptionId}-{guid}`, …).
pub fn id_problem(id: &str) -> Option<&'static str> {
    if id.trim().is_empty() || id == "." || id == ".." {
        Some("it is empty or a dot segment")
    } else if id.chars().any(char::is_control) {
        Some("it holds control characters")
    } else if id.len() > 1000 {
        Some("it is longer than 1,000 bytes")
    } else {
        None
    }
}

/// `{graph_url}/beta/security/partner/securityAlerts/{id}`, the id percent-encoded as one path
/// segment (a `/`, `?` or `#` in it cannot change the request's target). See [`id_problem`]
/// for the ids refused.
pub fn alert_url(graph_url: &reqwest::Url, id: &str) -> Result<reqwest::Url, GraphError> {
    if let Some(why) = id_problem(id) {
        return Err(GraphError::Rejected {
            path: ALERTS_PATH.to_owned(),
            status: 0,
            message: format!("not an alert id: {why}"),
        });
    }
    let base = format!("{}{ALERTS_PATH}", graph_url.as_str().trim_end_matches('/'));
    let mut url =
        reqwest::Url::parse(&base).map_err(|e| GraphError::BadPage(format!("{base}: {e}")))?;
    url.path_segments_mut()
        .map_err(|()| GraphError::BadPage(format!("{base} cannot have a path")))?
        .push(id);
    Ok(url)
}

/// Reads one alert. 404 is [`GraphError::NotFound`]; a 403 names `PartnerSecurity.ReadWrite.All`,
/// since that is what `resolve` needs.
pub async fn get(
    graph_url: &reqwest::Url,
    http: &Http,
    tokens: &TokenSource,
    id: &str,
) -> Result<AlertState, GraphError> {
    let url = alert_url(graph_url, id)?;
    let response = send_authorized(
        http,
        tokens,
        &Call {
            method: reqwest::Method::GET,
            url: &url,
            body: None,
            permission: WRITE_PERMISSION,
        },
    )
    .await?;
    AlertState::from_json(&response.body).ok_or_else(|| {
        GraphError::BadPage(format!(
            "{}: the answer is not an alert ({:?}): {}",
            url.path(),
            response.content_type(),
            super::error::excerpt(&response.body)
        ))
    })
}

/// What the service answered to an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Updated {
    pub http_status: u16,
    /// The updated alert, when the answer holds one (the documented 200); `None` for an
    /// empty or unreadable answer, which still means the update was accepted.
    pub alert: Option<AlertState>,
}

/// Changes one alert's status. The update is idempotent (it sets values), so the client's
/// retries of throttled or failed attempts are safe.
pub async fn update(
    graph_url: &reqwest::Url,
    http: &Http,
    tokens: &TokenSource,
    id: &str,
    change: &Change,
) -> Result<Updated, GraphError> {
    let url = alert_url(graph_url, id)?;
    let body = change.body();
    let response = send_authorized(
        http,
        tokens,
        &Call {
            method: reqwest::Method::PATCH,
            url: &url,
            body: Some(&body),
            permission: WRITE_PERMISSION,
        },
    )
    .await?;
    Ok(Updated {
        http_status: response.status.as_u16(),
        alert: AlertState::from_json(&response.body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph() -> reqwest::Url {
        reqwest::Url::parse("https://graph.microsoft.com").unwrap()
    }

    #[test]
    fn an_alert_url_keeps_the_id_inside_one_path_segment() {
        let url = alert_url(&graph(), "sub-1234-abcd").unwrap();
        assert_eq!(
            url.as_str(),
            "https://graph.microsoft.com/beta/security/partner/securityAlerts/sub-1234-abcd"
        );
        let url = alert_url(&graph(), "a/../../me?x=1#f %").unwrap();
        assert_eq!(
            url.path(),
            "/beta/security/partner/securityAlerts/a%2F..%2F..%2Fme%3Fx=1%23f%20%25"
        );
        assert_eq!(url.query(), None);
        for bad in ["", " ", ".", "..", "a\nb", "a\u{1b}[31m"] {
            assert!(alert_url(&graph(), bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn update_bodies_name_status_then_reason_and_leave_out_a_missing_reason() {
        let resolve = Change {
            status: "resolved",
            resolved_reason: Some("fraud"),
        };
        assert_eq!(
            resolve.body(),
            br#"{"status":"resolved","resolvedReason":"fraud"}"#
        );
        let investigate = Change {
            status: "investigating",
            resolved_reason: None,
        };
        assert_eq!(investigate.body(), br#"{"status":"investigating"}"#);
    }

    #[test]
    fn alert_states_are_read_leniently() {
        let state = AlertState::from_json(
            br#"{"id":"a","status":"Resolved","resolvedReason":"fraud","customerTenantId":7,
                 "alertType":"CryptoMining","resolvedBy":null,"extra":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(state.status, Status::Resolved);
        assert_eq!(state.resolved_reason, Some(ResolvedReason::Fraud));
        assert_eq!(
            state.customer_tenant_id, None,
            "a wrong type counts as absent"
        );
        assert_eq!(state.alert_type.as_deref(), Some("CryptoMining"));
        let unknown = AlertState::from_json(br#"{"status":"escalated"}"#).unwrap();
        assert!(unknown.status.is_unresolved());
        let missing = AlertState::from_json(b"{}").unwrap();
        assert!(
            missing.status.is_unresolved(),
            "no status is no proof of resolution"
        );
        assert_eq!(AlertState::from_json(b"<html>"), None);
        assert_eq!(AlertState::from_json(b"[1]"), None);
    }
}
