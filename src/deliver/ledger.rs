//! The delivery ledger: a `SQLite` database in `state_dir` that makes reruns harmless. It records
//! each run, each digest date prepared (with the ids of the alerts it held), and each delivery
//! per (digest date, recipient) with its status. A delivery is marked sent only after the server
//! accepted the end of DATA. Times come from the database's clock, in UTC.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::digest::{DigestAlert, Previous, Remembered, ResolvedHere};
use crate::source::model::ResolvedReason;

/// The ledger's file name inside `state_dir`.
pub const FILE_NAME: &str = "ledger.sqlite3";

/// Schema migrations, applied in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    r"
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
",
    r"
    ALTER TABLE digest_alerts ADD COLUMN alert_type TEXT;
    ALTER TABLE digest_alerts ADD COLUMN severity TEXT;
    ALTER TABLE digest_alerts ADD COLUMN customer_tenant_id TEXT;
    ALTER TABLE digest_alerts ADD COLUMN subscription_id TEXT;
    ALTER TABLE digest_alerts ADD COLUMN detected TEXT;
",
    r"
    CREATE TABLE names (
        id         TEXT PRIMARY KEY,
        kind       TEXT NOT NULL CHECK (kind IN ('customer', 'reseller')),
        name       TEXT NOT NULL,
        domain     TEXT,
        source     TEXT NOT NULL,
        fetched_at TEXT NOT NULL
    ) WITHOUT ROWID;
",
    r"
    CREATE TABLE resolutions (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        actor       TEXT NOT NULL,
        alert_id    TEXT NOT NULL,
        old_status  TEXT NOT NULL,
        new_status  TEXT NOT NULL,
        reason      TEXT,
        http_status INTEGER,
        outcome     TEXT NOT NULL CHECK (outcome IN ('updated', 'failed')),
        message     TEXT NOT NULL,
        source      TEXT NOT NULL
    );
    CREATE INDEX resolutions_at ON resolutions (at);
",
];

/// What a run asks the ledger to remember about a digest it prepared.
#[derive(Debug, Clone)]
pub struct Prepared<'a> {
    pub digest_date: &'a str,
    pub as_of: &'a str,
    /// 0 for the first preparation of a date, then 1, 2… for each forced one.
    pub generation: u32,
    /// The alerts the digest lists, remembered for the next digest's comparison.
    pub alerts: Listed<'a>,
    pub deliveries: Vec<NewDelivery>,
}

/// A prepared digest being recorded (see [`Ledger::begin_prepared`]); dropped without
/// [`Recording::commit`], it leaves the ledger as it was.
#[derive(Debug)]
pub struct Recording<'l> {
    tx: rusqlite::Transaction<'l>,
    digest_date: String,
}

impl Recording<'_> {
    /// Adds the deliveries and commits the digest. The deliveries are pending, or sent when
    /// `delivered` (the file transport: writing the `.eml` files, done by now, was the
    /// delivery), recorded in the same transaction.
    pub fn commit(self, deliveries: &[NewDelivery], delivered: bool) -> anyhow::Result<()> {
        let date = self.digest_date.as_str();
        {
            let mut insert = self.tx.prepare(if delivered {
                "INSERT INTO deliveries (digest_date, recipient, address, sender, message_id, eml_path, status, attempts, sent_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'sent', 1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
            } else {
                "INSERT INTO deliveries (digest_date, recipient, address, sender, message_id, eml_path, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')"
            })?;
            for d in deliveries {
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
        self.tx.execute(
            "UPDATE digests SET messages = ?2 WHERE digest_date = ?1",
            params![date, i64::try_from(deliveries.len())?],
        )?;
        self.tx.commit()?;
        Ok(())
    }
}

/// The alerts a prepared digest lists: as [`Remembered`] rows, or straight from the digest, so
/// a run with half a million listed alerts need not copy each into a [`Remembered`] first.
#[derive(Debug, Clone, Copy)]
pub enum Listed<'a> {
    Remembered(&'a [Remembered]),
    Digest(&'a [DigestAlert]),
}

impl Listed<'_> {
    pub fn len(&self) -> usize {
        match self {
            Self::Remembered(alerts) => alerts.len(),
            Self::Digest(alerts) => alerts.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i` to insert, borrowed; the same values [`Remembered::of`] gives.
    fn row(&self, i: usize) -> Row<'_> {
        match self {
            Self::Remembered(alerts) => {
                let a = &alerts[i];
                Row {
                    id: Cow::Borrowed(&a.id),
                    alert_type: &a.alert_type,
                    severity: &a.severity,
                    customer: a.customer.as_deref(),
                    subscription: a.subscription.as_deref(),
                    detected: a.detected,
                }
            }
            Self::Digest(alerts) => {
                let a = &alerts[i];
                Row {
                    id: crate::digest::select::lower(&a.alert.id),
                    alert_type: &a.alert.alert_type,
                    severity: a.alert.severity.as_str(),
                    customer: a.customer.as_deref(),
                    subscription: a.subscription.as_deref(),
                    detected: a.alert.detected,
                }
            }
        }
    }

    /// The row ids' order: the first eight bytes of each (zero-padded, big-endian), with the
    /// row's position; rows whose first eight bytes tie are compared whole. A million rows
    /// are sorted in 16 MB instead of as borrowed rows five times the size.
    fn id_order(&self) -> Vec<(u64, u32)> {
        let mut order: Vec<(u64, u32)> = (0..self.len())
            .map(|i| {
                let id = self.row(i).id;
                let mut head = [0u8; 8];
                let n = id.len().min(8);
                head[..n].copy_from_slice(&id.as_bytes()[..n]);
                (
                    u64::from_be_bytes(head),
                    u32::try_from(i).unwrap_or(u32::MAX),
                )
            })
            .collect();
        order.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| self.row(a.1 as usize).id.cmp(&self.row(b.1 as usize).id))
        });
        order
    }
}

/// One `digest_alerts` row, borrowed from what the digest holds.
#[derive(Debug)]
struct Row<'a> {
    id: Cow<'a, str>,
    alert_type: &'a str,
    severity: &'a str,
    customer: Option<&'a str>,
    subscription: Option<&'a str>,
    detected: DateTime<Utc>,
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

/// One status change `resolve` asked the service for, and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// When the answer came, UTC, RFC 3339 with milliseconds (`2026-11-29T07:00:00.000Z`).
    pub at: String,
    /// Who ran it: `--actor`, or the machine user.
    pub actor: String,
    /// As the service or the CSV spells it.
    pub alert_id: String,
    pub old_status: String,
    /// `resolved` or `investigating`.
    pub new_status: String,
    /// `legitimate`, `fraud` or `ignore` for `resolved`.
    pub reason: Option<String>,
    /// The service's HTTP status; `None` when no answer came (a transport failure).
    pub http_status: Option<u16>,
    /// `updated` or `failed`.
    pub outcome: String,
    /// The service's answer in a few words (the status and reason it reports, or the error).
    pub message: String,
    /// Where the change was asked: `alerts.csv:12`, or `--id`.
    pub source: String,
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
        let recording = self.begin_prepared(
            run_id,
            &Prepared {
                deliveries: Vec::new(),
                ..*prepared
            },
            replace,
        )?;
        recording.commit(&prepared.deliveries, false)
    }

    /// Starts recording a prepared digest: in one transaction, replaces an earlier digest of
    /// the date when asked, then writes the digest and its alerts. Nothing is visible (and
    /// nothing is kept if the run fails before [`Recording::commit`]) until the deliveries are
    /// added and the transaction committed, so the alerts (half a million rows at a million
    /// alerts) can be written while the reports are still being made. `prepared.deliveries`
    /// is ignored: they come with the commit.
    pub fn begin_prepared(
        &self,
        run_id: i64,
        prepared: &Prepared<'_>,
        replace: bool,
    ) -> anyhow::Result<Recording<'_>> {
        let tx = self.conn.unchecked_transaction()?;
        let date = prepared.digest_date;
        if replace {
            tx.execute("DELETE FROM deliveries WHERE digest_date = ?1", [date])?;
            tx.execute("DELETE FROM digest_alerts WHERE digest_date = ?1", [date])?;
            tx.execute("DELETE FROM digests WHERE digest_date = ?1", [date])?;
        }
        tx.execute(
            "INSERT INTO digests (digest_date, as_of, run_id, alerts, messages, generation)
             VALUES (?1, ?2, ?3, ?4, 0, ?5)",
            params![
                date,
                prepared.as_of,
                run_id,
                i64::try_from(prepared.alerts.len())?,
                prepared.generation
            ],
        )?;
        insert_digest_alerts(&tx, date, prepared.alerts)?;
        // The rows' pages go to the database file now (SQLite syncs its journal first), while
        // the reports are still being made: the commit is left with the deliveries and the
        // syncs. Uncommitted, they are rolled back like any others.
        tx.cache_flush()?;
        Ok(Recording {
            tx,
            digest_date: date.to_owned(),
        })
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

    /// The latest digest prepared for a date before `digest_date`, with the alerts it listed.
    pub fn previous(&self, digest_date: &str) -> anyhow::Result<Option<Previous>> {
        let found: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT digest_date, as_of FROM digests WHERE digest_date < ?1
                 ORDER BY digest_date DESC LIMIT 1",
                [digest_date],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((date, as_of)) = found else {
            return Ok(None);
        };
        let as_of = parse_instant(&as_of)
            .with_context(|| format!("digest {date}: as_of {as_of:?} is not a time"))?;
        let mut query = self.conn.prepare(
            "SELECT alert_id, alert_type, severity, customer_tenant_id, subscription_id, detected
             FROM digest_alerts WHERE digest_date = ?1 ORDER BY alert_id",
        )?;
        let rows = query.query_map([&date], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, Option<String>>(5)?,
            ))
        })?;
        let mut alerts = Vec::new();
        for row in rows {
            let (id, alert_type, severity, customer, subscription, detected) = row?;
            alerts.push(Remembered {
                id,
                alert_type: alert_type.unwrap_or_default(),
                severity: severity.unwrap_or_default(),
                customer,
                subscription,
                // Rows from before schema 2 did not keep it.
                detected: detected.as_deref().and_then(parse_instant).unwrap_or(as_of),
            });
        }
        let resolved_here = self
            .resolutions_since(as_of)?
            .into_iter()
            .filter(|r| r.new_status == "resolved")
            .filter_map(|r| {
                Some(ResolvedHere {
                    id: r.alert_id.to_lowercase(),
                    reason: r.reason.as_deref().map(ResolvedReason::from_raw),
                    actor: r.actor,
                    at: parse_instant(&r.at)?,
                })
            })
            .collect();
        Ok(Some(Previous {
            digest_date: date,
            as_of,
            alerts,
            resolved_here,
        }))
    }

    /// Records a status change asked of the service and its answer; `at` is the database's
    /// clock, like every time in the ledger.
    pub fn record_resolution(&self, r: &Resolution) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT INTO resolutions (actor, alert_id, old_status, new_status, reason, http_status, outcome, message, source)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                r.actor,
                r.alert_id,
                r.old_status,
                r.new_status,
                r.reason,
                r.http_status,
                r.outcome,
                crate::redact::scrub(&r.message),
                r.source
            ],
        )?;
        Ok(())
    }

    /// The changes the service accepted at or after `since`, oldest first: what "resolved since
    /// the last digest" lists.
    pub fn resolutions_since(&self, since: DateTime<Utc>) -> anyhow::Result<Vec<Resolution>> {
        let since = since.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let mut query = self.conn.prepare(
            "SELECT at, actor, alert_id, old_status, new_status, reason, http_status, outcome, message, source
             FROM resolutions WHERE outcome = 'updated' AND at >= ?1 ORDER BY at, id",
        )?;
        let rows = query.query_map([since], |row| {
            Ok(Resolution {
                at: row.get(0)?,
                actor: row.get(1)?,
                alert_id: row.get(2)?,
                old_status: row.get(3)?,
                new_status: row.get(4)?,
                reason: row.get(5)?,
                http_status: row.get(6)?,
                outcome: row.get(7)?,
                message: row.get(8)?,
                source: row.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
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

/// Rows of `digest_alerts` per `INSERT` statement: 7 parameters each, well below `SQLite`'s
/// limit of 32,766 parameters.
const ROWS_PER_INSERT: usize = 256;

/// Inserts a digest's listed alerts: in id order (the table's key, so each row lands at the end
/// of the B-tree and the pages it touches stay few) and [`ROWS_PER_INSERT`] rows per statement,
/// two prepared statements in all. A million alerts take about a second instead of five.
fn insert_digest_alerts(
    tx: &rusqlite::Transaction<'_>,
    date: &str,
    alerts: Listed<'_>,
) -> anyhow::Result<()> {
    let order = alerts.id_order();
    let statement = |rows: usize| {
        let mut sql = String::from(
            "INSERT OR IGNORE INTO digest_alerts
                 (digest_date, alert_id, alert_type, severity, customer_tenant_id, subscription_id, detected)
             VALUES ",
        );
        for i in 0..rows {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str("(?1,?,?,?,?,?,?)");
        }
        sql
    };
    // One statement for the full batches, prepared once, and one for the last, shorter batch.
    let mut full = None;
    let mut last = None;
    let mut detected = Vec::with_capacity(ROWS_PER_INSERT);
    for chunk in order.chunks(ROWS_PER_INSERT) {
        let insert = if chunk.len() == ROWS_PER_INSERT {
            if full.is_none() {
                full = Some(tx.prepare(&statement(ROWS_PER_INSERT))?);
            }
            full.as_mut().context("the statement was just prepared")?
        } else {
            last.insert(tx.prepare(&statement(chunk.len()))?)
        };
        let rows: Vec<Row<'_>> = chunk.iter().map(|&(_, i)| alerts.row(i as usize)).collect();
        detected.clear();
        detected.extend(rows.iter().map(|a| {
            a.detected
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        }));
        let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(1 + chunk.len() * 6);
        values.push(&date);
        for (a, detected) in rows.iter().zip(&detected) {
            values.extend_from_slice(&[
                &a.id as &dyn rusqlite::ToSql,
                &a.alert_type,
                &a.severity,
                &a.customer,
                &a.subscription,
                detected,
            ]);
        }
        insert.execute(values.as_slice())?;
    }
    Ok(())
}

fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remembered(ids: &[&str]) -> Vec<Remembered> {
        ids.iter()
            .map(|id| Remembered {
                id: (*id).to_owned(),
                alert_type: "CryptoMining".to_owned(),
                severity: "high".to_owned(),
                customer: Some("c".to_owned()),
                subscription: None,
                detected: parse_instant("2026-11-28T01:02:03.456Z").unwrap(),
            })
            .collect()
    }

    fn prepared<'a>(date: &'a str, alerts: &'a [Remembered], recipients: &[&str]) -> Prepared<'a> {
        Prepared {
            digest_date: date,
            as_of: "2026-11-29T07:00:00Z",
            generation: 0,
            alerts: Listed::Remembered(alerts),
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
        let ids = remembered(&["a", "b"]);
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
        assert_eq!(ledger.alert_ids("2026-11-29").unwrap(), ["a", "b"]);
        ledger.finish_run(run, "partial").unwrap();
    }

    #[test]
    fn a_recording_is_seen_only_once_committed_and_leaves_nothing_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        let run = ledger.start_run("t", "2026-11-29", false).unwrap();
        let ids = remembered(&["a", "b", "c"]);
        let digest = prepared("2026-11-29", &ids, &[]);
        let messages = || -> i64 {
            ledger
                .conn
                .query_row(
                    "SELECT messages FROM digests WHERE digest_date = '2026-11-29'",
                    [],
                    |r| r.get(0),
                )
                .unwrap()
        };

        // A run that fails after its alerts were written (a report it could not write, say)
        // drops the recording: nothing of it stays.
        let recording = ledger.begin_prepared(run, &digest, false).unwrap();
        drop(recording);
        assert!(!ledger.is_prepared("2026-11-29").unwrap());
        assert!(ledger.alert_ids("2026-11-29").unwrap().is_empty());

        let recording = ledger.begin_prepared(run, &digest, false).unwrap();
        let deliveries = prepared("2026-11-29", &[], &["x@p.example", "y@p.example"]).deliveries;
        recording.commit(&deliveries, false).unwrap();
        assert!(ledger.is_prepared("2026-11-29").unwrap());
        assert_eq!(ledger.alert_ids("2026-11-29").unwrap(), ["a", "b", "c"]);
        assert_eq!(ledger.pending().unwrap().len(), 2);
        assert_eq!(
            messages(),
            2,
            "the digest counts the deliveries committed with it"
        );

        // A forced run replaces the digest of its date, alerts and deliveries included.
        let fewer = remembered(&["b"]);
        let recording = ledger
            .begin_prepared(run, &prepared("2026-11-29", &fewer, &[]), true)
            .unwrap();
        recording.commit(&deliveries[..1], false).unwrap();
        assert_eq!(ledger.alert_ids("2026-11-29").unwrap(), ["b"]);
        assert_eq!(ledger.pending().unwrap().len(), 1);
        assert_eq!(messages(), 1);

        // The file transport's deliveries are recorded as sent with the digest.
        let recording = ledger
            .begin_prepared(run, &prepared("2026-11-29", &fewer, &[]), true)
            .unwrap();
        recording.commit(&deliveries, true).unwrap();
        assert!(ledger.pending().unwrap().is_empty());
        assert_eq!(
            ledger.status("2026-11-29").unwrap(),
            DateStatus {
                pending: 0,
                sent: 2,
                failed: 0
            }
        );
        let sent_at: Option<String> = ledger
            .conn
            .query_row(
                "SELECT sent_at FROM deliveries WHERE recipient = 'x@p.example'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(sent_at.is_some_and(|t| t.starts_with("20")));
    }

    #[test]
    fn the_previous_digest_is_the_latest_earlier_date_with_its_alerts() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(dir.path()).unwrap();
        let run = ledger.start_run("t", "d", false).unwrap();
        assert_eq!(ledger.previous("2026-11-29").unwrap(), None);
        let older = remembered(&["old"]);
        let newer = remembered(&["b", "a"]);
        ledger
            .record_prepared(run, &prepared("2026-11-26", &older, &[]), false)
            .unwrap();
        ledger
            .record_prepared(run, &prepared("2026-11-28", &newer, &[]), false)
            .unwrap();
        ledger
            .record_prepared(run, &prepared("2026-11-29", &older, &[]), false)
            .unwrap();
        let previous = ledger.previous("2026-11-29").unwrap().unwrap();
        assert_eq!(previous.digest_date, "2026-11-28");
        assert_eq!(
            previous.as_of,
            parse_instant("2026-11-29T07:00:00Z").unwrap()
        );
        let mut expected = remembered(&["a", "b"]);
        expected.sort_by(|x, y| x.id.cmp(&y.id));
        assert_eq!(previous.alerts, expected, "every remembered field survives");

        drop(ledger);
        let read_only = Ledger::open_read_only(dir.path()).unwrap().unwrap();
        assert_eq!(
            read_only
                .previous("2026-11-29")
                .unwrap()
                .unwrap()
                .digest_date,
            "2026-11-28"
        );
        assert!(
            read_only.start_run("t", "d", false).is_err(),
            "a read-only ledger records nothing"
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(Ledger::open_read_only(empty.path()).unwrap().is_none());
        assert!(
            !empty.path().join(FILE_NAME).exists(),
            "reading creates nothing"
        );
    }

    #[test]
    fn many_listed_alerts_are_remembered_whole_across_insert_batches() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(dir.path()).unwrap();
        let run = ledger.start_run("t", "d", false).unwrap();
        // Two full batches and a short one, in no particular order, with a repeated id.
        let mut alerts: Vec<Remembered> = (0..2 * ROWS_PER_INSERT + 7)
            .map(|i| Remembered {
                id: format!("id-{:05}", (i * 7919) % 100_000),
                alert_type: format!("type-{}", i % 3),
                severity: ["high", "low"][i % 2].to_owned(),
                customer: (i % 5 != 0).then(|| format!("c{i}")),
                subscription: (i % 4 == 0).then(|| format!("s{i}")),
                detected: parse_instant("2026-11-28T01:02:03.456Z").unwrap()
                    + chrono::TimeDelta::seconds(i64::try_from(i).unwrap()),
            })
            .collect();
        alerts.push(alerts[3].clone());
        ledger
            .record_prepared(run, &prepared("2026-11-28", &alerts, &[]), false)
            .unwrap();
        let previous = ledger.previous("2026-11-29").unwrap().unwrap();
        alerts.pop();
        alerts.sort_by(|x, y| x.id.cmp(&y.id));
        assert_eq!(previous.alerts, alerts);
    }

    #[test]
    fn rows_are_inserted_in_id_order_also_when_ids_share_their_first_eight_bytes() {
        let ids = [
            "alert-000102",
            "alert-0001",
            "b",
            "alert-000101",
            "",
            "alert-00",
            "alert-000102-x",
            "Z-upper",
            "alert-0\u{e9}",
            "a",
        ];
        let alerts = remembered(&ids);
        let order: Vec<&str> = Listed::Remembered(&alerts)
            .id_order()
            .iter()
            .map(|&(_, i)| ids[i as usize])
            .collect();
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        assert_eq!(order, sorted);
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
    fn resolutions_are_recorded_and_the_accepted_ones_read_back_since_an_instant() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        let before = Utc::now() - chrono::TimeDelta::seconds(5);
        let resolution = |id: &str, outcome: &str| Resolution {
            at: String::new(),
            actor: "analyst".to_owned(),
            alert_id: id.to_owned(),
            old_status: "active".to_owned(),
            new_status: "resolved".to_owned(),
            reason: Some("fraud".to_owned()),
            http_status: Some(if outcome == "updated" { 200 } else { 400 }),
            outcome: outcome.to_owned(),
            message: "status resolved, reason fraud".to_owned(),
            source: "alerts.csv:2".to_owned(),
        };
        ledger
            .record_resolution(&resolution("a1", "updated"))
            .unwrap();
        ledger
            .record_resolution(&resolution("a2", "failed"))
            .unwrap();
        let since = ledger.resolutions_since(before).unwrap();
        assert_eq!(since.len(), 1, "only what the service accepted");
        let got = &since[0];
        assert_eq!(
            Resolution {
                at: String::new(),
                ..got.clone()
            },
            resolution("a1", "updated")
        );
        let at = DateTime::parse_from_rfc3339(&got.at).unwrap();
        assert!(at >= before && got.at.ends_with('Z'), "{}", got.at);
        let later = Utc::now() + chrono::TimeDelta::seconds(5);
        assert!(ledger.resolutions_since(later).unwrap().is_empty());
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
