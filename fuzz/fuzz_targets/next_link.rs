//! An @odata.nextLink checked against the configured origin: csp_alert_digest::fuzzing::next_link.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| csp_alert_digest::fuzzing::next_link(data));
