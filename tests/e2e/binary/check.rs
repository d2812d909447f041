//! `csp-alert-digest check`: one line per probe, each failing in turn, and nothing sent.

use testkit::{Action, ConfigToml, FakeGraph, Fault, Options};

use crate::support::fake_smtp::{FakeSmtp, Script};
use crate::support::{Job, probe_line as line, stderr, stdout};

/// Reading from Graph at `graph` (two attempts a request) and sending by SMTP to 127.0.0.1 at
/// `smtp_port`, in plain text, with `smtp_extra` `[mail.smtp]` lines.
fn config(graph: &str, smtp_port: u16, smtp_extra: &str) -> ConfigToml {
    ConfigToml::graph(graph, "tenant", "client")
        .source("max_attempts", 2)
        .smtp("host", "127.0.0.1")
        .smtp("port", smtp_port)
        .smtp("tls", "none")
        .smtp("connect_timeout_secs", 5)
        .smtp("send_timeout_secs", 5)
        .lines("mail.smtp", smtp_extra)
}

/// A job whose Graph and SMTP server are nowhere: for `check --offline`.
fn offline_job() -> Job {
    Job::new(&config("http://127.0.0.1:9", 9, "").to_string(), "")
}

/// Runs `check` (beside the fakes) with the Graph secret and an SMTP password in the
/// environment, and asserts it exits with `code`; returns what it printed.
async fn check(job: &Job, extra: &[&str], code: i32) -> String {
    let mut command = job.command("check", extra);
    command
        .env("CSP_DIGEST_CLIENT_SECRET", Options::default().client_secret)
        .env("CSP_DIGEST_SMTP_PASSWORD", "pw");
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(code),
        "{stdout}{}",
        stderr(&output)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread")]
async fn every_probe_passes_against_healthy_services_and_nothing_is_sent() {
    let graph = FakeGraph::start(Options::default()).await;
    let smtp = FakeSmtp::start(Script::default()).await;
    let job = Job::new(&config(&graph.base_url(), smtp.port(), "").to_string(), "");
    let stdout = check(&job, &[], 0).await;
    for probe in ["config", "state", "output", "graph", "smtp"] {
        assert!(line(&stdout, probe).starts_with("ok"), "{stdout}");
    }
    assert!(line(&stdout, "graph").contains("100 alerts"), "{stdout}");
    assert_eq!(
        graph.page_requests(),
        1,
        "one page, not the whole collection"
    );
    assert_eq!(
        (smtp.connections(), smtp.data_ends()),
        (1, 0),
        "connected, nothing sent"
    );
    assert!(!smtp.transcript().iter().any(|l| l.starts_with("MAIL")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_secret_fails_the_graph_probe_with_exit_2() {
    let graph = FakeGraph::start(Options {
        client_secret: "another-secret".to_owned(),
        ..Options::default()
    })
    .await;
    let smtp = FakeSmtp::start(Script::default()).await;
    let job = Job::new(&config(&graph.base_url(), smtp.port(), "").to_string(), "");
    let stdout = check(&job, &[], 2).await;
    let graph_line = line(&stdout, "graph");
    assert!(
        graph_line.starts_with("FAIL") && graph_line.contains("AADSTS7000215"),
        "{stdout}"
    );
    assert!(
        line(&stdout, "smtp").starts_with("ok"),
        "the other probes still run: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unavailable_graph_fails_with_exit_3() {
    let faults = (0..2)
        .map(|attempt| Fault::new(0, attempt, Action::status(503, Some("0"))))
        .collect();
    let graph = FakeGraph::start(Options {
        faults,
        ..Options::default()
    })
    .await;
    let smtp = FakeSmtp::start(Script::default()).await;
    let job = Job::new(&config(&graph.base_url(), smtp.port(), "").to_string(), "");
    let stdout = check(&job, &[], 3).await;
    assert!(line(&stdout, "graph").starts_with("FAIL"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_smtp_server_fails_with_exit_3_and_a_fix() {
    let graph = FakeGraph::start(Options::default()).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let job = Job::new(&config(&graph.base_url(), port, "").to_string(), "");
    let stdout = check(&job, &[], 3).await;
    let smtp_line = line(&stdout, "smtp");
    assert!(
        smtp_line.starts_with("FAIL") && smtp_line.contains("fix:"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_without_starttls_fails_the_smtp_probe_with_exit_2_before_any_login() {
    let graph = FakeGraph::start(Options::default()).await;
    let smtp = FakeSmtp::start(Script::extensions(&["AUTH PLAIN LOGIN"])).await;
    let config = config(&graph.base_url(), smtp.port(), "username = \"digest\"");
    let job = Job::new(&config.smtp("tls", "starttls").to_string(), "");
    let stdout = check(&job, &[], 2).await;
    assert!(line(&stdout, "smtp").contains("STARTTLS"), "{stdout}");
    assert!(
        !smtp
            .transcript()
            .iter()
            .any(|l| l.to_ascii_uppercase().starts_with("AUTH"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unusable_state_and_output_folders_fail_with_exit_2() {
    let job = offline_job();
    std::fs::write(job.path().join("state"), "a file, not a folder").unwrap();
    std::fs::write(job.path().join("out"), "a file, not a folder").unwrap();
    let stdout = check(&job, &["--offline"], 2).await;
    assert!(line(&stdout, "state").starts_with("FAIL"), "{stdout}");
    assert!(line(&stdout, "output").starts_with("FAIL"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_checks_the_config_and_folders_only() {
    let job = offline_job();
    let stdout = check(&job, &["--offline"], 0).await;
    assert!(line(&stdout, "graph").contains("skipped"), "{stdout}");
    assert!(line(&stdout, "smtp").contains("skipped"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_config_is_the_only_line_and_exits_2() {
    let job = Job::new("[digest]\nwindow_days = \"sixty\"\n", "");
    let stdout = check(&job, &[], 2).await;
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(line(&stdout, "config").starts_with("FAIL"), "{stdout}");
}
