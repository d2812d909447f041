//! The files a run writes: golden snapshots, determinism, the empty digest, escaping and size.

use mail_parser::MessageParser;

use crate::support::{BASE_CONFIG, Job, quirks_page, read_csv, stderr};

fn run_ok(job: &Job, extra: &[&str]) -> String {
    let output = job.run(extra);
    let log = stderr(&output);
    assert!(output.status.success(), "run failed: {log}");
    log
}

fn read(job: &Job, relative: &str) -> String {
    std::fs::read_to_string(job.day("2026-11-29").join(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

#[test]
fn reports_and_messages_match_the_golden_files() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    run_ok(&job, &[]);
    insta::assert_snapshot!("digest.html", read(&job, "digest.html"));
    insta::assert_snapshot!("digest.txt", read(&job, "digest.txt"));
    insta::assert_snapshot!("alerts.csv", read(&job, "alerts.csv"));
    insta::assert_snapshot!("summary.csv", read(&job, "summary.csv"));
    insta::assert_snapshot!("message.eml", read(&job, "mail/secops@partner.example.eml"));
}

#[test]
fn the_same_input_and_clock_give_byte_identical_files() {
    let a = Job::new(BASE_CONFIG, &quirks_page());
    let b = Job::new(BASE_CONFIG, &quirks_page());
    run_ok(&a, &[]);
    run_ok(&b, &[]);
    for file in [
        "digest.html",
        "digest.txt",
        "alerts.csv",
        "summary.csv",
        "mail/secops@partner.example.eml",
        "mail/duty@partner.example.eml",
    ] {
        assert_eq!(
            read(&a, file),
            read(&b, file),
            "{file} differs between runs"
        );
    }
}

#[test]
fn each_recipient_gets_a_message_with_its_own_stable_message_id() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    run_ok(&job, &[]);
    let id = |name: &str| {
        let bytes = read(&job, &format!("mail/{name}.eml"));
        let message = MessageParser::default().parse(bytes.as_bytes()).unwrap();
        assert_eq!(
            message.to().unwrap().first().unwrap().address().unwrap(),
            name
        );
        message.message_id().unwrap().to_owned()
    };
    let secops = id("secops@partner.example");
    let duty = id("duty@partner.example");
    assert_ne!(secops, duty);
    assert!(secops.ends_with("@partner.example"), "{secops}");
    // a rerun of the same digest date carries the same ids
    run_ok(&job, &[]);
    assert_eq!(id("secops@partner.example"), secops);
}

#[test]
fn an_empty_digest_writes_reports_but_no_message_by_default() {
    let job = Job::new(BASE_CONFIG, r#"{"value": []}"#);
    let log = run_ok(&job, &[]);
    assert!(log.contains("messages=0"), "{log}");
    let day = job.day("2026-11-29");
    assert!(read(&job, "digest.txt").contains("No unresolved alerts"));
    assert_eq!(std::fs::read_dir(day.join("mail")).unwrap().count(), 0);
    let (_, rows) = read_csv(&day.join("alerts.csv"));
    assert!(rows.is_empty());
}

#[test]
fn an_empty_digest_is_sent_when_configured() {
    let job = Job::with_digest_settings("send_when_empty = true", r#"{"value": []}"#);
    let log = run_ok(&job, &[]);
    assert!(log.contains("messages=2"), "{log}");
    let eml = read(&job, "mail/secops@partner.example.eml");
    let message = MessageParser::default().parse(eml.as_bytes()).unwrap();
    assert_eq!(
        message.subject().unwrap(),
        "Azure security alerts 2026-11-29: no unresolved alerts"
    );
}

#[test]
fn a_dry_run_still_writes_every_file() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    let log = run_ok(&job, &["--dry-run"]);
    assert!(log.contains("dry_run=true"), "{log}");
    let folder = job.path().join("out/2026-11-29.dry-run");
    for file in [
        "digest.html",
        "digest.txt",
        "alerts.csv",
        "summary.csv",
        "mail/duty@partner.example.eml",
    ] {
        assert!(folder.join(file).is_file(), "{file}");
    }
    assert!(
        !job.day("2026-11-29").exists(),
        "a dry run never touches the folder that pending deliveries send from"
    );
}

#[test]
fn the_digest_date_and_window_follow_the_configured_zone() {
    // 2026-11-29T07:00Z is already 20:00 on the 29th in Kiritimati (UTC+14) but still the 28th
    // in UTC−12.
    let job = Job::new(
        &BASE_CONFIG.replace("Europe/Stockholm", "Etc/GMT+12"),
        &quirks_page(),
    );
    run_ok(&job, &[]);
    assert!(job.day("2026-11-28").join("digest.html").is_file());
    let job = Job::new(
        &BASE_CONFIG.replace("Europe/Stockholm", "Pacific/Kiritimati"),
        &quirks_page(),
    );
    let output = job.run_at("2026-11-29T10:30:00Z", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(job.day("2026-11-30").join("digest.html").is_file());
}
