//! The shipped example configs load, as the README shows them, with their secrets from the
//! environment; Debug never shows a secret.

use std::path::Path;

use csp_alert_digest::config::{Config, from_toml};

/// `examples/<name>`, loaded with each of `secrets` set to `s3cret` in its environment.
fn load(name: &str, secrets: &[&str]) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let env = |var: &str| secrets.contains(&var).then(|| "s3cret".to_owned());
    from_toml(&text, &path, &env).unwrap_or_else(|e| panic!("examples/{name} loads: {e}"))
}

#[test]
fn the_shipped_example_config_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo.toml");
    let config = csp_alert_digest::config::load(&path).expect("examples/demo.toml loads");
    assert_eq!(config.mail.to.len(), 2);
    assert_eq!(config.digest.window_days, 60);
    assert!(config.digest.output_dir.ends_with("examples/out"));
}

#[test]
fn the_shipped_graph_example_config_loads_with_a_secret_from_the_environment() {
    let config = load("graph.toml", &["CSP_DIGEST_CLIENT_SECRET"]);
    let csp_alert_digest::source::SourceConfig::Graph(graph) = config.source else {
        panic!("a graph source");
    };
    assert_eq!(graph.graph_url.as_str(), "https://graph.microsoft.com/");
    let partner_center = config
        .names
        .partner_center
        .as_ref()
        .expect("[names] partner_center");
    assert_eq!(
        partner_center.url.as_str(),
        "https://api.partnercenter.microsoft.com/"
    );
    assert!(
        format!("{graph:?}").contains("[redacted]"),
        "Debug never shows the secret"
    );
    assert!(!format!("{graph:?}").contains("s3cret"));
}

#[test]
fn the_shipped_app_plus_user_example_loads_without_a_secret_and_keeps_its_token_under_state_dir() {
    let config = load("graph-user.toml", &[]);
    let csp_alert_digest::source::SourceConfig::Graph(graph) = config.source else {
        panic!("a graph source");
    };
    let csp_alert_digest::source::graph::SignIn::User { store, credential } = &graph.sign_in else {
        panic!("sign_in = \"user\"");
    };
    assert!(credential.is_none(), "a public client sends no secret");
    assert_eq!(store.seed(), None);
    assert_eq!(
        store.path(),
        Path::new(
            "/var/lib/csp-alert-digest/state/sign-in/22222222-3333-4444-5555-666666666666.json"
        )
    );
}

#[test]
fn the_shipped_smtp_example_config_loads_with_secrets_from_the_environment() {
    let config = load(
        "smtp.toml",
        &["CSP_DIGEST_CLIENT_SECRET", "CSP_DIGEST_SMTP_PASSWORD"],
    );
    let csp_alert_digest::deliver::Transport::Smtp(smtp) = &config.mail.transport else {
        panic!("an SMTP transport");
    };
    assert_eq!(smtp.port, 587);
    assert!(smtp.credentials.is_some());
    assert!(
        !format!("{config:?}").contains("s3cret"),
        "Debug never shows a secret"
    );
}

#[test]
fn the_shipped_resolve_example_config_loads_and_shares_the_daily_jobs_state() {
    let secret = ["CSP_DIGEST_CLIENT_SECRET"];
    let (resolve, daily) = (load("resolve.toml", &secret), load("graph.toml", &secret));
    assert_eq!(resolve.digest.state_dir, daily.digest.state_dir);
    let (
        csp_alert_digest::source::SourceConfig::Graph(resolve),
        csp_alert_digest::source::SourceConfig::Graph(daily),
    ) = (resolve.source, daily.source)
    else {
        panic!("graph sources");
    };
    assert_ne!(
        resolve.client_id, daily.client_id,
        "a second app registration"
    );
}
