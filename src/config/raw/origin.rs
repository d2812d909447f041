//! Where validation stands: the file its problems point at, the folder relative paths start
//! from, where secrets may come from, and every problem found so far, so that one load reports
//! all the keys that are wrong rather than the first (issue 18, I3).

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use super::super::{ConfigError, Problem};
use crate::bounded;

/// The most a CA file may hold: a few certificates of a private relay, or a whole system bundle
/// (about 220 KiB) pointed at by mistake.
pub(super) const CA_FILE_BYTES: u64 = 256 * 1024;

pub(super) struct Origin<'a> {
    pub(super) path: &'a Path,
    pub(super) base: &'a Path,
    pub(super) env: &'a dyn Fn(&str) -> Option<String>,
    problems: RefCell<Vec<Problem>>,
}

impl<'a> Origin<'a> {
    pub(super) fn new(path: &'a Path, env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            path,
            base: path.parent().unwrap_or_else(|| Path::new(".")),
            env,
            problems: RefCell::new(Vec::new()),
        }
    }

    pub(super) fn invalid(&self, key: &'static str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            problems: vec![Problem::new(key, None, message)],
        }
    }

    /// The value, or `None` with its problems noted: validation goes on to the next key.
    pub(super) fn keep<T>(&self, result: Result<T, ConfigError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(ConfigError::Invalid { problems, .. }) => {
                self.problems.borrow_mut().extend(problems);
                None
            }
            Err(e @ ConfigError::Read { .. }) => {
                self.problems
                    .borrow_mut()
                    .push(Problem::new("", None, e.to_string()));
                None
            }
        }
    }

    /// `value` when no problem was noted, else every problem noted.
    pub(super) fn finish<T>(self, value: Option<T>) -> Result<T, ConfigError> {
        let problems = self.problems.into_inner();
        match value {
            Some(value) if problems.is_empty() => Ok(value),
            _ => Err(ConfigError::Invalid {
                path: self.path.to_path_buf(),
                problems,
            }),
        }
    }

    pub(super) fn resolve(&self, key: &'static str, p: PathBuf) -> Result<PathBuf, ConfigError> {
        if p.as_os_str().is_empty() {
            return Err(self.invalid(key, "must not be empty"));
        }
        Ok(if p.is_absolute() {
            p
        } else {
            self.base.join(p)
        })
    }

    /// The file `key` names, resolved and read whole if it is a regular file within `limit`.
    pub(super) fn read(
        &self,
        key: &'static str,
        file: &Path,
        limit: u64,
    ) -> Result<(PathBuf, Vec<u8>), ConfigError> {
        let path = self.resolve(key, file.to_path_buf())?;
        let bytes =
            bounded::read(&path, key, limit).map_err(|e| self.invalid(key, e.sentence()))?;
        Ok((path, bytes))
    }

    /// A secret file named by `key`: its path, and its text without the trailing newline.
    pub(super) fn secret_file(
        &self,
        key: &'static str,
        file: &Path,
    ) -> Result<(PathBuf, String), ConfigError> {
        let (path, bytes) = self.read(key, file, bounded::SECRET_BYTES)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| self.invalid(key, format!("{} is not UTF-8 text", path.display())))?;
        let secret = text.trim_end_matches(['\r', '\n']).to_owned();
        Ok((path, secret))
    }
}
