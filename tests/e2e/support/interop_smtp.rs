//! A real SMTP server for the interoperability tests: `aiosmtpd` (`PyPI`) requiring STARTTLS and
//! AUTH, with a certificate from a throwaway CA that `trustme` makes when the server starts
//! (`tests/interop/smtp_server.py`); `tests/interop/check_messages.py` reads back what it
//! received. The interpreter comes from `CSP_DIGEST_INTEROP_PYTHON` (a venv with both);
//! `.ci/run` sets it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::stderr;

/// The login the server accepts.
pub const USERNAME: &str = "digest";
/// The password [`SmtpServer::start`]'s server accepts.
pub const PASSWORD: &str = "interop-Pa55-w0rd";
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The Python with `aiosmtpd` and `trustme`, from `CSP_DIGEST_INTEROP_PYTHON`.
pub fn interop_python() -> Option<PathBuf> {
    super::tool_from_env("CSP_DIGEST_INTEROP_PYTHON", "the SMTP interop test")
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
    pub fn start(python: &Path) -> Self {
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

    pub fn ca(&self) -> PathBuf {
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
    pub fn report(&self, python: &Path) -> Value {
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
