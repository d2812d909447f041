//! Rows A: getting and keeping an access token.

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockBuilder, ResponseTemplate};

use super::{Harness, SECRET, TENANT, TOKEN, alerts_request, ids, page, token_answer};
use crate::support::assert_mentions;
use csp_alert_digest::source::graph::GraphError;
use csp_alert_digest::source::graph::{Credential, SignIn};
use secrecy::SecretString;

/// Requests to the token endpoint.
fn token_request() -> MockBuilder {
    Mock::given(method("POST")).and(path(format!("/{TENANT}/oauth2/v2.0/token")))
}

/// The token endpoint answers the next `times` requests with `answer` (and is asked exactly
/// that often).
async fn token_answers(h: &Harness, answer: ResponseTemplate, times: u64) {
    token_request()
        .respond_with(answer)
        .up_to_n_times(times)
        .expect(times)
        .mount(&h.server)
        .await;
}

/// The error a collection ends with when the token endpoint answers `status` with `body`, once.
async fn token_refused(status: u16, body: serde_json::Value) -> (Harness, GraphError) {
    let h = Harness::start().await;
    token_answers(&h, ResponseTemplate::new(status).set_body_json(body), 1).await;
    let err = h.collect().await.unwrap_err();
    (h, err)
}

/// The token endpoint answers `request` with a good token, and is asked so exactly once.
async fn token_once(h: &Harness, request: MockBuilder) {
    request
        .respond_with(token_answer(&json!(3599)))
        .expect(1)
        .mount(&h.server)
        .await;
}

async fn one_page(h: &Harness) {
    h.first_page(page(&["a"], None)).await;
}

#[tokio::test]
async fn a1_wrong_secret_is_permanent_names_the_code_and_never_the_secret() {
    let (h, err) = token_refused(
        400,
        json!({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}),
    )
    .await;
    assert!(err.is_permanent(), "{err}");
    let message = err.to_string();
    assert_mentions(&message, &["AADSTS7000215", "secret is wrong"]);
    assert!(!message.contains(SECRET));
    assert!(h.waits().is_empty(), "no retry");
}

#[tokio::test]
async fn a2_a3_refused_credentials_and_scopes_are_permanent_with_distinct_hints() {
    let cases = [
        (
            401,
            json!({"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys are expired.","error_codes":[7000222]}),
            "expired",
        ),
        (
            400,
            json!({"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier 'x' was not found in the directory.","error_codes":[700016]}),
            "not known in this tenant",
        ),
        (
            400,
            json!({"error":"unauthorized_client"}),
            "not allowed to use client credentials",
        ),
        (400, json!({"error":"invalid_scope"}), "scope was refused"),
    ];
    for (status, body, hint) in cases {
        let (_, err) = token_refused(status, body).await;
        assert!(err.is_permanent(), "{err}");
        assert!(
            err.to_string().contains(hint),
            "{err} should contain {hint}"
        );
    }
}

#[tokio::test]
async fn a4_token_endpoint_5xx_is_retried_then_succeeds() {
    let h = Harness::start().await;
    token_answers(&h, ResponseTemplate::new(503), 1).await;
    h.token_ok().await;
    one_page(&h).await;
    let collected = h.collect().await.unwrap();
    assert_eq!(ids(&collected), ["a"]);
    assert_eq!(h.waits().len(), 1);
    assert_eq!(collected.retries, 1);
}

#[tokio::test]
async fn a4_a_token_endpoint_that_stays_down_fails_as_transient() {
    let h = Harness::start().await;
    token_answers(&h, ResponseTemplate::new(500), 3).await;
    h.gives_up_after(3).await;
}

#[tokio::test]
async fn a5_expires_in_as_a_string_is_accepted_and_one_token_serves_every_page() {
    let h = Harness::start().await;
    token_request()
        .respond_with(token_answer(&json!("3599")))
        .mount(&h.server)
        .await;
    h.two_pages().await;
    let collected = h.collect().await.unwrap();
    assert_eq!(ids(&collected), ["a", "b"]);
    assert_eq!(h.token_requests().await, 1);
}

#[tokio::test]
async fn a5_a_zero_or_negative_lifetime_does_not_become_a_request_per_page() {
    for lifetime in [json!(0), json!(-5)] {
        let h = Harness::start().await;
        token_request()
            .respond_with(token_answer(&lifetime))
            .mount(&h.server)
            .await;
        h.two_pages().await;
        h.collect().await.unwrap();
        assert_eq!(h.token_requests().await, 1);
    }
}

#[tokio::test]
async fn a5_an_answer_without_a_token_or_in_html_is_an_error() {
    for answer in [
        ResponseTemplate::new(200).set_body_json(json!({"token_type":"Bearer","expires_in":3599})),
        ResponseTemplate::new(200).set_body_raw("<html>Sign in</html>", "text/html"),
    ] {
        let h = Harness::start().await;
        token_answers(&h, answer, 1).await;
        let err = h.collect().await.unwrap_err().to_string();
        assert!(err.contains("token"), "{err}");
    }
}

/// Matches a form body whose `name` field decodes to exactly `value`.
struct FormField(&'static str, String);

impl Match for FormField {
    fn matches(&self, request: &wiremock::Request) -> bool {
        form_decode(&request.body)
            .iter()
            .any(|(k, v)| k == self.0 && *v == self.1)
    }
}

/// application/x-www-form-urlencoded, decoded by hand so the test does not trust the encoder.
fn form_decode(body: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).unwrap()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

#[tokio::test]
async fn a7_secrets_with_reserved_and_non_ascii_characters_are_form_encoded() {
    let secret = "a&b=c+d%20e ü/ß~";
    let mut h = Harness::start().await;
    h.config.sign_in = SignIn::App(Credential::Secret(SecretString::from(secret)));
    token_once(
        &h,
        token_request()
            .and(FormField("client_secret", secret.to_owned()))
            .and(FormField("grant_type", "client_credentials".to_owned()))
            .and(FormField("scope", format!("{}/.default", h.server.uri()))),
    )
    .await;
    one_page(&h).await;
    h.collect().await.unwrap();
}

#[tokio::test]
async fn a_federated_token_file_is_read_again_for_every_token_request() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "jwt-one\n").unwrap();
    let mut h = Harness::start().await;
    h.config.sign_in = SignIn::App(Credential::FederatedTokenFile(file.clone()));
    for jwt in ["jwt-one", "jwt-two"] {
        token_once(
            &h,
            token_request()
                .and(FormField("client_assertion", jwt.to_owned()))
                .and(FormField(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
                )),
        )
        .await;
    }
    one_page(&h).await;
    h.collect().await.unwrap();
    std::fs::write(&file, "jwt-two").unwrap();
    h.collect().await.unwrap();
}

#[tokio::test]
async fn a6_forbidden_is_permanent_and_names_the_permission() {
    let h = Harness::with_token().await;
    h.every_page(
        ResponseTemplate::new(403).set_body_json(
            json!({"error":{"code":"Forbidden","message":"Insufficient privileges"}}),
        ),
        1,
    )
    .await;
    let err = h.collect().await.unwrap_err();
    assert!(err.is_permanent());
    let message = err.to_string();
    assert_mentions(&message, &["PartnerSecurity.Read.All", "admin consent"]);
}

#[tokio::test]
async fn requests_carry_the_bearer_token_and_ask_for_unknown_enum_members() {
    let h = Harness::with_token().await;
    h.collect_one_page_for(
        alerts_request()
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .and(header("prefer", "include-unknown-enum-members")),
    )
    .await;
}
