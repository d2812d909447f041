//! `resolve` at the HTTP level, against wiremock: the reads and updates it sends (bodies asserted
//! byte for byte), what it refuses, and how one alert's failure stays its own. Waits are
//! recorded by the client's sleeper, not slept.

use csp_alert_digest::commands::resolve::report::{self, Report};
use csp_alert_digest::commands::resolve::update::{self, Done, Options, Outcome};
use csp_alert_digest::commands::resolve::{Decision, Item, Plan, decision, plan};
use csp_alert_digest::exit::Exit;
use csp_alert_digest::source::graph::{self, GraphError};
use serde_json::{Value, json};
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use super::graph::{Harness, TOKEN};
use crate::support::graph::{alert_path, alert_with_status as alert, received_where};

/// The update bodies, exactly as the service documents them.
const FRAUD: &str = r#"{"status":"resolved","resolvedReason":"fraud"}"#;
const LEGITIMATE: &str = r#"{"status":"resolved","resolvedReason":"legitimate"}"#;
const IGNORE: &str = r#"{"status":"resolved","resolvedReason":"ignore"}"#;
const INVESTIGATING: &str = r#"{"status":"investigating"}"#;

/// A harness with a token endpoint, serving these alerts as active.
async fn serving_active(ids: &[impl AsRef<str>]) -> Harness {
    let h = Harness::with_token().await;
    for id in ids {
        serves(&h, id.as_ref(), "active", None).await;
    }
    h
}

/// `GET .../securityAlerts/{id}` answers this alert.
async fn serves(h: &Harness, id: &str, status: &str, reason: Option<&str>) {
    Mock::given(method("GET"))
        .and(path(alert_path(id)))
        .respond_with(ResponseTemplate::new(200).set_body_json(alert(id, status, reason)))
        .mount(&h.server)
        .await;
}

/// `PATCH .../securityAlerts/{id}` with exactly `body` answers 200 with the alert so changed,
/// and is expected `times` times.
async fn accepts(h: &Harness, id: &str, body: &str, times: u64) {
    let change: Value = serde_json::from_str(body).unwrap();
    let status = change["status"].as_str().unwrap();
    let reason = change["resolvedReason"].as_str();
    Mock::given(method("PATCH"))
        .and(path(alert_path(id)))
        .and(body_string(body))
        .and(header("content-type", "application/json"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(alert(id, status, reason)))
        .expect(times)
        .named(format!("PATCH {id} {body}"))
        .mount(&h.server)
        .await;
}

/// `PATCH .../securityAlerts/{id}` answers `answer`, and is expected `times` times.
async fn patch_answers(h: &Harness, id: &str, answer: ResponseTemplate, times: u64) {
    Mock::given(method("PATCH"))
        .and(path(alert_path(id)))
        .respond_with(answer)
        .expect(times)
        .mount(&h.server)
        .await;
}

/// No update at all may reach the server.
async fn no_updates(h: &Harness) {
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .named("no PATCH")
        .mount(&h.server)
        .await;
}

fn item(line: u64, id: &str, decision: Decision) -> Item {
    Item {
        line: Some(line),
        id: id.to_owned(),
        decision,
        customer: None,
        alert_type: None,
    }
}

/// The CSV line of the `index`-th row.
fn line(index: usize) -> u64 {
    u64::try_from(index).unwrap() + 2
}

fn plan_of(items: Vec<Item>) -> Plan {
    Plan {
        items,
        ..Plan::default()
    }
}

/// Fraud for each of these (CSV line, alert id).
fn fraud_at(lines: &[(u64, &str)]) -> Plan {
    plan_of(
        lines
            .iter()
            .map(|&(line, id)| item(line, id, Decision::Fraud))
            .collect(),
    )
}

/// The same decision for each of `ids`, one CSV row each.
fn plan_for(ids: &[impl AsRef<str>], decision: Decision) -> Plan {
    plan_of(
        ids.iter()
            .enumerate()
            .map(|(i, id)| item(line(i), id.as_ref(), decision))
            .collect(),
    )
}

/// Applies a plan against the harness's server; returns the results and the report.
async fn apply(h: &Harness, plan: &Plan, force: bool, dry_run: bool) -> (Vec<Done>, Report) {
    let http = h.http();
    let tokens = graph::token_source(&h.config);
    let options = Options {
        graph_url: &h.config.graph_url,
        force,
        dry_run,
        concurrency: update::CONCURRENCY,
        deadline: h.config.deadline,
    };
    let done = update::apply(&http, &tokens, plan.items.clone(), &options, |_, _| Ok(()))
        .await
        .unwrap();
    let report = report::report(plan, &done, dry_run);
    (done, report)
}

/// The requests with this method the server received.
async fn received(h: &Harness, method: &str) -> Vec<wiremock::Request> {
    received_where(&h.server, |r| r.method.as_str() == method).await
}

/// The bodies of the PATCH requests the server received, by path.
async fn patches(h: &Harness) -> Vec<(String, String)> {
    let mut bodies: Vec<(String, String)> = received(h, "PATCH")
        .await
        .into_iter()
        .map(|r| {
            (
                r.url.path().to_owned(),
                String::from_utf8(r.body.clone()).unwrap(),
            )
        })
        .collect();
    bodies.sort();
    bodies
}

fn csv_plan(text: &str) -> Plan {
    plan::read(text.as_bytes(), &[decision::ENGLISH]).unwrap()
}

#[tokio::test]
async fn one_alert_is_read_then_resolved_with_exactly_status_and_reason() {
    let h = serving_active(&["a1"]).await;
    accepts(&h, "a1", FRAUD, 1).await;
    let plan = plan_of(vec![Item {
        line: None,
        ..item(0, "a1", Decision::Fraud)
    }]);
    let (done, report) = apply(&h, &plan, false, false).await;
    assert!(
        matches!(&done[0].outcome, Outcome::Updated { answer, .. } if answer.http_status == 200),
        "{done:?}"
    );
    assert_eq!(report.exit, Exit::Done);
    assert_eq!(
        report.lines,
        [
            "updated   --id  a1  customer c1  CryptoMining  active → resolved (fraud)",
            "1 updated, 0 skipped, 0 failed"
        ]
    );
    let gets = received(&h, "GET").await;
    assert_eq!(gets.len(), 1, "read once");
    assert_eq!(
        gets[0].headers.get("prefer").unwrap(),
        "include-unknown-enum-members"
    );
}

#[tokio::test]
async fn a_csv_resolves_each_row_with_its_own_decision_and_marks_one_investigating() {
    let h = serving_active(&["a1", "a2", "a3", "a4"]).await;
    accepts(&h, "a1", FRAUD, 1).await;
    accepts(&h, "a2", LEGITIMATE, 1).await;
    accepts(&h, "a3", IGNORE, 1).await;
    accepts(&h, "a4", INVESTIGATING, 1).await;
    let plan = csv_plan(
        "\u{feff}alert_id,alert_type,decision\r\n\
         a1,CryptoMining,FRAUD\r\n\
         a5,CryptoMining,\r\n\
         a2,CryptoMining,Legitimate\r\n\
         a3,CryptoMining,ignore\r\n\
         a4,CryptoMining,investigating\r\n",
    );
    let (_, report) = apply(&h, &plan, false, false).await;
    assert_eq!(report.exit, Exit::Done, "{:#?}", report.lines);
    assert_eq!(
        patches(&h).await,
        [
            (alert_path("a1"), FRAUD.to_owned()),
            (alert_path("a2"), LEGITIMATE.to_owned()),
            (alert_path("a3"), IGNORE.to_owned()),
            (alert_path("a4"), INVESTIGATING.to_owned()),
        ]
    );
    assert_eq!(
        report.lines,
        [
            "updated   line 2  a1  customer c1  CryptoMining  active → resolved (fraud)",
            "updated   line 4  a2  customer c1  CryptoMining  active → resolved (legitimate)",
            "updated   line 5  a3  customer c1  CryptoMining  active → resolved (ignore)",
            "updated   line 6  a4  customer c1  CryptoMining  active → investigating",
            "4 updated, 1 skipped, 0 failed (skipped: 1 without a decision)"
        ]
    );
}

#[tokio::test]
async fn a_dry_run_prints_the_plan_from_what_the_service_says_and_changes_nothing() {
    let h = serving_active(&["a1"]).await;
    serves(&h, "a2", "investigating", None).await;
    serves(&h, "a3", "resolved", Some("fraud")).await;
    no_updates(&h).await;
    let plan = csv_plan(
        "alert_id,customer_tenant_id,alert_type,decision\n\
         a1,c-from-csv,Other,fraud\n\
         a2,,,ignore\n\
         a3,,,fraud\n",
    );
    let (done, report) = apply(&h, &plan, false, true).await;
    assert!(matches!(done[0].outcome, Outcome::WouldUpdate { .. }));
    assert_eq!(
        report.lines,
        [
            "plan      line 2  a1  customer c1  CryptoMining  active → resolved (fraud)",
            "plan      line 3  a2  customer c1  CryptoMining  investigating → resolved (ignore)",
            "skipped   line 4  a3  customer c1  CryptoMining  already resolved (fraud)",
            "dry run: 2 to update, 1 skipped, 0 failed; nothing was changed (skipped: 1 already so)"
        ]
    );
    assert_eq!(report.exit, Exit::Done);
}

#[tokio::test]
async fn bad_rows_and_unknown_ids_are_reported_with_their_line_numbers_and_change_nothing() {
    let h = serving_active(&["a1"]).await;
    Mock::given(method("GET"))
        .and(path(alert_path("gone")))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"error":{"code":"ResourceNotFound","message":"Resource not found."}}),
        ))
        .expect(1)
        .mount(&h.server)
        .await;
    accepts(&h, "a1", LEGITIMATE, 1).await;
    let plan = csv_plan(
        "alert_id,decision\n\
         a0,fruad\n\
         gone,fraud\n\
         a1,legitimate\n\
         ,ignore\n",
    );
    let (_, report) = apply(&h, &plan, false, false).await;
    assert_eq!(
        report.lines,
        [
            "invalid   line 2  a0  unknown decision \"fruad\": write legitimate, fraud, ignore or investigating (or leave it empty)",
            "invalid   line 3  gone  customer —  —  no such alert (404): check the id",
            "updated   line 4  a1  customer c1  CryptoMining  active → resolved (legitimate)",
            "invalid   line 5  decision \"ignore\" but no alert_id",
            "1 updated, 3 skipped, 0 failed (skipped: 3 invalid)"
        ]
    );
    assert_eq!(report.exit, Exit::Config, "bad input: exit 2");
    assert_eq!(patches(&h).await.len(), 1, "only the good row");
}

#[tokio::test]
async fn an_already_resolved_alert_is_refused_without_force_and_changed_with_it() {
    let h = Harness::with_token().await;
    serves(&h, "a1", "resolved", Some("legitimate")).await;
    let plan = plan_of(vec![item(2, "a1", Decision::Fraud)]);
    {
        let _guard = Mock::given(method("PATCH"))
            .respond_with(ResponseTemplate::new(500))
            .expect(0)
            .mount_as_scoped(&h.server)
            .await;
        let (done, report) = apply(&h, &plan, false, false).await;
        assert!(matches!(done[0].outcome, Outcome::Refused { .. }));
        assert_eq!(
            report.lines[0],
            "refused   line 2  a1  customer c1  CryptoMining  already resolved (legitimate) by analyst@partner.example on 2026-11-28T10:00:00Z; not changed to resolved (fraud) without --force"
        );
        assert_eq!(report.exit, Exit::Config);
        // The same decision as the service already has is no refusal: nothing to do.
        let same = plan_of(vec![item(2, "a1", Decision::Legitimate)]);
        let (done, report) = apply(&h, &same, false, false).await;
        assert!(matches!(done[0].outcome, Outcome::AlreadyDone { .. }));
        assert_eq!(report.exit, Exit::Done);
    }
    accepts(&h, "a1", FRAUD, 1).await;
    let (done, report) = apply(&h, &plan, true, false).await;
    assert!(
        matches!(done[0].outcome, Outcome::Updated { .. }),
        "{done:?}"
    );
    assert_eq!(report.exit, Exit::Done);
}

#[tokio::test]
async fn forbidden_names_the_write_permission_and_stops_starting_more() {
    let ids: Vec<String> = (1..=12).map(|i| format!("a{i}")).collect();
    let h = serving_active(&ids).await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error":{
            "code":"Forbidden",
            "message":"Missing role permissions on the request. API requires one of 'PartnerSecurity.ReadWrite.All'."
        }})))
        .mount(&h.server)
        .await;
    let plan = plan_for(&ids, Decision::Fraud);
    let (done, report) = apply(&h, &plan, false, false).await;
    let failed = done
        .iter()
        .filter(|d| {
            matches!(
                &d.outcome,
                Outcome::Failed {
                    error: GraphError::Forbidden { .. },
                    ..
                }
            )
        })
        .count();
    let not_tried = done
        .iter()
        .filter(|d| matches!(d.outcome, Outcome::NotTried { .. }))
        .count();
    assert!(
        (1..=update::CONCURRENCY).contains(&failed),
        "only those under way when the first 403 came: {failed}"
    );
    assert_eq!(failed + not_tried, ids.len());
    assert!(patches(&h).await.len() <= update::CONCURRENCY);
    assert_eq!(report.exit, Exit::Config);
    let first = &report.lines[0];
    assert!(
        first.starts_with("failed    line 2  a1")
            && first.contains("PartnerSecurity.ReadWrite.All")
            && first.contains("admin consent"),
        "{first}"
    );
    assert!(
        report.lines[ids.len() - 1].contains("not tried: stopped after alert"),
        "{:#?}",
        report.lines
    );
    assert_eq!(report.counts.failed, ids.len());
}

#[tokio::test]
async fn a_429_mid_batch_waits_as_told_and_every_update_still_goes_through() {
    let ids = ["a1", "a2", "a3", "a4", "a5", "a6"];
    let h = serving_active(&ids).await;
    // The service throttles a4's first update.
    Mock::given(method("PATCH"))
        .and(path(alert_path("a4")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "3")
                .set_body_json(
                    json!({"error":{"code":"TooManyRequests","message":"Too many requests."}}),
                ),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&h.server)
        .await;
    for id in ids {
        accepts(&h, id, IGNORE, 1).await;
    }
    let plan = plan_for(&ids, Decision::Ignore);
    let (_, report) = apply(&h, &plan, false, false).await;
    assert_eq!(report.exit, Exit::Done, "{:#?}", report.lines);
    assert_eq!(report.counts.updated, ids.len());
    assert_eq!(h.waits(), [std::time::Duration::from_secs(3)]);
    assert_eq!(h.token_requests().await, 1, "one token serves the batch");
}

#[tokio::test]
async fn when_some_updates_fail_the_others_still_go_through_and_the_exit_code_says_which_failure() {
    let h = serving_active(&["a1", "a2", "a3", "a4"]).await;
    accepts(&h, "a1", FRAUD, 1).await;
    accepts(&h, "a4", FRAUD, 1).await;
    patch_answers(
        &h,
        "a2",
        ResponseTemplate::new(400).set_body_json(
            json!({"error":{"code":"BadRequest","message":"Invalid status transition."}}),
        ),
        1,
    )
    .await;
    let plan = fraud_at(&[(2, "a1"), (3, "a2"), (5, "a4")]);
    let (_, report) = apply(&h, &plan, false, false).await;
    assert_eq!(report.exit, Exit::Partial, "failed for good: exit 4");
    assert_eq!(
        (report.counts.updated, report.counts.failed),
        (2, 1),
        "{:#?}",
        report.lines
    );
    assert!(
        report.lines[1].starts_with(
            "failed    line 3  a2  customer c1  CryptoMining  active → resolved (fraud): "
        ) && report.lines[1].contains("400")
            && report.lines[1].contains("Invalid status transition"),
        "{}",
        report.lines[1]
    );
}

#[tokio::test]
async fn an_update_that_stays_unavailable_is_transient_and_exit_3_wins_over_4() {
    let h = serving_active(&["a1", "a2", "a3"]).await;
    accepts(&h, "a1", FRAUD, 1).await;
    patch_answers(&h, "a2", ResponseTemplate::new(400), 1).await;
    patch_answers(
        &h,
        "a3",
        ResponseTemplate::new(503).insert_header("Retry-After", "0"),
        6,
    )
    .await;
    let plan = fraud_at(&[(2, "a1"), (3, "a2"), (4, "a3")]);
    let (_, report) = apply(&h, &plan, false, false).await;
    assert_eq!(report.exit, Exit::Transient, "{:#?}", report.lines);
    assert_eq!(report.counts.updated, 1);
    assert!(
        report.lines[2].contains("gave up after 6 attempts"),
        "{:#?}",
        report.lines
    );
    assert_eq!(report.counts.failed, 2);
}

#[tokio::test]
async fn p3_the_batch_stops_at_the_deadline_and_says_which_alerts_may_have_changed() {
    let ids = ["a1", "a2", "a3", "a4", "a5", "a6"];
    let mut h = serving_active(&ids).await;
    h.config.deadline = std::time::Duration::from_millis(300);
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(5)))
        .mount(&h.server)
        .await;
    let plan = plan_for(&ids, Decision::Fraud);
    let started = std::time::Instant::now();
    let (done, report) = apply(&h, &plan, false, false).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "bounded"
    );
    assert!(
        done.iter().all(
            |d| matches!(&d.outcome, Outcome::NotTried { why } if why.contains("deadline_secs"))
        ),
        "{done:?}"
    );
    let under_way = report
        .lines
        .iter()
        .filter(|l| l.contains("may or may not have the change"))
        .count();
    assert_eq!(under_way, update::CONCURRENCY, "{:#?}", report.lines);
    assert_eq!(report.exit, Exit::Transient);
    assert_eq!(report.counts.failed, ids.len());
}
