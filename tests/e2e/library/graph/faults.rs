//! The collector against the fake Graph service, for what wiremock cannot do: resets, truncated
//! and stalled bodies (rows B6, B7, B13). A whole run of the binary over many pages is in
//! `binary/graph.rs`.

use std::sync::Arc;
use std::time::Duration;

use csp_alert_digest::retry::RetryPolicy;
use csp_alert_digest::source::Collected;
use csp_alert_digest::source::graph::GraphConfig;
use csp_alert_digest::source::graph::{self, GraphError};
use testkit::{Action, FakeGraph, Fault, Options};

use crate::support::graph::{recording_http, settings};

/// The fake with `alerts` alerts in pages of 100 and these faults.
async fn fake(alerts: usize, faults: Vec<Fault>) -> FakeGraph {
    FakeGraph::start(Options {
        alerts,
        page_size: 100,
        faults,
        ..Options::default()
    })
    .await
}

async fn collect(fake: &FakeGraph, request_timeout: Duration) -> Result<Collected, GraphError> {
    let o = Options::default();
    let config = GraphConfig {
        request_timeout,
        deadline: Duration::from_secs(60),
        max_pages: 1000,
        max_page_bytes: 16 * 1024 * 1024,
        ..settings(
            &fake.base_url(),
            &o.tenant_id,
            &o.client_id,
            &o.client_secret,
        )
    };
    let http = recording_http(&config, RetryPolicy::default(), &Arc::default(), 1);
    graph::collect(&config, &http).await
}

#[tokio::test(flavor = "multi_thread")]
async fn b6_a_reset_before_the_headers_retries_that_page() {
    let fake = fake(250, vec![Fault::new(1, 0, Action::ResetBeforeHeaders)]).await;
    let collected = collect(&fake, Duration::from_secs(5)).await.unwrap();
    assert_eq!(collected.alerts.len(), 250);
    assert_eq!(collected.pages, 3);
    assert_eq!(collected.retries, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn b6_b7_a_truncated_body_is_never_parsed_and_the_page_is_fetched_again() {
    let fake = fake(250, vec![Fault::new(2, 0, Action::TruncatedBody)]).await;
    let collected = collect(&fake, Duration::from_secs(5)).await.unwrap();
    assert_eq!(collected.alerts.len(), 250, "no page lost or doubled");
    assert!(collected.set_aside.is_empty());
    assert_eq!(collected.retries, 1);
    assert_eq!(fake.page_requests(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn b7_a_stalled_answer_times_out_and_is_retried() {
    let fake = fake(150, vec![Fault::new(0, 0, Action::Stall)]).await;
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
    let fake = fake(150, faults).await;
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
    let fake = fake(250, vec![Fault::new(1, 0, Action::EmptyPageWithNext)]).await;
    let collected = collect(&fake, Duration::from_secs(5)).await.unwrap();
    assert_eq!(collected.alerts.len(), 250);
    assert_eq!(collected.pages, 4);
}
