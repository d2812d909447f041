//! The ledger: a `SQLite` database in `state_dir` that makes reruns harmless, and the lock that
//! lets one run at a time use it. It records each run, each digest date prepared (with the ids
//! of the alerts it held), each delivery per (digest date, recipient) with its status, the
//! resolutions `resolve` asked for, and the names Partner Center gave. A delivery is marked
//! sent only after the server accepted the end of DATA. Times come from the database's clock,
//! in UTC. One file per table or concern; each adds its own `impl Ledger` block.

mod deliveries;
mod digests;
mod history;
pub mod lock;
pub mod names;
mod resolutions;
mod runs;
mod schema;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};

pub use deliveries::{DateStatus, NewDelivery, Pending};
pub use digests::{Listed, Prepared, Recording};
pub use lock::{State, StateError};
pub use resolutions::Resolution;
use schema::MIGRATIONS;

/// The ledger's file name inside `state_dir`.
pub const FILE_NAME: &str = "ledger.sqlite3";

#[derive(Debug)]
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

impl Ledger {
    /// Opens (creating if needed) the ledger in `state_dir` and brings its schema up to date.
    /// A database from a newer version of this program, or one that is not a ledger, is an
    /// error: what cannot be recorded is not sent.
    pub fn open(state_dir: &Path) -> anyhow::Result<Self> {
        let path = state_dir.join(FILE_NAME);
        let open = || -> anyhow::Result<Self> {
            let conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            conn.pragma_update(None, "foreign_keys", true)?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            let mut ledger = Self {
                conn,
                path: path.clone(),
            };
            ledger.migrate()?;
            Ok(ledger)
        };
        open().with_context(|| format!("the ledger {} cannot be used", path.display()))
    }

    /// Opens an existing ledger read-only, for a dry run's history: `None` when there is none.
    /// Nothing is created or migrated; a ledger of another schema version is an error.
    pub fn open_read_only(state_dir: &Path) -> anyhow::Result<Option<Self>> {
        let path = state_dir.join(FILE_NAME);
        if !path.exists() {
            return Ok(None);
        }
        let open = || -> anyhow::Result<Self> {
            let conn = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
            let known = i64::try_from(MIGRATIONS.len())?;
            if version != known {
                bail!(
                    "its schema version is {version}, this program's is {known}; a real run brings it up to date"
                );
            }
            Ok(Self {
                conn,
                path: path.clone(),
            })
        };
        open()
            .map(Some)
            .with_context(|| format!("the ledger {} cannot be read", path.display()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The database, for the names cache (`source::names::cache`), which keeps its own table.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn migrate(&mut self) -> anyhow::Result<()> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?;
        let known = i64::try_from(MIGRATIONS.len())?;
        if version > known {
            bail!(
                "its schema version {version} is newer than this program knows ({known}); use a newer csp-alert-digest"
            );
        }
        let tx = self.conn.transaction()?;
        for (i, sql) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(version)?)
        {
            tx.execute_batch(sql)
                .with_context(|| format!("migration {} failed", i + 1))?;
            tx.pragma_update(None, "user_version", i64::try_from(i + 1)?)?;
        }
        tx.commit()?;
        // Touch every table so a damaged file fails here, before anything is sent.
        self.conn
            .query_row("SELECT count(*) FROM deliveries", [], |row| {
                row.get::<_, i64>(0)
            })?;
        Ok(())
    }
}

fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
