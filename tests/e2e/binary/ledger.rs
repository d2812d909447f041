//! Runs against the same state: once per digest date, never twice, and never two at once
//! (rows F1, F2, F5, G4, promise P2). These use the file transport; SMTP is in `smtp_runs`.

use csp_alert_digest::ledger::Ledger;
use csp_alert_digest::ledger::State;

use crate::support::{BASE_CONFIG, Job, assert_mentions, quirks_page, stderr};

/// The digest dates (of those the tests use) the job's ledger has prepared.
pub(super) fn digests(job: &Job) -> Vec<String> {
    let dir = job.path().join("state");
    let ledger = Ledger::open(&dir).unwrap();
    [
        "2026-03-28",
        "2026-03-29",
        "2026-03-30",
        "2026-10-24",
        "2026-10-25",
        "2026-10-26",
        "2026-11-28",
        "2026-11-29",
    ]
    .into_iter()
    .filter(|d| ledger.is_prepared(d).unwrap())
    .map(str::to_owned)
    .collect()
}

#[test]
fn f1_a_second_run_on_the_same_day_prepares_and_sends_nothing() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    let first = job.run(&[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let eml = job
        .day("2026-11-29")
        .join("mail/secops@partner.example.eml");
    let written = std::fs::metadata(&eml).unwrap().modified().unwrap();

    let second = job.run(&[]);
    let log = stderr(&second);
    assert_eq!(second.status.code(), Some(0), "{log}");
    assert_mentions(&log, &["already prepared", "already sent"]);
    assert_mentions(&log, &["prepared=false", "messages=0"]);
    assert_eq!(
        std::fs::metadata(&eml).unwrap().modified().unwrap(),
        written,
        "not rewritten"
    );
}

#[test]
fn force_prepares_and_sends_the_digest_date_again() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    assert!(job.run(&[]).status.success());
    let forced = job.run(&["--force"]);
    let log = stderr(&forced);
    assert!(forced.status.success(), "{log}");
    assert_mentions(&log, &["prepared=true", "messages=2"]);
    assert_eq!(digests(&job), ["2026-11-29"]);
}

#[test]
fn f2_a_run_while_another_holds_the_state_exits_5_without_writing() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    let held = State::open(&job.path().join("state")).unwrap();
    let output = job.run(&[]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(5), "{log}");
    assert!(log.contains("another run"), "{log}");
    assert!(!job.path().join("out").exists(), "nothing prepared");
    drop(held);
    assert!(
        job.run(&[]).status.success(),
        "the lock goes with its holder"
    );
}

#[test]
fn f5_an_unusable_state_folder_fails_before_anything_is_prepared_or_sent() {
    // a file where the state folder should be
    let job = Job::new(BASE_CONFIG, &quirks_page());
    std::fs::write(job.path().join("state"), "not a folder").unwrap();
    let output = job.run(&[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("state"));
    assert!(!job.path().join("out").exists());

    // a corrupted ledger
    let job = Job::new(BASE_CONFIG, &quirks_page());
    std::fs::create_dir(job.path().join("state")).unwrap();
    std::fs::write(job.path().join("state/ledger.sqlite3"), vec![0x42; 4096]).unwrap();
    let output = job.run(&[]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{log}");
    assert!(log.contains("ledger.sqlite3"), "{log}");
    assert!(!job.path().join("out").exists());
}

#[test]
fn a_dry_run_records_nothing() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    let output = job.run(&["--dry-run"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!job.path().join("state").exists(), "no state touched");
    assert!(job.run(&[]).status.success());
    assert_eq!(
        digests(&job),
        ["2026-11-29"],
        "a real run after a dry run still prepares"
    );
}

#[test]
fn g4_both_dst_nights_of_stockholm_give_one_digest_per_day() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    // Spring: 2026-03-29 02:00 CET becomes 03:00 CEST. Autumn: 2026-10-25 03:00 CEST
    // becomes 02:00 CET, so 02:30 happens twice.
    for (as_of, expect_prepared) in [
        ("2026-03-28T22:59:59Z", true),  // 23:59:59 CET on the 28th
        ("2026-03-28T23:00:00Z", true),  // 00:00 CET on the 29th
        ("2026-03-29T00:30:00Z", false), // 01:30 CET, same day
        ("2026-03-29T01:30:00Z", false), // 03:30 CEST, after the jump
        ("2026-03-29", false),           // the day's start in the zone
        ("2026-03-29T22:00:00Z", true),  // 00:00 CEST on the 30th
        ("2026-10-24T22:00:00Z", true),  // 00:00 CEST on the 25th
        ("2026-10-25T00:30:00Z", false), // 02:30 CEST
        ("2026-10-25T01:30:00Z", false), // 02:30 CET, the second time
        ("2026-10-25T23:00:00Z", true),  // 00:00 CET on the 26th
    ] {
        let output = job.run_at(as_of, &[]);
        let log = stderr(&output);
        assert!(output.status.success(), "{as_of}: {log}");
        let prepared = log.contains("prepared=true");
        assert_eq!(prepared, expect_prepared, "{as_of}: {log}");
    }
    assert_eq!(
        digests(&job),
        [
            "2026-03-28",
            "2026-03-29",
            "2026-03-30",
            "2026-10-25",
            "2026-10-26"
        ]
    );
}

#[test]
fn a_ledger_that_cannot_record_the_digest_fails_the_run_and_keeps_nothing_of_it() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    // A first run creates the ledger; the test then makes it refuse the next digest's alerts.
    assert!(job.run_at("2026-11-28T07:00:00Z", &[]).status.success());
    let state = job.path().join("state");
    Ledger::open(&state)
        .unwrap()
        .connection()
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON digest_alerts
             BEGIN SELECT RAISE(ABORT, 'the test refuses this row'); END;",
        )
        .unwrap();
    let output = job.run(&[]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{log}");
    assert!(log.contains("the test refuses this row"), "{log}");
    assert_eq!(digests(&job), ["2026-11-28"], "{log}");

    Ledger::open(&state)
        .unwrap()
        .connection()
        .execute_batch("DROP TRIGGER refuse;")
        .unwrap();
    let again = job.run(&[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(digests(&job), ["2026-11-28", "2026-11-29"]);
}
