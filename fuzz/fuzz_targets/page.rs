//! One page of alerts (a Graph response or a bare array): csp_alert_digest::fuzzing::page.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| csp_alert_digest::fuzzing::page(data));
