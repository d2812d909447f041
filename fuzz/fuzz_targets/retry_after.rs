//! A Retry-After header and the wait it leads to: csp_alert_digest::fuzzing::retry_after.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| csp_alert_digest::fuzzing::retry_after(data));
