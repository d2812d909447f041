//! Rows B1–B5, B13, P3 and P4: throttling, transient failures, token refresh, deadlines.
//! Waits are recorded by the collector's sleeper, not slept.

use std::time::Duration;

use serde_json::json;
use wiremock::ResponseTemplate;

use super::{Harness, alerts_request, ids, page, page_request};
use crate::support::assert_mentions;
use csp_alert_digest::source::graph::GraphError;

/// Answers `responses` in order to the first page, then the page itself.
async fn first_page_after(h: &Harness, responses: Vec<ResponseTemplate>) {
    for response in responses {
        page_request(None)
            .respond_with(response)
            .up_to_n_times(1)
            .mount(&h.server)
            .await;
    }
    h.first_page(page(&["a"], None)).await;
}

fn status(code: u16) -> ResponseTemplate {
    ResponseTemplate::new(code)
}

#[tokio::test]
async fn b1_429_with_retry_after_7_waits_7_seconds_then_succeeds() {
    let h = Harness::with_token().await;
    first_page_after(&h, vec![status(429).insert_header("Retry-After", "7")]).await;
    let collected = h.collect().await.unwrap();
    assert_eq!(ids(&collected), ["a"]);
    assert_eq!(h.waits(), [Duration::from_secs(7)]);
    assert_eq!(collected.retries, 1);
}

#[tokio::test]
async fn b2_retry_after_as_an_http_date_is_honoured() {
    let h = Harness::with_token().await;
    let at = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(42));
    first_page_after(
        &h,
        vec![status(503).insert_header("Retry-After", at.as_str())],
    )
    .await;
    h.collect().await.unwrap();
    let waits = h.waits();
    assert_eq!(waits.len(), 1);
    assert!(
        waits[0] >= Duration::from_secs(40) && waits[0] <= Duration::from_secs(42),
        "{waits:?}"
    );
}

#[tokio::test]
async fn b2_retry_after_zero_missing_or_garbage_falls_back_to_backoff() {
    let h = Harness::with_token().await;
    first_page_after(
        &h,
        vec![
            status(429).insert_header("Retry-After", "0"),
            status(429),
            status(429).insert_header("Retry-After", "soon-ish"),
        ],
    )
    .await;
    h.collect().await.unwrap();
    let waits = h.waits();
    assert_eq!(waits[0], Duration::ZERO, "0 means now");
    // backoff steps of 1 s then 2 s (attempts 2 and 3), with equal jitter: at least half
    assert!(
        waits[1] >= Duration::from_secs(1) && waits[1] <= Duration::from_secs(2),
        "{waits:?}"
    );
    assert!(
        waits[2] >= Duration::from_secs(2) && waits[2] <= Duration::from_secs(4),
        "{waits:?}"
    );
}

#[tokio::test]
async fn b2_a_retry_after_above_the_cap_fails_fast_with_a_clear_message() {
    let mut h = Harness::with_token().await;
    h.config.max_retry_after = Duration::from_secs(60);
    first_page_after(&h, vec![status(429).insert_header("Retry-After", "3600")]).await;
    let err = h.collect().await.unwrap_err();
    assert!(matches!(err, GraphError::WaitTooLong { .. }), "{err}");
    assert!(!err.is_permanent());
    let message = err.to_string();
    assert_mentions(&message, &["3600 s", "max_retry_after_secs = 60"]);
    assert!(h.waits().is_empty(), "no wait at all");
}

#[tokio::test]
async fn b3_503_503_504_then_200_succeeds_after_three_retries() {
    let h = Harness::with_token().await;
    first_page_after(&h, vec![status(503), status(503), status(504)]).await;
    let collected = h.collect().await.unwrap();
    assert_eq!(ids(&collected), ["a"]);
    assert_eq!(collected.retries, 3);
    assert_eq!(h.waits().len(), 3);
}

#[tokio::test]
async fn b4_persistent_500_502_507_give_up_after_a_bounded_few_attempts() {
    for code in [500, 502, 507] {
        let h = Harness::with_token().await;
        h.every_page(status(code), 3).await;
        let err = h.gives_up_after(3).await;
        assert!(err.to_string().contains(&format!("HTTP {code}")), "{err}");
    }
}

#[tokio::test]
async fn p3_throttling_is_bounded_by_max_attempts() {
    let mut h = Harness::with_token().await;
    h.config.max_attempts = 4;
    h.every_page(status(429).insert_header("Retry-After", "1"), 4)
        .await;
    h.gives_up_after(4).await;
}

#[tokio::test]
async fn b5_an_expired_token_on_page_3_is_refreshed_once_and_the_same_page_requested_again() {
    let h = Harness::with_token().await;
    h.first_page(page(&["a"], Some(&h.link("2")))).await;
    h.page_at("2", page(&["b"], Some(&h.link("3")))).await;
    page_request(Some("3"))
        .respond_with(status(401).set_body_json(json!({
            "error": {"code": "InvalidAuthenticationToken", "message": "Lifetime validation failed, the token is expired."}
        })))
        .up_to_n_times(1)
        .mount(&h.server)
        .await;
    h.page_at("3", page(&["c"], None)).await;
    let collected = h.collect().await.unwrap();
    assert_eq!(ids(&collected), ["a", "b", "c"], "no page lost or doubled");
    assert_eq!(collected.pages, 3);
    assert_eq!(h.token_requests().await, 2, "one refresh");
    let requests = h.page_requests().await;
    assert_eq!(requests.len(), 4);
    assert_eq!(requests[2].url, requests[3].url, "the same nextLink again");
}

#[tokio::test]
async fn b5_a_token_rejected_twice_is_a_permanent_error() {
    let h = Harness::with_token().await;
    h.every_page(status(401).set_body_json(json!({
            "error": {"code": "InvalidAuthenticationToken", "message": "Access token validation failure."}
        })), 2).await;
    let err = h.collect().await.unwrap_err();
    assert!(matches!(err, GraphError::Unauthorized { .. }), "{err}");
    assert!(err.is_permanent());
}

#[tokio::test]
async fn b13_a_response_slower_than_the_request_timeout_is_retried_then_fails() {
    let mut h = Harness::with_token().await;
    h.config.request_timeout = Duration::from_millis(200);
    h.every_page(page(&["a"], None).set_delay(Duration::from_secs(2)), 3)
        .await;
    let err = h.collect().await.unwrap_err();
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(!err.is_permanent());
}

#[tokio::test]
async fn p3_the_run_deadline_stops_a_collection_that_takes_too_long() {
    let mut h = Harness::with_token().await;
    h.config.deadline = Duration::from_millis(300);
    alerts_request()
        .respond_with(page(&["a"], None).set_delay(Duration::from_secs(3)))
        .mount(&h.server)
        .await;
    let started = std::time::Instant::now();
    let err = h.collect().await.unwrap_err();
    assert!(matches!(err, GraphError::Deadline(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.to_string().contains("deadline_secs"));
}
