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

/// Written beside the ledger once it exists: a state folder with this file and without a
/// ledger (or with an empty one) has lost its memory of what was sent, and is refused.
pub const MARKER_FILE: &str = "ledger.created";

#[derive(Debug)]
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

impl Ledger {
    /// Opens (creating if needed) the ledger in `state_dir` and brings its schema up to date.
    /// A database from a newer version of this program, or one that is not a ledger, is an
    /// error: what cannot be recorded is not sent.
    ///
    /// A ledger that is missing, empty or without a schema where [`MARKER_FILE`] shows the
    /// state folder was used before is refused: `SQLite` would take it for a new database, and
    /// the run would send every digest again.
    pub fn open(state_dir: &Path) -> anyhow::Result<Self> {
        let path = state_dir.join(FILE_NAME);
        let marker = state_dir.join(MARKER_FILE);
        let fresh = fresh_file(&path)?;
        if let Some(what) = fresh
            && marker.exists()
        {
            bail!(forgotten(&path, &marker, what));
        }
        let open = || -> anyhow::Result<Self> {
            if fresh == Some("missing") {
                create_owner_only(&path)?;
            } else {
                tighten(&path)?;
            }
            let conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            conn.pragma_update(None, "foreign_keys", true)?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            let schema: i64 =
                conn.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))?;
            if fresh.is_none() && schema == 0 && marker.exists() {
                bail!(forgotten(&path, &marker, "without a schema"));
            }
            let mut ledger = Self {
                conn,
                path: path.clone(),
            };
            ledger.migrate()?;
            if !marker.exists() {
                write_marker(&marker)?;
            }
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

/// `Some("missing")` or `Some("empty")` for a ledger file `SQLite` would start afresh.
fn fresh_file(path: &Path) -> anyhow::Result<Option<&'static str>> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.len() == 0 => Ok(Some("empty")),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Some("missing")),
        Err(e) => Err(anyhow::Error::new(e).context(format!("cannot read {}", path.display()))),
    }
}

/// The refusal of a ledger that has forgotten what was sent, with the way to start over.
fn forgotten(path: &Path, marker: &Path, what: &str) -> String {
    format!(
        "the ledger {} is {what}, but this state folder was used before ({} exists): a run would send every digest again. Restore the ledger from a backup; or, to start over on purpose (every digest date is prepared and sent again), delete {} and the ledger, then run",
        path.display(),
        marker.display(),
        marker.display()
    )
}

/// Creates an empty file, owner-only (the ledger holds customer data), never through a link.
fn create_owner_only(path: &Path) -> std::io::Result<()> {
    crate::owner_only::options()
        .create_new(true)
        .open(path)
        .map(drop)
}

/// Takes group and other permissions away from a ledger an earlier version created.
fn tighten(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::metadata(path)?;
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(
            path,
            std::fs::Permissions::from_mode(crate::owner_only::FILE_MODE),
        )?;
    }
    Ok(())
}

/// Writes [`MARKER_FILE`], synced with its folder.
fn write_marker(marker: &Path) -> anyhow::Result<()> {
    let write = || -> std::io::Result<()> {
        use std::io::Write as _;
        let mut file = crate::owner_only::options()
            .create(true)
            .truncate(true)
            .open(marker)?;
        file.write_all(
            b"This state folder has a ledger (ledger.sqlite3) that remembers what was sent.\n\
              csp-alert-digest refuses to run if the ledger goes missing or empty while this file\n\
              exists. To start over on purpose, delete both.\n",
        )?;
        file.sync_all()?;
        if let Some(dir) = marker.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    };
    write().with_context(|| format!("cannot write {}", marker.display()))
}

fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
