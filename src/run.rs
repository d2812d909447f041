//! The `run` command: config → source → digest → render → deliver, with one summary line.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::config::{self, Config, Transport};
use crate::deliver::{self, RunFolder, message};
use crate::exit::{Exit, ExitContext, Failure};
use crate::render::{self, Context};
use crate::{as_of, digest, source};

/// What the caller asked for.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub config: &'a Path,
    pub as_of: Option<&'a str>,
    pub dry_run: bool,
    /// The system clock's reading, taken by `main`; used when `as_of` is absent.
    pub now: DateTime<Utc>,
}

/// What a finished run did.
#[derive(Debug, Clone)]
pub struct Summary {
    pub digest_date: String,
    pub as_of: DateTime<Utc>,
    pub pages: usize,
    pub retries: u64,
    pub bytes: u64,
    pub collect_ms: u64,
    pub set_aside: usize,
    pub selection: digest::Selection,
    pub partners: usize,
    pub customers: usize,
    pub subscriptions: usize,
    pub messages: usize,
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
    let digest_date = as_of::digest_date(as_of, tz);
    let date = digest_date.format("%Y-%m-%d").to_string();
    info!(digest_date = %date, %as_of, dry_run = request.dry_run, "run started");

    let collected = source::collect(&config.source).await.map_err(|e| Failure {
        exit: if e.is_permanent() {
            Exit::Config
        } else {
            Exit::Transient
        },
        error: e.into(),
    })?;
    for aside in &collected.set_aside {
        warn!(
            page = %aside.page,
            index = aside.index,
            id = aside.id.as_deref().unwrap_or("-"),
            reason = %aside.reason,
            "record set aside"
        );
    }
    let set_aside = collected.set_aside.len();
    let digest = digest::build(collected.alerts, as_of, config.digest.rules());

    let ctx = Context {
        digest_date,
        timezone: tz,
        language: config.digest.language,
        subject_prefix: &config.mail.subject,
        set_aside,
    };
    let reports = render::render(&digest, &ctx).or_exit(Exit::Internal)?;
    let messages = if digest.is_empty() && !config.digest.send_when_empty {
        info!("no unresolved alerts in the window and send_when_empty is off: no message");
        Vec::new()
    } else {
        build_messages(&config, &date, as_of, &reports)?
    };

    let folder = RunFolder::create(&config.digest.output_dir, &date).or_exit(Exit::Config)?;
    let files = deliver::write_all(&folder, &reports, &messages).or_exit(Exit::Config)?;
    match config.mail.transport {
        Transport::File => info!(
            messages = messages.len(),
            folder = %folder.mail_dir().display(),
            "mail transport is \"file\": messages written, nothing sent"
        ),
    }

    Ok(Summary {
        digest_date: date,
        as_of,
        pages: collected.pages,
        retries: collected.retries,
        bytes: collected.bytes,
        collect_ms: u64::try_from(collected.elapsed.as_millis()).unwrap_or(u64::MAX),
        set_aside,
        selection: digest.selection,
        partners: digest.reach.partners,
        customers: digest.reach.customers,
        subscriptions: digest.reach.subscriptions,
        messages: messages.len(),
        folder: folder.dir,
        files,
        exit: Exit::Done,
    })
}

fn build_messages(
    config: &Config,
    date: &str,
    as_of: DateTime<Utc>,
    reports: &render::Reports,
) -> Result<Vec<message::Outgoing>, Failure> {
    let envelope = message::Envelope {
        from: &config.mail.from,
        digest_date: date,
        as_of,
    };
    message::build_all(envelope, &config.mail.to, reports).or_exit(Exit::Internal)
}

impl Summary {
    /// The run's one summary line, as a log event with fields.
    pub fn log(&self) {
        let s = self.selection;
        info!(
            digest_date = %self.digest_date,
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
            messages = self.messages,
            files = self.files.len(),
            folder = %self.folder.display(),
            "run finished"
        );
    }
}
