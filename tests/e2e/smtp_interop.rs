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
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::canary::leaks;
use crate::harness::{AS_OF, BASE_CONFIG, Job, quirks_page, run_binary, stderr};

const USERNAME: &str = "digest";
const PASSWORD: &str = "interop-Pa55-w0rd";
/// A wrong password that is easy to spot wherever it might leak.
const CANARY: &str = "CANARY-smtp-password-5d1e7b";
const DATE: &str = "2026-11-29";
const SENDER: &str = "digest@partner.example";
const RECIPIENTS: [&str; 2] = ["secops@partner.example", "duty@partner.example"];
const TREE: &str =
    "multipart/mixed[multipart/alternative[text/plain, text/html], text/csv, text/csv]";
const READY_TIMEOUT: Duration = Duration::from_secs(30);

pub fn interop_python() -> Option<PathBuf> {
    match std::env::var_os("CSP_DIGEST_INTEROP_PYTHON") {
        Some(python) => Some(PathBuf::from(python)),
        None if std::env::var_os("CI").is_some() => {
            panic!("CI must set CSP_DIGEST_INTEROP_PYTHON (see .ci/run)")
        }
        None => {
            eprintln!("CSP_DIGEST_INTEROP_PYTHON is not set: the SMTP interop test did not run");
            None
        }
    }
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
}

/// `smtp_server.py` in a child process, stopped (stdin closed, then killed) on drop.
pub struct SmtpServer {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    fn start(python: &Path) -> Self {
        Self::start_with(python, PASSWORD, &[])
    }

    /// The server accepting `password`, with `smtp_server.py`'s `extra` options.
    pub fn start_with(python: &Path, password: &str, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("server log");
        let mut child = Command::new(python)
            .arg(script("smtp_server.py"))
            .arg("--out-dir")
            .arg(dir.path().join("received"))
            .arg("--ca-out")
            .arg(dir.path().join("ca.pem"))
            .args(["--username", USERNAME, "--password", password])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", python.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let stdin = child.stdin.take();
        // The guard exists before anything can panic, so the child never outlives the test.
        let mut server = Self {
            child,
            stdin,
            port: 0,
            dir,
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(read.map(|_| line));
        });
        let line = match rx.recv_timeout(READY_TIMEOUT) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => panic!("reading smtp_server.py's stdout: {e}\n{}", server.log()),
            Err(mpsc::RecvTimeoutError::Timeout | mpsc::RecvTimeoutError::Disconnected) => panic!(
                "smtp_server.py did not say READY within {READY_TIMEOUT:?}\n{}",
                server.log()
            ),
        };
        server.port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "smtp_server.py said {line:?} instead of READY <port>\n{}",
                    server.log()
                )
            });
        server
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn received(&self) -> PathBuf {
        self.dir.path().join("received")
    }

    pub fn log(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        format!("--- smtp_server.py log ---\n{log}")
    }

    /// The received messages in arrival order: each one's envelope (`<n>.json`) and bytes.
    pub fn messages(&self) -> Vec<(Value, Vec<u8>)> {
        let mut messages = Vec::new();
        for n in 1.. {
            let eml = self.received().join(format!("{n}.eml"));
            if !eml.exists() {
                break;
            }
            let envelope = std::fs::read(self.received().join(format!("{n}.json"))).unwrap();
            messages.push((
                serde_json::from_slice(&envelope).unwrap(),
                std::fs::read(eml).unwrap(),
            ));
        }
        messages
    }

    /// `check_messages.py`'s report on the received folder.
    fn report(&self, python: &Path) -> Value {
        let output = Command::new(python)
            .arg(script("check_messages.py"))
            .arg(self.received())
            .output()
            .expect("run check_messages.py");
        assert!(
            output.status.success(),
            "check_messages.py: {}",
            stderr(&output)
        );
        serde_json::from_slice(&output.stdout).expect("check_messages.py prints JSON")
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        // End of stdin is the server's signal to stop; kill it if it does not.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The harness's base config sending through `server` with STARTTLS and AUTH.
fn smtp_job(server: &SmtpServer) -> Job {
    Job::new(&smtp_config(server, BASE_CONFIG), &quirks_page())
}

/// `base` (a config with `[mail]` last) sending through `server` with STARTTLS and AUTH.
pub fn smtp_config(server: &SmtpServer, base: &str) -> String {
    let ca = server.ca();
    let ca = ca.to_str().expect("utf-8 path");
    assert!(!ca.contains('\''), "the CA path fits a TOML literal string");
    format!(
        "{}\n[mail.smtp]\nhost = \"localhost\"\nport = {}\ntls = \"starttls\"\nusername = \"{USERNAME}\"\nca_file = '{ca}'\nconnect_timeout_secs = 10\nsend_timeout_secs = 30\n",
        base.replacen("[mail]\n", "[mail]\ntransport = \"smtp\"\n", 1),
        server.port,
    )
}

fn run(job: &Job, password: &str, extra_env: &[(&str, &str)]) -> Output {
    let config = job.config();
    let mut env = vec![("CSP_DIGEST_SMTP_PASSWORD", password)];
    env.extend_from_slice(extra_env);
    run_binary(
        &[
            "run",
            "--config",
            config.to_str().expect("utf-8 path"),
            "--as-of",
            AS_OF,
        ],
        &env,
    )
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
    let Some(python) = interop_python() else {
        return;
    };
    let server = SmtpServer::start(&python);
    let job = smtp_job(&server);
    let output = run(&job, PASSWORD, &[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}\n{}",
        stderr(&output),
        server.log()
    );

    let messages = server.messages();
    assert_eq!(
        messages.len(),
        2,
        "one message per recipient\n{}",
        server.log()
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

    let report = server.report(&python);
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
        assert_eq!(attachments, ["alerts.csv", "summary.csv"], "{context}");
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
        let written = std::fs::read(job.day(DATE).join("mail").join(format!("{to}.eml")))
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
    let Some(python) = interop_python() else {
        return;
    };
    let server = SmtpServer::start(&python);
    let job = smtp_job(&server);
    let output = run(&job, CANARY, &[]);
    let everything = stdout_and_stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{everything}\n{}",
        server.log()
    );
    assert!(
        server.log().contains("AUTH PLAIN for b'digest': refused")
            || server.log().contains("AUTH LOGIN for b'digest': refused"),
        "the login reached the server over TLS and was refused there\n{}",
        server.log()
    );
    assert!(
        everything.contains("535"),
        "the log names the refusal: {everything}"
    );
    assert_eq!(
        leaks(&crate::canary::everything(&output, job.path()), CANARY),
        Vec::<&str>::new(),
        "the password leaked in the output or into a file under the job folder"
    );
    assert!(server.messages().is_empty(), "nothing received");
}

/// Beyond the default level: with its `tracing` feature, lettre logs every line it writes at
/// debug, the AUTH command (base64 of the login and password) included.
#[test]
fn the_password_stays_out_of_trace_logs() {
    let Some(python) = interop_python() else {
        return;
    };
    let server = SmtpServer::start(&python);
    let job = smtp_job(&server);
    let output = run(&job, CANARY, &[("CSP_DIGEST_LOG", "trace")]);
    let everything = stdout_and_stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{everything}");
    assert_eq!(
        leaks(everything.as_bytes(), CANARY),
        Vec::<&str>::new(),
        "the password leaked at CSP_DIGEST_LOG=trace (lettre's debug events log each SMTP line it writes)"
    );
}

#[test]
fn a_second_run_the_same_day_sends_nothing() {
    let Some(python) = interop_python() else {
        return;
    };
    let server = SmtpServer::start(&python);
    let job = smtp_job(&server);
    let first = run(&job, PASSWORD, &[]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}\n{}",
        stderr(&first),
        server.log()
    );
    assert_eq!(server.messages().len(), 2, "{}", server.log());

    let second = run(&job, PASSWORD, &[]);
    let log = stderr(&second);
    assert_eq!(second.status.code(), Some(0), "{log}\n{}", server.log());
    assert!(
        log.to_lowercase().contains("already sent"),
        "the second run says why it sends nothing: {log}"
    );
    assert_eq!(
        server.messages().len(),
        2,
        "still one message per recipient\n{}",
        server.log()
    );
}

/// Row D1: a certificate the job does not trust (no `ca_file` for the private CA) stops the
/// run with exit code 2; there is no fallback to plaintext and nothing is sent.
#[test]
fn an_untrusted_certificate_stops_the_run_without_falling_back_to_plaintext() {
    let Some(python) = interop_python() else {
        return;
    };
    let server = SmtpServer::start(&python);
    let job = smtp_job(&server);
    let config = std::fs::read_to_string(job.config()).unwrap();
    let without_ca: Vec<&str> = config
        .lines()
        .filter(|l| !l.starts_with("ca_file"))
        .collect();
    let without_ca = without_ca.join("\n");
    std::fs::write(job.config(), without_ca).unwrap();
    let output = run(&job, PASSWORD, &[]);
    let everything = stdout_and_stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{everything}\n{}",
        server.log()
    );
    assert!(everything.contains("TLS"), "{everything}");
    assert!(server.messages().is_empty(), "nothing received");
    assert!(
        !server.log().contains("AUTH PLAIN for") && !server.log().contains("AUTH LOGIN for"),
        "no login attempt without TLS\n{}",
        server.log()
    );
}
