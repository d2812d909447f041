//! Configuration: the TOML file parsed strictly (unknown keys are errors), then turned into
//! typed, validated values in one fallible step, so a bad config fails in the first second.

mod raw;

use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use lettre::message::Mailbox;

use crate::digest::Rules;

/// A validated configuration. Paths are absolute or relative to the working directory, already
/// resolved against the folder of the config file.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was loaded from.
    pub path: PathBuf,
    pub digest: DigestConfig,
    pub source: SourceConfig,
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
        }
    }
}

/// The language of the reports' prose. CSV column names never change with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
}

impl Language {
    pub const SUPPORTED: &[&str] = &["en"];

    fn parse(raw: &str) -> Option<Self> {
        match raw.to_ascii_lowercase().as_str() {
            "en" | "en-us" | "en-gb" => Some(Self::English),
            _ => None,
        }
    }

    /// The BCP 47 tag written into the HTML.
    pub fn tag(self) -> &'static str {
        match self {
            Self::English => "en",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceConfig {
    /// A page, a bare array, or a folder of exported pages.
    File { path: PathBuf },
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub transport: Transport,
    pub from: Mailbox,
    /// Recipients, unique by address (compared case-insensitively).
    pub to: Vec<Mailbox>,
    /// Subject prefix; the date and the counts follow it.
    pub subject: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Messages are written as `.eml` files only; nothing is sent.
    File,
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

/// Loads and validates the config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    from_toml(&text, path)
}

/// Parses and validates config text as if it had been read from `path`.
pub fn from_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let raw: raw::RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    raw.validate(path)
}
