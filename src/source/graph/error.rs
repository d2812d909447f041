//! Why collection from Microsoft's APIs failed, split the way callers branch: permanent
//! failures (retrying will not help: exit 2) and transient ones (retry later: exit 3).

use std::time::Duration;

/// A failed collection. Messages name the URL's path (never a token or secret).
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The token endpoint refused our credentials or request.
    #[error("sign-in failed: {message}")]
    Auth { message: String },
    /// The stored App+User sign-in can no longer be redeemed (`invalid_grant`): expired after
    /// 90 days unused, credentials changed, or MFA needed again.
    #[error(
        "sign-in failed: the stored sign-in can no longer be used ({message}): run `csp-alert-digest login --config <this config>` to sign in again"
    )]
    SignInExpired { message: String },
    /// The service rejected the access token even after one refresh.
    #[error("{path}: 401 Unauthorized even with a fresh token: {message}")]
    Unauthorized { path: String, message: String },
    /// `403 Unauthorized_MissingMFA`: the token carries no MFA claim — an app-only token, or a
    /// user who signed in without MFA.
    #[error(
        "{path}: 403 Unauthorized_MissingMFA: {}",
        if *user {
            "the signed-in user's token carries no MFA claim: run `csp-alert-digest login` again and complete MFA"
        } else {
            "this API wants an App+User token with MFA, which an app-only token never carries: set [source] sign_in = \"user\" and run `csp-alert-digest login --config <this config>` once (README: Sign-in)"
        }
    )]
    MissingMfa { path: String, user: bool },
    /// The app lacks the permission (or admin consent).
    #[error(
        "{path}: 403 Forbidden: the app registration needs the Microsoft Graph application permission {permission} with admin consent in the partner tenant"
    )]
    Forbidden {
        path: String,
        permission: &'static str,
    },
    /// 404: no such alert (or path).
    #[error("{path}: 404 Not Found: {message}")]
    NotFound { path: String, message: String },
    /// 400 and other answers that a retry will not change.
    #[error("{path}: {status} {message}")]
    Rejected {
        path: String,
        status: u16,
        message: String,
    },
    /// The service asked for a longer wait than we allow.
    #[error(
        "{path}: the service asked to wait {} s (Retry-After), more than max_retry_after_secs = {} s; try again later",
        wait.as_secs(),
        cap.as_secs()
    )]
    WaitTooLong {
        path: String,
        wait: Duration,
        cap: Duration,
    },
    /// Transient failures that outlasted the retries.
    #[error("{path}: gave up after {attempts} attempts: {last}")]
    Exhausted {
        path: String,
        attempts: u32,
        last: String,
    },
    /// A page we cannot use: not JSON, too large, a nextLink we refuse, a paging loop.
    #[error("{0}")]
    BadPage(String),
    /// More pages than the configured cap.
    #[error("more than max_pages = {0} pages; raise it if the tenant really has that many alerts")]
    TooManyPages(usize),
    /// A page whose body exceeds the configured cap.
    #[error("{path}: the response is larger than max_page_bytes = {limit} bytes")]
    TooLarge { path: String, limit: usize },
    /// The whole collection took longer than allowed.
    #[error("collection did not finish within deadline_secs = {} s", .0.as_secs())]
    Deadline(Duration),
}

impl GraphError {
    /// Whether retrying later cannot help (wrong credentials, missing permission, a request
    /// the service rejects, a limit the config sets).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::Auth { .. }
                | Self::SignInExpired { .. }
                | Self::Unauthorized { .. }
                | Self::Forbidden { .. }
                | Self::MissingMfa { .. }
                | Self::NotFound { .. }
                | Self::Rejected { .. }
                | Self::TooLarge { .. }
                | Self::TooManyPages(_)
        )
    }
}

/// Whether a 403's body is Graph's `Unauthorized_MissingMFA` error, whatever the case of its
/// keys (the partner security alerts API sends `{"Error":{"Code":…}}`, Graph elsewhere
/// `{"error":{"code":…}}`).
pub fn says_missing_mfa(body: &[u8]) -> bool {
    fn get<'a>(value: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
        value
            .as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }
    let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .as_ref()
        .and_then(|v| get(v, "error"))
        .and_then(|e| get(e, "code"))
        .and_then(serde_json::Value::as_str)
        .is_some_and(|code| code.eq_ignore_ascii_case("Unauthorized_MissingMFA"))
}

/// How much of a body [`excerpt`] scrubs before keeping its first 200 characters: far more than
/// those, so no secret straddles the cut.
const EXCERPT_SCAN_BYTES: usize = 16 * 1024;

/// The parts of an Entra ID (AADSTS) error answer that help a person.
#[derive(Debug, Default, serde::Deserialize)]
pub struct TokenErrorBody {
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub error_codes: Option<Vec<u64>>,
}

/// Maps a token endpoint error to a message a person can act on.
pub fn token_error_message(status: u16, body: &TokenErrorBody) -> String {
    let codes = body.error_codes.clone().unwrap_or_default();
    let description = body.error_description.as_deref().unwrap_or("");
    let has = |code: u64| codes.contains(&code) || description.contains(&format!("AADSTS{code}:"));
    let hint = if has(7_000_215) {
        "the client secret is wrong: client_secret_file or CSP_DIGEST_CLIENT_SECRET must hold the secret's value (not its id)"
    } else if has(7_000_222) {
        "the client secret has expired: create a new one in the app registration and update client_secret_file or CSP_DIGEST_CLIENT_SECRET"
    } else if has(700_016) {
        "the application (client_id) is not known in this tenant: check tenant_id and client_id, and that the app is consented in the partner tenant"
    } else if has(700_082) {
        "the refresh token expired after 90 days unused"
    } else if has(50_173) {
        "the sign-in is no longer valid (the user's password or credentials changed)"
    } else if has(50_078) || has(50_076) {
        "multi-factor authentication is needed again"
    } else if has(90_002) {
        "the tenant was not found: check tenant_id"
    } else if has(700_024) || has(700_211) || has(700_213) {
        "the federated token was not accepted: check the federated credential (issuer, subject, audience) on the app registration"
    } else {
        match body.error.as_deref() {
            Some("unauthorized_client") => {
                "the application is not allowed to use client credentials in this tenant"
            }
            Some("invalid_scope") => "the scope was refused: check graph_url",
            Some("invalid_grant") => "the refresh token was refused",
            Some("invalid_client") => "the client credentials were refused",
            _ => "the token endpoint refused the request",
        }
    };
    let code = codes
        .first()
        .map(|c| format!(" (AADSTS{c})"))
        .unwrap_or_default();
    // The service's own word, shortened and on one line like any other text it sends.
    let error = excerpt(body.error.as_deref().unwrap_or("error").as_bytes());
    format!("{hint}{code}; the token endpoint answered {status} {error}")
}

/// The first line of a body, at most 200 characters: enough to recognise a proxy page or an
/// error, never a whole response in a log. Scrubbed of our secrets before it is cut, so that a
/// peer echoing the request (a proxy reflecting the form or the `Authorization` header) leaves
/// neither a whole secret nor the start of one.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_SCAN_BYTES)]);
    let text = crate::redact::scrub(&text);
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> TokenErrorBody {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn aadsts_codes_get_hints_a_person_can_act_on() {
        let wrong = body(
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}"#,
        );
        let message = token_error_message(401, &wrong);
        assert!(
            message.contains("client secret is wrong") && message.contains("AADSTS7000215"),
            "{message}"
        );
        let expired = body(r#"{"error":"invalid_client","error_codes":[7000222]}"#);
        assert!(token_error_message(401, &expired).contains("expired"));
        let unknown_app = body(
            r#"{"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier 'x' was not found"}"#,
        );
        assert!(token_error_message(400, &unknown_app).contains("not known in this tenant"));
        let scope = body(r#"{"error":"invalid_scope"}"#);
        assert!(token_error_message(400, &scope).contains("scope"));
    }

    #[test]
    fn missing_mfa_is_recognised_whatever_the_case_of_its_keys() {
        // As partners report it (tests/fixtures/microsoft/missing-mfa-403.json).
        let reported = br#"{"Error":{"Code":"Unauthorized_MissingMFA","Message":"MFA is required for this request. The provided authentication token does not have MFA claims."}}"#;
        assert!(says_missing_mfa(reported));
        assert!(says_missing_mfa(
            br#"{"error":{"code":"unauthorized_missingmfa","message":"x"}}"#
        ));
        assert!(!says_missing_mfa(
            br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges"}}"#
        ));
        assert!(!says_missing_mfa(b"<html>Forbidden</html>"));
    }

    #[test]
    fn excerpts_are_short_single_lines() {
        let html = format!("<html>\r\n<body>Proxy login {}</body>", "x".repeat(10_000));
        let e = excerpt(html.as_bytes());
        assert!(e.len() <= 200 && !e.contains('\n'), "{e}");
        assert!(e.starts_with("<html> <body>Proxy login"));
    }
}
