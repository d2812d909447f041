//! What changed since the last digest, against one ledger over two consecutive days, in both
//! languages: golden files, the first digest's "no history", and a dry run that reads the
//! history but records nothing.

use crate::support::{BASE_CONFIG, Job, stderr};

const DAY_1: &str = "2026-11-28T07:00:00Z";
const DAY_2: &str = "2026-11-29T07:00:00Z";

fn alert(id: &str, severity: &str, detected: &str, extra: &str) -> String {
    format!(
        r#"{{"id":"{id}","displayName":"Action Required: {severity} alert {id}","alertType":"cryptoMining",
            "status":"active","severity":"{severity}",
            "customerTenantId":"6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            "subscriptionId":"0a1b2c3d-0000-4000-8000-00000000000{sub}",
            "detectedDateTime":"{detected}",
            "affectedResources":[{{"resourceId":"/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-{id}","resourceType":"AzureResource"}}]
            {extra}}}"#,
        sub = id.len() % 10,
    )
}

/// Day 1: five open alerts. Day 2: two of them are gone (one resolved as Fraud, one no longer
/// reported), three are still open, two are new.
fn pages() -> (String, String) {
    let old = [
        alert("kept-high", "high", "2026-11-20T10:00:00Z", ""),
        alert("kept-medium", "medium", "2026-11-25T10:00:00Z", ""),
        alert("kept-low", "low", "2026-11-27T22:00:00Z", ""),
    ];
    let day_1: Vec<String> = old
        .iter()
        .cloned()
        .chain([
            alert("fixed", "high", "2026-11-26T10:00:00Z", ""),
            alert("vanished", "medium", "2026-11-24T10:00:00Z", ""),
        ])
        .collect();
    let resolved = alert(
        "fixed",
        "high",
        "2026-11-26T10:00:00Z",
        r#","resolvedReason":"fraud","resolvedBy":"ann@partner.example","resolvedOnDateTime":"2026-11-28T13:15:00Z""#,
    )
    .replace(r#""status":"active""#, r#""status":"resolved""#);
    let day_2: Vec<String> = old
        .iter()
        .cloned()
        .chain([
            resolved,
            alert("fresh-high", "high", "2026-11-28T20:00:00Z", ""),
            alert("fresh-info", "informational", "2026-11-29T05:00:00Z", ""),
        ])
        .collect();
    (
        format!("{{\"value\":[{}]}}", day_1.join(",")),
        format!("{{\"value\":[{}]}}", day_2.join(",")),
    )
}

/// Runs day 1 and day 2 against one state folder; returns the job.
pub fn two_days(language: &str) -> Job {
    let (day_1, day_2) = pages();
    let config = BASE_CONFIG.replacen(
        "[digest]\n",
        &format!("[digest]\nlanguage = \"{language}\"\n"),
        1,
    );
    let job = Job::new(&config, &day_1);
    let first = job.run_at(DAY_1, &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    std::fs::write(job.path().join("alerts.json"), day_2).unwrap();
    let second = job.run_at(DAY_2, &[]);
    assert!(second.status.success(), "{}", stderr(&second));
    job
}

fn read(job: &Job, date: &str, file: &str) -> String {
    std::fs::read_to_string(job.day(date).join(file)).unwrap()
}

/// The second digest's HTML and text parts, which match their golden files
/// (`history.<language>.html` and `.txt`).
fn second_digest(job: &Job, language: &str) -> (String, String) {
    let html = read(job, "2026-11-29", "digest.html");
    let text = read(job, "2026-11-29", "digest.txt");
    insta::assert_snapshot!(format!("history.{language}.html"), html);
    insta::assert_snapshot!(format!("history.{language}.txt"), text);
    (html, text)
}

#[test]
fn the_second_digest_shows_what_changed_in_english() {
    let job = two_days("en");
    let first = read(&job, "2026-11-28", "digest.txt");
    assert!(
        first.contains("This is the first digest"),
        "the first digest says it has no history"
    );
    let (_, text) = second_digest(&job, "en");
    assert!(
        text.contains("2 new · 3 still open · 2 no longer open"),
        "{text}"
    );
    assert!(
        text.contains("Fraud, by ann@partner.example, 2026-11-28 14:15"),
        "{text}"
    );
}

#[test]
fn the_second_digest_shows_what_changed_in_swedish() {
    let job = two_days("sv");
    let (html, text) = second_digest(&job, "sv");
    assert!(
        html.starts_with("<!DOCTYPE html><html lang=\"sv\">")
            || html.contains("<html lang=\"sv\">")
    );
    assert!(
        text.contains("2 nya · 3 fortfarande öppna · 2 inte längre öppna"),
        "{text}"
    );
    assert!(
        text.contains("Bedrägeri, av ann@partner.example, 2026-11-28 14:15"),
        "{text}"
    );
    assert!(text.contains("söndag 29 november 2026"), "{text}");
    let eml = read(&job, "2026-11-29", "mail/secops@partner.example.eml");
    let message = mail_parser::MessageParser::default()
        .parse(eml.as_bytes())
        .unwrap();
    assert_eq!(
        message.subject().unwrap(),
        "Azure-säkerhetslarm 2026-11-29: 5 olösta larm (2 höga, 3 försenade) hos 1 kund"
    );
}

#[test]
fn every_line_of_the_text_part_fits_72_columns() {
    let job = two_days("en");
    for (date, language) in [("2026-11-28", "en"), ("2026-11-29", "en")] {
        let text = read(&job, date, "digest.txt");
        for line in text.lines() {
            let width = line.chars().count();
            assert!(
                width <= 72 || !line.trim().contains(' '),
                "{language} {date}: a {width}-column line: {line:?}"
            );
        }
    }
}

#[test]
fn a_dry_run_reads_the_history_but_records_nothing() {
    let job = two_days("en");
    let ledger = job.path().join("state/ledger.sqlite3");
    let before = std::fs::read(&ledger).unwrap();
    let dry = job.run_at("2026-11-30T07:00:00Z", &["--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    let text = read(&job, "2026-11-30.dry-run", "digest.txt");
    assert!(
        text.contains("Compared with the digest of 2026-11-29"),
        "the dry run compares with the last real digest: {text}"
    );
    assert_eq!(
        std::fs::read(&ledger).unwrap(),
        before,
        "the ledger is untouched"
    );
}
