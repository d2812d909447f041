//! The binary: parse arguments, set up logging, run the command, and map the outcome to an
//! exit code.

use std::process::ExitCode;

use clap::Parser;
use csp_alert_digest::cli::{Cli, Command};
use csp_alert_digest::exit::Exit;
use csp_alert_digest::{commands, logging};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    let log_format = cli.log_format;
    let is_run = matches!(cli.command, Command::Run(_));
    // Run on a task so a panic (a bug) comes back as an error: the panic hook has printed it,
    // and the documented exit code for it is 1. SIGTERM ends the run with exit code 3.
    // A local task: the ledger's SQLite connection stays on this thread.
    let local = tokio::task::LocalSet::new();
    let task = local.spawn_local(commands::dispatch(cli.command, log_format));
    let exit = local
        .run_until(async {
            tokio::select! {
                joined = task => joined.unwrap_or(Exit::Internal),
                signal = terminated() => {
                    // Every ledger write is its own transaction and a delivery is marked sent
                    // only after the server accepted it, so stopping here loses nothing.
                    tracing::warn!(signal, "stopped by a signal; pending deliveries stay pending");
                    if is_run {
                        // A run ends with its summary line, a stopped one too.
                        tracing::info!(exit_code = Exit::Transient.code(), "run finished");
                    }
                    Exit::Transient
                }
            }
        })
        .await;
    ExitCode::from(exit.code())
}

/// Resolves on SIGTERM (Kubernetes, systemd) or SIGINT.
async fn terminated() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}
