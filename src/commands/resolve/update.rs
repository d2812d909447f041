//! Applying a plan: for each alert, read it, decide whether the change is needed and allowed,
//! and update it — a few alerts at a time, with the collector's client (retries, throttling,
//! tokens). One alert's failure never stops the others; only a failure that would repeat for
//! every alert (sign-in, permission) stops starting new ones.

use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::time::Instant;

use super::plan::Item;
use crate::alert::Status;
use crate::source::graph::alert::{self, AlertState};
use crate::source::graph::{GraphError, Http, TokenSource};

/// Alerts read and updated at the same time.
pub const CONCURRENCY: usize = 4;

/// How a batch runs.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    pub graph_url: &'a reqwest::Url,
    /// Change alerts that are already resolved.
    pub force: bool,
    /// Read only: say what would change.
    pub dry_run: bool,
    pub concurrency: usize,
    /// The whole batch, retries and waits included; what is not done by then is not tried.
    pub deadline: Duration,
}

/// What happened to one alert.
#[derive(Debug)]
pub enum Outcome {
    /// The service accepted the change.
    Updated {
        before: AlertState,
        answer: alert::Updated,
    },
    /// Dry run: this change would be made.
    WouldUpdate { before: AlertState },
    /// The alert already has that status (and reason): nothing to do.
    AlreadyDone { before: AlertState },
    /// The alert is resolved (with another reason, or the decision is `investigating`):
    /// changed only with `--force`.
    Refused { before: AlertState },
    /// No alert with this id (404).
    NotFound { error: GraphError },
    /// Reading or updating failed; `before` is known when the read worked.
    Failed {
        before: Option<AlertState>,
        error: GraphError,
    },
    /// Not tried: the batch stopped (permission, sign-in, deadline) before this alert.
    NotTried { why: String },
}

impl Outcome {
    /// Whether this failure would repeat for every alert, so starting more is pointless.
    fn stops_the_batch(&self) -> bool {
        matches!(
            self,
            Self::Failed {
                error: GraphError::Auth { .. }
                    | GraphError::SignInExpired { .. }
                    | GraphError::Unauthorized { .. }
                    | GraphError::Forbidden { .. }
                    | GraphError::MissingMfa { .. },
                ..
            }
        )
    }
}

/// An alert and what happened to it.
#[derive(Debug)]
pub struct Done {
    pub item: Item,
    pub outcome: Outcome,
}

/// Applies `items`, at most `options.concurrency` at a time. `on_done` sees each result as it
/// arrives (to record it before the next one); an error from it stops the batch and is
/// returned. Results come back in the order of `items`.
pub async fn apply(
    http: &Http,
    tokens: &TokenSource,
    items: Vec<Item>,
    options: &Options<'_>,
    mut on_done: impl FnMut(&Item, &Outcome) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<Done>> {
    let deadline = Instant::now() + options.deadline;
    let mut outcomes: Vec<Option<Outcome>> = items.iter().map(|_| None).collect();
    let mut started = 0;
    let mut stopped: Option<String> = None;
    {
        let mut running = futures_util::stream::FuturesUnordered::new();
        loop {
            while stopped.is_none()
                && started < items.len()
                && running.len() < options.concurrency.max(1)
            {
                let index = started;
                let item = &items[index];
                running.push(async move { (index, one(http, tokens, item, options).await) });
                started += 1;
            }
            let (index, outcome) = match tokio::time::timeout_at(deadline, running.next()).await {
                Ok(Some(next)) => next,
                Ok(None) => break,
                Err(_) => {
                    stopped = Some(format!(
                        "the batch did not finish within deadline_secs = {} s",
                        options.deadline.as_secs()
                    ));
                    break;
                }
            };
            on_done(&items[index], &outcome)?;
            if stopped.is_none()
                && outcome.stops_the_batch()
                && let Outcome::Failed { error, .. } = &outcome
            {
                stopped = Some(format!("stopped after alert {}: {error}", items[index].id));
            }
            outcomes[index] = Some(outcome);
        }
        // Dropping `running` cancels what is still under way (only after the deadline).
    }
    let why = stopped.unwrap_or_default();
    let mut done = Vec::with_capacity(items.len());
    for (index, (item, outcome)) in items.into_iter().zip(outcomes).enumerate() {
        let outcome = if let Some(outcome) = outcome {
            outcome
        } else {
            let why = if index < started {
                format!(
                    "{why}; cut off while under way, so the service may or may not have the change: run again to see"
                )
            } else {
                why.clone()
            };
            let outcome = Outcome::NotTried { why };
            on_done(&item, &outcome)?;
            outcome
        };
        done.push(Done { item, outcome });
    }
    Ok(done)
}

/// Reads one alert, then updates it if the decision changes it and it may be changed.
async fn one(http: &Http, tokens: &TokenSource, item: &Item, options: &Options<'_>) -> Outcome {
    let before = match alert::get(options.graph_url, http, tokens, &item.id).await {
        Ok(before) => before,
        Err(error @ GraphError::NotFound { .. }) => return Outcome::NotFound { error },
        Err(error) => {
            return Outcome::Failed {
                before: None,
                error,
            };
        }
    };
    let (status, reason) = item.decision.target();
    let same_reason = reason.is_none() || before.resolved_reason == reason;
    if before.status == status && same_reason {
        return Outcome::AlreadyDone { before };
    }
    if before.status == Status::Resolved && !options.force {
        return Outcome::Refused { before };
    }
    if options.dry_run {
        return Outcome::WouldUpdate { before };
    }
    match alert::update(
        options.graph_url,
        http,
        tokens,
        &item.id,
        &item.decision.change(),
    )
    .await
    {
        Ok(answer) => Outcome::Updated { before, answer },
        Err(error @ GraphError::NotFound { .. }) => Outcome::NotFound { error },
        Err(error) => Outcome::Failed {
            before: Some(before),
            error,
        },
    }
}
