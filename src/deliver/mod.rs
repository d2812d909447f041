//! Delivery: every report and every message is written to disk first; the ledger records the
//! deliveries as pending; then the transport delivers. With `transport = "file"` the `.eml`
//! files are the delivery; with SMTP each pending delivery is sent from its `.eml`, unchanged.

pub mod address;
pub mod direct;
pub mod files;
pub mod message;
pub mod smtp;

pub use files::RunFolder;
pub use message::Outgoing;
pub use smtp::{SmtpConfig, TlsMode};

use std::path::PathBuf;

use lettre::message::Mailbox;
use tracing::{info, warn};

use crate::ledger::Ledger;
use crate::render::Reports;
use smtp::{Mailer, Outcome};

/// `[mail]`.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub transport: Transport,
    pub from: Mailbox,
    /// Recipients, unique by address (compared case-insensitively).
    pub to: Vec<Mailbox>,
    /// Subject prefix; the date and the counts follow it. Default: "Azure security alerts" in
    /// the digest's language.
    pub subject: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Transport {
    /// Messages are written as `.eml` files only; nothing is sent.
    File,
    /// Messages are sent to an SMTP relay.
    Smtp(Box<SmtpConfig>),
}

/// What a round of sending did.
#[derive(Debug, Default)]
pub struct Sent {
    pub sent: usize,
    /// (digest date, recipient, error) refused for good.
    pub failed: Vec<(String, String, String)>,
    /// (digest date, recipient, error) still pending for the next run.
    pub pending: Vec<(String, String, String)>,
    /// Why sending stopped early (TLS, STARTTLS, AUTH), if it did.
    pub stopped: Option<String>,
}

/// Sends every pending delivery in the ledger, oldest digest date first, each from its `.eml`,
/// until the mailer's deadline (`[mail.smtp] deadline_secs`): a message the deadline cuts off is
/// left pending like one whose outcome is unknown, and those not reached stay pending untried.
pub async fn send_pending(ledger: &Ledger, mailer: &Mailer) -> anyhow::Result<Sent> {
    let mut report = Sent::default();
    let deadline_secs = mailer.deadline().as_secs();
    let deadline = tokio::time::Instant::now() + mailer.deadline();
    let pending = ledger.pending()?;
    for (i, delivery) in pending.iter().enumerate() {
        let (date, to) = (&delivery.digest_date, &delivery.recipient);
        if tokio::time::Instant::now() >= deadline {
            let left = &pending[i..];
            warn!(
                deadline_secs,
                left = left.len(),
                "sending stopped at its deadline (mail.smtp.deadline_secs = {deadline_secs} s); the rest is left pending for the next run"
            );
            for d in left {
                report.pending.push((
                    d.digest_date.clone(),
                    d.recipient.clone(),
                    format!("not tried: the sending deadline (mail.smtp.deadline_secs = {deadline_secs} s) passed first"),
                ));
            }
            break;
        }
        // Only the message the ledger recorded (its Message-ID) is sent from the file.
        let bytes = match files::read_message(&delivery.eml_path, &delivery.message_id) {
            Ok(bytes) => bytes,
            Err(e) => {
                // Nothing is lost yet: the delivery stays pending until the file is back, or
                // `--force` prepares the date again.
                let error = format!(
                    "the message to send: {e:#}; restore it, or run with --force to prepare the digest again"
                );
                ledger.note_attempt(date, to, &error)?;
                report.stopped = Some(error);
                break;
            }
        };
        let send = mailer.send(&delivery.sender, &delivery.address, &bytes);
        let outcome = tokio::time::timeout_at(deadline, send)
            .await
            .unwrap_or_else(|_| {
                Outcome::Pending(format!(
                    "the sending deadline (mail.smtp.deadline_secs = {deadline_secs} s) passed while this message was being sent; the next run sends it again, with the same Message-ID"
                ))
            });
        match outcome {
            Outcome::Sent => {
                ledger.mark_sent(date, to)?;
                info!(digest_date = %date, recipient = %smtp::mask(to), "sent");
                report.sent += 1;
            }
            Outcome::Failed(error) => {
                ledger.mark_failed(date, to, &error)?;
                warn!(digest_date = %date, recipient = %smtp::mask(to), %error, "refused for good");
                report.failed.push((date.clone(), to.clone(), error));
            }
            Outcome::Pending(error) => {
                ledger.note_attempt(date, to, &error)?;
                warn!(digest_date = %date, recipient = %smtp::mask(to), %error, "left pending for the next run");
                report.pending.push((date.clone(), to.clone(), error));
            }
            Outcome::Stop(error) => {
                ledger.note_attempt(date, to, &error)?;
                report.stopped = Some(error);
                break;
            }
        }
    }
    Ok(report)
}

/// The report files of a run, in the order they are written.
pub const REPORT_FILES: &[&str] = &[
    "digest.html",
    "digest.txt",
    "alerts.csv",
    "summary.csv",
    "older.csv",
];

/// Writes the HTML and text reports and the messages; returns every path written, the CSVs
/// (`csvs`, streamed to the folder before) in their place among the reports.
pub fn write_all(
    folder: &RunFolder,
    reports: &Reports,
    csvs: [PathBuf; 3],
    messages: &[Outgoing],
) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<(String, &[u8])> = vec![
        (REPORT_FILES[0].to_owned(), reports.html.as_bytes()),
        (REPORT_FILES[1].to_owned(), reports.text.as_bytes()),
    ];
    for message in messages {
        files.push((format!("mail/{}", message.file_name), &message.bytes));
    }
    let mut paths = folder.write_many(&files)?.into_iter();
    let mut written = Vec::with_capacity(REPORT_FILES.len() + messages.len());
    written.extend(paths.by_ref().take(2));
    written.extend(csvs);
    written.extend(paths);
    Ok(written)
}
