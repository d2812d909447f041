//! A fake Partner Center REST API on wiremock, for name lookups, serving the shapes of
//! Microsoft's documented examples (`tests/fixtures/microsoft/customers-page.json`,
//! `relationships-indirect-resellers.json`, `profile-organization.json`; sources in
//! `tests/fixtures/microsoft/SOURCES.md`):
//!
//! - `GET /v1/customers?size=N`: the customers in pages of N, each answer starting with a
//!   byte-order mark as Partner Center's do. A page that is not the last carries
//!   `links.next = {"uri": "/customers?size=N&seekOperation=Next", "headers":
//!   [{"key": "MS-ContinuationToken", "value": …}]}`: relative to the API version, as
//!   documented, and the same on every page, so only the header says where the next page
//!   starts. An unknown token gets 400.
//! - `GET /v1/relationships?relationship_type=IsIndirectCloudSolutionProviderOf`: every
//!   indirect reseller of the customers, once each, in one answer.
//! - `GET /v1/profiles/organization` (with [`mount_profile`]): the partner's own profile.
//!
//! All require `Authorization: Bearer <token>` (else 401). Faults are mounted on the same
//! [`MockServer`] before [`mount`] (wiremock answers with the first mock that matches).

#![allow(
    dead_code,
    reason = "a toolkit for the names tests; not every test uses all of it"
)]

use std::sync::Arc;

use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, Request, Respond, ResponseTemplate};

pub const CUSTOMERS: &str = "/v1/customers";
pub const RELATIONSHIPS: &str = "/v1/relationships";
pub const PROFILE: &str = "/v1/profiles/organization";
pub const CONTINUATION: &str = "MS-ContinuationToken";

/// A customer the fake knows.
#[derive(Debug, Clone)]
pub struct FakeCustomer {
    pub tenant_id: String,
    pub name: String,
    pub domain: String,
    /// (tenant id, name) of its indirect reseller.
    pub reseller: Option<(String, String)>,
}

impl FakeCustomer {
    pub fn new(tenant_id: &str, name: &str) -> Self {
        Self {
            tenant_id: tenant_id.to_owned(),
            name: name.to_owned(),
            domain: format!("{}.onmicrosoft.example", tenant_id.replace('-', "")),
            reseller: None,
        }
    }
}

/// The continuation token for the page starting at `offset`: opaque, with the characters a
/// client must not re-encode.
pub fn continuation(offset: usize) -> String {
    format!("+RID:~{offset:08}#FPC/==")
}

fn offset_of(token: &str) -> Option<usize> {
    token
        .strip_prefix("+RID:~")?
        .strip_suffix("#FPC/==")?
        .parse()
        .ok()
}

/// Serves `customers` on `server`, requiring `Bearer <token>`.
pub async fn mount(server: &MockServer, customers: Vec<FakeCustomer>, token: &str) {
    let customers = Arc::new(customers);
    let endpoint = |answer| Endpoint {
        customers: Arc::clone(&customers),
        token: token.to_owned(),
        answer: Answer::Of(answer),
    };
    Mock::given(method("GET"))
        .and(path(CUSTOMERS))
        .respond_with(endpoint(listing))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(RELATIONSHIPS))
        .and(query_param(
            "relationship_type",
            "IsIndirectCloudSolutionProviderOf",
        ))
        .respond_with(endpoint(relationships))
        .mount(server)
        .await;
}

/// Serves the partner's own organization profile, named `company_name`, requiring `Bearer
/// <token>`: Microsoft's documented example with that name.
pub async fn mount_profile(server: &MockServer, company_name: &str, token: &str) {
    let mut profile: Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/microsoft/profile-organization.json"
    )))
    .unwrap();
    profile["companyName"] = company_name.into();
    Mock::given(method("GET"))
        .and(path(PROFILE))
        .respond_with(Endpoint {
            customers: Arc::default(),
            token: token.to_owned(),
            answer: Answer::Fixed(answer(200, &profile)),
        })
        .mount(server)
        .await;
}

/// Requests for the customer listing, to mount a fault on before [`mount`].
pub fn listing_request() -> MockBuilder {
    Mock::given(method("GET")).and(path(CUSTOMERS))
}

/// Requests for the resellers, to mount a fault on before [`mount`].
pub fn relationships_request() -> MockBuilder {
    Mock::given(method("GET")).and(path(RELATIONSHIPS))
}

/// Requests the server received for the customer listing.
pub async fn listing_calls(server: &MockServer) -> Vec<Request> {
    received(server, |p| p == CUSTOMERS).await
}

/// Requests the server received for relationships.
pub async fn relationship_calls(server: &MockServer) -> Vec<Request> {
    received(server, |p| p == RELATIONSHIPS).await
}

async fn received(server: &MockServer, keep: impl Fn(&str) -> bool) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| keep(r.url.path()))
        .collect()
}

/// A Partner Center error answer: `{"code": status, "description": …}`.
pub fn error(status: u16, description: &str) -> ResponseTemplate {
    answer(status, &json!({"code": status, "description": description}))
}

/// A Partner Center JSON answer: a byte-order mark, then the JSON.
pub fn answer(status: u16, body: &Value) -> ResponseTemplate {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(serde_json::to_vec(body).unwrap());
    ResponseTemplate::new(status).set_body_raw(bytes, "application/json; charset=utf-8")
}

fn authorized(request: &Request, token: &str) -> bool {
    request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(format!("Bearer {token}").as_str())
}

fn unauthorized() -> ResponseTemplate {
    answer(
        401,
        &json!({"code": 401, "description": "Authorization token is invalid or expired."}),
    )
}

/// One of the fake's endpoints over the directory: `Bearer <token>` checked, then `answer`.
struct Endpoint {
    customers: Arc<Vec<FakeCustomer>>,
    token: String,
    answer: Answer,
}

enum Answer {
    Of(fn(&[FakeCustomer], &Request) -> ResponseTemplate),
    Fixed(ResponseTemplate),
}

impl Respond for Endpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if !authorized(request, &self.token) {
            return unauthorized();
        }
        match &self.answer {
            Answer::Of(answer) => answer(&self.customers, request),
            Answer::Fixed(answer) => answer.clone(),
        }
    }
}

/// `GET /v1/customers?size=N`: a page of the listing.
fn listing(customers: &[FakeCustomer], request: &Request) -> ResponseTemplate {
    let size = request
        .url
        .query_pairs()
        .find(|(k, _)| k == "size")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(40);
    let offset = match request.headers.get(CONTINUATION) {
        None => 0,
        Some(value) => match value.to_str().ok().and_then(offset_of) {
            Some(offset) if offset <= customers.len() => offset,
            _ => {
                return answer(
                    400,
                    &json!({"code": 400, "description": "Invalid continuation token."}),
                );
            }
        },
    };
    let end = (offset + size).min(customers.len());
    let items: Vec<Value> = customers[offset..end]
        .iter()
        .map(|c| {
            json!({
                "id": c.tenant_id,
                "commerceId": format!("commerce-{}", c.tenant_id),
                "companyProfile": {
                    "tenantId": c.tenant_id,
                    "domain": c.domain,
                    "companyName": c.name,
                    "attributes": {"objectType": "CustomerCompanyProfile"}
                },
                "relationshipToPartner": if c.reseller.is_some() { "reseller" } else { "none" },
                "attributes": {"objectType": "Customer"}
            })
        })
        .collect();
    let mut body = json!({
        "totalCount": items.len(),
        "items": items,
        "links": {"self": {"uri": format!("/customers?size={size}"), "method": "GET", "headers": []}},
        "attributes": {"objectType": "Collection"}
    });
    if end < customers.len() {
        body["links"]["next"] = json!({
            "uri": format!("/customers?size={size}&seekOperation=Next"),
            "method": "GET",
            "headers": [{"key": CONTINUATION, "value": continuation(end)}]
        });
    }
    answer(200, &body)
}

/// `GET /v1/relationships?relationship_type=IsIndirectCloudSolutionProviderOf`: every
/// indirect reseller of the customers, once each, as Microsoft's documented example shapes them.
fn relationships(customers: &[FakeCustomer], _request: &Request) -> ResponseTemplate {
    let mut seen = std::collections::HashSet::new();
    let items: Vec<Value> = customers
        .iter()
        .filter_map(|c| c.reseller.as_ref())
        .filter(|(id, _)| seen.insert(id.to_ascii_lowercase()))
        .map(|(id, name)| {
            json!({
                "id": id, "name": name,
                "relationshipType": "is_indirect_cloud_solution_provider_of",
                "state": "Active", "mpnId": "4847383", "location": "US",
                "attributes": {"objectType": "PartnerRelationship"}
            })
        })
        .collect();
    answer(
        200,
        &json!({"totalCount": items.len(), "items": items, "attributes": {"objectType": "Collection"}}),
    )
}
