//! End-to-end tests: the real binary, run on config and alert files in a temporary folder.

mod harness;

mod config_errors;
mod demo;
mod hostile;
mod limits;
mod outputs;
mod source_errors;
