//! csp-alert-digest: the daily digest of unresolved Microsoft CSP partner security alerts.
//!
//! The modules follow the pipeline:
//! config → source (collect) → digest (pure: filter, dedupe, group, age) → render → deliver.
#![forbid(unsafe_code)]

pub mod config;
pub mod deliver;
pub mod digest;
pub mod render;
pub mod retry;
pub mod source;

pub mod as_of;
pub mod check;
pub mod cli;
pub mod exit;
pub mod logging;
pub mod redact;
pub mod resolve;
pub mod run;

#[doc(hidden)]
pub mod fuzzing;
