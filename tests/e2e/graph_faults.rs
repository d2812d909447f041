//! The collector against the fake Graph service, for what wiremock cannot do: resets, truncated
//! and stalled bodies (rows B6, B7, B13), and a whole run of the binary over many pages checked
//! against the generator's ground truth.

use std::time::Duration;

use chrono::{DateTime, Utc};
use csp_alert_digest::config::{Credential, GraphConfig};
use csp_alert_digest::retry::{RetryPolicy, Sleeper};
use csp_alert_digest::source::Collected;
use csp_alert_digest::source::graph::{self, GraphError, Http, HttpSettings};
use secrecy::SecretString;

use crate::harness::{AS_OF, Job, read_csv, run_binary, stderr};
use testkit::{Action, FakeGraph, Fault, Options, truth_of};

fn options(alerts: usize, page_size: usize, faults: Vec<Fault>) -> Options {
    Options {
        alerts,
        page_size,
        faults,
        ..Options::default()
    }
}

async fn collect(fake: &FakeGraph, request_timeout: Duration) -> Result<Collected, GraphError> {
    let url = reqwest::Url::parse(&fake.base_url()).unwrap();
    let defaults = Options::default();
    let config = GraphConfig {
        tenant_id: defaults.tenant_id,
        client_id: defaults.client_id,
        credential: Credential::Secret(SecretString::from(defaults.client_secret)),
        graph_url: url.clone(),
        login_url: url,
        server_filter: false,
        request_timeout,
        deadline: Duration::from_secs(60),
        max_pages: 1000,
        max_page_bytes: 16 * 1024 * 1024,
        max_attempts: 6,
        max_retry_after: Duration::from_secs(300),
    };
    let http = Http::new(HttpSettings {
        request_timeout,
        max_body: config.max_page_bytes,
        policy: RetryPolicy::default(),
        sleeper: Sleeper::Record(std::sync::Arc::default()),
        jitter: Some(1),
    })
    .unwrap();
    graph::collect(&config, &http).await
}

#[tokio::test(flavor = "multi_thread")]
async fn b6_a_reset_before_the_headers_retries_that_page() {
    let fake = FakeGraph::start(options(
        250,
        100,
        vec![Fault::new(1, 0, Action::ResetBeforeHeaders)],
    ))
    .await;
    let collected = collect(&fake, Duration::from_secs(5)).await.unwrap();
    assert_eq!(collected.alerts.len(), 250);
    assert_eq!(collected.pages, 3);
    assert_eq!(collected.retries, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn b6_b7_a_truncated_body_is_never_parsed_and_the_page_is_fetched_again() {
    let fake = FakeGraph::start(options(
        250,
        100,
        vec![Fault::new(2, 0, Action::TruncatedBody)],
    ))
    .await;
    let collected = collect(&fake, Duration::from_secs(5)).await.unwrap();
    assert_eq!(collected.alerts.len(), 250, "no page lost or doubled");
    assert!(collected.set_aside.is_empty());
    assert_eq!(collected.retries, 1);
    assert_eq!(fake.page_requests(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn b7_a_stalled_answer_times_out_and_is_retried() {
    let fake = FakeGraph::start(options(150, 100, vec![Fault::new(0, 0, Action::Stall)])).await;
    let collected = collect(&fake, Duration::from_millis(500)).await.unwrap();
    assert_eq!(collected.alerts.len(), 150);
    assert_eq!(collected.retries, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn b13_a_server_sending_one_byte_per_second_hits_the_request_timeout() {
    let faults = (0..3)
        .map(|attempt| {
            Fault::new(
                0,
                attempt,
                Action::SlowBody {
                    bytes_per_second: 1,
                },
            )
        })
        .collect();
    let fake = FakeGraph::start(options(150, 100, faults)).await;
    let started = std::time::Instant::now();
    let err = collect(&fake, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(
        matches!(err, GraphError::Exhausted { attempts: 3, .. }),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn b11_an_empty_page_with_a_next_link_is_followed() {
    let fake = FakeGraph::start(options(
        250,
        100,
        vec![Fault::new(1, 0, Action::EmptyPageWithNext)],
    ))
    .await;
    let collected = collect(&fake, Duration::from_secs(5)).await.unwrap();
    assert_eq!(collected.alerts.len(), 250);
    assert_eq!(collected.pages, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_digests_ten_thousand_alerts_over_a_hundred_pages_as_the_generator_says() {
    let opts = options(
        10_000,
        100,
        vec![Fault::new(37, 0, Action::status(503, Some("0")))],
    );
    let as_of: DateTime<Utc> = AS_OF.parse().unwrap();
    let truth = truth_of(&opts, as_of, 60, false);
    let secret = opts.client_secret.clone();
    let fake = FakeGraph::start(opts).await;
    let config = format!(
        r#"
[digest]
output_dir = "out"

[source]
kind = "graph"
tenant_id = "tenant"
client_id = "client"
graph_url = "{uri}"
login_url = "{uri}"

[mail]
from = "digest@partner.example"
to = ["secops@partner.example"]
"#,
        uri = fake.base_url()
    );
    let job = Job::new(&config, "");
    let config_path = job.config();
    let output = run_binary(
        &[
            "run",
            "--config",
            config_path.to_str().unwrap(),
            "--as-of",
            AS_OF,
        ],
        &[("CSP_DIGEST_CLIENT_SECRET", &secret)],
    );
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
