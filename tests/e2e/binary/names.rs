//! Names through the binary: Partner Center refusals and outages never cost the digest, the
//! cache carries names through an outage, the names file, hostile names in every output, bad
//! names files and `[names]` keys, and 1,000 customers named from one paged listing.

use std::collections::{HashMap, HashSet};

use mail_parser::MessageParser;
use serde_json::Value;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::fake_partner_center::{
    self, FakeCustomer, error, listing_calls, relationship_calls, relationships_request,
};
use crate::support::graph::ALERTS;
use crate::support::{
    BASE_CONFIG, Job, assert_mentions, probe_line, quirks_page, read_csv, stderr, stdout,
};

const TOKEN: &str = "names-run-token";
const SECRET: &str = "names-run-secret";
const CONTOSO: &str = "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const COFFEE: &str = "c0ffee00-0000-4000-8000-00000000beef";
const RESELLER: &str = "aa00bb11-cc22-4d33-9e44-ff5566778899";
const SUBSCRIPTION: &str = "0a1b2c3d-1111-4222-8333-944455566677";

/// Graph and Partner Center both at `uri` (two attempts a request), customers listed one a page,
/// with `names_extra` `[names]` lines.
fn config(uri: &str, names_extra: &str) -> String {
    crate::support::graph::config(uri)
        .digest("timezone", "Europe/Stockholm")
        .source("max_attempts", 2)
        .names("partner_center", true)
        .names("partner_center_url", uri)
        .names("customer_page_size", 1)
        .lines("names", names_extra)
        .mail("from", "Digest <digest@partner.example>")
        .to_string()
}

/// Token endpoint (any scope) and the quirks page as the Graph source.
async fn mount_graph(server: &MockServer, alerts: &Value) {
    crate::support::graph::mount_token(server, crate::support::graph::TENANT, TOKEN).await;
    Mock::given(method("GET"))
        .and(path(ALERTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(alerts))
        .mount(server)
        .await;
}

/// Graph serving the quirks page and Partner Center knowing [`directory`], on one server.
async fn graph_and_partner_center() -> MockServer {
    let server = MockServer::start().await;
    mount_graph(&server, &quirks()).await;
    fake_partner_center::mount(&server, directory(), TOKEN).await;
    server
}

fn quirks() -> Value {
    serde_json::from_str(&quirks_page()).unwrap()
}

fn directory() -> Vec<FakeCustomer> {
    let mut contoso = FakeCustomer::new(CONTOSO, "Contoso Ltd");
    contoso.reseller = Some((RESELLER.to_owned(), "Northwind Resale".to_owned()));
    vec![contoso, FakeCustomer::new(COFFEE, "Coffee Roasters AB")]
}

fn run(job: &Job, extra: &[&str]) -> std::process::Output {
    job.run_with(extra, &[("CSP_DIGEST_CLIENT_SECRET", SECRET)])
}

fn read(job: &Job, file: &str) -> String {
    std::fs::read_to_string(job.day("2026-11-29").join(file)).unwrap()
}

/// The value of `column` in each row of a CSV report.
fn column(job: &Job, file: &str, column: &str) -> Vec<String> {
    let (header, rows) = read_csv(&job.day("2026-11-29").join(file));
    let i = header.iter().position(|h| h == column).unwrap();
    rows.into_iter().map(|mut r| r.swap_remove(i)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_reseller_lookup_is_a_warning_and_the_digest_is_still_sent() {
    let server = MockServer::start().await;
    mount_graph(&server, &quirks()).await;
    relationships_request()
        .respond_with(error(403, "Forbidden"))
        .mount(&server)
        .await;
    fake_partner_center::mount(&server, directory(), TOKEN).await;
    let job = Job::new(&config(&server.uri(), ""), "");
    let output = job.run_with(
        &[],
        &[
            ("CSP_DIGEST_CLIENT_SECRET", SECRET),
            ("CSP_DIGEST_LOG", "csp_alert_digest=trace"),
        ],
    );
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{log}");
    assert!(log.contains("App+User"), "the refusal is logged: {log}");
    assert!(
        !log.contains(TOKEN) && !log.contains(SECRET),
        "no token or secret at trace level: {log}"
    );
    for field in ["named=2", "name_warnings=1", "messages=1", "sent=1"] {
        assert!(log.contains(&format!(" {field} ")), "{field} in {log}");
    }
    assert!(
        job.day("2026-11-29")
            .join("mail/secops@partner.example.eml")
            .is_file()
    );
    let html = read(&job, "digest.html");
    assert!(html.contains("Contoso Ltd (6f1b2c3d…)"), "{html}");
    assert!(
        html.contains("Reseller aa00bb11…"),
        "the reseller stays an id"
    );
    let text = read(&job, "digest.txt");
    assert!(
        text.contains(&format!("Customer Contoso Ltd ({CONTOSO})")),
        "{text}"
    );
    assert_eq!(relationship_calls(&server).await.len(), 1);
    assert_eq!(
        listing_calls(&server).await.len(),
        2,
        "2 customers, pages of 1"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn through_a_partner_center_outage_names_come_from_the_cache_and_without_one_ids_are_shown() {
    let server = graph_and_partner_center().await;
    let warm = Job::new(&config(&server.uri(), ""), "");
    let output = run(&warm, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(read(&warm, "digest.html").contains("Reseller Northwind Resale (aa00bb11…)"));

    // Partner Center goes down; Graph does not.
    server.reset().await;
    mount_graph(&server, &quirks()).await;
    Mock::given(path_regex("^/v1/"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "0"))
        .mount(&server)
        .await;

    let output = run(&warm, &["--force"]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{log}");
    assert!(log.contains(" name_warnings=1 "), "{log}");
    assert!(
        log.contains("customer names from Partner Center are unavailable"),
        "{log}"
    );
    let html = read(&warm, "digest.html");
    assert!(
        html.contains("Contoso Ltd (6f1b2c3d…)"),
        "names from the cache: {html}"
    );
    assert!(html.contains("Reseller Northwind Resale (aa00bb11…)"));
    assert!(column(&warm, "alerts.csv", "customer_name").contains(&"Contoso Ltd".to_owned()));

    // A dry run reads the cache too, and leaves the state folder as it was.
    let ledger = warm.path().join("state/ledger.sqlite3");
    let before = std::fs::read(&ledger).unwrap();
    let output = run(&warm, &["--dry-run"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let dry =
        std::fs::read_to_string(warm.path().join("out/2026-11-29.dry-run/digest.html")).unwrap();
    assert!(dry.contains("Contoso Ltd (6f1b2c3d…)"));
    assert_eq!(std::fs::read(&ledger).unwrap(), before, "nothing written");

    let cold = Job::new(&config(&server.uri(), ""), "");
    let output = run(&cold, &[]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{log}");
    assert!(log.contains(" named=0 "), "{log}");
    let html = read(&cold, "digest.html");
    assert!(!html.contains("Contoso"), "no name without a cache");
    assert!(html.contains("Customer 6f1b2c3d…"), "the short id instead");
    let (header, rows) = read_csv(&cold.day("2026-11-29").join("alerts.csv"));
    let id = header
        .iter()
        .position(|h| h == "customer_tenant_id")
        .unwrap();
    assert_eq!(header[id + 1], "customer_name");
    assert!(
        rows.iter()
            .any(|r| r[id] == CONTOSO && r[id + 1].is_empty())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_names_are_escaped_in_html_neutralised_in_csv_and_kept_out_of_headers() {
    let server = MockServer::start().await;
    let mut page = quirks();
    // Only Contoso's alerts: a digest about a single customer names it in the subject.
    page["value"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a["customerTenantId"] == CONTOSO);
    mount_graph(&server, &page).await;
    let mut evil = FakeCustomer::new(
        CONTOSO,
        "<script>alert(1)</script>\r\nBcc: victim@evil.example\u{202E}",
    );
    evil.reseller = Some((
        RESELLER.to_owned(),
        "=HYPERLINK(\"http://evil.example\",\"x\")".to_owned(),
    ));
    fake_partner_center::mount(&server, vec![evil], TOKEN).await;
    let job = Job::new(&config(&server.uri(), ""), "");
    let output = run(&job, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let html = read(&job, "digest.html");
    assert!(!html.contains("<script"), "escaped");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(html.contains("[U+202E]"), "the bidi override made visible");

    let partner_names = column(&job, "alerts.csv", "partner_name");
    assert!(
        partner_names
            .iter()
            .any(|n| n == "'=HYPERLINK(\"http://evil.example\",\"x\")"),
        "{partner_names:?}"
    );
    let summary_names = column(&job, "summary.csv", "partner_name");
    assert!(
        summary_names
            .iter()
            .all(|n| n.is_empty() || n.starts_with("'="))
    );

    let eml = read(&job, "mail/secops@partner.example.eml");
    let message = MessageParser::default().parse(eml.as_bytes()).unwrap();
    assert_eq!(
        message.subject().unwrap(),
        "Azure security alerts 2026-11-29: 1 unresolved alert (1 high, 1 overdue) in <script>alert(1)</script> Bcc: victim@evil.example"
    );
    assert!(message.bcc().is_none(), "no header injected");
    assert!(
        !eml.lines()
            .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
        "{eml}"
    );
}

#[test]
fn a_names_file_names_tenants_and_subscriptions_without_partner_center() {
    let config = format!("{BASE_CONFIG}\n[names]\nfile = \"names.csv\"\n");
    let job = Job::new(&config, &quirks_page());
    std::fs::write(
        job.path().join("names.csv"),
        format!(
            "id,name\n# tenants\n{CONTOSO},\"Contoso, Ltd\"\n{RESELLER},Northwind <b>Resale</b>\n{SUBSCRIPTION},=cmd|' /C calc'!A0\n"
        ),
    )
    .unwrap();
    let output = job.run(&[]);
    let log = stderr(&output);
    assert!(output.status.success(), "{log}");
    assert_mentions(&log, &[" named=3 ", " name_warnings=0 "]);
    let day = job.day("2026-11-29");
    let html = std::fs::read_to_string(day.join("digest.html")).unwrap();
    assert!(html.contains("Contoso, Ltd (6f1b2c3d…)"), "{html}");
    // css-inline re-serialises the document: escaped text comes out as named entities.
    assert!(html.contains("Reseller Northwind &lt;b&gt;Resale&lt;/b&gt; (aa00bb11…)"));
    assert!(html.contains("=cmd|' /C calc'!A0 (0a1b2c3d…)"), "{html}");
    let text = std::fs::read_to_string(day.join("digest.txt")).unwrap();
    // The text part is wrapped to 72 columns: compare it with its line breaks undone.
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains(&format!("Reseller Northwind <b>Resale</b> ({RESELLER})")),
        "{text}"
    );
    assert!(text.contains(&format!("Subscription =cmd|' /C calc'!A0 ({SUBSCRIPTION})")));
    let (header, rows) = read_csv(&day.join("summary.csv"));
    let sub = header.iter().position(|h| h == "subscription_id").unwrap();
    assert_eq!(header[sub + 1], "subscription_name");
    let row = rows.iter().find(|r| r[sub] == SUBSCRIPTION).unwrap();
    assert_eq!(row[sub + 1], "'=cmd|' /C calc'!A0", "neutralised");
    let customer = header
        .iter()
        .position(|h| h == "customer_tenant_id")
        .unwrap();
    assert!(rows.iter().any(|r| r[customer + 1] == "Contoso, Ltd"));
}

#[test]
fn a_malformed_names_file_exits_2_naming_the_file_and_the_line() {
    let config = format!("{BASE_CONFIG}\n[names]\nfile = \"names.csv\"\n");
    let job = Job::new(&config, &quirks_page());
    std::fs::write(
        job.path().join("names.csv"),
        format!("id,name\n{CONTOSO},Contoso\n\n{CONTOSO},Contoso again\n"),
    )
    .unwrap();
    let output = job.run(&[]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{log}");
    assert_mentions(
        &log,
        &["names.file", "names.csv line 4", "already named on line 2"],
    );
    assert!(!job.path().join("out").exists());
}

#[test]
fn names_keys_are_checked_with_their_line_and_against_the_source() {
    let cases: [(&str, &[&str]); 5] = [
        (
            "[names]\npartner_center = true\n",
            &["names.partner_center", "kind = \"graph\""],
        ),
        (
            "[names]\npartner_center_url = \"https://api.partnercenter.microsoft.com\"\n",
            &["names.partner_center_url", "partner_center = true"],
        ),
        ("[names]\nfiel = \"names.csv\"\n", &["fiel", "line 16"]),
        (
            "[names]\ncache_max_age_days = 0\n",
            &["names.cache_max_age_days", "between 1 and 365"],
        ),
        (
            "[names]\nfile = \"missing.csv\"\n",
            &["names.file", "missing.csv", "cannot read"],
        ),
    ];
    for (names, expected) in cases {
        let job = Job::new(&format!("{BASE_CONFIG}\n{names}"), &quirks_page());
        let output = job.run(&[]);
        let log = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{names}: {log}");
        for needle in expected {
            assert!(log.contains(needle), "{needle:?} in {log}");
        }
    }
}

/// The fake Partner Center's directory for the generator's world: every customer named, every
/// reseller named.
fn named_directory(world: &[(String, Option<String>)]) -> Vec<FakeCustomer> {
    world
        .iter()
        .enumerate()
        .map(|(i, (tenant, reseller))| {
            let mut c = FakeCustomer::new(tenant, &format!("Customer {i:04} Ltd"));
            c.reseller = reseller
                .as_ref()
                .map(|r| (r.clone(), format!("Reseller {}", &r[..8])));
            c
        })
        .collect()
}

/// Checks every row of alerts.csv names its customer and reseller as `customers` say; returns
/// the rows and the distinct customers seen.
fn assert_every_row_named(job: &Job, customers: &[FakeCustomer]) -> (usize, usize) {
    let expected: HashMap<String, &FakeCustomer> = customers
        .iter()
        .map(|c| (c.tenant_id.to_lowercase(), c))
        .collect();
    let (header, rows) = read_csv(&job.day("2026-11-29").join("alerts.csv"));
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (customer, partner) = (at("customer_tenant_id"), at("partner_tenant_id"));
    let mut named = HashSet::new();
    for row in &rows {
        let c = expected[&row[customer]];
        assert_eq!(row[customer + 1], c.name, "customer {}", row[customer]);
        let reseller = c.reseller.as_ref().map_or("", |(_, name)| name.as_str());
        assert_eq!(row[partner + 1], reseller, "reseller of {}", row[customer]);
        named.insert(row[customer].clone());
    }
    (rows.len(), named.len())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_customers_are_all_named_from_one_paged_listing() {
    use testkit::{FakeGraph, Options, directory};

    const PAGE: usize = 100;
    let opts = Options {
        alerts: 20_000,
        page_size: 2_000,
        ..Options::default()
    };
    let world = directory(opts.alerts, opts.seed, opts.reference);
    assert_eq!(
        world.len(),
        1_000,
        "the generator's 20,000 alerts span 1,000 customers"
    );
    let customers = named_directory(&world);
    let secret = opts.client_secret.clone();
    let token = opts.access_token.clone();
    let graph = FakeGraph::start(opts).await;
    let partner_center = MockServer::start().await;
    fake_partner_center::mount(&partner_center, customers.clone(), &token).await;

    let config = graph
        .config()
        .names("partner_center", true)
        .names("partner_center_url", partner_center.uri())
        .names("customer_page_size", PAGE);
    let job = Job::new(&config.to_string(), "");
    let output = job.run_with(&[], &[("CSP_DIGEST_CLIENT_SECRET", &secret)]);
    let log = stderr(&output);
    assert!(output.status.success(), "{log}");
    assert!(log.contains(" name_warnings=0 "), "{log}");

    let (rows, named) = assert_every_row_named(&job, &customers);
    assert_eq!(
        named, 1_000,
        "every customer has alerts in the window, and a name"
    );
    let listing = listing_calls(&partner_center).await.len();
    assert!(
        listing <= 1_000_usize.div_ceil(PAGE),
        "{listing} listing calls for 1,000 customers in pages of {PAGE}"
    );
    let resellers: HashSet<_> = world.iter().filter_map(|(_, r)| r.as_ref()).collect();
    let relationship = relationship_calls(&partner_center).await.len();
    assert!(
        relationship <= resellers.len(),
        "{relationship} relationship calls for {} resellers",
        resellers.len()
    );
    for line in log.lines().filter(|l| l.contains("names looked up")) {
        eprintln!("{line}");
    }
    eprintln!(
        "1,000 customers: {rows} rows, {listing} listing calls (pages of {PAGE}), {relationship} relationship calls for {} resellers",
        resellers.len()
    );
    let scopes: Vec<String> = graph
        .requests()
        .iter()
        .filter(|r| r.path_and_query.ends_with("/token"))
        .flat_map(testkit::Recorded::form)
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v)
        .collect();
    assert!(
        scopes.contains(&"https://api.partnercenter.microsoft.com/.default".to_owned()),
        "{scopes:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_probes_the_names_file_and_partner_center() {
    let server = graph_and_partner_center().await;
    let job = Job::new(&config(&server.uri(), "file = \"names.csv\""), "");
    std::fs::write(
        job.path().join("names.csv"),
        format!("{SUBSCRIPTION},Prod\n"),
    )
    .unwrap();
    let check = |job: &Job| {
        let output = job
            .command("check", &[])
            .env("CSP_DIGEST_CLIENT_SECRET", SECRET)
            .output()
            .unwrap();
        let stdout = stdout(&output);
        (
            output.status.code(),
            probe_line(&stdout, "names").to_owned(),
        )
    };
    let (code, line) = check(&job);
    assert_eq!(code, Some(0), "{line}");
    assert!(
        line.starts_with("ok")
            && line.contains("names.csv: 1 names")
            && line.contains("(1 customers on it)"),
        "{line}"
    );

    server.reset().await;
    mount_graph(&server, &quirks()).await;
    Mock::given(path_regex("^/v1/"))
        .respond_with(error(403, "Forbidden"))
        .mount(&server)
        .await;
    let (code, line) = check(&job);
    assert_eq!(code, Some(2), "{line}");
    assert!(
        line.starts_with("FAIL") && line.contains("App management") && line.contains("still sends"),
        "{line}"
    );
}
