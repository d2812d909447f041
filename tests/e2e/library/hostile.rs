//! The injection corpus (`support::hostile`) through the fuzz targets' invariants
//! (`csp_alert_digest::fuzzing`), in-process: every string in every field of one alert, 1 MB
//! strings included. Through the binary: `binary/hostile.rs`.

use csp_alert_digest::fuzzing;

use crate::support::hostile::corpus;

#[test]
fn the_fuzz_invariants_hold_for_every_hostile_string_in_every_field() {
    let corpus = corpus();
    fuzzing::html(&fuzzing::join_fields(&corpus));
    fuzzing::csv(&fuzzing::join_fields(&corpus));
    for s in &corpus {
        let every_field = fuzzing::join_fields(&vec![s.as_str(); fuzzing::FIELDS_PER_ALERT]);
        fuzzing::html(&every_field);
        fuzzing::csv(&every_field);
    }
}
