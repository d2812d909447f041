//! The config file as written, before validation; every section rejects unknown keys.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use lettre::message::Mailbox;
use serde::Deserialize;

use secrecy::SecretString;

mod names_table;
mod origin;
mod source_table;

use origin::{CA_FILE_BYTES, Origin};

use super::{Config, ConfigError, DigestConfig, SMTP_PASSWORD_ENV};
use crate::deliver::address::outgoing_mailbox;
use crate::deliver::{MailConfig, SmtpConfig, TlsMode, Transport};
use crate::names::{self, NamesConfig};
use crate::net::is_loopback;
use crate::render::lang::Language;

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
    /// One address, or a list of them.
    #[serde(deserialize_with = "one_or_many")]
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

impl RawConfig {
    /// Every section is checked, each key that does not depend on another on its own, so one
    /// load lists all that is wrong.
    pub(super) fn validate(
        self,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let origin = Origin::new(path, env);
        let digest = self.digest.validate(&origin);
        // The refresh token store's folder; when state_dir is wrong, that is already noted.
        let state_dir = digest
            .as_ref()
            .map_or_else(|| origin.base.join("state"), |d| d.state_dir.clone());
        let graph = matches!(self.source.kind, RawKind::Graph);
        let source = self.source.validate(&origin, &state_dir);
        let names = match self.names {
            Some(names) => names.validate(&origin, graph),
            None => Some(NamesConfig {
                cache_max_age: names::defaults::CACHE_MAX_AGE,
                ..NamesConfig::default()
            }),
        };
        let mail = origin.keep(self.mail.validate(&origin));
        let config = (|| {
            Some(Config {
                path: path.to_path_buf(),
                digest: digest?,
                source: source?,
                names: names?,
                mail: mail?,
            })
        })();
        origin.finish(config)
    }
}

impl RawDigest {
    fn validate(self, origin: &Origin<'_>) -> Option<DigestConfig> {
        let window_days = origin.keep(match self.window_days {
            days @ 1..=MAX_WINDOW_DAYS => Ok(days),
            days => Err(origin.invalid(
                "digest.window_days",
                format!("must be between 1 and {MAX_WINDOW_DAYS}, not {days}"),
            )),
        });
        let timezone = origin.keep(self.timezone.parse::<Tz>().map_err(|_| {
            origin.invalid(
                "digest.timezone",
                format!(
                    "unknown time zone {:?}; use an IANA name such as \"Europe/Stockholm\" or \"UTC\"",
                    self.timezone
                ),
            )
        }));
        let language = origin.keep(Language::parse(&self.language).ok_or_else(|| {
            origin.invalid(
                "digest.language",
                format!(
                    "unsupported language {:?}; supported: {}",
                    self.language,
                    Language::SUPPORTED.join(", ")
                ),
            )
        }));
        let output_dir = origin.keep(origin.resolve("digest.output_dir", self.output_dir));
        let state_dir = origin.keep(origin.resolve("digest.state_dir", self.state_dir));
        Some(DigestConfig {
            window_days: window_days?,
            timezone: timezone?,
            language: language?,
            include_test_alerts: self.include_test_alerts,
            send_when_empty: self.send_when_empty,
            output_dir: output_dir?,
            state_dir: state_dir?,
        })
    }
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
                let (path, pem) = origin.read("mail.smtp.ca_file", &file, CA_FILE_BYTES)?;
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
            Some(file) => Some(origin.secret_file("mail.smtp.password_file", file)?.1),
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

/// `to = "a@x"` or `to = ["a@x", "b@x"]`; anything else is an error that says it wants either.
fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct Addresses;
    impl<'de> serde::de::Visitor<'de> for Addresses {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an address or a list of addresses")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(vec![v.to_owned()])
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut all = Vec::new();
            while let Some(address) = seq.next_element::<String>()? {
                all.push(address);
            }
            Ok(all)
        }
    }
    deserializer.deserialize_any(Addresses)
}
