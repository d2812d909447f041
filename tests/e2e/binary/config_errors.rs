//! Bad configuration fails at start-up with exit code 2 and a message naming the key.

use crate::support::{AS_OF, BASE_CONFIG, Job, assert_mentions, quirks_page, run_binary, stderr};

fn assert_config_error(config: &str, expected: &[&str]) {
    let job = Job::new(config, &quirks_page());
    let output = job.run(&[]);
    let log = stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "exit code 2 for a config error: {log}"
    );
    for needle in expected {
        assert!(
            log.contains(needle),
            "error should mention {needle:?}: {log}"
        );
    }
    assert!(
        !log.contains("stack backtrace"),
        "no backtrace for a config error: {log}"
    );
    assert!(!job.path().join("out").exists(), "nothing written: {log}");
}

/// Each edit of [`BASE_CONFIG`] (the text replaced, its replacement) is refused with exit code 2
/// and a message naming what `expected` lists.
#[test]
fn edits_that_break_a_rule_exit_2_and_name_the_key() {
    let cases: [(&str, &str, &[&str]); 12] = [
        // An unknown key: named with its line.
        (
            "[digest]\n",
            "[digest]\nwindow_dayz = 30\n",
            &["window_dayz", "line 3", "config.toml"],
        ),
        (
            "Europe/Stockholm",
            "Mars/Olympus_Mons",
            &["digest.timezone", "Mars/Olympus_Mons"],
        ),
        // A bad recipient: named by its entry.
        (
            "duty@partner.example",
            "not an address",
            &["mail.to", "entry 2"],
        ),
        (
            "\"duty@partner.example\"",
            "\"duty@partner.example\\r\\nBcc: x@evil.example\"",
            &["mail.to", "control character"],
        ),
        (
            "duty@partner.example",
            "SecOps@Partner.example",
            &["mail.to", "listed twice"],
        ),
        (
            "[digest]\n",
            "[digest]\nwindow_days = 0\n",
            &["digest.window_days"],
        ),
        (
            "[digest]\n",
            "[digest]\nlanguage = \"tlh\"\n",
            &["digest.language", "tlh", "supported: en"],
        ),
        // A source kind that does not exist.
        ("kind = \"file\"", "kind = \"ftp\"", &["ftp", "file"]),
        // Source keys are checked against the kind, and unknown ones named with their line.
        (
            "kind = \"file\"\n",
            "kind = \"file\"\nbogus_key = 1\n",
            &["bogus_key", "line 9"],
        ),
        (
            "kind = \"file\"\n",
            "kind = \"file\"\ntenant_id = \"t\"\n",
            &["tenant_id is for kind = \"graph\""],
        ),
        ("path = \"alerts.json\"\n", "", &["source.path", "required"]),
        (
            "kind = \"file\"",
            "kind = \"graph\"\ntenant_id = \"t\"\nclient_id = \"c\"",
            &["source.path", "kind = \"file\""],
        ),
    ];
    for (from, to, expected) in cases {
        assert_config_error(&BASE_CONFIG.replace(from, to), expected);
    }
}

/// Each section or key added at the end of [`BASE_CONFIG`] is refused likewise.
#[test]
fn additions_that_break_a_rule_exit_2_and_name_the_key() {
    let cases: [(&str, &[&str]); 3] = [
        // An unknown section.
        ("\n[mailer]\nhost = \"x\"\n", &["mailer"]),
        // A header injection in the subject.
        (
            "subject = \"Alerts\\r\\nBcc: victim@evil.example\"\n",
            &["mail.subject", "control characters"],
        ),
        // An SMTP section with the file transport: refused rather than silently not sending.
        (
            "\n[mail.smtp]\nhost = \"smtp.example\"\n",
            &["mail.smtp", "transport = \"smtp\""],
        ),
    ];
    for (added, expected) in cases {
        assert_config_error(&format!("{BASE_CONFIG}{added}"), expected);
    }
}

#[test]
fn a_missing_config_file_exits_2() {
    let output = run_binary(&["run", "--config", "/nonexistent/config.toml"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("/nonexistent/config.toml"));
}

#[test]
fn a_bad_as_of_exits_2_and_shows_the_accepted_forms() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    let output = job.run_at("yesterday", &[]);
    assert_eq!(output.status.code(), Some(2));
    let log = stderr(&output);
    assert_mentions(&log, &["yesterday", "RFC 3339"]);
}

#[test]
fn the_config_path_can_come_from_the_environment() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    let config = job.config();
    let output = run_binary(
        &["run", "--as-of", AS_OF],
        &[("CSP_DIGEST_CONFIG", config.to_str().unwrap())],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(job.day("2026-11-29").join("digest.html").is_file());
}

#[test]
fn relative_paths_resolve_against_the_config_folder() {
    let job = Job::new(BASE_CONFIG, &quirks_page());
    let elsewhere = tempfile::tempdir().unwrap();
    let output = job
        .command("run", &["--as-of", AS_OF])
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(job.day("2026-11-29").join("alerts.csv").is_file());
    assert!(
        std::fs::read_dir(elsewhere.path())
            .unwrap()
            .next()
            .is_none()
    );
}

fn smtp_config(smtp: &str) -> String {
    BASE_CONFIG.replace("[mail]\n", "[mail]\ntransport = \"smtp\"\n") + "\n[mail.smtp]\n" + smtp
}

#[test]
fn smtp_settings_that_would_expose_credentials_or_cannot_work_are_refused() {
    let cases: [(&str, &[&str]); 7] = [
        (
            "host = \"smtp.example\"\nca_file = \"broken.pem\"\n",
            &["mail.smtp.ca_file", "broken.pem"],
        ),
        (
            "host = \"smtp.example\"\ntls = \"none\"\n",
            &["mail.smtp.tls", "loopback"],
        ),
        (
            "host = \"127.0.0.1\"\ntls = \"none\"\nusername = \"u\"\npassword_file = \"pw\"\n",
            &["mail.smtp.tls", "credentials only ever cross TLS"],
        ),
        (
            "host = \"smtp.example\"\nusername = \"u\"\n",
            &["mail.smtp.username", "CSP_DIGEST_SMTP_PASSWORD"],
        ),
        (
            "host = \"smtp.example\"\npassword_file = \"pw\"\n",
            &["mail.smtp.password_file", "username"],
        ),
        (
            "host = \"smtp.example\"\nca_file = \"pw\"\n",
            &["mail.smtp.ca_file", "no readable PEM certificate"],
        ),
        (
            "host = \"smtp.example\"\ntls = \"ssl\"\n",
            &["ssl", "starttls"],
        ),
    ];
    for (smtp, expected) in cases {
        let config = smtp_config(smtp);
        let job = Job::new(&config, &quirks_page());
        std::fs::write(job.path().join("pw"), "password\n").unwrap();
        std::fs::write(
            job.path().join("broken.pem"),
            "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let output = job.run(&[]);
        let log = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{smtp}: {log}");
        for needle in expected {
            assert!(log.contains(needle), "{smtp}: {needle:?} in {log}");
        }
    }
    let job = Job::new(
        &BASE_CONFIG.replace("[mail]\n", "[mail]\ntransport = \"smtp\"\n"),
        "[]",
    );
    let log = stderr(&job.run(&[]));
    assert!(log.contains("[mail.smtp]"), "{log}");
}

#[test]
fn a_parse_error_names_the_line_but_never_echoes_its_text() {
    let config = BASE_CONFIG.replace("[mail]\n", "[mail]\npassword = \"Canary-S3cret-Value\n");
    let job = Job::new(&config, &quirks_page());
    let output = job.run(&[]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{log}");
    assert!(log.contains("line 12"), "{log}");
    assert!(!log.contains("Canary-S3cret-Value"), "{log}");
    let config = BASE_CONFIG.replace("[mail]\n", "[mail]\npassword = \"Canary-S3cret-Value\"\n");
    let job = Job::new(&config, &quirks_page());
    let log = stderr(&job.run(&[]));
    assert_mentions(&log, &["password", "line 12"]);
    assert!(!log.contains("Canary-S3cret-Value"), "{log}");
}

#[test]
fn an_unknown_sign_in_and_a_refresh_token_file_for_an_app_are_refused() {
    let graph = testkit::ConfigToml::graph("https://graph.microsoft.com", "t", "c");
    let config = graph.clone().source("sign_in", "maybe").to_string();
    assert_config_error(&config, &["source.sign_in", "\"app\" or \"user\"", "maybe"]);
    let config = graph
        .source("client_secret_file", "secret")
        .source("refresh_token_file", "token")
        .to_string();
    assert_config_error(
        &config,
        &["source.refresh_token_file", "sign_in = \"user\""],
    );
}
