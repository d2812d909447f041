//! The device code flow (OAuth 2.0 device authorization grant, as Microsoft Entra ID implements
//! it at `{login_url}/{tenant}/oauth2/v2.0/devicecode`): `login` asks for a code, shows
//! Microsoft's message (where to go, which code to type), and polls the token endpoint at the
//! interval Microsoft gives until the person has signed in with MFA, declined, or the code
//! expired. The answer's refresh token is what every `sign_in = "user"` run redeems.

use std::time::Duration;

use base64::Engine as _;
use secrecy::SecretString;
use serde::Deserialize;

use super::error::{GraphError, TokenErrorBody, excerpt};
use super::http::Http;
use super::signin::Credential;
use super::token::{TokenAnswer, add_credential, read_federated, token_path};
use crate::retry::Sleeper;

/// What Microsoft answers to the device authorization request.
#[derive(Deserialize)]
#[expect(
    clippy::struct_field_names,
    reason = "the names Microsoft's answer uses"
)]
struct DeviceCode {
    device_code: String,
    #[serde(default)]
    user_code: Option<String>,
    #[serde(default)]
    verification_uri: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    interval: Option<u64>,
    #[serde(default)]
    message: Option<String>,
}

/// A finished sign-in.
#[derive(Debug)]
pub struct SignedIn {
    pub refresh_token: SecretString,
    /// `preferred_username` of the id token.
    pub username: Option<String>,
}

/// Why a sign-in did not finish.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The person declined, the code expired, or the service refused the request: signing in
    /// again (or fixing the config) is what helps.
    #[error("{0}")]
    Refused(String),
    /// The service could not be reached or failed: try again later.
    #[error(transparent)]
    Unavailable(GraphError),
}

/// The endpoints and app a sign-in is for.
#[derive(Debug, Clone)]
pub struct Flow<'a> {
    pub login_url: &'a str,
    pub tenant_id: &'a str,
    pub client_id: &'a str,
    /// Space-separated scopes: `openid profile offline_access {graph}/.default`.
    pub scope: &'a str,
    /// The app's own credential, sent with the polls of a confidential client.
    pub credential: Option<&'a Credential>,
}

/// Runs the flow: `show` gets Microsoft's message once, then the polls go on at `interval`
/// (five seconds more after each `slow_down`) until a token, a refusal, or `expires_in`.
pub async fn sign_in(
    http: &Http,
    flow: &Flow<'_>,
    show: &mut (dyn FnMut(&str) + Send),
    sleeper: &Sleeper,
) -> Result<SignedIn, DeviceError> {
    let base = flow.login_url.trim_end_matches('/');
    let device_endpoint = format!("{base}/{}/oauth2/v2.0/devicecode", flow.tenant_id);
    let token_endpoint = format!("{base}/{}/oauth2/v2.0/token", flow.tenant_id);
    let device_path = token_path(&device_endpoint);
    let response = http
        .send(&device_path, || {
            http.client()
                .post(&device_endpoint)
                .form(&[("client_id", flow.client_id), ("scope", flow.scope)])
        })
        .await
        .map_err(unavailable)?;
    if response.status.as_u16() != 200 {
        return Err(refused(response.status.as_u16(), &response.body));
    }
    let code: DeviceCode = serde_json::from_slice(&response.body).map_err(|_| {
        DeviceError::Unavailable(GraphError::BadPage(format!(
            "{device_path}: the answer is not a device code: {}",
            excerpt(&response.body)
        )))
    })?;
    crate::redact::register(&code.device_code);
    let message = code.message.clone().unwrap_or_else(|| {
        format!(
            "To sign in, use a web browser to open the page {} and enter the code {} to authenticate.",
            code.verification_uri.as_deref().unwrap_or("https://microsoft.com/devicelogin"),
            code.user_code.as_deref().unwrap_or("(none given)")
        )
    });
    show(&message);

    // Microsoft's defaults where the answer leaves them out: 15 minutes, every 5 seconds.
    let mut interval = Duration::from_secs(code.interval.unwrap_or(5).max(1));
    let mut left = Duration::from_secs(code.expires_in.unwrap_or(900));
    let token_path = token_path(&token_endpoint);
    loop {
        if left.is_zero() {
            return Err(DeviceError::Refused(
                "the code expired before anyone signed in with it: run `csp-alert-digest login` again"
                    .to_owned(),
            ));
        }
        let wait = interval.min(left);
        sleeper.sleep(wait).await;
        left = left.saturating_sub(wait);
        let assertion = match flow.credential {
            Some(Credential::FederatedTokenFile(path)) => {
                Some(read_federated(path).await.map_err(unavailable)?)
            }
            _ => None,
        };
        let response = http
            .send(&token_path, || {
                let mut form: Vec<(&str, &str)> = vec![
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("client_id", flow.client_id),
                    ("device_code", &code.device_code),
                ];
                add_credential(&mut form, flow.credential, assertion.as_ref());
                http.client().post(&token_endpoint).form(&form)
            })
            .await
            .map_err(unavailable)?;
        let status = response.status.as_u16();
        if status == 200 {
            return signed_in(&response.body, &token_path);
        }
        let body: TokenErrorBody = serde_json::from_slice(&response.body).unwrap_or_default();
        match body.error.as_deref() {
            Some("authorization_pending") => {}
            // RFC 8628 §3.5: five seconds more for this and every later poll.
            Some("slow_down") => interval += Duration::from_secs(5),
            Some("authorization_declined") => {
                return Err(DeviceError::Refused(
                    "the sign-in was declined: nothing was stored; run `csp-alert-digest login` again to sign in"
                        .to_owned(),
                ));
            }
            Some("expired_token" | "code_expired") => {
                return Err(DeviceError::Refused(
                    "the code expired before anyone signed in with it: run `csp-alert-digest login` again"
                        .to_owned(),
                ));
            }
            _ => return Err(refused(status, &response.body)),
        }
    }
}

fn unavailable(e: GraphError) -> DeviceError {
    if e.is_permanent() {
        DeviceError::Refused(e.to_string())
    } else {
        DeviceError::Unavailable(e)
    }
}

/// A refusal, with Entra ID's code and description when it gave them.
fn refused(status: u16, body: &[u8]) -> DeviceError {
    let parsed: TokenErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let code = parsed
        .error_codes
        .as_ref()
        .and_then(|c| c.first())
        .map(|c| format!(" (AADSTS{c})"))
        .unwrap_or_default();
    let what = parsed.error.as_deref().unwrap_or("an error");
    let hint = match what {
        "invalid_client" | "unauthorized_client" => {
            ": check client_id, and that the app registration allows public client flows (Authentication → Allow public client flows)"
        }
        "invalid_scope" => ": check graph_url and the app's delegated permissions",
        _ => "",
    };
    DeviceError::Refused(format!(
        "the sign-in was refused: {status} {what}{code}{hint}; {}",
        excerpt(
            parsed
                .error_description
                .as_deref()
                .unwrap_or_default()
                .as_bytes()
        )
    ))
}

fn signed_in(body: &[u8], path: &str) -> Result<SignedIn, DeviceError> {
    let answer: TokenAnswer = serde_json::from_slice(body).map_err(|_| {
        DeviceError::Unavailable(GraphError::BadPage(format!(
            "{path}: the token endpoint's answer is not a token: {}",
            excerpt(body)
        )))
    })?;
    if let Some(access) = answer.access_token.as_deref() {
        crate::redact::register(access);
    }
    let refresh = answer
        .refresh_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            DeviceError::Refused(
                "the sign-in gave no refresh token: the app registration must allow offline_access (it is asked for)"
                    .to_owned(),
            )
        })?;
    crate::redact::register(&refresh);
    Ok(SignedIn {
        refresh_token: SecretString::from(refresh),
        username: answer.id_token.as_deref().and_then(preferred_username),
    })
}

/// The `preferred_username` claim of an id token. The token came straight from the token
/// endpoint over TLS, so its claims are read without checking its signature.
pub fn preferred_username(id_token: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Claims {
        preferred_username: Option<String>,
        upn: Option<String>,
        email: Option<String>,
    }
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Claims = serde_json::from_slice(&bytes).ok()?;
    claims
        .preferred_username
        .or(claims.upn)
        .or(claims.email)
        .filter(|u| !u.is_empty() && !u.chars().any(char::is_control))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_username_comes_from_the_id_tokens_claims() {
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"aud":"x","preferred_username":"admin@contoso-partner.example"}"#);
        let token = format!("eyJhbGciOiJub25lIn0.{claims}.sig");
        assert_eq!(
            preferred_username(&token).as_deref(),
            Some("admin@contoso-partner.example")
        );
        assert_eq!(preferred_username("not-a-jwt"), None);
    }
}
