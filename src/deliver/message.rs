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
            Attachment::new("summary.csv".to_owned())
                .body(reports.summary_csv.clone(), csv.clone()),
        );
    }
    if reports.attachments.older_csv.is_some() {
        body = body.singlepart(
            Attachment::new("older.csv".to_owned()).body(reports.older_csv.clone(), csv),
        );
    }

    let message = Message::builder()
        .from(envelope.from.clone())
        .to(to.clone())
        .subject(header_safe(&reports.view.subject))
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
/// `@ . _ + -` replaced, so it can neither leave the mail folder nor hide as a dot file. When
/// that changed the address, `~` and a hash of the whole lower-cased address follow, so two
/// recipients never share a file (`a=b@…` and `a?b@…`, `jöns@…` and `jäns@…`); `~` is never
/// in an address kept as it is, so those keep the names they always had.
pub fn file_stem(address: &str) -> String {
    let lower = address.to_lowercase();
    let mut stem: String = lower
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
        stem.insert(0, '_');
    }
    if stem != lower {
        stem = format!("{stem}~{:012x}", fnv1a64(lower.as_bytes()) >> 16);
    }
    stem
}

/// Header text from data (a customer's name in the subject, the configured prefix): what a
/// mail reader would turn into something else is taken out before lettre encodes it. RFC 2047
/// encoded words (`=?utf-8?q?…?=`, which readers decode, e.g. into a bidi override and a line
/// break), bidi controls, line breaks and other control characters; whitespace runs become one
/// space.
pub fn header_safe(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("=?") {
        kept.push_str(&rest[..start]);
        let word = &rest[start + 2..];
        // The whole encoded word when it is one; otherwise only its opening "=?".
        rest = match encoded_word_len(word) {
            Some(len) => &word[len..],
            None => word,
        };
        kept.push(' ');
    }
    kept.push_str(rest);
    let cleaned: String = kept
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|&c| !c.is_control() && !super::address::is_bidi_control(c))
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// After "=?": the length of `charset?encoding?text?=`, if that is what follows.
fn encoded_word_len(after: &str) -> Option<usize> {
    let (charset, rest) = after.split_once('?')?;
    let (encoding, rest) = rest.split_once('?')?;
    let end = rest.find("?=")?;
    let simple = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
    (simple(charset) && simple(encoding) && !rest[..end].contains(char::is_whitespace))
        .then(|| charset.len() + encoding.len() + end + 4)
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
        for (address, sanitised) in [
            ("../../etc/passwd@x.example", "_.._.._etc_passwd@x.example~"),
            (".hidden@x.example", "_.hidden@x.example~"),
            ("a/b\\c@x.example", "a_b_c@x.example~"),
        ] {
            let stem = file_stem(address);
            assert!(stem.starts_with(sanitised), "{stem}");
            assert_eq!(stem.len(), sanitised.len() + 12, "{stem}");
            assert!(!stem.contains('/') && !stem.contains('\\'), "{stem}");
        }
    }

    #[test]
    fn e9_file_stems_are_injective_and_unchanged_addresses_keep_their_names() {
        let addresses = [
            "a=b@partner.example",
            "a?b@partner.example",
            "a_b@partner.example",
            "jöns@partner.example",
            "jäns@partner.example",
            "j_ns@partner.example",
            ".x@partner.example",
            "_.x@partner.example",
        ];
        let stems: std::collections::HashSet<String> =
            addresses.iter().map(|a| file_stem(a)).collect();
        assert_eq!(stems.len(), addresses.len(), "{stems:?}");
        assert_eq!(file_stem("a_b@partner.example"), "a_b@partner.example");
        assert_eq!(file_stem("ops+x@Partner.example"), "ops+x@partner.example");
        assert_eq!(
            file_stem("A=B@partner.example"),
            file_stem("a=b@partner.example")
        );
    }

    #[test]
    fn e10_header_text_loses_encoded_words_bidi_controls_and_line_breaks() {
        assert_eq!(
            header_safe(
                "in =?utf-8?q?=E2=80=AE=0D=0ABcc:_x@evil.example?= Contoso\u{202E}\u{200F}"
            ),
            "in Contoso"
        );
        assert_eq!(header_safe("a =?b\r\nc\u{2066}d\u{061C}"), "a b cd");
        assert_eq!(
            header_safe("Larm 2026-11-29: 3 olösta (1 hög)"),
            "Larm 2026-11-29: 3 olösta (1 hög)"
        );
        assert_eq!(header_safe("1+1=2? yes"), "1+1=2? yes");
    }
}
