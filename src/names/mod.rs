//! Names for the ids an alert carries (customer and reseller tenants, subscriptions), so the
//! digest reads "Contoso Ltd" rather than a GUID. Precedence: the names file, then what Partner
//! Center answers in this run, then what it answered within `cache_max_age_days` (the ledger's
//! `names` table). A lookup that fails is a warning, counted in the run's summary line: names
//! never cost the digest. Ids without a name are shown as ids.

pub mod file;
pub mod partner_center;
mod settings;

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use tracing::{info, warn};

pub use settings::{NamesConfig, NamesFileConfig, PartnerCenterConfig, defaults};

use crate::digest::{Digest, Partner};
use crate::ledger::names::{self as cache, Entry, Kind};
use crate::source::graph::{self, GraphConfig, GraphError, Http};
use partner_center::Client;

/// Where a name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    File,
    PartnerCenter,
    Cache,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub name: String,
    pub origin: Origin,
}

/// The names of a digest's ids, by lower-cased id. The names are raw: rendering makes them
/// safe for each output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    by_id: HashMap<String, Name>,
    /// The signed-in partner's own company name (Partner Center's organization profile).
    own: Option<String>,
}

impl Names {
    /// The partner's own company name, when Partner Center gave it.
    pub fn own_name(&self) -> Option<&str> {
        self.own.as_deref()
    }

    pub fn set_own_name(&mut self, name: Option<String>) {
        self.own = name;
    }

    /// The name of a tenant or subscription id (any case).
    pub fn get(&self, id: &str) -> Option<&str> {
        self.entry(id).map(|n| n.name.as_str())
    }

    /// The name and where it came from.
    pub fn entry(&self, id: &str) -> Option<&Name> {
        if self.by_id.is_empty() {
            return None;
        }
        // The digest's ids are lower-cased already: no allocation per CSV cell for them.
        if id.bytes().any(|b| b.is_ascii_uppercase()) {
            self.by_id.get(&id.to_ascii_lowercase())
        } else {
            self.by_id.get(id)
        }
    }

    pub fn insert(&mut self, id: &str, name: impl Into<String>, origin: Origin) {
        self.by_id.insert(
            id.to_ascii_lowercase(),
            Name {
                name: name.into(),
                origin,
            },
        );
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// The ids a digest shows, lower-cased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    pub customers: BTreeSet<String>,
    pub resellers: BTreeSet<String>,
    pub subscriptions: BTreeSet<String>,
}

impl Wanted {
    pub fn of(digest: &Digest) -> Self {
        type Fast = std::hash::BuildHasherDefault<crate::alert::FastHasher>;
        // The ids repeat across alerts: gathered borrowed, copied once each.
        let mut customers: HashSet<&str, Fast> = HashSet::default();
        let mut subscriptions: HashSet<&str, Fast> = HashSet::default();
        let mut resellers: HashSet<&str, Fast> = HashSet::default();
        for a in &digest.alerts {
            if let Some(c) = a.customer.as_deref() {
                customers.insert(c);
            }
            if let Some(s) = a.subscription.as_deref() {
                subscriptions.insert(s);
            }
            if let Partner::Reseller(r) = &a.partner {
                resellers.insert(r);
            }
        }
        Self {
            customers: customers.into_iter().map(str::to_owned).collect(),
            resellers: resellers.into_iter().map(str::to_owned).collect(),
            subscriptions: subscriptions.into_iter().map(str::to_owned).collect(),
        }
    }

    fn ids(&self) -> impl Iterator<Item = &String> {
        self.customers
            .iter()
            .chain(&self.resellers)
            .chain(&self.subscriptions)
    }
}

/// Counts for the run's summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Distinct ids of the digest with a name, and without one.
    pub named: usize,
    pub unnamed: usize,
    pub from_file: usize,
    pub from_partner_center: usize,
    pub from_cache: usize,
    /// Lookups that failed (each logged once).
    pub warnings: usize,
}

/// What a lookup found.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub names: Names,
    pub stats: Stats,
    /// The warnings logged, in order.
    pub warnings: Vec<String>,
}

/// Where cached names are read from and written to.
#[derive(Debug, Clone, Copy)]
pub enum Cache<'a> {
    None,
    /// A dry run: read, never written.
    ReadOnly(&'a Connection),
    ReadWrite(&'a Connection),
}

impl<'a> Cache<'a> {
    fn connection(self) -> Option<&'a Connection> {
        match self {
            Self::None => None,
            Self::ReadOnly(c) | Self::ReadWrite(c) => Some(c),
        }
    }
}

/// Looks up the names of `wanted` as `config` says: builds the Partner Center client when
/// `[names] partner_center = true` and the source is Graph (`graph`: its app signs in).
pub async fn lookup(
    config: &NamesConfig,
    graph: Option<&GraphConfig>,
    wanted: &Wanted,
    cache: Cache<'_>,
    now: DateTime<Utc>,
) -> Resolved {
    let (Some(pc), Some(graph)) = (&config.partner_center, graph) else {
        return resolve(config, None, cache, wanted, now).await;
    };
    match Http::new(graph::http_settings(graph)) {
        Ok(http) => {
            let client = Client::new(&http, graph, pc);
            resolve(config, Some(&client), cache, wanted, now).await
        }
        Err(e) => {
            let mut resolved = resolve(config, None, cache, wanted, now).await;
            note(
                &mut resolved.warnings,
                format!("names from Partner Center: {e}"),
            );
            resolved.stats.warnings = resolved.warnings.len();
            resolved
        }
    }
}

/// Looks up the names of `wanted`: the file, then `partner_center` (when given), then the cache.
pub async fn resolve(
    config: &NamesConfig,
    partner_center: Option<&Client<'_>>,
    cache: Cache<'_>,
    wanted: &Wanted,
    now: DateTime<Utc>,
) -> Resolved {
    let started = std::time::Instant::now();
    let mut warnings = Vec::new();
    let file = config.file.as_ref().map(|f| &f.names.names);
    let from_file = |id: &str| file.and_then(|names| names.get(id));
    let max_days = config.cache_max_age.as_secs() / 86_400;

    let mut fresh: HashMap<String, Entry> = HashMap::new();
    let mut own = None;
    let mut cached: HashMap<String, Entry> = HashMap::new();
    if let (Some(client), Some(pc)) = (partner_center, &config.partner_center) {
        if let Some(conn) = cache.connection() {
            match cache::load(conn, now, config.cache_max_age) {
                Ok(entries) => cached = entries,
                Err(e) => note(
                    &mut warnings,
                    format!("the names cache cannot be read: {e:#}"),
                ),
            }
        }
        let named_by_file = |id: &str| from_file(id).is_some();
        let work = fetch(
            client,
            pc.resellers,
            wanted,
            &named_by_file,
            max_days,
            (&mut fresh, &mut own),
            &mut warnings,
        );
        if tokio::time::timeout(pc.deadline, work).await.is_err() {
            note(
                &mut warnings,
                format!(
                    "names from Partner Center did not finish within names.deadline_secs = {} s; using what was found and names cached within {max_days} days",
                    pc.deadline.as_secs()
                ),
            );
        }
        if let (Cache::ReadWrite(conn), false) = (cache, fresh.is_empty()) {
            let mut entries: Vec<&Entry> = fresh.values().collect();
            entries.sort_by(|a, b| a.id.cmp(&b.id));
            if let Err(e) = cache::store(conn, entries, now, config.cache_max_age) {
                note(
                    &mut warnings,
                    format!("the names cache cannot be written: {e:#}"),
                );
            }
        }
    }

    let mut resolved = Resolved::default();
    resolved.names.set_own_name(own);
    for id in wanted.ids() {
        let found = from_file(id)
            .map(|n| (n.as_str(), Origin::File))
            .or_else(|| {
                fresh
                    .get(id)
                    .map(|e| (e.name.as_str(), Origin::PartnerCenter))
            })
            .or_else(|| cached.get(id).map(|e| (e.name.as_str(), Origin::Cache)));
        let stats = &mut resolved.stats;
        match found {
            Some((name, origin)) => {
                resolved.names.insert(id, name, origin);
                stats.named += 1;
                match origin {
                    Origin::File => stats.from_file += 1,
                    Origin::PartnerCenter => stats.from_partner_center += 1,
                    Origin::Cache => stats.from_cache += 1,
                }
            }
            None => stats.unnamed += 1,
        }
    }
    resolved.stats.warnings = warnings.len();
    resolved.warnings = warnings;
    info!(
        named = resolved.stats.named,
        unnamed = resolved.stats.unnamed,
        from_file = resolved.stats.from_file,
        from_partner_center = resolved.stats.from_partner_center,
        from_cache = resolved.stats.from_cache,
        warnings = resolved.stats.warnings,
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "names looked up"
    );
    resolved
}

/// Asks Partner Center for what the file does not name, writing into `fresh` (and the
/// partner's own name into `own`) as answers come (so what was found survives the deadline).
async fn fetch(
    client: &Client<'_>,
    resellers: bool,
    wanted: &Wanted,
    named_by_file: &dyn Fn(&str) -> bool,
    max_days: u64,
    (fresh, own): (&mut HashMap<String, Entry>, &mut Option<String>),
    warnings: &mut Vec<String>,
) {
    // The partner's own name: documented for App+User tokens only, so asked only with them.
    if client.is_user() {
        match client.own_name().await {
            Ok(name) => *own = name,
            Err(e) => note(
                warnings,
                format!("the partner's own name from Partner Center is unavailable ({e})"),
            ),
        }
    }
    if wanted.customers.iter().any(|c| !named_by_file(c)) {
        // A listing that fails says Partner Center is down or refuses this app: the
        // relationships calls would fail the same way, slower.
        match client.customers().await {
            Ok(listing) => {
                if let Some(why) = &listing.incomplete {
                    note(
                        warnings,
                        format!("customer names from Partner Center are incomplete: {why}"),
                    );
                }
                if listing.set_aside > 0 {
                    note(
                        warnings,
                        format!(
                            "Partner Center: {} customer records without a tenant id or a name were set aside",
                            listing.set_aside
                        ),
                    );
                }
                info!(
                    customers = listing.customers.len(),
                    pages = listing.pages,
                    "customer names from Partner Center"
                );
                for c in listing.customers {
                    fresh.entry(c.tenant_id.clone()).or_insert(Entry {
                        id: c.tenant_id,
                        kind: Kind::Customer,
                        name: c.name,
                        domain: c.domain,
                        source: "customers",
                    });
                }
            }
            Err(e) => {
                note(
                    warnings,
                    format!(
                        "customer names from Partner Center are unavailable ({}); using names cached within {max_days} days",
                        explain(&e, false)
                    ),
                );
                return;
            }
        }
    }
    if !resellers
        || wanted
            .resellers
            .iter()
            .all(|r| named_by_file(r) || fresh.contains_key(r))
    {
        return;
    }
    match client.resellers().await {
        Ok(found) => {
            info!(
                resellers = found.len(),
                "reseller names from Partner Center"
            );
            for r in found {
                fresh.entry(r.tenant_id.clone()).or_insert(Entry {
                    id: r.tenant_id,
                    kind: Kind::Reseller,
                    name: r.name,
                    domain: None,
                    source: "relationships",
                });
            }
        }
        Err(
            e @ GraphError::Rejected {
                status: 401 | 403, ..
            },
        ) => note(
            warnings,
            format!(
                "reseller names from Partner Center are unavailable ({}); name resellers in names.file, or set names.resellers = false",
                explain(&e, !client.is_user())
            ),
        ),
        Err(e) => note(
            warnings,
            format!(
                "reseller names from Partner Center are unavailable ({e}); using names cached within {max_days} days"
            ),
        ),
    }
}

/// A Partner Center failure with what to do about it.
fn explain(error: &GraphError, app_plus_user: bool) -> String {
    match error {
        GraphError::Rejected {
            path,
            status: status @ (401 | 403),
            ..
        } if app_plus_user => format!(
            "{path}: {status}: this call is documented for App+User tokens only, and the digest signs in as an application (sign_in = \"user\" signs in as a partner user)"
        ),
        GraphError::Rejected {
            path,
            status: status @ (401 | 403),
            message,
        } => format!(
            "{path}: {status} {message}: app-only access to Partner Center needs the app registration added in Partner Center (Account settings, App management)"
        ),
        other => other.to_string(),
    }
}

/// Logs a warning once and keeps it for the count.
fn note(warnings: &mut Vec<String>, message: String) {
    warn!("{message}");
    warnings.push(message);
}
