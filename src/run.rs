//! The `run` command: config → source → digest → render → deliver, with one summary line.
//!
//! Order of work: take the state lock; if this digest date was already prepared (and no
//! `--force`), only send what is still pending; otherwise collect, render and write every
//! report and `.eml`, record the deliveries as pending, then send. A delivery is marked sent
//! only after the server accepted it, so a crash at any point leaves a rerun that sends what is
//! missing — at worst one duplicate with the same Message-ID.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::config::{self, Config, Transport};
use crate::deliver::ledger::{Ledger, Listed, NewDelivery, Prepared};
use crate::deliver::smtp::Mailer;
use crate::deliver::{self, RunFolder, State, message};
use crate::exit::{Exit, ExitContext, Failure};
use crate::render::{self, Context};
use crate::retry::Sleeper;
use crate::source::names;
use crate::{as_of, digest, source};

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
    let config = config::load(request.config).or_exit(Exit::Config)?;
    let tz = config.digest.timezone;
    let as_of = as_of::resolve(request.as_of, tz, request.now)
        .map_err(anyhow::Error::msg)
        .or_exit(Exit::Config)?;
    let date = as_of::digest_date(as_of, tz).format("%Y-%m-%d").to_string();
    info!(digest_date = %date, %as_of, dry_run = request.dry_run, force = request.force, "run started");

    if request.dry_run {
        let previous = dry_run_history(&config, &date);
        let (summary, _) = prepare(
            &config,
            as_of,
            request.now,
            &date,
            0,
            None,
            previous.as_ref(),
        )
        .await?;
        info!("dry run: nothing recorded, nothing sent");
        return Ok(summary);
    }

    // Lock and open the state before anything else: what cannot be recorded is not sent.
    let mut state = State::open(&config.digest.state_dir)?;
    let rfc3339 = as_of.to_rfc3339();
    let run_id = state
        .ledger
        .start_run(&rfc3339, &date, request.force)
        .or_exit(Exit::Config)?;

    let result = prepare_and_deliver(request, &config, &mut state, run_id, as_of, &date).await;
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
        let next = generation.map_or(0, |g| g + 1);
        let previous = state.ledger.previous(date).or_exit(Exit::Config)?;
        let (summary, prepared) = prepare(
            config,
            as_of,
            request.now,
            date,
            next,
            Some(Recorder {
                ledger: &state.ledger,
                run_id,
                as_of: &rfc3339,
                replace: already,
            }),
            previous.as_ref(),
        )
        .await?;
        if let Some(recording) = prepared.recording {
            // With the file transport, the written .eml files are the delivery.
            let delivered = matches!(config.mail.transport, Transport::File);
            recording
                .commit(&prepared.deliveries, delivered)
                .or_exit(Exit::Config)?;
        }
        summary
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

/// Where a run that is not a dry run records its digest.
struct Recorder<'l> {
    ledger: &'l Ledger,
    run_id: i64,
    /// The as-of instant, as recorded.
    as_of: &'l str,
    /// A forced run replaces the earlier digest of its date.
    replace: bool,
}

/// The deliveries of a prepared digest, and its record in the ledger, to be committed with
/// them (none in a dry run).
struct PreparedFiles<'l> {
    recording: Option<deliver::ledger::Recording<'l>>,
    deliveries: Vec<NewDelivery>,
}

/// Collects, digests, names, renders and writes every report and message. A dry run (no
/// `ledger`) writes to `<date>.dry-run/`, so it never changes the `.eml` files that pending
/// deliveries will send, and reads cached names without writing them.
async fn prepare<'l>(
    config: &Config,
    as_of: DateTime<Utc>,
    now: DateTime<Utc>,
    date: &str,
    generation: u32,
    recorder: Option<Recorder<'l>>,
    previous: Option<&digest::Previous>,
) -> Result<(Summary, PreparedFiles<'l>), Failure> {
    let dry_run = recorder.is_none();
    let tz = config.digest.timezone;
    let (collected, mut digest, spill) = collect_digest(config, as_of, previous).await?;
    let set_aside = collected.set_aside.len();
    let names = look_up_names(config, &digest, recorder.as_ref().map(|r| r.ledger), now).await;

    let ctx = Context {
        digest_date: as_of::digest_date(as_of, tz),
        timezone: tz,
        language: config.digest.language,
        subject_prefix: config.mail.subject.as_deref(),
        set_aside,
        names: &names.names,
    };
    let folder_name = if dry_run {
        format!("{date}.dry-run")
    } else {
        date.to_owned()
    };
    let folder =
        RunFolder::create(&config.digest.output_dir, &folder_name).or_exit(Exit::Config)?;
    let (csvs, recording) = write_csvs_and_record(
        &folder,
        &digest,
        date,
        &names.names,
        spill.as_ref(),
        recorder.as_ref().map(|r| (r, generation)),
    );
    let ([alerts_csv, summary_csv], [alerts_bytes, summary_bytes]) = csvs?;
    let recording = recording.or_exit(Exit::Config)?;
    render::hold_listed(&mut digest, spill.as_ref())
        .map_err(|e| anyhow::Error::from(e).context("cannot read the spill file"))
        .or_exit(Exit::Config)?;
    drop(spill);
    let size = |bytes: u64| usize::try_from(bytes).unwrap_or(usize::MAX);
    let reports = render::render(
        &digest,
        &ctx,
        (size(alerts_bytes), size(summary_bytes)),
        |name| std::fs::read(folder.dir.join(name)),
    )
    .or_exit(Exit::Internal)?;
    let messages = if digest.is_empty() && !config.digest.send_when_empty {
        info!("no unresolved alerts in the window and send_when_empty is off: no message");
        Vec::new()
    } else {
        let envelope = message::Envelope {
            from: &config.mail.from,
            digest_date: date,
            as_of,
            generation,
        };
        message::build_all(envelope, &config.mail.to, &reports).or_exit(Exit::Internal)?
    };
    let files = deliver::write_all(&folder, &reports, [alerts_csv, summary_csv], &messages)
        .or_exit(Exit::Config)?;
    let mail_dir = folder.mail_dir();
    let deliveries = messages
        .iter()
        .map(|m| NewDelivery {
            recipient: m.recipient.email.to_string().to_lowercase(),
            address: m.recipient.email.to_string(),
            sender: config.mail.from.email.to_string(),
            message_id: m.message_id.clone(),
            eml_path: std::path::absolute(mail_dir.join(&m.file_name))
                .unwrap_or_else(|_| mail_dir.join(&m.file_name)),
        })
        .collect();

    let summary = Summary {
        digest_date: date.to_owned(),
        prepared: true,
        pages: collected.pages,
        retries: collected.retries,
        bytes: collected.bytes,
        collect_ms: u64::try_from(collected.elapsed.as_millis()).unwrap_or(u64::MAX),
        set_aside,
        selection: digest.selection,
        partners: digest.reach.partners,
        customers: digest.reach.customers,
        subscriptions: digest.reach.subscriptions,
        names: names.stats,
        messages: messages.len(),
        folder: folder.dir,
        files,
        ..Summary::default()
    };
    Ok((
        summary,
        PreparedFiles {
            recording,
            deliveries,
        },
    ))
}

/// The long text of the alerts a digest keeps stays in memory up to this many bytes (a
/// digest of a few thousand alerts); past it, it goes to the spill file.
const HELD_DETAILS_BYTES: usize = 8 << 20;

/// Collects the alerts into the digest. Alerts are sorted out as they arrive; past the first
/// few MiB, the long text of those the digest keeps goes to a spill file (memory held in the
/// digest stays small however many alerts there are, and a small digest needs no file).
async fn collect_digest(
    config: &Config,
    as_of: DateTime<Utc>,
    previous: Option<&digest::Previous>,
) -> Result<
    (
        source::Collected,
        digest::Digest,
        Option<source::spill::SpillFile>,
    ),
    Failure,
> {
    let mut spill = None;
    let mut spill_error = None;
    let mut held = 0;
    let mut intake = digest::Intake::new(as_of, config.digest.rules(), previous);
    let collected = source::collect_into(&config.source, &mut |mut alert| {
        if intake.bucket(&alert) == digest::Bucket::InWindow
            && let source::model::Detail::Held(bytes) = &alert.details
        {
            held += bytes.len();
            if held > HELD_DETAILS_BYTES {
                let file = spill.get_or_insert_with(open_spill);
                if let Some(file) = file.as_mut()
                    && let Err(e) = file.put(&mut alert.details)
                {
                    spill_error.get_or_insert(e);
                }
            }
        }
        intake.add(alert);
    })
    .await
    .map_err(|e| Failure {
        exit: if e.is_permanent() {
            Exit::Config
        } else {
            Exit::Transient
        },
        error: e.into(),
    })?;
    if let Some(e) = spill_error {
        return Err(anyhow::Error::from(e).context("cannot write the spill file"))
            .or_exit(Exit::Config);
    }
    let spill = spill
        .flatten()
        .map(source::spill::Spill::finish)
        .transpose()
        .map_err(|e| anyhow::Error::from(e).context("cannot write the spill file"))
        .or_exit(Exit::Config)?;
    for aside in &collected.set_aside {
        warn!(
            page = %aside.page,
            index = aside.index,
            id = aside.id.as_deref().unwrap_or("-"),
            reason = %aside.reason,
            "record set aside"
        );
    }
    Ok((collected, intake.finish(), spill))
}

/// Writes the CSVs (see [`write_csvs`]) on a second thread while this one starts recording
/// the digest and its alerts in the ledger, in a transaction committed only with the
/// deliveries once every file is written.
#[expect(
    clippy::type_complexity,
    reason = "the two results of the two threads, as they are"
)]
fn write_csvs_and_record<'l>(
    folder: &RunFolder,
    digest: &digest::Digest,
    date: &str,
    names: &names::Names,
    spill: Option<&source::spill::SpillFile>,
    recorder: Option<(&Recorder<'l>, u32)>,
) -> (
    Result<([PathBuf; 2], [u64; 2]), Failure>,
    anyhow::Result<Option<deliver::ledger::Recording<'l>>>,
) {
    std::thread::scope(|scope| {
        let csvs = scope.spawn(|| write_csvs(folder, digest, date, names, spill));
        let recording = recorder
            .map(|(r, generation)| {
                r.ledger.begin_prepared(
                    r.run_id,
                    &Prepared {
                        digest_date: date,
                        as_of: r.as_of,
                        generation,
                        alerts: Listed::Digest(&digest.alerts),
                        deliveries: Vec::new(),
                    },
                    r.replace,
                )
            })
            .transpose();
        let csvs = csvs
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (csvs, recording)
    })
}

/// Streams `alerts.csv` and `summary.csv` into the run folder, side by side; returns their
/// paths and sizes.
fn write_csvs(
    folder: &RunFolder,
    digest: &digest::Digest,
    date: &str,
    names: &names::Names,
    spill: Option<&source::spill::SpillFile>,
) -> Result<([PathBuf; 2], [u64; 2]), Failure> {
    let csv_started = std::time::Instant::now();
    // `summary.csv` (one row per group and type) is made beside `alerts.csv`.
    let (alerts, summary) = std::thread::scope(|scope| {
        let summary = scope.spawn(|| {
            folder.write_with("summary.csv", |out| {
                render::csv::write_summary(out, digest, date, names)
            })
        });
        let alerts = folder.write_direct_with("alerts.csv", |out| {
            render::csv::write_alerts(out, digest, date, names, spill)
        });
        let summary = summary
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (alerts, summary)
    });
    let (alerts_csv, alerts_bytes) = alerts.or_exit(Exit::Config)?;
    let (summary_csv, summary_bytes) = summary.or_exit(Exit::Config)?;
    info!(
        csv_ms = u64::try_from(csv_started.elapsed().as_millis()).unwrap_or(u64::MAX),
        alerts_csv_bytes = alerts_bytes,
        summary_csv_bytes = summary_bytes,
        "CSV reports written"
    );
    Ok(([alerts_csv, summary_csv], [alerts_bytes, summary_bytes]))
}

/// The spill file for alert details, in the system's temporary folder (`TMPDIR`); without
/// one (a read-only or full temporary folder) the details stay in memory.
fn open_spill() -> Option<source::spill::Spill> {
    let dir = std::env::temp_dir();
    source::spill::Spill::create_in(&dir)
        .map_err(|e| {
            warn!(
                folder = %dir.display(),
                error = %e,
                "cannot create a spill file; alert details stay in memory"
            );
        })
        .ok()
}

/// Names for the digest's ids. Never fails: a lookup that fails is a warning. A dry run reads
/// the cache read-only, if there is a ledger.
async fn look_up_names(
    config: &Config,
    digest: &digest::Digest,
    ledger: Option<&Ledger>,
    now: DateTime<Utc>,
) -> names::Resolved {
    let wanted = names::Wanted::of(digest);
    let mut unreadable = None;
    let read_only = match ledger {
        None if config.names.partner_center.is_some() => {
            names::cache::open_read_only(&config.digest.state_dir).unwrap_or_else(|e| {
                let message = format!("the names cache cannot be read: {e:#}");
                warn!("{message}");
                unreadable = Some(message);
                None
            })
        }
        _ => None,
    };
    let cache = match (ledger, &read_only) {
        (Some(ledger), _) => names::Cache::ReadWrite(ledger.connection()),
        (None, Some(conn)) => names::Cache::ReadOnly(conn),
        (None, None) => names::Cache::None,
    };
    let mut resolved = names::lookup(config, &wanted, cache, now).await;
    if let Some(message) = unreadable {
        resolved.warnings.push(message);
        resolved.stats.warnings += 1;
    }
    resolved
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
