//! The binary: parse arguments, set up logging, run, and map the outcome to an exit code.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;

use clap::Parser;
use csp_alert_digest::cli::{Cli, Command, LogFormat};
use csp_alert_digest::exit::Exit;
use csp_alert_digest::{logging, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    // A panic is a bug: the hook has printed it; the documented exit code for it is 1.
    let outcome = catch_unwind(AssertUnwindSafe(|| match &cli.command {
        Command::Run(args) => run::run(&run::Request {
            config: &args.config,
            as_of: args.as_of.as_deref(),
            dry_run: args.dry_run,
            now: chrono::Utc::now(),
        }),
    }));
    let Ok(outcome) = outcome else {
        return ExitCode::from(Exit::Internal.code());
    };
    match outcome {
        Ok(summary) => {
            summary.log();
            ExitCode::from(summary.exit.code())
        }
        Err(failure) => {
            // Printed once: as a JSON event for collectors, else as one plain line.
            match cli.log_format {
                LogFormat::Json => tracing::error!(exit_code = failure.exit.code(), "{failure}"),
                LogFormat::Text => eprintln!("csp-alert-digest: error: {failure}"),
            }
            ExitCode::from(failure.exit.code())
        }
    }
}
