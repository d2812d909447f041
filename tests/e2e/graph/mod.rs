//! The Graph collector at the HTTP level, against wiremock. Test names carry the row ids of
//! ../shared/RELIABILITY.md (A = token, B = transport and paging, C = data, P = promises).

mod paging;
mod retries;
mod tokens;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use csp_alert_digest::retry::{RetryPolicy, Sleeper};
use csp_alert_digest::source::Collected;
use csp_alert_digest::source::graph::{self, GraphError, Http, HttpSettings};
use csp_alert_digest::source::graph::{Credential, GraphConfig, SignIn};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const TENANT: &str = "partner-tenant";
pub const SECRET: &str = "canary-secret-7f3a";
pub const TOKEN: &str = "canary-token-91bd";
pub const ALERTS: &str = "/beta/security/partner/securityAlerts";

/// A collector pointed at a mock server, with recorded (not slept) waits.
pub struct Harness {
    pub server: MockServer,
    pub config: GraphConfig,
    pub waits: Arc<Mutex<Vec<Duration>>>,
    pub policy: RetryPolicy,
}

impl Harness {
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let url = reqwest::Url::parse(&server.uri()).unwrap();
        let config = GraphConfig {
            tenant_id: TENANT.to_owned(),
            client_id: "client-id".to_owned(),
            sign_in: SignIn::App(Credential::Secret(SecretString::from(SECRET))),
            graph_url: url.clone(),
            login_url: url,
            server_filter: false,
            request_timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(30),
            max_pages: 100,
            max_page_bytes: 1024 * 1024,
            max_attempts: 6,
            max_retry_after: Duration::from_secs(300),
        };
        Self {
            server,
            config,
            waits: Arc::default(),
            policy: RetryPolicy::default(),
        }
    }

    pub fn http(&self) -> Http {
        Http::new(HttpSettings {
            request_timeout: self.config.request_timeout,
            max_body: self.config.max_page_bytes,
            policy: RetryPolicy {
                throttled_attempts: self.config.max_attempts,
                max_retry_after: self.config.max_retry_after,
                ..self.policy
            },
            sleeper: Sleeper::Record(self.waits.clone()),
            jitter: Some(7),
        })
        .unwrap()
    }

    pub async fn collect(&self) -> Result<Collected, GraphError> {
        graph::collect(&self.config, &self.http()).await
    }

    pub fn waits(&self) -> Vec<Duration> {
        self.waits.lock().unwrap().clone()
    }

    /// The token endpoint answers with a good token, `times` times at most.
    pub async fn token_ok(&self) {
        Mock::given(method("POST"))
            .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
            .respond_with(token_answer(&json!(3599)))
            .mount(&self.server)
            .await;
    }

    /// A page link on this server.
    pub fn link(&self, token: &str) -> String {
        format!("{}{ALERTS}?$skiptoken={token}", self.server.uri())
    }

    /// The requests the server received for the alerts collection.
    pub async fn page_requests(&self) -> Vec<wiremock::Request> {
        self.server
            .received_requests()
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.url.path() == ALERTS)
            .collect()
    }

    pub async fn token_requests(&self) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path().ends_with("/token"))
            .count()
    }
}

pub fn token_answer(expires_in: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "token_type": "Bearer", "expires_in": expires_in, "access_token": TOKEN
    }))
}

/// A minimal valid alert.
pub fn alert(id: &str) -> Value {
    json!({
        "id": id, "status": "active", "severity": "high", "alertType": "CryptoMining",
        "customerTenantId": "c1", "subscriptionId": "s1",
        "detectedDateTime": "2026-11-28T00:00:00Z", "isTest": "false"
    })
}

/// A page with these alert ids and an optional next link.
pub fn page(ids: &[&str], next: Option<&str>) -> ResponseTemplate {
    let mut body = json!({ "value": ids.iter().map(|id| alert(id)).collect::<Vec<_>>() });
    if let Some(next) = next {
        body["@odata.nextLink"] = json!(next);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

pub fn ids(collected: &Collected) -> Vec<&str> {
    collected.alerts.iter().map(|a| a.id.as_str()).collect()
}
