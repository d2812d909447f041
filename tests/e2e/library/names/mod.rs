//! Name lookups at the HTTP level, against wiremock: Partner Center's paged customer listing,
//! the optional App+User relationships call, throttling, outages with a warm and a cold cache,
//! and the precedence file > Partner Center > cache. Waits are recorded, not slept.

mod partner_center;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use csp_alert_digest::ledger::Ledger;
use csp_alert_digest::names::partner_center::Client;
use csp_alert_digest::names::{self, Cache, Resolved, Wanted};
use csp_alert_digest::names::{NamesConfig, NamesFileConfig, PartnerCenterConfig};
use csp_alert_digest::retry::RetryPolicy;
use csp_alert_digest::source::graph::GraphConfig;
use csp_alert_digest::source::graph::Http;
use serde_json::json;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

use crate::support::fake_partner_center::{self, FakeCustomer};
use crate::support::graph::{recording_http, settings, token_answer, token_requests};

pub const TENANT: &str = "partner-tenant";
pub const TOKEN: &str = "pc-canary-token-5e7a";
/// The Partner Center scope, form-encoded as the token request carries it.
pub const SCOPE_FORM: &str = "scope=https%3A%2F%2Fapi.partnercenter.microsoft.com%2F.default";
pub const NOW: &str = "2026-11-29T07:00:00Z";

pub fn now() -> DateTime<Utc> {
    NOW.parse().unwrap()
}

/// Name lookups pointed at one mock server (login and Partner Center), with a state folder
/// for the cache.
pub struct Harness {
    pub server: MockServer,
    pub graph: GraphConfig,
    pub names: NamesConfig,
    pub waits: Arc<Mutex<Vec<Duration>>>,
    pub state: tempfile::TempDir,
}

impl Harness {
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let graph = settings(&server.uri(), TENANT, "client-id", "canary-secret");
        let url = graph.graph_url.clone();
        let names = NamesConfig {
            file: None,
            partner_center: Some(PartnerCenterConfig {
                url,
                customer_page_size: 2,
                resellers: true,
                deadline: Duration::from_secs(30),
            }),
            cache_max_age: Duration::from_secs(7 * 86_400),
        };
        let harness = Self {
            server,
            graph,
            names,
            waits: Arc::default(),
            state: tempfile::tempdir().unwrap(),
        };
        harness.mount_token().await;
        harness
    }

    /// The token endpoint: a token for the Partner Center scope only.
    pub async fn mount_token(&self) {
        Mock::given(method("POST"))
            .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
            .and(body_string_contains(SCOPE_FORM))
            .respond_with(token_answer(TOKEN, &json!(3599)))
            .mount(&self.server)
            .await;
    }

    /// The fake Partner Center with these customers.
    /// How many customer listing calls the server received.
    pub async fn listing_count(&self) -> usize {
        fake_partner_center::listing_calls(&self.server).await.len()
    }

    /// How many relationships calls the server received.
    pub async fn relationship_count(&self) -> usize {
        fake_partner_center::relationship_calls(&self.server)
            .await
            .len()
    }

    /// Every request `request` matches is answered with `response`.
    pub async fn answer(&self, request: MockBuilder, response: ResponseTemplate) {
        request.respond_with(response).mount(&self.server).await;
    }

    pub async fn mount_partner_center(&self, customers: Vec<FakeCustomer>) {
        fake_partner_center::mount(&self.server, customers, TOKEN).await;
    }

    pub fn with_file(&mut self, rows: &[(&str, &str)]) {
        let text: String = rows
            .iter()
            .fold(String::new(), |text, (id, n)| text + id + "," + n + "\n");
        self.names.file = Some(NamesFileConfig {
            path: "names.csv".into(),
            names: names::file::parse(text.as_bytes()).unwrap(),
        });
    }

    pub fn http(&self) -> Http {
        recording_http(&self.graph, RetryPolicy::default(), &self.waits, 3)
    }

    /// The ledger in the harness's state folder (the names cache lives in it).
    pub fn ledger(&self) -> Ledger {
        Ledger::open(self.state.path()).unwrap()
    }

    /// Looks up `wanted` with the cache in the harness's ledger.
    pub async fn resolve(&self, wanted: &Wanted) -> Resolved {
        let ledger = self.ledger();
        self.resolve_with(wanted, Cache::ReadWrite(ledger.connection()))
            .await
    }

    pub async fn resolve_with(&self, wanted: &Wanted, cache: Cache<'_>) -> Resolved {
        let http = self.http();
        let pc = self.names.partner_center.as_ref().unwrap();
        let client = Client::new(&http, &self.graph, pc);
        names::resolve(&self.names, Some(&client), cache, wanted, now()).await
    }

    pub fn waits(&self) -> Vec<Duration> {
        self.waits.lock().unwrap().clone()
    }

    pub async fn token_requests(&self) -> usize {
        token_requests(&self.server).await
    }
}

/// Customers `c1`…`cN` named "Customer N".
pub fn customers(n: usize) -> Vec<FakeCustomer> {
    (1..=n)
        .map(|i| FakeCustomer::new(&format!("c{i}"), &format!("Customer {i}")))
        .collect()
}

/// What a digest would show: these customers, resellers (with one customer each) and
/// subscriptions.
pub fn wanted(customers: &[&str], resellers: &[&str], subscriptions: &[&str]) -> Wanted {
    Wanted {
        customers: customers.iter().map(|c| (*c).to_owned()).collect(),
        resellers: resellers.iter().map(|r| (*r).to_owned()).collect(),
        subscriptions: subscriptions.iter().map(|s| (*s).to_owned()).collect(),
    }
}
