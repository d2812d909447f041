//! Logging to stderr: the level from `CSP_DIGEST_LOG` (a tracing filter), text or JSON lines.
//! Log messages carry counts and ids, never secrets, addresses or raw response bodies; each
//! line is scrubbed of registered secrets on its way out ([`crate::redact`]).

use std::io::Write;

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
        .with_writer(|| Scrubbed(Vec::new()))
        .with_target(false);
    match format {
        LogFormat::Text => builder.with_ansi(false).init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
    if let Some(message) = bad {
        tracing::warn!("{message}");
    }
}

/// One log event, collected whole and written to stderr scrubbed when the formatter is done
/// with it (a secret split over two writes would otherwise slip past the scrubbing).
struct Scrubbed(Vec<u8>);

impl Write for Scrubbed {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.0.is_empty() {
            let text = String::from_utf8_lossy(&self.0);
            std::io::stderr().write_all(crate::redact::scrub(&text).as_bytes())?;
            self.0.clear();
        }
        Ok(())
    }
}

impl Drop for Scrubbed {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}
