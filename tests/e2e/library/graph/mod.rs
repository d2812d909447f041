//! The Graph collector at the HTTP level, against wiremock. Test names carry the row ids of
//! ../shared/RELIABILITY.md (A = token, B = transport and paging, C = data, P = promises).

mod faults;
mod paging;
mod retries;
mod tokens;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use csp_alert_digest::retry::RetryPolicy;
use csp_alert_digest::source::Collected;
use csp_alert_digest::source::graph::GraphConfig;
use csp_alert_digest::source::graph::{self, GraphError, Http};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

pub use crate::support::graph::{ALERTS, alert};
use crate::support::graph::{
    mount_token, received_where, recording_http, settings, token_requests,
};

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

    /// A harness whose token endpoint issues [`TOKEN`].
    pub async fn with_token() -> Self {
        let h = Self::start().await;
        h.token_ok().await;
        h
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

    /// The first page (asked for with no skip token and no filter) answers `response`.
    pub async fn first_page(&self, response: ResponseTemplate) {
        page_request(None)
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    /// The page behind `$skiptoken=token` answers `response`.
    pub async fn page_at(&self, token: &str, response: ResponseTemplate) {
        page_request(Some(token))
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    /// Every request for the alerts collection answers `response`; `times` are expected.
    pub async fn every_page(&self, response: ResponseTemplate, times: u64) {
        alerts_request()
            .respond_with(response)
            .expect(times)
            .mount(&self.server)
            .await;
    }

    /// Two pages: alert `a`, then alert `b` behind `$skiptoken=2`.
    pub async fn two_pages(&self) {
        self.first_page(page(&["a"], Some(&self.link("2")))).await;
        self.page_at("2", page(&["b"], None)).await;
    }

    /// A page link on this server.
    pub fn link(&self, token: &str) -> String {
        format!("{}{ALERTS}?$skiptoken={token}", self.server.uri())
    }

    /// The requests the server received for the alerts collection.
    pub async fn page_requests(&self) -> Vec<wiremock::Request> {
        received_where(&self.server, |r| r.url.path() == ALERTS).await
    }

    /// Collects one page, answered only to a request `request` matches, asked exactly once.
    pub async fn collect_one_page_for(&self, request: MockBuilder) {
        request
            .respond_with(page(&["a"], None))
            .expect(1)
            .mount(&self.server)
            .await;
        self.collect().await.unwrap();
    }

    /// Collects, expecting the collector to give up after `attempts` attempts (retries
    /// spent: a transient failure); returns the error.
    pub async fn gives_up_after(&self, attempts: u32) -> GraphError {
        let err = self.collect().await.unwrap_err();
        assert!(!err.is_permanent(), "{err}");
        assert!(
            matches!(err, GraphError::Exhausted { attempts: a, .. } if a == attempts),
            "{err}"
        );
        err
    }

    pub async fn token_requests(&self) -> usize {
        token_requests(&self.server).await
    }
}

/// The token endpoint's answer with [`TOKEN`], valid for `expires_in`.
pub fn token_answer(expires_in: &Value) -> ResponseTemplate {
    crate::support::graph::token_answer(TOKEN, expires_in)
}

/// Requests for the alerts collection, any page.
pub fn alerts_request() -> MockBuilder {
    Mock::given(method("GET")).and(path(ALERTS))
}

/// Requests for the alerts page behind `$skiptoken=token`, or for the first page (no skip token
/// and no filter).
pub fn page_request(skiptoken: Option<&str>) -> MockBuilder {
    let request = alerts_request();
    match skiptoken {
        None => request
            .and(query_param_is_missing("$skiptoken"))
            .and(query_param_is_missing("$filter")),
        Some(token) => request.and(query_param("$skiptoken", token)),
    }
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
