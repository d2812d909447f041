//! The commands `main` dispatches to, each in a file or folder of its own: `run` (the daily
//! digest), `check` (probe the config and every dependency), `resolve` (tell Microsoft what was
//! found). Each returns what happened; this module prints it and picks the exit code.

pub mod check;
pub mod login;
pub mod resolve;
pub mod run;

use crate::cli::{Command, LogFormat, Reason, ResolveArgs};
use crate::exit::{Exit, Failure};
use crate::redact;
use resolve::Decision;

/// Runs one command to its end: its output printed, its failure told once.
pub async fn dispatch(command: Command, log_format: LogFormat) -> Exit {
    match command {
        Command::Run(args) => {
            let mut noted = run::Summary::default();
            let outcome = run::run_noting(
                &run::Request {
                    config: &args.config,
                    as_of: args.as_of.as_deref(),
                    dry_run: args.dry_run,
                    force: args.force,
                    now: chrono::Utc::now(),
                },
                &mut noted,
            )
            .await;
            // Every run ends with its summary line, a failed one too.
            match outcome {
                Ok(summary) => {
                    summary.log();
                    summary.exit
                }
                Err(failure) => {
                    let exit = fail(&failure, log_format);
                    noted.exit = exit;
                    noted.log();
                    exit
                }
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
        Command::Login(args) => match login::login(&args.config).await {
            Ok(line) => {
                println!("{}", redact::scrub(&line));
                Exit::Done
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
