//! The config file as written, before validation; every section rejects unknown keys.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use lettre::message::Mailbox;
use serde::Deserialize;

use secrecy::SecretString;

use super::{
    CLIENT_SECRET_ENV, Config, ConfigError, DigestConfig, FEDERATED_TOKEN_ENV, SMTP_PASSWORD_ENV,
};
use crate::deliver::address::outgoing_mailbox;
use crate::deliver::{MailConfig, SmtpConfig, TlsMode, Transport};
use crate::names::{self, NamesConfig, NamesFileConfig, PartnerCenterConfig};
use crate::net::is_loopback;
use crate::render::lang::Language;
use crate::retry::RetryPolicy;
use crate::source::SourceConfig;
use crate::source::graph::{Credential, GraphConfig, RefreshStore, SignIn, defaults};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    digest: RawDigest,
    source: RawSource,
    #[serde(default)]
    names: Option<RawNames>,
    mail: RawMail,
}

/// `[names]`: every key optional; the Partner Center keys only with `partner_center = true`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNames {
    #[serde(default)]
    file: Option<PathBuf>,
    #[serde(default)]
    partner_center: bool,
    #[serde(default)]
    partner_center_url: Option<String>,
    #[serde(default)]
    customer_page_size: Option<usize>,
    #[serde(default)]
    resellers: Option<bool>,
    #[serde(default)]
    deadline_secs: Option<u64>,
    #[serde(default)]
    cache_max_age_days: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawDigest {
    window_days: u32,
    timezone: String,
    language: String,
    include_test_alerts: bool,
    send_when_empty: bool,
    output_dir: PathBuf,
    state_dir: PathBuf,
}

impl Default for RawDigest {
    fn default() -> Self {
        Self {
            window_days: 60,
            timezone: "UTC".to_owned(),
            language: "en".to_owned(),
            include_test_alerts: false,
            send_when_empty: false,
            output_dir: PathBuf::from("out"),
            state_dir: PathBuf::from("state"),
        }
    }
}

/// `[source]` as one flat table (not a tagged enum, which would lose the line numbers of
/// unknown keys); `validate` checks which keys go with which `kind`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    kind: RawKind,
    #[serde(default)]
    path: Option<PathBuf>,

    // kind = "graph"
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret_file: Option<PathBuf>,
    #[serde(default)]
    federated_token_file: Option<PathBuf>,
    /// `"app"` (default) or `"user"`.
    #[serde(default)]
    sign_in: Option<String>,
    #[serde(default)]
    refresh_token_file: Option<PathBuf>,
    #[serde(default)]
    graph_url: Option<String>,
    #[serde(default)]
    login_url: Option<String>,
    #[serde(default)]
    server_filter: bool,
    #[serde(default)]
    request_timeout_secs: Option<u64>,
    #[serde(default)]
    deadline_secs: Option<u64>,
    #[serde(default)]
    max_pages: Option<usize>,
    #[serde(default)]
    max_page_bytes: Option<usize>,
    #[serde(default)]
    max_attempts: Option<u32>,
    #[serde(default)]
    max_retry_after_secs: Option<u64>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawKind {
    File,
    Graph,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMail {
    #[serde(default = "default_transport")]
    transport: RawTransport,
    from: String,
    to: Vec<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    smtp: Option<RawSmtp>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawTransport {
    File,
    Smtp,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: String,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    tls: Option<RawTls>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password_file: Option<PathBuf>,
    #[serde(default)]
    ca_file: Option<PathBuf>,
    #[serde(default)]
    connect_timeout_secs: Option<u64>,
    #[serde(default)]
    send_timeout_secs: Option<u64>,
    #[serde(default)]
    attempts: Option<u32>,
    #[serde(default)]
    deadline_secs: Option<u64>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawTls {
    StartTls,
    Implicit,
    None,
}

fn default_transport() -> RawTransport {
    RawTransport::File
}

/// The longest window the digest accepts; Microsoft keeps alerts for a limited time anyway.
const MAX_WINDOW_DAYS: u32 = 366;

/// Where validation errors point, relative paths start, and secrets may come from.
struct Origin<'a> {
    path: &'a Path,
    base: &'a Path,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Origin<'_> {
    fn invalid(&self, key: &'static str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            key,
            message: message.into(),
        }
    }

    fn resolve(&self, key: &'static str, p: PathBuf) -> Result<PathBuf, ConfigError> {
        if p.as_os_str().is_empty() {
            return Err(self.invalid(key, "must not be empty"));
        }
        Ok(if p.is_absolute() {
            p
        } else {
            self.base.join(p)
        })
    }
}

impl RawConfig {
    pub(super) fn validate(
        self,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let origin = Origin {
            path,
            base: path.parent().unwrap_or_else(|| Path::new(".")),
            env,
        };
        let digest = self.digest.validate(&origin)?;
        let source = self.source.validate(&origin, &digest.state_dir)?;
        let names = match self.names {
            Some(names) => names.validate(&origin, &source)?,
            None => NamesConfig {
                cache_max_age: names::defaults::CACHE_MAX_AGE,
                ..NamesConfig::default()
            },
        };
        Ok(Config {
            path: path.to_path_buf(),
            digest,
            source,
            names,
            mail: self.mail.validate(&origin)?,
        })
    }
}

impl RawDigest {
    fn validate(self, origin: &Origin<'_>) -> Result<DigestConfig, ConfigError> {
        if self.window_days == 0 || self.window_days > MAX_WINDOW_DAYS {
            return Err(origin.invalid(
                "digest.window_days",
                format!(
                    "must be between 1 and {MAX_WINDOW_DAYS}, not {}",
                    self.window_days
                ),
            ));
        }
        let timezone: Tz = self.timezone.parse().map_err(|_| {
            origin.invalid(
                "digest.timezone",
                format!(
                    "unknown time zone {:?}; use an IANA name such as \"Europe/Stockholm\" or \"UTC\"",
                    self.timezone
                ),
            )
        })?;
        let language = Language::parse(&self.language).ok_or_else(|| {
            origin.invalid(
                "digest.language",
                format!(
                    "unsupported language {:?}; supported: {}",
                    self.language,
                    Language::SUPPORTED.join(", ")
                ),
            )
        })?;
        Ok(DigestConfig {
            window_days: self.window_days,
            timezone,
            language,
            include_test_alerts: self.include_test_alerts,
            send_when_empty: self.send_when_empty,
            output_dir: origin.resolve("digest.output_dir", self.output_dir)?,
            state_dir: origin.resolve("digest.state_dir", self.state_dir)?,
        })
    }
}

impl RawSource {
    fn validate(self, origin: &Origin<'_>, state_dir: &Path) -> Result<SourceConfig, ConfigError> {
        match self.kind {
            RawKind::File => {
                if let Some(key) = self.graph_key() {
                    return Err(origin.invalid(
                        "source",
                        format!("{key} is for kind = \"graph\", not kind = \"file\""),
                    ));
                }
                let path = self.path.ok_or_else(|| {
                    origin.invalid("source.path", "is required with kind = \"file\"")
                })?;
                Ok(SourceConfig::File {
                    path: origin.resolve("source.path", path)?,
                })
            }
            RawKind::Graph => {
                if self.path.is_some() {
                    return Err(origin.invalid(
                        "source.path",
                        "is for kind = \"file\", not kind = \"graph\"",
                    ));
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

    fn validate_graph(
        self,
        origin: &Origin<'_>,
        state_dir: &Path,
    ) -> Result<GraphConfig, ConfigError> {
        let tenant_id = self.tenant_id.clone().unwrap_or_default();
        let client_id = self.client_id.clone().unwrap_or_default();
        let id_chars = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        };
        if !id_chars(&tenant_id) {
            return Err(origin.invalid(
                "source.tenant_id",
                "must be the partner tenant's id (a GUID) or primary domain",
            ));
        }
        if !id_chars(&client_id) {
            return Err(origin.invalid(
                "source.client_id",
                "must be the app registration's client id",
            ));
        }
        let sign_in = self.sign_in(origin, state_dir, &client_id)?;
        let graph_url = endpoint(
            origin,
            "source.graph_url",
            self.graph_url,
            defaults::GRAPH_URL,
        )?;
        let login_url = endpoint(
            origin,
            "source.login_url",
            self.login_url,
            defaults::LOGIN_URL,
        )?;
        let positive = |key: &'static str, value: Option<u64>, default: Duration| match value {
            Some(0) => Err(origin.invalid(key, "must be greater than 0")),
            Some(secs) => Ok(Duration::from_secs(secs)),
            None => Ok(default),
        };
        let count = |key: &'static str, value: Option<usize>, default: usize| match value {
            Some(0) => Err(origin.invalid(key, "must be greater than 0")),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        Ok(GraphConfig {
            tenant_id,
            client_id,
            sign_in,
            graph_url,
            login_url,
            server_filter: self.server_filter,
            request_timeout: positive(
                "source.request_timeout_secs",
                self.request_timeout_secs,
                defaults::REQUEST_TIMEOUT,
            )?,
            deadline: positive(
                "source.deadline_secs",
                self.deadline_secs,
                defaults::DEADLINE,
            )?,
            max_pages: count("source.max_pages", self.max_pages, defaults::MAX_PAGES)?,
            max_page_bytes: count(
                "source.max_page_bytes",
                self.max_page_bytes,
                defaults::MAX_PAGE_BYTES,
            )?,
            max_attempts: match self.max_attempts {
                Some(0) => return Err(origin.invalid("source.max_attempts", "must be at least 1")),
                Some(n) => n,
                None => RetryPolicy::default().throttled_attempts,
            },
            max_retry_after: positive(
                "source.max_retry_after_secs",
                self.max_retry_after_secs,
                defaults::MAX_RETRY_AFTER,
            )?,
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
                let (path, secret) = secret_file(origin, "source.client_secret_file", file)?;
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

/// The longest a cached name may be used: a year-old name is more likely wrong than helpful.
const MAX_CACHE_DAYS: u32 = 365;

impl RawNames {
    fn validate(
        self,
        origin: &Origin<'_>,
        source: &SourceConfig,
    ) -> Result<NamesConfig, ConfigError> {
        let file = match self.file {
            Some(file) => {
                let path = origin.resolve("names.file", file)?;
                let names = names::file::read(&path).map_err(|e| {
                    let at = e.line.map(|l| format!(" line {l}")).unwrap_or_default();
                    origin.invalid(
                        "names.file",
                        format!("{}{at}: {}", path.display(), e.message),
                    )
                })?;
                Some(NamesFileConfig { path, names })
            }
            None => None,
        };
        let cache_max_age = match self.cache_max_age_days {
            Some(days @ 1..=MAX_CACHE_DAYS) => Duration::from_secs(u64::from(days) * 86_400),
            Some(days) => {
                return Err(origin.invalid(
                    "names.cache_max_age_days",
                    format!("must be between 1 and {MAX_CACHE_DAYS}, not {days}"),
                ));
            }
            None => names::defaults::CACHE_MAX_AGE,
        };
        let partner_center = if self.partner_center {
            if !matches!(source, SourceConfig::Graph(_)) {
                return Err(origin.invalid(
                    "names.partner_center",
                    "needs [source] kind = \"graph\": Partner Center is signed in to with its tenant_id, client_id and credential; without them, name tenants in names.file",
                ));
            }
            let customer_page_size = match self.customer_page_size {
                Some(size @ 1..=names::defaults::MAX_CUSTOMER_PAGE_SIZE) => size,
                Some(size) => {
                    return Err(origin.invalid(
                        "names.customer_page_size",
                        format!(
                            "must be between 1 and {}, not {size}",
                            names::defaults::MAX_CUSTOMER_PAGE_SIZE
                        ),
                    ));
                }
                None => names::defaults::CUSTOMER_PAGE_SIZE,
            };
            Some(PartnerCenterConfig {
                url: endpoint(
                    origin,
                    "names.partner_center_url",
                    self.partner_center_url,
                    names::defaults::PARTNER_CENTER_URL,
                )?,
                customer_page_size,
                resellers: self.resellers.unwrap_or(true),
                deadline: match self.deadline_secs {
                    Some(0) => {
                        return Err(origin.invalid("names.deadline_secs", "must be greater than 0"));
                    }
                    Some(secs) => Duration::from_secs(secs),
                    None => names::defaults::DEADLINE,
                },
            })
        } else {
            let stray = [
                (
                    "names.partner_center_url",
                    self.partner_center_url.is_some(),
                ),
                (
                    "names.customer_page_size",
                    self.customer_page_size.is_some(),
                ),
                ("names.resellers", self.resellers.is_some()),
                ("names.deadline_secs", self.deadline_secs.is_some()),
            ]
            .into_iter()
            .find_map(|(key, set)| set.then_some(key));
            if let Some(key) = stray {
                return Err(origin.invalid(
                    key,
                    "is for Partner Center lookups: set partner_center = true in [names] as well",
                ));
            }
            None
        };
        Ok(NamesConfig {
            file,
            partner_center,
            cache_max_age,
        })
    }
}

/// A federated token file must exist at start-up; it is read again for every token request.
fn federated(
    origin: &Origin<'_>,
    key: &'static str,
    file: PathBuf,
) -> Result<Credential, ConfigError> {
    let path = origin.resolve(key, file)?;
    if !path.is_file() {
        return Err(origin.invalid(
            key,
            format!("the federated token file {} does not exist", path.display()),
        ));
    }
    Ok(Credential::FederatedTokenFile(path))
}

/// A base URL: `https`, or `http` to a loopback host only (test servers); no path, query or
/// credentials.
fn endpoint(
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

/// Longer subjects get cut by mail clients anyway; the date and counts follow the prefix.
const MAX_SUBJECT_CHARS: usize = 120;

impl RawMail {
    fn validate(self, origin: &Origin<'_>) -> Result<MailConfig, ConfigError> {
        // Domains in their ASCII (IDNA) form from here on: header, envelope, ledger and file
        // name agree, and only a non-ASCII local part needs the relay's SMTPUTF8.
        let from = parse_mailbox(&self.from)
            .and_then(outgoing_mailbox)
            .map_err(|e| origin.invalid("mail.from", e))?;
        if self.to.is_empty() {
            return Err(origin.invalid("mail.to", "needs at least one address"));
        }
        let mut to = Vec::with_capacity(self.to.len());
        let mut seen = HashSet::new();
        for (i, raw) in self.to.iter().enumerate() {
            let mailbox = parse_mailbox(raw)
                .and_then(outgoing_mailbox)
                .map_err(|e| origin.invalid("mail.to", format!("entry {}: {e}", i + 1)))?;
            if !seen.insert(mailbox.email.to_string().to_lowercase()) {
                return Err(origin.invalid(
                    "mail.to",
                    format!("entry {}: {} is listed twice", i + 1, mailbox.email),
                ));
            }
            to.push(mailbox);
        }
        let subject = self.subject.as_deref().map(str::trim);
        if subject.is_some_and(|s| s.chars().any(char::is_control)) {
            return Err(origin.invalid(
                "mail.subject",
                "must be one line without control characters",
            ));
        }
        if subject.is_some_and(|s| s.chars().count() > MAX_SUBJECT_CHARS) {
            return Err(origin.invalid(
                "mail.subject",
                format!("must be at most {MAX_SUBJECT_CHARS} characters"),
            ));
        }
        let transport = match (self.transport, self.smtp) {
            (RawTransport::File, None) => Transport::File,
            (RawTransport::File, Some(_)) => {
                return Err(origin.invalid(
                    "mail.smtp",
                    "is set but mail.transport is \"file\" (the default), so nothing would be sent: set transport = \"smtp\", or remove [mail.smtp]",
                ));
            }
            (RawTransport::Smtp, Some(smtp)) => Transport::Smtp(Box::new(smtp.validate(origin)?)),
            (RawTransport::Smtp, None) => {
                return Err(origin.invalid(
                    "mail.smtp",
                    "transport = \"smtp\" needs a [mail.smtp] section with at least host",
                ));
            }
        };
        Ok(MailConfig {
            transport,
            from,
            to,
            subject: subject.filter(|s| !s.is_empty()).map(str::to_owned),
        })
    }
}

/// A secret file named by `key`: its path, and its text without the trailing newline.
fn secret_file(
    origin: &Origin<'_>,
    key: &'static str,
    file: &Path,
) -> Result<(PathBuf, String), ConfigError> {
    let path = origin.resolve(key, file.to_path_buf())?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| origin.invalid(key, format!("cannot read {}: {e}", path.display())))?;
    let secret = text.trim_end_matches(['\r', '\n']).to_owned();
    Ok((path, secret))
}

impl RawSmtp {
    fn validate(self, origin: &Origin<'_>) -> Result<SmtpConfig, ConfigError> {
        let host = self.host.trim().to_owned();
        if host.is_empty()
            || host
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '/')
        {
            return Err(origin.invalid(
                "mail.smtp.host",
                format!("{:?} is not a host name", self.host),
            ));
        }
        let tls = match self.tls.unwrap_or(RawTls::StartTls) {
            RawTls::StartTls => TlsMode::StartTls,
            RawTls::Implicit => TlsMode::Implicit,
            RawTls::None => TlsMode::None,
        };
        let credentials = self.credentials(origin)?;
        if tls == TlsMode::None {
            if !is_loopback(&host) {
                return Err(origin.invalid(
                    "mail.smtp.tls",
                    format!("\"none\" is only allowed to a loopback host, not {host:?}; use \"starttls\" or \"implicit\""),
                ));
            }
            if credentials.is_some() {
                return Err(origin.invalid(
                    "mail.smtp.tls",
                    "\"none\" cannot be used with a username: credentials only ever cross TLS",
                ));
            }
        }
        let ca_pem = match self.ca_file {
            Some(file) => {
                let path = origin.resolve("mail.smtp.ca_file", file)?;
                let pem = std::fs::read(&path).map_err(|e| {
                    origin.invalid(
                        "mail.smtp.ca_file",
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                let parsed = pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----")
                    && lettre::transport::smtp::client::Certificate::from_pem(&pem).is_ok();
                if !parsed {
                    return Err(origin.invalid(
                        "mail.smtp.ca_file",
                        format!("{} holds no readable PEM certificate", path.display()),
                    ));
                }
                Some(pem)
            }
            None => None,
        };
        let secs = |key: &'static str, value: Option<u64>, default: u64| match value {
            Some(0) => Err(origin.invalid(key, "must be greater than 0")),
            Some(s) => Ok(Duration::from_secs(s)),
            None => Ok(Duration::from_secs(default)),
        };
        Ok(SmtpConfig {
            port: match self.port {
                Some(0) => return Err(origin.invalid("mail.smtp.port", "must not be 0")),
                Some(port) => port,
                None => tls.default_port(),
            },
            host,
            tls,
            credentials,
            ca_pem,
            connect_timeout: secs(
                "mail.smtp.connect_timeout_secs",
                self.connect_timeout_secs,
                15,
            )?,
            send_timeout: secs("mail.smtp.send_timeout_secs", self.send_timeout_secs, 120)?,
            attempts: match self.attempts {
                Some(0) => return Err(origin.invalid("mail.smtp.attempts", "must be at least 1")),
                Some(n) => n,
                None => 3,
            },
            deadline: secs(
                "mail.smtp.deadline_secs",
                self.deadline_secs,
                crate::deliver::smtp::DEFAULT_DEADLINE_SECS,
            )?,
        })
    }
}

impl RawSmtp {
    /// The username with its password, from `password_file` or the environment.
    fn credentials(
        &self,
        origin: &Origin<'_>,
    ) -> Result<Option<(String, SecretString)>, ConfigError> {
        let password = match &self.password_file {
            Some(file) => Some(secret_file(origin, "mail.smtp.password_file", file)?.1),
            None => (origin.env)(SMTP_PASSWORD_ENV),
        }
        .filter(|p| !p.is_empty());
        match (&self.username, password) {
            (Some(user), Some(password)) if !user.trim().is_empty() => {
                crate::redact::register(&password);
                Ok(Some((user.trim().to_owned(), SecretString::from(password))))
            }
            (Some(_), _) => Err(origin.invalid(
                "mail.smtp.username",
                format!("needs a password: set password_file or {SMTP_PASSWORD_ENV}"),
            )),
            (None, _) if self.password_file.is_some() => {
                Err(origin.invalid("mail.smtp.password_file", "is set but username is not"))
            }
            (None, _) => Ok(None),
        }
    }
}

/// An address, optionally with a display name (`Security <sec@partner.example>`). Control
/// characters are refused outright: a CR/LF here would reach a mail header.
fn parse_mailbox(raw: &str) -> Result<Mailbox, String> {
    if raw.chars().any(char::is_control) {
        return Err(format!("{raw:?} contains a control character"));
    }
    raw.trim()
        .parse::<Mailbox>()
        .map_err(|e| format!("{raw:?} is not an email address ({e})"))
}
