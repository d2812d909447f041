//! The binary with `[source] kind = "graph"`: exit codes, the summary line, and secrets that
//! never show (rows A6, A1; H1 in full is canary.rs); and ten thousand alerts from the fake Graph
//! service over a hundred pages, counted against the generator's ground truth.

use chrono::{DateTime, Utc};
use serde_json::json;
use testkit::{Action, FakeGraph, Fault, Options, truth_of};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::graph::{ALERTS, alert, refuse_server_filter, token_answer, token_server};
use crate::support::leaks::leaks;
use crate::support::{AS_OF, Job, read_csv, stderr};

const SECRET: &str = "Canary-Secret-&=+%-c4n4ry";
const TOKEN: &str = "canary.access.token.5ecr3t";

/// A Graph config for `uri` with `extra` `[source]` lines.
fn graph_config(uri: &str, extra: &str) -> String {
    crate::support::graph::config(uri)
        .lines("source", extra)
        .to_string()
}

/// A token server whose alerts endpoint answers `alerts` to every request.
async fn server_with(alerts: ResponseTemplate) -> MockServer {
    let server = token_server(TOKEN).await;
    Mock::given(method("GET"))
        .and(path(ALERTS))
        .respond_with(alerts)
        .mount(&server)
        .await;
    server
}

/// Runs the job with [`SECRET`] (and `env`) in its environment and asserts it exits with
/// `code`; returns its log.
fn run(job: &Job, env: &[(&str, &str)], code: i32) -> String {
    let env = [&[("CSP_DIGEST_CLIENT_SECRET", SECRET)], env].concat();
    let output = job.run_with(&[], &env);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(code), "{log}");
    log
}

#[tokio::test(flavor = "multi_thread")]
async fn a_graph_source_collects_and_reports_pages_retries_and_bytes() {
    let server = server_with(ResponseTemplate::new(200).set_body_json(json!({
        "value": [alert("a"), alert("b")]
    })))
    .await;
    let job = Job::new(&graph_config(&server.uri(), ""), "");
    let log = run(&job, &[], 0);
    for field in ["pages=1", "retries=0", "read=2", "in_window=2", "bytes="] {
        assert!(log.contains(field), "{field} in {log}");
    }
    assert!(job.day("2026-11-29").join("alerts.csv").is_file());
}

#[tokio::test(flavor = "multi_thread")]
async fn a6_forbidden_exits_2_naming_the_permission_and_writes_nothing() {
    let server = server_with(ResponseTemplate::new(403)).await;
    let job = Job::new(&graph_config(&server.uri(), ""), "");
    let log = run(&job, &[], 2);
    assert!(log.contains("PartnerSecurity.Read.All"), "{log}");
    assert!(
        !job.path().join("out").exists(),
        "no digest from a failed collection"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_that_stays_unavailable_exits_3() {
    let server = server_with(ResponseTemplate::new(503).insert_header("Retry-After", "0")).await;
    let job = Job::new(&graph_config(&server.uri(), "max_attempts = 3"), "");
    let log = run(&job, &[], 3);
    assert!(log.contains("gave up after 3 attempts"), "{log}");
    assert_eq!(
        log.matches("retrying").count(),
        2,
        "each retry logged once: {log}"
    );
    assert!(!job.path().join("out").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a1_a_rejected_secret_exits_2_without_echoing_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error":"invalid_client",
            "error_description":"AADSTS7000215: Invalid client secret provided.",
            "error_codes":[7000215]
        })))
        .mount(&server)
        .await;
    let job = Job::new(&graph_config(&server.uri(), ""), "");
    let log = run(&job, &[("CSP_DIGEST_LOG", "trace")], 2);
    assert!(log.contains("AADSTS7000215"), "{log}");
    assert_eq!(leaks(log.as_bytes(), SECRET), Vec::<&str>::new());
}

#[test]
fn graph_config_errors_name_the_key() {
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "graph_url = \"http://graph.example\"\n",
            "",
            &["source.graph_url", "https"],
        ),
        ("", "bogus_key = 1\n", &["bogus_key"]),
        (
            "",
            "client_secret_file = \"s\"\nfederated_token_file = \"f\"\n",
            &["not both"],
        ),
        (
            "",
            "client_secret_file = \"missing-secret\"\n",
            &["source.client_secret_file", "missing-secret"],
        ),
        (
            "",
            "",
            &[
                "no credential",
                "CSP_DIGEST_CLIENT_SECRET",
                "AZURE_FEDERATED_TOKEN_FILE",
            ],
        ),
    ];
    for (replace_url, extra, expected) in cases {
        let config = crate::support::graph::config("https://graph.example")
            .lines("source", replace_url)
            .lines("source", extra);
        let job = Job::new(&config.to_string(), "");
        let no_credential = expected.contains(&"no credential");
        let env: &[(&str, &str)] = if no_credential {
            &[]
        } else {
            &[("CSP_DIGEST_CLIENT_SECRET", SECRET)]
        };
        let output = job.run_with(&[], env);
        let log = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{log}");
        for needle in expected {
            assert!(log.contains(needle), "{needle:?} in {log}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_secret_file_is_read_with_its_trailing_newline_dropped() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::body_string_contains(
            "client_secret=from-file",
        ))
        .respond_with(token_answer(TOKEN, &json!(3599)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .mount(&server)
        .await;
    let job = Job::new(
        &graph_config(&server.uri(), "client_secret_file = \"secret.txt\""),
        "",
    );
    std::fs::write(job.path().join("secret.txt"), "from-file\n").unwrap();
    let output = job.run_with(&[], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let requests = server.received_requests().await.unwrap();
    let token_request = requests
        .iter()
        .find(|r| r.method.as_str() == "POST")
        .unwrap();
    let body = String::from_utf8_lossy(&token_request.body);
    let secret = body
        .split('&')
        .find(|kv| kv.starts_with("client_secret="))
        .unwrap();
    assert_eq!(secret, "client_secret=from-file", "no newline sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_page_asked_for_ahead_is_the_one_used_and_a_rerun_collects_nothing() {
    // The token and the first page are asked for while the ledger opens (source::Setup).
    let server =
        server_with(ResponseTemplate::new(200).set_body_json(json!({"value": [alert("a")]}))).await;
    let job = Job::new(&graph_config(&server.uri(), ""), "");
    run(&job, &[], 0);
    let count = |requests: &[wiremock::Request], verb: &str| {
        requests
            .iter()
            .filter(|r| r.method.as_str() == verb)
            .count()
    };
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        (count(&requests, "POST"), count(&requests, "GET")),
        (1, 1),
        "one token and one page, each asked for once"
    );

    // The day's digest is prepared: a rerun collects nothing (the first page may have been
    // asked for ahead; it is thrown away).
    let log = run(&job, &[], 0);
    assert!(log.contains("already prepared"), "{log}");
    assert!(!log.contains("collected from Microsoft Graph"), "{log}");
    let requests = server.received_requests().await.unwrap();
    assert!(count(&requests, "GET") <= 2, "{requests:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_filter_refused_on_the_page_asked_for_ahead_is_dropped_for_the_collection() {
    use wiremock::matchers::query_param_is_missing;
    let server = token_server(TOKEN).await;
    refuse_server_filter(&server).await;
    Mock::given(method("GET"))
        .and(path(ALERTS))
        .and(query_param_is_missing("$filter"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [alert("a")]})))
        .expect(1)
        .mount(&server)
        .await;
    let job = Job::new(&graph_config(&server.uri(), "server_filter = true"), "");
    let log = run(&job, &[], 0);
    assert!(log.contains("refused the server-side filter"), "{log}");
    assert!(log.contains("read=1"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_turned_away_by_the_lock_asks_the_service_for_nothing() {
    let server =
        server_with(ResponseTemplate::new(200).set_body_json(json!({"value": [alert("a")]}))).await;
    let job = Job::new(&graph_config(&server.uri(), ""), "");
    let held = csp_alert_digest::ledger::State::open(&job.path().join("state")).unwrap();
    run(&job, &[], 5);
    drop(held);
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_digests_ten_thousand_alerts_over_a_hundred_pages_as_the_generator_says() {
    let opts = Options {
        alerts: 10_000,
        page_size: 100,
        faults: vec![Fault::new(37, 0, Action::status(503, Some("0")))],
        ..Options::default()
    };
    let as_of: DateTime<Utc> = AS_OF.parse().unwrap();
    let truth = truth_of(&opts, as_of, 60, false);
    let secret = opts.client_secret.clone();
    let fake = FakeGraph::start(opts).await;
    let job = Job::new(&fake.config().to_string(), "");
    let output = job.run_with(&[], &[("CSP_DIGEST_CLIENT_SECRET", &secret)]);
    let log = stderr(&output);
    assert!(output.status.success(), "{log}");
    for field in [
        "pages=100".to_owned(),
        "retries=1".to_owned(),
        format!("read={}", truth.total),
        format!("resolved={}", truth.resolved),
        format!("test={}", truth.test),
        format!("in_window={}", truth.unresolved_in_window),
        format!("older_than_window={}", truth.unresolved_older),
        format!("customers={}", truth.customers_in_window),
        format!("subscriptions={}", truth.subscriptions_in_window),
        format!("partners={}", truth.partners_in_window),
        "duplicates=0".to_owned(),
        "set_aside=0".to_owned(),
    ] {
        assert!(log.contains(&format!(" {field} ")), "{field} in {log}");
    }
    let (_, rows) = read_csv(&job.day("2026-11-29").join("alerts.csv"));
    assert_eq!(rows.len(), truth.unresolved_in_window);
    assert_eq!(fake.token_requests(), 1);
}
