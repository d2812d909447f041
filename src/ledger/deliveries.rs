//! The `deliveries` table: one row per (digest date, recipient), pending until sent or failed.

use std::path::PathBuf;

use anyhow::bail;
use rusqlite::params;

use super::Ledger;

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

impl Ledger {
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
}
