//! Access tokens from Microsoft Entra ID (v2.0): app-only (client credentials, with a client
//! secret or a federated token file that is read again for every request because it rotates),
//! or App+User (a refresh token redeemed, and the rotated one saved before the access token is
//! used; see [`super::signin`]). Tokens are cached until shortly before they expire.

use std::path::Path;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::{debug, info};

use super::error::{GraphError, TokenErrorBody, excerpt, token_error_message};
use super::http::Http;
use super::signin::{Credential, RefreshStore, SignIn, Stored};

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
    sign_in: SignIn,
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
        sign_in: SignIn,
    ) -> Self {
        let scope = format!("{}/.default", resource.trim_end_matches('/'));
        Self::with_scope(login_url, tenant_id, client_id, &scope, sign_in)
    }

    /// The same app, for another API: `scope` as sent, e.g.
    /// `https://api.partnercenter.microsoft.com/.default`.
    pub fn with_scope(
        login_url: &str,
        tenant_id: &str,
        client_id: &str,
        scope: &str,
        sign_in: SignIn,
    ) -> Self {
        Self {
            endpoint: format!(
                "{}/{tenant_id}/oauth2/v2.0/token",
                login_url.trim_end_matches('/')
            ),
            client_id: client_id.to_owned(),
            scope: scope.to_owned(),
            sign_in,
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

    /// Whether these are App+User tokens.
    pub fn is_user(&self) -> bool {
        matches!(self.sign_in, SignIn::User { .. })
    }

    async fn request(&self, http: &Http) -> Result<(SecretString, Duration), GraphError> {
        match &self.sign_in {
            SignIn::App(credential) => {
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", self.client_id.as_str()),
                    ("scope", self.scope.as_str()),
                ];
                let answer = self.post(http, &form, Some(credential)).await?;
                access_token(answer, &token_path(&self.endpoint))
            }
            SignIn::User { store, credential } => {
                self.redeem(http, store, credential.as_ref()).await
            }
        }
    }

    /// Redeems the stored refresh token, under the store's lock, and saves the rotated one the
    /// answer carries before the access token is handed out: a crash after this leaves the
    /// store with a token that works.
    async fn redeem(
        &self,
        http: &Http,
        store: &RefreshStore,
        credential: Option<&Credential>,
    ) -> Result<(SecretString, Duration), GraphError> {
        let locking = store.clone();
        let _lock = tokio::task::spawn_blocking(move || locking.lock())
            .await
            .map_err(|e| GraphError::Auth {
                message: format!("cannot lock the sign-in store: {e}"),
            })?
            .map_err(|e| GraphError::Auth {
                message: format!(
                    "cannot lock the sign-in store in {}: {e}",
                    store.path().parent().unwrap_or(&store.path()).display()
                ),
            })?;
        let (stored, origin) = store
            .load()
            .map_err(|message| GraphError::Auth { message })?
            .ok_or_else(|| GraphError::Auth {
                message: format!(
                    "sign_in = \"user\" but nobody has signed in: run `csp-alert-digest login --config <this config>` once (or set source.refresh_token_file); no token in {}",
                    store.path().display()
                ),
            })?;
        // `offline_access` asks for the rotated refresh token.
        let scope = format!("{} offline_access", self.scope);
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("refresh_token", stored.refresh_token.expose_secret()),
            ("scope", scope.as_str()),
        ];
        let path = token_path(&self.endpoint);
        let answer = self.post(http, &form, credential).await?;
        if let Some(rotated) = answer.refresh_token.as_deref().filter(|t| !t.is_empty()) {
            crate::redact::register(rotated);
            let now = chrono::Utc::now();
            let kept = Stored {
                refresh_token: SecretString::from(rotated.to_owned()),
                username: stored.username.clone(),
                signed_in_at: stored.signed_in_at,
                rotated_at: now,
            };
            store.save(&kept).map_err(|e| GraphError::Auth {
                message: format!(
                    "the rotated refresh token cannot be saved to {}: {e}",
                    store.path().display()
                ),
            })?;
            info!(
                from_seed = origin == super::signin::Origin::Seed,
                "refresh token redeemed; the rotated one is saved"
            );
        }
        access_token(answer, &path)
    }

    /// Posts a form to the token endpoint with the app's credential, if any.
    async fn post(
        &self,
        http: &Http,
        form: &[(&str, &str)],
        credential: Option<&Credential>,
    ) -> Result<TokenAnswer, GraphError> {
        let assertion = match credential {
            Some(Credential::FederatedTokenFile(path)) => Some(read_federated(path).await?),
            _ => None,
        };
        let path = token_path(&self.endpoint);
        let response = http
            .send(&path, || {
                let mut form: Vec<(&str, &str)> = form.to_vec();
                add_credential(&mut form, credential, assertion.as_ref());
                http.client().post(&self.endpoint).form(&form)
            })
            .await?;
        let status = response.status.as_u16();
        if status != 200 {
            let body: TokenErrorBody = serde_json::from_slice(&response.body).unwrap_or_default();
            if body.error.as_deref() == Some("invalid_grant") {
                return Err(GraphError::SignInExpired {
                    message: token_error_message(status, &body),
                });
            }
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
        serde_json::from_slice(&response.body).map_err(|_| {
            GraphError::BadPage(format!(
                "{path}: the token endpoint's answer is not a token: {}",
                excerpt(&response.body)
            ))
        })
    }
}

/// The app's credential as token request fields: its secret, or the federated token read for
/// this request (`assertion`) as a client assertion.
pub(super) fn add_credential<'a>(
    form: &mut Vec<(&str, &'a str)>,
    credential: Option<&'a Credential>,
    assertion: Option<&'a SecretString>,
) {
    match (credential, assertion) {
        (Some(Credential::Secret(secret)), _) => {
            form.push(("client_secret", secret.expose_secret()));
        }
        (Some(Credential::FederatedTokenFile(_)), Some(jwt)) => {
            form.push((
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ));
            form.push(("client_assertion", jwt.expose_secret()));
        }
        _ => {}
    }
}

/// The access token of an answer and how long to keep it.
fn access_token(answer: TokenAnswer, path: &str) -> Result<(SecretString, Duration), GraphError> {
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

/// The token endpoint's path, for logs: the tenant is part of it, the query never is.
pub(super) fn token_path(endpoint: &str) -> String {
    reqwest::Url::parse(endpoint)
        .map_or_else(|_| "token endpoint".to_owned(), |u| u.path().to_owned())
}

pub(super) async fn read_federated(path: &Path) -> Result<SecretString, GraphError> {
    // Small and bounded, and opened without blocking: read in place.
    let text = crate::bounded::read_to_string(
        path,
        "source.federated_token_file",
        crate::bounded::SECRET_BYTES,
    )
    .map_err(|e| GraphError::Auth {
        message: format!("the federated token file: {}", e.sentence()),
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
pub(super) struct TokenAnswer {
    #[serde(default)]
    pub(super) access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<Lifetime>,
    /// App+User answers: the rotated refresh token.
    #[serde(default)]
    pub(super) refresh_token: Option<String>,
    /// Device code answers with `openid`: who signed in.
    #[serde(default)]
    pub(super) id_token: Option<String>,
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
