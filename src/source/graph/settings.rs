//! `[source] kind = "graph"`: the Graph source's settings and their defaults.

use std::time::Duration;

use super::{HttpSettings, SignIn};

/// `[source] kind = "graph"`.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// The partner tenant (GUID or domain).
    pub tenant_id: String,
    pub client_id: String,
    /// App-only or App+User, with the app's credential.
    pub sign_in: SignIn,
    /// `https://graph.microsoft.com` by default; `http` only for loopback hosts.
    pub graph_url: reqwest::Url,
    /// `https://login.microsoftonline.com` by default; `http` only for loopback hosts.
    pub login_url: reqwest::Url,
    /// Ask the service to leave resolved alerts out (`$filter`); the job filters anyway.
    pub server_filter: bool,
    /// One HTTP request, from connecting to the end of the body.
    pub request_timeout: Duration,
    /// The whole collection, retries and waits included.
    pub deadline: Duration,
    pub max_pages: usize,
    pub max_page_bytes: usize,
    /// Attempts in all for a throttled request (429, 503, 504).
    pub max_attempts: u32,
    /// The longest `Retry-After` honoured; a longer one fails the run at once.
    pub max_retry_after: Duration,
}

/// Default limits, used by the config when a key is absent.
pub mod defaults {
    use std::time::Duration;

    pub const GRAPH_URL: &str = "https://graph.microsoft.com";
    pub const LOGIN_URL: &str = "https://login.microsoftonline.com";
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
    pub const DEADLINE: Duration = Duration::from_secs(30 * 60);
    pub const MAX_PAGES: usize = 50_000;
    pub const MAX_PAGE_BYTES: usize = 64 * 1024 * 1024;
    pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
}

/// The retry policy and client settings a config asks for.
pub fn http_settings(config: &GraphConfig) -> HttpSettings {
    HttpSettings {
        request_timeout: config.request_timeout,
        max_body: config.max_page_bytes,
        policy: crate::retry::RetryPolicy {
            throttled_attempts: config.max_attempts,
            max_retry_after: config.max_retry_after,
            ..crate::retry::RetryPolicy::default()
        },
        sleeper: crate::retry::Sleeper::Tokio,
        jitter: None,
    }
}
