//! Issue 18, operator side: every file the config names is read with a limit and refused when it
//! is not a regular file (I1); a wrong type names its key, line and what it wants (I2); `check`
//! reports every problem it finds and `--offline` creates nothing (I3); a missing config file is
//! explained once (I4).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use testkit::ConfigToml;

use crate::support::{AS_OF, BASE_CONFIG, Job, probe_line as line, quirks_page, stderr, stdout};

/// Runs `command`, killing it if it has not finished within 20 s: an unbounded read of a
/// device would otherwise fill memory for as long as it is let.
fn run_within(mut command: Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the binary");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().expect("kill");
            let output = child.wait_with_output().expect("output");
            panic!(
                "still running after 20 s (an unbounded or blocking read?): {}",
                stderr(&output)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn run(job: &Job) -> Output {
    run_within(job.command("run", &["--as-of", AS_OF]))
}

fn check_offline(job: &Job) -> Output {
    run_within(job.command("check", &["--offline"]))
}

/// Exit 2, and every needle in what the binary printed (stderr for `run`, both for `check`).
fn assert_refused(output: &Output, needles: &[&str]) {
    let text = format!("{}{}", stdout(output), stderr(output));
    assert_eq!(output.status.code(), Some(2), "{text}");
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} in {text}");
    }
}

/// The `probe` line of check's output starts with `status` and says each of `needles`.
fn assert_probe(out: &str, probe: &str, status: &str, needles: &[&str]) {
    let probe_line = line(out, probe);
    assert!(
        probe_line.starts_with(status) && needles.iter().all(|n| probe_line.contains(n)),
        "{probe}: {out}"
    );
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

fn graph() -> ConfigToml {
    ConfigToml::graph("https://graph.microsoft.com", "tenant", "client")
}

#[test]
fn i1_an_alerts_file_that_is_a_device_is_refused_naming_source_path() {
    let job = Job::new(
        &BASE_CONFIG.replace("path = \"alerts.json\"", "path = \"/dev/zero\""),
        "",
    );
    assert_refused(
        &run(&job),
        &["source.path", "/dev/zero", "is not a regular file"],
    );
}

#[test]
fn i1_an_alerts_file_over_the_limit_is_refused_before_it_is_read() {
    let job = Job::new(BASE_CONFIG, "");
    let file = std::fs::File::create(job.path().join("alerts.json")).unwrap();
    // Sparse: no disk used, and refused by its size before a byte is read.
    file.set_len((1 << 30) + 1).unwrap();
    assert_refused(&run(&job), &["source.path", "alerts.json", "1 GiB"]);
}

#[test]
fn i1_a_client_secret_file_that_is_a_device_is_refused_by_check_offline() {
    let job = Job::new(
        &graph()
            .source("client_secret_file", "/dev/zero")
            .to_string(),
        "",
    );
    let output = check_offline(&job);
    assert_refused(
        &output,
        &[
            "source.client_secret_file",
            "/dev/zero",
            "is not a regular file",
        ],
    );
}

#[test]
fn i1_a_federated_token_file_that_is_a_device_is_refused_at_load() {
    let job = Job::new(
        &graph()
            .source("federated_token_file", "/dev/zero")
            .to_string(),
        "",
    );
    assert_refused(
        &run(&job),
        &[
            "source.federated_token_file",
            "/dev/zero",
            "is not a regular file",
        ],
    );
}

#[test]
fn i1_a_refresh_token_file_that_is_a_device_is_refused_by_the_sign_in_probe() {
    let job = Job::new(
        &graph()
            .source("sign_in", "user")
            .source("refresh_token_file", "/dev/zero")
            .to_string(),
        "",
    );
    let output = check_offline(&job);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert_probe(
        &stdout(&output),
        "sign-in",
        "FAIL",
        &["source.refresh_token_file", "is not a regular file"],
    );
}

#[test]
fn i1_a_fifo_as_names_file_is_refused_without_waiting_for_a_writer() {
    let job = Job::new(
        &format!("{BASE_CONFIG}\n[names]\nfile = \"names.csv\"\n"),
        "",
    );
    mkfifo(&job.path().join("names.csv"));
    assert_refused(
        &run(&job),
        &["names.file", "names.csv", "is not a regular file"],
    );
}

#[test]
fn i1_secret_and_certificate_files_over_their_limits_are_refused_naming_key_and_limit() {
    let smtp = |extra: &str| {
        BASE_CONFIG.replace("[mail]\n", "[mail]\ntransport = \"smtp\"\n")
            + "\n[mail.smtp]\nhost = \"smtp.example\"\n"
            + extra
    };
    let job = Job::new(&smtp("username = \"u\"\npassword_file = \"pw\"\n"), "");
    std::fs::write(job.path().join("pw"), vec![b'p'; 16 * 1024 + 1]).unwrap();
    assert_refused(&run(&job), &["mail.smtp.password_file", "pw", "16 KiB"]);

    let job = Job::new(&smtp("ca_file = \"/dev/zero\"\n"), "");
    assert_refused(
        &run(&job),
        &["mail.smtp.ca_file", "/dev/zero", "is not a regular file"],
    );
}

#[test]
fn i1_a_config_file_that_is_a_device_or_a_folder_is_refused() {
    for path in ["/dev/zero", "/tmp"] {
        let mut command = crate::support::job::binary();
        command.args(["check", "--offline", "--config", path]);
        let output = run_within(command);
        assert_refused(&output, &[path, "is not a regular file"]);
    }
}

#[test]
fn i2_a_single_address_is_a_list_of_one() {
    let config = BASE_CONFIG.replace(
        "to = [\"secops@partner.example\", \"duty@partner.example\"]",
        "to = \"duty@partner.example\"",
    );
    let job = Job::new(&config, &quirks_page());
    let output = run(&job);
    assert!(output.status.success(), "{}", stderr(&output));
    let mail = job.day("2026-11-29").join("mail");
    let names: Vec<_> = std::fs::read_dir(&mail)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].contains("duty@partner.example"), "{names:?}");
}

#[test]
fn i2_a_type_error_names_the_key_its_line_and_what_it_wants() {
    let cases: [(&str, &str, &[&str]); 4] = [
        (
            "[digest]\n",
            "[digest]\nwindow_days = \"60\"\n",
            &[
                "digest.window_days",
                "line 3",
                "a whole number of days",
                "366",
            ],
        ),
        (
            "[digest]\n",
            "[digest]\nsend_when_empty = \"yes\"\n",
            &["digest.send_when_empty", "line 3", "true or false"],
        ),
        (
            "to = [\"secops@partner.example\", \"duty@partner.example\"]",
            "to = 5",
            &["mail.to", "line 13", "address"],
        ),
        (
            "to = [\"secops@partner.example\", \"duty@partner.example\"]",
            "to = [\"secops@partner.example\",\n  7]",
            &["mail.to", "line 14", "address"],
        ),
    ];
    let smtp = BASE_CONFIG.replace("[mail]\n", "[mail]\ntransport = \"smtp\"\n")
        + "\n[mail.smtp]\nhost = \"h\"\nport = \"25\"\n";
    let configs = cases
        .iter()
        .map(|(from, to, needles)| (BASE_CONFIG.replace(from, to), *needles))
        .chain([(smtp, &["mail.smtp.port", "line 18", "port number"][..])]);
    for (config, needles) in configs {
        let job = Job::new(&config, "");
        let output = run(&job);
        assert_refused(&output, needles);
        let log = stderr(&output);
        assert!(!log.contains("u32") && !log.contains("u16"), "{log}");
    }
}

#[test]
fn i2_a_value_of_the_wrong_type_is_not_echoed() {
    // A secret pasted into the wrong key must not reach a log.
    let config = BASE_CONFIG.replace("[digest]\n", "[digest]\nwindow_days = \"Canary-S3cret\"\n");
    let log = stderr(&run(&Job::new(&config, "")));
    assert!(log.contains("digest.window_days"), "{log}");
    assert!(!log.contains("Canary-S3cret"), "{log}");
}

#[test]
fn i2_a_repeated_key_or_section_names_it_and_its_line() {
    let config = BASE_CONFIG.replace(
        "[digest]\n",
        "[digest]\nwindow_days = 30\nwindow_days = 60\n",
    );
    assert_refused(
        &run(&Job::new(&config, "")),
        &["digest.window_days", "line 4", "more than once"],
    );
    let config = format!("{BASE_CONFIG}\n[digest]\nlanguage = \"sv\"\n");
    assert_refused(
        &run(&Job::new(&config, "")),
        &["digest", "line 15", "more than once"],
    );
}

#[test]
fn i2_a_validation_error_names_its_line_too() {
    let config = BASE_CONFIG.replace("Europe/Stockholm", "Mars/Olympus_Mons");
    assert_refused(&run(&Job::new(&config, "")), &["line 3", "digest.timezone"]);
}

#[test]
fn i3_every_independent_config_problem_is_reported_at_once() {
    let config = BASE_CONFIG
        .replace(
            "[digest]\n",
            "[digest]\nwindow_days = 0\nlanguage = \"tlh\"\n",
        )
        .replace("Europe/Stockholm", "Mars/Olympus_Mons")
        .replace("Digest <digest@partner.example>", "not an address");
    let job = Job::new(&config, "");
    let keys = [
        "digest.window_days",
        "digest.language",
        "digest.timezone",
        "mail.from",
    ];
    assert_refused(&run(&job), &keys);
    let output = check_offline(&job);
    assert_refused(&output, &keys);
    let out = stdout(&output);
    let failed: Vec<_> = out.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(failed.len(), keys.len(), "one line per problem: {out}");
    for key in keys {
        assert!(
            failed
                .iter()
                .any(|l| l.contains(key) && l.contains("config")),
            "{key}: {out}"
        );
    }
}

#[test]
fn i3_check_offline_creates_no_folder_and_says_what_run_would_create() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    let output = check_offline(&job);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}{}", stderr(&output));
    assert!(!job.path().join("state").exists(), "{out}");
    assert!(!job.path().join("out").exists(), "{out}");
    for probe in ["state", "output"] {
        assert_probe(&out, probe, "ok", &["does not exist yet", "run creates"]);
    }
}

#[test]
fn i3_check_offline_reads_an_existing_state_without_changing_it() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    assert!(run(&job).status.success());
    let state = job.path().join("state");
    let before: Vec<_> = crate::support::files_under(&state);
    let output = check_offline(&job);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(line(&stdout(&output), "state").starts_with("ok"));
    assert_eq!(crate::support::files_under(&state), before);
}

#[test]
fn i3_the_graph_probe_names_the_host_it_cannot_reach_and_the_fix() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = ConfigToml::graph("https://graph.microsoft.com", "tenant", "client")
        .source("login_url", format!("http://127.0.0.1:{port}").as_str())
        .source("max_attempts", 1)
        .to_string();
    let job = Job::new(&config, "");
    let mut command = job.command("check", &[]);
    command.env("CSP_DIGEST_CLIENT_SECRET", "s");
    let output = run_within(command);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(3), "{out}");
    let graph = line(&out, "graph");
    let host = format!("cannot reach 127.0.0.1:{port}");
    for needle in [host.as_str(), "HTTPS_PROXY", "source.login_url"] {
        assert!(graph.contains(needle), "{needle:?} in {graph}");
    }
}

#[test]
fn i4_a_missing_config_file_says_no_such_file_once() {
    let output = crate::support::run_binary(&["run", "--config", "/nonexistent/nope.toml"], &[]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{log}");
    assert!(log.contains("/nonexistent/nope.toml"), "{log}");
    assert_eq!(log.matches("No such file or directory").count(), 1, "{log}");
}
