//! The ledger's tables, as schema migrations.

/// Schema migrations, applied in order; `PRAGMA user_version` counts those applied.
pub(super) const MIGRATIONS: &[&str] = &[
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
