//! Rows B8–B12, B14–B16, C1, C7 and P6: following nextLink to the end, safely.

use serde_json::json;
use wiremock::matchers::query_param;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{ALERTS, Harness, alerts_request, ids, page};
use crate::support::assert_mentions;
use crate::support::graph::refuse_server_filter;
use csp_alert_digest::source::graph::GraphError;

/// A server that must never be asked anything: where a redirect or a foreign link would lead.
async fn never_asked() -> MockServer {
    let elsewhere = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(page(&["stolen"], None))
        .expect(0)
        .mount(&elsewhere)
        .await;
    elsewhere
}

#[tokio::test]
async fn every_page_is_followed_to_the_end_and_counted() {
    let h = Harness::with_token().await;
    h.first_page(page(&["a", "b"], Some(&h.link("2")))).await;
    h.page_at("2", page(&["c"], Some(&h.link("3")))).await;
    h.page_at("3", page(&["d"], None)).await;
    let collected = h.collect().await.unwrap();
    assert_eq!(ids(&collected), ["a", "b", "c", "d"]);
    assert_eq!(collected.pages, 3);
    assert!(collected.bytes > 0);
}

#[tokio::test]
async fn b8_a_next_link_to_the_current_page_is_a_loop() {
    let h = Harness::with_token().await;
    h.first_page(page(&["a"], Some(&h.link("2")))).await;
    h.page_at("2", page(&["b"], Some(&h.link("2")))).await;
    let err = h.collect().await.unwrap_err();
    assert!(err.to_string().contains("paging loop"), "{err}");
    assert!(!err.is_permanent());
}

#[tokio::test]
async fn b8_an_a_b_a_cycle_is_a_loop() {
    let h = Harness::with_token().await;
    h.first_page(page(&["a"], Some(&h.link("A")))).await;
    h.page_at("A", page(&["b"], Some(&h.link("B")))).await;
    h.page_at("B", page(&["c"], Some(&h.link("A")))).await;
    let err = h.collect().await.unwrap_err();
    assert!(err.to_string().contains("paging loop"), "{err}");
    assert_eq!(h.page_requests().await.len(), 3);
}

#[tokio::test]
async fn b8_more_pages_than_the_cap_fail_the_run() {
    let mut h = Harness::with_token().await;
    h.config.max_pages = 3;
    h.first_page(page(&["a"], Some(&h.link("1")))).await;
    for n in 1..10 {
        h.page_at(
            &n.to_string(),
            page(&["x"], Some(&h.link(&(n + 1).to_string()))),
        )
        .await;
    }
    let err = h.collect().await.unwrap_err();
    assert!(err.to_string().contains("max_pages = 3"), "{err}");
    assert!(err.is_permanent(), "a limit the config sets: exit 2");
    assert_eq!(h.page_requests().await.len(), 3);
}

#[tokio::test]
async fn b9_a_next_link_to_another_host_is_refused_and_the_token_never_goes_there() {
    let elsewhere = never_asked().await;
    let h = Harness::with_token().await;
    let foreign = format!("{}{ALERTS}?$skiptoken=2", elsewhere.uri());
    h.first_page(page(&["a"], Some(&foreign))).await;
    let err = h.collect().await.unwrap_err();
    assert!(
        err.to_string().contains("refusing @odata.nextLink"),
        "{err}"
    );
}

#[tokio::test]
async fn b9_a_next_link_with_another_scheme_or_user_info_is_refused() {
    let h = Harness::with_token().await;
    let uri = h.server.uri();
    let https = uri.replacen("http://", "https://", 1);
    let userinfo = uri.replacen("http://", "http://user:pass@", 1);
    for (token, bad) in [("s", https), ("u", userinfo)] {
        let h2 = Harness::with_token().await;
        let link = format!("{bad}{ALERTS}?$skiptoken={token}");
        let link = link.replace(&uri, &h2.server.uri());
        let link = if token == "s" {
            link.replacen("http://", "https://", 1)
        } else {
            link
        };
        h2.first_page(page(&["a"], Some(&link))).await;
        let err = h2.collect().await.unwrap_err();
        assert!(
            err.to_string().contains("refusing @odata.nextLink"),
            "{token}: {err}"
        );
        assert_eq!(h2.page_requests().await.len(), 1);
    }
}

#[tokio::test]
async fn b10_next_links_are_requested_verbatim() {
    let h = Harness::with_token().await;
    let token = format!("a%2Bb+c%3D%3D{}", "x".repeat(8 * 1024));
    let link = format!("{}{ALERTS}?$skiptoken={token}", h.server.uri());
    h.first_page(page(&["a"], Some(&link))).await;
    alerts_request()
        .and(query_param(
            "$skiptoken",
            format!("a+b c=={}", "x".repeat(8 * 1024)),
        ))
        .respond_with(page(&["b"], None))
        .mount(&h.server)
        .await;
    let collected = h.collect().await.unwrap();
    assert_eq!(ids(&collected), ["a", "b"]);
    let requests = h.page_requests().await;
    assert_eq!(
        requests[1].url.query().unwrap(),
        format!("$skiptoken={token}"),
        "not re-encoded"
    );
}

#[tokio::test]
async fn b11_an_empty_page_with_a_next_link_continues_and_a_null_link_ends() {
    let h = Harness::with_token().await;
    h.first_page(page(&[], Some(&h.link("2")))).await;
    h.page_at(
        "2",
        ResponseTemplate::new(200).set_body_json(json!({
            "value": [super::alert("b")], "@odata.nextLink": null
        })),
    )
    .await;
    let collected = h.collect().await.unwrap();
    assert_eq!(ids(&collected), ["b"]);
    assert_eq!(collected.pages, 2);
}

#[tokio::test]
async fn b12_a_page_above_the_size_cap_is_a_clear_error() {
    let mut h = Harness::with_token().await;
    h.config.max_page_bytes = 10_000;
    let big: Vec<String> = (0..200).map(|i| format!("alert-{i:04}")).collect();
    let big: Vec<&str> = big.iter().map(String::as_str).collect();
    h.first_page(page(&big, None)).await;
    let err = h.collect().await.unwrap_err();
    assert!(
        matches!(err, GraphError::TooLarge { limit: 10_000, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("max_page_bytes"));
}

#[tokio::test]
async fn b14_a_redirect_is_not_followed() {
    let elsewhere = never_asked().await;
    let h = Harness::with_token().await;
    h.first_page(
        ResponseTemplate::new(302)
            .insert_header("Location", format!("{}{ALERTS}", elsewhere.uri())),
    )
    .await;
    let err = h.collect().await.unwrap_err();
    assert!(err.to_string().contains("302"), "{err}");
}

#[tokio::test]
async fn b15_an_html_page_is_an_error_with_a_short_excerpt() {
    let h = Harness::with_token().await;
    let html = format!(
        "<html><body>Proxy authentication required {}</body></html>",
        "x".repeat(50_000)
    );
    h.first_page(ResponseTemplate::new(200).set_body_raw(html, "text/html"))
        .await;
    let err = h.collect().await.unwrap_err().to_string();
    assert_mentions(&err, &["expected JSON", "Proxy authentication required"]);
    assert!(
        err.len() < 500,
        "the excerpt is capped: {} bytes",
        err.len()
    );
}

#[tokio::test]
async fn b16_a_refused_server_filter_is_retried_once_without_it() {
    let mut h = Harness::with_token().await;
    h.config.server_filter = true;
    refuse_server_filter(&h.server).await;
    h.first_page(page(&["a"], None)).await;
    let collected = h.collect().await.unwrap();
    assert_eq!(ids(&collected), ["a"]);
}

#[tokio::test]
async fn b16_the_server_filter_is_sent_when_enabled() {
    let mut h = Harness::with_token().await;
    h.config.server_filter = true;
    h.collect_one_page_for(alerts_request().and(query_param("$filter", "status ne 'resolved'")))
        .await;
}

#[tokio::test]
async fn c1_a_malformed_page_names_the_page_and_byte_offset() {
    let h = Harness::with_token().await;
    h.first_page(page(&["a"], Some(&h.link("2")))).await;
    h.page_at(
        "2",
        ResponseTemplate::new(200)
            .set_body_raw("{\"value\": [ {\"id\": \"x\",, } ]}", "application/json"),
    )
    .await;
    let err = h.collect().await.unwrap_err().to_string();
    assert_mentions(&err, &["page 2", "byte offset"]);
}

#[tokio::test]
async fn c7_the_same_alert_on_two_pages_is_collected_twice_and_counted_once_by_the_digest() {
    let h = Harness::with_token().await;
    h.first_page(page(&["dup-1", "a"], Some(&h.link("2"))))
        .await;
    h.page_at("2", page(&["DUP-1"], None)).await;
    let collected = h.collect().await.unwrap();
    assert_eq!(collected.alerts.len(), 3);
    let as_of = "2026-11-29T07:00:00Z".parse().unwrap();
    let digest = csp_alert_digest::digest::build(
        collected.alerts,
        as_of,
        csp_alert_digest::digest::Rules {
            window_days: 60,
            include_test_alerts: false,
            timezone: chrono_tz::UTC,
        },
    );
    assert_eq!(digest.alerts.len(), 2);
    assert_eq!(digest.selection.duplicates, 1);
}

#[tokio::test]
async fn p6_page_3_of_5_failing_for_good_fails_the_whole_collection() {
    let h = Harness::with_token().await;
    h.first_page(page(&["a"], Some(&h.link("2")))).await;
    h.page_at("2", page(&["b"], Some(&h.link("3")))).await;
    h.page_at("3", ResponseTemplate::new(500)).await;
    h.page_at("4", page(&["d"], Some(&h.link("5")))).await;
    let err = h.collect().await.unwrap_err();
    assert!(matches!(err, GraphError::Exhausted { .. }), "{err}");
    assert!(!err.is_permanent(), "a server error is transient: exit 3");
    let requested: Vec<String> = h
        .page_requests()
        .await
        .iter()
        .map(|r| r.url.query().unwrap_or("").to_owned())
        .collect();
    assert!(
        !requested.iter().any(|q| q.contains("=4")),
        "stopped at page 3: {requested:?}"
    );
}
