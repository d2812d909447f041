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
use std::path::Path;
use std::process::Output;

use base64::Engine as _;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::harness::{AS_OF, Job, run_binary};
use crate::smtp_interop::{SmtpServer, interop_python, smtp_config};
use testkit::{Action, FakeGraph, Fault, Options, TOKEN_ENDPOINT};

/// Planted as the Graph client secret (`CSP_DIGEST_CLIENT_SECRET`); characters that need
/// form-encoding on purpose (row A7).
pub const CLIENT_SECRET: &str = "Canary-Client-Secret &=+%/é-3b1f";
/// Planted as the SMTP password (`CSP_DIGEST_SMTP_PASSWORD`).
pub const SMTP_PASSWORD: &str = "Canary-Smtp-Pa55 &=+%/é-9c2d";
/// Issued by the fake token endpoints as the access token.
pub const ACCESS_TOKEN: &str = "eyJ0eXAiOiJKV1QifQ.Canary-Access-Token-7e4a.c2lnbmF0dXJl";

const CANARIES: [&str; 3] = [CLIENT_SECRET, SMTP_PASSWORD, ACCESS_TOKEN];

/// Leaks of the canary in `haystack`, named by form; empty when there are none.
///
/// Decodes instead of encoding, so the forms it knows are not the job's own list
/// (`csp_alert_digest::redact`): the canary is looked for in the text itself, in the text
/// percent-decoded (URL and form encoding), JSON-unescaped, and in every run of base64
/// characters decoded at each of the four alignments. Its first 16 characters count too, so a
/// secret cut short by an excerpt is still a leak.
pub fn leaks(haystack: &[u8], canary: &str) -> Vec<&'static str> {
    let text = String::from_utf8_lossy(haystack);
    let start: String = canary.chars().take(16).collect();
    let seen = |decoded: &str| decoded.contains(canary) || decoded.contains(&start);
    let mut found = Vec::new();
    if seen(&text) {
        found.push("as is");
    }
    if seen(&percent_decode(&text, false)) {
        found.push("URL-encoded");
    }
    if seen(&percent_decode(&text, true)) {
        found.push("form-encoded");
    }
    if seen(&json_unescape(&text)) {
        found.push("JSON-escaped");
    }
    if base64_runs(&text).any(|decoded| seen(&decoded)) {
        found.push("base64");
    }
    found
}

fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', _) if plus_is_space => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `\"`, `\\`, `\/` and `\uXXXX` undone, wherever they stand.
fn json_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                out.extend(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32));
            }
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Every run of 12 or more base64 characters (either alphabet), decoded from each of its
/// first four positions.
fn base64_runs(text: &str) -> impl Iterator<Item = String> + '_ {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    text.split(|c: char| !(c.is_ascii_alphanumeric() || "+/-_".contains(c)))
        .filter(|run| run.len() >= 12)
        .flat_map(move |run| {
            let run: String = run
                .chars()
                .map(|c| match c {
                    '-' => '+',
                    '_' => '/',
                    c => c,
                })
                .collect();
            (0..4)
                .filter_map(|skip| {
                    let usable = (run.len() - skip) / 4 * 4;
                    engine.decode(&run[skip..skip + usable]).ok()
                })
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .collect::<Vec<_>>()
        })
}

/// stdout, stderr, and every file under `dir` (reports, `.eml` files, the ledger).
pub fn everything(output: &Output, dir: &Path) -> Vec<u8> {
    let mut all = output.stdout.clone();
    all.extend_from_slice(&output.stderr);
    add_files(dir, &mut all);
    all
}

fn add_files(dir: &Path, into: &mut Vec<u8>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            add_files(&path, into);
        } else {
            into.extend(std::fs::read(&path).unwrap());
        }
    }
}

/// Asserts that no canary leaked in `what`.
pub fn assert_no_canary(what: &[u8], scenario: &str) {
    for canary in CANARIES {
        let found = leaks(what, canary);
        assert!(
            found.is_empty(),
            "{scenario}: {canary:?} leaked ({found:?}) in:\n{}",
            String::from_utf8_lossy(what)
        );
    }
}

/// A config reading from Graph at `graph` (both Graph and login base URL) and sending by `mail`:
/// `""` for the file transport.
fn graph_config(graph: &str) -> String {
    format!(
        r#"
[digest]
output_dir = "out"
state_dir = "state"

[source]
kind = "graph"
tenant_id = "tenant"
client_id = "client"
graph_url = "{graph}"
login_url = "{graph}"

[mail]
from = "Digest <digest@partner.example>"
to = ["secops@partner.example"]
"#
    )
}

/// Runs `run` (and `check`, which quotes the same peers) with the canaries in the environment at
/// trace level, in text and JSON logs, and checks every output; returns the exit codes seen.
fn run_everywhere(job: &Job, scenario: &str) -> Vec<Option<i32>> {
    let config = job.config();
    let config = config.to_str().unwrap();
    let mut codes = Vec::new();
    for format in ["text", "json"] {
        for args in [
            &["run", "--config", config, "--as-of", AS_OF, "--force"][..],
            &["check", "--config", config][..],
        ] {
            let output = run_binary(
                args,
                &[
                    ("CSP_DIGEST_CLIENT_SECRET", CLIENT_SECRET),
                    ("CSP_DIGEST_SMTP_PASSWORD", SMTP_PASSWORD),
                    ("CSP_DIGEST_LOG", "trace"),
                    ("CSP_DIGEST_LOG_FORMAT", format),
                ],
            );
            let log = String::from_utf8_lossy(&output.stderr);
            assert!(
                args[0] != "run" || log.contains("TRACE") || log.contains("DEBUG"),
                "{scenario}: trace logging is on: {log}"
            );
            assert_no_canary(
                &everything(&output, job.path()),
                &format!("{scenario} ({} with {format} logs)", args[0]),
            );
            if args[0] == "run" {
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

/// A token endpoint issuing [`ACCESS_TOKEN`] for any request.
async fn token_endpoint(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/tenant/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"token_type":"Bearer","expires_in":3599,"access_token":ACCESS_TOKEN}),
        ))
        .mount(server)
        .await;
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
        token_endpoint(&server).await;
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

#[test]
fn the_leak_detector_sees_every_form() {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let secret = CLIENT_SECRET;
    for text in [
        format!("x {secret} y"),
        "client_secret=Canary-Client-Secret+%26%3D%2B%25%2F%C3%A9-3b1f".to_owned(),
        "s=Canary-Client-Secret%20%26%3d%2b%25%2f%c3%a9-3b1f".to_owned(),
        format!("AUTH PLAIN {}", b64(&format!("\0digest\0{secret}"))),
        format!("Basic {}", b64(&format!("ab:{secret}"))),
        serde_json::to_string(&json!({ "m": secret })).unwrap(),
        format!("excerpt: …{}", &secret[..18]),
    ] {
        assert!(!leaks(text.as_bytes(), secret).is_empty(), "missed: {text}");
    }
    assert!(leaks(b"Canary [redacted] nothing", secret).is_empty());
}
