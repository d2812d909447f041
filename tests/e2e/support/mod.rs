//! What the end-to-end tests share: one harness for a job run through the binary ([`Job`]), the
//! config builder (`testkit::ConfigToml`, with the Graph configs of [`graph::config`]), the fake
//! services the binary talks to, and fixtures.

pub mod fake_partner_center;
pub mod fake_smtp;
pub mod graph;
pub mod hostile;
pub mod interop_smtp;
pub mod job;
pub mod leaks;
pub mod microsoft;

use std::path::{Path, PathBuf};
use std::process::Output;

pub use job::{Job, run_binary};

/// The instant every run is as of, unless a test says otherwise: the sample's reference.
pub const AS_OF: &str = "2026-11-29T07:00:00Z";

/// A config reading `alerts.json` and writing mail to files in `out/`, for two recipients.
/// Tests edit its text, and some name its line numbers.
pub const BASE_CONFIG: &str = r#"
[digest]
timezone = "Europe/Stockholm"
output_dir = "out"
state_dir = "state"

[source]
kind = "file"
path = "alerts.json"

[mail]
from = "Digest <digest@partner.example>"
to = ["secops@partner.example", "duty@partner.example"]
"#;

/// Runs html5ever's tokenizer (the parser browsers' HTML parsing is specified by) over `html`
/// into `sink`, and gives the sink back.
pub fn tokenize_with<S: html5ever::tokenizer::TokenSink>(html: &str, sink: S) -> S {
    let input = html5ever::tokenizer::BufferQueue::default();
    input.push_back(html.into());
    let tokenizer =
        html5ever::tokenizer::Tokenizer::new(sink, html5ever::tokenizer::TokenizerOpts::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn quirks_page() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/quirks-page.json"),
    )
    .expect("quirks fixture")
}

/// Reads a CSV report: strips the BOM, checks every row has the header's width.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    csp_alert_digest::fuzzing::read_report(&std::fs::read(path).expect("read csv"))
}

/// The path an external tool's variable holds (`.ci/run` sets each). Without it, `test` says so
/// and the caller passes by returning early, except in CI, where a missing tool fails.
pub fn tool_from_env(var: &str, test: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(path) => Some(PathBuf::from(path)),
        None if std::env::var_os("CI").is_some() => panic!("CI must set {var} (see .ci/run)"),
        None => {
            eprintln!("{var} is not set: {test} did not run");
            None
        }
    }
}

/// What the binary printed on stdout.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The line `check` printed for `probe` (`ok    graph …`, `FAIL  smtp …`).
pub fn probe_line<'a>(stdout: &'a str, probe: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(probe))
        .unwrap_or_else(|| panic!("no {probe} line in {stdout}"))
}

/// Every file under `dir`, at any depth.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Asserts that `text` (a log, an error, a report) mentions every one of `needles`.
#[track_caller]
pub fn assert_mentions(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} not in {text}");
    }
}
