//! Configuration: the TOML file parsed strictly (unknown keys are errors), then turned into
//! typed, validated values in one fallible step, so a bad config fails in the first second.

mod raw;

pub(crate) use raw::is_loopback;

#[cfg(test)]
mod plaintext_tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use lettre::message::Mailbox;
use secrecy::SecretString;

use crate::digest::Rules;
pub use crate::source::graph::Credential;
use crate::source::names::file::NamesFile;

/// The environment variable holding the SMTP password.
pub const SMTP_PASSWORD_ENV: &str = "CSP_DIGEST_SMTP_PASSWORD";
/// The environment variable holding the Graph client secret.
pub const CLIENT_SECRET_ENV: &str = "CSP_DIGEST_CLIENT_SECRET";
/// Set by Azure workload identity on Kubernetes: the file holding the federated token.
pub const FEDERATED_TOKEN_ENV: &str = "AZURE_FEDERATED_TOKEN_FILE";

/// A validated configuration. Paths are absolute or relative to the working directory, already
/// resolved against the folder of the config file.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was loaded from.
    pub path: PathBuf,
    pub digest: DigestConfig,
    pub source: SourceConfig,
    /// `[names]`: where tenant and subscription names come from; empty when absent.
    pub names: NamesConfig,
    pub mail: MailConfig,
}

#[derive(Debug, Clone)]
pub struct DigestConfig {
    pub window_days: u32,
    pub timezone: Tz,
    pub language: Language,
    pub include_test_alerts: bool,
    pub send_when_empty: bool,
    pub output_dir: PathBuf,
    pub state_dir: PathBuf,
}

impl DigestConfig {
    pub fn rules(&self) -> Rules {
        Rules {
            window_days: self.window_days,
            include_test_alerts: self.include_test_alerts,
            timezone: self.timezone,
        }
    }
}

/// The language of the reports' prose. CSV column names never change with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    Swedish,
}

impl Language {
    pub const SUPPORTED: &[&str] = &["en", "sv"];

    pub(crate) fn parse(raw: &str) -> Option<Self> {
        match raw.to_ascii_lowercase().as_str() {
            "en" | "en-us" | "en-gb" => Some(Self::English),
            "sv" | "sv-se" | "sv-fi" => Some(Self::Swedish),
            _ => None,
        }
    }

    /// The BCP 47 tag written into the HTML.
    pub fn tag(self) -> &'static str {
        match self {
            Self::English => "en",
            Self::Swedish => "sv",
        }
    }
}

#[derive(Debug, Clone)]
pub enum SourceConfig {
    /// A page, a bare array, or a folder of exported pages.
    File { path: PathBuf },
    /// Microsoft Graph with an app-only token.
    Graph(Box<GraphConfig>),
}

/// `[source] kind = "graph"`.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// The partner tenant (GUID or domain).
    pub tenant_id: String,
    pub client_id: String,
    pub credential: Credential,
    /// `https://graph.microsoft.com` by default; `http` only for loopback hosts.
    pub graph_url: reqwest::Url,
    /// `https://login.microsoftonline.com` by default; `http` only for loopback hosts.
    pub login_url: reqwest::Url,
    /// Ask the service to leave resolved alerts out (`$filter`); the job filters anyway.
    pub server_filter: bool,
    /// One HTTP request, from connecting to the end of the body.
    pub request_timeout: Duration,
    /// The whole collection, retries and waits included.
    pub deadline: Duration,
    pub max_pages: usize,
    pub max_page_bytes: usize,
    /// Attempts in all for a throttled request (429, 503, 504).
    pub max_attempts: u32,
    /// The longest `Retry-After` honoured; a longer one fails the run at once.
    pub max_retry_after: Duration,
}

/// `[names]`. Lookups that fail are warnings; only a bad names file stops the run.
#[derive(Debug, Clone, Default)]
pub struct NamesConfig {
    /// The names file, already read: it wins over every API answer.
    pub file: Option<NamesFileConfig>,
    /// Customer (and reseller) names from Partner Center, signed in with `[source]`'s app.
    pub partner_center: Option<PartnerCenterConfig>,
    /// Names from Partner Center are kept in the ledger and used this long when it is down.
    pub cache_max_age: Duration,
}

#[derive(Debug, Clone)]
pub struct NamesFileConfig {
    pub path: PathBuf,
    pub names: NamesFile,
}

/// `[names] partner_center = true`.
#[derive(Debug, Clone)]
pub struct PartnerCenterConfig {
    /// `https://api.partnercenter.microsoft.com` by default; `http` only for loopback hosts.
    pub url: reqwest::Url,
    /// Customers per page of `GET /v1/customers?size=N`.
    pub customer_page_size: usize,
    /// Also ask `GET /v1/customers/{id}/relationships` for reseller names (documented for
    /// App+User tokens only: a refusal is a warning).
    pub resellers: bool,
    /// All name lookups of a run, retries and waits included.
    pub deadline: Duration,
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub transport: Transport,
    pub from: Mailbox,
    /// Recipients, unique by address (compared case-insensitively).
    pub to: Vec<Mailbox>,
    /// Subject prefix; the date and the counts follow it. Default: "Azure security alerts" in
    /// the digest's language.
    pub subject: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Transport {
    /// Messages are written as `.eml` files only; nothing is sent.
    File,
    /// Messages are sent to an SMTP relay.
    Smtp(Box<SmtpConfig>),
}

/// `[mail.smtp]`.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// Username and password; only ever sent over TLS.
    pub credentials: Option<(String, SecretString)>,
    /// Extra trusted root certificates (PEM) for a private relay.
    pub ca_pem: Option<Vec<u8>>,
    /// Connecting, TLS and greeting.
    pub connect_timeout: Duration,
    /// One whole message, from connecting to the server's answer to the end of DATA.
    pub send_timeout: Duration,
    /// Tries per message for transient failures within one run.
    pub attempts: u32,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain connection upgraded with STARTTLS, which the server must offer (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No TLS: only to a loopback host, and never with credentials.
    None,
}

impl TlsMode {
    pub fn default_port(self) -> u16 {
        match self {
            Self::StartTls => 587,
            Self::Implicit => 465,
            Self::None => 25,
        }
    }
}

/// A configuration that cannot be used; the message names the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config file {path}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        key: &'static str,
        message: String,
    },
}

/// The parser's message with the line and column, but never the line's text: a secret
/// written into the file by mistake must not reach a log.
fn parse_message(error: &toml::de::Error, text: &str) -> String {
    let message = error.message().trim_end();
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message.to_owned(),
    }
}

/// Loads and validates the config file; secrets may come from the environment.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    from_toml(&text, path, &|name| std::env::var(name).ok())
}

/// Parses and validates config text as if it had been read from `path`, with `env` standing
/// in for the process environment.
pub fn from_toml(
    text: &str,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let raw: raw::RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: parse_message(&e, text),
    })?;
    raw.validate(path, env)
}
