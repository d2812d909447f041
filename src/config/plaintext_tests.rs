//! The TLS policy at config load: `http://` Graph and login URLs, and SMTP without TLS, only to
//! a loopback host (and SMTP credentials never without TLS); each refusal names its key.

use std::path::Path;

use super::{ConfigError, from_toml};

fn load(source: &str, smtp: &str) -> Result<super::Config, ConfigError> {
    let mail = if smtp.is_empty() {
        String::new()
    } else {
        format!("transport = \"smtp\"\n[mail.smtp]\n{smtp}")
    };
    let text = format!(
        "[source]\n{source}\n[mail]\nfrom = \"d@partner.example\"\nto = [\"s@partner.example\"]\n{mail}"
    );
    let env = |name: &str| match name {
        "CSP_DIGEST_CLIENT_SECRET" => Some("a-client-secret".to_owned()),
        "CSP_DIGEST_SMTP_PASSWORD" => Some("an-smtp-password".to_owned()),
        _ => None,
    };
    from_toml(&text, Path::new("/etc/digest/config.toml"), &env)
}

fn graph(key: &str, url: &str) -> String {
    format!("kind = \"graph\"\ntenant_id = \"t\"\nclient_id = \"c\"\n{key} = \"{url}\"\n")
}

const FILE_SOURCE: &str = "kind = \"file\"\npath = \"alerts.json\"\n";

#[test]
fn http_endpoints_are_accepted_only_for_loopback_hosts() {
    for key in ["graph_url", "login_url"] {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://localhost:3000",
            "http://LOCALHOST",
            "http://[::1]:8080",
            "https://graph.microsoft.us",
        ] {
            assert!(load(&graph(key, url), "").is_ok(), "{key} = {url}");
        }
        for url in [
            "http://graph.microsoft.com",
            "http://127.0.0.1.nip.io",
            "http://localhost.evil.example",
            "http://0.0.0.0:8080",
            "http://10.0.0.1",
            "http://[::ffff:8.8.8.8]",
            "ftp://127.0.0.1",
            "https://user:pass@graph.microsoft.com",
        ] {
            let err = load(&graph(key, url), "").unwrap_err().to_string();
            assert!(err.contains(&format!("source.{key}")), "{url}: {err}");
        }
    }
}

#[test]
fn smtp_without_tls_is_accepted_only_to_a_loopback_host_without_credentials() {
    for host in ["127.0.0.1", "localhost", "::1", "[::1]"] {
        let smtp = format!("host = \"{host}\"\ntls = \"none\"\n");
        assert!(load(FILE_SOURCE, &smtp).is_ok(), "{host}");
    }
    for host in [
        "smtp.office365.com",
        "127.0.0.1.nip.io",
        "10.0.0.25",
        "0.0.0.0",
    ] {
        let smtp = format!("host = \"{host}\"\ntls = \"none\"\n");
        let err = load(FILE_SOURCE, &smtp).unwrap_err().to_string();
        assert!(
            err.contains("mail.smtp.tls") && err.contains("loopback"),
            "{host}: {err}"
        );
    }
    let with_login = "host = \"127.0.0.1\"\ntls = \"none\"\nusername = \"digest\"\n";
    let err = load(FILE_SOURCE, with_login).unwrap_err().to_string();
    assert!(
        err.contains("mail.smtp.tls") && err.contains("credentials"),
        "{err}"
    );
    for tls in ["starttls", "implicit"] {
        let smtp = format!("host = \"smtp.office365.com\"\ntls = \"{tls}\"\nusername = \"d\"\n");
        assert!(load(FILE_SOURCE, &smtp).is_ok(), "{tls}");
    }
}
