//! The `resolve` command: tell Microsoft what was found for alerts — Legitimate, Fraud or Ignore
//! (or that they are under investigation) — one by `--id`, or many from the digest's
//! `alerts.csv` with its `decision` column filled in. Each alert is read first; one already
//! resolved is changed only with `--force`. Every change asked of the service is recorded in the
//! ledger with who asked, and the service's answer.
//!
//! Order of work: load the config; read the plan (bad rows are set aside, with their line
//! numbers); unless a dry run, take the state lock and open the ledger (what cannot be recorded
//! is not changed); then read and update a few alerts at a time, recording each answer as it
//! comes; print one line per row and a summary.

pub mod actor;
pub mod decision;
pub mod plan;
pub mod report;
pub mod update;

use std::path::Path;

use tracing::{debug, info, warn};

pub use decision::Decision;
pub use plan::{Item, Plan};
pub use report::Report;

use crate::config;
use crate::exit::{Exit, ExitContext, Failure};
use crate::ledger::{Ledger, Resolution, State};
use crate::render::lang::Language;
use crate::source::SourceConfig;
use crate::source::graph::{self, GraphError, Http};
use update::{Options, Outcome};

/// What to change.
#[derive(Debug, Clone)]
pub enum Target<'a> {
    /// One alert, from the command line.
    One { id: &'a str, decision: Decision },
    /// The rows of an `alerts.csv` with a decision.
    Csv(&'a Path),
}

/// What the caller asked for.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub config: &'a Path,
    pub target: Target<'a>,
    /// Read the alerts and print the plan; change and record nothing.
    pub dry_run: bool,
    /// Change alerts that are already resolved.
    pub force: bool,
    /// Who is asking, for the ledger; default: the machine user.
    pub actor: Option<&'a str>,
}

/// Runs the command; the report's lines are for stdout.
pub async fn resolve(request: &Request<'_>) -> Result<Report, Failure> {
    let config = config::load(request.config).or_exit(Exit::Config)?;
    let SourceConfig::Graph(graph) = &config.source else {
        return Err(anyhow::anyhow!(
            "config file {}: resolve changes alerts in Microsoft Graph, and [source] kind is not \"graph\"",
            request.config.display()
        ))
        .or_exit(Exit::Config);
    };
    let actor = match request.actor {
        Some(given) => actor::given(given)
            .map_err(anyhow::Error::msg)
            .or_exit(Exit::Config)?,
        None => actor::machine(&|name| std::env::var(name).ok()),
    };
    let (plan, source) = plan_of(&request.target, config.digest.language)?;
    info!(
        planned = plan.items.len(),
        blank = plan.blank,
        invalid = plan.invalid.len(),
        dry_run = request.dry_run,
        force = request.force,
        "resolve started"
    );

    // What cannot be recorded is not changed: the lock and the ledger come first.
    let state = if request.dry_run || plan.items.is_empty() {
        None
    } else {
        Some(lock(&config.digest.state_dir)?)
    };

    let mut retries = 0;
    let done = if plan.items.is_empty() {
        Vec::new()
    } else {
        let http = Http::new(graph::http_settings(graph)).or_exit(Exit::Config)?;
        let tokens = graph::token_source(graph);
        let options = Options {
            graph_url: &graph.graph_url,
            force: request.force,
            dry_run: request.dry_run,
            concurrency: update::CONCURRENCY,
            deadline: graph.deadline,
        };
        let ledger = state.as_ref().map(|s| &s.ledger);
        let on_done = |item: &Item, outcome: &Outcome| {
            log(item, outcome);
            match ledger {
                Some(ledger) => record(ledger, &actor, &source, item, outcome),
                None => Ok(()),
            }
        };
        let done = update::apply(&http, &tokens, plan.items.clone(), &options, on_done)
            .await
            .or_exit(Exit::Config)?;
        retries = http.retries();
        done
    };
    let report = report::report(&plan, &done, request.dry_run);
    let c = report.counts;
    info!(
        planned = c.planned,
        updated = c.updated,
        skipped = c.skipped(),
        blank = c.blank,
        already = c.already,
        refused = c.refused,
        invalid = c.invalid,
        failed = c.failed,
        retries,
        dry_run = request.dry_run,
        exit_code = report.exit.code(),
        "resolve finished"
    );
    Ok(report)
}

/// The plan and the name of where it came from (for the ledger's `source`).
fn plan_of(target: &Target<'_>, language: Language) -> Result<(Plan, String), Failure> {
    match target {
        Target::One { id, decision } => {
            if let Some(why) = graph::alert::id_problem(id) {
                return Err(anyhow::anyhow!("--id {id:?} is not an alert id: {why}"))
                    .or_exit(Exit::Config);
            }
            let item = Item {
                line: None,
                id: (*id).to_owned(),
                decision: *decision,
                customer: None,
                alert_type: None,
            };
            let plan = Plan {
                items: vec![item],
                ..Plan::default()
            };
            Ok((plan, "--id".to_owned()))
        }
        Target::Csv(path) => {
            let plan = std::fs::File::open(path)
                .map_err(anyhow::Error::from)
                .and_then(|f| {
                    plan::read(f, decision::decision_words(language)).map_err(anyhow::Error::from)
                })
                .map_err(|e| e.context(path.display().to_string()))
                .or_exit(Exit::Config)?;
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            Ok((plan, name))
        }
    }
}

/// Takes the state lock and opens the ledger.
fn lock(state_dir: &Path) -> Result<State, Failure> {
    Ok(State::open(state_dir)?)
}

fn log(item: &Item, outcome: &Outcome) {
    let line = item.line.unwrap_or(0);
    match outcome {
        Outcome::Failed { error, .. } => {
            warn!(line, id = %item.id, %error, "alert not changed");
        }
        Outcome::NotTried { why } => warn!(line, id = %item.id, why, "alert not tried"),
        _ => debug!(line, id = %item.id, decision = %item.decision, "alert done"),
    }
}

/// Records a change asked of the service (updated, or refused by it); reads alone and
/// decisions that needed no change are not changes.
pub fn record(
    ledger: &Ledger,
    actor: &str,
    source: &str,
    item: &Item,
    outcome: &Outcome,
) -> anyhow::Result<()> {
    let (before, http_status, outcome_name, message) = match outcome {
        Outcome::Updated { before, answer } => (
            before,
            Some(answer.http_status),
            "updated",
            answer.alert.as_ref().map_or_else(
                || format!("HTTP {}, no alert in the answer", answer.http_status),
                |a| {
                    let reason = a
                        .resolved_reason
                        .as_ref()
                        .map_or_else(String::new, |r| format!(", reason {r}"));
                    format!("the service reports status {}{reason}", a.status)
                },
            ),
        ),
        Outcome::Failed {
            before: Some(before),
            error,
        } => (before, http_status(error), "failed", error.to_string()),
        _ => return Ok(()),
    };
    let change = item.decision.change();
    let source = match item.line {
        Some(line) => format!("{source}:{line}"),
        None => source.to_owned(),
    };
    ledger
        .record_resolution(&Resolution {
            at: String::new(),
            actor: actor.to_owned(),
            alert_id: item.id.clone(),
            old_status: before.status.to_string(),
            new_status: change.status.to_owned(),
            reason: change.resolved_reason.map(str::to_owned),
            http_status,
            outcome: outcome_name.to_owned(),
            message,
            source,
        })
        .map_err(|e| {
            e.context(format!(
                "cannot record the change of alert {} in the ledger; the batch stops",
                item.id
            ))
        })
}

/// The HTTP status behind an error, when the service answered.
fn http_status(error: &GraphError) -> Option<u16> {
    match error {
        GraphError::Unauthorized { .. } => Some(401),
        GraphError::Forbidden { .. } | GraphError::MissingMfa { .. } => Some(403),
        GraphError::NotFound { .. } => Some(404),
        GraphError::Rejected { status, .. } if *status != 0 => Some(*status),
        _ => None,
    }
}
