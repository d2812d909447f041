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

use crate::config::SourceConfig;

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
    let mut collected = collect_into(source, &mut |alert| alerts.push(alert)).await?;
    collected.alerts = alerts;
    Ok(collected)
}

/// Reads all alerts from the configured source into `sink`, in the order received, one page
/// at a time: no more than a page or two is ever held here.
pub async fn collect_into(
    source: &SourceConfig,
    sink: &mut (dyn FnMut(Alert) + Send),
) -> Result<Collected, SourceError> {
    match source {
        SourceConfig::File { path } => file::collect_into(path, sink).map_err(SourceError::File),
        SourceConfig::Graph(config) => {
            let http = graph::Http::new(graph::http_settings(config))?;
            Ok(graph::collect_into(config, &http, sink).await?)
        }
    }
}
