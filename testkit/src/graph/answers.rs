//! The fake Graph service's normal answers: pages, one alert read or changed, the token
//! endpoint, and the errors each gives the way the service words them.

use std::fmt::Write as _;

use chrono::Utc;
use serde_json::{Value, json};

use super::{JWT_BEARER, Route, Shared, Variant};
use crate::faults::graph_error;
use crate::http::{JSON, Reply, Request, parse_form};

const WWW_AUTHENTICATE: &str = "Bearer realm=\"\", \
    authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", \
    client_id=\"00000003-0000-0000-c000-000000000000\"";

impl Shared {
    /// The normal answer to a request (or, for a page, the page with another next link or an
    /// empty page).
    pub(super) fn reply(
        &self,
        route: &Route,
        request: &Request,
        variant: &Variant<'_>,
    ) -> Reply<'_> {
        match route {
            Route::Token { tenant } => self.token_reply(tenant, request),
            Route::Page(page) => {
                if let Err(reply) = self.check_bearer(request) {
                    return reply;
                }
                match variant {
                    Variant::Normal => {
                        let next = (page + 1 < self.pages.len()).then(|| self.link(page + 1, 0));
                        self.page_reply(*page, next.as_deref())
                    }
                    Variant::NextLink(link) => self.page_reply(*page, Some(link)),
                    Variant::Empty => {
                        let mut reply = self.page_reply(*page, Some(&self.link(*page, 1)));
                        reply.body.extend_from_slice(b"\"value\":[]}");
                        reply.tail = &[];
                        reply
                    }
                }
            }
            Route::Alert(id) => {
                if let Err(reply) = self.check_bearer(request) {
                    return reply;
                }
                self.alert_reply(id, request)
            }
            Route::BadSkipToken => Reply::json(
                400,
                &json!({"error": {"code": "BadRequest", "message": "Invalid $skiptoken value."}}),
            ),
            Route::MethodNotAllowed => Reply::json(
                405,
                &json!({"error": {"code": "Request_BadRequest", "message": "Method not allowed."}}),
            ),
            Route::NotFound => Reply::json(
                404,
                &json!({"error": {"code": "ResourceNotFound", "message": format!(
                    "Resource not found for the path '{}'.",
                    request.target.split('?').next().unwrap_or_default()
                )}}),
            ),
        }
    }

    fn page_reply(&self, page: usize, next_link: Option<&str>) -> Reply<'_> {
        let mut body = format!(
            "{{\"@odata.context\":\"{}/beta/$metadata#security/partner/securityAlerts\",",
            self.base_url
        );
        if let Some(link) = next_link {
            let link = serde_json::to_string(link).expect("JSON string");
            write!(body, "\"@odata.nextLink\":{link},").expect("write to a String");
        }
        let mut reply = Reply::new(200, JSON, body.into_bytes());
        match self.changed_page(page) {
            Some(tail) => reply.body.extend_from_slice(&tail),
            None => reply.tail = &self.pages[page],
        }
        reply
    }

    /// The tail of `page` rendered again, if a PATCH changed one of its alerts.
    fn changed_page(&self, page: usize) -> Option<Vec<u8>> {
        let state = self.state();
        let range = page * self.page_size..((page + 1) * self.page_size).min(self.alerts);
        if !range.clone().any(|i| state.changed.contains_key(&i)) {
            return None;
        }
        let values: Vec<Value> = range
            .map(|i| {
                state.changed.get(&i).cloned().unwrap_or_else(|| {
                    serde_json::to_value(self.world.alert(i)).expect("alert JSON")
                })
            })
            .collect();
        let mut tail = b"\"value\":".to_vec();
        serde_json::to_writer(&mut tail, &values).expect("page JSON");
        tail.push(b'}');
        Some(tail)
    }

    /// The index of the alert with this id (any case).
    fn alert_index(&self, id: &str) -> Option<usize> {
        self.ids
            .get_or_init(|| {
                (0..self.alerts)
                    .map(|i| (self.world.alert(i).id.to_ascii_lowercase(), i))
                    .collect()
            })
            .get(&id.to_ascii_lowercase())
            .copied()
    }

    /// `GET` or `PATCH` of one alert.
    fn alert_reply(&self, id: &str, request: &Request) -> Reply<'_> {
        let Some(index) = self.alert_index(id) else {
            return Reply::json(
                404,
                &json!({"error": {"code": "ResourceNotFound", "message": format!(
                    "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
                )}}),
            );
        };
        let mut state = self.state();
        let current =
            state.changed.get(&index).cloned().unwrap_or_else(|| {
                serde_json::to_value(self.world.alert(index)).expect("alert JSON")
            });
        if request.method == "GET" {
            return Reply::json(200, &current);
        }
        match apply_change(current, &request.body, &self.client_id) {
            Ok(changed) => {
                state.changed.insert(index, changed.clone());
                Reply::json(200, &changed)
            }
            Err(message) => Reply::json(
                400,
                &json!({"error": {"code": "BadRequest", "message": message}}),
            ),
        }
    }

    fn check_bearer(&self, request: &Request) -> Result<(), Reply<'_>> {
        let credentials = request.header("authorization").unwrap_or_default().trim();
        let (scheme, token) = credentials.split_once(' ').unwrap_or((credentials, ""));
        let token = token.trim();
        if scheme.eq_ignore_ascii_case("bearer") && token == self.access_token {
            return Ok(());
        }
        let message = if token.is_empty() {
            "Access token is empty."
        } else {
            "IDX14100: JWT is not well formed, there are no dots (.)."
        };
        let mut reply = Reply::new(
            401,
            JSON,
            graph_error("InvalidAuthenticationToken", message).into_bytes(),
        );
        reply
            .headers
            .push(("WWW-Authenticate", WWW_AUTHENTICATE.to_owned()));
        Err(reply)
    }

    fn token_reply(&self, tenant: &str, request: &Request) -> Reply<'_> {
        let form = parse_form(&request.body);
        let field = |name: &str| {
            form.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        if tenant != self.tenant_id {
            return entra_error(
                400,
                "invalid_request",
                90002,
                &format!(
                    "Tenant '{tenant}' not found. Check to make sure you have the correct tenant \
                     ID and are signing into the correct cloud."
                ),
            );
        }
        if field("grant_type") != Some("client_credentials") {
            return entra_error(
                400,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.",
            );
        }
        if field("client_id") != Some(self.client_id.as_str()) {
            return entra_error(
                400,
                "unauthorized_client",
                700_016,
                &format!(
                    "Application with identifier '{}' was not found in the directory '{}'.",
                    field("client_id").unwrap_or_default(),
                    self.tenant_id
                ),
            );
        }
        if !field("scope").is_some_and(|s| s.ends_with("/.default")) {
            return entra_error(
                400,
                "invalid_scope",
                1_002_012,
                "The provided value for scope is not valid. Client credential flows must have a \
                 scope value with /.default suffixed to the resource identifier \
                 (application ID URI).",
            );
        }
        let secret = field("client_secret");
        let assertion = field("client_assertion_type") == Some(JWT_BEARER)
            && field("client_assertion").is_some_and(|a| !a.is_empty());
        if secret == Some(self.client_secret.as_str()) || (secret.is_none() && assertion) {
            return Reply::new(200, JSON, self.token_body.clone());
        }
        if secret.is_some() {
            return entra_error(
                401,
                "invalid_client",
                7_000_215,
                &format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request \
                     is the client secret value, not the client secret ID, for a secret added to \
                     app '{}'.",
                    self.client_id
                ),
            );
        }
        entra_error(
            401,
            "invalid_client",
            7_000_216,
            "'client_assertion', 'client_secret' or 'request' is required for the \
             'client_credentials' grant type.",
        )
    }
}

/// Applies a PATCH body to an alert as the service would, or says why the body is refused.
fn apply_change(mut alert: Value, body: &[u8], client_id: &str) -> Result<Value, String> {
    let change: Value =
        serde_json::from_slice(body).map_err(|e| format!("The request body is not JSON: {e}"))?;
    let change = change
        .as_object()
        .ok_or("The request body is not an object.")?;
    if let Some(other) = change
        .keys()
        .find(|k| !matches!(k.as_str(), "status" | "resolvedReason"))
    {
        return Err(format!(
            "Property '{other}' does not exist or cannot be updated."
        ));
    }
    let status = change
        .get("status")
        .and_then(Value::as_str)
        .filter(|s| matches!(*s, "active" | "investigating" | "resolved"))
        .ok_or("A valid 'status' is required.")?;
    let reason = match change.get("resolvedReason") {
        None | Some(Value::Null) => None,
        Some(reason) => Some(
            reason
                .as_str()
                .filter(|r| matches!(*r, "legitimate" | "ignore" | "fraud"))
                .ok_or("Invalid 'resolvedReason'.")?,
        ),
    };
    if (status == "resolved") != reason.is_some() {
        return Err(
            "'resolvedReason' is required with status 'resolved', and only then.".to_owned(),
        );
    }
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let before = alert["status"].clone();
    alert["status"] = json!(status);
    alert["resolvedReason"] = json!(reason);
    let resolved = status == "resolved";
    alert["resolvedOnDateTime"] = if resolved { json!(now) } else { Value::Null };
    alert["resolvedBy"] = if resolved {
        json!(format!("app:{client_id}"))
    } else {
        Value::Null
    };
    let entry = json!({
        "statusFrom": before, "statusTo": status,
        "updatedBy": format!("app:{client_id}"), "updatedDateTime": now,
    });
    match alert["activityLogs"].as_array_mut() {
        Some(logs) => logs.push(entry),
        None => alert["activityLogs"] = json!([entry]),
    }
    Ok(alert)
}

fn entra_error(status: u16, error: &str, code: u32, description: &str) -> Reply<'static> {
    Reply::json(
        status,
        &json!({
            "error": error,
            "error_description": format!(
                "AADSTS{code}: {description} Trace ID: 0b1c5e3a-7d2f-4e6b-9a80-3f1d2c4b5a60 \
                 Correlation ID: 6f0e2d1c-8b7a-4c3d-9e5f-a1b2c3d4e5f6 \
                 Timestamp: 2026-11-29 07:00:00Z"
            ),
            "error_codes": [code],
        }),
    )
}
