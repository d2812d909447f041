//! The documented exit codes, and a failure that carries the one it should end with.

use std::fmt;

/// What a run ended with. Scripts, systemd and Kubernetes branch on these numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Exit {
    /// Done: sent, nothing to send, or already sent.
    #[default]
    Done = 0,
    /// An unexpected internal error (a bug).
    Internal = 1,
    /// Configuration, input or permanent authentication error: retrying will not help.
    Config = 2,
    /// Transient failure (source or mail server unavailable); nothing half-sent; retry later.
    Transient = 3,
    /// Some recipients failed for good.
    Partial = 4,
    /// Another run for the same state is in progress.
    Busy = 5,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// An error with the exit code it maps to. Displays the whole cause chain on one line.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub error: anyhow::Error,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for Failure {}

/// Tags an error with its exit code.
pub trait ExitContext<T> {
    fn or_exit(self, exit: Exit) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> ExitContext<T> for Result<T, E> {
    fn or_exit(self, exit: Exit) -> Result<T, Failure> {
        self.map_err(|e| Failure {
            exit,
            error: e.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_match_the_documentation() {
        let codes = [
            Exit::Done,
            Exit::Internal,
            Exit::Config,
            Exit::Transient,
            Exit::Partial,
            Exit::Busy,
        ]
        .map(Exit::code);
        assert_eq!(codes, [0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_failure_displays_its_whole_cause_chain_without_a_backtrace() {
        let failure = Err::<(), _>(anyhow::anyhow!("inner").context("outer"))
            .or_exit(Exit::Config)
            .unwrap_err();
        assert_eq!(failure.to_string(), "outer: inner");
        assert_eq!(failure.exit, Exit::Config);
    }
}
