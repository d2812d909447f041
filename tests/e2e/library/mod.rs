//! The library called in-process, at the HTTP level against wiremock or the fake Graph service:
//! the Graph collector, name lookups, `resolve`'s reads and updates, the shipped example configs
//! and the fuzz targets' invariants. Waits are recorded by the clients' sleepers, not slept.

mod graph;
mod hostile;
mod names;
mod resolve;
mod shipped_configs;
mod signin;
