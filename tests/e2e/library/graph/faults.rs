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

/// A fault the collector gets over, and what it costs: the pages collected, the requests tried
/// again and the page requests the fake saw (`None` where the row does not say).
struct Overcome {
    row: &'static str,
    alerts: usize,
    fault: Fault,
    request_timeout: Duration,
    pages: Option<usize>,
    retries: Option<u64>,
    page_requests: Option<usize>,
}

#[tokio::test(flavor = "multi_thread")]
async fn b6_b7_b11_faults_the_collector_gets_over_lose_and_double_no_page() {
    let cases = [
        Overcome {
            row: "B6: a reset before the headers retries that page",
            alerts: 250,
            fault: Fault::new(1, 0, Action::ResetBeforeHeaders),
            request_timeout: Duration::from_secs(5),
            pages: Some(3),
            retries: Some(1),
            page_requests: None,
        },
        Overcome {
            row: "B6, B7: a truncated body is never parsed and the page is fetched again",
            alerts: 250,
            fault: Fault::new(2, 0, Action::TruncatedBody),
            request_timeout: Duration::from_secs(5),
            pages: None,
            retries: Some(1),
            page_requests: Some(4),
        },
        Overcome {
            row: "B7: a stalled answer times out and is retried",
            alerts: 150,
            fault: Fault::new(0, 0, Action::Stall),
            request_timeout: Duration::from_millis(500),
            pages: None,
            retries: Some(1),
            page_requests: None,
        },
        Overcome {
            row: "B11: an empty page with a next link is followed",
            alerts: 250,
            fault: Fault::new(1, 0, Action::EmptyPageWithNext),
            request_timeout: Duration::from_secs(5),
            pages: Some(4),
            retries: None,
            page_requests: None,
        },
    ];
    for case in cases {
        let row = case.row;
        let fake = fake(case.alerts, vec![case.fault]).await;
        let collected = collect(&fake, case.request_timeout).await.unwrap();
        assert_eq!(
            collected.alerts.len(),
            case.alerts,
            "{row}: no page lost or doubled"
        );
        assert!(collected.set_aside.is_empty(), "{row}");
        if let Some(pages) = case.pages {
            assert_eq!(collected.pages, pages, "{row}");
        }
        if let Some(retries) = case.retries {
            assert_eq!(collected.retries, retries, "{row}");
        }
        if let Some(requests) = case.page_requests {
            assert_eq!(fake.page_requests(), requests, "{row}");
        }
    }
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
