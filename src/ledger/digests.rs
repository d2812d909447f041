//! The `digests` and `digest_alerts` tables: each digest date prepared, with the alerts it
//! listed, recorded in one transaction with its deliveries.

use std::borrow::Cow;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Ledger, NewDelivery};
use crate::digest::{DigestAlert, Remembered};

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
    pub(super) fn id_order(&self) -> Vec<(u64, u32)> {
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

impl Ledger {
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

    /// The newest digest date prepared after `digest_date`, if any: a digest for an earlier
    /// date would be stale, and compared with less than the reader has seen.
    pub fn newest_after(&self, digest_date: &str) -> anyhow::Result<Option<String>> {
        Ok(self.conn.query_row(
            "SELECT max(digest_date) FROM digests WHERE digest_date > ?1",
            [digest_date],
            |row| row.get(0),
        )?)
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
pub(super) const ROWS_PER_INSERT: usize = 256;

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
