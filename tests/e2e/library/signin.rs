//! App+User sign-in at the HTTP level, against wiremock serving Microsoft Entra ID's documented
//! shapes (`tests/fixtures/microsoft/`, sources in its SOURCES.md): the device code flow of
//! `login` (pending, `slow_down`, declined, expired), refresh tokens that work once and rotate,
//! a refused refresh token, a seed, and Graph's `403 Unauthorized_MissingMFA` for app-only
//! tokens. Waits are recorded, not slept.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use csp_alert_digest::retry::Sleeper;
use csp_alert_digest::source::graph::device::{self, DeviceError, Flow};
use csp_alert_digest::source::graph::signin::{Origin, Stored};
use csp_alert_digest::source::graph::{
    self, Credential, GraphError, Http, HttpSettings, RefreshStore, SignIn, TokenSource,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{assert_mentions, microsoft};

const TENANT: &str = "partner-tenant";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const DEVICE_PATH: &str = "/partner-tenant/oauth2/v2.0/devicecode";
const TOKEN_PATH: &str = "/partner-tenant/oauth2/v2.0/token";

/// The documented device-code success answer, with tokens of our own.
fn device_success(refresh: &str) -> Value {
    let mut answer = microsoft::json("token-success-device.json");
    answer["access_token"] = "user-access-from-login".into();
    answer["refresh_token"] = refresh.into();
    answer["id_token"] = microsoft::id_token(CLIENT, "admin@contoso-partner.example").into();
    answer
}

fn http(waits: &Arc<Mutex<Vec<Duration>>>) -> Http {
    Http::new(HttpSettings {
        request_timeout: Duration::from_secs(5),
        max_body: 1 << 20,
        policy: csp_alert_digest::retry::RetryPolicy::default(),
        sleeper: Sleeper::Record(waits.clone()),
        jitter: Some(7),
    })
    .unwrap()
}

/// Answers the token endpoint's polls from a script, one answer per poll (the last repeats),
/// and records each request's body.
struct Script {
    answers: Vec<(u16, Value)>,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Respond for Script {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut bodies = self.bodies.lock().unwrap();
        bodies.push(String::from_utf8_lossy(&request.body).into_owned());
        let (status, body) = &self.answers[(bodies.len() - 1).min(self.answers.len() - 1)];
        ResponseTemplate::new(*status).set_body_json(body)
    }
}

struct Login {
    server: MockServer,
    waits: Arc<Mutex<Vec<Duration>>>,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Login {
    async fn start(device_code: Value, polls: Vec<(u16, Value)>) -> Self {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(DEVICE_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(device_code))
            .expect(1)
            .mount(&server)
            .await;
        let bodies = Arc::<Mutex<Vec<String>>>::default();
        Mock::given(method("POST"))
            .and(path(TOKEN_PATH))
            .respond_with(Script {
                answers: polls,
                bodies: bodies.clone(),
            })
            .mount(&server)
            .await;
        Self {
            server,
            waits: Arc::default(),
            bodies,
        }
    }

    async fn sign_in(&self) -> (Result<device::SignedIn, DeviceError>, Vec<String>) {
        let uri = self.server.uri();
        let flow = Flow {
            login_url: &uri,
            tenant_id: TENANT,
            client_id: CLIENT,
            scope: "openid profile offline_access https://graph.microsoft.com/.default",
            credential: None,
        };
        let mut shown = Vec::new();
        let result = device::sign_in(
            &http(&self.waits),
            &flow,
            &mut |m| shown.push(m.to_owned()),
            &Sleeper::Record(self.waits.clone()),
        )
        .await;
        (result, shown)
    }

    fn waits(&self) -> Vec<u64> {
        self.waits
            .lock()
            .unwrap()
            .iter()
            .map(Duration::as_secs)
            .collect()
    }
}

#[tokio::test]
async fn login_shows_microsofts_message_polls_at_its_interval_and_names_who_signed_in() {
    let login = Login::start(
        microsoft::json("devicecode-response.json"),
        vec![
            (400, microsoft::json("token-authorization-pending.json")),
            (200, device_success("refresh-from-login")),
        ],
    )
    .await;
    let (result, shown) = login.sign_in().await;
    let signed_in = result.unwrap();
    assert_eq!(
        shown,
        [microsoft::json("devicecode-response.json")["message"]
            .as_str()
            .unwrap()]
    );
    assert_eq!(
        signed_in.refresh_token.expose_secret(),
        "refresh-from-login"
    );
    assert_eq!(
        signed_in.username.as_deref(),
        Some("admin@contoso-partner.example")
    );
    // Two polls, each after the documented interval (5 s).
    assert_eq!(login.waits(), [5, 5]);
    let bodies = login.bodies.lock().unwrap();
    assert!(bodies.iter().all(|b| {
        b.contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code")
            && b.contains("device_code=GMMhmHCXhWEzkobqIHGG_EnNYYsAkukHspeYUk9E8")
            && !b.contains("client_secret")
    }));
}

#[tokio::test]
async fn slow_down_adds_five_seconds_to_every_later_poll() {
    let pending = (400, microsoft::json("token-authorization-pending.json"));
    let login = Login::start(
        microsoft::json("devicecode-response.json"),
        vec![
            pending.clone(),
            (400, microsoft::json("token-slow-down.json")),
            pending,
            (200, device_success("r")),
        ],
    )
    .await;
    assert!(login.sign_in().await.0.is_ok());
    assert_eq!(login.waits(), [5, 5, 10, 10]);
}

#[tokio::test]
async fn a_declined_or_expired_sign_in_is_a_refusal_that_says_so() {
    for (fixture, says) in [
        (
            microsoft::json("token-authorization-declined.json"),
            "declined",
        ),
        (microsoft::json("token-expired-token.json"), "expired"),
    ] {
        let login = Login::start(
            microsoft::json("devicecode-response.json"),
            vec![(400, fixture)],
        )
        .await;
        match login.sign_in().await.0 {
            Err(DeviceError::Refused(message)) => {
                assert_mentions(&message, &[says, "login"]);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn the_code_runs_out_when_nobody_signs_in() {
    let mut code = microsoft::json("devicecode-response.json");
    code["expires_in"] = 12.into();
    let login = Login::start(
        code,
        vec![(400, microsoft::json("token-authorization-pending.json"))],
    )
    .await;
    match login.sign_in().await.0 {
        Err(DeviceError::Refused(message)) => assert!(message.contains("expired"), "{message}"),
        other => panic!("{other:?}"),
    }
    // Polls at 5 s and 10 s, a last one at 12 s, then no more.
    assert_eq!(login.waits(), [5, 5, 2]);
}

/// A token endpoint whose refresh tokens work once: each use answers the documented refresh
/// answer with the next token, and the used one is refused with AADSTS700082 from then on.
struct SingleUse {
    live: Mutex<String>,
    issued: Mutex<u32>,
    bodies: Arc<Mutex<Vec<String>>>,
}

impl Respond for SingleUse {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        self.bodies.lock().unwrap().push(body.clone());
        let mut live = self.live.lock().unwrap();
        if !body.contains("grant_type=refresh_token")
            || !body.contains(&format!("refresh_token={}&", *live))
        {
            return ResponseTemplate::new(400)
                .set_body_json(microsoft::json("token-invalid-grant-700082.json"));
        }
        let mut issued = self.issued.lock().unwrap();
        *issued += 1;
        let next = format!("rotated-{issued}");
        let mut answer = microsoft::json("token-refresh-success.json");
        answer["access_token"] = format!("user-access-{issued}").into();
        answer["refresh_token"] = next.clone().into();
        *live = next;
        ResponseTemplate::new(200).set_body_json(answer)
    }
}

async fn single_use(server: &MockServer, first: &str) -> Arc<Mutex<Vec<String>>> {
    let bodies = Arc::<Mutex<Vec<String>>>::default();
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(SingleUse {
            live: Mutex::new(first.to_owned()),
            issued: Mutex::new(0),
            bodies: bodies.clone(),
        })
        .mount(server)
        .await;
    bodies
}

fn user_tokens(server: &MockServer, store: &RefreshStore) -> TokenSource {
    TokenSource::new(
        &server.uri(),
        TENANT,
        CLIENT,
        "https://graph.microsoft.com",
        SignIn::User {
            store: store.clone(),
            credential: None,
        },
    )
}

fn stored(token: &str) -> Stored {
    Stored {
        refresh_token: SecretString::from(token.to_owned()),
        username: Some("admin@contoso-partner.example".into()),
        signed_in_at: None,
        rotated_at: chrono::Utc::now(),
    }
}

fn kept(store: &RefreshStore) -> String {
    let (s, _) = store.load().unwrap().unwrap();
    s.refresh_token.expose_secret().to_owned()
}

#[tokio::test]
async fn each_run_keeps_the_rotated_refresh_token_so_the_next_run_still_signs_in() {
    let server = MockServer::start().await;
    let bodies = single_use(&server, "from-login").await;
    let dir = tempfile::tempdir().unwrap();
    let store = RefreshStore::new(dir.path(), CLIENT, None);
    store.save(&stored("from-login")).unwrap();
    let waits = Arc::default();

    // Day one, then day two with a new token source (a new run): the spent token is never
    // sent again.
    for (day, access) in [(1, "user-access-1"), (2, "user-access-2")] {
        let token = user_tokens(&server, &store)
            .bearer(&http(&waits))
            .await
            .unwrap();
        assert_eq!(token.expose_secret(), access, "day {day}");
        assert_eq!(kept(&store), format!("rotated-{day}"));
    }
    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 2);
    assert!(bodies[0].contains("refresh_token=from-login&"));
    assert!(bodies[1].contains("refresh_token=rotated-1&"));
    assert!(
        bodies[0].contains("scope=https%3A%2F%2Fgraph.microsoft.com%2F.default+offline_access"),
        "{}",
        bodies[0]
    );
    assert!(!bodies[0].contains("client_secret"));
}

#[tokio::test]
async fn a_refused_refresh_token_says_to_run_login_and_keeps_the_store() {
    let server = MockServer::start().await;
    single_use(&server, "something-else").await;
    let dir = tempfile::tempdir().unwrap();
    let store = RefreshStore::new(dir.path(), CLIENT, None);
    store.save(&stored("expired-one")).unwrap();
    let err = user_tokens(&server, &store)
        .bearer(&http(&Arc::default()))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, GraphError::SignInExpired { .. }), "{err:?}");
    assert!(err.is_permanent());
    assert_mentions(
        &message,
        &["AADSTS700082", "90 days", "csp-alert-digest login"],
    );
    assert_eq!(kept(&store), "expired-one");
}

#[tokio::test]
async fn without_a_sign_in_the_run_says_to_run_login() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = RefreshStore::new(dir.path(), CLIENT, None);
    let message = user_tokens(&server, &store)
        .bearer(&http(&Arc::default()))
        .await
        .unwrap_err()
        .to_string();
    assert!(message.contains("csp-alert-digest login"), "{message}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_seed_is_redeemed_once_and_its_rotation_kept_in_the_store() {
    let server = MockServer::start().await;
    single_use(&server, "seeded").await;
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("refresh-token");
    std::fs::write(&seed, "seeded\n").unwrap();
    let store = RefreshStore::new(&dir.path().join("state"), CLIENT, Some(seed.clone()));
    user_tokens(&server, &store)
        .bearer(&http(&Arc::default()))
        .await
        .unwrap();
    let (s, origin) = store.load().unwrap().unwrap();
    assert_eq!(
        (s.refresh_token.expose_secret(), origin),
        ("rotated-1", Origin::Store)
    );
    // The seed (a mounted Secret) is left as it was.
    assert_eq!(std::fs::read_to_string(&seed).unwrap(), "seeded\n");
}

#[tokio::test]
async fn an_app_only_token_refused_for_want_of_mfa_names_sign_in_user_and_login() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "token_type": "Bearer", "expires_in": 3599, "access_token": "app-only-token"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/beta/security/partner/securityAlerts"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_raw(microsoft::text("missing-mfa-403.json"), "application/json"),
        )
        .mount(&server)
        .await;
    let url = reqwest::Url::parse(&server.uri()).unwrap();
    let config = graph::GraphConfig {
        tenant_id: TENANT.to_owned(),
        client_id: CLIENT.to_owned(),
        sign_in: SignIn::App(Credential::Secret(SecretString::from("app-secret"))),
        graph_url: url.clone(),
        login_url: url,
        server_filter: false,
        request_timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(30),
        max_pages: 10,
        max_page_bytes: 1 << 20,
        max_attempts: 2,
        max_retry_after: Duration::from_secs(5),
    };
    let err = graph::collect(&config, &http(&Arc::default()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, GraphError::MissingMfa { user: false, .. }),
        "{err:?}"
    );
    assert!(err.is_permanent());
    let message = err.to_string();
    assert_mentions(&message, &["sign_in = \"user\"", "csp-alert-digest login"]);
    assert!(!message.contains("application permission"), "{message}");
}
