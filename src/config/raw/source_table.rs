//! `[source]`: the file source's path, or Microsoft Graph's tenant, app, sign-in, endpoints and
//! limits; the keys of one kind are refused with the other.

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;

use super::origin::Origin;
use super::{RawKind, RawSource};
use crate::bounded;
use crate::config::{CLIENT_SECRET_ENV, ConfigError, FEDERATED_TOKEN_ENV};
use crate::net::is_loopback;
use crate::retry::RetryPolicy;
use crate::source::SourceConfig;
use crate::source::graph::{Credential, GraphConfig, RefreshStore, SignIn, defaults};

impl RawSource {
    pub(super) fn validate(self, origin: &Origin<'_>, state_dir: &Path) -> Option<SourceConfig> {
        match self.kind {
            RawKind::File => {
                if let Some(key) = self.graph_key() {
                    origin.keep::<()>(Err(origin.invalid(
                        "source",
                        format!("{key} is for kind = \"graph\", not kind = \"file\""),
                    )));
                }
                let path = origin.keep(self.path.ok_or_else(|| {
                    origin.invalid("source.path", "is required with kind = \"file\"")
                }))?;
                origin
                    .keep(origin.resolve("source.path", path))
                    .map(|path| SourceConfig::File { path })
            }
            RawKind::Graph => {
                if self.path.is_some() {
                    origin.keep::<()>(Err(origin.invalid(
                        "source.path",
                        "is for kind = \"file\", not kind = \"graph\"",
                    )));
                }
                self.validate_graph(origin, state_dir)
                    .map(|g| SourceConfig::Graph(Box::new(g)))
            }
        }
    }

    /// The first key set that only `kind = "graph"` uses.
    fn graph_key(&self) -> Option<&'static str> {
        [
            ("tenant_id", self.tenant_id.is_some()),
            ("client_id", self.client_id.is_some()),
            ("client_secret_file", self.client_secret_file.is_some()),
            ("federated_token_file", self.federated_token_file.is_some()),
            ("sign_in", self.sign_in.is_some()),
            ("refresh_token_file", self.refresh_token_file.is_some()),
            ("graph_url", self.graph_url.is_some()),
            ("login_url", self.login_url.is_some()),
            ("server_filter", self.server_filter),
            ("request_timeout_secs", self.request_timeout_secs.is_some()),
            ("deadline_secs", self.deadline_secs.is_some()),
            ("max_pages", self.max_pages.is_some()),
            ("max_page_bytes", self.max_page_bytes.is_some()),
            ("max_attempts", self.max_attempts.is_some()),
            ("max_retry_after_secs", self.max_retry_after_secs.is_some()),
        ]
        .into_iter()
        .find_map(|(key, set)| set.then_some(key))
    }

    fn validate_graph(self, origin: &Origin<'_>, state_dir: &Path) -> Option<GraphConfig> {
        let tenant_id = self.tenant_id.clone().unwrap_or_default();
        let client_id = self.client_id.clone().unwrap_or_default();
        let id_chars = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        };
        let check = |key: &'static str, ok: bool, message: &str| {
            origin.keep(if ok {
                Ok(())
            } else {
                Err(origin.invalid(key, message))
            })
        };
        let tenant_ok = check(
            "source.tenant_id",
            id_chars(&tenant_id),
            "must be the partner tenant's id (a GUID) or primary domain",
        );
        let client_ok = check(
            "source.client_id",
            id_chars(&client_id),
            "must be the app registration's client id",
        );
        let sign_in = origin.keep(self.sign_in(origin, state_dir, &client_id));
        let graph_url = origin.keep(endpoint(
            origin,
            "source.graph_url",
            self.graph_url,
            defaults::GRAPH_URL,
        ));
        let login_url = origin.keep(endpoint(
            origin,
            "source.login_url",
            self.login_url,
            defaults::LOGIN_URL,
        ));
        let positive = |key: &'static str, value: Option<u64>, default: Duration| {
            origin.keep(match value {
                Some(0) => Err(origin.invalid(key, "must be greater than 0")),
                Some(secs) => Ok(Duration::from_secs(secs)),
                None => Ok(default),
            })
        };
        let count = |key: &'static str, value: Option<usize>, default: usize| {
            origin.keep(match value {
                Some(0) => Err(origin.invalid(key, "must be greater than 0")),
                Some(n) => Ok(n),
                None => Ok(default),
            })
        };
        let request_timeout = positive(
            "source.request_timeout_secs",
            self.request_timeout_secs,
            defaults::REQUEST_TIMEOUT,
        );
        let deadline = positive(
            "source.deadline_secs",
            self.deadline_secs,
            defaults::DEADLINE,
        );
        let max_pages = count("source.max_pages", self.max_pages, defaults::MAX_PAGES);
        let max_page_bytes = count(
            "source.max_page_bytes",
            self.max_page_bytes,
            defaults::MAX_PAGE_BYTES,
        );
        let max_attempts = origin.keep(match self.max_attempts {
            Some(0) => Err(origin.invalid("source.max_attempts", "must be at least 1")),
            Some(n) => Ok(n),
            None => Ok(RetryPolicy::default().throttled_attempts),
        });
        let max_retry_after = positive(
            "source.max_retry_after_secs",
            self.max_retry_after_secs,
            defaults::MAX_RETRY_AFTER,
        );
        tenant_ok?;
        client_ok?;
        Some(GraphConfig {
            tenant_id,
            client_id,
            sign_in: sign_in?,
            graph_url: graph_url?,
            login_url: login_url?,
            server_filter: self.server_filter,
            request_timeout: request_timeout?,
            deadline: deadline?,
            max_pages: max_pages?,
            max_page_bytes: max_page_bytes?,
            max_attempts: max_attempts?,
            max_retry_after: max_retry_after?,
        })
    }

    /// `sign_in` with what it needs: the app's credential, or the refresh token store.
    fn sign_in(
        &self,
        origin: &Origin<'_>,
        state_dir: &Path,
        client_id: &str,
    ) -> Result<SignIn, ConfigError> {
        Ok(match self.sign_in.as_deref().unwrap_or("app") {
            "app" => {
                if self.refresh_token_file.is_some() {
                    return Err(
                        origin.invalid("source.refresh_token_file", "is for sign_in = \"user\"")
                    );
                }
                SignIn::App(self.credential(origin)?.ok_or_else(|| {
                    origin.invalid(
                        "source",
                        format!(
                            "no credential for Microsoft Graph: set client_secret_file or {CLIENT_SECRET_ENV}, or federated_token_file or {FEDERATED_TOKEN_ENV}; or sign in as a user (sign_in = \"user\")"
                        ),
                    )
                })?)
            }
            "user" => {
                let seed = match &self.refresh_token_file {
                    Some(file) => Some(origin.resolve("source.refresh_token_file", file.clone())?),
                    None => None,
                };
                SignIn::User {
                    store: RefreshStore::new(state_dir, client_id, seed),
                    credential: self.credential(origin)?,
                }
            }
            other => {
                return Err(origin.invalid(
                    "source.sign_in",
                    format!("must be \"app\" or \"user\", not {other:?}"),
                ));
            }
        })
    }

    /// The config's own keys win over the environment; a secret beats a federated token. None
    /// when nothing names one.
    fn credential(&self, origin: &Origin<'_>) -> Result<Option<Credential>, ConfigError> {
        match (&self.client_secret_file, &self.federated_token_file) {
            (Some(_), Some(_)) => Err(origin.invalid(
                "source.client_secret_file",
                "set either client_secret_file or federated_token_file, not both",
            )),
            (Some(file), None) => {
                let (path, secret) = origin.secret_file("source.client_secret_file", file)?;
                if secret.trim().is_empty() {
                    return Err(origin.invalid(
                        "source.client_secret_file",
                        format!("{} is empty", path.display()),
                    ));
                }
                crate::redact::register(&secret);
                Ok(Some(Credential::Secret(SecretString::from(secret))))
            }
            (None, Some(file)) => {
                federated(origin, "source.federated_token_file", file.clone()).map(Some)
            }
            (None, None) => {
                if let Some(secret) =
                    (origin.env)(CLIENT_SECRET_ENV).filter(|s| !s.trim().is_empty())
                {
                    crate::redact::register(&secret);
                    return Ok(Some(Credential::Secret(SecretString::from(secret))));
                }
                if let Some(file) =
                    (origin.env)(FEDERATED_TOKEN_ENV).filter(|s| !s.trim().is_empty())
                {
                    return federated(origin, "source", PathBuf::from(file)).map(Some);
                }
                Ok(None)
            }
        }
    }
}

/// A federated token file must be a readable token at start-up; it is read again for every
/// token request, since it rotates.
fn federated(
    origin: &Origin<'_>,
    key: &'static str,
    file: PathBuf,
) -> Result<Credential, ConfigError> {
    let path = origin.resolve(key, file)?;
    bounded::check(&path, key, bounded::SECRET_BYTES)
        .map_err(|e| origin.invalid(key, e.sentence()))?;
    Ok(Credential::FederatedTokenFile(path))
}

/// A base URL: `https`, or `http` to a loopback host only (test servers); no path, query or
/// credentials.
pub(super) fn endpoint(
    origin: &Origin<'_>,
    key: &'static str,
    value: Option<String>,
    default: &str,
) -> Result<reqwest::Url, ConfigError> {
    let raw = value.unwrap_or_else(|| default.to_owned());
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| origin.invalid(key, format!("{raw:?} is not a URL ({e})")))?;
    let loopback = is_loopback(url.host_str().unwrap_or(""));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(origin.invalid(
                key,
                format!("{raw:?} must use https (http only for loopback hosts)"),
            ));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(origin.invalid(key, "must not carry user credentials"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(origin.invalid(
            key,
            format!("{raw:?} must be a bare origin such as {default:?}"),
        ));
    }
    Ok(url)
}
