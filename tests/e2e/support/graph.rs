//! Microsoft Graph on wiremock, for the tests that script the service answer by answer: the
//! token endpoint, alerts and pages as the service writes them, the config that points the
//! binary at such a server, and the collector's settings for tests that call it in-process.
//! (The fake that generates thousands of alerts and acts on the socket is `testkit::FakeGraph`.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use csp_alert_digest::retry::{RetryPolicy, Sleeper};
use csp_alert_digest::source::graph::{Credential, GraphConfig, SignIn};
use csp_alert_digest::source::graph::{Http, HttpSettings};
use secrecy::SecretString;
use serde_json::{Value, json};
use testkit::ConfigToml;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The tenant of the binary's Graph configs ([`config`]), in the token endpoint's path.
pub const TENANT: &str = "partner.example";
/// The app the binary's Graph configs sign in as.
pub const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
/// The alerts collection.
pub const ALERTS: &str = testkit::ALERTS_PATH;

/// A config reading from Graph at `uri` (both Graph and login URL) as [`CLIENT`] of [`TENANT`].
pub fn config(uri: &str) -> ConfigToml {
    ConfigToml::graph(uri, TENANT, CLIENT)
}

/// The token endpoint's answer: `access_token`, valid for `expires_in` as the service writes it
/// (`3599`, `"3599"`…).
pub fn token_answer(access_token: &str, expires_in: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "token_type": "Bearer", "expires_in": expires_in, "access_token": access_token
    }))
}

/// The token endpoint of `tenant` on `server` issues `access_token`, valid for 3599 s.
pub async fn mount_token(server: &MockServer, tenant: &str, access_token: &str) {
    Mock::given(method("POST"))
        .and(path(format!("/{tenant}/oauth2/v2.0/token")))
        .respond_with(token_answer(access_token, &json!(3599)))
        .mount(server)
        .await;
}

/// A fake Microsoft Graph whose token endpoint (tenant [`TENANT`], as in [`config`]) hands out
/// `access_token`; the caller mounts the rest.
pub async fn token_server(access_token: &str) -> MockServer {
    let server = MockServer::start().await;
    mount_token(&server, TENANT, access_token).await;
    server
}

/// The requests `server` received that `keep` keeps, in the order they came.
pub async fn received_where(server: &MockServer, keep: impl Fn(&Request) -> bool) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| keep(r))
        .collect()
}

/// How many token requests `server` received.
pub async fn token_requests(server: &MockServer) -> usize {
    received_where(server, |r| r.url.path().ends_with("/token"))
        .await
        .len()
}

/// The alerts collection on `server` refuses the server-side filter, once (as some tenants'
/// Graph did: 400 "Invalid filter clause").
pub async fn refuse_server_filter(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(ALERTS))
        .and(query_param("$filter", "status ne 'resolved'"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error":{"code":"BadRequest","message":"Invalid filter clause"}}),
        ))
        .expect(1)
        .mount(server)
        .await;
}

/// A minimal valid alert.
pub fn alert(id: &str) -> Value {
    json!({
        "id": id, "status": "active", "severity": "high", "alertType": "CryptoMining",
        "customerTenantId": "c1", "subscriptionId": "s1",
        "detectedDateTime": "2026-11-28T00:00:00Z", "isTest": "false"
    })
}

/// An alert as the service returns it, with this status (and reason when resolved).
pub fn alert_with_status(id: &str, status: &str, reason: Option<&str>) -> Value {
    let mut alert = alert(id);
    alert["status"] = json!(status);
    alert["resolvedReason"] = json!(reason);
    if status == "resolved" {
        alert["resolvedBy"] = json!("analyst@partner.example");
        alert["resolvedOnDateTime"] = json!("2026-11-28T10:00:00Z");
    }
    alert
}

/// The path of one alert.
pub fn alert_path(id: &str) -> String {
    format!("{ALERTS}/{id}")
}

/// Settings for the collector called in-process: `url` as both Graph and login URL, `client` of
/// `tenant` with `secret`, 5 s per request, 30 s in all, 100 pages of 1 MiB at most, 6 attempts.
pub fn settings(url: &str, tenant: &str, client: &str, secret: &str) -> GraphConfig {
    let url = reqwest::Url::parse(url).unwrap();
    GraphConfig {
        tenant_id: tenant.to_owned(),
        client_id: client.to_owned(),
        sign_in: SignIn::App(Credential::Secret(SecretString::from(secret))),
        graph_url: url.clone(),
        login_url: url,
        server_filter: false,
        request_timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(30),
        max_pages: 100,
        max_page_bytes: 1024 * 1024,
        max_attempts: 6,
        max_retry_after: Duration::from_secs(300),
    }
}

/// The collector's HTTP client as `config` sets it (timeout, body limit, attempts), backing off
/// as `policy` says otherwise, with its waits recorded in `waits` instead of slept.
pub fn recording_http(
    config: &GraphConfig,
    policy: RetryPolicy,
    waits: &Arc<Mutex<Vec<Duration>>>,
    jitter: u64,
) -> Http {
    Http::new(HttpSettings {
        request_timeout: config.request_timeout,
        max_body: config.max_page_bytes,
        policy: RetryPolicy {
            throttled_attempts: config.max_attempts,
            max_retry_after: config.max_retry_after,
            ..policy
        },
        sleeper: Sleeper::Record(Arc::clone(waits)),
        jitter: Some(jitter),
    })
    .unwrap()
}
