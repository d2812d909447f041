//! Sending `.eml` files to an SMTP relay with lettre's connection, one message per recipient,
//! step by step, so each failure is judged by how far the session got: nothing can have been
//! sent before the server answered DATA (retried within the run), the outcome of a message cut
//! off after it is unknown (left for the next run). STARTTLS is required when configured (no
//! plaintext fallback, so credentials only ever cross TLS). lettre's own timeout covers only the
//! TCP connect: the greeting is bounded by `connect_timeout`, each message by `send_timeout`,
//! the whole sending phase by `deadline` (in `send_pending`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, Tls, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use secrecy::{ExposeSecret, SecretString};
use tracing::warn;

use super::address::{ascii_domain, mask_addresses, needs_smtputf8};
use crate::retry::{Class, Jitter, Next, RetryPolicy, Sleeper};

pub use super::address::mask;

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
    /// The whole sending phase of a run, retries and waits included; what it does not reach is
    /// left pending for the next run.
    pub deadline: Duration,
}

/// The default of `[mail.smtp] deadline_secs`.
pub const DEFAULT_DEADLINE_SECS: u64 = 600;
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
    config: SmtpConfig,
    tls: Tls,
    hello: ClientId,
    credentials: Option<Credentials>,
    policy: RetryPolicy,
    sleeper: Sleeper,
    jitter: Mutex<Jitter>,
}

/// How far one attempt got, which decides what a failure can have cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Stage {
    /// Connecting, greeting, EHLO, STARTTLS, AUTH: no message can have been sent.
    Setup = 0,
    /// MAIL, RCPT, DATA: the server has no content yet.
    Envelope = 1,
    /// The content and the answer to its final ".": the server may have the message.
    Content = 2,
    /// The server accepted the message; only the goodbye is left.
    Accepted = 3,
}

impl Stage {
    fn of(stage: &AtomicU8) -> Self {
        match stage.load(Ordering::SeqCst) {
            0 => Self::Setup,
            1 => Self::Envelope,
            2 => Self::Content,
            _ => Self::Accepted,
        }
    }
}

/// Why one attempt failed: what it means for the message, and the words for it (addresses
/// already masked).
#[derive(Debug)]
struct Failure {
    verdict: Verdict,
    text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Refused for good, for this message.
    Permanent,
    /// Not accepted, provably (a 4xx reply, or the session broke before DATA was answered):
    /// try again in this run.
    Retry,
    /// The connection broke or went silent after the content went out: the message may have
    /// arrived.
    Unknown,
    /// No message will get past this.
    Stop,
}

impl Mailer {
    pub fn new(config: &SmtpConfig, sleeper: Sleeper) -> anyhow::Result<Self> {
        // The config refuses these already; checked again where the connection settings are
        // made, so no other way of making an SmtpConfig can send credentials or mail in
        // plaintext.
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
        Ok(Self {
            config: config.clone(),
            tls,
            hello: ClientId::default(),
            credentials: config.credentials.as_ref().map(|(user, password)| {
                Credentials::new(user.clone(), password.expose_secret().to_owned())
            }),
            policy: RetryPolicy {
                flaky_attempts: config.attempts,
                throttled_attempts: config.attempts,
                ..RetryPolicy::default()
            },
            sleeper,
            jitter: Mutex::new(Jitter::from_entropy()),
        })
    }

    /// `[mail.smtp] deadline_secs`: the whole sending phase.
    pub fn deadline(&self) -> Duration {
        self.config.deadline
    }

    /// Connects, with TLS and login as configured, and says NOOP: no message is sent.
    /// `Ok` or the outcome that a send would have had.
    pub async fn probe(&self) -> Result<(), Outcome> {
        let session = async {
            let mut conn = self.open().await?;
            let answered = conn.test_connected().await;
            close(&mut conn).await;
            Ok::<bool, Failure>(answered)
        };
        match tokio::time::timeout(self.config.send_timeout, session).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err(Outcome::Pending(
                "the server did not answer NOOP".to_owned(),
            )),
            Ok(Err(failure)) => Err(match failure.verdict {
                Verdict::Stop => Outcome::Stop(failure.text),
                Verdict::Permanent => Outcome::Failed(failure.text),
                Verdict::Retry | Verdict::Unknown => Outcome::Pending(failure.text),
            }),
            Err(_) => Err(Outcome::Pending(format!(
                "no answer within send_timeout_secs = {} s",
                self.config.send_timeout.as_secs()
            ))),
        }
    }

    /// Sends `message` (a whole `.eml`) from `sender` to `recipient`, retrying with backoff
    /// what provably did not arrive.
    pub async fn send(&self, sender: &str, recipient: &str, message: &[u8]) -> Outcome {
        let envelope = match envelope(sender, recipient) {
            Ok(envelope) => envelope,
            Err(e) => return Outcome::Failed(mask_addresses(&e).into_owned()),
        };
        // lettre ends DATA with CRLF "." CRLF after the bytes it is given; without this the
        // server would receive the .eml plus an empty line instead of the .eml exactly.
        let message = message.strip_suffix(b"\r\n").unwrap_or(message);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let stage = AtomicU8::new(Stage::Setup as u8);
            let result = tokio::time::timeout(
                self.config.send_timeout,
                self.attempt(&envelope, message, &stage),
            )
            .await;
            let why = match result {
                Ok(Ok(())) => return Outcome::Sent,
                Ok(Err(failure)) => match failure.verdict {
                    Verdict::Permanent => return Outcome::Failed(failure.text),
                    Verdict::Stop => return Outcome::Stop(failure.text),
                    Verdict::Retry => failure.text,
                    // The server may have the message already: sending it again now could
                    // make several copies. The next run resends it once, same Message-ID.
                    Verdict::Unknown => return Outcome::Pending(failure.text),
                },
                Err(_) => {
                    let secs = self.config.send_timeout.as_secs();
                    match Stage::of(&stage) {
                        Stage::Setup | Stage::Envelope => format!(
                            "no answer within send_timeout_secs = {secs} s, before the message was sent"
                        ),
                        Stage::Content => {
                            return Outcome::Pending(format!(
                                "no answer within send_timeout_secs = {secs} s (the message may or may not have arrived)"
                            ));
                        }
                        // Accepted, then silent at QUIT: the message is the server's.
                        Stage::Accepted => return Outcome::Sent,
                    }
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

    /// One session for one message; `stage` says how far it got, for a caller whose timeout
    /// cut it off.
    async fn attempt(
        &self,
        envelope: &Envelope,
        message: &[u8],
        stage: &AtomicU8,
    ) -> Result<(), Failure> {
        let mut conn = self.open().await?;
        let offers_smtputf8 = conn.server_info().supports_feature(Extension::SmtpUtfEight);
        let offers_8bitmime = conn.server_info().supports_feature(Extension::EightBitMime);
        let mut parameters = Vec::new();
        if envelope.from().is_some_and(|a| needs_smtputf8(a.as_ref()))
            || envelope.to().iter().any(|a| needs_smtputf8(a.as_ref()))
        {
            if !offers_smtputf8 {
                close(&mut conn).await;
                return Err(Failure::permanent(
                    "not sent: the address has a local part that is not ASCII, which needs SMTPUTF8 (RFC 6531), and the relay does not offer SMTPUTF8; use an ASCII address or a relay that offers it",
                ));
            }
            parameters.push(MailParameter::SmtpUtfEight);
        }
        if !message.is_ascii() {
            if !offers_8bitmime {
                close(&mut conn).await;
                return Err(Failure::permanent(
                    "not sent: the message has 8-bit headers and the relay does not offer 8BITMIME",
                ));
            }
            parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }

        stage.store(Stage::Envelope as u8, Ordering::SeqCst);
        let mail = Mail::new(envelope.from().cloned(), parameters);
        self.step(&mut conn, conn_command(mail), Stage::Envelope)
            .await?;
        for to in envelope.to() {
            let rcpt = Rcpt::new(to.clone(), Vec::new());
            self.step(&mut conn, conn_command(rcpt), Stage::Envelope)
                .await?;
        }
        self.step(&mut conn, conn_command(Data), Stage::Envelope)
            .await?;

        stage.store(Stage::Content as u8, Ordering::SeqCst);
        self.step(&mut conn, Step::Content(message), Stage::Content)
            .await?;
        stage.store(Stage::Accepted as u8, Ordering::SeqCst);
        close(&mut conn).await;
        Ok(())
    }

    /// Sends one command (or the content) and reads its answer; a refusal ends the session.
    async fn step(
        &self,
        conn: &mut AsyncSmtpConnection,
        step: Step<'_>,
        stage: Stage,
    ) -> Result<(), Failure> {
        let result = match step {
            Step::Command(line) => conn.command(line).await,
            Step::Content(bytes) => conn.message(bytes).await,
        };
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let failure = self.judge(&e, stage);
                if e.status().is_some() {
                    close(conn).await;
                }
                Err(failure)
            }
        }
    }

    /// Connects, reads the greeting, says EHLO, upgrades with STARTTLS when configured (which
    /// the server must offer) and logs in: a session ready for a message. Nothing of a message
    /// has left this machine when this fails.
    #[expect(
        clippy::disallowed_methods,
        reason = "connect_tokio1 takes TLS as an argument; Mailer::new set `tls` from the validated config and refuses plaintext for anything but a loopback host without credentials"
    )]
    async fn open(&self) -> Result<AsyncSmtpConnection, Failure> {
        let wrapper = match &self.tls {
            Tls::Wrapper(parameters) => Some(parameters.clone()),
            _ => None,
        };
        let connect = AsyncSmtpConnection::connect_tokio1(
            (self.config.host.as_str(), self.config.port),
            Some(self.config.connect_timeout),
            &self.hello,
            wrapper,
            None,
        );
        // lettre's timeout bounds the TCP connect only: a server that accepts and then says
        // nothing would hold the session until send_timeout.
        let mut conn = match tokio::time::timeout(self.config.connect_timeout, connect).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(self.judge(&e, Stage::Setup)),
            Err(_) => {
                return Err(Failure::retry(format!(
                    "no greeting within connect_timeout_secs = {} s",
                    self.config.connect_timeout.as_secs()
                )));
            }
        };
        if let Tls::Required(parameters) = &self.tls {
            if !conn.can_starttls() {
                close(&mut conn).await;
                return Err(self.stop(
                    "the server does not offer STARTTLS, which mail.smtp.tls = \"starttls\" requires; nothing was sent, no credentials left this machine",
                    None,
                ));
            }
            conn.starttls(parameters.clone(), &self.hello)
                .await
                .map_err(|e| self.judge(&e, Stage::Setup))?;
        }
        if let Some(credentials) = &self.credentials {
            // Told apart by the EHLO answer, never by the words of a reply.
            if conn
                .server_info()
                .get_auth_mechanism(DEFAULT_MECHANISMS)
                .is_none()
            {
                let offered = offered_mechanisms(&conn);
                close(&mut conn).await;
                return Err(self.stop(
                    &format!(
                        "the server offers no login method this program supports (PLAIN or LOGIN) on this connection; it offers {offered}"
                    ),
                    None,
                ));
            }
            if let Err(e) = conn.auth(DEFAULT_MECHANISMS, credentials).await {
                let failure = match e.status().map(|c| c.to_string()) {
                    Some(code) if code.starts_with('5') => self.stop(login_hint(&code), Some(&e)),
                    _ => self.judge(&e, Stage::Setup),
                };
                close(&mut conn).await;
                return Err(failure);
            }
        }
        Ok(conn)
    }

    /// What an error means at this stage: 5xx is permanent for the message, except the
    /// authentication answers, which no message will get past; 4xx proves the message was not
    /// taken; TLS failures stop everything (no plaintext fallback); a connection that broke or
    /// went quiet is retried while the server cannot have had the content, and an unknown
    /// outcome after.
    fn judge(&self, error: &lettre::transport::smtp::Error, stage: Stage) -> Failure {
        let code = error.status().map(|c| c.to_string());
        if let Some(code @ ("530" | "534" | "535" | "538")) = code.as_deref() {
            return self.stop(login_hint(code), Some(error));
        }
        let text = mask_addresses(&error.to_string()).into_owned();
        let verdict = if error.is_permanent() {
            Verdict::Permanent
        } else if error.is_transient() {
            Verdict::Retry
        } else if error.is_tls() || is_certificate_error(error) {
            return self.stop(
                "the TLS connection failed (certificate not trusted or wrong host name?); set mail.smtp.ca_file for a private relay",
                Some(error),
            );
        } else if stage == Stage::Content {
            Verdict::Unknown
        } else {
            Verdict::Retry
        };
        Failure { verdict, text }
    }

    fn stop(&self, hint: &str, error: Option<&lettre::transport::smtp::Error>) -> Failure {
        let (host, port) = (&self.config.host, self.config.port);
        let text = match error {
            Some(e) => format!("{host}:{port}: {hint} ({})", mask_addresses(&e.to_string())),
            None => format!("{host}:{port}: {hint}"),
        };
        Failure {
            verdict: Verdict::Stop,
            text,
        }
    }
}

impl Failure {
    fn permanent(text: &str) -> Self {
        Self {
            verdict: Verdict::Permanent,
            text: text.to_owned(),
        }
    }

    fn retry(text: String) -> Self {
        Self {
            verdict: Verdict::Retry,
            text,
        }
    }
}

/// One thing to send in a session: a command line, or the message content.
enum Step<'a> {
    Command(String),
    Content(&'a [u8]),
}

fn conn_command(command: impl std::fmt::Display) -> Step<'static> {
    Step::Command(command.to_string())
}

/// Says QUIT and closes. The outcome is decided by then: a server that does not answer costs a
/// second at most.
async fn close(conn: &mut AsyncSmtpConnection) {
    let _ = tokio::time::timeout(Duration::from_secs(1), conn.abort()).await;
}

/// The hint for a refused login, by the reply code alone.
fn login_hint(code: &str) -> &'static str {
    match code {
        "535" => {
            "the server refused the username and password (535): check mail.smtp.username and the password (password_file or CSP_DIGEST_SMTP_PASSWORD)"
        }
        "534" => {
            "the server wants another way of logging in for this account (534): e.g. an app password, or SMTP AUTH enabled for the mailbox"
        }
        "538" => {
            "the server requires encryption for this login (538): use mail.smtp.tls = \"starttls\" or \"implicit\""
        }
        "530" => {
            "the server requires a login, or TLS first (530): set mail.smtp.username and a password, and tls = \"starttls\" or \"implicit\""
        }
        _ => "the server refused the login: check mail.smtp.username and the password",
    }
}

/// The login methods the server's EHLO answer lists, for the error that none is usable.
fn offered_mechanisms(conn: &AsyncSmtpConnection) -> String {
    let offered: Vec<String> = [Mechanism::Plain, Mechanism::Login, Mechanism::Xoauth2]
        .into_iter()
        .filter(|m| conn.server_info().supports_auth_mechanism(*m))
        .map(|m| m.to_string())
        .collect();
    if offered.is_empty() {
        "none it can use".to_owned()
    } else {
        offered.join(", ")
    }
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

/// The envelope of one message, each domain in its ASCII form (a delivery the ledger recorded
/// before addresses were kept that way still goes out right).
fn envelope(sender: &str, recipient: &str) -> Result<Envelope, String> {
    let address = |role: &str, raw: &str| -> Result<Address, String> {
        ascii_domain(raw)
            .and_then(|ascii| ascii.parse().map_err(|e| format!("{e}")))
            .map_err(|e| format!("{role} {raw:?}: {e}"))
    };
    let from = address("sender", sender)?;
    let to = address("recipient", recipient)?;
    Envelope::new(Some(from), vec![to]).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d9_a_refused_login_is_told_by_its_reply_code() {
        assert!(login_hint("535").contains("username and password"));
        assert!(login_hint("538").contains("encryption"));
        assert!(login_hint("534").contains("another way"));
        for code in ["530", "534", "535", "538", "554"] {
            assert!(!login_hint(code).contains("no login method"), "{code}");
        }
    }

    #[test]
    fn d15_the_envelope_carries_ascii_domains() {
        let envelope = envelope("digest@partner.example", "jöns@exämple.se").unwrap();
        assert_eq!(envelope.to()[0].to_string(), "jöns@xn--exmple-cua.se");
    }
}
