//! End-to-end tests, one test binary: `binary/` runs the real binary on config and alert files in
//! a temporary folder (one file per behaviour), `library/` calls the library in-process against
//! fakes, and `support/` holds what they share (the `Job` harness, fakes, fixtures). The fake
//! Graph service, the alert generator and the config builder come from the `testkit` crate.
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

mod binary;
mod library;
mod support;
