//! The `check` command: validates the config and, unless offline, probes each dependency
//! without sending anything — a token and one page from Graph, a login at the SMTP server, the
//! ledger and the output folder — with one line per probe saying what failed and the fix.

use std::fmt::Write as _;
use std::path::Path;

use crate::config::{self, Config};
use crate::deliver::Transport;
use crate::deliver::smtp::{Mailer, Outcome};
use crate::exit::Exit;
use crate::ledger::Ledger;
use crate::retry::Sleeper;
use crate::source::graph::SignIn;
use crate::source::graph::signin::{Origin, describe};
use crate::source::{self, SourceConfig, graph};

/// One probe's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub name: &'static str,
    /// `None` when it passed.
    pub failure: Option<Exit>,
    pub detail: String,
}

impl Probe {
    fn ok(name: &'static str, detail: impl Into<String>) -> Self {
        Self {
            name,
            failure: None,
            detail: detail.into(),
        }
    }

    fn failed(name: &'static str, exit: Exit, detail: impl Into<String>) -> Self {
        Self {
            name,
            failure: Some(exit),
            detail: detail.into(),
        }
    }

    /// `ok    graph     token and first page read (100 alerts)`.
    pub fn line(&self) -> String {
        let status = if self.failure.is_some() { "FAIL" } else { "ok" };
        format!("{status:<5} {:<8} {}", self.name, self.detail)
    }
}

/// Runs every probe; the exit code is the most serious failure's (2 before 3), else 0.
pub async fn check(config_path: &Path, offline: bool) -> (Vec<Probe>, Exit) {
    let mut probes = Vec::new();
    let config = match config::load(config_path) {
        Ok(config) => {
            probes.push(Probe::ok("config", config_path.display().to_string()));
            config
        }
        Err(e) => {
            // One line per problem: a config with several wrong keys is fixed in one go.
            for line in e.lines() {
                probes.push(Probe::failed("config", Exit::Config, line));
            }
            return (probes, Exit::Config);
        }
    };
    probes.push(state(&config, offline));
    probes.push(output(&config, offline));
    if let Some(probe) = sign_in(&config) {
        probes.push(probe);
    }
    probes.push(source(&config, offline).await);
    if let Some(probe) = names(&config, offline).await {
        probes.push(probe);
    }
    probes.push(mail(&config, offline).await);
    let exit = [Exit::Config, Exit::Transient]
        .into_iter()
        .find(|e| probes.iter().any(|p| p.failure == Some(*e)))
        .unwrap_or(Exit::Done);
    (probes, exit)
}

/// Opens (creating if needed) the ledger without taking the run lock, so a check never stops
/// a run that is under way. Offline, nothing is created: an existing ledger is opened read-only,
/// a missing folder is reported with what `run` would create.
fn state(config: &Config, offline: bool) -> Probe {
    let dir = &config.digest.state_dir;
    let fix = |e: &dyn std::fmt::Display| {
        Probe::failed(
            "state",
            Exit::Config,
            format!(
                "{e}; fix: make digest.state_dir a writable folder for this user ({})",
                dir.display()
            ),
        )
    };
    if offline {
        return match missing(dir) {
            Ok(Some(line)) => Probe::ok(
                "state",
                format!(
                    "{line}: run creates it, with the ledger {} in it",
                    ledger_path(dir).display()
                ),
            ),
            Ok(None) => match Ledger::open_read_only(dir) {
                Ok(Some(ledger)) => {
                    Probe::ok("state", format!("ledger {} opens", ledger.path().display()))
                }
                Ok(None) => Probe::ok(
                    "state",
                    format!(
                        "{} is a folder; the ledger {} does not exist yet: run creates it",
                        dir.display(),
                        ledger_path(dir).display()
                    ),
                ),
                Err(e) => fix(&format_args!("{e:#}")),
            },
            Err(e) => fix(&e),
        };
    }
    let opened = std::fs::create_dir_all(dir)
        .map_err(anyhow::Error::from)
        .and_then(|()| Ledger::open(dir));
    match opened {
        Ok(ledger) => Probe::ok("state", format!("ledger {} opens", ledger.path().display())),
        Err(e) => fix(&format_args!("{e:#}")),
    }
}

fn ledger_path(dir: &Path) -> std::path::PathBuf {
    dir.join(crate::ledger::FILE_NAME)
}

/// For a folder `run` would create: `None` when it is there; else a line saying it is not, and
/// which existing folder it would be created in. An error when that cannot work: a file in the
/// way, or a parent this user cannot write to.
fn missing(dir: &Path) -> Result<Option<String>, String> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => return Ok(None),
        Ok(_) => return Err(format!("{} exists and is not a folder", dir.display())),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("cannot look at {}: {e}", dir.display()));
        }
        Err(_) => {}
    }
    let parent = dir
        .ancestors()
        .skip(1)
        .find(|p| p.as_os_str().is_empty() || p.exists())
        .map_or(Path::new("/"), |p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        });
    let meta = std::fs::metadata(parent)
        .map_err(|e| format!("cannot look at {}: {e}", parent.display()))?;
    if !meta.is_dir() {
        return Err(format!(
            "{} cannot be created: {} is not a folder",
            dir.display(),
            parent.display()
        ));
    }
    if meta.permissions().readonly() {
        return Err(format!(
            "{} cannot be created: {} is read-only",
            dir.display(),
            parent.display()
        ));
    }
    Ok(Some(format!(
        "{} does not exist yet (in {})",
        dir.display(),
        parent.display()
    )))
}

fn output(config: &Config, offline: bool) -> Probe {
    let dir = &config.digest.output_dir;
    let failed = |e: &dyn std::fmt::Display| {
        Probe::failed(
            "output",
            Exit::Config,
            format!(
                "cannot write in {}: {e}; fix: make digest.output_dir a writable folder for this user",
                dir.display()
            ),
        )
    };
    if offline {
        match missing(dir) {
            Ok(Some(line)) => {
                return Probe::ok(
                    "output",
                    format!("{line}: run creates it, with a folder per digest date in it"),
                );
            }
            Ok(None) => {}
            Err(e) => return failed(&e),
        }
    }
    let probe = dir.join(".csp-alert-digest-check");
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&probe, b"check"))
        .and_then(|()| std::fs::remove_file(&probe));
    match written {
        Ok(()) => Probe::ok("output", format!("{} is writable", dir.display())),
        Err(e) => failed(&e),
    }
}

/// For Graph: which sign-in is configured and, for App+User, who is signed in and when the
/// refresh token was last rotated (a warning past 60 days; Entra ID's limit is 90). Reads
/// only the local store, so it runs `--offline` too.
fn sign_in(config: &Config) -> Option<Probe> {
    let SourceConfig::Graph(graph) = &config.source else {
        return None;
    };
    let SignIn::User { store, .. } = &graph.sign_in else {
        return Some(Probe::ok(
            "sign-in",
            "app: app-only tokens (client credentials)",
        ));
    };
    Some(match store.load() {
        Ok(Some((stored, origin))) => {
            let (line, warning) = describe(&stored, chrono::Utc::now());
            let from = match origin {
                Origin::Store => format!("kept in {}", store.path().display()),
                Origin::Seed => format!(
                    "from source.refresh_token_file {} (the first run keeps it in {})",
                    store
                        .seed()
                        .map_or_else(String::new, |p| p.display().to_string()),
                    store.path().display()
                ),
            };
            let mut detail = format!("user (App+User): {line}; {from}");
            if let Some(w) = warning {
                let _ = write!(detail, "; WARNING: {w}");
            }
            Probe::ok("sign-in", detail)
        }
        Ok(None) => Probe::failed(
            "sign-in",
            Exit::Config,
            format!(
                "user (App+User), but nobody has signed in: run `csp-alert-digest login --config {}` (or set source.refresh_token_file)",
                config.path.display()
            ),
        ),
        Err(e) => Probe::failed("sign-in", Exit::Config, e),
    })
}

async fn source(config: &Config, offline: bool) -> Probe {
    match &config.source {
        SourceConfig::File { path } => match source::file::collect(path) {
            Ok(collected) => Probe::ok(
                "source",
                format!(
                    "{}: {} alerts read, {} set aside",
                    path.display(),
                    collected.alerts.len(),
                    collected.set_aside.len()
                ),
            ),
            Err(e) => Probe::failed("source", Exit::Config, format!("{e:#}")),
        },
        SourceConfig::Graph(_) if offline => Probe::ok("graph", "skipped (--offline)"),
        SourceConfig::Graph(graph_config) => {
            let result = match graph::Http::new(graph::http_settings(graph_config)) {
                Ok(http) => graph::probe(graph_config, &http).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(n) => Probe::ok(
                    "graph",
                    format!(
                        "token and first page read from {} ({n} alerts on it)",
                        graph_config.graph_url
                    ),
                ),
                Err(e) => Probe::failed(
                    "graph",
                    if e.is_permanent() {
                        Exit::Config
                    } else {
                        Exit::Transient
                    },
                    unreachable(
                        &e,
                        &graph_config.login_url,
                        ("source.graph_url", &graph_config.graph_url),
                    )
                    .unwrap_or_else(|| e.to_string()),
                ),
            }
        }
    }
}

/// A request that could not connect, or timed out, named by the host it was for and what to
/// check. The token endpoint's path (`/{tenant}/oauth2/…`) tells the login host from the
/// service's.
fn unreachable(
    e: &graph::GraphError,
    login_url: &reqwest::Url,
    (key, service_url): (&str, &reqwest::Url),
) -> Option<String> {
    let graph::GraphError::Exhausted { path, last, .. } = e else {
        return None;
    };
    // The words `graph::http` puts first for a transport failure, not a server's text.
    if !(last.starts_with("connection failed") || last.starts_with("timed out")) {
        return None;
    }
    let (key, url) = if path.contains("/oauth2/") {
        ("source.login_url", login_url)
    } else {
        (key, service_url)
    };
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => url.to_string(),
    };
    Some(format!(
        "cannot reach {host} ({path}: {last}); fix: check the network, a proxy (HTTPS_PROXY) or {key}"
    ))
}

/// With `[names]`: the names file (already read with the config) and, unless offline, a
/// Partner Center token and the first page of customers. A run only warns when Partner Center
/// fails; `check` says so as a failure, since configuration is what fixes it.
async fn names(config: &Config, offline: bool) -> Option<Probe> {
    let names = &config.names;
    if names.file.is_none() && names.partner_center.is_none() {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(file) = &names.file {
        parts.push(format!(
            "{}: {} names",
            file.path.display(),
            file.names.names.len()
        ));
    }
    match (&names.partner_center, &config.source) {
        (Some(_), _) if offline => parts.push("Partner Center skipped (--offline)".to_owned()),
        (Some(pc), SourceConfig::Graph(graph_config)) => {
            let result = match graph::Http::new(graph::http_settings(graph_config)) {
                Ok(http) => {
                    let client = crate::names::partner_center::Client::new(&http, graph_config, pc);
                    tokio::time::timeout(pc.deadline, client.probe())
                        .await
                        .unwrap_or_else(|_| {
                            Err(graph::GraphError::Exhausted {
                                path: crate::names::partner_center::CUSTOMERS_PATH.to_owned(),
                                attempts: 1,
                                last: format!(
                                    "no answer within names.deadline_secs = {} s",
                                    pc.deadline.as_secs()
                                ),
                            })
                        })
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(n) => parts.push(format!(
                    "token and first page of customers read from {} ({n} customers on it)",
                    pc.url
                )),
                Err(e) => {
                    let fix = match &e {
                        graph::GraphError::Rejected {
                            status: 401 | 403, ..
                        } => {
                            "; fix: add the app registration in Partner Center (Account settings, App management), or set names.partner_center = false"
                        }
                        _ => "",
                    };
                    let why = unreachable(
                        &e,
                        &graph_config.login_url,
                        ("names.partner_center_url", &pc.url),
                    )
                    .unwrap_or_else(|| e.to_string());
                    return Some(Probe::failed(
                        "names",
                        if e.is_permanent() {
                            Exit::Config
                        } else {
                            Exit::Transient
                        },
                        format!(
                            "Partner Center: {why}{fix} (a run still sends the digest, with names from names.file and the cache)"
                        ),
                    ));
                }
            }
        }
        _ => {}
    }
    Some(Probe::ok("names", parts.join("; ")))
}

async fn mail(config: &Config, offline: bool) -> Probe {
    let smtp = match &config.mail.transport {
        Transport::File => {
            return Probe::ok(
                "mail",
                "transport \"file\": messages are written as .eml files",
            );
        }
        Transport::Smtp(_) if offline => return Probe::ok("smtp", "skipped (--offline)"),
        Transport::Smtp(smtp) => smtp,
    };
    let mailer = match Mailer::new(smtp, Sleeper::Tokio) {
        Ok(mailer) => mailer,
        Err(e) => return Probe::failed("smtp", Exit::Config, format!("{e:#}")),
    };
    let mut target = format!("{}:{} ({:?}", smtp.host, smtp.port, smtp.tls);
    if smtp.credentials.is_some() {
        target.push_str(", login");
    }
    let _ = write!(target, ")");
    match mailer.probe().await {
        Ok(()) => Probe::ok("smtp", format!("{target}: connected, nothing sent")),
        Err(Outcome::Stop(e) | Outcome::Failed(e)) => Probe::failed("smtp", Exit::Config, e),
        Err(Outcome::Pending(e)) => Probe::failed(
            "smtp",
            Exit::Transient,
            format!(
                "{target}: {e}; fix: check mail.smtp.host and port, and that the relay is reachable"
            ),
        ),
        Err(Outcome::Sent) => Probe::ok("smtp", target),
    }
}
