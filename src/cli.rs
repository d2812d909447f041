//! Command-line interface.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "csp-alert-digest",
    version,
    about = "Daily digest of unresolved Microsoft CSP partner security alerts"
)]
pub struct Cli {
    /// Log format on stderr; the level comes from `CSP_DIGEST_LOG` (e.g. info, debug).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true, env = "CSP_DIGEST_LOG_FORMAT")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect, digest, render and deliver today's digest.
    Run(RunArgs),
    /// Validate the config and probe each dependency without sending anything.
    Check(CheckArgs),
    /// Resolve alerts as legitimate, fraud or ignore (or mark them investigating): one by
    /// --id, or many from the digest's alerts.csv with its decision column filled in.
    Resolve(ResolveArgs),
    /// Sign in once as a partner user with MFA (device code flow) for `sign_in = "user"`: the
    /// refresh token is kept under `state_dir`, readable by its owner only.
    Login(LoginArgs),
}

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The TOML config file (`[source] kind = "graph"`, `sign_in = "user"`).
    #[arg(long, env = "CSP_DIGEST_CONFIG", value_name = "FILE")]
    pub config: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ResolveArgs {
    /// The TOML config file ([source] kind = "graph").
    #[arg(long, env = "CSP_DIGEST_CONFIG", value_name = "FILE")]
    pub config: PathBuf,
    /// The alert to change.
    #[arg(
        long,
        value_name = "ID",
        required_unless_present = "from_csv",
        conflicts_with = "from_csv"
    )]
    pub id: Option<String>,
    /// Resolve the alert with this reason.
    #[arg(long, value_enum, requires = "id", required_unless_present_any = ["investigating", "from_csv"])]
    pub reason: Option<Reason>,
    /// Mark the alert as under investigation instead.
    #[arg(long, requires = "id", conflicts_with = "reason")]
    pub investigating: bool,
    /// Change every alert whose row in this alerts.csv has a decision (legitimate, fraud,
    /// ignore or investigating; empty rows are skipped).
    #[arg(long, value_name = "FILE")]
    pub from_csv: Option<PathBuf>,
    /// Read the alerts and print the plan; change and record nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Change alerts that are already resolved.
    #[arg(long)]
    pub force: bool,
    /// Who is asking, for the ledger (default: the machine user).
    #[arg(long, value_name = "NAME")]
    pub actor: Option<String>,
}

/// `--reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Reason {
    /// Expected activity, or a false positive.
    Legitimate,
    /// Unauthorized abuse.
    Fraud,
    /// An old alert.
    Ignore,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The TOML config file.
    #[arg(long, env = "CSP_DIGEST_CONFIG", value_name = "FILE")]
    pub config: PathBuf,
    /// Validate the config and the local folders only; no network.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The TOML config file.
    #[arg(long, env = "CSP_DIGEST_CONFIG", value_name = "FILE")]
    pub config: PathBuf,
    /// Use this instant instead of the clock: RFC 3339 (2026-11-29T07:00:00Z), or a date
    /// (2026-11-29) meaning that day's start in the configured time zone.
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// Do everything but send and record; the .eml files are still written.
    #[arg(long)]
    pub dry_run: bool,
    /// Prepare and send this digest date again, even though the ledger says it was sent.
    #[arg(long)]
    pub force: bool,
}
