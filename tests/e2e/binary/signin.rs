//! App+User sign-in through the binary, against one wiremock server playing Microsoft Entra ID,
//! Graph and Partner Center with the shapes of Microsoft's documented examples
//! (`tests/fixtures/microsoft/`): a service that refuses app-only tokens with
//! `Unauthorized_MissingMFA` and whose refresh tokens work once. `login` signs in without a
//! browser (the device code flow), a daily run with `sign_in = "user"` collects what was served
//! and names customers across three Partner Center pages, resellers and the partner itself, the
//! next day's run signs in with the rotated token, no access token is written anywhere, and the
//! refresh token exists only in its owner-only store. A run killed around the token answer
//! leaves the old token or the new one, never a torn file.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::fake_partner_center::{self, FakeCustomer};
use crate::support::graph::{ALERTS, alert_path, alert_with_status, received_where};
use crate::support::{Job, assert_mentions, files_under, microsoft, read_csv, stderr, stdout};

const TENANT: &str = "partner-tenant";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const GRAPH_ACCESS: &str = "graph-user-access-7c1e9a";
const PC_ACCESS: &str = "pc-user-access-29fd4b";
const APP_ACCESS: &str = "app-only-access-5be0c3";
const APP_SECRET: &str = "app-secret-d41f77";
const WHO: &str = "admin@contoso-partner.example";

/// Entra ID's token endpoint: device code polls (pending once, then signed in), refresh tokens
/// that work once and are answered with the next one, and client credentials.
#[derive(Default)]
struct Entra {
    state: Mutex<EntraState>,
    /// Refresh token answers given, for the crash test to time its kill.
    redeemed: AtomicUsize,
}

#[derive(Default)]
struct EntraState {
    polls: u32,
    issued: u32,
    live: Option<String>,
    /// Every refresh token ever issued, to look for in what the job writes.
    all: Vec<String>,
}

impl EntraState {
    fn issue(&mut self) -> String {
        self.issued += 1;
        let token = format!("refresh-token-{}-0b7e2c", self.issued);
        self.live = Some(token.clone());
        self.all.push(token.clone());
        token
    }
}

fn form(request: &Request) -> Vec<(String, String)> {
    let body = String::from_utf8_lossy(&request.body);
    reqwest::Url::parse(&format!("http://form/?{body}"))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// The token endpoint, sharing the fake's state with the test.
struct TokenEndpoint(Arc<Entra>);

impl Respond for TokenEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form = form(request);
        let field = |k: &str| {
            form.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let mut state = self.0.state.lock().unwrap();
        match field("grant_type").as_deref() {
            Some("urn:ietf:params:oauth:grant-type:device_code") => {
                state.polls += 1;
                if state.polls == 1 {
                    return ResponseTemplate::new(400)
                        .set_body_json(microsoft::json("token-authorization-pending.json"));
                }
                let mut answer = microsoft::json("token-success-device.json");
                answer["access_token"] = GRAPH_ACCESS.into();
                answer["refresh_token"] = state.issue().into();
                answer["id_token"] = microsoft::id_token(CLIENT, WHO).into();
                ResponseTemplate::new(200).set_body_json(answer)
            }
            Some("refresh_token") => {
                if field("refresh_token") != state.live {
                    return ResponseTemplate::new(400)
                        .set_body_json(microsoft::json("token-invalid-grant-700082.json"));
                }
                let scope = field("scope").unwrap_or_default();
                let mut answer = microsoft::json("token-refresh-success.json");
                answer["access_token"] = if scope.contains("api.partnercenter.microsoft.com") {
                    PC_ACCESS
                } else {
                    GRAPH_ACCESS
                }
                .into();
                answer["scope"] = scope.into();
                answer["refresh_token"] = state.issue().into();
                self.0.redeemed.fetch_add(1, Ordering::SeqCst);
                ResponseTemplate::new(200).set_body_json(answer)
            }
            Some("client_credentials") if field("client_secret").as_deref() == Some(APP_SECRET) => {
                ResponseTemplate::new(200).set_body_json(serde_json::json!({
                    "token_type": "Bearer", "expires_in": 3599, "access_token": APP_ACCESS
                }))
            }
            _ => ResponseTemplate::new(400).set_body_json(microsoft::json("token-70016.json")),
        }
    }
}

/// Graph: `answer` for a user's token; `403 Unauthorized_MissingMFA` (as partners report it)
/// for any other.
struct UserOnly(ResponseTemplate);

impl Respond for UserOnly {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let bearer = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if bearer == format!("Bearer {GRAPH_ACCESS}") {
            self.0.clone()
        } else {
            ResponseTemplate::new(403)
                .set_body_raw(microsoft::text("missing-mfa-403.json"), "application/json")
        }
    }
}

fn sample() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/alerts.json")).unwrap()
}

/// Five customers of the sample's digest (the file source's alerts.csv: unresolved, in the
/// window), each with its reseller when it has one, listed two a page: three pages.
fn customers(from_file: &Job) -> Vec<FakeCustomer> {
    let (header, rows) = read_csv(&from_file.day("2026-11-29").join("alerts.csv"));
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (customer, partner) = (column("customer_tenant_id"), column("partner_tenant_id"));
    let mut customers: Vec<FakeCustomer> = Vec::new();
    for row in rows {
        if row[customer].is_empty() || customers.iter().any(|c| c.tenant_id == row[customer]) {
            continue;
        }
        let n = customers.len() + 1;
        let mut c = FakeCustomer::new(&row[customer], &format!("Signed-in Customer {n}"));
        if !row[partner].is_empty() {
            let reseller = &row[partner];
            c.reseller = Some((
                reseller.clone(),
                format!("Named Reseller {}", &reseller[..8]),
            ));
        }
        customers.push(c);
        if customers.len() == 5 {
            break;
        }
    }
    assert!(
        customers.iter().filter(|c| c.reseller.is_some()).count() >= 2,
        "the sample has indirect customers"
    );
    customers
}

/// The sample read from a file: the counts and customers the Graph runs are held to.
fn from_file() -> (Job, std::process::Output) {
    let job = Job::new(
        &testkit::ConfigToml::file("alerts.json").to_string(),
        &sample(),
    );
    let out = job.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (job, out)
}

struct Service {
    server: MockServer,
    entra: Arc<Entra>,
    customers: Vec<FakeCustomer>,
}

async fn service() -> Service {
    let server = MockServer::start().await;
    let entra = Arc::new(Entra::default());
    let mut code = microsoft::json("devicecode-response.json");
    code["interval"] = 1.into();
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/devicecode")))
        .respond_with(ResponseTemplate::new(200).set_body_json(code))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(TokenEndpoint(entra.clone()))
        .mount(&server)
        .await;
    let sample = sample();
    Mock::given(method("GET"))
        .and(path(ALERTS))
        .respond_with(UserOnly(
            ResponseTemplate::new(200).set_body_raw(sample.clone(), "application/json"),
        ))
        .mount(&server)
        .await;
    // One alert for `resolve`: read, then changed to resolved as fraud.
    Mock::given(method("GET"))
        .and(path(alert_path("a1")))
        .respond_with(UserOnly(
            ResponseTemplate::new(200).set_body_json(alert_with_status("a1", "active", None)),
        ))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(alert_path("a1")))
        .respond_with(UserOnly(
            ResponseTemplate::new(200).set_body_json(alert_with_status(
                "a1",
                "resolved",
                Some("fraud"),
            )),
        ))
        .mount(&server)
        .await;
    let customers = customers(&from_file().0);
    fake_partner_center::mount(&server, customers.clone(), PC_ACCESS).await;
    fake_partner_center::mount_profile(&server, "Contoso Partner", PC_ACCESS).await;
    Service {
        server,
        entra,
        customers,
    }
}

fn user_config(uri: &str) -> String {
    testkit::ConfigToml::graph(uri, TENANT, CLIENT)
        .source("sign_in", "user")
        .source("max_attempts", 2)
        .names("partner_center", true)
        .names("partner_center_url", uri)
        .names("customer_page_size", 2)
        .to_string()
}

fn store(job: &Job) -> PathBuf {
    job.path()
        .join("state/sign-in")
        .join(format!("{CLIENT}.json"))
}

fn stored_token(job: &Job) -> String {
    let text = std::fs::read_to_string(store(job)).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn run(job: &Job, args: Vec<String>, env: Vec<(String, String)>) -> std::process::Output {
    let mut command = job.command(&args[0], &[]);
    command.args(&args[1..]);
    command.envs(env);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// Runs `login` for `job`, which signs in; its output.
async fn login(job: &Job) -> std::process::Output {
    let login = run(job, vec!["login".into()], Vec::new()).await;
    assert_eq!(login.status.code(), Some(0), "{}", stderr(&login));
    login
}

/// The summary line's counts of what was collected and grouped.
fn counts(stderr: &str) -> Vec<String> {
    let line = stderr
        .lines()
        .find(|l| l.contains("run finished"))
        .unwrap_or_else(|| panic!("no summary line: {stderr}"));
    [
        "read=",
        "set_aside=",
        "duplicates=",
        "test=",
        "resolved=",
        "unresolved=",
        "in_window=",
        "older_than_window=",
        "partners=",
        "customers=",
        "subscriptions=",
    ]
    .iter()
    .map(|k| {
        line.split_whitespace()
            .find(|w| w.starts_with(k))
            .unwrap()
            .to_owned()
    })
    .collect()
}

#[tokio::test]
async fn login_once_then_daily_runs_sign_in_with_rotated_tokens_and_name_everything() {
    let s = service().await;
    let job = Job::new(&user_config(&s.server.uri()), "");

    // A run before anyone signed in says to run login, and asks nobody for anything.
    let early = job.run_beside_fakes(&[], &[]).await;
    assert_eq!(early.status.code(), Some(2), "{}", stderr(&early));
    assert!(stderr(&early).contains("csp-alert-digest login"));

    let login = login(&job).await;
    let shown = microsoft::json("devicecode-response.json")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(stderr(&login).contains(&shown), "{}", stderr(&login));
    assert!(
        stdout(&login).contains(&format!("signed in as {WHO}")),
        "{}",
        stdout(&login)
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&store(&job)), 0o600);
    assert_eq!(mode(store(&job).parent().unwrap()), 0o700);
    assert_eq!(stored_token(&job), "refresh-token-1-0b7e2c");
    let check = run(&job, vec!["check".into(), "--offline".into()], Vec::new()).await;
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    let line = crate::support::probe_line(&stdout(&check), "sign-in").to_owned();
    assert!(
        line.contains(&format!("user (App+User): signed in as {WHO}"))
            && line.contains("(0 days ago)")
            && !line.contains("WARNING"),
        "{line}"
    );

    // Day one: the digest's counts are those of the same alerts read from a file.
    let day1 = job.run_beside_fakes(&[], &[]).await;
    assert_eq!(day1.status.code(), Some(0), "{}", stderr(&day1));
    let (_, from_file) = from_file();
    assert_eq!(counts(&stderr(&day1)), counts(&stderr(&from_file)));
    // One refresh token, two resources: Graph, then Partner Center; each rotation kept.
    assert_eq!(stored_token(&job), "refresh-token-3-0b7e2c");
    let html = std::fs::read_to_string(job.day("2026-11-29").join("digest.html")).unwrap();
    assert!(
        html.contains("Contoso Partner: "),
        "the partner's own name leads the headline"
    );
    assert!(html.contains("Direct customers of Contoso Partner"));
    let csv = std::fs::read_to_string(job.day("2026-11-29").join("alerts.csv")).unwrap();
    for c in &s.customers {
        assert!(
            csv.contains(&c.name),
            "customer {} named (pages 1–3)",
            c.name
        );
        if let Some((_, reseller)) = &c.reseller {
            assert!(csv.contains(reseller), "reseller {reseller} named");
        }
    }
    assert_eq!(
        fake_partner_center::listing_calls(&s.server).await.len(),
        3,
        "five customers, two a page"
    );

    // Day two, at trace level: the rotated token still signs in; the spent ones never return.
    let day2 = job
        .run_beside_fakes(
            &["--as-of", "2026-11-30T07:00:00Z"],
            &[("CSP_DIGEST_LOG", "csp_alert_digest=trace")],
        )
        .await;
    assert_eq!(day2.status.code(), Some(0), "{}", stderr(&day2));
    assert_eq!(stored_token(&job), "refresh-token-5-0b7e2c");

    // No access token anywhere; refresh tokens only in the store, and only the live one.
    let all_tokens = s.entra.state.lock().unwrap().all.clone();
    let mut secrets: Vec<&str> = vec![GRAPH_ACCESS, PC_ACCESS];
    secrets.extend(all_tokens.iter().map(String::as_str));
    for output in [&early, &login, &day1, &day2] {
        for text in [stdout(output), stderr(output)] {
            for secret in &secrets {
                assert!(!text.contains(secret), "{secret} in the output: {text}");
            }
        }
    }
    for file in files_under(job.path()) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in &secrets {
            let allowed = file == store(&job) && *secret == "refresh-token-5-0b7e2c";
            assert!(
                allowed || !text.contains(secret),
                "{secret} in {}",
                file.display()
            );
        }
    }
}

#[tokio::test]
async fn an_app_only_run_refused_for_want_of_mfa_exits_2_and_names_sign_in_user_and_login() {
    let s = service().await;
    let config = testkit::ConfigToml::graph(&s.server.uri(), TENANT, CLIENT)
        .source("max_attempts", 2)
        .to_string();
    let job = Job::new(&config, "");
    let out = job
        .run_beside_fakes(&[], &[("CSP_DIGEST_CLIENT_SECRET", APP_SECRET)])
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert_mentions(
        &err,
        &[
            "Unauthorized_MissingMFA",
            "sign_in = \"user\"",
            "csp-alert-digest login",
        ],
    );
    assert!(!err.contains("application permission"), "{err}");
    assert!(!job.day("2026-11-29").join("digest.html").exists());
}

#[tokio::test]
async fn a_run_killed_around_the_token_answer_leaves_the_old_token_or_the_new_never_a_torn_file() {
    let s = service().await;
    let job = Job::new(&user_config(&s.server.uri()), "");
    login(&job).await;
    for delay_ms in [0, 1, 2, 4, 8, 16, 32] {
        let before = stored_token(&job);
        let seen = s.entra.redeemed.load(Ordering::SeqCst);
        let mut child = job
            .command("run", &["--as-of", "2026-11-29T07:00:00Z", "--force"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill it `delay_ms` after Entra ID answered a redemption (or when it ends first).
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while s.entra.redeemed.load(Ordering::SeqCst) == seen
            && std::time::Instant::now() < deadline
            && child.try_wait().unwrap().is_none()
        {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        let _ = child.kill();
        let _ = child.wait();
        let issued = s.entra.state.lock().unwrap().all.clone();
        let after = stored_token(&job); // parses: never torn
        assert!(
            after == before || issued.contains(&after),
            "{delay_ms} ms: {after} is neither the old token nor one Entra ID issued"
        );
        // A token Entra ID issued but the job never kept is lost with the process; the next
        // try starts from what the store holds, as a later run would.
        s.entra.state.lock().unwrap().live = Some(after);
    }
}

#[tokio::test]
async fn resolve_signs_in_the_same_way_and_meets_missing_mfa_as_an_app() {
    let s = service().await;
    let job = Job::new(&user_config(&s.server.uri()), "");
    login(&job).await;
    let args = |a: &[&str]| -> Vec<String> { a.iter().map(|s| (*s).to_owned()).collect() };
    let resolved = run(
        &job,
        args(&["resolve", "--id", "a1", "--reason", "fraud"]),
        Vec::new(),
    )
    .await;
    assert_eq!(resolved.status.code(), Some(0), "{}", stderr(&resolved));
    assert_eq!(
        stored_token(&job),
        "refresh-token-2-0b7e2c",
        "one redemption, kept"
    );
    let patches = received_where(&s.server, |r| r.method.as_str() == "PATCH").await;
    assert_eq!(patches.len(), 1);
    assert_eq!(
        patches[0].headers.get("authorization").unwrap(),
        format!("Bearer {GRAPH_ACCESS}").as_str()
    );

    let app = Job::new(
        &testkit::ConfigToml::graph(&s.server.uri(), TENANT, CLIENT)
            .source("max_attempts", 2)
            .to_string(),
        "",
    );
    let refused = run(
        &app,
        args(&["resolve", "--id", "a1", "--reason", "fraud"]),
        vec![("CSP_DIGEST_CLIENT_SECRET".into(), APP_SECRET.into())],
    )
    .await;
    assert_eq!(refused.status.code(), Some(2), "{}", stdout(&refused));
    let said = format!("{}{}", stdout(&refused), stderr(&refused));
    assert_mentions(
        &said,
        &["Unauthorized_MissingMFA", "csp-alert-digest login"],
    );
}
