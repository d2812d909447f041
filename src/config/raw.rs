//! The config file as written, before validation; every section rejects unknown keys.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use lettre::message::Mailbox;
use serde::Deserialize;

use super::{Config, ConfigError, DigestConfig, Language, MailConfig, SourceConfig, Transport};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    digest: RawDigest,
    source: RawSource,
    mail: RawMail,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "lowercase")]
enum RawSource {
    File { path: PathBuf },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMail {
    #[serde(default = "default_transport")]
    transport: RawTransport,
    from: String,
    to: Vec<String>,
    #[serde(default = "default_subject")]
    subject: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawTransport {
    File,
}

fn default_transport() -> RawTransport {
    RawTransport::File
}

fn default_subject() -> String {
    "Azure security alerts".to_owned()
}

/// The longest window the digest accepts; Microsoft keeps alerts for a limited time anyway.
const MAX_WINDOW_DAYS: u32 = 366;

/// Where validation errors point and relative paths start.
struct Origin<'a> {
    path: &'a Path,
    base: &'a Path,
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
    pub(super) fn validate(self, path: &Path) -> Result<Config, ConfigError> {
        let origin = Origin {
            path,
            base: path.parent().unwrap_or_else(|| Path::new(".")),
        };
        Ok(Config {
            path: path.to_path_buf(),
            digest: self.digest.validate(&origin)?,
            source: self.source.validate(&origin)?,
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
    fn validate(self, origin: &Origin<'_>) -> Result<SourceConfig, ConfigError> {
        match self {
            Self::File { path } => Ok(SourceConfig::File {
                path: origin.resolve("source.path", path)?,
            }),
        }
    }
}

/// Longer subjects get cut by mail clients anyway; the date and counts follow the prefix.
const MAX_SUBJECT_CHARS: usize = 120;

impl RawMail {
    fn validate(self, origin: &Origin<'_>) -> Result<MailConfig, ConfigError> {
        let from = parse_mailbox(&self.from).map_err(|e| origin.invalid("mail.from", e))?;
        if self.to.is_empty() {
            return Err(origin.invalid("mail.to", "needs at least one address"));
        }
        let mut to = Vec::with_capacity(self.to.len());
        let mut seen = HashSet::new();
        for (i, raw) in self.to.iter().enumerate() {
            let mailbox = parse_mailbox(raw)
                .map_err(|e| origin.invalid("mail.to", format!("entry {}: {e}", i + 1)))?;
            if !seen.insert(mailbox.email.to_string().to_lowercase()) {
                return Err(origin.invalid(
                    "mail.to",
                    format!("entry {}: {} is listed twice", i + 1, mailbox.email),
                ));
            }
            to.push(mailbox);
        }
        if self.subject.chars().any(char::is_control) {
            return Err(origin.invalid(
                "mail.subject",
                "must be one line without control characters",
            ));
        }
        if self.subject.chars().count() > MAX_SUBJECT_CHARS {
            return Err(origin.invalid(
                "mail.subject",
                format!("must be at most {MAX_SUBJECT_CHARS} characters"),
            ));
        }
        Ok(MailConfig {
            transport: match self.transport {
                RawTransport::File => Transport::File,
            },
            from,
            to,
            subject: self.subject.trim().to_owned(),
        })
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
