//! The email each recipient gets: `multipart/mixed` holding `multipart/alternative` (text, HTML)
//! and the two CSVs. Message-ID, Date and MIME boundaries are derived from the digest, so the
//! same digest yields byte-identical messages, and a resend carries the same Message-ID.

use std::time::SystemTime;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

use crate::render::Reports;

/// One message ready to write and send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub recipient: Mailbox,
    /// `<recipient>.eml`, safe as a file name.
    pub file_name: String,
    pub message_id: String,
    /// The whole message, CRLF line endings.
    pub bytes: Vec<u8>,
}

/// What every message of one digest shares.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    pub from: &'a Mailbox,
    pub digest_date: &'a str,
    pub as_of: DateTime<Utc>,
    /// 0 for a digest date's first preparation; a forced one gets a new Message-ID, since
    /// mailboxes may drop a message whose Message-ID they have already seen.
    pub generation: u32,
}

/// Builds one message per recipient, so one rejected address cannot block the others.
pub fn build_all(
    envelope: Envelope<'_>,
    recipients: &[Mailbox],
    reports: &Reports,
) -> anyhow::Result<Vec<Outgoing>> {
    recipients
        .iter()
        .map(|to| build(envelope, to, reports))
        .collect()
}

fn build(envelope: Envelope<'_>, to: &Mailbox, reports: &Reports) -> anyhow::Result<Outgoing> {
    let recipient = to.email.to_string().to_lowercase();
    let seed = format!(
        "{:016x}",
        fnv1a64(format!("{}\n{recipient}", envelope.digest_date).as_bytes())
    );
    let message_id = message_id(
        envelope.digest_date,
        envelope.generation,
        &recipient,
        envelope.from.email.domain(),
    );
    let boundary = |part: &str| format!("=_csp-alert-digest_{part}_{seed}");

    let csv = ContentType::parse("text/csv; charset=utf-8").context("text/csv content type")?;
    let mut body = MultiPart::mixed().boundary(boundary("mixed")).multipart(
        MultiPart::alternative()
            .boundary(boundary("alt"))
            .singlepart(SinglePart::plain(reports.text.clone()))
            .singlepart(SinglePart::html(reports.html.clone())),
    );
    if reports.attachments.alerts_csv.is_some() {
        body = body.singlepart(
            Attachment::new("alerts.csv".to_owned()).body(reports.alerts_csv.clone(), csv.clone()),
        );
    }
    if reports.attachments.summary_csv.is_some() {
        body = body.singlepart(
            Attachment::new("summary.csv".to_owned()).body(reports.summary_csv.clone(), csv),
        );
    }

    let message = Message::builder()
        .from(envelope.from.clone())
        .to(to.clone())
        .subject(reports.view.subject.clone())
        .date(SystemTime::from(envelope.as_of))
        .message_id(Some(message_id.clone()))
        .header(AutoSubmitted)
        .multipart(body)
        .with_context(|| format!("building the message to {}", to.email))?;
    Ok(Outgoing {
        file_name: format!("{}.eml", file_stem(&recipient)),
        recipient: to.clone(),
        message_id,
        bytes: message.formatted(),
    })
}

/// `<digest.2026-11-29.3f2a…@partner.example>`: stable for a digest date and recipient, and
/// free of the address itself (Message-IDs travel further than the message). A forced
/// preparation (generation 1, 2…) gets `<digest.2026-11-29.g1.3f2a…@…>`.
pub fn message_id(
    digest_date: &str,
    generation: u32,
    recipient: &str,
    sender_domain: &str,
) -> String {
    let hash = fnv1a64(recipient.to_lowercase().as_bytes());
    if generation == 0 {
        format!("<digest.{digest_date}.{hash:016x}@{sender_domain}>")
    } else {
        format!("<digest.{digest_date}.g{generation}.{hash:016x}@{sender_domain}>")
    }
}

/// A recipient address as a file name: lower case, and anything but letters, digits and
/// `@ . _ + -` replaced, so it can neither leave the mail folder nor hide as a dot file.
pub fn file_stem(address: &str) -> String {
    let stem: String = address
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '_' | '+' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.starts_with('.') {
        format!("_{stem}")
    } else {
        stem
    }
}

/// FNV-1a: a small, stable hash (std's hashers may change between Rust releases).
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `Auto-Submitted: auto-generated` (RFC 3834): tells mail systems not to send vacation replies.
#[derive(Debug, Clone, Copy)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_stable_per_date_and_recipient() {
        let a = message_id("2026-11-29", 0, "SecOps@Partner.example", "partner.example");
        assert_eq!(
            a,
            message_id("2026-11-29", 0, "secops@partner.example", "partner.example")
        );
        assert_ne!(
            a,
            message_id("2026-11-30", 0, "secops@partner.example", "partner.example")
        );
        assert_ne!(
            a,
            message_id("2026-11-29", 0, "other@partner.example", "partner.example")
        );
        assert!(a.starts_with("<digest.2026-11-29.") && a.ends_with("@partner.example>"));
        assert!(!a.contains("secops"));
        let forced = message_id("2026-11-29", 1, "secops@partner.example", "partner.example");
        assert!(forced.starts_with("<digest.2026-11-29.g1.") && forced != a);
    }

    #[test]
    fn file_stems_stay_inside_the_mail_folder() {
        assert_eq!(
            file_stem("SecOps@Partner.example"),
            "secops@partner.example"
        );
        assert_eq!(
            file_stem("../../etc/passwd@x.example"),
            "_.._.._etc_passwd@x.example"
        );
        assert_eq!(file_stem(".hidden@x.example"), "_.hidden@x.example");
        assert_eq!(file_stem("a/b\\c@x.example"), "a_b_c@x.example");
    }
}
