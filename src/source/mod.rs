//! Collects alerts from the configured source. Collection is all-or-nothing: a page that cannot
//! be read fails the run, while single bad records are set aside and counted.

pub mod file;
pub mod model;
pub mod page;

pub use model::Alert;
pub use page::SetAside;

use crate::config::SourceConfig;

/// Everything a source produced: the alerts in the order received and what was set aside.
#[derive(Debug, Default)]
pub struct Collected {
    pub alerts: Vec<Alert>,
    pub set_aside: Vec<SetAside>,
    pub pages: usize,
}

impl Collected {
    pub fn add_page(&mut self, page: page::Page) {
        self.pages += 1;
        self.alerts.extend(page.alerts);
        self.set_aside.extend(page.set_aside);
    }
}

/// Reads all alerts from the configured source.
pub fn collect(source: &SourceConfig) -> anyhow::Result<Collected> {
    match source {
        SourceConfig::File { path } => file::collect(path),
    }
}
