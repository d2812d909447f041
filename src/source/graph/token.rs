//! App-only access tokens from Microsoft Entra ID (v2.0 client credentials): with a client
//! secret, or with a federated token file (Kubernetes workload identity) that is read again for
//! every request because it rotates. Tokens are cached until shortly before they expire.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::debug;

use super::error::{GraphError, TokenErrorBody, excerpt, token_error_message};
use super::http::Http;

/// How the app proves who it is.
#[derive(Clone)]
pub enum Credential {
    Secret(SecretString),
    /// A file holding a JWT from the cluster's identity provider.
    FederatedTokenFile(PathBuf),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Secret(_) => f.write_str("Secret([redacted])"),
            Self::FederatedTokenFile(path) => {
                f.debug_tuple("FederatedTokenFile").field(path).finish()
            }
        }
    }
}

/// Refresh this long before the token's stated expiry.
const EXPIRY_MARGIN: Duration = Duration::from_secs(300);
/// Keep even a token that claims to expire at once this long, so a bad `expires_in` cannot
/// turn into a request per page.
const MIN_LIFETIME: Duration = Duration::from_secs(60);

/// Gets and caches tokens for one scope.
#[derive(Debug)]
pub struct TokenSource {
    endpoint: String,
    client_id: String,
    scope: String,
    credential: Credential,
    cached: Mutex<Option<(SecretString, Instant)>>,
}

impl TokenSource {
    /// `login_url` like `https://login.microsoftonline.com`; `resource` like
    /// `https://graph.microsoft.com` (the scope becomes `{resource}/.default`).
    pub fn new(
        login_url: &str,
        tenant_id: &str,
        client_id: &str,
        resource: &str,
        credential: Credential,
    ) -> Self {
        let scope = format!("{}/.default", resource.trim_end_matches('/'));
        Self::with_scope(login_url, tenant_id, client_id, &scope, credential)
    }

    /// The same app, for another API: `scope` as sent, e.g.
    /// `https://api.partnercenter.microsoft.com/.default`.
    pub fn with_scope(
        login_url: &str,
        tenant_id: &str,
        client_id: &str,
        scope: &str,
        credential: Credential,
    ) -> Self {
        Self {
            endpoint: format!(
                "{}/{tenant_id}/oauth2/v2.0/token",
                login_url.trim_end_matches('/')
            ),
            client_id: client_id.to_owned(),
            scope: scope.to_owned(),
            credential,
            cached: Mutex::new(None),
        }
    }

    /// A valid token, from the cache or a new request.
    pub async fn bearer(&self, http: &Http) -> Result<SecretString, GraphError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, refresh_at)) = cached.as_ref()
            && Instant::now() < *refresh_at
        {
            return Ok(token.clone());
        }
        let (token, lifetime) = self.request(http).await?;
        *cached = Some((token.clone(), Instant::now() + lifetime));
        Ok(token)
    }

    /// Drops the cached token, after the service rejected it as expired.
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    async fn request(&self, http: &Http) -> Result<(SecretString, Duration), GraphError> {
        let assertion = match &self.credential {
            Credential::Secret(_) => None,
            Credential::FederatedTokenFile(path) => Some(read_federated(path).await?),
        };
        let path = token_path(&self.endpoint);
        let response = http
            .send(&path, || {
                let mut form: Vec<(&str, &str)> = vec![
                    ("grant_type", "client_credentials"),
                    ("client_id", &self.client_id),
                    ("scope", &self.scope),
                ];
                match (&self.credential, &assertion) {
                    (Credential::Secret(secret), _) => {
                        form.push(("client_secret", secret.expose_secret()));
                    }
                    (Credential::FederatedTokenFile(_), Some(jwt)) => {
                        form.push((
                            "client_assertion_type",
                            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                        ));
                        form.push(("client_assertion", jwt.expose_secret()));
                    }
                    (Credential::FederatedTokenFile(_), None) => {}
                }
                http.client().post(&self.endpoint).form(&form)
            })
            .await?;

        let status = response.status.as_u16();
        if status != 200 {
            let body: TokenErrorBody = serde_json::from_slice(&response.body).unwrap_or_default();
            return Err(GraphError::Auth {
                message: if body.error.is_some() {
                    token_error_message(status, &body)
                } else {
                    format!(
                        "the token endpoint answered {status}: {}",
                        excerpt(&response.body)
                    )
                },
            });
        }
        let answer: TokenAnswer = serde_json::from_slice(&response.body).map_err(|_| {
            GraphError::BadPage(format!(
                "{path}: the token endpoint's answer is not a token: {}",
                excerpt(&response.body)
            ))
        })?;
        let token = answer
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                GraphError::BadPage(format!(
                    "{path}: the token endpoint's answer has no access_token"
                ))
            })?;
        let expires_in = answer
            .expires_in
            .as_ref()
            .and_then(Lifetime::seconds)
            .unwrap_or(0);
        let lifetime = Duration::from_secs(u64::try_from(expires_in).unwrap_or(0))
            .saturating_sub(EXPIRY_MARGIN)
            .max(MIN_LIFETIME);
        crate::redact::register(&token);
        debug!(lifetime_s = lifetime.as_secs(), "got an access token");
        Ok((SecretString::from(token), lifetime))
    }
}

/// The token endpoint's path, for logs: the tenant is part of it, the query never is.
fn token_path(endpoint: &str) -> String {
    reqwest::Url::parse(endpoint)
        .map_or_else(|_| "token endpoint".to_owned(), |u| u.path().to_owned())
}

async fn read_federated(path: &PathBuf) -> Result<SecretString, GraphError> {
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| GraphError::Auth {
            message: format!(
                "cannot read the federated token file {}: {e}",
                path.display()
            ),
        })?;
    let text = text.trim();
    if text.is_empty() {
        return Err(GraphError::Auth {
            message: format!("the federated token file {} is empty", path.display()),
        });
    }
    crate::redact::register(text);
    Ok(SecretString::from(text.to_owned()))
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<Lifetime>,
}

/// `expires_in` arrives as a number or as a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Lifetime {
    Number(i64),
    Text(String),
}

impl Lifetime {
    fn seconds(&self) -> Option<i64> {
        match self {
            Self::Number(n) => Some(*n),
            Self::Text(t) => t.trim().parse().ok(),
        }
    }
}
