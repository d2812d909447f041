//! Collects alerts from the configured source. Collection is all-or-nothing: a page that cannot
//! be read fails the run, while single bad records are set aside and counted.

pub mod file;
pub mod graph;
pub mod page;
pub mod record;

pub use page::SetAside;

use std::path::PathBuf;

use crate::alert::Alert;
use graph::GraphConfig;

/// `[source]`: where the alerts come from.
#[derive(Debug, Clone)]
pub enum SourceConfig {
    /// A page, a bare array, or a folder of exported pages.
    File { path: PathBuf },
    /// Microsoft Graph with an app-only token.
    Graph(Box<GraphConfig>),
}

/// Everything a source produced: the alerts in the order received (none when they went to a
/// sink, see [`collect_into`]) and what was set aside.
#[derive(Debug, Default)]
pub struct Collected {
    pub alerts: Vec<Alert>,
    pub set_aside: Vec<SetAside>,
    pub pages: usize,
    /// Requests tried again (network sources).
    pub retries: u64,
    /// Response bytes read (network sources).
    pub bytes: u64,
    pub elapsed: std::time::Duration,
}

/// Why collection failed, and whether retrying later can help.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A file source that cannot be read will not read better on a retry.
    #[error(transparent)]
    File(anyhow::Error),
    #[error(transparent)]
    Graph(#[from] graph::GraphError),
}

impl SourceError {
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::File(_) => true,
            Self::Graph(e) => e.is_permanent(),
        }
    }
}

/// Reads all alerts from the configured source.
pub async fn collect(source: &SourceConfig) -> Result<Collected, SourceError> {
    let mut alerts = Vec::new();
    let mut collected = collect_into(source, Setup::start(source), &mut |alert| {
        alerts.push(alert);
    })
    .await?;
    collected.alerts = alerts;
    Ok(collected)
}

/// A source being made ready while the caller opens its ledger: a network source's HTTP
/// client is built (it reads and parses the system's certificate store, a few milliseconds)
/// and its first request — the token, then the first page — is sent. Dropped unused (the
/// digest of the day was already prepared), the work is stopped and thrown away; that first
/// page may have been asked for.
#[derive(Debug)]
pub struct Setup(Option<tokio::task::JoinHandle<Result<Ready, graph::GraphError>>>);

/// A network source, ready to collect.
#[derive(Debug)]
struct Ready {
    http: graph::Http,
    tokens: graph::TokenSource,
    first: Option<graph::FirstPage>,
}

impl Setup {
    /// Starts setting up what `source` needs, on the runtime's worker threads.
    pub fn start(source: &SourceConfig) -> Self {
        match source {
            SourceConfig::File { .. } => Self(None),
            SourceConfig::Graph(config) => {
                let config = config.clone();
                Self(Some(tokio::spawn(async move {
                    let settings = graph::http_settings(&config);
                    let http = match tokio::task::spawn_blocking(move || graph::Http::new(settings))
                        .await
                    {
                        Ok(built) => built?,
                        Err(e) => return Err(joined(e)),
                    };
                    let tokens = graph::token_source(&config);
                    let first = graph::first_page(&config, &http, &tokens).await;
                    Ok(Ready {
                        http,
                        tokens,
                        first: Some(first),
                    })
                })))
            }
        }
    }

    /// The network source's client, token source and first answer, once they are there.
    async fn ready(mut self, config: &GraphConfig) -> Result<Ready, graph::GraphError> {
        let Some(started) = self.0.take() else {
            return Ok(Ready {
                http: graph::Http::new(graph::http_settings(config))?,
                tokens: graph::token_source(config),
                first: None,
            });
        };
        started.await.map_err(joined)?
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        if let Some(started) = &self.0 {
            started.abort();
        }
    }
}

/// A task that did not finish: its panic goes on; a task stopped otherwise is an error.
fn joined(e: tokio::task::JoinError) -> graph::GraphError {
    match e.try_into_panic() {
        Ok(panic) => std::panic::resume_unwind(panic),
        Err(e) => graph::GraphError::BadPage(format!("cannot set up the HTTP client: {e}")),
    }
}

/// Reads all alerts from the configured source into `sink`, in the order received, one page
/// at a time: no more than a page or two is ever held here. `setup` is what
/// [`Setup::start`] began for this `source`.
pub async fn collect_into(
    source: &SourceConfig,
    setup: Setup,
    sink: &mut (dyn FnMut(Alert) + Send),
) -> Result<Collected, SourceError> {
    match source {
        SourceConfig::File { path } => file::collect_into(path, sink).map_err(SourceError::File),
        SourceConfig::Graph(config) => {
            // The deadline covers the wait for what `setup` started too.
            let started = std::time::Instant::now();
            let ready = tokio::time::timeout(config.deadline, setup.ready(config))
                .await
                .map_err(|_| graph::GraphError::Deadline(config.deadline))??;
            let time_left = config.deadline.saturating_sub(started.elapsed());
            Ok(graph::collect_with(
                config,
                &ready.http,
                &ready.tokens,
                ready.first,
                time_left,
                sink,
            )
            .await?)
        }
    }
}
