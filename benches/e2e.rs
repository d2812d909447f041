//! The end-to-end benchmark: the real `csp-alert-digest run` against the fake Microsoft Graph
//! service on loopback, beside a parse-only baseline over the same pages.
//!
//! ```text
//! cargo bench --bench e2e                                  # N = 10,000, 100,000 and 1,000,000
//! cargo bench --bench e2e -- --n 100000 --runs 5           # one size, five runs
//! cargo bench --bench e2e -- --n 10000 --runs 1 --check    # CI's smoke test: counts only
//! ```
//!
//! For each N the fake service (`testkit`'s `FakeGraph`, a dev-dependency) generates N
//! alerts, renders them into pages of 1,000 once, and serves them from this process. Each run
//! then starts two child processes, one after the other, each in a fresh folder:
//!
//! - **parse-only**: this program again (`--child-parse-only`), which gets a token, fetches every
//!   page by its `@odata.nextLink` with reqwest and deserialises it with serde into plain owned
//!   structs of every documented field, then drops them: the practical limit of any client;
//! - **job**: the built binary, `run --config … --as-of …` with `[source] kind = "graph"` and
//!   file transport: token, paging, digest, every report, the `.eml` and the ledger.
//!
//! Each child is started by a small measurer (this program with `--child-measure`), which waits
//! for it and reads its peak RSS and CPU time (user + system) with `getrusage(RUSAGE_CHILDREN)`,
//! so the figures are that one process's own. Medians over the runs are printed as a table. The
//! CPU time is the steadier figure on a busy machine: the wall times of both children drift
//! with it by 10 % and more.
//!
//! `--check` compares the job's summary line (read, resolved, test, in window, older than the
//! window, partners, customers, subscriptions, pages, duplicates, set aside) and the rows of
//! `alerts.csv` with the generator's ground truth, and fails on any difference. It asserts no
//! timing.
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark that meets an unexpected error should stop on the spot"
)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use testkit::{FakeGraph, Options, Truth, truth_of};

const AS_OF: &str = "2026-11-29T07:00:00Z";
const PAGE_SIZE: usize = 1000;
const WINDOW_DAYS: i64 = 60;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--child-measure") => return measure(&args[1..]),
        Some("--child-parse-only") => return parse_only(&args[1..]),
        _ => {}
    }
    let bench = match Bench::from_args(&args) {
        Ok(bench) => bench,
        Err(message) => {
            eprintln!("{message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut failed = false;
    let mut rows = Vec::new();
    for &n in &bench.sizes {
        match runtime.block_on(bench.size(n)) {
            Ok(row) => rows.push(row),
            Err(message) => {
                eprintln!("N = {n}: {message}");
                failed = true;
            }
        }
    }
    print_table(&rows, bench.runs);
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

const USAGE: &str =
    "usage: cargo bench --bench e2e -- [--n N[,N…]] [--runs R] [--check] [--keep DIR]
  --n      alert counts (default 10000,100000,1000000)
  --runs   runs per size; the table shows medians (default 3)
  --check  compare the job's counts with the generator's ground truth; fail on a difference
  --keep   leave the last run's folders under DIR instead of a temporary folder";

struct Bench {
    sizes: Vec<usize>,
    runs: usize,
    check: bool,
    keep: Option<PathBuf>,
}

impl Bench {
    fn from_args(args: &[String]) -> Result<Self, String> {
        let mut bench = Self {
            sizes: vec![10_000, 100_000, 1_000_000],
            runs: 3,
            check: false,
            keep: None,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--n" => {
                    bench.sizes = value()?
                        .split(',')
                        .map(|n| {
                            n.replace('_', "")
                                .parse()
                                .map_err(|e| format!("--n {n}: {e}"))
                        })
                        .collect::<Result<_, _>>()?;
                }
                "--runs" => {
                    bench.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?;
                    bench.runs = bench.runs.max(1);
                }
                "--check" => bench.check = true,
                "--keep" => bench.keep = Some(PathBuf::from(value()?)),
                // `cargo bench` passes `--bench` to every benchmark.
                "--bench" => {}
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(bench)
    }

    async fn size(&self, n: usize) -> Result<Row, String> {
        let options = Options {
            alerts: n,
            page_size: PAGE_SIZE,
            ..Options::default()
        };
        let as_of: DateTime<Utc> = AS_OF.parse().unwrap();
        let truth = truth_of(&options, as_of, WINDOW_DAYS, false);
        let started = Instant::now();
        let secret = options.client_secret.clone();
        let fake = FakeGraph::start(options).await;
        eprintln!(
            "N = {n}: {} pages rendered in {:.1} s; {} runs",
            fake.pages(),
            started.elapsed().as_secs_f64(),
            self.runs
        );
        // The file transport, written out as the job's config always had it.
        let config = fake.config().mail("transport", "file").to_string();
        let scratch = tempfile::tempdir().unwrap();
        let root = self.keep.clone().unwrap_or_else(|| scratch.path().into());
        let mut parse = Vec::new();
        let mut job = Vec::new();
        for run in 0..self.runs {
            let base = fake.base_url();
            let (config, secret) = (config.clone(), secret.clone());
            let folder = root.join(format!("n{n}"));
            let (p, j) = tokio::task::spawn_blocking(move || {
                let p = run_parse_only(&folder, &base, &secret)?;
                let j = run_job(&folder, &config, &secret)?;
                Ok::<_, String>((p, j))
            })
            .await
            .unwrap()?;
            eprintln!(
                "  run {}: parse-only {:.3} s (CPU {:.3} s) {} MB; job {:.3} s (CPU {:.3} s) {} MB",
                run + 1,
                p.wall.as_secs_f64(),
                p.cpu.as_secs_f64(),
                p.max_rss_kb / 1024,
                j.measured.wall.as_secs_f64(),
                j.measured.cpu.as_secs_f64(),
                j.measured.max_rss_kb / 1024
            );
            if self.check {
                check(&j, &truth, fake.pages(), &root.join(format!("n{n}")))?;
                eprintln!("  counts match the generator's ground truth: {truth:?}");
            }
            parse.push(p);
            job.push(j);
        }
        Ok(Row::of(n, &parse, &job))
    }
}

/// What the measurer saw of one child.
#[derive(Debug, Clone, Copy)]
struct Measured {
    wall: Duration,
    /// User and system time: steadier than the wall time on a busy machine.
    cpu: Duration,
    max_rss_kb: u64,
    /// Response bytes, as the child reported them.
    bytes: u64,
}

#[derive(Debug, Clone)]
struct JobRun {
    measured: Measured,
    summary: BTreeMap<String, String>,
    html_bytes: u64,
    render: BTreeMap<String, String>,
}

/// Runs `program args…` under the measurer; returns the measurement and the child's stderr.
fn measured(
    folder: &Path,
    program: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<(Measured, String), String> {
    std::fs::create_dir_all(folder).map_err(|e| e.to_string())?;
    let err_path = folder.join("child.stderr");
    let out_path = folder.join("child.stdout");
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .arg("--child-measure")
        .arg(&out_path)
        .arg(&err_path)
        .arg(program)
        .args(args)
        .current_dir(folder)
        .env_remove("CSP_DIGEST_CONFIG")
        .env_remove("CSP_DIGEST_LOG")
        .stdin(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().map_err(|e| format!("measurer: {e}"))?;
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let report = String::from_utf8_lossy(&output.stdout);
    let fields = fields(report.trim());
    let code: i32 = fields
        .get("code")
        .and_then(|c| c.parse().ok())
        .unwrap_or(-1);
    if !output.status.success() || code != 0 {
        return Err(format!(
            "{} exited with {code}:\n{}",
            program.display(),
            stderr
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    let number = |k: &str| {
        fields
            .get(k)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let child = fields_of_line(&stdout, "parse-only");
    Ok((
        Measured {
            wall: Duration::from_micros(number("wall_us")),
            cpu: Duration::from_micros(number("cpu_us")),
            max_rss_kb: number("max_rss_kb"),
            bytes: child.get("bytes").and_then(|b| b.parse().ok()).unwrap_or(0),
        },
        stderr,
    ))
}

fn run_parse_only(folder: &Path, base: &str, secret: &str) -> Result<Measured, String> {
    let folder = folder.join("parse-only");
    let _ = std::fs::remove_dir_all(&folder);
    let me = std::env::current_exe().unwrap();
    let (measured, _) = measured(&folder, &me, &["--child-parse-only", base, secret], &[])?;
    Ok(measured)
}

fn run_job(folder: &Path, config: &str, secret: &str) -> Result<JobRun, String> {
    let folder = folder.join("job");
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
    let config_path = folder.join("config.toml");
    std::fs::write(&config_path, config).map_err(|e| e.to_string())?;
    let binary = env!("CARGO_BIN_EXE_csp-alert-digest");
    let config_path = config_path.to_str().unwrap();
    let mut argv = vec!["run", "--config", config_path, "--as-of", AS_OF];
    // For profiling only (the figures then include the wrapper): e.g.
    // CSP_BENCH_WRAP="perf record -g -o /tmp/job.perf --" cargo bench --bench e2e -- --n 100000 --runs 1
    let wrap = std::env::var("CSP_BENCH_WRAP").unwrap_or_default();
    let mut wrap: Vec<&str> = wrap.split_whitespace().collect();
    let program = if wrap.is_empty() {
        PathBuf::from(binary)
    } else {
        let program = PathBuf::from(wrap.remove(0));
        wrap.push(binary);
        wrap.append(&mut argv);
        argv = wrap;
        program
    };
    let (mut measured, stderr) = measured(
        &folder,
        &program,
        &argv,
        &[("CSP_DIGEST_CLIENT_SECRET", secret), ("NO_COLOR", "1")],
    )?;
    let summary = fields_of_line(&stderr, "run finished");
    let render = fields_of_line(&stderr, "reports rendered");
    measured.bytes = summary
        .get("bytes")
        .and_then(|b| b.parse().ok())
        .unwrap_or(0);
    let html_bytes =
        std::fs::metadata(folder.join("out/2026-11-29/digest.html")).map_or(0, |m| m.len());
    Ok(JobRun {
        measured,
        summary,
        html_bytes,
        render,
    })
}

/// The job's counts against the generator's; `Err` names every difference.
fn check(job: &JobRun, truth: &Truth, pages: usize, folder: &Path) -> Result<(), String> {
    let expected = [
        ("pages", pages),
        ("read", truth.total),
        ("set_aside", 0),
        ("duplicates", 0),
        ("test", truth.test),
        ("resolved", truth.resolved),
        ("in_window", truth.unresolved_in_window),
        ("older_than_window", truth.unresolved_older),
        ("after_as_of", 0),
        ("partners", truth.partners_in_window),
        ("customers", truth.customers_in_window),
        ("subscriptions", truth.subscriptions_in_window),
        ("exit_code", 0),
    ];
    let mut wrong = Vec::new();
    for (key, want) in expected {
        let got = job.summary.get(key).map_or("(missing)", String::as_str);
        if got != want.to_string() {
            wrong.push(format!("{key}: the job says {got}, the generator {want}"));
        }
    }
    let csv = folder.join("job/out/2026-11-29/alerts.csv");
    let bytes = std::fs::read(&csv).map_err(|e| format!("{}: {e}", csv.display()))?;
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .ok_or("alerts.csv has no BOM")?;
    let mut reader = csv::ReaderBuilder::new().from_reader(body);
    let width = reader.headers().map_err(|e| e.to_string())?.len();
    let mut rows = 0;
    for record in reader.records() {
        let record = record.map_err(|e| format!("alerts.csv: {e}"))?;
        if record.len() != width {
            wrong.push(format!(
                "alerts.csv row {rows}: {} cells, not {width}",
                record.len()
            ));
        }
        rows += 1;
    }
    if rows != truth.unresolved_in_window {
        wrong.push(format!(
            "alerts.csv: {rows} rows, the generator {} unresolved in the window",
            truth.unresolved_in_window
        ));
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("\n"))
    }
}

/// `key=value` fields of a log line (values without spaces, as the job writes counts).
fn fields(line: &str) -> BTreeMap<String, String> {
    line.split_whitespace()
        .filter_map(|word| word.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
        .collect()
}

/// The fields of the last line of `text` that holds `message`.
fn fields_of_line(text: &str, message: &str) -> BTreeMap<String, String> {
    text.lines()
        .rev()
        .find(|l| l.contains(message))
        .map(fields)
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

struct Row {
    n: usize,
    parse_wall: Duration,
    parse_cpu: Duration,
    parse_rss_kb: u64,
    job_wall: Duration,
    job_cpu: Duration,
    job_rss_kb: u64,
    bytes: u64,
    html_bytes: u64,
    html_ms: String,
}

impl Row {
    fn of(n: usize, parse: &[Measured], job: &[JobRun]) -> Self {
        let job_measured: Vec<Measured> = job.iter().map(|j| j.measured).collect();
        let mut html_ms: Vec<u64> = job
            .iter()
            .filter_map(|j| j.render.get("html_ms").and_then(|v| v.parse().ok()))
            .collect();
        html_ms.sort_unstable();
        Self {
            n,
            parse_wall: median(parse.iter().map(|m| m.wall)),
            parse_cpu: median(parse.iter().map(|m| m.cpu)),
            parse_rss_kb: median(parse.iter().map(|m| m.max_rss_kb)),
            job_wall: median(job_measured.iter().map(|m| m.wall)),
            job_cpu: median(job_measured.iter().map(|m| m.cpu)),
            job_rss_kb: median(job_measured.iter().map(|m| m.max_rss_kb)),
            bytes: median(job_measured.iter().map(|m| m.bytes)),
            html_bytes: median(job.iter().map(|j| j.html_bytes)),
            html_ms: html_ms
                .get(html_ms.len() / 2)
                .map_or_else(|| "-".to_owned(), u64::to_string),
        }
    }
}

fn median<T: Ord + Copy>(values: impl Iterator<Item = T>) -> T {
    let mut values: Vec<T> = values.collect();
    values.sort_unstable();
    values[values.len() / 2]
}

#[expect(
    clippy::cast_precision_loss,
    reason = "figures for people, not for sums"
)]
fn print_table(rows: &[Row], runs: usize) {
    println!();
    println!(
        "medians of {runs} run(s); pages of {PAGE_SIZE}; RSS = peak resident set of the process; CPU = its user + system time"
    );
    println!(
        "| N | parse-only wall | parse-only CPU | parse-only RSS | job wall | job CPU | job RSS | job / parse-only | alerts/s | MB/s | HTML | HTML render |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let job = r.job_wall.as_secs_f64();
        println!(
            "| {} | {:.3} s | {:.3} s | {} MB | {:.3} s | {:.3} s | {} MB | {:.2}× | {:.0} | {:.0} | {} B | {} ms |",
            r.n,
            r.parse_wall.as_secs_f64(),
            r.parse_cpu.as_secs_f64(),
            r.parse_rss_kb / 1024,
            job,
            r.job_cpu.as_secs_f64(),
            r.job_rss_kb / 1024,
            job / r.parse_wall.as_secs_f64(),
            r.n as f64 / job,
            r.bytes as f64 / 1e6 / job,
            r.html_bytes,
            r.html_ms,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The children
// ---------------------------------------------------------------------------------------------

/// `--child-measure OUT ERR PROGRAM ARGS…`: runs the program with stdout and stderr to the
/// files, then prints `code=… wall_us=… cpu_us=… max_rss_kb=…` (CPU: user and system time).
/// Its only child is the program, so `RUSAGE_CHILDREN`'s figures are that process's own.
fn measure(args: &[String]) -> ExitCode {
    let [out, err, program, rest @ ..] = args else {
        eprintln!("--child-measure OUT ERR PROGRAM ARGS…");
        return ExitCode::from(2);
    };
    let started = Instant::now();
    let status = Command::new(program)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(out).unwrap())
        .stderr(std::fs::File::create(err).unwrap())
        .status()
        .unwrap();
    let wall = started.elapsed();
    let usage =
        nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).unwrap();
    let micros = |t: nix::sys::time::TimeVal| t.tv_sec() * 1_000_000 + t.tv_usec();
    println!(
        "code={} wall_us={} cpu_us={} max_rss_kb={}",
        status.code().unwrap_or(-1),
        wall.as_micros(),
        micros(usage.user_time()) + micros(usage.system_time()),
        usage.max_rss()
    );
    ExitCode::SUCCESS
}

/// Every documented field of `partnerSecurityAlert`, owned: what a plain serde client keeps.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(dead_code, reason = "deserialised to be measured, never read")]
struct PlainAlert {
    id: String,
    display_name: Option<String>,
    description: Option<String>,
    alert_type: Option<String>,
    status: Option<String>,
    severity: Option<String>,
    confidence_level: Option<String>,
    customer_tenant_id: Option<String>,
    subscription_id: Option<String>,
    value_added_reseller_tenant_id: Option<String>,
    catalog_offer_id: Option<String>,
    detected_date_time: Option<String>,
    first_observed_date_time: Option<String>,
    last_observed_date_time: Option<String>,
    resolved_reason: Option<String>,
    resolved_on_date_time: Option<String>,
    resolved_by: Option<String>,
    is_test: Option<PlainBool>,
    affected_resources: Option<Vec<HashMap<String, Option<String>>>>,
    activity_logs: Option<Vec<HashMap<String, Option<String>>>>,
    additional_details: Option<HashMap<String, Option<String>>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
#[expect(dead_code, reason = "deserialised to be measured, never read")]
enum PlainBool {
    Bool(bool),
    Text(String),
}

#[derive(Deserialize)]
struct PlainPage {
    value: Vec<PlainAlert>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize)]
struct PlainToken {
    access_token: String,
}

/// `--child-parse-only BASE SECRET`: a token, then every page fetched and deserialised into
/// [`PlainAlert`]s, nothing kept. Prints `parse-only pages=… alerts=… bytes=…`.
fn parse_only(args: &[String]) -> ExitCode {
    let [base, secret] = args else {
        eprintln!("--child-parse-only BASE SECRET");
        return ExitCode::from(2);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (pages, alerts, bytes) = runtime.block_on(async {
        let client = reqwest::Client::builder().gzip(true).build().unwrap();
        let token: PlainToken = client
            .post(format!("{base}/tenant/oauth2/v2.0/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "client"),
                ("client_secret", secret.as_str()),
                ("scope", &format!("{base}/.default")),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut url = Some(format!("{base}{}", testkit::ALERTS_PATH));
        let (mut pages, mut alerts, mut bytes) = (0, 0, 0);
        while let Some(next) = url {
            let body = client
                .get(&next)
                .bearer_auth(&token.access_token)
                .send()
                .await
                .unwrap()
                .error_for_status()
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let page: PlainPage = serde_json::from_slice(&body).unwrap();
            pages += 1;
            alerts += page.value.len();
            bytes += body.len();
            url = page.next_link;
        }
        (pages, alerts, bytes)
    });
    println!("parse-only pages={pages} alerts={alerts} bytes={bytes}");
    ExitCode::SUCCESS
}
