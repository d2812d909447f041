//! Bad configuration fails at start-up with exit code 2 and a message naming the key.

use crate::support::{AS_OF, BASE_CONFIG, Job, quirks_page, run_binary, stderr};

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

#[test]
fn an_unknown_key_exits_2_and_names_the_key_and_line() {
    let config = BASE_CONFIG.replace("[digest]\n", "[digest]\nwindow_dayz = 30\n");
    assert_config_error(&config, &["window_dayz", "line 3", "config.toml"]);
}

#[test]
fn an_unknown_section_exits_2_and_names_it() {
    let config = format!("{BASE_CONFIG}\n[mailer]\nhost = \"x\"\n");
    assert_config_error(&config, &["mailer"]);
}

#[test]
fn an_unknown_time_zone_exits_2_and_names_the_key() {
    let config = BASE_CONFIG.replace("Europe/Stockholm", "Mars/Olympus_Mons");
    assert_config_error(&config, &["digest.timezone", "Mars/Olympus_Mons"]);
}

#[test]
fn a_bad_recipient_exits_2_and_names_the_entry() {
    let config = BASE_CONFIG.replace("duty@partner.example", "not an address");
    assert_config_error(&config, &["mail.to", "entry 2"]);
}

#[test]
fn a_header_injection_in_the_subject_is_refused() {
    let config = format!("{BASE_CONFIG}subject = \"Alerts\\r\\nBcc: victim@evil.example\"\n");
    assert_config_error(&config, &["mail.subject", "control characters"]);
}

#[test]
fn a_recipient_with_crlf_is_refused() {
    let config = BASE_CONFIG.replace(
        "\"duty@partner.example\"",
        "\"duty@partner.example\\r\\nBcc: x@evil.example\"",
    );
    assert_config_error(&config, &["mail.to", "control character"]);
}

#[test]
fn a_duplicate_recipient_is_refused() {
    let config = BASE_CONFIG.replace("duty@partner.example", "SecOps@Partner.example");
    assert_config_error(&config, &["mail.to", "listed twice"]);
}

#[test]
fn a_zero_window_and_an_unknown_language_are_refused() {
    let config = BASE_CONFIG.replace("[digest]\n", "[digest]\nwindow_days = 0\n");
    assert_config_error(&config, &["digest.window_days"]);
    let config = BASE_CONFIG.replace("[digest]\n", "[digest]\nlanguage = \"tlh\"\n");
    assert_config_error(&config, &["digest.language", "tlh", "supported: en"]);
}

#[test]
fn a_source_kind_that_does_not_exist_is_refused() {
    let config = BASE_CONFIG.replace("kind = \"file\"", "kind = \"ftp\"");
    assert_config_error(&config, &["ftp", "file"]);
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
    assert!(
        log.contains("yesterday") && log.contains("RFC 3339"),
        "{log}"
    );
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
fn an_smtp_section_with_the_file_transport_is_refused_rather_than_silently_not_sending() {
    let config = format!("{BASE_CONFIG}\n[mail.smtp]\nhost = \"smtp.example\"\n");
    assert_config_error(&config, &["mail.smtp", "transport = \"smtp\""]);
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
    assert!(log.contains("password") && log.contains("line 12"), "{log}");
    assert!(!log.contains("Canary-S3cret-Value"), "{log}");
}

#[test]
fn source_keys_are_checked_against_the_kind_and_unknown_ones_named_with_their_line() {
    let config = BASE_CONFIG.replace("kind = \"file\"\n", "kind = \"file\"\nbogus_key = 1\n");
    assert_config_error(&config, &["bogus_key", "line 9"]);
    let config = BASE_CONFIG.replace("kind = \"file\"\n", "kind = \"file\"\ntenant_id = \"t\"\n");
    assert_config_error(&config, &["tenant_id is for kind = \"graph\""]);
    let config = BASE_CONFIG.replace("path = \"alerts.json\"\n", "");
    assert_config_error(&config, &["source.path", "required"]);
    let config = BASE_CONFIG.replace(
        "kind = \"file\"",
        "kind = \"graph\"\ntenant_id = \"t\"\nclient_id = \"c\"",
    );
    assert_config_error(&config, &["source.path", "kind = \"file\""]);
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
