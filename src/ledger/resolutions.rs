//! The `resolutions` table: the audit of what `resolve` asked the service, and its answers.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::Ledger;

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

impl Ledger {
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
}
