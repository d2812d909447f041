//! The binary: parse arguments, set up logging, run, and map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use csp_alert_digest::cli::{Cli, Command, LogFormat};
use csp_alert_digest::exit::{Exit, Failure};
use csp_alert_digest::logging;
use csp_alert_digest::run::{self, Summary};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    let log_format = cli.log_format;
    // Run on a task so a panic (a bug) comes back as an error: the panic hook has printed it,
    // and the documented exit code for it is 1.
    let Ok(outcome) = tokio::spawn(dispatch(cli.command)).await else {
        return ExitCode::from(Exit::Internal.code());
    };
    match outcome {
        Ok(summary) => {
            summary.log();
            ExitCode::from(summary.exit.code())
        }
        Err(failure) => {
            // Printed once: as a JSON event for collectors, else as one plain line.
            match log_format {
                LogFormat::Json => tracing::error!(exit_code = failure.exit.code(), "{failure}"),
                LogFormat::Text => eprintln!("csp-alert-digest: error: {failure}"),
            }
            ExitCode::from(failure.exit.code())
        }
    }
}

async fn dispatch(command: Command) -> Result<Summary, Failure> {
    match command {
        Command::Run(args) => {
            run::run(&run::Request {
                config: &args.config,
                as_of: args.as_of.as_deref(),
                dry_run: args.dry_run,
                now: chrono::Utc::now(),
            })
            .await
        }
    }
}
