//! The real binary, run through `support::Job` on config and alert files in a temporary folder:
//! one file per behaviour, asserting exit codes, logs, the files written and what peers received.

mod canary;
mod check;
mod config_errors;
mod config_hardening;
mod demo;
mod email_css;
mod email_html;
mod graph;
mod hardening;
mod history;
mod hostile;
mod html_validator;
mod ledger;
mod limits;
mod names;
mod outputs;
mod resolve;
mod resolve_round_trip;
mod signin;
mod smtp;
mod smtp_hardening;
mod smtp_interop;
mod source_errors;
