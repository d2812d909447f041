//! Configuration: the TOML file parsed strictly (unknown keys are errors), then turned into
//! typed, validated values in one fallible step, so a bad config fails in the first second.

mod raw;

#[cfg(test)]
mod plaintext_tests;

use std::path::{Path, PathBuf};

use chrono_tz::Tz;

use crate::deliver::MailConfig;
use crate::digest::Rules;
use crate::names::NamesConfig;
use crate::render::lang::Language;
use crate::source::SourceConfig;

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
