//! SMTP delivery against the scripted fake server: each D row, and the crash and concurrency
//! rows (F3, F4, D12, P1, P2) with the real binary, killed where the row says.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mail_parser::MessageParser;
use testkit::ConfigToml;

use crate::support::fake_smtp::{FakeSmtp, Received, Reply, Script};
use crate::support::hostile::hostile_page;
use crate::support::{AS_OF, Job, assert_mentions, quirks_page, stderr};

const RECIPIENTS: [&str; 3] = [
    "a@partner.example",
    "b@partner.example",
    "c@partner.example",
];

/// The quirks page sent to `recipients` through 127.0.0.1 at `port`, in plain text, one attempt
/// per message, with `smtp_extra` `[mail.smtp]` lines.
pub(super) fn config(port: u16, recipients: &[&str], smtp_extra: &str) -> ConfigToml {
    ConfigToml::file("alerts.json")
        .mail("from", "Digest <digest@partner.example>")
        .mail("to", recipients)
        .smtp("host", "127.0.0.1")
        .smtp("port", port)
        .smtp("tls", "none")
        .smtp("connect_timeout_secs", 5)
        .smtp("send_timeout_secs", 5)
        .smtp("attempts", 1)
        .lines("mail.smtp", smtp_extra)
}

/// The config with `settings` (`key = value` lines) replacing or adding `[mail.smtp]` keys.
fn job(fake: &FakeSmtp, recipients: &[&str], settings: &str) -> Job {
    Job::new(
        &config(fake.port(), recipients, settings).to_string(),
        &quirks_page(),
    )
}

/// Runs the binary without blocking the runtime the fake server lives on, and asserts it exits
/// with `code`; returns its log.
async fn run(job: &Job, code: i32) -> String {
    let output = job.run_beside_fakes(&[], &[]).await;
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(code), "{log}");
    log
}

fn spawn(job: &Job) -> Child {
    job.command("run", &["--as-of", AS_OF])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// A run to [`RECIPIENTS`] started against a server that holds its greeting, once it has
/// connected.
async fn held_at_the_greeting() -> (FakeSmtp, Job, Child) {
    let fake = FakeSmtp::start(Script::greeting([Reply::hold(220, "fake.test ESMTP")])).await;
    let job = job(&fake, &RECIPIENTS, "");
    let child = spawn(&job);
    wait_until("the first connection", || fake.connections() >= 1).await;
    (fake, job, child)
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Recipients of accepted messages, sorted, one entry per message.
pub(super) fn delivered(fake: &FakeSmtp) -> Vec<String> {
    let mut to: Vec<String> = fake
        .messages()
        .iter()
        .flat_map(|m| m.rcpt_to.clone())
        .collect();
    to.sort();
    to
}

fn message_id(received: &Received) -> String {
    MessageParser::default()
        .parse(&received.data)
        .unwrap()
        .message_id()
        .unwrap()
        .to_owned()
}

/// A server that answers `RCPT TO` for `recipient` once with `code` and `text`.
async fn rcpt_answered(recipient: &str, code: u16, text: &str) -> FakeSmtp {
    FakeSmtp::start(Script::rcpt(recipient, [Reply::code(code, text)])).await
}

fn eml(job: &Job, recipient: &str) -> Vec<u8> {
    std::fs::read(job.day("2026-11-29").join(format!("mail/{recipient}.eml"))).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_message_per_recipient_exactly_as_written_and_a_rerun_sends_nothing() {
    let fake = FakeSmtp::start(Script::default()).await;
    let job = job(&fake, &RECIPIENTS, "");
    let log = run(&job, 0).await;
    assert!(log.contains("sent=3"), "{log}");
    assert_eq!(delivered(&fake), RECIPIENTS);
    for m in fake.messages() {
        assert_eq!(m.rcpt_to.len(), 1, "one recipient per message");
        assert_eq!(m.mail_from, "digest@partner.example");
        assert_eq!(m.data, eml(&job, &m.rcpt_to[0]), "the .eml is what is sent");
    }

    let log = run(&job, 0).await;
    assert!(log.to_lowercase().contains("already sent"), "{log}");
    assert_eq!(fake.messages().len(), 3, "P2: a rerun sends nothing new");
}

#[tokio::test(flavor = "multi_thread")]
async fn d4_550_for_one_of_three_recipients_fails_that_one_and_the_others_still_receive() {
    let fake = rcpt_answered("b@partner.example", 550, "5.1.1 no such user").await;
    let job = job(&fake, &RECIPIENTS, "");
    let log = run(&job, 4).await;
    assert_mentions(&log, &["b***@partner.example", "550"]);
    assert!(
        !log.contains("b@partner.example"),
        "addresses stay out of logs: {log}"
    );
    assert_eq!(delivered(&fake), ["a@partner.example", "c@partner.example"]);
    // a failure for good is not retried by the next run
    run(&job, 0).await;
    assert_eq!(fake.messages().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn d3_451_at_rcpt_is_retried_within_the_run() {
    let fake = rcpt_answered("a@partner.example", 451, "4.3.0 try again").await;
    let job = job(&fake, &RECIPIENTS[..1], "attempts = 2");
    run(&job, 0).await;
    assert_eq!(delivered(&fake), ["a@partner.example"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn d2_d3_transient_failures_that_last_are_left_pending_and_sent_by_the_next_run() {
    let fake = FakeSmtp::start(Script {
        greeting: vec![Reply::code(421, "4.3.2 busy")],
        end_of_data: vec![Reply::code(452, "4.3.1 insufficient storage")],
        ..Script::default()
    })
    .await;
    let job = job(&fake, &RECIPIENTS[..2], "");
    let log = run(&job, 3).await;
    assert!(log.contains("pending=2"), "{log}");
    assert!(fake.messages().is_empty());
    run(&job, 0).await;
    assert_eq!(delivered(&fake), ["a@partner.example", "b@partner.example"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn d5_554_at_the_end_of_data_is_permanent_for_that_message() {
    let fake = FakeSmtp::start(Script::end_of_data([Reply::code(
        554,
        "5.7.1 message refused",
    )]))
    .await;
    let job = job(&fake, &RECIPIENTS[..1], "attempts = 3");
    run(&job, 4).await;
    assert_eq!(fake.data_ends(), 1, "not retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn d6_p1_a_connection_lost_after_the_final_dot_is_resent_next_run_with_the_same_message_id() {
    let fake = FakeSmtp::start(Script::end_of_data([Reply::HangUp])).await;
    // attempts = 3: an unknown outcome is still not retried within the run
    let job = job(&fake, &RECIPIENTS[..1], "attempts = 3");
    run(&job, 3).await;
    assert_eq!(fake.data_ends(), 1);
    run(&job, 0).await;
    assert_eq!(fake.data_ends(), 2, "at most one duplicate");
    let expected = MessageParser::default()
        .parse(&eml(&job, RECIPIENTS[0]))
        .unwrap()
        .message_id()
        .unwrap()
        .to_owned();
    assert_eq!(message_id(&fake.messages()[0]), expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn d7_an_answer_to_data_slower_than_the_send_timeout_leaves_the_message_pending() {
    let fake = FakeSmtp::start(Script::end_of_data([Reply::Stall])).await;
    let job = job(
        &fake,
        &RECIPIENTS[..1],
        "send_timeout_secs = 1\nattempts = 3",
    );
    let started = std::time::Instant::now();
    let log = run(&job, 3).await;
    assert!(log.contains("send_timeout_secs = 1"), "{log}");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(fake.data_ends(), 1, "not sent again in the same run");
}

#[tokio::test(flavor = "multi_thread")]
async fn d8_p9_no_starttls_while_required_stops_before_any_credential_is_sent() {
    let fake = FakeSmtp::start(Script::extensions(&["AUTH PLAIN LOGIN", "8BITMIME"])).await;
    let config = config(fake.port(), &RECIPIENTS[..1], "")
        .smtp("tls", "starttls")
        .smtp("username", "digest")
        .smtp("password_file", "pw");
    let job = Job::new(&config.to_string(), &quirks_page());
    std::fs::write(job.path().join("pw"), "Canary-Pa55word").unwrap();
    let log = run(&job, 2).await;
    assert!(log.contains("STARTTLS"), "{log}");
    assert!(!log.contains("Canary-Pa55word"));
    let transcript = fake.transcript();
    assert!(
        !transcript
            .iter()
            .any(|line| line.to_ascii_uppercase().starts_with("AUTH")),
        "no AUTH on a plaintext connection: {transcript:?}"
    );
    assert!(fake.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn d11_hostile_bodies_arrive_as_exactly_one_message_each() {
    let fake = FakeSmtp::start(Script::default()).await;
    let job = Job::new(
        &config(fake.port(), &RECIPIENTS[..1], "").to_string(),
        &hostile_page(),
    );
    run(&job, 0).await;
    assert_eq!(fake.messages().len(), 1);
    assert_eq!(fake.messages()[0].data, eml(&job, RECIPIENTS[0]));
    assert!(
        !fake.transcript().iter().any(|l| l.contains("evil.example")),
        "no SMTP command from data"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn d12_three_of_five_sent_then_the_server_dies_and_the_rerun_sends_only_the_other_two() {
    let five = [
        "a@p.example",
        "b@p.example",
        "c@p.example",
        "d@p.example",
        "e@p.example",
    ];
    let fake = FakeSmtp::start(Script::end_of_data([
        Reply::code(250, "ok"),
        Reply::code(250, "ok"),
        Reply::code(250, "ok"),
        Reply::HangUp,
        Reply::HangUp,
    ]))
    .await;
    let job = job(&fake, &five, "");
    run(&job, 3).await;
    assert_eq!(fake.messages().len(), 3);
    run(&job, 0).await;
    assert_eq!(
        delivered(&fake),
        five,
        "each exactly once among the accepted"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn f3_killed_after_writing_the_reports_and_before_sending_the_rerun_sends_exactly_once() {
    let (fake, job, mut child) = held_at_the_greeting().await;
    assert!(
        job.day("2026-11-29")
            .join("mail/a@partner.example.eml")
            .is_file(),
        "reports first"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    fake.release();
    run(&job, 0).await;
    assert_eq!(delivered(&fake), RECIPIENTS);
}

#[tokio::test(flavor = "multi_thread")]
async fn f4_killed_between_the_servers_accept_and_the_ledger_write_costs_one_duplicate_with_the_same_id()
 {
    let fake = FakeSmtp::start(Script::end_of_data([Reply::hold(250, "queued")])).await;
    let job = job(&fake, &RECIPIENTS[..1], "");
    let mut child = spawn(&job);
    assert!(fake.wait_for_data_end(1, Duration::from_secs(10)).await);
    child.kill().unwrap();
    child.wait().unwrap();
    fake.release();
    run(&job, 0).await;
    assert_eq!(fake.data_ends(), 2, "one duplicate at most");
    let ids: Vec<String> = fake.messages().iter().map(message_id).collect();
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "same Message-ID: {ids:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn p2_a_second_run_while_the_first_is_sending_exits_5_and_nothing_is_sent_twice() {
    let (fake, job, mut first) = held_at_the_greeting().await;
    run(&job, 5).await;
    fake.release();
    let status = tokio::task::spawn_blocking(move || first.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(delivered(&fake), RECIPIENTS);
}

#[tokio::test(flavor = "multi_thread")]
async fn d1_a_refused_connection_is_transient_and_the_delivery_stays_pending() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let job = Job::new(
        &config(port, &RECIPIENTS[..1], "").to_string(),
        &quirks_page(),
    );
    let log = run(&job, 3).await;
    assert!(log.contains("pending=1"), "{log}");
    let ledger = csp_alert_digest::ledger::Ledger::open(&job.path().join("state")).unwrap();
    assert_eq!(ledger.pending().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn d2_421_after_ehlo_or_after_mail_is_transient() {
    for script in [
        Script {
            ehlo: vec![Reply::code(421, "4.3.2 shutting down")],
            ..Script::default()
        },
        Script {
            mail: vec![Reply::code(421, "4.3.2 shutting down")],
            ..Script::default()
        },
    ] {
        let fake = FakeSmtp::start(script).await;
        let job = job(&fake, &RECIPIENTS[..1], "attempts = 2");
        run(&job, 0).await; // retried
        assert_eq!(delivered(&fake), ["a@partner.example"]);
        assert!(fake.connections() >= 2, "reconnected");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn f8_sigterm_during_a_backoff_wait_exits_3_promptly_and_the_rerun_sends_once() {
    let fake = FakeSmtp::start(Script::end_of_data([Reply::code(451, "4.3.0 later")])).await;
    let job = job(&fake, &RECIPIENTS[..1], "attempts = 5");
    let mut child = spawn(&job);
    assert!(fake.wait_for_data_end(1, Duration::from_secs(10)).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    // the shell's own `kill`, so the test needs no procps
    let killed = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(3));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    run(&job, 0).await;
    assert_eq!(delivered(&fake), ["a@partner.example"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn force_sends_the_digest_date_again_to_every_recipient() {
    let fake = FakeSmtp::start(Script::default()).await;
    let job = job(&fake, &RECIPIENTS[..2], "");
    run(&job, 0).await;
    let forced = job.run_beside_fakes(&["--force"], &[]).await;
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert_eq!(
        delivered(&fake),
        [
            "a@partner.example",
            "a@partner.example",
            "b@partner.example",
            "b@partner.example"
        ]
    );
    // mailboxes may drop a message whose Message-ID they have seen: a forced digest is new
    let ids: Vec<String> = fake.messages().iter().map(message_id).collect();
    assert_ne!(ids[0], ids[2]);
    assert!(ids[2].starts_with("digest.2026-11-29.g1."), "{ids:?}");
}

/// A pending delivery's `.eml` that is gone, or that is not the message the ledger recorded (a
/// crash between switching a forced run's folder in and the ledger's commit leaves new messages
/// beside the old record), stops sending: nothing is sent, the delivery stays pending.
#[tokio::test(flavor = "multi_thread")]
async fn f9_a_missing_eml_or_one_not_recorded_stops_sending_and_keeps_the_delivery_pending() {
    type Spoil = fn(&std::path::Path);
    let cases: [(&str, Spoil, &[&str]); 2] = [
        (
            "missing",
            |eml| std::fs::remove_file(eml).unwrap(),
            &["a@partner.example.eml", "--force"],
        ),
        (
            "another message",
            |eml| {
                let text = std::fs::read_to_string(eml).unwrap();
                let other = text.replacen(
                    "Message-ID: <digest.2026-11-29.",
                    "Message-ID: <digest.2026-11-29.g1.",
                    1,
                );
                std::fs::write(eml, other).unwrap();
            },
            &["not the message the ledger recorded", "--force"],
        ),
    ];
    for (case, spoil, mentions) in cases {
        let fake = FakeSmtp::start(Script::greeting([Reply::code(421, "4.3.2 busy")])).await;
        let job = job(&fake, &RECIPIENTS[..1], "");
        run(&job, 3).await;
        spoil(&job.day("2026-11-29").join("mail/a@partner.example.eml"));
        let log = run(&job, 2).await;
        assert_mentions(&log, mentions);
        let ledger = csp_alert_digest::ledger::Ledger::open(&job.path().join("state")).unwrap();
        assert_eq!(
            ledger.pending().unwrap().len(),
            1,
            "{case}: nothing marked failed"
        );
        assert!(fake.messages().is_empty(), "{case}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_envelope_recipient_keeps_the_case_it_was_configured_with() {
    let fake = FakeSmtp::start(Script::default()).await;
    let job = job(&fake, &["SecOps.Team@Partner.example"], "");
    run(&job, 0).await;
    assert_eq!(fake.messages()[0].rcpt_to, ["SecOps.Team@Partner.example"]);
    assert!(
        job.day("2026-11-29")
            .join("mail/secops.team@partner.example.eml")
            .is_file()
    );
}
