//! The house rules of ARCHITECTURE.md, read from the source: the library's modules form a ladder
//! — each imports only modules on a lower rung — so there is no import circle and no import
//! that runs back up; no file under `src/` is longer than 900 lines; the test-only fuzzing
//! module is imported only by test code.
//!
//! It reads every `crate::<module>` path in `src/` (in `use` lines and in code), skipping
//! comments and string literals, and treats `tests.rs` files and what follows
//! `#[cfg(test)] mod tests` as test code.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The rungs, lowest first. A module may import modules of its own rung only where that rung
/// says so (the support modules are leaves that use each other; each stage is a rung of its
/// own); `main.rs` sits above them all.
const LADDER: &[&[&str]] = &[
    // Support: small helpers with no knowledge of alerts.
    &[
        "as_of",
        "bounded",
        "cli",
        "exit",
        "net",
        "owner_only",
        "redact",
        "retry",
        "logging",
    ],
    &["alert"],
    &["source"],
    &["digest"],
    &["ledger"],
    &["names"],
    &["render"],
    &["deliver"],
    &["config"],
    &["commands"],
];

/// Test-only code: reachable from tests anywhere, never from shipped code.
const TEST_ONLY: &str = "fuzzing";

const MAX_LINES: usize = 900;

fn rung(module: &str) -> Option<usize> {
    LADDER.iter().position(|r| r.contains(&module))
}

/// `src/` and every Rust file under it, sorted.
fn source_files() -> (PathBuf, Vec<PathBuf>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    (src, files)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module of the crate a file belongs to: `src/ledger/digests.rs` → `ledger`.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("a file under src/");
    let first = relative
        .components()
        .next()
        .expect("a path")
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// The line without its `//` comment and string literals (good enough for this code base:
/// strings that hold `crate::` are not imports).
fn code_of(line: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '/' if chars.peek() == Some(&'/') => break,
            _ => out.push(c),
        }
    }
    out
}

/// The modules named after `crate::` in `code`, including each member of a
/// `use crate::{a, b::c}` group.
fn crate_paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `my_crate::`, not ours
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for member in group[..end].split(',') {
                let name: String = member
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

struct Import {
    file: PathBuf,
    line: usize,
    from: String,
    to: String,
    test: bool,
}

fn imports() -> Vec<Import> {
    let (src, files) = source_files();
    let mut imports = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file).expect("a readable source file");
        let from = module_of(&src, &file);
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let mut test = name == "tests.rs" || name.ends_with("_tests.rs") || from == TEST_ONLY;
        let mut after_cfg_test = false;
        for (i, line) in source.lines().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("#[cfg(test)]") {
                after_cfg_test = true;
                continue;
            }
            if after_cfg_test && trimmed.starts_with("mod tests") {
                test = true;
            }
            after_cfg_test = false;
            for to in crate_paths(&code_of(line)) {
                imports.push(Import {
                    file: file.clone(),
                    line: i + 1,
                    from: from.clone(),
                    to,
                    test,
                });
            }
        }
    }
    imports
}

#[test]
fn every_module_is_on_a_rung_of_the_ladder() {
    let (src, files) = source_files();
    let unplaced: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(&src, f))
        .filter(|m| !matches!(m.as_str(), "lib" | "main" | TEST_ONLY) && rung(m).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules not on the ladder in tests/layering.rs (place them, and in ARCHITECTURE.md): {unplaced:?}"
    );
}

#[test]
fn no_module_imports_one_on_a_higher_rung_so_there_is_no_import_circle() {
    let imports = imports();
    assert!(
        imports.len() > 100,
        "the scan found too few imports to be reading the code"
    );
    let mut wrong = Vec::new();
    for i in &imports {
        if i.from == i.to || matches!(i.from.as_str(), "lib" | "main") {
            continue;
        }
        if i.to == TEST_ONLY {
            if !i.test {
                wrong.push(format!(
                    "{}:{}: shipped code imports the test-only `{TEST_ONLY}`",
                    i.file.display(),
                    i.line
                ));
            }
            continue;
        }
        let (Some(from), Some(to)) = (
            rung(&i.from).or(if i.from == TEST_ONLY {
                Some(LADDER.len())
            } else {
                None
            }),
            rung(&i.to),
        ) else {
            continue; // not a module of ours (`crate::` in a macro, say): the rung test names it
        };
        // Support modules are leaves that may use each other; every other rung looks down.
        if to > from || (to == from && from != 0) {
            wrong.push(format!(
                "{}:{}: `{}` imports `{}`, which is not on a lower rung",
                i.file.display(),
                i.line,
                i.from,
                i.to
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the ladder:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_scan_sees_imports_that_run_back_up() {
    // The checker itself: a stage importing `config`, and a grouped `use`, are both caught.
    assert_eq!(crate_paths("use crate::config::Config;"), ["config"]);
    assert_eq!(
        crate_paths("use crate::{as_of, digest::Rules, source};"),
        ["as_of", "digest", "source"]
    );
    assert_eq!(
        crate_paths(&code_of(r#"x("crate::config"); // crate::deliver"#)),
        Vec::<String>::new()
    );
    assert!(rung("config") > rung("source"));
}

#[test]
fn no_source_file_is_longer_than_900_lines() {
    let (_, files) = source_files();
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).ok()?.lines().count();
            (lines > MAX_LINES).then(|| format!("{}: {lines} lines", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these by concern: {long:?}");
}
