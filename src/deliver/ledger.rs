//! The delivery ledger: a `SQLite` database in `state_dir` that makes reruns harmless. It records
//! each run, each digest date prepared (with the ids of the alerts it held), and each delivery
//! per (digest date, recipient) with its status. A delivery is marked sent only after the server
//! accepted the end of DATA. Times come from the database's clock, in UTC.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use rusqlite::{Connection, OptionalExtension, params};

/// The ledger's file name inside `state_dir`.
pub const FILE_NAME: &str = "ledger.sqlite3";

/// Schema migrations, applied in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[r"
    CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        started_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        finished_at TEXT,
        as_of       TEXT NOT NULL,
        digest_date TEXT NOT NULL,
        forced      INTEGER NOT NULL,
        outcome     TEXT
    );
    CREATE TABLE digests (
        digest_date TEXT PRIMARY KEY,
        as_of       TEXT NOT NULL,
        prepared_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        run_id      INTEGER NOT NULL REFERENCES runs (id),
        alerts      INTEGER NOT NULL,
        messages    INTEGER NOT NULL,
        generation  INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE digest_alerts (
        digest_date TEXT NOT NULL REFERENCES digests (digest_date),
        alert_id    TEXT NOT NULL,
        PRIMARY KEY (digest_date, alert_id)
    ) WITHOUT ROWID;
    CREATE TABLE deliveries (
        digest_date TEXT NOT NULL REFERENCES digests (digest_date),
        recipient   TEXT NOT NULL,
        address     TEXT NOT NULL,
        sender      TEXT NOT NULL,
        message_id  TEXT NOT NULL,
        eml_path    TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        attempts    INTEGER NOT NULL DEFAULT 0,
        last_error  TEXT,
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        sent_at     TEXT,
        PRIMARY KEY (digest_date, recipient)
    );
"];

/// What a run asks the ledger to remember about a digest it prepared.
#[derive(Debug, Clone)]
pub struct Prepared<'a> {
    pub digest_date: &'a str,
    pub as_of: &'a str,
    /// 0 for the first preparation of a date, then 1, 2… for each forced one.
    pub generation: u32,
    pub alert_ids: &'a [String],
    pub deliveries: Vec<NewDelivery>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// The recipient's address, lower-cased: the key.
    pub recipient: String,
    /// The address as configured, for RCPT TO (a local part may be case-sensitive).
    pub address: String,
    pub sender: String,
    pub message_id: String,
    pub eml_path: PathBuf,
}

/// A delivery waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub digest_date: String,
    pub recipient: String,
    pub address: String,
    pub sender: String,
    pub message_id: String,
    pub eml_path: PathBuf,
    pub attempts: u32,
}

/// Delivery counts of one digest date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DateStatus {
    pub pending: usize,
    pub sent: usize,
    pub failed: usize,
}

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

    pub fn path(&self) -> &Path {
        &self.path
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

    /// Records the start of a run; returns its id.
    pub fn start_run(&self, as_of: &str, digest_date: &str, forced: bool) -> anyhow::Result<i64> {
        self.conn.execute(
            "INSERT INTO runs (as_of, digest_date, forced) VALUES (?1, ?2, ?3)",
            params![as_of, digest_date, forced],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn finish_run(&self, run_id: i64, outcome: &str) -> anyhow::Result<()> {
        self.conn.execute(
            "UPDATE runs SET finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), outcome = ?2 WHERE id = ?1",
            params![run_id, crate::redact::scrub(outcome)],
        )?;
        Ok(())
    }

    /// Whether a digest for this date was prepared (its deliveries recorded).
    pub fn is_prepared(&self, digest_date: &str) -> anyhow::Result<bool> {
        Ok(self.generation(digest_date)?.is_some())
    }

    /// The generation of the digest prepared for this date, if any.
    pub fn generation(&self, digest_date: &str) -> anyhow::Result<Option<u32>> {
        Ok(self
            .conn
            .query_row(
                "SELECT generation FROM digests WHERE digest_date = ?1",
                [digest_date],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Records a prepared digest and its deliveries as pending, in one transaction. With
    /// `replace` (a forced run), an earlier digest of the same date is replaced and all of its
    /// deliveries become pending again.
    pub fn record_prepared(
        &mut self,
        run_id: i64,
        prepared: &Prepared<'_>,
        replace: bool,
    ) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        let date = prepared.digest_date;
        if replace {
            tx.execute("DELETE FROM deliveries WHERE digest_date = ?1", [date])?;
            tx.execute("DELETE FROM digest_alerts WHERE digest_date = ?1", [date])?;
            tx.execute("DELETE FROM digests WHERE digest_date = ?1", [date])?;
        }
        tx.execute(
            "INSERT INTO digests (digest_date, as_of, run_id, alerts, messages, generation)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                date,
                prepared.as_of,
                run_id,
                i64::try_from(prepared.alert_ids.len())?,
                i64::try_from(prepared.deliveries.len())?,
                prepared.generation
            ],
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO digest_alerts (digest_date, alert_id) VALUES (?1, ?2)",
            )?;
            for id in prepared.alert_ids {
                insert.execute(params![date, id])?;
            }
            let mut insert = tx.prepare(
                "INSERT INTO deliveries (digest_date, recipient, address, sender, message_id, eml_path, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')",
            )?;
            for d in &prepared.deliveries {
                let eml = d.eml_path.to_str().context("the .eml path is not UTF-8")?;
                insert.execute(params![
                    date,
                    d.recipient,
                    d.address,
                    d.sender,
                    d.message_id,
                    eml
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every pending delivery, oldest digest date first.
    pub fn pending(&self) -> anyhow::Result<Vec<Pending>> {
        let mut query = self.conn.prepare(
            "SELECT digest_date, recipient, address, sender, message_id, eml_path, attempts
             FROM deliveries WHERE status = 'pending' ORDER BY digest_date, recipient",
        )?;
        let rows = query.query_map([], |row| {
            Ok(Pending {
                digest_date: row.get(0)?,
                recipient: row.get(1)?,
                address: row.get(2)?,
                sender: row.get(3)?,
                message_id: row.get(4)?,
                eml_path: PathBuf::from(row.get::<_, String>(5)?),
                attempts: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The server accepted the end of DATA.
    pub fn mark_sent(&self, digest_date: &str, recipient: &str) -> anyhow::Result<()> {
        self.update(digest_date, recipient, "sent", None)
    }

    /// The server refused the message for good (5xx).
    pub fn mark_failed(
        &self,
        digest_date: &str,
        recipient: &str,
        error: &str,
    ) -> anyhow::Result<()> {
        self.update(digest_date, recipient, "failed", Some(error))
    }

    /// A transient failure: still pending.
    pub fn note_attempt(
        &self,
        digest_date: &str,
        recipient: &str,
        error: &str,
    ) -> anyhow::Result<()> {
        self.update(digest_date, recipient, "pending", Some(error))
    }

    fn update(
        &self,
        digest_date: &str,
        recipient: &str,
        status: &str,
        error: Option<&str>,
    ) -> anyhow::Result<()> {
        let changed = self.conn.execute(
            "UPDATE deliveries SET status = ?3, attempts = attempts + 1, last_error = ?4,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                 sent_at = CASE WHEN ?3 = 'sent' THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') ELSE sent_at END
             WHERE digest_date = ?1 AND recipient = ?2",
            params![
                digest_date,
                recipient,
                status,
                error.map(crate::redact::scrub)
            ],
        )?;
        if changed != 1 {
            bail!("no delivery of {digest_date} to {recipient} in the ledger");
        }
        Ok(())
    }

    /// Counts per status for a digest date.
    pub fn status(&self, digest_date: &str) -> anyhow::Result<DateStatus> {
        let mut query = self.conn.prepare(
            "SELECT status, count(*) FROM deliveries WHERE digest_date = ?1 GROUP BY status",
        )?;
        let mut status = DateStatus::default();
        for row in query.query_map([digest_date], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })? {
            let (name, count) = row?;
            let count = usize::try_from(count)?;
            match name.as_str() {
                "pending" => status.pending = count,
                "sent" => status.sent = count,
                _ => status.failed = count,
            }
        }
        Ok(status)
    }

    /// The alert ids a digest held (lower-cased).
    pub fn alert_ids(&self, digest_date: &str) -> anyhow::Result<Vec<String>> {
        let mut query = self.conn.prepare(
            "SELECT alert_id FROM digest_alerts WHERE digest_date = ?1 ORDER BY alert_id",
        )?;
        let rows = query.query_map([digest_date], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared<'a>(date: &'a str, ids: &'a [String], recipients: &[&str]) -> Prepared<'a> {
        Prepared {
            digest_date: date,
            as_of: "2026-11-29T07:00:00Z",
            generation: 0,
            alert_ids: ids,
            deliveries: recipients
                .iter()
                .map(|r| NewDelivery {
                    recipient: (*r).to_owned(),
                    address: (*r).to_owned(),
                    sender: "digest@partner.example".to_owned(),
                    message_id: format!("<{r}>"),
                    eml_path: PathBuf::from(format!("/out/{date}/mail/{r}.eml")),
                })
                .collect(),
        }
    }

    #[test]
    fn deliveries_move_from_pending_to_sent_or_failed() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(dir.path()).unwrap();
        let run = ledger
            .start_run("2026-11-29T07:00:00Z", "2026-11-29", false)
            .unwrap();
        let ids = vec!["a".to_owned(), "b".to_owned()];
        assert!(!ledger.is_prepared("2026-11-29").unwrap());
        ledger
            .record_prepared(
                run,
                &prepared(
                    "2026-11-29",
                    &ids,
                    &["x@p.example", "y@p.example", "z@p.example"],
                ),
                false,
            )
            .unwrap();
        assert!(ledger.is_prepared("2026-11-29").unwrap());
        assert_eq!(ledger.pending().unwrap().len(), 3);
        ledger.mark_sent("2026-11-29", "x@p.example").unwrap();
        ledger
            .mark_failed("2026-11-29", "y@p.example", "550 no such user")
            .unwrap();
        ledger
            .note_attempt("2026-11-29", "z@p.example", "451 try later")
            .unwrap();
        let pending = ledger.pending().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(
            (pending[0].recipient.as_str(), pending[0].attempts),
            ("z@p.example", 1)
        );
        assert_eq!(
            ledger.status("2026-11-29").unwrap(),
            DateStatus {
                pending: 1,
                sent: 1,
                failed: 1
            }
        );
        assert_eq!(ledger.alert_ids("2026-11-29").unwrap(), ids);
        ledger.finish_run(run, "partial").unwrap();
    }

    #[test]
    fn a_forced_run_replaces_the_digest_and_makes_every_delivery_pending_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(dir.path()).unwrap();
        let run = ledger.start_run("t", "2026-11-29", false).unwrap();
        ledger
            .record_prepared(run, &prepared("2026-11-29", &[], &["x@p.example"]), false)
            .unwrap();
        ledger.mark_sent("2026-11-29", "x@p.example").unwrap();
        assert!(
            ledger
                .record_prepared(run, &prepared("2026-11-29", &[], &["x@p.example"]), false)
                .is_err(),
            "the same date twice without replace is refused"
        );
        ledger
            .record_prepared(run, &prepared("2026-11-29", &[], &["x@p.example"]), true)
            .unwrap();
        assert_eq!(ledger.pending().unwrap().len(), 1);
    }

    #[test]
    fn the_ledger_survives_reopening_and_pending_lists_oldest_dates_first() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut ledger = Ledger::open(dir.path()).unwrap();
            let run = ledger.start_run("t", "d", false).unwrap();
            ledger
                .record_prepared(run, &prepared("2026-11-29", &[], &["a@p.example"]), false)
                .unwrap();
            ledger
                .record_prepared(run, &prepared("2026-11-28", &[], &["b@p.example"]), false)
                .unwrap();
        }
        let ledger = Ledger::open(dir.path()).unwrap();
        let dates: Vec<_> = ledger
            .pending()
            .unwrap()
            .into_iter()
            .map(|p| p.digest_date)
            .collect();
        assert_eq!(dates, ["2026-11-28", "2026-11-29"]);
    }

    #[test]
    fn a_corrupted_or_newer_ledger_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE_NAME),
            b"this is not a database, just bytes......",
        )
        .unwrap();
        let err = format!("{:#}", Ledger::open(dir.path()).unwrap_err());
        assert!(err.contains(FILE_NAME), "{err}");

        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        let err = format!("{:#}", Ledger::open(dir.path()).unwrap_err());
        assert!(err.contains("newer"), "{err}");
    }
}
