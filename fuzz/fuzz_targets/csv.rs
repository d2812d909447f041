//! alerts.csv and summary.csv from alerts whose text fields are the input: csp_alert_digest::fuzzing::csv.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| csp_alert_digest::fuzzing::csv(data));
