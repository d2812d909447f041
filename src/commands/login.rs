//! The `login` command: the one-time App+User sign-in of the Secure Application Model for
//! `[source] sign_in = "user"`. Shows Microsoft's device-code message on stderr, waits while a
//! partner user signs in with MFA in any browser, and keeps the refresh token in the sign-in
//! store under `state_dir` (owner-only, replaced atomically: Ctrl-C before the end leaves an
//! earlier token as it was). Prints who signed in, never a token.

use std::path::Path;

use chrono::Utc;

use crate::config;
use crate::exit::{Exit, ExitContext, Failure};
use crate::retry::Sleeper;
use crate::source::SourceConfig;
use crate::source::graph::device::{self, DeviceError, Flow};
use crate::source::graph::signin::Stored;
use crate::source::graph::{self, Http, SignIn};

/// Signs in and stores the refresh token; returns the line to print.
pub async fn login(config_path: &Path) -> Result<String, Failure> {
    let config = config::load(config_path).or_exit(Exit::Config)?;
    let SourceConfig::Graph(graph) = &config.source else {
        return Err(anyhow::anyhow!(
            "login is for [source] kind = \"graph\" with sign_in = \"user\"; this config reads a file"
        ))
        .or_exit(Exit::Config);
    };
    let SignIn::User { store, credential } = &graph.sign_in else {
        return Err(anyhow::anyhow!(
            "login is for [source] sign_in = \"user\"; this config signs in as an application (sign_in = \"app\"), which needs no login"
        ))
        .or_exit(Exit::Config);
    };
    let http = Http::new(graph::http_settings(graph)).or_exit(Exit::Config)?;
    // `openid profile` for the id token that names who signed in; `offline_access` for the
    // refresh token; `.default` for the delegated permissions the app was consented.
    let scope = format!(
        "openid profile offline_access {}/.default",
        graph.graph_url.as_str().trim_end_matches('/')
    );
    let flow = Flow {
        login_url: graph.login_url.as_str(),
        tenant_id: &graph.tenant_id,
        client_id: &graph.client_id,
        scope: &scope,
        credential: credential.as_ref(),
    };
    let signed_in = device::sign_in(
        &http,
        &flow,
        &mut |message| eprintln!("{message}"),
        &Sleeper::Tokio,
    )
    .await
    .map_err(|e| match e {
        DeviceError::Refused(message) => Failure {
            exit: Exit::Config,
            error: anyhow::anyhow!(message),
        },
        DeviceError::Unavailable(e) => Failure {
            exit: Exit::Transient,
            error: anyhow::Error::from(e).context("Microsoft Entra ID could not be reached"),
        },
    })?;
    let now = Utc::now();
    let stored = Stored {
        refresh_token: signed_in.refresh_token,
        username: signed_in.username,
        signed_in_at: Some(now),
        rotated_at: now,
    };
    let locking = store.clone();
    let saved = tokio::task::spawn_blocking(move || {
        let _lock = locking.lock()?;
        locking.save(&stored).map(|()| stored.username)
    })
    .await
    .map_err(anyhow::Error::from)
    .or_exit(Exit::Internal)?;
    let username = saved
        .map_err(|e| {
            anyhow::Error::from(e).context(format!(
                "cannot keep the refresh token in {}",
                store.path().display()
            ))
        })
        .or_exit(Exit::Config)?;
    tracing::info!("signed in; refresh token stored");
    Ok(format!(
        "signed in as {}; the refresh token is kept in {} (readable by its owner only)",
        username.as_deref().unwrap_or("(the id token named nobody)"),
        store.path().display()
    ))
}
