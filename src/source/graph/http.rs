//! One HTTP client for Microsoft's APIs: bounded bodies, no redirects, and transient failures
//! retried per [`RetryPolicy`]. Callers get the first answer that is not transient and decide
//! what its status means.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use tracing::warn;

use super::error::GraphError;
use crate::retry::{Class, Jitter, Next, RetryPolicy, Sleeper};

/// An answer that is not transient.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn content_type(&self) -> &str {
        self.headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// The shared client, its limits, and counters for the run's summary line.
#[derive(Debug)]
pub struct Http {
    client: reqwest::Client,
    policy: RetryPolicy,
    max_body: usize,
    sleeper: Sleeper,
    jitter: Mutex<Jitter>,
    retries: AtomicU64,
    bytes: AtomicU64,
}

/// How the client is set up.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub request_timeout: Duration,
    pub max_body: usize,
    pub policy: RetryPolicy,
    pub sleeper: Sleeper,
    pub jitter: Option<u64>,
}

impl Http {
    pub fn new(settings: HttpSettings) -> Result<Self, GraphError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("csp-alert-digest/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(settings.request_timeout.min(Duration::from_secs(15)))
            .timeout(settings.request_timeout)
            // The token must never follow a redirect to another host; the API does not redirect.
            .redirect(reqwest::redirect::Policy::none())
            .gzip(true)
            .build()
            .map_err(|e| GraphError::BadPage(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Self {
            client,
            policy: settings.policy,
            max_body: settings.max_body,
            sleeper: settings.sleeper,
            jitter: Mutex::new(
                settings
                    .jitter
                    .map_or_else(Jitter::from_entropy, Jitter::seeded),
            ),
            retries: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Retries made so far.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Response body bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Sends the request `build` makes until the answer is not transient. `path` names the
    /// request in logs and errors (no query string: it may be long, and is not secret-free for
    /// every API).
    pub async fn send(
        &self,
        path: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response, GraphError> {
        let mut throttled = 0;
        let mut flaky = 0;
        loop {
            let (class, retry_after, why) = match self.attempt(path, build()).await {
                Attempt::Done(response) => return Ok(response),
                Attempt::Fail(error) => return Err(error),
                Attempt::Retry {
                    class,
                    retry_after,
                    why,
                } => (class, retry_after, why),
            };
            let count = match class {
                Class::Throttled => {
                    throttled += 1;
                    throttled
                }
                Class::Flaky => {
                    flaky += 1;
                    flaky
                }
            };
            let next = {
                let mut jitter = self
                    .jitter
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                self.policy.next(class, count, retry_after, &mut jitter)
            };
            match next {
                Next::Wait(wait) => {
                    warn!(
                        path,
                        reason = %why,
                        attempt = count,
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        "retrying"
                    );
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    self.sleeper.sleep(wait).await;
                }
                Next::GiveUp => {
                    return Err(GraphError::Exhausted {
                        path: path.to_owned(),
                        attempts: count,
                        last: why,
                    });
                }
                Next::WaitTooLong(wait) => {
                    return Err(GraphError::WaitTooLong {
                        path: path.to_owned(),
                        wait,
                        cap: self.policy.max_retry_after,
                    });
                }
            }
        }
    }

    async fn attempt(&self, path: &str, request: RequestBuilder) -> Attempt {
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(e) if e.is_builder() => {
                return Attempt::Fail(GraphError::Rejected {
                    path: path.to_owned(),
                    status: 0,
                    message: format!("cannot build the request: {e}"),
                });
            }
            Err(e) => return Attempt::flaky(describe(&e)),
        };
        let status = response.status();
        if matches!(status.as_u16(), 429 | 503 | 504) {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| crate::retry::parse_retry_after(v, SystemTime::now()));
            return Attempt::Retry {
                class: Class::Throttled,
                retry_after,
                why: format!("HTTP {}", status.as_u16()),
            };
        }
        if status.is_server_error() {
            return Attempt::flaky(format!("HTTP {}", status.as_u16()));
        }
        if let Some(length) = response.content_length()
            && usize::try_from(length).map_or(true, |l| l > self.max_body)
        {
            return Attempt::Fail(self.too_large(path));
        }
        // Sized once when the length is known (a page is a few MB), not grown chunk by chunk.
        let mut body = Vec::with_capacity(
            response
                .content_length()
                .and_then(|l| usize::try_from(l).ok())
                .unwrap_or(0)
                .min(self.max_body),
        );
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > self.max_body {
                        return Attempt::Fail(self.too_large(path));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                // A partial body is never parsed: the page is requested again.
                Err(e) => return Attempt::flaky(format!("reading the body: {}", describe(&e))),
            }
        }
        self.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
        Attempt::Done(Response {
            status,
            headers: response.headers().clone(),
            body,
        })
    }

    fn too_large(&self, path: &str) -> GraphError {
        GraphError::TooLarge {
            path: path.to_owned(),
            limit: self.max_body,
        }
    }
}

enum Attempt {
    Done(Response),
    Retry {
        class: Class,
        retry_after: Option<Duration>,
        why: String,
    },
    Fail(GraphError),
}

impl Attempt {
    fn flaky(why: String) -> Self {
        Self::Retry {
            class: Class::Flaky,
            retry_after: None,
            why,
        }
    }
}

/// A transport error in a few words, without the URL (which callers name themselves).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "the body broke off"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(error);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} ({detail})")
    }
}
