//! Configuration: the TOML file parsed strictly (unknown keys are errors), then turned into
//! typed, validated values in one fallible step, so a bad config fails in the first second.

mod locate;
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

/// The most a config file may hold; ours are a few KiB.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// A configuration that cannot be used: the file cannot be read, or every problem found in it,
/// each naming its key and line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{message}")]
    Read { path: PathBuf, message: String },
    #[error(
        "config file {}: {}{}",
        path.display(),
        if problems.len() > 1 { format!("{} problems: ", problems.len()) } else { String::new() },
        problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

impl ConfigError {
    /// One line per problem, each naming the file: what `check` prints.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Self::Read { message, .. } => vec![message.clone()],
            Self::Invalid { path, problems } => problems
                .iter()
                .map(|p| format!("config file {}: {p}", path.display()))
                .collect(),
        }
    }
}

/// One thing wrong in the config: `line 3, column 15: digest.window_days: must be …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `section.key`; empty when the parser could not tell.
    pub key: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl Problem {
    fn new(key: &str, line: Option<usize>, message: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            line,
            column: None,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "line {line}, column {column}: ")?,
            (Some(line), None) => write!(f, "line {line}: ")?,
            _ => {}
        }
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// Loads and validates the config file; secrets may come from the environment.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = crate::bounded::read_to_string(path, "--config", MAX_CONFIG_BYTES).map_err(|e| {
        let message = match &e.problem {
            // The io error once: it is the message, not also a source printed after it.
            crate::bounded::Problem::Io(io) => {
                format!("cannot read the config file {}: {io}", path.display())
            }
            _ => format!("the config file {}", e.sentence()),
        };
        ConfigError::Read {
            path: path.to_path_buf(),
            message,
        }
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
    let raw: raw::RawConfig = toml::from_str(text).map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        problems: vec![locate::parse_problem(&e, text)],
    })?;
    raw.validate(path, env).map_err(|mut e| {
        if let ConfigError::Invalid { problems, .. } = &mut e {
            for problem in problems.iter_mut().filter(|p| p.line.is_none()) {
                problem.line = locate::line_of(text, &problem.key);
            }
        }
        e
    })
}
