//! The Microsoft Graph source: `GET {graph_url}/beta/security/partner/securityAlerts` with an
//! app-only token, following `@odata.nextLink` to the end. All or nothing: any page that fails
//! for good fails the collection, so no digest is made from a partial alert set.

pub mod alert;
pub mod device;
pub mod error;
pub mod http;
pub mod paging;
mod settings;
pub mod signin;
pub mod token;

use std::time::Instant;

use reqwest::StatusCode;
use secrecy::ExposeSecret;
use tracing::{debug, info, warn};

pub use error::GraphError;
pub use http::{Http, HttpSettings};
pub use settings::{GraphConfig, defaults, http_settings};
pub use signin::{Credential, RefreshStore, SignIn};
pub use token::TokenSource;

use super::Collected;
use super::page::{Page, parse_page, parse_records, split_page};
use crate::alert::{Alert, Interner};

/// The permission the digest needs; it never asks for more.
pub const READ_PERMISSION: &str = "PartnerSecurity.Read.All";

/// The permission `resolve` needs to update alerts (it includes reading them).
pub const WRITE_PERMISSION: &str = "PartnerSecurity.ReadWrite.All";

/// The path of the alerts collection under `graph_url`.
pub const ALERTS_PATH: &str = "/beta/security/partner/securityAlerts";

/// Only alerts that may be unresolved: an unknown future status passes this filter, which is
/// why it is `ne 'resolved'` and not a list of open statuses. The job filters again itself.
pub const SERVER_FILTER: &str = "status ne 'resolved'";

/// Collects every alert, or fails.
pub async fn collect(config: &GraphConfig, http: &Http) -> Result<Collected, GraphError> {
    let mut alerts = Vec::new();
    let mut collected = collect_into(config, http, &mut |alert| alerts.push(alert)).await?;
    collected.alerts = alerts;
    Ok(collected)
}

/// Collects every alert into `sink`, in the order received, or fails; the result holds the
/// rest (records set aside, counters) and no alerts.
///
/// Pages overlap: as soon as a page is in and its next link known (a quick first pass over
/// the JSON), its records are parsed on a blocking thread while this task hands the previous
/// page's alerts to `sink` and requests the next page. At most one page is parsed at a time,
/// and at most two pages' bodies and two pages' alerts are held.
pub async fn collect_into(
    config: &GraphConfig,
    http: &Http,
    sink: &mut (dyn FnMut(Alert) + Send),
) -> Result<Collected, GraphError> {
    collect_with(
        config,
        http,
        &token_source(config),
        None,
        config.deadline,
        sink,
    )
    .await
}

/// The answer to the collection's first request, asked for ahead of it (see
/// [`crate::source::Setup`]), or its error.
pub type FirstPage = Result<http::Response, GraphError>;

/// Asks for the first page as [`collect_into`] would first ask for it (the token first, if
/// `tokens` has none yet).
pub async fn first_page(config: &GraphConfig, http: &Http, tokens: &TokenSource) -> FirstPage {
    let url = first_page_url(config, config.server_filter)?;
    get_page(http, tokens, &url).await
}

/// [`collect_into`] with `tokens` and, when it was asked for ahead, the answer to the first
/// request ([`first_page`]); stops with [`GraphError::Deadline`] after `time_left`.
pub async fn collect_with(
    config: &GraphConfig,
    http: &Http,
    tokens: &TokenSource,
    first: Option<FirstPage>,
    time_left: std::time::Duration,
    sink: &mut (dyn FnMut(Alert) + Send),
) -> Result<Collected, GraphError> {
    let started = Instant::now();
    let mut collected = Collected::default();
    let work = collect_pages(config, http, tokens, first, &mut collected, sink);
    tokio::time::timeout(time_left, work)
        .await
        .map_err(|_| GraphError::Deadline(config.deadline))??;
    collected.retries = http.retries();
    collected.bytes = http.bytes();
    collected.elapsed = started.elapsed();
    info!(
        pages = collected.pages,
        retries = collected.retries,
        bytes = collected.bytes,
        elapsed_ms = u64::try_from(collected.elapsed.as_millis()).unwrap_or(u64::MAX),
        "collected from Microsoft Graph"
    );
    Ok(collected)
}

type Parsing = tokio::task::JoinHandle<(Page, Interner)>;

/// Waits for a page's parse: the page, and the interner for the next.
async fn parsed(parsing: Parsing) -> Result<(Page, Interner), GraphError> {
    parsing
        .await
        .map_err(|e| GraphError::BadPage(format!("parsing a page failed: {e}")))
}

/// Hands a parsed page's alerts over.
fn hand_over(page: Page, collected: &mut Collected, sink: &mut (dyn FnMut(Alert) + Send)) {
    debug!(
        page = collected.pages + 1,
        alerts = page.alerts.len(),
        "page read"
    );
    collected.pages += 1;
    collected.set_aside.extend(page.set_aside);
    for alert in page.alerts {
        sink(alert);
    }
}

async fn collect_pages(
    config: &GraphConfig,
    http: &Http,
    tokens: &TokenSource,
    mut first: Option<FirstPage>,
    collected: &mut Collected,
    sink: &mut (dyn FnMut(Alert) + Send),
) -> Result<(), GraphError> {
    let mut filtered = config.server_filter;
    let mut guard = paging::Guard::new(&config.graph_url, config.max_pages);
    let mut url = first_page_url(config, filtered)?;
    let mut number = 0;
    let mut parsing: Option<Parsing> = None;
    let mut interner = Some(Interner::default());
    loop {
        guard.visit(&url)?;
        number += 1;
        // The first request may have been answered ahead (same URL: the configured filter).
        let answer = match first.take() {
            Some(answer) => answer,
            None => get_page(http, tokens, &url).await,
        };
        let response = match answer {
            Err(GraphError::Rejected {
                status: 400,
                message,
                ..
            }) if filtered && number == 1 => {
                warn!(
                    filter = SERVER_FILTER,
                    %message,
                    "the service refused the server-side filter; collecting without it (the job filters itself)"
                );
                filtered = false;
                url = first_page_url(config, false)?;
                guard = paging::Guard::new(&config.graph_url, config.max_pages);
                number = 0;
                continue;
            }
            other => other?,
        };
        let label = format!("page {number} ({})", url.path());
        if !response
            .content_type()
            .to_ascii_lowercase()
            .contains("json")
        {
            return Err(GraphError::BadPage(format!(
                "{label}: expected JSON, got {:?}: {}",
                response.content_type(),
                error::excerpt(&response.body)
            )));
        }
        let split =
            split_page(&response.body, &label).map_err(|e| GraphError::BadPage(e.to_string()))?;
        let next = split.next_link.clone();
        // The previous page's parse hands back the interner; this page's parse starts with
        // it before the previous page's alerts go to the sink, so the two overlap.
        let mut previous = None;
        if let Some(parsing) = parsing.take() {
            let (page, words) = parsed(parsing).await?;
            interner = Some(words);
            previous = Some(page);
        }
        let mut words = interner.take().unwrap_or_default();
        // split_page found the body to be UTF-8 JSON.
        let body = String::from_utf8(response.body).unwrap_or_default();
        parsing = Some(tokio::task::spawn_blocking(move || {
            let page = parse_records(&body, split, &label, &mut words);
            (page, words)
        }));
        if let Some(page) = previous {
            hand_over(page, collected, sink);
        }
        match next {
            Some(link) => url = guard.next_link(&link)?,
            None => break,
        }
    }
    if let Some(last) = parsing.take() {
        let (page, _) = parsed(last).await?;
        hand_over(page, collected, sink);
    }
    Ok(())
}

/// Gets a token and reads the first page only: what `check` does to prove the credentials,
/// the permission and the endpoint, without collecting everything. Returns the alerts on it.
pub async fn probe(config: &GraphConfig, http: &Http) -> Result<usize, GraphError> {
    let tokens = token_source(config);
    let url = first_page_url(config, false)?;
    let work = async {
        let response = get_page(http, &tokens, &url).await?;
        let page =
            parse_page(&response.body, "page 1").map_err(|e| GraphError::BadPage(e.to_string()))?;
        Ok(page.alerts.len() + page.set_aside.len())
    };
    tokio::time::timeout(config.deadline, work)
        .await
        .map_err(|_| GraphError::Deadline(config.deadline))?
}

/// The collection's first page, with the server-side filter when asked.
fn first_page_url(config: &GraphConfig, filtered: bool) -> Result<reqwest::Url, GraphError> {
    let base = format!(
        "{}{ALERTS_PATH}",
        config.graph_url.as_str().trim_end_matches('/')
    );
    if filtered {
        reqwest::Url::parse_with_params(&base, [("$filter", SERVER_FILTER)])
    } else {
        reqwest::Url::parse(&base)
    }
    .map_err(|e| GraphError::BadPage(format!("graph_url {base}: {e}")))
}

/// Tokens for Microsoft Graph (scope `{graph_url}/.default`).
pub fn token_source(config: &GraphConfig) -> TokenSource {
    TokenSource::new(
        config.login_url.as_str(),
        &config.tenant_id,
        &config.client_id,
        config.graph_url.as_str(),
        config.sign_in.clone(),
    )
}

/// One page, with one token refresh if the service says the token expired.
async fn get_page(
    http: &Http,
    tokens: &TokenSource,
    url: &reqwest::Url,
) -> Result<http::Response, GraphError> {
    send_authorized(
        http,
        tokens,
        &Call {
            method: reqwest::Method::GET,
            url,
            body: None,
            permission: READ_PERMISSION,
        },
    )
    .await
}

/// A request to Microsoft Graph made with the bearer token.
#[derive(Debug)]
pub struct Call<'a> {
    pub method: reqwest::Method,
    pub url: &'a reqwest::Url,
    /// A JSON body (for PATCH), sent as given.
    pub body: Option<&'a [u8]>,
    /// The permission a 403 names.
    pub permission: &'static str,
}

/// Sends `call` with a token, retried per the client's policy, with one token refresh if the
/// service says the token expired. A 2xx answer is returned; 401, 403, 404 and the rest become
/// the matching [`GraphError`].
pub async fn send_authorized(
    http: &Http,
    tokens: &TokenSource,
    call: &Call<'_>,
) -> Result<http::Response, GraphError> {
    let path = call.url.path().to_owned();
    let response = authorized_request(
        http,
        tokens,
        Request {
            method: call.method.clone(),
            url: call.url,
            headers: &[("Prefer", "include-unknown-enum-members")],
            body: call.body,
        },
        excerpt_says_expired,
    )
    .await?;
    match response.status {
        status if status.is_success() => Ok(response),
        StatusCode::UNAUTHORIZED => Err(GraphError::Unauthorized {
            path,
            message: error::excerpt(&response.body),
        }),
        StatusCode::FORBIDDEN if error::says_missing_mfa(&response.body) => {
            Err(GraphError::MissingMfa {
                path,
                user: tokens.is_user(),
            })
        }
        StatusCode::FORBIDDEN => Err(GraphError::Forbidden {
            path,
            permission: call.permission,
        }),
        StatusCode::NOT_FOUND => Err(GraphError::NotFound {
            path,
            message: error::excerpt(&response.body),
        }),
        status => Err(GraphError::Rejected {
            path,
            status: status.as_u16(),
            message: error::excerpt(&response.body),
        }),
    }
}

/// Graph's way of saying the access token expired.
fn excerpt_says_expired(body: &[u8]) -> bool {
    error::excerpt(body).contains("InvalidAuthenticationToken")
}

/// A `GET` with a bearer token from `tokens` and these extra headers, through [`Http::send`]
/// (so with its retries). A `401` whose body `expired` recognises gets one fresh token and one
/// more try. Returns the first answer that is not transient, whatever its status: the caller
/// says what a status means for its API.
pub async fn authorized_get(
    http: &Http,
    tokens: &TokenSource,
    url: &reqwest::Url,
    headers: &[(&str, &str)],
    expired: impl Fn(&[u8]) -> bool,
) -> Result<http::Response, GraphError> {
    let request = Request {
        method: reqwest::Method::GET,
        url,
        headers,
        body: None,
    };
    authorized_request(http, tokens, request, expired).await
}

/// What [`authorized_request`] sends.
#[derive(Debug)]
struct Request<'a> {
    method: reqwest::Method,
    url: &'a reqwest::Url,
    headers: &'a [(&'a str, &'a str)],
    /// A JSON body, sent as given.
    body: Option<&'a [u8]>,
}

/// The one place a bearer token is put on a request: retried per the client's policy, one fresh
/// token after a `401` that `expired` recognises.
async fn authorized_request(
    http: &Http,
    tokens: &TokenSource,
    request: Request<'_>,
    expired: impl Fn(&[u8]) -> bool,
) -> Result<http::Response, GraphError> {
    let path = request.url.path().to_owned();
    let mut refreshed = false;
    loop {
        let token = tokens.bearer(http).await?;
        let response = http
            .send(&path, || {
                let builder = request.headers.iter().fold(
                    http.client()
                        .request(request.method.clone(), request.url.clone())
                        .bearer_auth(token.expose_secret())
                        .header("Accept", "application/json"),
                    |builder, (name, value)| builder.header(*name, *value),
                );
                match request.body {
                    Some(body) => builder
                        .header("Content-Type", "application/json")
                        .body(body.to_vec()),
                    None => builder,
                }
            })
            .await?;
        if response.status == StatusCode::UNAUTHORIZED && !refreshed && expired(&response.body) {
            info!(
                path,
                "access token rejected as invalid or expired; getting a new one"
            );
            tokens.invalidate().await;
            refreshed = true;
            continue;
        }
        return Ok(response);
    }
}
