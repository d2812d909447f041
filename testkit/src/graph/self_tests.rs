//! The fake Graph service's self-tests: what it serves, what it refuses, and its faults.
#![expect(
    clippy::disallowed_methods,
    reason = "the self-tests' client talks to the loopback fake in plain text on purpose"
)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{FakeGraph, JWT_BEARER, Options};
use crate::faults::{Action, Fault, TOKEN_ENDPOINT};
use crate::generate;
use crate::http::{HTML, JSON};

async fn post_token(
    client: &reqwest::Client,
    graph: &FakeGraph,
    credential: &[(&str, &str)],
) -> reqwest::Response {
    let scope = format!("{}/.default", graph.base_url());
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", "client"),
        ("scope", scope.as_str()),
    ];
    form.extend_from_slice(credential);
    client
        .post(graph.token_url())
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn get(client: &reqwest::Client, url: &str, token: &str) -> reqwest::Response {
    client.get(url).bearer_auth(token).send().await.unwrap()
}

/// The fake with `alerts` alerts and these faults (the rest as by default), and a client.
async fn start(alerts: usize, faults: Vec<Fault>) -> (FakeGraph, reqwest::Client) {
    let options = Options {
        alerts,
        faults,
        ..Options::default()
    };
    (FakeGraph::start(options).await, reqwest::Client::new())
}

/// `GET url` with the fake's token, read as JSON.
async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    get(client, url, "fake-token").await.json().await.unwrap()
}

#[tokio::test]
async fn serves_1050_alerts_in_11_pages() {
    let options = Options {
        alerts: 1050,
        ..Options::default()
    };
    let graph = FakeGraph::start(options.clone()).await;
    let client = reqwest::Client::new();

    let answer = post_token(&client, &graph, &[("client_secret", "secret")]).await;
    assert_eq!(answer.status(), 200);
    let token: Value = answer.json().await.unwrap();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3599);
    let token = token["access_token"].as_str().unwrap().to_owned();
    assert_eq!(token, "fake-token");

    let mut served = Vec::new();
    let mut pages = 0;
    let mut url = Some(format!(
        "{}?$filter=status%20ne%20'resolved'",
        graph.alerts_url()
    ));
    while let Some(next) = url {
        let answer = get(&client, &next, &token).await;
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.headers()["content-type"], JSON);
        let page: Value = answer.json().await.unwrap();
        pages += 1;
        served.extend(page["value"].as_array().unwrap().iter().cloned());
        url = page["@odata.nextLink"].as_str().map(str::to_owned);
        if let Some(link) = &url {
            assert!(
                link.starts_with(&graph.alerts_url()) && link.contains("%2B"),
                "{link}"
            );
        }
    }
    assert_eq!(pages, 11);
    assert_eq!(graph.pages(), 11);
    let ids: HashSet<&str> = served.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 1050);
    assert_eq!(served, generate(1050, options.seed, options.reference));

    assert_eq!((graph.token_requests(), graph.page_requests()), (1, 11));
    let requests = graph.requests();
    assert_eq!(requests.len(), 12);
    assert_eq!(requests[0].method, "POST");
    assert!(
        requests[0]
            .form()
            .contains(&("client_secret".into(), "secret".into()))
    );
    assert_eq!(
        requests[2].header("Authorization"),
        Some("Bearer fake-token")
    );
    assert_eq!(
        requests[2].path_and_query,
        graph.page_url(1).replace(&graph.base_url(), "")
    );

    // A client that decodes or re-encodes the skip token is caught.
    for mangled in [
        graph.page_url(1).replace("%2B", "+"),
        graph.page_url(1).replace("%2B", "%252B"),
    ] {
        assert_eq!(get(&client, &mangled, &token).await.status(), 400);
    }
}

#[tokio::test]
async fn token_endpoint_checks_the_credential() {
    let secret = "s&e=c+r%2Bt %ä€😀";
    let graph = FakeGraph::start(Options {
        alerts: 0,
        client_secret: secret.to_owned(),
        token_expires_in: json!("3599"),
        ..Options::default()
    })
    .await;
    let client = reqwest::Client::new();

    let answer = post_token(&client, &graph, &[("client_secret", secret)]).await;
    assert_eq!(answer.status(), 200);
    let token: Value = answer.json().await.unwrap();
    assert_eq!(token["expires_in"], "3599");

    let answer = post_token(&client, &graph, &[("client_secret", "s&e=c+r+t")]).await;
    assert_eq!(answer.status(), 401);
    let error: Value = answer.json().await.unwrap();
    assert_eq!(error["error"], "invalid_client");
    assert!(
        error["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215:")
    );
    assert_eq!(error["error_codes"], json!([7_000_215]));

    let federated = [
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", "eyJ.x.y"),
    ];
    assert_eq!(post_token(&client, &graph, &federated).await.status(), 200);
    let answer = post_token(&client, &graph, &[]).await;
    assert_eq!(answer.status(), 401);
    assert_eq!(graph.token_requests(), 4);
}

#[tokio::test]
async fn alerts_need_the_bearer_token() {
    let (graph, client) = start(10, Vec::new()).await;
    let answer = client.get(graph.alerts_url()).send().await.unwrap();
    assert_eq!(answer.status(), 401);
    let error: Value = answer.json().await.unwrap();
    assert_eq!(error["error"]["code"], "InvalidAuthenticationToken");
    assert_eq!(error["error"]["message"], "Access token is empty.");
    assert_eq!(
        get(&client, &graph.alerts_url(), "other").await.status(),
        401
    );
    let page: Value = get_json(&client, &graph.alerts_url()).await;
    assert_eq!(page["value"].as_array().unwrap().len(), 10);
    assert!(page.get("@odata.nextLink").is_none());
}

#[tokio::test]
async fn status_fault_is_served_once_then_the_page() {
    let (graph, client) = start(250, vec![Fault::new(1, 0, Action::status(429, Some("7")))]).await;
    let first: Value = get_json(&client, &graph.alerts_url()).await;
    let next = first["@odata.nextLink"].as_str().unwrap();
    let throttled = get(&client, next, "fake-token").await;
    assert_eq!(throttled.status(), 429);
    assert_eq!(throttled.headers()["retry-after"], "7");
    let error: Value = throttled.json().await.unwrap();
    assert_eq!(error["error"]["code"], "TooManyRequests");
    let again = get(&client, next, "fake-token").await;
    assert_eq!(again.status(), 200);
    let page: Value = again.json().await.unwrap();
    assert_eq!(page["value"].as_array().unwrap().len(), 100);
    assert_eq!(graph.page_requests(), 3);
}

#[tokio::test]
async fn socket_faults() {
    let (graph, client) = start(
        300,
        vec![
            Fault::new(0, 0, Action::ResetBeforeHeaders),
            Fault::new(0, 2, Action::TruncatedBody),
            Fault::new(0, 3, Action::Stall),
            Fault::new(0, 4, Action::HtmlPage),
            Fault::new(
                TOKEN_ENDPOINT,
                0,
                Action::SlowBody {
                    bytes_per_second: 200,
                },
            ),
        ],
    )
    .await;
    let url = graph.alerts_url();
    let send = || client.get(&url).bearer_auth("fake-token").send();

    assert!(send().await.is_err(), "reset before headers");
    assert_eq!(send().await.unwrap().status(), 200);
    let truncated = send().await.unwrap();
    assert_eq!(truncated.status(), 200);
    assert!(truncated.bytes().await.is_err(), "truncated body");
    let stalled = client
        .get(&url)
        .bearer_auth("fake-token")
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(stalled.unwrap_err().is_timeout());
    let html = send().await.unwrap();
    assert_eq!(html.headers()["content-type"], HTML);
    assert!(html.text().await.unwrap().starts_with("<!DOCTYPE html>"));
    assert_eq!(send().await.unwrap().status(), 200);

    let started = Instant::now();
    let answer = post_token(&client, &graph, &[("client_secret", "secret")]).await;
    let token: Value = answer.json().await.unwrap();
    assert_eq!(token["access_token"], "fake-token");
    assert!(started.elapsed() >= Duration::from_millis(200), "slow body");
    assert_eq!(graph.page_requests(), 6);
}

#[tokio::test]
async fn paging_faults() {
    let (graph, client) = start(
        300,
        vec![
            Fault::new(0, 0, Action::EmptyPageWithNext),
            Fault::new(
                1,
                0,
                Action::NextLink("http://127.0.0.1:9/elsewhere?a=%2B'".into()),
            ),
        ],
    )
    .await;
    let expected = generate(300, 1, Options::default().reference);

    let empty: Value = get_json(&client, &graph.alerts_url()).await;
    assert_eq!(empty["value"], json!([]));
    let next = empty["@odata.nextLink"].as_str().unwrap();
    assert_ne!(next, graph.alerts_url());
    let real: Value = get_json(&client, next).await;
    assert_eq!(real["value"].as_array().unwrap()[..], expected[..100]);
    assert_eq!(real["@odata.nextLink"], graph.page_url(1));

    let odd: Value = get_json(&client, &graph.page_url(1)).await;
    assert_eq!(
        odd["@odata.nextLink"],
        "http://127.0.0.1:9/elsewhere?a=%2B'"
    );
    assert_eq!(odd["value"].as_array().unwrap()[..], expected[100..200]);
}

#[tokio::test]
async fn raw_http_chunked_body_and_connection_close() {
    let graph = FakeGraph::start(Options {
        alerts: 1,
        ..Options::default()
    })
    .await;
    let address = graph.base_url().replace("http://", "");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let form = "grant_type=client_credentials&client_id=client&scope=x%2F.default\
                &client_secret=secret";
    let (a, b) = form.split_at(20);
    let request = format!(
        "POST /tenant/oauth2/v2.0/token HTTP/1.1\r\nHost: x\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         {:x}\r\n{a}\r\n{:x};ext=1\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("\r\nConnection: close\r\n"), "{answer}");
    assert!(
        answer.contains("\"access_token\":\"fake-token\""),
        "{answer}"
    );
    assert_eq!(graph.requests()[0].body, form.as_bytes());
}

/// `cargo test --release -p testkit million -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow in debug builds: renders 1,000,000 alerts"]
async fn renders_a_million_alerts() {
    let started = Instant::now();
    let graph = FakeGraph::start(Options {
        alerts: 1_000_000,
        page_size: 1000,
        ..Options::default()
    })
    .await;
    let bytes: usize = graph.shared.pages.iter().map(|p| p.len()).sum();
    println!(
        "1,000,000 alerts in {} pages, {} MB, rendered in {:?}",
        graph.pages(),
        bytes / 1_000_000,
        started.elapsed()
    );
    assert_eq!(graph.pages(), 1000);
}
