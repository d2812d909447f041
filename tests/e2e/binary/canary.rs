//! Row H1 (promise P8, "no secret in any output"): canary values planted as the Graph client
//! secret, the SMTP password and the access token, with the job driven through its failure paths
//! at the most verbose log level (`CSP_DIGEST_LOG=trace`, text and JSON logs). No canary may
//! show in stdout, stderr, a report, an `.eml` or the ledger: as is, percent- or form-encoded,
//! JSON-escaped, inside any base64 text (at any alignment, as in AUTH PLAIN), or cut short.
//!
//! Some peers here are hostile on purpose: a token endpoint and a Graph endpoint that echo the
//! request (as some proxies' error pages do), and an SMTP relay that quotes the credentials in
//! its refusals. The job repeats what peers say in its errors, so those are the paths where a
//! secret could come back out.

use std::fmt::Write as _;

use testkit::{Action, ConfigToml, FakeGraph, Fault, Options, TOKEN_ENDPOINT};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::graph::mount_token;
use crate::support::interop_smtp::{SmtpServer, interop_python, smtp_config};
use crate::support::leaks::{
    ACCESS_TOKEN, CLIENT_SECRET, SMTP_PASSWORD, assert_no_canary, everything, leaks,
};
use crate::support::{AS_OF, Job};

/// A config reading from Graph at `graph` (both Graph and login base URL), with the file
/// transport.
fn graph_config(graph: &str) -> String {
    ConfigToml::graph(graph, "tenant", "client")
        .mail("from", "Digest <digest@partner.example>")
        .to_string()
}

/// Runs `run` (and `check`, which quotes the same peers) with the canaries in the environment at
/// trace level, in text and JSON logs, and checks every output; returns the exit codes seen.
fn run_everywhere(job: &Job, scenario: &str) -> Vec<Option<i32>> {
    let mut codes = Vec::new();
    for format in ["text", "json"] {
        for (command, args) in [("run", &["--as-of", AS_OF, "--force"][..]), ("check", &[])] {
            let output = job
                .command(command, args)
                .envs([
                    ("CSP_DIGEST_CLIENT_SECRET", CLIENT_SECRET),
                    ("CSP_DIGEST_SMTP_PASSWORD", SMTP_PASSWORD),
                    ("CSP_DIGEST_LOG", "trace"),
                    ("CSP_DIGEST_LOG_FORMAT", format),
                ])
                .output()
                .unwrap();
            let log = String::from_utf8_lossy(&output.stderr);
            assert!(
                command != "run" || log.contains("TRACE") || log.contains("DEBUG"),
                "{scenario}: trace logging is on: {log}"
            );
            assert_no_canary(
                &everything(&output, job.path()),
                &format!("{scenario} ({command} with {format} logs)"),
            );
            if command == "run" {
                codes.push(output.status.code());
            }
        }
    }
    codes
}

/// Answers with `status` and a page that quotes the whole request, headers and body first.
struct Echo(u16);

impl Respond for Echo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut page = format!("{}\n", String::from_utf8_lossy(&request.body));
        for (name, value) in &request.headers {
            let _ = writeln!(page, "{name}: {}", value.to_str().unwrap_or("?"));
        }
        let _ = writeln!(page, "{} {}", request.method, request.url);
        ResponseTemplate::new(self.0).set_body_raw(page, "text/html")
    }
}

fn fake_graph_options(faults: Vec<Fault>) -> Options {
    Options {
        alerts: 20,
        page_size: 10,
        client_secret: CLIENT_SECRET.to_owned(),
        access_token: ACCESS_TOKEN.to_owned(),
        faults,
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn h1_no_canary_leaks_on_the_graph_failure_paths() {
    let always = |page: usize, action: Action| -> Vec<Fault> {
        (0..64)
            .map(|attempt| Fault::new(page, attempt, action.clone()))
            .collect()
    };
    let scenarios: Vec<(&str, Options, i32)> = vec![
        (
            "token rejected (AADSTS7000215)",
            Options {
                client_secret: "the-secret-the-app-really-has".to_owned(),
                ..fake_graph_options(Vec::new())
            },
            2,
        ),
        (
            "token endpoint 500 throughout",
            fake_graph_options(always(TOKEN_ENDPOINT, Action::status(500, None))),
            3,
        ),
        (
            "Graph 401 even with a fresh token",
            fake_graph_options(always(0, Action::status(401, None))),
            2,
        ),
        (
            "Graph 403",
            fake_graph_options(always(0, Action::status(403, None))),
            2,
        ),
        (
            "Graph 500 throughout, on page 2",
            fake_graph_options(always(1, Action::status(500, None))),
            3,
        ),
        (
            "Graph 200 with an HTML proxy page",
            fake_graph_options(always(0, Action::HtmlPage)),
            3,
        ),
        ("collected and written", fake_graph_options(Vec::new()), 0),
    ];
    for (scenario, options, code) in scenarios {
        let graph = FakeGraph::start(options).await;
        let job = Job::new(&graph_config(&graph.base_url()), "");
        let codes = run_everywhere(&job, scenario);
        assert_eq!(codes, [Some(code), Some(code)], "{scenario}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn h1_no_canary_leaks_when_the_token_endpoint_echoes_the_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Echo(400))
        .mount(&server)
        .await;
    let job = Job::new(&graph_config(&server.uri()), "");
    let codes = run_everywhere(&job, "token endpoint echoing the form");
    assert_eq!(codes, [Some(2), Some(2)]);
    let echoed = server.received_requests().await.unwrap();
    let form = String::from_utf8_lossy(&echoed[0].body).into_owned();
    assert!(
        !leaks(form.as_bytes(), CLIENT_SECRET).is_empty(),
        "the echo carried the secret (the test would see a leak): {form}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn h1_no_canary_leaks_when_graph_echoes_the_authorization_header() {
    for (status, code) in [(401, 2), (400, 2), (200, 3)] {
        let server = MockServer::start().await;
        mount_token(&server, "tenant", ACCESS_TOKEN).await;
        Mock::given(method("GET"))
            .respond_with(Echo(status))
            .mount(&server)
            .await;
        let job = Job::new(&graph_config(&server.uri()), "");
        let scenario = format!("Graph {status} echoing the request");
        let codes = run_everywhere(&job, &scenario);
        assert_eq!(codes, [Some(code), Some(code)], "{scenario}");
    }
}

/// The SMTP failure paths need TLS (credentials only ever cross TLS), so a real server:
/// `aiosmtpd` as in `smtp_interop.rs`, here quoting the credentials back. Graph is the fake,
/// collecting normally, so all three canaries are in play.
#[tokio::test(flavor = "multi_thread")]
async fn h1_no_canary_leaks_on_the_smtp_failure_paths() {
    let Some(python) = interop_python() else {
        return;
    };
    let graph = FakeGraph::start(fake_graph_options(Vec::new())).await;
    let scenarios: [(&str, &str, &[&str], i32); 2] = [
        (
            "SMTP AUTH refused (535) quoting the credentials",
            "the-password-the-relay-really-has",
            &["--echo-credentials"],
            2,
        ),
        (
            "SMTP 554 at the end of DATA quoting the password",
            SMTP_PASSWORD,
            &["--refuse-data"],
            4,
        ),
    ];
    for (scenario, password, options, code) in scenarios {
        let server = SmtpServer::start_with(&python, password, options);
        let job = Job::new(&smtp_config(&server, &graph_config(&graph.base_url())), "");
        let codes = run_everywhere(&job, scenario);
        assert_eq!(
            codes,
            [Some(code), Some(code)],
            "{scenario}\n{}",
            server.log()
        );
        assert!(server.messages().is_empty(), "{scenario}: nothing accepted");
    }
}
