//! Partner Center REST, for names: one paged listing of the partner's customers
//! (`GET /v1/customers?size=N`, then `links.next.uri` with every header of `links.next.headers`,
//! i.e. the `MS-ContinuationToken`), and, where the token allows it, a customer's indirect
//! resellers (`GET /v1/customers/{id}/relationships`, documented for App+User tokens only).
//!
//! It signs in with `[source]`'s app (scope [`SCOPE`]) and goes through the Graph collector's
//! [`Http`] client, so the same retries, `Retry-After` handling, timeouts, body cap and token
//! refresh apply. Partner Center answers may start with a byte-order mark.

use reqwest::{StatusCode, Url};
use serde::Deserialize;
use serde_json::value::RawValue;
use tracing::debug;

use super::PartnerCenterConfig;
use crate::source::graph::error::excerpt;
use crate::source::graph::http::Response;
use crate::source::graph::paging::Guard;
use crate::source::graph::{GraphConfig, SignIn};
use crate::source::graph::{GraphError, Http, TokenSource, authorized_get};

/// The token scope of Partner Center's API for app-only tokens, whatever `partner_center_url`
/// points at.
pub const SCOPE: &str = "https://api.partnercenter.microsoft.com/.default";

/// The scope of App+User tokens (`sign_in = "user"`): the user's delegated access.
pub const USER_SCOPE: &str = "https://api.partnercenter.microsoft.com/user_impersonation";

/// The customers collection.
pub const CUSTOMERS_PATH: &str = "/v1/customers";

/// The header that carries the position in a paged listing.
pub const CONTINUATION_HEADER: &str = "MS-ContinuationToken";

/// Headers a `links.next` may not set: the client's own, or ones that would change the
/// connection or where credentials go.
const NEVER_FORWARDED: &[&str] = &[
    "authorization",
    "host",
    "cookie",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "ms-correlationid",
    "ms-requestid",
];

/// A customer as the listing names it; ids lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub tenant_id: String,
    /// The company name, or the primary domain when the profile has no name.
    pub name: String,
    pub domain: Option<String>,
}

/// A whole customer listing.
#[derive(Debug, Default)]
pub struct Listing {
    pub customers: Vec<Customer>,
    pub pages: usize,
    /// Records without a tenant id or a name, or of the wrong shape.
    pub set_aside: usize,
}

/// A reseller as a customer's relationships name it; id lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reseller {
    pub tenant_id: String,
    pub name: String,
}

/// Partner Center, signed in as `[source]`'s app.
#[derive(Debug)]
pub struct Client<'a> {
    http: &'a Http,
    tokens: TokenSource,
    base: Url,
    page_size: usize,
    max_pages: usize,
    /// One `MS-CorrelationId` for every request of the run, for Microsoft support.
    correlation_id: String,
}

impl<'a> Client<'a> {
    pub fn new(http: &'a Http, graph: &GraphConfig, config: &PartnerCenterConfig) -> Self {
        let correlation_id = random_guid();
        debug!(correlation_id, "Partner Center correlation id");
        Self {
            http,
            tokens: TokenSource::with_scope(
                graph.login_url.as_str(),
                &graph.tenant_id,
                &graph.client_id,
                match graph.sign_in {
                    SignIn::App(_) => SCOPE,
                    SignIn::User { .. } => USER_SCOPE,
                },
                graph.sign_in.clone(),
            ),
            base: config.url.clone(),
            page_size: config.customer_page_size,
            max_pages: graph.max_pages,
            correlation_id,
        }
    }

    /// `GET /v1/customers?size=N`: the listing's first page.
    fn first_page_url(&self) -> Result<Url, GraphError> {
        let mut url = self
            .base
            .join(CUSTOMERS_PATH)
            .map_err(|e| GraphError::BadPage(format!("partner_center_url: {e}")))?;
        url.query_pairs_mut()
            .append_pair("size", &self.page_size.to_string());
        Ok(url)
    }

    /// Gets a token and reads the listing's first page only, for `check`: returns the
    /// customers on it.
    pub async fn probe(&self) -> Result<usize, GraphError> {
        let url = self.first_page_url()?;
        let response = self.get(&url, &[]).await?;
        let page: Page = parse(&response.body, "customers page 1")?;
        Ok(page.items.map_or(0, |items| items.len()))
    }

    /// Every customer of the partner, following `links.next` to the end. All or nothing: a
    /// page that fails fails the listing (names then come from the cache).
    pub async fn customers(&self) -> Result<Listing, GraphError> {
        let mut url = self.first_page_url()?;
        let mut guard = Guard::named(
            &self.base,
            self.max_pages,
            "links.next",
            "names.partner_center_url",
        );
        let mut forwarded: Vec<(String, String)> = Vec::new();
        let mut listing = Listing::default();
        loop {
            let state: Vec<String> = forwarded.iter().map(|(k, v)| format!("{k}={v}")).collect();
            guard.visit_with(&url, &state.join("&"))?;
            let headers: Vec<(&str, &str)> = forwarded
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let response = self.get(&url, &headers).await?;
            listing.pages += 1;
            let label = format!("customers page {} ({})", listing.pages, url.path());
            let page: Page = parse(&response.body, &label)?;
            for item in page.items.unwrap_or_default() {
                match customer(&item) {
                    Some(c) => listing.customers.push(c),
                    None => listing.set_aside += 1,
                }
            }
            let Some(next) = page.links.and_then(|l| l.next) else {
                break;
            };
            let uri = next
                .uri
                .filter(|u| !u.trim().is_empty())
                .ok_or_else(|| GraphError::BadPage(format!("{label}: links.next has no uri")))?;
            url = guard.next_relative(&uri)?;
            forwarded = next
                .headers
                .unwrap_or_default()
                .into_iter()
                .filter(|h| !NEVER_FORWARDED.contains(&h.key.to_ascii_lowercase().as_str()))
                .map(|h| (h.key, h.value))
                .collect();
        }
        debug!(
            customers = listing.customers.len(),
            pages = listing.pages,
            set_aside = listing.set_aside,
            "Partner Center customers listed"
        );
        Ok(listing)
    }

    /// The indirect resellers of one customer (App+User only, as documented: an app-only
    /// token may be refused with 401 or 403).
    pub async fn resellers_of(
        &self,
        customer_tenant_id: &str,
    ) -> Result<Vec<Reseller>, GraphError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| GraphError::BadPage("partner_center_url cannot be a base".to_owned()))?
            .clear()
            .extend(["v1", "customers", customer_tenant_id, "relationships"]);
        let response = self.get(&url, &[]).await?;
        let label = format!("relationships ({})", url.path());
        let page: Page = parse(&response.body, &label)?;
        Ok(page
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|item| reseller(item))
            .collect())
    }

    /// A `GET` with the run's correlation id and a request id (the same on retries); any
    /// status but 200 is an error that keeps the status, for the caller to judge.
    async fn get(&self, url: &Url, headers: &[(&str, &str)]) -> Result<Response, GraphError> {
        let request_id = random_guid();
        let mut all = vec![
            ("MS-CorrelationId", self.correlation_id.as_str()),
            ("MS-RequestId", request_id.as_str()),
        ];
        all.extend_from_slice(headers);
        // Partner Center does not document an "expired token" code: any 401 gets one fresh
        // token and one more try.
        let response = authorized_get(self.http, &self.tokens, url, &all, |_| true).await?;
        if response.status == StatusCode::OK {
            return Ok(response);
        }
        Err(GraphError::Rejected {
            path: url.path().to_owned(),
            status: response.status.as_u16(),
            message: excerpt(&response.body),
        })
    }
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    items: Option<Vec<Box<RawValue>>>,
    #[serde(default)]
    links: Option<Links>,
}

#[derive(Deserialize)]
struct Links {
    #[serde(default)]
    next: Option<Next>,
}

#[derive(Deserialize)]
struct Next {
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    headers: Option<Vec<Header>>,
}

#[derive(Deserialize)]
struct Header {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCustomer {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    company_profile: Option<CompanyProfile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompanyProfile {
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    company_name: Option<String>,
    #[serde(default)]
    domain: Option<String>,
}

#[derive(Deserialize)]
struct RawReseller {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// A page's JSON, after an optional byte-order mark; errors name the page and byte offset.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8], label: &str) -> Result<T, GraphError> {
    let json = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    serde_json::from_slice(json).map_err(|e| {
        let offset = json
            .split_inclusive(|&b| b == b'\n')
            .take(e.line().saturating_sub(1))
            .map(<[u8]>::len)
            .sum::<usize>()
            + e.column().saturating_sub(1);
        GraphError::BadPage(format!(
            "{label}: not a Partner Center answer (byte {offset}: {e}): {}",
            excerpt(body)
        ))
    })
}

fn present(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// One listing record, or `None` when it cannot name anybody.
fn customer(item: &RawValue) -> Option<Customer> {
    let raw: RawCustomer = serde_json::from_str(item.get()).ok()?;
    let profile = raw.company_profile;
    let (tenant, name, domain) = match profile {
        Some(p) => (p.tenant_id, p.company_name, p.domain),
        None => (None, None, None),
    };
    let tenant_id = present(tenant).or(present(raw.id))?.to_ascii_lowercase();
    let domain = present(domain);
    let name = present(name).or_else(|| domain.clone())?;
    Some(Customer {
        tenant_id,
        name,
        domain,
    })
}

fn reseller(item: &RawValue) -> Option<Reseller> {
    let raw: RawReseller = serde_json::from_str(item.get()).ok()?;
    Some(Reseller {
        tenant_id: present(raw.id)?.to_ascii_lowercase(),
        name: present(raw.name)?,
    })
}

/// A random version-4 GUID for the request-tracing headers (not a secret, not for security).
fn random_guid() -> String {
    use std::fmt::Write as _;
    use std::hash::{BuildHasher, Hasher};
    let mut bytes = [0u8; 16];
    for chunk in bytes.chunks_mut(8) {
        let value = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        chunk.copy_from_slice(&value.to_le_bytes());
    }
    bytes[6] = (bytes[6] & 0x0F) | 0x40;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    let hex = bytes.iter().fold(String::with_capacity(32), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    });
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).unwrap()
    }

    #[test]
    fn a_customer_is_named_by_its_profile_or_its_domain() {
        let c = customer(&raw(
            r#"{"id":"X","companyProfile":{"tenantId":"ABC","companyName":" Contoso ","domain":"contoso.onmicrosoft.com"}}"#,
        ))
        .unwrap();
        assert_eq!(
            c,
            Customer {
                tenant_id: "abc".to_owned(),
                name: "Contoso".to_owned(),
                domain: Some("contoso.onmicrosoft.com".to_owned())
            }
        );
        let by_domain = customer(&raw(
            r#"{"id":"ABC","companyProfile":{"companyName":"","domain":"fabrikam.example"}}"#,
        ))
        .unwrap();
        assert_eq!(
            (by_domain.tenant_id.as_str(), by_domain.name.as_str()),
            ("abc", "fabrikam.example")
        );
    }

    #[test]
    fn records_that_cannot_name_anybody_are_set_aside() {
        for bad in [
            r#"{"id":"abc"}"#,
            r#"{"companyProfile":{"companyName":"No id"}}"#,
            r#"{"id":"abc","companyProfile":{"companyName":5}}"#,
            r"[1,2]",
        ] {
            assert_eq!(customer(&raw(bad)), None, "{bad}");
        }
    }

    #[test]
    fn answers_may_start_with_a_byte_order_mark_and_errors_name_the_offset() {
        let page: Page = parse(b"\xEF\xBB\xBF{\"items\":[]}", "p").unwrap();
        assert!(page.items.unwrap().is_empty());
        let err = parse::<Page>(b"{\"items\": [,]}", "customers page 2")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("customers page 2: not a Partner Center answer (byte 11"),
            "{err}"
        );
    }

    #[test]
    fn request_ids_are_version_4_guids() {
        let a = random_guid();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_ne!(a, random_guid());
    }
}
