//! csp-alert-digest: the daily digest of unresolved Microsoft CSP partner security alerts.
//!
//! The modules follow the pipeline, each importing only those listed before it (see
//! ARCHITECTURE.md; `tests/layering.rs` checks it):
#![forbid(unsafe_code)]

// Support: small, leaf-level helpers every stage may use.
pub mod as_of;
pub mod bounded;
pub mod cli;
pub mod exit;
pub mod net;
pub mod owner_only;
pub mod redact;
pub mod retry;

/// The shared noun: an alert, its details and where they are kept.
pub mod alert;
/// What `main` dispatches to: run, check, resolve.
pub mod commands;
/// The TOML file into each stage's checked settings.
pub mod config;
/// Files, messages and SMTP.
pub mod deliver;
/// Pure: filter, dedupe, group and age the alerts, as of an instant.
pub mod digest;
/// State: the `SQLite` ledger and the run lock.
pub mod ledger;
pub mod logging;
/// Names for the digest's ids: names file, Partner Center, the ledger's cache.
pub mod names;
/// The view model, HTML, text and CSV reports, in each language.
pub mod render;
/// Collection: file or Microsoft Graph pages into alerts.
pub mod source;

#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
