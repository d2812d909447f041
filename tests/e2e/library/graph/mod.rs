//! The Graph collector at the HTTP level, against wiremock. Test names carry the row ids of
//! ../shared/RELIABILITY.md (A = token, B = transport and paging, C = data, P = promises).

mod faults;
mod paging;
mod retries;
mod tokens;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use csp_alert_digest::config::GraphConfig;
use csp_alert_digest::retry::RetryPolicy;
use csp_alert_digest::source::Collected;
use csp_alert_digest::source::graph::{self, GraphError, Http};
use serde_json::{Value, json};
use wiremock::{MockServer, ResponseTemplate};

pub use crate::support::graph::{ALERTS, alert};
use crate::support::graph::{mount_token, recording_http, settings, token_requests};

pub const TENANT: &str = "partner-tenant";
pub const SECRET: &str = "canary-secret-7f3a";
pub const TOKEN: &str = "canary-token-91bd";

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
        let config = settings(&server.uri(), TENANT, "client-id", SECRET);
        Self {
            server,
            config,
            waits: Arc::default(),
            policy: RetryPolicy::default(),
        }
    }

    pub fn http(&self) -> Http {
        recording_http(&self.config, self.policy, &self.waits, 7)
    }

    pub async fn collect(&self) -> Result<Collected, GraphError> {
        graph::collect(&self.config, &self.http()).await
    }

    pub fn waits(&self) -> Vec<Duration> {
        self.waits.lock().unwrap().clone()
    }

    /// The token endpoint answers with a good token, `times` times at most.
    pub async fn token_ok(&self) {
        mount_token(&self.server, TENANT, TOKEN).await;
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
        token_requests(&self.server).await
    }
}

/// The token endpoint's answer with [`TOKEN`], valid for `expires_in`.
pub fn token_answer(expires_in: &Value) -> ResponseTemplate {
    crate::support::graph::token_answer(TOKEN, expires_in)
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
