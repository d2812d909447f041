//! Input the source cannot read fails the run before anything is written, naming the file.

use crate::support::{BASE_CONFIG, Job, assert_mentions, stderr};

#[test]
fn a_malformed_alerts_file_exits_2_naming_the_file_line_and_byte_offset() {
    let job = Job::new(BASE_CONFIG, "{\"value\": [\n  {\"id\": \"a\",, }\n]}");
    let output = job.run(&[]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{log}");
    assert!(log.contains("alerts.json"), "{log}");
    assert!(log.contains("line 2"), "{log}");
    assert!(log.contains("byte offset 25"), "{log}");
    assert!(
        !job.path().join("out").exists(),
        "no digest from a partial alert set"
    );
}

#[test]
fn a_missing_alerts_file_exits_2_naming_it() {
    let job = Job::new(&BASE_CONFIG.replace("alerts.json", "missing.json"), "[]");
    let output = job.run(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("missing.json"));
}

#[test]
fn a_folder_of_exported_pages_is_read_as_one_collection() {
    let job = Job::new(
        &BASE_CONFIG.replace("path = \"alerts.json\"", "path = \"pages\""),
        "",
    );
    let pages = job.path().join("pages");
    std::fs::create_dir(&pages).unwrap();
    let alert = |id: &str| {
        format!(
            r#"{{"id":"{id}","status":"active","severity":"high","alertType":"CryptoMining",
                "customerTenantId":"c1","subscriptionId":"s1","detectedDateTime":"2026-11-28T00:00:00Z"}}"#
        )
    };
    // the same alert on two pages, ids differing in case, counts once
    std::fs::write(
        pages.join("page-1.json"),
        format!("{{\"value\":[{}]}}", alert("AA")),
    )
    .unwrap();
    std::fs::write(
        pages.join("page-2.json"),
        format!("[{},{}]", alert("aa"), alert("bb")),
    )
    .unwrap();
    let output = job.run(&[]);
    let log = stderr(&output);
    assert!(output.status.success(), "{log}");
    assert_mentions(&log, &["pages=2", "duplicates=1", "in_window=2"]);
}
