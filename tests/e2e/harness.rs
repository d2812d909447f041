//! A job in a temporary folder: a config file, an alerts file, and the binary to run on them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const AS_OF: &str = "2026-11-29T07:00:00Z";

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

pub struct Job {
    pub dir: tempfile::TempDir,
}

impl Job {
    /// A job with this config text and alerts file.
    pub fn new(config: &str, alerts: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("config.toml"), config).expect("write config");
        std::fs::write(dir.path().join("alerts.json"), alerts).expect("write alerts");
        Self { dir }
    }

    /// The base config with `extra` lines added to `[digest]`.
    pub fn with_digest_settings(extra: &str, alerts: &str) -> Self {
        let config = BASE_CONFIG.replacen("[digest]\n", &format!("[digest]\n{extra}\n"), 1);
        Self::new(&config, alerts)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config(&self) -> PathBuf {
        self.path().join("config.toml")
    }

    /// Runs `csp-alert-digest run --config <config> --as-of AS_OF <extra…>`.
    pub fn run(&self, extra: &[&str]) -> Output {
        self.run_at(AS_OF, extra)
    }

    /// Runs `csp-alert-digest run --config <config> --as-of <as_of> <extra…>`.
    pub fn run_at(&self, as_of: &str, extra: &[&str]) -> Output {
        let mut args = vec!["run", "--config"];
        let config = self.config();
        args.push(config.to_str().expect("utf-8 path"));
        args.extend(["--as-of", as_of]);
        args.extend(extra);
        run_binary(&args, &[])
    }

    pub fn day(&self, date: &str) -> PathBuf {
        self.path().join("out").join(date)
    }
}

/// Runs the binary with a clean logging environment.
pub fn run_binary(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_csp-alert-digest"));
    command
        .args(args)
        .env_remove("CSP_DIGEST_CONFIG")
        .env_remove("CSP_DIGEST_LOG")
        .env("RUST_BACKTRACE", "1");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run the binary")
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
    let bytes = std::fs::read(path).expect("read csv");
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("CSV starts with a UTF-8 BOM");
    let mut reader = csv::ReaderBuilder::new().from_reader(body);
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("row parses").iter().map(str::to_owned).collect())
        .collect();
    for row in &rows {
        assert_eq!(row.len(), header.len(), "fixed column count");
    }
    (header, rows)
}

/// A fake Microsoft Graph whose token endpoint (tenant `partner.example`, as in the Graph
/// configs of these tests) hands out `access_token`; the caller mounts the rest.
pub async fn token_server(access_token: &str) -> wiremock::MockServer {
    use wiremock::matchers::{method, path};
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("POST"))
        .and(path("/partner.example/oauth2/v2.0/token"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"token_type":"Bearer","expires_in":3599,"access_token":access_token}),
        ))
        .mount(&server)
        .await;
    server
}
