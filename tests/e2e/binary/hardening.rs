//! Defects found by attacking the job as a careless operator would (rows F9–F13, H3, I5, G8 in
//! SECURITY.md): the day's folder is switched in whole, temporary files are never shared or
//! followed through a link, a ledger that forgot what was sent is refused, an earlier date
//! after a later one needs `--force`, outputs are owner-only whatever the umask, every run ends
//! with its summary line, and digest dates keep four-digit years.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{AS_OF, BASE_CONFIG, Job, files_under, quirks_page, stderr};

const DAY: &str = "2026-11-29";

/// The shipped sample (~300 alerts): its `.eml` files (~420 KB) are larger than its reports
/// (under 200 KB) and its ledger (~80 KB), so a file-size limit between fails a run half-way.
fn sample() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/alerts.json"))
        .expect("the shipped sample")
}

/// The sample without its first ten alerts: a digest whose reports differ from the sample's.
fn sample_changed() -> String {
    let mut page: serde_json::Value = serde_json::from_str(&sample()).unwrap();
    page["value"].as_array_mut().unwrap().drain(..10);
    page.to_string()
}

/// Between the sample's reports and its messages.
const LIMIT_BYTES: &str = "300000";

/// `csp-alert-digest run --config … --as-of AS_OF <args>` run by `sh -c '<prefix> "$@"'`, so
/// that the prefix sets it up: a umask, or a file-size limit (`RLIMIT_FSIZE`) with SIGXFSZ
/// ignored, which makes a write past the limit fail with EFBIG, as on a full disk.
fn run_in_shell(job: &Job, prefix: &str, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("{prefix} \"$@\""))
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_csp-alert-digest"))
        .arg("run")
        .arg("--config")
        .arg(job.config())
        .args(["--as-of", AS_OF])
        .args(args)
        .env_remove("CSP_DIGEST_CONFIG")
        .env_remove("CSP_DIGEST_LOG")
        .output()
        .expect("run the binary")
}

/// A run whose files may not grow past [`LIMIT_BYTES`].
fn run_with_small_disk(job: &Job, args: &[&str]) -> Output {
    run_in_shell(
        job,
        &format!("trap '' XFSZ; exec prlimit --fsize={LIMIT_BYTES} --"),
        args,
    )
}

/// Every file under `dir` with its bytes.
fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p.strip_prefix(dir).unwrap().to_owned(), bytes)
        })
        .collect()
}

/// Names in `out` that are not a day's folder: staging folders, temporary files.
fn hidden(out: &Path) -> Vec<String> {
    std::fs::read_dir(out)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|n| n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}

fn prepared(job: &Job, date: &str) -> bool {
    super::ledger::digests(job).iter().any(|d| d == date)
}

#[test]
fn f9_a_forced_run_that_fails_half_way_leaves_the_earlier_folder_whole() {
    let job = Job::new(BASE_CONFIG, &sample());
    let first = job.run(&[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let before = contents(&job.day(DAY));
    assert!(before.len() >= 6, "{before:?}");

    // New alerts, and a disk that fills up after the reports, at the messages.
    std::fs::write(job.path().join("alerts.json"), sample_changed()).unwrap();
    let forced = run_with_small_disk(&job, &["--force"]);
    let log = stderr(&forced);
    assert_eq!(forced.status.code(), Some(2), "{log}");
    assert!(log.contains("File too large"), "{log}");
    assert!(
        contents(&job.day(DAY)) == before,
        "the day's folder is wholly the earlier one: {log}"
    );
    assert!(hidden(&job.path().join("out")).is_empty());

    // The ledger still describes that folder: a rerun finds it sent; a forced one with room
    // replaces every file.
    let again = job.run(&[]);
    assert!(stderr(&again).contains("already"), "{}", stderr(&again));
    let forced = job.run(&["--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    let after = contents(&job.day(DAY));
    assert_eq!(after.len(), before.len());
    for name in [
        "alerts.csv",
        "digest.html",
        "mail/secops@partner.example.eml",
    ] {
        let name = Path::new(name);
        assert_ne!(
            after.get(name),
            before.get(name),
            "{} is new",
            name.display()
        );
    }
}

/// The ledger records the digest on a thread of its own while the files are made; a message
/// that cannot be written leaves nothing of the digest in it, and no folder behind.
#[test]
fn f10_a_failed_first_run_leaves_no_folder_that_looks_finished() {
    let job = Job::new(BASE_CONFIG, &sample());
    let output = run_with_small_disk(&job, &[]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{log}");
    assert!(
        log.contains(".eml"),
        "the message that could not be written: {log}"
    );
    assert!(!job.day(DAY).exists(), "{log}");
    assert!(hidden(&job.path().join("out")).is_empty());
    assert!(!prepared(&job, DAY));

    let again = job.run(&[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        job.day(DAY)
            .join("mail/secops@partner.example.eml")
            .is_file()
    );
}

#[test]
fn f11_a_link_planted_where_the_job_writes_is_never_followed() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    let victim = job.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    let elsewhere = job.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    // The day's folder is a link to another folder, and inside that folder links stand at
    // every temporary name an earlier version used.
    let out = job.path().join("out");
    std::fs::create_dir_all(elsewhere.join("mail")).unwrap();
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join(DAY)).unwrap();
    for name in [
        "digest.html.tmp",
        "digest.txt.tmp",
        "alerts.csv.tmp",
        "summary.csv.tmp",
        "mail/secops@partner.example.eml.tmp",
    ] {
        std::os::unix::fs::symlink(&victim, elsewhere.join(name)).unwrap();
    }

    let output = job.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    let day = job.day(DAY);
    assert!(!day.is_symlink(), "the day's folder is a real folder now");
    assert!(day.join("digest.html").is_file());
    assert!(
        !elsewhere.join("digest.html").exists(),
        "nothing written through the link"
    );
}

#[test]
fn f11_concurrent_dry_runs_never_share_a_temporary_file() {
    let job = Job::new(BASE_CONFIG, &sample());
    let runs: Vec<_> = (0..6)
        .map(|_| {
            crate::support::job::binary()
                .arg("run")
                .arg("--config")
                .arg(job.config())
                .args(["--as-of", AS_OF, "--dry-run"])
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for run in runs {
        let output = run.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let folder = job.path().join("out").join(format!("{DAY}.dry-run"));
    let names: Vec<_> = files_under(&folder)
        .iter()
        .map(|p| p.strip_prefix(&folder).unwrap().display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "alerts.csv",
            "digest.html",
            "digest.txt",
            "mail/duty@partner.example.eml",
            "mail/secops@partner.example.eml",
            "older.csv",
            "summary.csv"
        ]
    );
    assert!(hidden(&job.path().join("out")).is_empty());
}

#[test]
fn f12_a_ledger_emptied_or_deleted_after_use_is_refused_until_started_over_on_purpose() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    assert!(job.run(&[]).status.success());
    let state = job.path().join("state");
    let ledger = state.join("ledger.sqlite3");
    let mail = job.day(DAY).join("mail");
    let sent = contents(&mail);

    let refused = |what: &str| {
        let output = job.run(&[]);
        let log = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{what}: {log}");
        assert!(log.contains(what), "{log}");
        assert!(log.contains("ledger.created"), "{log}");
        assert!(log.contains("start over"), "{log}");
        assert!(contents(&mail) == sent, "{what}: nothing prepared again");
    };
    // `: > ledger.sqlite3`
    std::fs::write(&ledger, "").unwrap();
    refused("is empty");
    std::fs::remove_file(&ledger).unwrap();
    refused("is missing");
    // A database without a single table.
    {
        let conn = rusqlite::Connection::open(&ledger).unwrap();
        conn.execute_batch("CREATE TABLE t (x); DROP TABLE t;")
            .unwrap();
    }
    assert!(std::fs::metadata(&ledger).unwrap().len() > 0);
    refused("without a schema");

    // Starting over on purpose: the message's way.
    std::fs::remove_file(&ledger).unwrap();
    std::fs::remove_file(state.join("ledger.created")).unwrap();
    let again = job.run(&[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("prepared=true"));
}

#[test]
fn f13_an_earlier_date_after_a_later_one_needs_force() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    assert!(job.run(&[]).status.success());

    let earlier = job.run_at("2026-11-28T07:00:00Z", &[]);
    let log = stderr(&earlier);
    assert_eq!(earlier.status.code(), Some(2), "{log}");
    assert!(log.contains("2026-11-28") && log.contains(DAY), "{log}");
    assert!(log.contains("--force"), "{log}");
    assert!(!job.day("2026-11-28").exists());
    assert!(!prepared(&job, "2026-11-28"));

    let forced = job.run_at("2026-11-28T07:00:00Z", &["--force"]);
    let log = stderr(&forced);
    assert!(forced.status.success(), "{log}");
    assert!(log.contains("older than one already prepared"), "{log}");
    assert!(prepared(&job, "2026-11-28"));
}

#[test]
fn h3_reports_messages_and_the_ledger_are_owner_only_whatever_the_umask() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    let output = run_in_shell(&job, "umask 000; exec", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
    for root in ["out", "state"] {
        let root = job.path().join(root);
        assert_eq!(mode(&root), 0o700, "{}", root.display());
        let files = files_under(&root);
        assert!(files.len() >= 3, "{files:?}");
        for file in files {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
            let mut dir = file.parent().unwrap();
            while dir != root {
                assert_eq!(mode(dir), 0o700, "{}", dir.display());
                dir = dir.parent().unwrap();
            }
        }
    }
}

#[test]
fn i5_every_run_ends_with_its_summary_line_a_failed_one_too() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    let last_line = |output: &Output| stderr(output).lines().last().unwrap_or("").to_owned();

    let ok = job.run(&[]);
    assert!(last_line(&ok).contains("run finished"), "{}", stderr(&ok));
    let missing = crate::support::job::run_binary(&["run", "--config", "nope.toml"], &[]);
    let last = last_line(&missing);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        last.contains("run finished") && last.contains("exit_code=2"),
        "{}",
        stderr(&missing)
    );

    // JSON: the failure as an event, then the summary; the as-of instant in RFC 3339.
    let json = |output: &Output| -> Vec<serde_json::Value> {
        stderr(output)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    };
    let failed = crate::support::job::run_binary(
        &["--log-format", "json", "run", "--config", "nope.toml"],
        &[],
    );
    let events = json(&failed);
    let last = events.last().unwrap();
    assert_eq!(last["message"], "run finished", "{events:?}");
    assert_eq!(last["exit_code"], 2);
    let started = crate::support::job::run_binary(
        &[
            "--log-format",
            "json",
            "run",
            "--config",
            job.config().to_str().unwrap(),
            "--as-of",
            "2026-11-29T08:00:00+01:00",
        ],
        &[],
    );
    let events = json(&started);
    let first = &events[0];
    assert_eq!(first["message"], "run started");
    assert_eq!(first["as_of"], AS_OF);
}

#[test]
fn g8_an_as_of_past_the_year_9999_is_refused() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    let output = job.run_at("9999-12-31T23:59:59Z", &[]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{log}");
    assert!(log.contains("9999"), "{log}");
    assert!(!job.path().join("out").exists(), "{log}");
}
