//! Interoperability with a real SMTP server: `aiosmtpd` (`PyPI`) requiring STARTTLS and AUTH,
//! with a certificate from a throwaway CA that `trustme` makes when the server starts
//! (`tests/interop/smtp_server.py`). The messages it received are read back with Python's
//! `email` package (`tests/interop/check_messages.py`) and compared byte for byte with the `.eml`
//! files the job wrote: `aiosmtpd` stores the DATA bytes exactly as they arrive, after SMTP
//! dot-unstuffing, so nothing is normalised here.
//!
//! The interpreter comes from `CSP_DIGEST_INTEROP_PYTHON` (a venv with `aiosmtpd` and `trustme`);
//! `.ci/run` sets it. Without it the tests say so and pass, except in CI.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use crate::support::interop_smtp::{PASSWORD, SmtpServer, USERNAME, interop_python, smtp_config};
use crate::support::leaks::{self, leaks};
use crate::support::{BASE_CONFIG, Job, quirks_page, stderr};

/// A wrong password that is easy to spot wherever it might leak.
const CANARY: &str = "CANARY-smtp-password-5d1e7b";
const DATE: &str = "2026-11-29";
const SENDER: &str = "digest@partner.example";
const RECIPIENTS: [&str; 2] = ["secops@partner.example", "duty@partner.example"];
const TREE: &str =
    "multipart/mixed[multipart/alternative[text/plain, text/html], text/csv, text/csv, text/csv]";

/// A real server, the interpreter that runs it, and a job sending through it: the harness's base
/// config with STARTTLS and AUTH.
struct Interop {
    python: PathBuf,
    server: SmtpServer,
    job: Job,
}

/// The server and its job, or `None` (and the test passes) where no interpreter is set.
fn interop() -> Option<Interop> {
    let python = interop_python()?;
    let server = SmtpServer::start(&python);
    let job = Job::new(&smtp_config(&server, BASE_CONFIG), &quirks_page());
    Some(Interop {
        python,
        server,
        job,
    })
}

impl Interop {
    /// Runs the job with this SMTP password (and `extra_env`) and asserts it exits with `code`.
    fn run(&self, password: &str, extra_env: &[(&str, &str)], code: i32) -> Output {
        let env = [&[("CSP_DIGEST_SMTP_PASSWORD", password)], extra_env].concat();
        let output = self.job.run_with(&[], &env);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{}\n{}",
            stdout_and_stderr(&output),
            self.server.log()
        );
        output
    }
}

fn stdout_and_stderr(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    )
}

fn header<'a>(message: &'a Value, name: &str) -> &'a str {
    message["headers"][name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} header in {}", message["file"]))
}

/// `<digest.2026-11-29.<16 hex digits>@partner.example>`
fn is_digest_message_id(id: &str) -> bool {
    id.strip_prefix(&format!("<digest.{DATE}."))
        .and_then(|rest| rest.strip_suffix("@partner.example>"))
        .is_some_and(|hex| hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[test]
fn the_digest_reaches_a_real_smtp_server_over_starttls_with_auth() {
    let Some(smtp) = interop() else {
        return;
    };
    smtp.run(PASSWORD, &[], 0);

    let messages = smtp.server.messages();
    assert_eq!(
        messages.len(),
        2,
        "one message per recipient\n{}",
        smtp.server.log()
    );
    let mut recipients = BTreeSet::new();
    for (envelope, _) in &messages {
        assert_eq!(envelope["mail_from"], SENDER, "{envelope}");
        let rcpt_tos = envelope["rcpt_tos"].as_array().expect("rcpt_tos");
        assert_eq!(rcpt_tos.len(), 1, "one RCPT per message: {envelope}");
        let to = rcpt_tos[0].as_str().expect("recipient").to_owned();
        assert_eq!(envelope["tls"], true, "{envelope}");
        assert_eq!(envelope["authenticated"], true, "{envelope}");
        assert_eq!(envelope["login"], USERNAME, "{envelope}");
        recipients.insert(to);
    }
    assert_eq!(recipients, RECIPIENTS.map(str::to_owned).into());

    let report = smtp.server.report(&smtp.python);
    let parsed = report["messages"].as_array().expect("messages");
    assert_eq!(parsed.len(), 2, "{report:#}");
    let mut ids = BTreeSet::new();
    for message in parsed {
        let context = format!("{message:#}");
        assert_eq!(message["tree"], TREE, "{context}");
        let attachments: Vec<&str> = message["attachments"]
            .as_array()
            .expect("attachments")
            .iter()
            .map(|a| a["filename"].as_str().expect("attachment filename"))
            .collect();
        assert_eq!(
            attachments,
            ["alerts.csv", "summary.csv", "older.csv"],
            "{context}"
        );
        assert_eq!(
            message["charsets"],
            serde_json::json!(["utf-8"]),
            "{context}"
        );
        assert_eq!(message["all_text_parts_decode"], true, "{context}");
        assert_eq!(message["defects"], serde_json::json!([]), "{context}");
        for (name, count) in message["header_counts"].as_object().expect("header counts") {
            assert_eq!(count, 1, "exactly one {name} header: {context}");
        }
        let to = message["envelope"]["rcpt_tos"][0].as_str().expect("rcpt");
        assert!(header(message, "From").contains(SENDER), "{context}");
        assert!(header(message, "To").contains(to), "{context}");
        assert!(header(message, "Subject").contains(DATE), "{context}");
        assert!(!header(message, "Date").is_empty(), "{context}");
        assert_eq!(header(message, "MIME-Version"), "1.0", "{context}");
        assert_eq!(
            header(message, "Auto-Submitted"),
            "auto-generated",
            "{context}"
        );
        let id = header(message, "Message-ID");
        assert!(is_digest_message_id(id), "Message-ID {id:?}");
        ids.insert(id.to_owned());
    }
    assert_eq!(ids.len(), 2, "a Message-ID per recipient: {ids:?}");

    // Last, as the strictest check: what arrived is the .eml file the job wrote, byte for byte.
    for (envelope, bytes) in &messages {
        let to = envelope["rcpt_tos"][0].as_str().expect("recipient");
        let written = std::fs::read(smtp.job.day(DATE).join("mail").join(format!("{to}.eml")))
            .unwrap_or_else(|e| panic!("the job's .eml for {to}: {e}"));
        assert!(
            *bytes == written,
            "{to}: the server received {} bytes, the job wrote {} bytes; they differ{}",
            bytes.len(),
            written.len(),
            if bytes.strip_suffix(b"\r\n") == Some(written.as_slice()) {
                ": the client added an empty line at the end (lettre's send_raw always writes \
                 CRLF . CRLF after the data, so a message that already ends with CRLF gains one; \
                 send the .eml without its final CRLF)"
            } else {
                ""
            }
        );
    }
}

#[test]
fn a_rejected_password_exits_2_and_never_echoes_it() {
    let Some(smtp) = interop() else {
        return;
    };
    let output = smtp.run(CANARY, &[], 2);
    let everything = stdout_and_stderr(&output);
    assert!(
        smtp.server
            .log()
            .contains("AUTH PLAIN for b'digest': refused")
            || smtp
                .server
                .log()
                .contains("AUTH LOGIN for b'digest': refused"),
        "the login reached the server over TLS and was refused there\n{}",
        smtp.server.log()
    );
    assert!(
        everything.contains("535"),
        "the log names the refusal: {everything}"
    );
    assert_eq!(
        leaks(&leaks::everything(&output, smtp.job.path()), CANARY),
        Vec::<&str>::new(),
        "the password leaked in the output or into a file under the job folder"
    );
    assert!(smtp.server.messages().is_empty(), "nothing received");
}

/// Beyond the default level: with its `tracing` feature, lettre logs every line it writes at
/// debug, the AUTH command (base64 of the login and password) included.
#[test]
fn the_password_stays_out_of_trace_logs() {
    let Some(smtp) = interop() else {
        return;
    };
    let output = smtp.run(CANARY, &[("CSP_DIGEST_LOG", "trace")], 2);
    let everything = stdout_and_stderr(&output);
    assert_eq!(
        leaks(everything.as_bytes(), CANARY),
        Vec::<&str>::new(),
        "the password leaked at CSP_DIGEST_LOG=trace (lettre's debug events log each SMTP line it writes)"
    );
}

#[test]
fn a_second_run_the_same_day_sends_nothing() {
    let Some(smtp) = interop() else {
        return;
    };
    smtp.run(PASSWORD, &[], 0);
    assert_eq!(smtp.server.messages().len(), 2, "{}", smtp.server.log());

    let log = stderr(&smtp.run(PASSWORD, &[], 0));
    assert!(
        log.to_lowercase().contains("already sent"),
        "the second run says why it sends nothing: {log}"
    );
    assert_eq!(
        smtp.server.messages().len(),
        2,
        "still one message per recipient\n{}",
        smtp.server.log()
    );
}

/// Row D1: a certificate the job does not trust (no `ca_file` for the private CA) stops the
/// run with exit code 2; there is no fallback to plaintext and nothing is sent.
#[test]
fn an_untrusted_certificate_stops_the_run_without_falling_back_to_plaintext() {
    let Some(smtp) = interop() else {
        return;
    };
    let config = std::fs::read_to_string(smtp.job.config()).unwrap();
    let without_ca: Vec<&str> = config
        .lines()
        .filter(|l| !l.starts_with("ca_file"))
        .collect();
    let without_ca = without_ca.join("\n");
    std::fs::write(smtp.job.config(), without_ca).unwrap();
    let everything = stdout_and_stderr(&smtp.run(PASSWORD, &[], 2));
    assert!(everything.contains("TLS"), "{everything}");
    assert!(smtp.server.messages().is_empty(), "nothing received");
    assert!(
        !smtp.server.log().contains("AUTH PLAIN for")
            && !smtp.server.log().contains("AUTH LOGIN for"),
        "no login attempt without TLS\n{}",
        smtp.server.log()
    );
}
