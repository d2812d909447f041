//! End-to-end tests: the real binary, run on config and alert files in a temporary folder.
#![allow(
    clippy::unwrap_used,
    reason = "a test that meets an unexpected error should fail on the spot"
)]
#![allow(
    clippy::disallowed_methods,
    reason = "the tests' own clients talk to loopback fakes in plain text on purpose"
)]
#![allow(
    clippy::unreadable_literal,
    reason = "AADSTS codes are written as the service sends them"
)]

mod email_html;
mod fake_partner_center;
mod fake_smtp;
mod graph;
mod graph_binary;
mod graph_faults;
mod harness;
mod history;

mod canary;
mod check;
mod config_errors;
mod demo;
mod hostile;
mod html_validator;
mod ledger_runs;
mod limits;
mod names;
mod names_runs;
mod outputs;
mod resolve;
mod smtp_interop;
mod smtp_runs;
mod source_errors;
