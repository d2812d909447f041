//! `[names]`: the names file, read and checked with the config, and the Partner Center lookup's
//! settings, which need the Graph source's sign-in.

use std::time::Duration;

use super::RawNames;
use super::origin::Origin;
use super::source_table::endpoint;
use crate::config::ConfigError;
use crate::names::{self, NamesConfig, NamesFileConfig, PartnerCenterConfig};

/// The longest a cached name may be used: a year-old name is more likely wrong than helpful.
const MAX_CACHE_DAYS: u32 = 365;

impl RawNames {
    /// `graph`: whether the source is Microsoft Graph, whose sign-in Partner Center uses.
    pub(super) fn validate(self, origin: &Origin<'_>, graph: bool) -> Option<NamesConfig> {
        let file = origin.keep(match self.file.clone() {
            Some(file) => origin.resolve("names.file", file).and_then(|path| {
                let names = names::file::read(&path).map_err(|e| {
                    // Without a line, the message names the file itself.
                    let message = match e.line {
                        Some(line) => format!("{} line {line}: {}", path.display(), e.message),
                        None => e.message,
                    };
                    origin.invalid("names.file", message)
                })?;
                Ok(Some(NamesFileConfig { path, names }))
            }),
            None => Ok(None),
        });
        let cache_max_age = origin.keep(match self.cache_max_age_days {
            Some(days @ 1..=MAX_CACHE_DAYS) => Ok(Duration::from_secs(u64::from(days) * 86_400)),
            Some(days) => Err(origin.invalid(
                "names.cache_max_age_days",
                format!("must be between 1 and {MAX_CACHE_DAYS}, not {days}"),
            )),
            None => Ok(names::defaults::CACHE_MAX_AGE),
        });
        let partner_center = origin.keep(self.partner_center(origin, graph));
        Some(NamesConfig {
            file: file?,
            partner_center: partner_center?,
            cache_max_age: cache_max_age?,
        })
    }

    fn partner_center(
        &self,
        origin: &Origin<'_>,
        graph: bool,
    ) -> Result<Option<PartnerCenterConfig>, ConfigError> {
        Ok(if self.partner_center {
            if !graph {
                return Err(origin.invalid(
                    "names.partner_center",
                    "needs [source] kind = \"graph\": Partner Center is signed in to with its tenant_id, client_id and credential; without them, name tenants in names.file",
                ));
            }
            let customer_page_size = match self.customer_page_size {
                Some(size @ 1..=names::defaults::MAX_CUSTOMER_PAGE_SIZE) => size,
                Some(size) => {
                    return Err(origin.invalid(
                        "names.customer_page_size",
                        format!(
                            "must be between 1 and {}, not {size}",
                            names::defaults::MAX_CUSTOMER_PAGE_SIZE
                        ),
                    ));
                }
                None => names::defaults::CUSTOMER_PAGE_SIZE,
            };
            Some(PartnerCenterConfig {
                url: endpoint(
                    origin,
                    "names.partner_center_url",
                    self.partner_center_url.clone(),
                    names::defaults::PARTNER_CENTER_URL,
                )?,
                customer_page_size,
                resellers: self.resellers.unwrap_or(true),
                deadline: match self.deadline_secs {
                    Some(0) => {
                        return Err(origin.invalid("names.deadline_secs", "must be greater than 0"));
                    }
                    Some(secs) => Duration::from_secs(secs),
                    None => names::defaults::DEADLINE,
                },
            })
        } else {
            let stray = [
                (
                    "names.partner_center_url",
                    self.partner_center_url.is_some(),
                ),
                (
                    "names.customer_page_size",
                    self.customer_page_size.is_some(),
                ),
                ("names.resellers", self.resellers.is_some()),
                ("names.deadline_secs", self.deadline_secs.is_some()),
            ]
            .into_iter()
            .find_map(|(key, set)| set.then_some(key));
            if let Some(key) = stray {
                return Err(origin.invalid(
                    key,
                    "is for Partner Center lookups: set partner_center = true in [names] as well",
                ));
            }
            None
        })
    }
}
