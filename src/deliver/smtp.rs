//! Sending `.eml` files to an SMTP relay with lettre, one message per recipient. STARTTLS is
//! required when configured (no plaintext fallback, so credentials only ever cross TLS); each
//! send is bounded by a whole-send timeout, because lettre's own covers only the connect.

use std::sync::Mutex;
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use tracing::warn;

use crate::retry::{Class, Jitter, Next, RetryPolicy, Sleeper};

/// `[mail.smtp]`.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// Username and password; only ever sent over TLS.
    pub credentials: Option<(String, SecretString)>,
    /// Extra trusted root certificates (PEM) for a private relay.
    pub ca_pem: Option<Vec<u8>>,
    /// Connecting, TLS and greeting.
    pub connect_timeout: Duration,
    /// One whole message, from connecting to the server's answer to the end of DATA.
    pub send_timeout: Duration,
    /// Tries per message for transient failures within one run.
    pub attempts: u32,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain connection upgraded with STARTTLS, which the server must offer (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No TLS: only to a loopback host, and never with credentials.
    None,
}

impl TlsMode {
    pub fn default_port(self) -> u16 {
        match self {
            Self::StartTls => 587,
            Self::Implicit => 465,
            Self::None => 25,
        }
    }
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server accepted the end of DATA.
    Sent,
    /// Refused for good (5xx) for this recipient.
    Failed(String),
    /// Transient failures outlasted the retries, or the outcome is unknown (the connection
    /// dropped after the final "."): sent again by the next run, with the same Message-ID.
    Pending(String),
    /// A failure no other message will escape either (TLS, STARTTLS missing, AUTH refused):
    /// stop sending; every delivery stays pending.
    Stop(String),
}

/// An SMTP client for one run.
#[derive(Debug)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    config: SmtpConfig,
    policy: RetryPolicy,
    sleeper: Sleeper,
    jitter: Mutex<Jitter>,
}

impl Mailer {
    #[expect(
        clippy::disallowed_methods,
        reason = "builder_dangerous sets no TLS; it is set on the next lines from the config, and plaintext is refused here for anything but a loopback host without credentials"
    )]
    pub fn new(config: &SmtpConfig, sleeper: Sleeper) -> anyhow::Result<Self> {
        // The config refuses these already; checked again where the transport is built, so no
        // other way of making an SmtpConfig can send credentials or mail in plaintext.
        if config.tls == TlsMode::None
            && (config.credentials.is_some() || !crate::net::is_loopback(&config.host))
        {
            anyhow::bail!(
                "mail.smtp.tls = \"none\" is only for a loopback host without credentials, not {}",
                config.host
            );
        }
        let tls_parameters = || -> anyhow::Result<TlsParameters> {
            let mut builder = TlsParameters::builder(config.host.clone());
            if let Some(pem) = &config.ca_pem {
                builder = builder.add_root_certificate(Certificate::from_pem(pem)?);
            }
            Ok(builder.build_rustls()?)
        };
        let tls = match config.tls {
            TlsMode::StartTls => Tls::Required(tls_parameters()?),
            TlsMode::Implicit => Tls::Wrapper(tls_parameters()?),
            TlsMode::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.connect_timeout));
        if let Some((user, password)) = &config.credentials {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            config: config.clone(),
            policy: RetryPolicy {
                flaky_attempts: config.attempts,
                throttled_attempts: config.attempts,
                ..RetryPolicy::default()
            },
            sleeper,
            jitter: Mutex::new(Jitter::from_entropy()),
        })
    }

    /// Connects, with TLS and login as configured, and says NOOP: no message is sent.
    /// `Ok` or the outcome that a send would have had.
    pub async fn probe(&self) -> Result<(), Outcome> {
        match tokio::time::timeout(self.config.send_timeout, self.transport.test_connection()).await
        {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(Outcome::Pending(
                "the server did not answer NOOP".to_owned(),
            )),
            Ok(Err(e)) => Err(match classify(&e) {
                Verdict::Stop => Outcome::Stop(stop_message(&e, &self.config)),
                Verdict::Permanent => Outcome::Failed(e.to_string()),
                Verdict::Retry | Verdict::Unknown => Outcome::Pending(e.to_string()),
            }),
            Err(_) => Err(Outcome::Pending(format!(
                "no answer within send_timeout_secs = {} s",
                self.config.send_timeout.as_secs()
            ))),
        }
    }

    /// Sends `message` (a whole `.eml`) from `sender` to `recipient`, retrying transient
    /// failures with backoff.
    pub async fn send(&self, sender: &str, recipient: &str, message: &[u8]) -> Outcome {
        let envelope = match envelope(sender, recipient) {
            Ok(envelope) => envelope,
            Err(e) => return Outcome::Failed(e),
        };
        // lettre ends DATA with CRLF "." CRLF after the bytes it is given; without this the
        // server would receive the .eml plus an empty line instead of the .eml exactly.
        let message = message.strip_suffix(b"\r\n").unwrap_or(message);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = tokio::time::timeout(
                self.config.send_timeout,
                self.transport.send_raw(&envelope, message),
            )
            .await;
            let why = match result {
                Ok(Ok(_)) => return Outcome::Sent,
                Ok(Err(e)) => match classify(&e) {
                    Verdict::Permanent => return Outcome::Failed(e.to_string()),
                    Verdict::Stop => return Outcome::Stop(stop_message(&e, &self.config)),
                    Verdict::Retry => e.to_string(),
                    // The server may have the message already: sending it again now could
                    // make several copies. The next run resends it once, same Message-ID.
                    Verdict::Unknown => return Outcome::Pending(e.to_string()),
                },
                Err(_) => {
                    return Outcome::Pending(format!(
                        "no answer within send_timeout_secs = {} s (the message may or may not have arrived)",
                        self.config.send_timeout.as_secs()
                    ));
                }
            };
            let next = {
                let mut jitter = self
                    .jitter
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                self.policy.next(Class::Flaky, attempt, None, &mut jitter)
            };
            match next {
                Next::Wait(wait) => {
                    warn!(
                        recipient = %mask(recipient),
                        attempt,
                        reason = %why,
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        "SMTP send failed; retrying"
                    );
                    self.sleeper.sleep(wait).await;
                }
                Next::GiveUp | Next::WaitTooLong(_) => return Outcome::Pending(why),
            }
        }
    }
}

enum Verdict {
    /// Refused for good, for this message.
    Permanent,
    /// Not accepted, provably (a 4xx reply, or no connection at all): try again in this run.
    Retry,
    /// The connection broke or went silent mid-session: the message may have arrived.
    Unknown,
    /// No message will get past this.
    Stop,
}

/// 5xx is permanent for the recipient, except authentication answers, which no message will
/// get past. TLS failures and a missing STARTTLS stop everything: no plaintext fallback. A 4xx
/// reply or a refused connection proves the message was not taken and is retried at once; a
/// connection lost or silent mid-session is an unknown outcome, left for the next run.
fn classify(error: &lettre::transport::smtp::Error) -> Verdict {
    let code = error.status().map(|c| c.to_string());
    if error.is_permanent() {
        if matches!(code.as_deref(), Some("530" | "534" | "535" | "538")) {
            Verdict::Stop
        } else {
            Verdict::Permanent
        }
    } else if error.is_transient() {
        Verdict::Retry
    } else if error.is_tls() || is_certificate_error(error) {
        Verdict::Stop
    } else if error.is_client() {
        let text = error.to_string().to_ascii_lowercase();
        if text.contains("starttls") || text.contains("authentication") {
            Verdict::Stop
        } else {
            // e.g. an address or body the server cannot take: this message only.
            Verdict::Permanent
        }
    } else if never_connected(error) {
        Verdict::Retry
    } else {
        Verdict::Unknown
    }
}

/// Whether the error happened before a session existed (refused, unreachable, no such host).
fn never_connected(error: &lettre::transport::smtp::Error) -> bool {
    use std::io::ErrorKind;
    cause::<std::io::Error>(error).is_some_and(|io| {
        matches!(
            io.kind(),
            ErrorKind::ConnectionRefused
                | ErrorKind::HostUnreachable
                | ErrorKind::NetworkUnreachable
                | ErrorKind::AddrNotAvailable
                | ErrorKind::NotFound
        )
    })
}

/// lettre reports a failed TLS handshake as a connection error; the rustls error inside it
/// says whether the certificate was refused, which no retry will change.
fn is_certificate_error(error: &lettre::transport::smtp::Error) -> bool {
    matches!(
        cause::<rustls::Error>(error),
        Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
    )
}

/// The first `T` among the causes of `error`, also looking inside `io::Error` wrappers (where
/// lettre keeps the TLS stack's errors).
fn cause<T: std::error::Error + 'static>(error: &lettre::transport::smtp::Error) -> Option<&T> {
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<T>());
        if inner.is_some() {
            return inner;
        }
        source = e.source();
    }
    None
}

fn stop_message(error: &lettre::transport::smtp::Error, config: &SmtpConfig) -> String {
    let text = error.to_string().to_ascii_lowercase();
    let hint = if error.is_tls() || is_certificate_error(error) {
        "the TLS connection failed (certificate not trusted or wrong host name?); set mail.smtp.ca_file for a private relay"
    } else if text.contains("starttls") {
        "the server does not offer STARTTLS, which mail.smtp.tls = \"starttls\" requires; nothing was sent, no credentials left this machine"
    } else if text.contains("authentication") {
        "the server offers no login method this program supports (PLAIN or LOGIN) on this connection"
    } else {
        "the server refused the login: check mail.smtp.username and the password"
    };
    format!("{}:{}: {hint} ({error})", config.host, config.port)
}

fn envelope(sender: &str, recipient: &str) -> Result<Envelope, String> {
    let from: Address = sender
        .parse()
        .map_err(|e| format!("sender {sender:?}: {e}"))?;
    let to: Address = recipient
        .parse()
        .map_err(|e| format!("recipient {recipient:?}: {e}"))?;
    Envelope::new(Some(from), vec![to]).map_err(|e| e.to_string())
}

/// `s*****@partner.example`: enough to tell recipients apart in a log, not a mailing list.
pub fn mask(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_in_logs() {
        assert_eq!(mask("secops@partner.example"), "s***@partner.example");
        assert_eq!(mask("nonsense"), "***");
    }
}
