//! Issue 18's mail defects, each against a real peer: the scripted fake server (drops and
//! silences before the greeting, relays that echo addresses, with and without SMTPUTF8), the
//! interop server (aiosmtpd, a real 535), and the file transport. Rows D9, D13–D16, E9, E10.

use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use serde_json::Value;

use crate::support::fake_smtp::{FakeSmtp, Reply, Script};
use crate::support::interop_smtp::{SmtpServer, interop_python, smtp_config};
use crate::support::{BASE_CONFIG, Job, quirks_page, stderr};

const DATE: &str = "2026-11-29";
const CONTOSO: &str = "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

/// The quirks page mailed to `recipients` through the fake at `port`: plain text, one attempt
/// per message, short timeouts, with `smtp_extra` `[mail.smtp]` lines.
fn smtp(port: u16, recipients: &[&str], smtp_extra: &str) -> Job {
    let config = super::smtp::config(port, recipients, smtp_extra);
    Job::new(&config.to_string(), &quirks_page())
}

/// The base config (file transport) mailing `recipients`.
fn to_files(recipients: &[&str]) -> Job {
    let to = recipients
        .iter()
        .map(|r| format!("{r:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let config = BASE_CONFIG.replace(
        "to = [\"secops@partner.example\", \"duty@partner.example\"]",
        &format!("to = [{to}]"),
    );
    Job::new(&config, &quirks_page())
}

async fn run(job: &Job, code: i32) -> String {
    let output = job.run_beside_fakes(&[], &[]).await;
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(code), "{log}");
    log
}

use super::smtp::delivered;

/// The `.eml` files of the day, by name.
fn emls(job: &Job) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(job.day(DATE).join("mail"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn to_header(eml: &[u8]) -> String {
    let message = MessageParser::default().parse(eml).unwrap();
    message
        .to()
        .unwrap()
        .first()
        .unwrap()
        .address()
        .unwrap()
        .to_owned()
}

/// E9: addresses that sanitise to the same file name each get a file of their own, and the
/// addresses that need no sanitising keep the name they always had.
#[test]
fn e9_recipients_whose_names_sanitise_alike_get_eml_files_of_their_own() {
    let job = to_files(&[
        "a=b@partner.example",
        "a?b@partner.example",
        "jöns@partner.example",
        "jäns@partner.example",
        "secops@partner.example",
    ]);
    let output = job.run(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let files = emls(&job);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(files.len(), 5, "{names:?}");
    assert!(names.contains(&"secops@partner.example.eml"), "{names:?}");
    let mut addressed: Vec<String> = files.iter().map(|(_, eml)| to_header(eml)).collect();
    addressed.sort();
    assert_eq!(
        addressed,
        [
            "a=b@partner.example",
            "a?b@partner.example",
            "jäns@partner.example",
            "jöns@partner.example",
            "secops@partner.example"
        ]
    );
    for name in &names {
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || "@._+-~".contains(c))
                && !name.starts_with('.'),
            "{name}"
        );
    }
    // The same names on the next preparation: a pending delivery finds its file again.
    let forced = job.run(&["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    let again: Vec<String> = emls(&job).into_iter().map(|(n, _)| n).collect();
    assert_eq!(again, names);
}

/// E9: true duplicates (the same address in another case) are refused at load, by key.
#[test]
fn e9_the_same_recipient_twice_in_another_case_is_refused_naming_mail_to() {
    let job = to_files(&["SecOps@Partner.example", "secops@partner.example"]);
    let output = job.run(&[]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{log}");
    assert!(
        log.contains("mail.to") && log.contains("listed twice"),
        "{log}"
    );
}

/// D16: a relay's reply that quotes the recipient is masked like the recipient itself, in the
/// log lines, the summary and the final error.
#[tokio::test(flavor = "multi_thread")]
async fn d16_addresses_quoted_in_relay_replies_are_masked_in_the_log() {
    let fake = FakeSmtp::start(Script {
        rcpt: vec![
            (
                "duty@partner.example".to_owned(),
                vec![Reply::code(
                    451,
                    "4.2.0 <duty@partner.example>: mailbox busy, try later",
                )],
            ),
            (
                "ops@partner.example".to_owned(),
                vec![Reply::code(
                    550,
                    "5.1.1 <ops@partner.example>: no such user",
                )],
            ),
        ],
        ..Script::default()
    })
    .await;
    let job = smtp(
        fake.port(),
        &["duty@partner.example", "ops@partner.example"],
        "",
    );
    let log = run(&job, 3).await;
    for full in ["duty@partner.example", "ops@partner.example"] {
        assert!(!log.contains(full), "{full} in the log: {log}");
    }
    assert!(
        log.contains("<d***@partner.example>: mailbox busy")
            && log.contains("<o***@partner.example>: no such user"),
        "the reply text is still there, masked: {log}"
    );
    // The ledger keeps the whole address, as the README says.
    let ledger = csp_alert_digest::ledger::Ledger::open(&job.path().join("state")).unwrap();
    let pending = ledger.pending().unwrap();
    assert_eq!(pending[0].address, "duty@partner.example");
}

/// D13: a connection closed before the greeting never carried a message: retried within the
/// run with the configured attempts, like a refused connection.
#[tokio::test(flavor = "multi_thread")]
async fn d13_a_connection_dropped_before_the_greeting_is_retried_within_the_run() {
    let fake = FakeSmtp::start(Script::greeting([Reply::HangUp])).await;
    let job = smtp(fake.port(), &["a@partner.example"], "attempts = 2");
    let log = run(&job, 0).await;
    assert!(log.contains("sent=1"), "{log}");
    assert_eq!(delivered(&fake), ["a@partner.example"]);
    assert_eq!(fake.connections(), 2);
}

/// D13: a server silent before its greeting is given up after `connect_timeout_secs`, not
/// `send_timeout_secs`, and retried within the run.
#[tokio::test(flavor = "multi_thread")]
async fn d13_a_server_silent_before_the_greeting_is_retried_after_the_connect_timeout() {
    let fake = FakeSmtp::start(Script::greeting([Reply::Stall])).await;
    let job = smtp(
        fake.port(),
        &["a@partner.example"],
        "attempts = 2\nconnect_timeout_secs = 1\nsend_timeout_secs = 30",
    );
    let started = Instant::now();
    run(&job, 0).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(delivered(&fake), ["a@partner.example"]);
}

/// D14: the whole sending phase has a deadline; what it did not reach stays pending (exit 3)
/// with a message naming the setting.
#[tokio::test(flavor = "multi_thread")]
async fn d14_the_sending_phase_stops_at_its_deadline_and_leaves_the_rest_pending() {
    let fake = FakeSmtp::start(Script::greeting(vec![Reply::Stall; 40])).await;
    let eight: Vec<String> = (1..=8).map(|i| format!("r{i}@partner.example")).collect();
    let eight: Vec<&str> = eight.iter().map(String::as_str).collect();
    let job = smtp(
        fake.port(),
        &eight,
        "connect_timeout_secs = 1\nsend_timeout_secs = 2\ndeadline_secs = 3",
    );
    let started = Instant::now();
    let log = run(&job, 3).await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(8),
        "bounded by the deadline: {took:?}"
    );
    assert!(log.contains("deadline_secs = 3"), "{log}");
    assert!(log.contains("pending=8"), "{log}");
    let ledger = csp_alert_digest::ledger::Ledger::open(&job.path().join("state")).unwrap();
    assert_eq!(
        ledger.pending().unwrap().len(),
        8,
        "nothing lost, nothing marked failed"
    );
}

/// D15: an internationalised domain goes out in its ASCII (IDNA) form; a non-ASCII local part
/// uses SMTPUTF8, which the server offers.
#[tokio::test(flavor = "multi_thread")]
async fn d15_an_idn_domain_goes_out_as_punycode_and_a_utf8_local_part_uses_smtputf8() {
    let fake = FakeSmtp::start(Script::default()).await;
    let job = smtp(fake.port(), &["ops@exämple.se", "jöns@partner.example"], "");
    run(&job, 0).await;
    assert_eq!(
        delivered(&fake),
        ["jöns@partner.example", "ops@xn--exmple-cua.se"]
    );
    let mails: Vec<String> = fake
        .transcript()
        .into_iter()
        .filter(|l| l.starts_with("MAIL FROM"))
        .collect();
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert_eq!(
        mails.iter().filter(|l| l.contains("SMTPUTF8")).count(),
        1,
        "SMTPUTF8 only where the address needs it: {mails:?}"
    );
    let eml = std::fs::read(job.day(DATE).join("mail/ops@xn--exmple-cua.se.eml")).unwrap();
    assert_eq!(to_header(&eml), "ops@xn--exmple-cua.se");
}

/// D15: without SMTPUTF8 a non-ASCII local part cannot be sent: that recipient is refused with a
/// reason naming SMTPUTF8 (exit 4), nothing of it reaches the relay, the others still receive.
#[tokio::test(flavor = "multi_thread")]
async fn d15_without_smtputf8_a_utf8_local_part_is_refused_naming_it_and_the_others_receive() {
    let fake = FakeSmtp::start(Script::extensions(&["PIPELINING", "8BITMIME"])).await;
    let job = smtp(fake.port(), &["jöns@exämple.se", "ops@exämple.se"], "");
    let log = run(&job, 4).await;
    assert!(log.contains("SMTPUTF8") && log.contains("j***@"), "{log}");
    assert_eq!(delivered(&fake), ["ops@xn--exmple-cua.se"]);
    assert!(
        fake.transcript().iter().all(|l| l.is_ascii()),
        "no 8-bit command: {:?}",
        fake.transcript()
    );
}

/// D15: the file transport has no relay to ask: a non-ASCII local part is written as is (RFC
/// 6532), the domain in its ASCII form.
#[test]
fn d15_the_file_transport_writes_an_idn_recipient_with_an_ascii_domain() {
    let job = to_files(&["jöns@exämple.se"]);
    let output = job.run(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let files = emls(&job);
    assert_eq!(files.len(), 1);
    let stem = files[0].0.strip_suffix(".eml").unwrap();
    assert!(stem.starts_with("j_ns@xn--exmple-cua.se~"), "{stem}");
    assert_eq!(to_header(&files[0].1), "jöns@xn--exmple-cua.se");
}

/// D9: a password the relay refuses (535) is reported as refused credentials, not as a missing
/// login method; against a real server (aiosmtpd, STARTTLS, AUTH PLAIN/LOGIN).
#[test]
fn d9_a_refused_password_is_reported_as_refused_credentials() {
    let Some(python) = interop_python() else {
        return;
    };
    let server = SmtpServer::start(&python);
    let job = Job::new(&smtp_config(&server, BASE_CONFIG), &quirks_page());
    let output = job.run_with(&[], &[("CSP_DIGEST_SMTP_PASSWORD", "wrong-Pa55word-d9")]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{log}");
    assert!(log.contains("535"), "{log}");
    assert!(
        log.contains("mail.smtp.username") && log.contains("password"),
        "{log}"
    );
    assert!(!log.contains("no login method"), "{log}");
}

/// E10: an RFC 2047 encoded word in a customer's name would be decoded by mail readers into a
/// bidi override and a line break in the subject; header data loses that syntax first.
#[test]
fn e10_an_encoded_word_in_a_customer_name_stays_out_of_the_subject() {
    let mut page: Value = serde_json::from_str(&quirks_page()).unwrap();
    page["value"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a["customerTenantId"] == CONTOSO);
    let config = format!("{BASE_CONFIG}\n[names]\nfile = \"names.csv\"\n");
    let job = Job::new(&config, &page.to_string());
    let name = "=?utf-8?q?=E2=80=AE=0D=0ABcc:_victim@evil.example?= Contoso\u{2067}\u{200F}";
    std::fs::write(
        job.path().join("names.csv"),
        format!("id,name\n{CONTOSO},{name}\n"),
    )
    .unwrap();
    let output = job.run(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let eml = std::fs::read(job.day(DATE).join("mail/secops@partner.example.eml")).unwrap();
    let message = MessageParser::default().parse(&eml[..]).unwrap();
    let subject = message.subject().unwrap();
    assert!(subject.ends_with(" in Contoso"), "{subject:?}");
    assert!(
        !subject.contains(['\u{202E}', '\u{2067}', '\u{200F}', '\r', '\n'])
            && !subject.contains("=?")
            && !subject.contains("evil"),
        "{subject:?}"
    );
    assert!(message.bcc().is_none());
}
