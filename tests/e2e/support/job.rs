//! A job in a temporary folder: a config file, an alerts file, and the binary to run on them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::AS_OF;

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
        let config = super::BASE_CONFIG.replacen("[digest]\n", &format!("[digest]\n{extra}\n"), 1);
        Self::new(&config, alerts)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config(&self) -> PathBuf {
        self.path().join("config.toml")
    }

    pub fn day(&self, date: &str) -> PathBuf {
        self.path().join("out").join(date)
    }

    /// `csp-alert-digest <subcommand> --config <config> <args…>`, with a clean logging
    /// environment ([`binary`]), to add to and run.
    pub fn command(&self, subcommand: &str, args: &[&str]) -> Command {
        let mut command = binary();
        command
            .arg(subcommand)
            .arg("--config")
            .arg(self.config())
            .args(args);
        command
    }

    /// Runs `csp-alert-digest run --config <config> --as-of AS_OF <extra…>`.
    pub fn run(&self, extra: &[&str]) -> Output {
        self.run_at(AS_OF, extra)
    }

    /// Runs `csp-alert-digest run --config <config> --as-of <as_of> <extra…>`.
    pub fn run_at(&self, as_of: &str, extra: &[&str]) -> Output {
        self.run_with(&[&["--as-of", as_of], extra].concat(), &[])
    }

    /// Runs `csp-alert-digest run --config <config> <args…>` (`--as-of AS_OF` unless `args` has
    /// an `--as-of`) with `env` added.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        output(&mut self.run_command(args, env))
    }

    /// [`Self::run_with`] on a blocking thread, so that the fakes this test's runtime serves
    /// keep answering while the binary runs.
    pub async fn run_beside_fakes(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = self.run_command(args, env);
        tokio::task::spawn_blocking(move || output(&mut command))
            .await
            .expect("the binary's thread")
    }

    fn run_command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let as_of: &[&str] = if args.contains(&"--as-of") {
            &[]
        } else {
            &["--as-of", AS_OF]
        };
        let mut command = self.command("run", &[as_of, args].concat());
        command.envs(env.iter().copied());
        command
    }
}

/// The binary with a clean logging environment: no config or log filter from the environment,
/// backtraces on.
pub fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_csp-alert-digest"));
    command
        .env_remove("CSP_DIGEST_CONFIG")
        .env_remove("CSP_DIGEST_LOG")
        .env("RUST_BACKTRACE", "1");
    command
}

/// Runs the binary with a clean logging environment.
pub fn run_binary(args: &[&str], env: &[(&str, &str)]) -> Output {
    output(binary().args(args).envs(env.iter().copied()))
}

fn output(command: &mut Command) -> Output {
    command.output().expect("run the binary")
}
