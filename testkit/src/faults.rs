//! Scripted faults of the fake Graph service: what it does instead of the normal answer to the
//! n-th request for a page, the token endpoint or one alert.

use serde_json::json;

use crate::http::JSON;

/// The `page` of a [`Fault`] that acts on the token endpoint instead of an alerts page.
pub const TOKEN_ENDPOINT: usize = usize::MAX;

/// The `page` of a [`Fault`] that acts on the requests for one alert (`…/securityAlerts/{id}`),
/// counted together whatever the id and method.
pub const ONE_ALERT: usize = usize::MAX - 1;

/// A scripted fault: what to do with the `attempt`-th request (0 = the first) for `page`. When
/// several faults match a request, the first in [`crate::Options::faults`] acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// 0-based page index; [`TOKEN_ENDPOINT`] for the token endpoint.
    pub page: usize,
    /// 0 = the first request for that page.
    pub attempt: usize,
    pub action: Action,
}

impl Fault {
    pub fn new(page: usize, attempt: usize, action: Action) -> Self {
        Self {
            page,
            attempt,
            action,
        }
    }
}

/// What a [`Fault`] does instead of the normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Answer with this status, optional `Retry-After` header, body and content type.
    Status {
        code: u16,
        retry_after: Option<String>,
        body: String,
        content_type: String,
    },
    /// Read the request, then reset the connection (TCP RST) without answering.
    ResetBeforeHeaders,
    /// Send the normal headers with the full `Content-Length`, half the body, then close.
    TruncatedBody,
    /// Send the normal headers at once, then the body at this rate (0: never a byte; the
    /// connection stays open until the client closes it).
    SlowBody { bytes_per_second: u32 },
    /// `200` with a `text/html` page, as an intercepting proxy or captive portal would send.
    HtmlPage,
    /// Serve the page normally but with this `@odata.nextLink` (JSON-escaped, otherwise verbatim).
    /// On the token endpoint: the normal answer.
    NextLink(String),
    /// `200 {"value":[], "@odata.nextLink": …}`: the real page follows at the next link, a second
    /// address of the same page (not the URL just requested, so it is no cycle). The request
    /// that follows it is the next attempt for the same page. On the token endpoint: the normal
    /// answer.
    EmptyPageWithNext,
    /// Read the request and never answer; the connection stays open until the client closes it.
    Stall,
}

impl Action {
    /// A Graph-shaped JSON error with this status, e.g. `Action::status(429, Some("7"))`.
    pub fn status(code: u16, retry_after: Option<&str>) -> Self {
        let (error, message) = match code {
            400 => ("BadRequest", "The request is invalid."),
            401 => (
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
            ),
            403 => (
                "Forbidden",
                "Missing role permissions on the request. API requires one of \
                 'PartnerSecurity.Read.All, PartnerSecurity.ReadWrite.All'.",
            ),
            404 => ("ResourceNotFound", "Resource not found."),
            429 => (
                "TooManyRequests",
                "Too many requests. Please retry after some time.",
            ),
            503 => (
                "ServiceUnavailable",
                "The service is temporarily unavailable.",
            ),
            504 => ("GatewayTimeout", "The gateway timed out."),
            _ => ("UnknownError", "An error occurred."),
        };
        Self::Status {
            code,
            retry_after: retry_after.map(str::to_owned),
            body: graph_error(error, message),
            content_type: JSON.to_owned(),
        }
    }
}

/// A Graph-shaped JSON error body.
pub(crate) fn graph_error(code: &str, message: &str) -> String {
    json!({"error": {"code": code, "message": message}}).to_string()
}
