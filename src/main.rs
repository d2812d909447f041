//! The binary: parse arguments, set up logging, run the command, and map the outcome to an
//! exit code.

use std::process::ExitCode;

use clap::Parser;
use csp_alert_digest::cli::{Cli, Command, LogFormat, Reason, ResolveArgs};
use csp_alert_digest::exit::Exit;
use csp_alert_digest::exit::Failure;
use csp_alert_digest::resolve::{self, Decision};
use csp_alert_digest::{check, logging, redact, run};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    let log_format = cli.log_format;
    // Run on a task so a panic (a bug) comes back as an error: the panic hook has printed it,
    // and the documented exit code for it is 1. SIGTERM ends the run with exit code 3.
    // A local task: the ledger's SQLite connection stays on this thread.
    let local = tokio::task::LocalSet::new();
    let task = local.spawn_local(dispatch(cli.command, log_format));
    let exit = local
        .run_until(async {
            tokio::select! {
                joined = task => joined.unwrap_or(Exit::Internal),
                signal = terminated() => {
                    // Every ledger write is its own transaction and a delivery is marked sent
                    // only after the server accepted it, so stopping here loses nothing.
                    tracing::warn!(signal, "stopped by a signal; pending deliveries stay pending");
                    Exit::Transient
                }
            }
        })
        .await;
    ExitCode::from(exit.code())
}

/// Prints a failure once: as a JSON event for collectors, else as one plain line.
fn fail(failure: &Failure, log_format: LogFormat) -> Exit {
    match log_format {
        LogFormat::Json => {
            tracing::error!(exit_code = failure.exit.code(), "{failure}");
        }
        LogFormat::Text => eprintln!(
            "csp-alert-digest: error: {}",
            redact::scrub(&failure.to_string())
        ),
    }
    failure.exit
}

async fn resolve_command(args: &ResolveArgs) -> Result<resolve::Report, Failure> {
    let target = match (&args.from_csv, &args.id) {
        (Some(path), _) => resolve::Target::Csv(path),
        (None, Some(id)) => resolve::Target::One {
            id,
            decision: match args.reason {
                Some(Reason::Legitimate) => Decision::Legitimate,
                Some(Reason::Fraud) => Decision::Fraud,
                Some(Reason::Ignore) => Decision::Ignore,
                None => Decision::Investigating,
            },
        },
        (None, None) => {
            // clap requires one of them; said here too rather than assumed.
            return Err(Failure {
                exit: Exit::Config,
                error: anyhow::anyhow!("resolve needs --id or --from-csv"),
            });
        }
    };
    resolve::resolve(&resolve::Request {
        config: &args.config,
        target,
        dry_run: args.dry_run,
        force: args.force,
        actor: args.actor.as_deref(),
    })
    .await
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

async fn dispatch(command: Command, log_format: LogFormat) -> Exit {
    match command {
        Command::Run(args) => {
            let outcome = run::run(&run::Request {
                config: &args.config,
                as_of: args.as_of.as_deref(),
                dry_run: args.dry_run,
                force: args.force,
                now: chrono::Utc::now(),
            })
            .await;
            match outcome {
                Ok(summary) => {
                    summary.log();
                    summary.exit
                }
                Err(failure) => fail(&failure, log_format),
            }
        }
        Command::Resolve(args) => match resolve_command(&args).await {
            Ok(report) => {
                for line in &report.lines {
                    println!("{}", redact::scrub(line));
                }
                report.exit
            }
            Err(failure) => fail(&failure, log_format),
        },
        Command::Check(args) => {
            let (probes, exit) = check::check(&args.config, args.offline).await;
            for probe in &probes {
                println!("{}", redact::scrub(&probe.line()));
            }
            exit
        }
    }
}
