//! Reads of the previous digest, for the next one's comparison.

use anyhow::Context as _;
use rusqlite::OptionalExtension;

use super::{Ledger, parse_instant};
use crate::alert::ResolvedReason;
use crate::digest::{Previous, Remembered, ResolvedHere};

impl Ledger {
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
}
