//! Test support for csp-alert-digest, shared by its tests, benchmarks and examples through a
//! dev-dependency (never shipped): the fake Microsoft Graph service with scripted faults
//! ([`FakeGraph`]), the one alert generator ([`generator`]) and the ground truth about what it
//! generates ([`Truth`]), and a builder for the binary's config files ([`ConfigToml`]).
#![forbid(unsafe_code)]

mod config;
mod faults;
pub mod generator;
mod graph;
mod http;
mod truth;

pub use config::{ConfigToml, Toml};
pub use faults::{Action, Fault, ONE_ALERT, TOKEN_ENDPOINT};
pub use generator::scale::{directory, generate};
pub use graph::{ALERTS_PATH, FakeGraph, JWT_BEARER, Options, Recorded};
pub use http::serve_connections;
pub use truth::{Truth, truth, truth_of};
