//! The `runs` table: one row per run, with how it ended.

use rusqlite::params;

use super::Ledger;

impl Ledger {
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
}
