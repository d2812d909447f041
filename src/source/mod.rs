//! Collects alerts from the configured source. Collection is all-or-nothing: a page that cannot
//! be read fails the run, while single bad records are set aside and counted.

pub mod details;
pub mod file;
pub mod graph;
pub mod model;
pub mod names;
pub mod page;
pub mod spill;

pub use model::Alert;
pub use page::SetAside;

use crate::config::{GraphConfig, SourceConfig};

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

/// A source being made ready. A network source's HTTP client reads and parses the system's
/// certificate store when it is built (a few milliseconds); [`Setup::start`] does that on a
/// blocking thread, so the caller can open its ledger meanwhile.
#[derive(Debug)]
pub struct Setup(Option<tokio::task::JoinHandle<Result<graph::Http, graph::GraphError>>>);

impl Setup {
    /// Starts setting up what `source` needs. Dropped unused, the work finishes and is thrown
    /// away.
    pub fn start(source: &SourceConfig) -> Self {
        match source {
            SourceConfig::File { .. } => Self(None),
            SourceConfig::Graph(config) => {
                let settings = graph::http_settings(config);
                Self(Some(tokio::task::spawn_blocking(move || {
                    graph::Http::new(settings)
                })))
            }
        }
    }

    /// The HTTP client, once it is built.
    async fn http(self, config: &GraphConfig) -> Result<graph::Http, graph::GraphError> {
        let Some(building) = self.0 else {
            return graph::Http::new(graph::http_settings(config));
        };
        match building.await {
            Ok(built) => built,
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => Err(graph::GraphError::BadPage(format!(
                    "cannot set up the HTTP client: {e}"
                ))),
            },
        }
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
            let http = setup.http(config).await?;
            Ok(graph::collect_into(config, &http, sink).await?)
        }
    }
}
