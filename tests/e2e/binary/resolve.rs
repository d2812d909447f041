//! The `resolve` command as a user runs it, against wiremock: the lines it prints, its exit
//! codes, and what it records in the ledger.

use csp_alert_digest::ledger::State;
use csp_alert_digest::ledger::{Ledger, Resolution};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::graph::{alert_path, alert_with_status as alert, token_server};
use crate::support::{BASE_CONFIG, Job, assert_mentions, stderr, stdout};

const SECRET: &str = "resolve-canary-secret";
const TOKEN: &str = "resolve.canary.token";

fn config(uri: &str) -> String {
    crate::support::graph::config(uri).to_string()
}

/// A server with a token endpoint and these alerts to read.
async fn server(alerts: &[(&str, &str, Option<&str>)]) -> MockServer {
    let server = token_server(TOKEN).await;
    for (id, status, reason) in alerts {
        Mock::given(method("GET"))
            .and(path(alert_path(id)))
            .respond_with(ResponseTemplate::new(200).set_body_json(alert(id, status, *reason)))
            .mount(&server)
            .await;
    }
    server
}

/// `PATCH` of this alert answers `status` (the alert resolved as fraud for a 200).
async fn patch_answers(server: &MockServer, id: &str, status: u16, times: u64) {
    let answer = if status == 200 {
        ResponseTemplate::new(200).set_body_json(alert(id, "resolved", Some("fraud")))
    } else {
        ResponseTemplate::new(status).set_body_json(json!({"error":{"code":"Forbidden","message":"Missing role permissions on the request."}}))
    };
    Mock::given(method("PATCH"))
        .and(path(alert_path(id)))
        .respond_with(answer)
        .expect(times)
        .mount(server)
        .await;
}

fn resolve(job: &Job, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    job.command("resolve", args)
        .envs(env.iter().copied())
        .env("CSP_DIGEST_CLIENT_SECRET", SECRET)
        .output()
        .unwrap()
}

/// A job reading alert `a1` (with `status` and `reason`) from its Graph server, where a `PATCH`
/// of it answers `patch` and is expected `times` times.
async fn a1_job(status: &str, reason: Option<&str>, patch: u16, times: u64) -> (MockServer, Job) {
    let server = server(&[("a1", status, reason)]).await;
    patch_answers(&server, "a1", patch, times).await;
    let job = Job::new(&config(&server.uri()), "");
    (server, job)
}

/// Runs `resolve` and asserts it exits with `code`; returns what it printed.
fn resolve_exits(job: &Job, args: &[&str], code: i32) -> String {
    let output = resolve(job, args, &[]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(code), "{out}{}", stderr(&output));
    out
}

fn resolutions(job: &Job) -> Vec<Resolution> {
    let ledger = Ledger::open(&job.path().join("state")).unwrap();
    ledger
        .resolutions_since(chrono::DateTime::UNIX_EPOCH)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn resolving_one_alert_prints_it_and_records_who_asked_and_the_answer() {
    let (_server, job) = a1_job("active", None, 200, 1).await;
    let output = resolve(
        &job,
        &[
            "--id",
            "a1",
            "--reason",
            "fraud",
            "--actor",
            "m.okafor@partner.example",
        ],
        &[],
    );
    let (out, log) = (stdout(&output), stderr(&output));
    assert_eq!(output.status.code(), Some(0), "{out}{log}");
    assert_eq!(
        out,
        "updated   --id  a1  customer c1  CryptoMining  active → resolved (fraud)\n\
         1 updated, 0 skipped, 0 failed\n"
    );
    for field in ["resolve finished", "updated=1", "failed=0", "exit_code=0"] {
        assert!(log.contains(field), "{field} in {log}");
    }
    assert!(!log.contains(SECRET) && !log.contains(TOKEN), "{log}");
    let recorded = resolutions(&job);
    assert_eq!(recorded.len(), 1);
    let r = &recorded[0];
    assert_eq!(
        (
            r.actor.as_str(),
            r.alert_id.as_str(),
            r.old_status.as_str(),
            r.new_status.as_str(),
            r.reason.as_deref(),
            r.http_status,
            r.outcome.as_str(),
            r.source.as_str()
        ),
        (
            "m.okafor@partner.example",
            "a1",
            "active",
            "resolved",
            Some("fraud"),
            Some(200),
            "updated",
            "--id"
        )
    );
    assert_eq!(
        r.message,
        "the service reports status resolved, reason fraud"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_machine_user_is_the_actor_by_default() {
    let server = server(&[("a1", "active", None)]).await;
    Mock::given(method("PATCH"))
        .and(path(alert_path("a1")))
        .respond_with(ResponseTemplate::new(200).set_body_json(alert("a1", "investigating", None)))
        .expect(1)
        .mount(&server)
        .await;
    let job = Job::new(&config(&server.uri()), "");
    let output = resolve(
        &job,
        &["--id", "a1", "--investigating"],
        &[("USER", "soc-runner")],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let recorded = resolutions(&job);
    assert!(recorded[0].actor.starts_with("soc-runner"), "{recorded:?}");
    assert_eq!(
        (
            recorded[0].new_status.as_str(),
            recorded[0].reason.as_deref()
        ),
        ("investigating", None)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_already_resolved_alert_is_refused_with_exit_2_and_a_hint_to_force() {
    let (_server, job) = a1_job("resolved", Some("legitimate"), 200, 0).await;
    let out = resolve_exits(&job, &["--id", "a1", "--reason", "fraud"], 2);
    assert!(
        out.starts_with(
            "refused   --id  a1  customer c1  CryptoMining  already resolved (legitimate)"
        ) && out.contains("without --force"),
        "{out}"
    );
    assert!(resolutions(&job).is_empty(), "nothing was changed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_403_on_update_exits_2_names_the_write_permission_and_is_recorded() {
    let (_server, job) = a1_job("active", None, 403, 1).await;
    let out = resolve_exits(&job, &["--id", "a1", "--reason", "ignore"], 2);
    assert_mentions(&out, &["403 Forbidden", "PartnerSecurity.ReadWrite.All"]);
    let recorded = resolutions(&job);
    assert!(recorded.is_empty(), "not an accepted change: {recorded:?}");
    let conn = rusqlite::Connection::open(job.path().join("state/ledger.sqlite3")).unwrap();
    let (outcome, status): (String, i64) = conn
        .query_row(
            "SELECT outcome, http_status FROM resolutions WHERE alert_id = 'a1'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!((outcome.as_str(), status), ("failed", 403));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_csv_without_the_columns_exits_2_naming_them_before_any_request() {
    let server = MockServer::start().await;
    let job = Job::new(&config(&server.uri()), "");
    let csv = job.path().join("edited.csv");
    std::fs::write(&csv, "id;Beslut\r\nx;bedrägeri\r\n").unwrap();
    let output = resolve(&job, &["--from-csv", csv.to_str().unwrap()], &[]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{log}");
    assert_mentions(
        &log,
        &[
            "edited.csv",
            "no alert_id or decision columns",
            "Found: id, beslut",
        ],
    );
    assert!(server.received_requests().await.unwrap().is_empty());
    assert!(!job.path().join("state").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_reads_but_neither_changes_nor_records() {
    let (_server, job) = a1_job("active", None, 200, 0).await;
    let csv = job.path().join("alerts.csv");
    std::fs::write(&csv, "\u{feff}alert_id,decision\r\na1,Fraud\r\n").unwrap();
    let out = resolve_exits(&job, &["--from-csv", csv.to_str().unwrap(), "--dry-run"], 0);
    assert_eq!(
        out,
        "plan      line 2  a1  customer c1  CryptoMining  active → resolved (fraud)\n\
         dry run: 1 to update, 0 skipped, 0 failed; nothing was changed\n"
    );
    assert!(
        !job.path().join("state").exists(),
        "the state is not touched"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn resolve_waits_for_no_run_holding_the_state_and_exits_5() {
    let (_server, job) = a1_job("active", None, 200, 0).await;
    let _held = State::open(&job.path().join("state")).unwrap();
    let output = resolve(&job, &["--id", "a1", "--reason", "fraud"], &[]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
}

#[test]
fn a_file_source_has_nothing_to_resolve() {
    let job = Job::new(BASE_CONFIG, "[]");
    let output = resolve(&job, &["--id", "a1", "--reason", "fraud"], &[]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{log}");
    assert!(log.contains(r#"[source] kind is not "graph""#), "{log}");
}

#[test]
fn contradictory_or_incomplete_options_exit_2() {
    let job = Job::new(BASE_CONFIG, "[]");
    for args in [
        &["--id", "a1"][..],
        &["--id", "a1", "--reason", "fraud", "--investigating"],
        &["--id", "a1", "--reason", "stolen"],
        &["--from-csv", "x.csv", "--id", "a1"],
        &["--from-csv", "x.csv", "--reason", "fraud"],
        &[],
    ] {
        let output = resolve(&job, args, &[]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}
