//! How the job signs in to Microsoft Graph and Partner Center: app-only (client credentials), or
//! App+User (the Secure Application Model): a person signs in once with MFA (`login`, the
//! device code flow), and every run redeems the refresh token that sign-in gave for access
//! tokens, keeping the rotated refresh token each answer carries.
//!
//! The refresh token lives in `<state_dir>/sign-in/<client_id>.json`, readable by its owner only
//! (the file 0600, the folder 0700), replaced atomically (a new file renamed over the old one,
//! then the folder synced): a crash leaves the old token or the new one, never a torn file. A
//! lock file beside it keeps two processes (a run and a `check`, say) from redeeming the same
//! token at once. Where the store holds none, `refresh_token_file` seeds it (a Kubernetes
//! Secret from a `login` run elsewhere).

use std::fs::{File, Permissions};
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::owner_only;

/// How the app proves who it is.
#[derive(Clone)]
pub enum Credential {
    Secret(SecretString),
    /// A file holding a JWT from the cluster's identity provider.
    FederatedTokenFile(PathBuf),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Secret(_) => f.write_str("Secret([redacted])"),
            Self::FederatedTokenFile(path) => {
                f.debug_tuple("FederatedTokenFile").field(path).finish()
            }
        }
    }
}

/// `[source] sign_in`.
#[derive(Debug, Clone)]
pub enum SignIn {
    /// `"app"`: app-only tokens (client credentials) with the app's own credential.
    App(Credential),
    /// `"user"`: App+User tokens redeemed from the refresh token `login` kept; the app's
    /// credential is sent too when it has one (a confidential client).
    User {
        store: RefreshStore,
        credential: Option<Credential>,
    },
}

impl SignIn {
    /// The config's word for it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::App(_) => "app",
            Self::User { .. } => "user",
        }
    }

    /// The app's own credential, if it has one.
    pub fn credential(&self) -> Option<&Credential> {
        match self {
            Self::App(credential) => Some(credential),
            Self::User { credential, .. } => credential.as_ref(),
        }
    }
}

/// Refresh tokens older than this get a warning: Entra ID lets one go unused 90 days.
pub const ROTATION_WARNING_DAYS: i64 = 60;

/// The most the store's JSON may hold: a refresh token (a few KiB) and who signed in when.
const STORE_BYTES: u64 = 64 * 1024;

/// The refresh token store of one app registration.
#[derive(Debug, Clone)]
pub struct RefreshStore {
    dir: PathBuf,
    client_id: String,
    /// `refresh_token_file`: read when the store holds no token.
    seed: Option<PathBuf>,
}

/// What the store keeps: the token, and what `check` and the digest tell about it.
#[derive(Clone, Serialize, Deserialize)]
pub struct Stored {
    #[serde(serialize_with = "expose", deserialize_with = "secret")]
    pub refresh_token: SecretString,
    /// Who signed in (`preferred_username` of the id token), when known.
    #[serde(default)]
    pub username: Option<String>,
    /// When `login` stored the first token of this sign-in.
    #[serde(default)]
    pub signed_in_at: Option<DateTime<Utc>>,
    /// When the token was last replaced by a rotated one (or stored by `login`).
    pub rotated_at: DateTime<Utc>,
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stored")
            .field("refresh_token", &"[redacted]")
            .field("username", &self.username)
            .field("signed_in_at", &self.signed_in_at)
            .field("rotated_at", &self.rotated_at)
            .finish()
    }
}

fn expose<S: serde::Serializer>(s: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(s.expose_secret())
}

fn secret<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<SecretString, D::Error> {
    let text = String::deserialize(deserializer)?;
    crate::redact::register(&text);
    Ok(SecretString::from(text))
}

/// Where a token came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Store,
    Seed,
}

impl RefreshStore {
    /// The store for `client_id` under `state_dir`, seeded from `seed` when it holds nothing.
    pub fn new(state_dir: &Path, client_id: &str, seed: Option<PathBuf>) -> Self {
        Self {
            dir: state_dir.join("sign-in"),
            client_id: client_id.to_owned(),
            seed,
        }
    }

    /// The file the token is kept in.
    pub fn path(&self) -> PathBuf {
        // Client ids are GUIDs; anything else is made safe for a file name.
        let name: String = self
            .client_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{name}.json"))
    }

    pub fn seed(&self) -> Option<&Path> {
        self.seed.as_deref()
    }

    /// The stored token, or the seed's when the store holds none; `None` when neither has one.
    pub fn load(&self) -> Result<Option<(Stored, Origin)>, String> {
        let path = self.path();
        match crate::bounded::read(&path, "the sign-in store", STORE_BYTES) {
            Ok(bytes) => {
                let stored: Stored = serde_json::from_slice(&bytes).map_err(|e| {
                    format!(
                        "the sign-in store {} cannot be read ({e}); run `csp-alert-digest login` again",
                        path.display()
                    )
                })?;
                return Ok(Some((stored, Origin::Store)));
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.sentence()),
        }
        let Some(seed) = &self.seed else {
            return Ok(None);
        };
        let text = crate::bounded::read_to_string(
            seed,
            "source.refresh_token_file",
            crate::bounded::SECRET_BYTES,
        )
        .map_err(|e| e.to_string())?;
        let token = text.trim();
        if token.is_empty() {
            return Err(format!(
                "source.refresh_token_file {} is empty",
                seed.display()
            ));
        }
        crate::redact::register(token);
        // A seed may be the store's own JSON (copied from a workstation) or the bare token.
        let stored = serde_json::from_str::<Stored>(token).unwrap_or_else(|_| Stored {
            refresh_token: SecretString::from(token.to_owned()),
            username: None,
            signed_in_at: None,
            rotated_at: file_time(seed).unwrap_or_else(Utc::now),
        });
        Ok(Some((stored, Origin::Seed)))
    }

    /// Replaces the stored token atomically: a new file (0600, created, never followed through
    /// a link) written and synced, renamed over the old one, the folder synced.
    pub fn save(&self, stored: &Stored) -> std::io::Result<()> {
        self.ensure_dir()?;
        let path = self.path();
        let (mut file, temp) = owner_only::create_temp(&path)?;
        let result = (|| {
            let json = serde_json::to_vec_pretty(stored).map_err(std::io::Error::other)?;
            file.write_all(&json)?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            std::fs::rename(&temp, &path)?;
            File::open(&self.dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result
    }

    /// Holds the store's lock file (blocking) until the returned file is dropped.
    pub fn lock(&self) -> std::io::Result<File> {
        self.ensure_dir()?;
        let file = owner_only::options()
            .read(true)
            .create(true)
            .truncate(false)
            .open(self.dir.join(".lock"))?;
        file.lock()?;
        Ok(file)
    }

    /// The folder, created 0700 (or brought back to 0700).
    fn ensure_dir(&self) -> std::io::Result<()> {
        owner_only::create_dirs(&self.dir)?;
        let mode = std::fs::metadata(&self.dir)?.permissions().mode() & 0o777;
        if mode != owner_only::DIR_MODE {
            std::fs::set_permissions(&self.dir, Permissions::from_mode(owner_only::DIR_MODE))?;
        }
        Ok(())
    }
}

fn file_time(path: &Path) -> Option<DateTime<Utc>> {
    std::fs::metadata(path)
        .ok()?
        .modified()
        .ok()
        .map(DateTime::<Utc>::from)
}

/// How a stored sign-in reads in `check` and the digest's notes: who, when last rotated, and
/// a warning when that is more than [`ROTATION_WARNING_DAYS`] ago.
pub fn describe(stored: &Stored, now: DateTime<Utc>) -> (String, Option<String>) {
    let days = (now - stored.rotated_at).num_days();
    let who = stored.username.as_deref().unwrap_or("an unknown user");
    let line = format!(
        "signed in as {who}; refresh token last rotated {} ({days} days ago)",
        stored.rotated_at.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    let warning = (days > ROTATION_WARNING_DAYS).then(|| {
        format!(
            "the sign-in's refresh token was last rotated {days} days ago; Microsoft Entra ID lets one go unused 90 days: run the job (or `csp-alert-digest login`) before then"
        )
    });
    (line, warning)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(token: &str) -> Stored {
        Stored {
            refresh_token: SecretString::from(token.to_owned()),
            username: Some("ops@partner.example".into()),
            signed_in_at: None,
            rotated_at: DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
                .unwrap()
                .into(),
        }
    }

    #[test]
    fn the_store_is_owner_only_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = RefreshStore::new(dir.path(), "11111111-2222-3333-4444-555555555555", None);
        assert!(store.load().unwrap().is_none());
        store.save(&stored("first")).unwrap();
        store.save(&stored("second")).unwrap();
        let (read, origin) = store.load().unwrap().unwrap();
        assert_eq!(read.refresh_token.expose_secret(), "second");
        assert_eq!(origin, Origin::Store);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&store.path()), 0o600);
        assert_eq!(mode(&dir.path().join("sign-in")), 0o700);
        // Nothing but the token and the lock file is left behind.
        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("sign-in"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["11111111-2222-3333-4444-555555555555.json"]);
    }

    #[test]
    fn a_failed_save_leaves_the_old_token() {
        let dir = tempfile::tempdir().unwrap();
        let store = RefreshStore::new(dir.path(), "app", None);
        store.save(&stored("old")).unwrap();
        // A folder that cannot take a new file: the rename never happens.
        std::fs::set_permissions(dir.path().join("sign-in"), Permissions::from_mode(0o500))
            .unwrap();
        let failed = store.save(&stored("new"));
        std::fs::set_permissions(dir.path().join("sign-in"), Permissions::from_mode(0o700))
            .unwrap();
        if failed.is_ok() {
            // Running as root: permissions do not stop the write; nothing to prove here.
            return;
        }
        let (read, _) = store.load().unwrap().unwrap();
        assert_eq!(read.refresh_token.expose_secret(), "old");
    }

    #[test]
    fn a_seed_is_read_when_the_store_is_empty_bare_or_as_the_store_json() {
        let dir = tempfile::tempdir().unwrap();
        let seed = dir.path().join("seed");
        std::fs::write(&seed, "bare-refresh-token\n").unwrap();
        let store = RefreshStore::new(dir.path(), "app", Some(seed.clone()));
        let (read, origin) = store.load().unwrap().unwrap();
        assert_eq!(read.refresh_token.expose_secret(), "bare-refresh-token");
        assert_eq!(origin, Origin::Seed);
        std::fs::write(&seed, serde_json::to_vec(&stored("as-json")).unwrap()).unwrap();
        let (read, _) = store.load().unwrap().unwrap();
        assert_eq!(read.refresh_token.expose_secret(), "as-json");
        assert_eq!(read.username.as_deref(), Some("ops@partner.example"));
        // Once the store holds a token, the seed is not read again.
        store.save(&stored("rotated")).unwrap();
        let (read, origin) = store.load().unwrap().unwrap();
        assert_eq!(read.refresh_token.expose_secret(), "rotated");
        assert_eq!(origin, Origin::Store);
    }

    #[test]
    fn a_token_not_rotated_for_over_60_days_is_warned_about() {
        let s = stored("x");
        let at = |d: &str| -> DateTime<Utc> { DateTime::parse_from_rfc3339(d).unwrap().into() };
        let (line, warning) = describe(&s, at("2026-12-01T00:00:00Z"));
        assert!(
            line.contains("ops@partner.example") && line.contains("30 days ago"),
            "{line}"
        );
        assert!(warning.is_none());
        let (_, warning) = describe(&s, at("2027-01-05T00:00:00Z"));
        assert!(warning.unwrap().contains("65 days ago"));
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let text = format!("{:?}", stored("very-secret-refresh"));
        assert!(!text.contains("very-secret-refresh"), "{text}");
    }
}
