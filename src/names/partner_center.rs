//! Partner Center REST, for names: one paged listing of the partner's customers
//! (`GET /v1/customers?size=N`, then `links.next.uri` with every header of `links.next.headers`,
//! i.e. the `MS-ContinuationToken`), and, where the token allows it (both are documented for
//! App+User tokens only), every indirect reseller in one call
//! (`GET /v1/relationships?relationship_type=IsIndirectCloudSolutionProviderOf`) and the
//! partner's own profile (`GET /v1/profiles/organization`).
//!
//! Partner Center's links are relative to the API version: the documented examples give
//! `/customers?size=40&seekOperation=Next`, which is requested as `/v1/customers?…` (a link that
//! already starts with `/v1/` is taken as it is; one that leaves the host is refused).
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

/// Every indirect reseller of an indirect provider, in one call.
pub const RELATIONSHIPS_PATH: &str = "/v1/relationships";

/// The partner's own profile.
pub const PROFILE_PATH: &str = "/v1/profiles/organization";

/// The API version Partner Center's relative links leave out.
const VERSION: &str = "v1";

/// The relationship types that make a partner tenant an indirect reseller of ours (values of
/// Microsoft's SDK models); others (`none`, types added later) are skipped.
const RESELLER_RELATIONSHIPS: &[&str] = &[
    "is_indirect_cloud_solution_provider_of",
    "is_indirect_reseller_of",
];

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
    /// Why the listing stopped before its end: a later page failed, and the customers of the
    /// pages before it are kept.
    pub incomplete: Option<String>,
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

    /// Whether the client signs in as a partner user (App+User).
    pub fn is_user(&self) -> bool {
        self.tokens.is_user()
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

    /// Every customer of the partner, following `links.next` to the end. A first page that
    /// fails fails the listing (names then come from the cache); a later one ends it, keeping
    /// what the pages before it listed (see [`Listing::incomplete`]).
    pub async fn customers(&self) -> Result<Listing, GraphError> {
        let mut listing = Listing::default();
        let first = self.first_page_url()?;
        let pages = self
            .pages(first, "customers", &mut |item| match customer(item) {
                Some(c) => listing.customers.push(c),
                None => listing.set_aside += 1,
            })
            .await;
        match pages {
            Ok(pages) => listing.pages = pages,
            Err((0, e)) => return Err(e),
            Err((pages, e)) => {
                listing.pages = pages;
                listing.incomplete = Some(format!(
                    "the customer listing stopped after page {pages} ({e}); the {} customers of the pages before are used",
                    listing.customers.len()
                ));
            }
        }
        debug!(
            customers = listing.customers.len(),
            pages = listing.pages,
            set_aside = listing.set_aside,
            "Partner Center customers listed"
        );
        Ok(listing)
    }

    /// Every indirect reseller, in one call (App+User only, as documented: an app-only token
    /// may be refused with 401 or 403). Relationship types this build does not know are
    /// skipped.
    pub async fn resellers(&self) -> Result<Vec<Reseller>, GraphError> {
        let mut url = self.url(RELATIONSHIPS_PATH)?;
        url.query_pairs_mut()
            .append_pair("relationship_type", "IsIndirectCloudSolutionProviderOf");
        let mut resellers = Vec::new();
        let mut skipped = 0;
        self.pages(url, "relationships", &mut |item| match reseller(item) {
            Some(r) => resellers.push(r),
            None => skipped += 1,
        })
        .await
        .map_err(|(_, e)| e)?;
        debug!(
            resellers = resellers.len(),
            skipped, "Partner Center resellers listed"
        );
        Ok(resellers)
    }

    /// The partner's own company name, from its organization profile (App+User only).
    pub async fn own_name(&self) -> Result<Option<String>, GraphError> {
        let url = self.url(PROFILE_PATH)?;
        let response = self.get(&url, &[]).await?;
        let profile: Profile = parse(&response.body, "organization profile")?;
        Ok(present(profile.company_name))
    }

    fn url(&self, path: &str) -> Result<Url, GraphError> {
        self.base
            .join(path)
            .map_err(|e| GraphError::BadPage(format!("partner_center_url: {e}")))
    }

    /// Reads a paged collection from `first`, following `links.next` (relative to the API
    /// version) with its headers, handing each item to `item`. Returns the pages read, or the
    /// pages read before the one that failed and why.
    async fn pages(
        &self,
        first: Url,
        what: &str,
        item: &mut (dyn FnMut(&RawValue) + Send),
    ) -> Result<usize, (usize, GraphError)> {
        let mut url = first;
        let mut guard = Guard::named(
            &self.base,
            self.max_pages,
            "links.next",
            "names.partner_center_url",
        );
        let mut forwarded: Vec<(String, String)> = Vec::new();
        let mut pages = 0;
        loop {
            let state: Vec<String> = forwarded.iter().map(|(k, v)| format!("{k}={v}")).collect();
            guard
                .visit_with(&url, &state.join("&"))
                .map_err(|e| (pages, e))?;
            let headers: Vec<(&str, &str)> = forwarded
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let response = self.get(&url, &headers).await.map_err(|e| (pages, e))?;
            let label = format!("{what} page {} ({})", pages + 1, url.path());
            let page: Page = parse(&response.body, &label).map_err(|e| (pages, e))?;
            pages += 1;
            for i in page.items.unwrap_or_default() {
                item(&i);
            }
            let Some(next) = page.links.and_then(|l| l.next) else {
                return Ok(pages);
            };
            let uri = next.uri.filter(|u| !u.trim().is_empty()).ok_or_else(|| {
                (
                    pages,
                    GraphError::BadPage(format!("{label}: links.next has no uri")),
                )
            })?;
            url = guard
                .next_relative(&versioned(&uri))
                .map_err(|e| (pages, e))?;
            forwarded = next
                .headers
                .unwrap_or_default()
                .into_iter()
                .filter(|h| !NEVER_FORWARDED.contains(&h.key.to_ascii_lowercase().as_str()))
                .map(|h| (h.key, h.value))
                .collect();
        }
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
#[serde(rename_all = "camelCase")]
struct RawReseller {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    relationship_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    #[serde(default)]
    company_name: Option<String>,
}

/// A `links.*.uri` as a path under the API version: `/customers?…` → `/v1/customers?…`;
/// `/v1/customers?…` and absolute URLs stay as they are (the guard checks the host).
fn versioned(uri: &str) -> String {
    let uri = uri.trim();
    if uri.contains("://") {
        return uri.to_owned();
    }
    let path = uri.trim_start_matches('/');
    if path == VERSION || path.starts_with(&format!("{VERSION}/")) {
        format!("/{path}")
    } else {
        format!("/{VERSION}/{path}")
    }
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
    // A relationship without a type is taken as the call asked; a type we do not know is not.
    if let Some(kind) = raw.relationship_type.as_deref()
        && !RESELLER_RELATIONSHIPS
            .iter()
            .any(|k| k.eq_ignore_ascii_case(kind.trim()))
    {
        debug!(
            kind,
            "relationship of a type this build does not know: skipped"
        );
        return None;
    }
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
    fn relative_links_are_under_the_api_version_and_absolute_ones_are_kept() {
        assert_eq!(
            versioned("/customers?size=40&seekOperation=Next"),
            "/v1/customers?size=40&seekOperation=Next"
        );
        assert_eq!(
            versioned("/v1/customers?size=40&seekOperation=Next"),
            "/v1/customers?size=40&seekOperation=Next"
        );
        assert_eq!(versioned("customers?x=1"), "/v1/customers?x=1");
        assert_eq!(
            versioned("https://evil.example/v1/x"),
            "https://evil.example/v1/x"
        );
    }

    #[test]
    fn resellers_of_unknown_relationship_types_are_skipped() {
        // tests/fixtures/microsoft/relationships-indirect-resellers.json, one item of it.
        let documented = raw(
            r#"{"id":"484e548c-f5f3-4528-93a9-c16c6373cb59","name":"First Up Consultants","relationshipType":"is_indirect_cloud_solution_provider_of","state":"Active","mpnId":"4847383","location":"US","attributes":{"objectType":"PartnerRelationship"}}"#,
        );
        assert_eq!(
            reseller(&documented),
            Some(Reseller {
                tenant_id: "484e548c-f5f3-4528-93a9-c16c6373cb59".into(),
                name: "First Up Consultants".into()
            })
        );
        assert_eq!(
            reseller(&raw(r#"{"id":"x","name":"Y","relationshipType":"none"}"#)),
            None
        );
        assert_eq!(
            reseller(&raw(
                r#"{"id":"x","name":"Y","relationshipType":"is_something_new"}"#
            )),
            None
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
