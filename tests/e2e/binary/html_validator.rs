//! `digest.html` checked by the Nu HTML Checker (vnu), the W3C's validator: no error at all.
//! The presentational attributes Outlook's Word engine needs (`width`, `cellpadding`…) live only
//! inside its conditional comments, which validators and other clients skip.
//!
//! The checker comes from npm (`vnu-jar`); `.ci/run` installs it and sets `CSP_DIGEST_VNU_JAR`.
//! Without it the test says so and passes, except in CI.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::hostile::hostile_page;
use crate::support::{BASE_CONFIG, Job, quirks_page, stderr, tool_from_env};

fn vnu_jar() -> Option<PathBuf> {
    tool_from_env("CSP_DIGEST_VNU_JAR", "the HTML validator test")
}

/// Checks the files in one JVM start (each start costs seconds).
fn validate(jar: &Path, files: &[PathBuf]) {
    let output = Command::new("java")
        .arg("-jar")
        .arg(jar)
        .args(["--errors-only", "--format", "gnu"])
        .args(files)
        .output()
        .expect("run java -jar vnu.jar");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && report.trim().is_empty(),
        "vnu: {report}"
    );
}

#[test]
fn the_digest_html_is_valid_html() {
    let Some(jar) = vnu_jar() else { return };
    let job = Job::new(BASE_CONFIG, &quirks_page());
    let output = job.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let empty = Job::new(BASE_CONFIG, "[]");
    assert!(empty.run(&[]).status.success());
    let hostile = Job::new(BASE_CONFIG, &hostile_page());
    assert!(hostile.run(&[]).status.success());
    let mut files: Vec<PathBuf> = [&job, &empty, &hostile]
        .iter()
        .map(|job| job.day("2026-11-29").join("digest.html"))
        .collect();
    // With history, in both languages.
    let english = super::history::two_days("en");
    let swedish = super::history::two_days("sv");
    files.extend([&english, &swedish].map(|job| job.day("2026-11-29").join("digest.html")));
    validate(&jar, &files);
}

#[test]
fn the_validator_catches_broken_html() {
    let Some(jar) = vnu_jar() else { return };
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.html");
    std::fs::write(
        &broken,
        "<!DOCTYPE html><html lang=en><title>x</title><p><div></span>",
    )
    .unwrap();
    let output = Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--errors-only"])
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!output.status.success(), "vnu must reject a stray end tag");
}
