//! The state folder: the ledger, guarded by a lock the OS releases when the process dies, so a
//! second run against the same state (cron overlap, a Kubernetes job started twice) stops at once.

use std::fs::{File, TryLockError};
use std::path::Path;

use anyhow::Context as _;

use super::Ledger;

/// The lock file's name inside `state_dir`.
pub const LOCK_FILE: &str = "run.lock";

/// The locked state of one run. Dropping it releases the lock.
#[derive(Debug)]
pub struct State {
    pub ledger: Ledger,
    _lock: File,
}

/// Why the state cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Another process holds the lock.
    #[error("another run is using the state in {0}; this one stops without sending")]
    Busy(String),
    #[error(transparent)]
    Unusable(#[from] anyhow::Error),
}

/// Another run holding the state is exit 5; a state that cannot be used, a configuration
/// problem (2).
impl From<StateError> for crate::exit::Failure {
    fn from(e: StateError) -> Self {
        use crate::exit::Exit;
        match e {
            StateError::Busy(_) => Self {
                exit: Exit::Busy,
                error: e.into(),
            },
            StateError::Unusable(error) => Self {
                exit: Exit::Config,
                error,
            },
        }
    }
}

/// The state folder, locked, before its ledger is opened (see [`State::lock`]).
#[derive(Debug)]
pub struct Locked {
    state_dir: std::path::PathBuf,
    lock: File,
}

impl Locked {
    /// Opens (creating or migrating) the ledger of the locked state folder.
    pub fn open_ledger(self) -> Result<State, StateError> {
        let ledger = Ledger::open(&self.state_dir)?;
        Ok(State {
            ledger,
            _lock: self.lock,
        })
    }
}

impl State {
    /// Creates `state_dir` if needed, takes the lock, opens the ledger.
    pub fn open(state_dir: &Path) -> Result<Self, StateError> {
        Self::lock(state_dir)?.open_ledger()
    }

    /// Creates `state_dir` if needed and takes the lock, without opening the ledger yet.
    pub fn lock(state_dir: &Path) -> Result<Locked, StateError> {
        // Owner-only: the ledger holds customer data.
        crate::owner_only::create_dirs(state_dir)
            .with_context(|| format!("cannot create the state folder {}", state_dir.display()))?;
        let path = state_dir.join(LOCK_FILE);
        let lock = crate::owner_only::options()
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StateError::Busy(state_dir.display().to_string()));
            }
            Err(TryLockError::Error(e)) => {
                return Err(StateError::Unusable(
                    anyhow::Error::new(e).context(format!("cannot lock {}", path.display())),
                ));
            }
        }
        Ok(Locked {
            state_dir: state_dir.to_owned(),
            lock,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_of_the_same_state_is_turned_away_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = State::open(dir.path()).unwrap();
        assert!(matches!(State::open(dir.path()), Err(StateError::Busy(_))));
        drop(first);
        State::open(dir.path()).unwrap();
    }
}
