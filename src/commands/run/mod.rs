//! The `run` command: config → source → digest → render → deliver, with one summary line.
//!
//! Order of work: take the state lock; open the ledger (while the source's first request is
//! already on its way); if this digest date was already prepared (and no `--force`), only send
//! what is still pending; otherwise collect, render and write every report and `.eml`, record
//! the deliveries as pending, then send. A delivery is marked sent
//! only after the server accepted it, so a crash at any point leaves a rerun that sends what is
//! missing — at worst one duplicate with the same Message-ID.

mod prepare;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::config::{self, Config};
use crate::deliver::smtp::Mailer;
use crate::deliver::{self, Transport};
use crate::exit::{Exit, ExitContext, Failure};
use crate::ledger::{Ledger, State};
use crate::retry::Sleeper;
use crate::{as_of, digest, names, source};
use prepare::{Recorder, prepare};

/// What the caller asked for.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub config: &'a Path,
    pub as_of: Option<&'a str>,
    pub dry_run: bool,
    /// Prepare and send this digest date again even if the ledger says it was sent.
    pub force: bool,
    /// The system clock's reading, taken by `main`; used when `as_of` is absent.
    pub now: DateTime<Utc>,
}

/// What a finished run did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub digest_date: String,
    /// Whether this run prepared the digest (false: it was prepared by an earlier run).
    pub prepared: bool,
    pub pages: usize,
    pub retries: u64,
    pub bytes: u64,
    pub collect_ms: u64,
    pub set_aside: usize,
    pub selection: digest::Selection,
    pub partners: usize,
    pub customers: usize,
    pub subscriptions: usize,
    /// Names found for the digest's ids, and lookups that failed (warnings).
    pub names: names::Stats,
    pub messages: usize,
    pub sent: usize,
    pub failed: usize,
    pub pending: usize,
    pub folder: PathBuf,
    pub files: Vec<PathBuf>,
    pub exit: Exit,
}

/// Runs the whole job once.
pub async fn run(request: &Request<'_>) -> Result<Summary, Failure> {
    run_noting(request, &mut Summary::default()).await
}

/// [`run`], noting in `noted` what is known (the digest date) as soon as it is,
/// so that a failed run's summary line can say it too.
pub async fn run_noting(request: &Request<'_>, noted: &mut Summary) -> Result<Summary, Failure> {
    let config = config::load(request.config).or_exit(Exit::Config)?;
    let tz = config.digest.timezone;
    let as_of = as_of::resolve(request.as_of, tz, request.now)
        .map_err(anyhow::Error::msg)
        .or_exit(Exit::Config)?;
    let date = as_of::digest_date(as_of, tz).format("%Y-%m-%d").to_string();
    noted.digest_date.clone_from(&date);
    info!(
        digest_date = %date,
        as_of = %as_of.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        dry_run = request.dry_run,
        force = request.force,
        "run started"
    );

    if request.dry_run {
        let setup = source::Setup::start(&config.source);
        let previous = dry_run_history(&config, &date);
        let summary = prepare(
            &config,
            as_of,
            request.now,
            &date,
            None,
            previous.as_ref(),
            setup,
        )
        .await?;
        info!("dry run: nothing recorded, nothing sent");
        return Ok(summary);
    }

    // Lock the state before anything else (a run that finds it held does nothing), and open
    // the ledger before anything is prepared: what cannot be recorded is not sent. The source
    // gets ready meanwhile (HTTP client, token, first page; thrown away if the digest of the
    // day turns out to be prepared already).
    let locked = State::lock(&config.digest.state_dir)?;
    let setup = source::Setup::start(&config.source);
    let mut state = locked.open_ledger()?;
    let rfc3339 = as_of.to_rfc3339();
    let run_id = state
        .ledger
        .start_run(&rfc3339, &date, request.force)
        .or_exit(Exit::Config)?;

    let result =
        prepare_and_deliver(request, &config, &mut state, run_id, as_of, &date, setup).await;
    let outcome = match &result {
        Ok(summary) => format!("{:?}", summary.exit).to_lowercase(),
        Err(f) => format!("{}: {:#}", format!("{:?}", f.exit).to_lowercase(), f.error),
    };
    if let Err(e) = state.ledger.finish_run(run_id, &outcome) {
        warn!(error = %e, "could not record the end of the run");
    }
    result
}

async fn prepare_and_deliver(
    request: &Request<'_>,
    config: &Config,
    state: &mut State,
    run_id: i64,
    as_of: DateTime<Utc>,
    date: &str,
    setup: source::Setup,
) -> Result<Summary, Failure> {
    let rfc3339 = as_of.to_rfc3339();
    let generation = state.ledger.generation(date).or_exit(Exit::Config)?;
    let already = generation.is_some();
    let mut summary = if already && !request.force {
        info!(digest_date = %date, "the digest for this date was already prepared; sending only what is still pending");
        Summary {
            digest_date: date.to_owned(),
            folder: config.digest.output_dir.join(date),
            ..Summary::default()
        }
    } else {
        if let Some(newer) = state.ledger.newest_after(date).or_exit(Exit::Config)? {
            if !request.force {
                return Err(Failure {
                    exit: Exit::Config,
                    error: anyhow::anyhow!(
                        "the digest date {date} is older than {newer}, already prepared: its digest would be stale; check --as-of, or add --force to prepare {date} anyway (compared with the latest digest before it)"
                    ),
                });
            }
            warn!(digest_date = %date, newer = %newer, "preparing a digest date older than one already prepared (--force): it is compared with the latest digest before it, not with {newer}");
        }
        let next = generation.map_or(0, |g| g + 1);
        let previous = state.ledger.previous(date).or_exit(Exit::Config)?;
        prepare(
            config,
            as_of,
            request.now,
            date,
            Some(Recorder {
                ledger: &mut state.ledger,
                run_id,
                as_of: &rfc3339,
                generation: next,
                replace: already,
            }),
            previous.as_ref(),
            setup,
        )
        .await?
    };

    deliver(config, state, &mut summary).await?;
    Ok(summary)
}

/// Sends what is pending and sets the summary's counts and exit code.
async fn deliver(config: &Config, state: &State, summary: &mut Summary) -> Result<(), Failure> {
    let status = state
        .ledger
        .status(&summary.digest_date)
        .or_exit(Exit::Config)?;
    let Transport::Smtp(smtp) = &config.mail.transport else {
        summary.sent = status.sent;
        if !summary.prepared && status.sent > 0 {
            info!(digest_date = %summary.digest_date, "already sent (written as .eml files); nothing to do");
        }
        return Ok(());
    };
    let pending = state.ledger.pending().or_exit(Exit::Config)?;
    if pending.is_empty() {
        if !summary.prepared {
            info!(
                digest_date = %summary.digest_date,
                sent = status.sent,
                failed = status.failed,
                "already sent; nothing to do (use --force to send again)"
            );
        }
        return Ok(());
    }
    let mailer = Mailer::new(smtp, Sleeper::Tokio).or_exit(Exit::Config)?;
    let sent = deliver::send_pending(&state.ledger, &mailer)
        .await
        .or_exit(Exit::Config)?;
    summary.sent = sent.sent;
    summary.failed = sent.failed.len();
    summary.pending = sent.pending.len();
    if let Some(reason) = sent.stopped {
        return Err(Failure {
            exit: Exit::Config,
            error: anyhow::anyhow!("sending stopped, every message left pending: {reason}"),
        });
    }
    for (date, to, error) in &sent.failed {
        warn!(
            digest_date = %date,
            recipient = %deliver::smtp::mask(to),
            %error,
            "not delivered, refused for good (the ledger's deliveries table has the address)"
        );
    }
    summary.exit = if !sent.pending.is_empty() {
        Exit::Transient
    } else if !sent.failed.is_empty() {
        Exit::Partial
    } else {
        Exit::Done
    };
    Ok(())
}

/// A dry run compares with the ledger's latest digest too, but only reads it, without the lock;
/// when it cannot, the dry run goes on without history.
fn dry_run_history(config: &Config, date: &str) -> Option<digest::Previous> {
    let read = || -> anyhow::Result<Option<digest::Previous>> {
        match Ledger::open_read_only(&config.digest.state_dir)? {
            Some(ledger) => ledger.previous(date),
            None => Ok(None),
        }
    };
    read().unwrap_or_else(|e| {
        warn!(error = %format!("{e:#}"), "dry run: the ledger's history cannot be read; comparing with nothing");
        None
    })
}

impl Summary {
    /// The run's one summary line, as a log event with fields.
    pub fn log(&self) {
        let s = self.selection;
        info!(
            digest_date = %self.digest_date,
            prepared = self.prepared,
            pages = self.pages,
            retries = self.retries,
            bytes = self.bytes,
            collect_ms = self.collect_ms,
            read = s.read,
            set_aside = self.set_aside,
            duplicates = s.duplicates,
            test = s.test,
            resolved = s.resolved,
            unresolved = s.in_window + s.older_than_window + s.after_as_of,
            in_window = s.in_window,
            older_than_window = s.older_than_window,
            after_as_of = s.after_as_of,
            partners = self.partners,
            customers = self.customers,
            subscriptions = self.subscriptions,
            named = self.names.named,
            unnamed = self.names.unnamed,
            name_warnings = self.names.warnings,
            messages = self.messages,
            sent = self.sent,
            failed = self.failed,
            pending = self.pending,
            files = self.files.len(),
            folder = %self.folder.display(),
            exit_code = self.exit.code(),
            "run finished"
        );
    }
}
