//! `[names]`: where tenant and subscription names come from, and the defaults.

use std::path::PathBuf;
use std::time::Duration;

use super::file::NamesFile;

/// `[names]`. Lookups that fail are warnings; only a bad names file stops the run.
#[derive(Debug, Clone, Default)]
pub struct NamesConfig {
    /// The names file, already read: it wins over every API answer.
    pub file: Option<NamesFileConfig>,
    /// Customer (and reseller) names from Partner Center, signed in with `[source]`'s app.
    pub partner_center: Option<PartnerCenterConfig>,
    /// Names from Partner Center are kept in the ledger and used this long when it is down.
    pub cache_max_age: Duration,
}

#[derive(Debug, Clone)]
pub struct NamesFileConfig {
    pub path: PathBuf,
    pub names: NamesFile,
}

/// `[names] partner_center = true`.
#[derive(Debug, Clone)]
pub struct PartnerCenterConfig {
    /// `https://api.partnercenter.microsoft.com` by default; `http` only for loopback hosts.
    pub url: reqwest::Url,
    /// Customers per page of `GET /v1/customers?size=N`.
    pub customer_page_size: usize,
    /// Also ask `GET /v1/customers/{id}/relationships` for reseller names (documented for
    /// App+User tokens only: a refusal is a warning).
    pub resellers: bool,
    /// All name lookups of a run, retries and waits included.
    pub deadline: Duration,
}

/// Default settings, used by the config when a key is absent.
pub mod defaults {
    use std::time::Duration;

    pub const PARTNER_CENTER_URL: &str = "https://api.partnercenter.microsoft.com";
    /// Customers per listing page. Partner Center's own samples page by 40 and do not document
    /// a maximum; a smaller answer than asked is followed by `links.next` all the same.
    pub const CUSTOMER_PAGE_SIZE: usize = 500;
    pub const MAX_CUSTOMER_PAGE_SIZE: usize = 1000;
    pub const CACHE_MAX_AGE: Duration = Duration::from_secs(7 * 86_400);
    pub const DEADLINE: Duration = Duration::from_secs(300);
}
