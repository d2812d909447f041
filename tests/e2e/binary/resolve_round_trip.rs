//! The loop closed against the fake Graph service: `run` writes alerts.csv, an analyst fills
//! in decisions (and saves it the way Excel does in a Swedish locale: `;`, CRLF, BOM), `resolve
//! --from-csv` changes those alerts in the service, and the next `run` no longer lists the
//! resolved ones.

use csp_alert_digest::ledger::Ledger;
use testkit::{Action, FakeGraph, Fault, ONE_ALERT, Options};

use crate::support::{Job, assert_mentions, read_csv, stderr, stdout};

const SECRET: (&str, &str) = ("CSP_DIGEST_CLIENT_SECRET", "secret");

fn run(job: &Job, extra: &[&str]) -> String {
    let output = job.run_with(extra, &[SECRET]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{log}");
    log
}

fn resolve(job: &Job, csv: &std::path::Path) -> (Option<i32>, String, String) {
    let output = job
        .command("resolve", &["--actor", "analyst@partner.example"])
        .arg("--from-csv")
        .arg(csv)
        .env(SECRET.0, SECRET.1)
        .output()
        .unwrap();
    (output.status.code(), stdout(&output), stderr(&output))
}

/// A field of the summary line, e.g. `in_window=…`.
fn field(log: &str, name: &str) -> usize {
    let line = log
        .lines()
        .find(|l| l.contains("run finished"))
        .expect("summary line");
    line.split_whitespace()
        .find_map(|f| f.strip_prefix(&format!("{name}=")))
        .expect("field")
        .parse()
        .unwrap()
}

/// Writes `rows` as Excel saves a CSV in a Swedish locale: BOM, `;`, CRLF.
fn write_like_excel(path: &std::path::Path, header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        w.write_record(header).unwrap();
        for row in rows {
            w.write_record(row).unwrap();
        }
        w.flush().unwrap();
    }
    std::fs::write(path, &out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The line of `text` on which the row for `id` starts.
fn line_of(text: &str, id: &str) -> usize {
    let at = text
        .find(&format!("\n2026-11-29;{id};"))
        .expect("the row is in the file");
    text[..=at].matches('\n').count() + 1
}

/// One update per decided alert (`ids`: fraud, legitimate, ignore, investigating), with exactly
/// the documented body; a throttled update appears twice.
fn assert_one_update_each(fake: &FakeGraph, ids: &[String]) {
    let mut patches: Vec<(String, String)> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| (r.path_and_query, String::from_utf8(r.body).unwrap()))
        .collect();
    patches.sort();
    let sent = patches.len();
    patches.dedup();
    assert!(sent == 4 || sent == 5, "{sent} updates sent");
    let mut expected: Vec<(String, String)> = ids
        .iter()
        .zip([
            r#"{"status":"resolved","resolvedReason":"fraud"}"#,
            r#"{"status":"resolved","resolvedReason":"legitimate"}"#,
            r#"{"status":"resolved","resolvedReason":"ignore"}"#,
            r#"{"status":"investigating"}"#,
        ])
        .map(|(id, body)| {
            (
                format!("/beta/security/partner/securityAlerts/{id}"),
                body.to_owned(),
            )
        })
        .collect();
    expected.sort();
    assert_eq!(patches, expected);
}

/// The ledger says who changed what, from which line of `text`.
fn assert_recorded(job: &Job, ids: &[String], text: &str) {
    let ledger = Ledger::open(&job.path().join("state")).unwrap();
    let recorded = ledger
        .resolutions_since(chrono::DateTime::UNIX_EPOCH)
        .unwrap();
    assert_eq!(recorded.len(), ids.len());
    for r in &recorded {
        let id = ids.iter().find(|id| **id == r.alert_id).unwrap();
        assert_eq!(r.actor, "analyst@partner.example");
        assert_eq!(r.source, format!("edited.csv:{}", line_of(text, id)));
        assert_eq!(
            (r.old_status.as_str(), r.http_status),
            ("active", Some(200))
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_csv_written_by_run_edited_and_fed_back_resolves_those_alerts_for_the_next_run() {
    // One read is throttled along the way (Retry-After: 0, so nothing sleeps).
    let fake = FakeGraph::start(Options {
        alerts: 300,
        page_size: 50,
        faults: vec![Fault::new(ONE_ALERT, 3, Action::status(429, Some("0")))],
        ..Options::default()
    })
    .await;
    let job = Job::new(&fake.config().to_string(), "");
    let first = run(&job, &[]);
    let in_window = field(&first, "in_window");
    let (header, mut rows) = read_csv(&job.day("2026-11-29").join("alerts.csv"));
    assert_eq!(header.last().map(String::as_str), Some("decision"));
    assert_eq!(rows.len(), in_window);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (id_at, status_at, decision_at) =
        (column("alert_id"), column("status"), column("decision"));
    assert!(
        rows.iter().all(|r| r[decision_at].is_empty()),
        "written empty"
    );

    // The analyst's decisions, on active alerts; one word mistyped.
    let active: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i][status_at] == "active")
        .take(5)
        .collect();
    assert_eq!(active.len(), 5, "the generator has active alerts");
    for (&row, word) in
        active
            .iter()
            .zip(["Fraud", "legitimate", "IGNORE", "investigating", "fruad"])
    {
        rows[row][decision_at] = word.to_owned();
    }
    let ids: Vec<String> = active.iter().map(|&i| rows[i][id_at].clone()).collect();
    let edited = job.path().join("edited.csv");
    let text = write_like_excel(&edited, &header, &rows);

    let (code, out, log) = resolve(&job, &edited);
    assert_eq!(code, Some(2), "a bad row is an input error: {out}{log}");
    for (id, to) in ids.iter().zip([
        "active → resolved (fraud)",
        "active → resolved (legitimate)",
        "active → resolved (ignore)",
        "active → investigating",
    ]) {
        let expected = format!("updated   line {}  {id}  customer ", line_of(&text, id));
        let line = out
            .lines()
            .find(|l| l.starts_with(&expected))
            .unwrap_or_else(|| panic!("{expected} in {out}"));
        assert!(line.ends_with(to), "{line}");
    }
    assert!(
        out.contains(&format!(
            "invalid   line {}  {}  unknown decision \"fruad\"",
            line_of(&text, &ids[4]),
            ids[4]
        )),
        "{out}"
    );
    assert!(
        out.ends_with(&format!(
            "4 updated, {} skipped, 0 failed (skipped: {} without a decision, 1 invalid)\n",
            rows.len() - 4,
            rows.len() - 5
        )),
        "{out}"
    );

    assert!(
        log.contains(" retries=1 "),
        "the throttled request was made again: {log}"
    );
    assert_one_update_each(&fake, &ids[..4]);
    assert_recorded(&job, &ids[..4], &text);

    // The next day's digest compares with this morning's and says who resolved them, from the
    // ledger's record of `resolve`.
    assert_next_day_names_who_resolved(&job, &ids[..3]);

    // The next digest no longer lists the resolved alerts; the one under investigation stays.
    let second = run(&job, &["--force"]);
    assert_eq!(field(&second, "in_window"), in_window - 3, "{second}");
    let (_, after) = read_csv(&job.day("2026-11-29").join("alerts.csv"));
    assert_eq!(after.len(), in_window - 3);
    let listed = |id: &str| after.iter().find(|r| r[id_at] == id);
    for id in &ids[..3] {
        assert!(listed(id).is_none(), "{id} resolved, so gone");
    }
    assert_eq!(listed(&ids[3]).unwrap()[status_at], "investigating");
    assert_eq!(listed(&ids[4]).unwrap()[status_at], "active");

    // Feeding the same file again changes nothing: each alert already is as decided.
    let patches_before = fake
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    let (code, out, _) = resolve(&job, &edited);
    assert_eq!(code, Some(2), "still the one bad row: {out}");
    assert_mentions(&out, &["0 updated", "4 already so"]);
    let patches_after = fake
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(patches_after, patches_before);
}

fn assert_next_day_names_who_resolved(job: &Job, resolved: &[String]) {
    let next_day = job.run_with(&["--as-of", "2026-11-30T07:00:00Z"], &[SECRET]);
    assert_eq!(next_day.status.code(), Some(0), "{}", stderr(&next_day));
    let digest = std::fs::read_to_string(job.day("2026-11-30").join("digest.txt")).unwrap();
    let flat = digest.split_whitespace().collect::<Vec<_>>().join(" ");
    for id in resolved {
        let at = flat
            .find(&format!("id {id}"))
            .unwrap_or_else(|| panic!("{id} is listed as no longer open: {digest}"));
        let entry = &flat[flat[..at].rfind("- [").unwrap()..at];
        assert!(
            entry.contains(", by analyst@partner.example, "),
            "who resolved {id}: {entry}"
        );
    }
}

/// Microsoft asks partners to resolve old alerts too: the unresolved alerts detected before the
/// window are in older.csv, with the same columns, and `resolve --from-csv older.csv` closes them.
#[tokio::test(flavor = "multi_thread")]
async fn older_csv_holds_the_alerts_before_the_window_and_resolve_closes_them() {
    let fake = FakeGraph::start(Options {
        alerts: 300,
        page_size: 100,
        ..Options::default()
    })
    .await;
    let job = Job::new(&fake.config().to_string(), "");
    let first = run(&job, &[]);
    let older = field(&first, "older_than_window");
    assert!(older >= 2, "the generator makes older alerts: {first}");
    let day = job.day("2026-11-29");
    let (header, mut rows) = read_csv(&day.join("older.csv"));
    let (alerts_header, _) = read_csv(&day.join("alerts.csv"));
    assert_eq!(header, alerts_header, "the same columns as alerts.csv");
    assert_eq!(rows.len(), older, "exactly the older unresolved alerts");
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (id_at, detected_at, decision_at) = (
        column("alert_id"),
        column("detected_at"),
        column("decision"),
    );
    for row in &rows {
        assert!(
            row[detected_at].as_str() < "2026-09-30 07:00:00",
            "detected before the window: {row:?}"
        );
    }
    for row in rows.iter_mut().take(2) {
        row[decision_at] = "ignore".to_owned();
    }
    let ids: Vec<String> = rows.iter().take(2).map(|r| r[id_at].clone()).collect();
    let edited = job.path().join("older-edited.csv");
    write_like_excel(&edited, &header, &rows);

    let (code, out, log) = resolve(&job, &edited);
    assert_eq!(code, Some(0), "{out}{log}");
    assert!(out.contains("2 updated"), "{out}");
    let patched: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.path_and_query)
        .collect();
    for id in &ids {
        assert!(
            patched.contains(&format!("/beta/security/partner/securityAlerts/{id}")),
            "{patched:?}"
        );
    }

    let second = run(&job, &["--force"]);
    assert_eq!(field(&second, "older_than_window"), older - 2, "{second}");
    let (_, after) = read_csv(&day.join("older.csv"));
    assert_eq!(after.len(), older - 2);
    assert!(after.iter().all(|r| !ids.contains(&r[id_at])));
}
