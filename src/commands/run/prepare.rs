//! Preparing a digest: collect, digest, name, render, write every report and message, and
//! record it all in the ledger once every file is written.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::Summary;
use crate::alert::DetailStore;
use crate::config::Config;
use crate::deliver::{self, RunFolder, Transport, message};
use crate::exit::{Exit, ExitContext, Failure};
use crate::ledger::{Ledger, Listed, NewDelivery, Prepared};
use crate::render::{self, Context};
use crate::source::graph::SignIn;
use crate::source::graph::signin::describe;
use crate::{as_of, digest, names, source};

/// Where a run that is not a dry run records its digest.
pub(super) struct Recorder<'l> {
    pub(super) ledger: &'l mut Ledger,
    pub(super) run_id: i64,
    /// The as-of instant, as recorded.
    pub(super) as_of: &'l str,
    /// 0 for the first preparation of the date, then 1, 2… for each forced one.
    pub(super) generation: u32,
    /// A forced run replaces the earlier digest of its date.
    pub(super) replace: bool,
}

impl Recorder<'_> {
    /// Writes the digest and its alerts into the ledger, then waits for the deliveries: commits
    /// with them (sent, when `delivered`: the file transport), or, when the sender is gone
    /// without them, leaves the ledger as it was. True when it committed.
    fn record(
        self,
        digest: &digest::Digest,
        date: &str,
        delivered: bool,
        deliveries: &std::sync::mpsc::Receiver<Vec<NewDelivery>>,
    ) -> anyhow::Result<bool> {
        let recording = self.ledger.begin_prepared(
            self.run_id,
            &Prepared {
                digest_date: date,
                as_of: self.as_of,
                generation: self.generation,
                alerts: Listed::Digest(&digest.alerts),
                deliveries: Vec::new(),
            },
            self.replace,
        )?;
        match deliveries.recv() {
            Ok(deliveries) => {
                recording.commit(&deliveries, delivered)?;
                Ok(true)
            }
            Err(_) => Ok(false),
        }
    }
}

/// Collects, digests, names, renders and writes every report and message, and records the
/// digest with its deliveries in the ledger once they are all written. A dry run (no
/// `recorder`) writes to `<date>.dry-run/`, so it never changes the `.eml` files that pending
/// deliveries will send, and reads cached names without writing them.
pub(super) async fn prepare(
    config: &Config,
    as_of: DateTime<Utc>,
    now: DateTime<Utc>,
    date: &str,
    recorder: Option<Recorder<'_>>,
    previous: Option<&digest::Previous>,
    setup: source::Setup,
) -> Result<Summary, Failure> {
    let dry_run = recorder.is_none();
    // A dry run's messages are those of the first preparation.
    let generation = recorder.as_ref().map_or(0, |r| r.generation);
    let tz = config.digest.timezone;
    let (collected, digest, details) = collect_digest(config, as_of, previous, setup).await?;
    let set_aside = collected.set_aside.len();
    let names = look_up_names(config, &digest, recorder.as_ref().map(|r| &*r.ledger), now).await;

    let ctx = Context {
        digest_date: as_of::digest_date(as_of, tz),
        timezone: tz,
        language: config.digest.language,
        subject_prefix: config.mail.subject.as_deref(),
        set_aside,
        names: &names.names,
        details: &details,
        stale_sign_in_days: stale_sign_in(config, now),
    };
    let folder_name = if dry_run {
        format!("{date}.dry-run")
    } else {
        date.to_owned()
    };
    if !dry_run {
        // This run holds the state's lock: no other run stages this date now.
        RunFolder::remove_leftovers(&config.digest.output_dir, &folder_name);
    }
    // The files go to a staging folder, switched in whole once they are all written.
    let folder = RunFolder::stage(&config.digest.output_dir, &folder_name).or_exit(Exit::Config)?;
    let final_dir = folder.final_dir().to_owned();
    let delivered = matches!(config.mail.transport, Transport::File);
    let made = std::thread::scope(|scope| {
        // The ledger records the digest and its alerts on a thread of its own while the
        // files are made, and commits only with the deliveries, once every file is written;
        // without them (a file failed) it leaves the ledger as it was.
        let (deliveries_tx, deliveries_rx) = std::sync::mpsc::channel();
        let recording = match recorder {
            Some(r) => {
                let digest = &digest;
                let spawned = std::thread::Builder::new()
                    .name("ledger".to_owned())
                    .spawn_scoped(scope, move || {
                        r.record(digest, date, delivered, &deliveries_rx)
                    });
                match spawned {
                    Ok(handle) => Some(handle),
                    Err(e) => {
                        let error =
                            anyhow::Error::from(e).context("cannot start the ledger's thread");
                        return (Err(error).or_exit(Exit::Config), None, None);
                    }
                }
            }
            None => None,
        };
        let made = make_files(
            config,
            &folder,
            &digest,
            &ctx,
            (date, as_of, generation),
            || {
                recording
                    .as_ref()
                    .is_some_and(std::thread::ScopedJoinHandle::is_finished)
            },
        );
        // Every file is written: the day's folder is switched to the new one before the
        // ledger commits (a delivery the ledger records always finds its file), and the old
        // one is kept until it has.
        let switched = match &made {
            Ok(_) => Some(folder.switch_in().or_exit(Exit::Config)),
            Err(_) => None,
        };
        if let (Ok((_, deliveries)), Some(Ok(_))) = (&made, &switched) {
            // The recording thread is gone only if it failed; its error is told below.
            let _ = deliveries_tx.send(deliveries.clone());
        }
        drop(deliveries_tx);
        let committed = recording.map(|handle| {
            handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        (made, switched, committed)
    });
    let (files, deliveries) = settle(made)?;
    drop(details);

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
        messages: deliveries.len(),
        folder: final_dir,
        files,
        ..Summary::default()
    };
    // Freeing the digest (an allocation or two per alert) takes milliseconds that nothing
    // waits for; without a thread for it, it is freed here.
    let _ = std::thread::Builder::new().spawn(move || drop(digest));
    Ok(summary)
}

/// The files written and the deliveries to record.
type Made = Result<(Vec<PathBuf>, Vec<NewDelivery>), Failure>;

/// What made files, the folder switch and the ledger's commit came to: the files and
/// deliveries when all went well (the earlier folder removed), else the first error (the
/// earlier folder put back if the ledger could not commit).
fn settle(
    (made, switched, committed): (
        Made,
        Option<Result<deliver::files::Switched, Failure>>,
        Option<anyhow::Result<bool>>,
    ),
) -> Made {
    match (made, switched, committed) {
        (_, Some(Ok(switched)), Some(Err(e))) => {
            if let Err(undo) = switched.undo() {
                warn!(error = %format!("{undo:#}"), "the day's earlier folder could not be put back");
            }
            Err(e).or_exit(Exit::Config)
        }
        (_, _, Some(Err(e))) => Err(e).or_exit(Exit::Config),
        (_, Some(Err(e)), _) => Err(e),
        (made, Some(Ok(switched)), _) => {
            let made = made?;
            switched.keep();
            Ok(made)
        }
        (made, None, _) => made,
    }
}

/// Writes the CSVs, renders the email's reports and writes them with the `.eml` messages;
/// returns the files written and the deliveries to record. `recording_failed` is asked
/// before the messages are written: what cannot be recorded is not delivered.
fn make_files(
    config: &Config,
    folder: &RunFolder,
    digest: &digest::Digest,
    ctx: &Context<'_>,
    (date, as_of, generation): (&str, DateTime<Utc>, u32),
    recording_failed: impl Fn() -> bool,
) -> Result<(Vec<PathBuf>, Vec<NewDelivery>), Failure> {
    let (csvs, [alerts_bytes, summary_bytes, older_bytes]) = write_csvs(
        folder,
        digest,
        date,
        ctx.names,
        ctx.details,
        signed_in_tenant(config),
    )?;
    let size = |bytes: u64| usize::try_from(bytes).unwrap_or(usize::MAX);
    let reports = render::render(
        digest,
        ctx,
        [alerts_bytes, summary_bytes, older_bytes].map(size),
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
    if recording_failed() {
        // The caller has the ledger's error.
        return Ok((Vec::new(), Vec::new()));
    }
    let files = deliver::write_all(folder, &reports, csvs, &messages).or_exit(Exit::Config)?;
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
    Ok((files, deliveries))
}

/// Collects the alerts into the digest. Alerts are sorted out as they arrive; the long text of
/// those the digest keeps goes to the [`DetailStore`] (memory held in the digest stays small
/// however many alerts there are).
async fn collect_digest(
    config: &Config,
    as_of: DateTime<Utc>,
    previous: Option<&digest::Previous>,
    setup: source::Setup,
) -> Result<(source::Collected, digest::Digest, DetailStore), Failure> {
    let mut details = DetailStore::default();
    let mut intake = digest::Intake::new(as_of, config.digest.rules(), previous);
    let collected = source::collect_into(&config.source, setup, &mut |mut alert| {
        if matches!(
            intake.bucket(&alert),
            digest::Bucket::InWindow | digest::Bucket::OlderThanWindow
        ) {
            details.keep(&mut alert.details);
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
    details
        .seal()
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
    Ok((collected, intake.finish(), details))
}

/// Streams `alerts.csv`, `summary.csv` and `older.csv` into the run folder, side by side;
/// returns their paths and sizes.
fn write_csvs(
    folder: &RunFolder,
    digest: &digest::Digest,
    date: &str,
    names: &names::Names,
    details: &DetailStore,
    signed_in_tenant: &str,
) -> Result<([PathBuf; 3], [u64; 3]), Failure> {
    let csv_started = std::time::Instant::now();
    let rows = render::csv::Rows {
        digest_date: date,
        names,
        store: details,
        signed_in_tenant,
    };
    // `summary.csv` (one row per group and type) and `older.csv` (the alerts before the
    // window, usually few) are made beside `alerts.csv`.
    let (alerts, summary, older) = std::thread::scope(|scope| {
        let summary = scope.spawn(|| {
            let summary = folder.write_with("summary.csv", |out| {
                render::csv::write_summary(out, digest, date, names)
            });
            let older = folder.write_with("older.csv", |out| {
                render::csv::write_alerts(out, &digest.older, rows)
            });
            (summary, older)
        });
        let alerts = folder.write_direct_with("alerts.csv", |out| {
            render::csv::write_alerts(out, &digest.alerts, rows)
        });
        let (summary, older) = summary
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (alerts, summary, older)
    });
    let (alerts_csv, alerts_bytes) = alerts.or_exit(Exit::Config)?;
    let (summary_csv, summary_bytes) = summary.or_exit(Exit::Config)?;
    let (older_csv, older_bytes) = older.or_exit(Exit::Config)?;
    info!(
        csv_ms = u64::try_from(csv_started.elapsed().as_millis()).unwrap_or(u64::MAX),
        alerts_csv_bytes = alerts_bytes,
        summary_csv_bytes = summary_bytes,
        older_csv_bytes = older_bytes,
        "CSV reports written"
    );
    Ok((
        [alerts_csv, summary_csv, older_csv],
        [alerts_bytes, summary_bytes, older_bytes],
    ))
}

/// The partner tenant the job signs in to, for the CSVs; empty for the file source.
fn signed_in_tenant(config: &Config) -> &str {
    match &config.source {
        source::SourceConfig::Graph(graph) => &graph.tenant_id,
        source::SourceConfig::File { .. } => "",
    }
}

/// Days since the App+User sign-in's refresh token was last rotated, when more than
/// [`crate::source::graph::signin::ROTATION_WARNING_DAYS`] (a daily run rotates it, so this means the rotations stopped).
fn stale_sign_in(config: &Config, now: DateTime<Utc>) -> Option<i64> {
    let source::SourceConfig::Graph(graph) = &config.source else {
        return None;
    };
    let SignIn::User { store, .. } = &graph.sign_in else {
        return None;
    };
    let (stored, _) = store.load().ok()??;
    let (_, warning) = describe(&stored, now);
    warning.map(|w| {
        warn!("{w}");
        (now - stored.rotated_at).num_days()
    })
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
            crate::ledger::names::open_read_only(&config.digest.state_dir).unwrap_or_else(|e| {
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
    let graph = match &config.source {
        source::SourceConfig::Graph(graph) => Some(&**graph),
        source::SourceConfig::File { .. } => None,
    };
    let mut resolved = names::lookup(&config.names, graph, &wanted, cache, now).await;
    if let Some(message) = unreadable {
        resolved.warnings.push(message);
        resolved.stats.warnings += 1;
    }
    resolved
}
