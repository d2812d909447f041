use super::digests::ROWS_PER_INSERT;
use super::*;
use crate::digest::Remembered;

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

/// A new ledger in a temporary folder, with a run started for `digest_date`.
fn ledger_with_run(digest_date: &str) -> (tempfile::TempDir, Ledger, i64) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path()).unwrap();
    let run = ledger.start_run("t", digest_date, false).unwrap();
    (dir, ledger, run)
}

/// Records the digest of `date`, with no alerts and one delivery to `recipient`.
fn record_mail(
    ledger: &mut Ledger,
    run: i64,
    date: &str,
    recipient: &str,
    replace: bool,
) -> anyhow::Result<()> {
    ledger.record_prepared(run, &prepared(date, &[], &[recipient]), replace)
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
    let (_dir, ledger, run) = ledger_with_run("2026-11-29");
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
    let (dir, mut ledger, run) = ledger_with_run("d");
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
    let (_dir, mut ledger, run) = ledger_with_run("d");
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
    let (_dir, mut ledger, run) = ledger_with_run("2026-11-29");
    record_mail(&mut ledger, run, "2026-11-29", "x@p.example", false).unwrap();
    ledger.mark_sent("2026-11-29", "x@p.example").unwrap();
    assert!(
        record_mail(&mut ledger, run, "2026-11-29", "x@p.example", false).is_err(),
        "the same date twice without replace is refused"
    );
    record_mail(&mut ledger, run, "2026-11-29", "x@p.example", true).unwrap();
    assert_eq!(ledger.pending().unwrap().len(), 1);
}

#[test]
fn the_ledger_survives_reopening_and_pending_lists_oldest_dates_first() {
    let (dir, mut ledger, run) = ledger_with_run("d");
    record_mail(&mut ledger, run, "2026-11-29", "a@p.example", false).unwrap();
    record_mail(&mut ledger, run, "2026-11-28", "b@p.example", false).unwrap();
    drop(ledger);
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
