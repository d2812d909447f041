//! The HTML and text parts from alerts whose text fields are the input: csp_alert_digest::fuzzing::html.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| csp_alert_digest::fuzzing::html(data));
