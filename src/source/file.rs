//! The file source: a Graph page, a bare JSON array, or a folder of such files exported one by one.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::Collected;
use super::page::parse_page_with;
use crate::alert::{Alert, Interner};
use crate::bounded;

/// The most one alerts file may hold. The file is read whole before it is parsed, so this
/// bounds memory; 1 GiB is some 600,000 alerts of Graph's size. A larger export goes in a
/// folder of files, each read in turn.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// Reads every page at `path`. A folder is read in natural name order (`page-2` before
/// `page-10`), taking only `*.json` files; each file at most [`MAX_FILE_BYTES`], and a device
/// or FIFO is refused rather than read.
pub fn collect(path: &Path) -> anyhow::Result<Collected> {
    let mut alerts = Vec::new();
    let mut collected = collect_into(path, &mut |alert| alerts.push(alert))?;
    collected.alerts = alerts;
    Ok(collected)
}

/// [`collect`] into `sink`, one file at a time.
pub fn collect_into(path: &Path, sink: &mut dyn FnMut(Alert)) -> anyhow::Result<Collected> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read the alerts source {}", path.display()))?;
    let files = if meta.is_dir() {
        let files = json_files(path)?;
        if files.is_empty() {
            bail!("the alerts folder {} holds no .json files", path.display());
        }
        files
    } else {
        vec![path.to_path_buf()]
    };

    let started = std::time::Instant::now();
    let mut collected = Collected::default();
    let mut interner = Interner::default();
    for file in files {
        let bytes = bounded::read(&file, "source.path", MAX_FILE_BYTES)?;
        let page = parse_page_with(&bytes, &file.display().to_string(), &mut interner)?;
        collected.bytes += bytes.len() as u64;
        drop(bytes);
        collected.pages += 1;
        collected.set_aside.extend(page.set_aside);
        for alert in page.alerts {
            sink(alert);
        }
    }
    collected.elapsed = started.elapsed();
    Ok(collected)
}

fn json_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if is_json && path.is_file() {
            files.push(path);
        }
    }
    files.sort_by_cached_key(|p| natural_key(&p.file_name().unwrap_or_default().to_string_lossy()));
    Ok(files)
}

/// Splits a name into text and number runs so that numbers compare by value.
fn natural_key(name: &str) -> Vec<(String, u128)> {
    let mut key = Vec::new();
    let mut text = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let mut digits = c.to_string();
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                digits.push(d);
            }
            key.push((
                std::mem::take(&mut text),
                digits.parse().unwrap_or(u128::MAX),
            ));
        } else {
            text.push(c);
        }
    }
    key.push((text, 0));
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALERT: &str = r#"{"id":"ID","detectedDateTime":"2026-01-01T00:00:00Z"}"#;

    #[test]
    fn a_folder_is_read_in_natural_order_and_only_json_files_count() {
        let dir = tempfile::tempdir().unwrap();
        for (name, id) in [
            ("page-10.json", "c"),
            ("page-2.json", "b"),
            ("page-1.json", "a"),
        ] {
            let body = format!("{{\"value\":[{}]}}", ALERT.replace("ID", id));
            std::fs::write(dir.path().join(name), body).unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), "not json").unwrap();
        let collected = collect(dir.path()).unwrap();
        let ids: Vec<_> = collected.alerts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(collected.pages, 3);
    }

    #[test]
    fn a_non_json_file_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("export.json");
        std::fs::write(&file, "<html>proxy login</html>").unwrap();
        let err = format!("{:#}", collect(&file).unwrap_err());
        assert!(err.contains("export.json"), "{err}");
        assert!(err.contains("line 1, column 1"), "{err}");
    }

    #[test]
    fn a_missing_path_and_an_empty_folder_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = format!("{:#}", collect(&dir.path().join("nope.json")).unwrap_err());
        assert!(err.contains("nope.json"), "{err}");
        let err = format!("{:#}", collect(dir.path()).unwrap_err());
        assert!(err.contains("holds no .json files"), "{err}");
    }
}
