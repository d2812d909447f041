//! Logging to stderr: the level from `CSP_DIGEST_LOG` (a tracing filter), text or JSON lines.
//! Log messages carry counts and ids, never secrets, addresses or raw response bodies.

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// The environment variable holding the tracing filter.
pub const ENV: &str = "CSP_DIGEST_LOG";

/// Installs the global subscriber. A bad filter falls back to `info` and says so.
pub fn init(format: LogFormat) {
    let (filter, bad) = match std::env::var(ENV) {
        Ok(spec) if !spec.trim().is_empty() => match EnvFilter::try_new(&spec) {
            Ok(filter) => (filter, None),
            Err(e) => (
                EnvFilter::new("info"),
                Some(format!(
                    "{ENV}={spec:?} is not a valid filter ({e}); using info"
                )),
            ),
        },
        _ => (EnvFilter::new("info"), None),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match format {
        LogFormat::Text => builder.with_ansi(false).init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
    if let Some(message) = bad {
        tracing::warn!("{message}");
    }
}
