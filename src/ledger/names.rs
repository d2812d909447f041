//! Names from Partner Center kept in the ledger's database (table `names`), so a Partner
//! Center outage still gives a named digest: each lookup that succeeds writes what it learnt,
//! and a lookup that fails falls back to entries younger than `cache_max_age_days`. Older
//! entries are never used and are deleted on the next write.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OpenFlags, params};

use crate::ledger;

/// What a cached name is the name of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Customer,
    Reseller,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Reseller => "reseller",
        }
    }
}

/// One name, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Lower-cased tenant id.
    pub id: String,
    pub kind: Kind,
    pub name: String,
    pub domain: Option<String>,
    /// The call it came from: `customers` or `relationships`.
    pub source: &'static str,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn cutoff(now: DateTime<Utc>, max_age: Duration) -> String {
    let age = chrono::TimeDelta::from_std(max_age).unwrap_or(chrono::TimeDelta::MAX);
    stamp(
        now.checked_sub_signed(age)
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
    )
}

/// The names fetched within `max_age` before `now`, by id.
pub fn load(
    conn: &Connection,
    now: DateTime<Utc>,
    max_age: Duration,
) -> anyhow::Result<HashMap<String, Entry>> {
    let mut query =
        conn.prepare("SELECT id, kind, name, domain, source FROM names WHERE fetched_at >= ?1")?;
    let rows = query.query_map([cutoff(now, max_age)], |row| {
        let kind: String = row.get(1)?;
        let source: String = row.get(4)?;
        Ok(Entry {
            id: row.get(0)?,
            kind: if kind == "reseller" {
                Kind::Reseller
            } else {
                Kind::Customer
            },
            name: row.get(2)?,
            domain: row.get(3)?,
            source: if source == "relationships" {
                "relationships"
            } else {
                "customers"
            },
        })
    })?;
    let mut entries = HashMap::new();
    for row in rows {
        let entry = row?;
        entries.insert(entry.id.clone(), entry);
    }
    Ok(entries)
}

/// Writes `entries` as fetched at `now`, and deletes entries older than `max_age`, in one
/// transaction. Returns how many were written.
pub fn store<'e>(
    conn: &Connection,
    entries: impl IntoIterator<Item = &'e Entry>,
    now: DateTime<Utc>,
    max_age: Duration,
) -> anyhow::Result<usize> {
    let tx = conn.unchecked_transaction()?;
    let at = stamp(now);
    let mut written = 0;
    {
        let mut upsert = tx.prepare(
            "INSERT INTO names (id, kind, name, domain, source, fetched_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name,
                 domain = excluded.domain, source = excluded.source, fetched_at = excluded.fetched_at",
        )?;
        for e in entries {
            upsert.execute(params![
                e.id,
                e.kind.as_str(),
                e.name,
                e.domain,
                e.source,
                at
            ])?;
            written += 1;
        }
    }
    tx.execute(
        "DELETE FROM names WHERE fetched_at < ?1",
        [cutoff(now, max_age)],
    )?;
    tx.commit()?;
    Ok(written)
}

/// The ledger opened read-only, for a dry run (which never writes to the state folder);
/// `None` when there is no ledger yet, or one from before the names cache.
pub fn open_read_only(state_dir: &Path) -> anyhow::Result<Option<Connection>> {
    let path = state_dir.join(ledger::FILE_NAME);
    if !path.is_file() {
        return Ok(None);
    }
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open {} read-only", path.display()))?;
    let has_names: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'names'",
            [],
            |row| row.get::<_, i64>(0),
        )
        .map(|n| n > 0)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(has_names.then_some(conn))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::ledger::Ledger;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().into()
    }

    fn entry(id: &str, name: &str) -> Entry {
        Entry {
            id: id.to_owned(),
            kind: Kind::Customer,
            name: name.to_owned(),
            domain: Some(format!("{id}.example")),
            source: "customers",
        }
    }

    const WEEK: Duration = Duration::from_secs(7 * 86_400);

    /// A new ledger, and `entries` stored in it at `stored_at`.
    fn ledger_with(entries: &[Entry], stored_at: &str) -> (tempfile::TempDir, Ledger) {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        store(ledger.connection(), entries, at(stored_at), WEEK).unwrap();
        (dir, ledger)
    }

    #[test]
    fn names_are_used_until_they_are_older_than_the_maximum_age() {
        let (_dir, ledger) = ledger_with(&[entry("a", "Alpha")], "2026-11-01T07:00:00Z");
        let conn = ledger.connection();
        let fresh = load(conn, at("2026-11-08T07:00:00Z"), WEEK).unwrap();
        assert_eq!(
            fresh["a"],
            entry("a", "Alpha"),
            "exactly 7 days old is still used"
        );
        assert!(
            load(conn, at("2026-11-08T07:00:01Z"), WEEK)
                .unwrap()
                .is_empty(),
            "a second older is not"
        );
    }

    #[test]
    fn a_newer_answer_replaces_the_old_one_and_expired_entries_are_deleted() {
        let (_dir, ledger) = ledger_with(
            &[entry("a", "Alpha"), entry("b", "Beta")],
            "2026-11-01T07:00:00Z",
        );
        let conn = ledger.connection();
        store(
            conn,
            &[entry("a", "Alpha Renamed")],
            at("2026-11-10T07:00:00Z"),
            WEEK,
        )
        .unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM names", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1, "b expired and was deleted");
        let names = load(conn, at("2026-11-10T08:00:00Z"), WEEK).unwrap();
        assert_eq!(names["a"].name, "Alpha Renamed");
    }

    #[test]
    fn a_dry_run_reads_the_cache_without_writing_or_creating_anything() {
        let dir = tempfile::tempdir().unwrap();
        assert!(open_read_only(dir.path()).unwrap().is_none());
        assert!(
            !dir.path().join(ledger::FILE_NAME).exists(),
            "no ledger is created"
        );
        {
            let older = Connection::open(dir.path().join(ledger::FILE_NAME)).unwrap();
            older
                .execute_batch("CREATE TABLE runs (id INTEGER PRIMARY KEY);")
                .unwrap();
        }
        assert!(
            open_read_only(dir.path()).unwrap().is_none(),
            "a ledger from before the names cache has no names"
        );
        std::fs::remove_file(dir.path().join(ledger::FILE_NAME)).unwrap();
        {
            let ledger = Ledger::open(dir.path()).unwrap();
            store(
                ledger.connection(),
                &[entry("a", "Alpha")],
                at("2026-11-01T07:00:00Z"),
                WEEK,
            )
            .unwrap();
        }
        let conn = open_read_only(dir.path()).unwrap().unwrap();
        let names = load(&conn, at("2026-11-02T07:00:00Z"), WEEK).unwrap();
        assert_eq!(names["a"].name, "Alpha");
        assert!(
            store(
                &conn,
                &[entry("b", "Beta")],
                at("2026-11-02T07:00:00Z"),
                WEEK
            )
            .is_err(),
            "read-only"
        );
    }
}
