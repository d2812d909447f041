//! Addresses on their way out: the ASCII (IDNA) form of a domain, whether an address needs
//! SMTPUTF8, the display names a header may carry, and the masks that keep addresses out of
//! logs and errors, relays' reply texts included.

use std::borrow::Cow;

use lettre::Address;
use lettre::message::Mailbox;

/// `jöns@exämple.se` → `jöns@xn--exmple-cua.se`: the domain in its ASCII form (IDNA, UTS 46),
/// so that only a non-ASCII local part still needs SMTPUTF8. An ASCII address comes back as it
/// was, its case kept (a local part may be case-sensitive, and file names and Message-IDs of
/// today's recipients must not change).
pub fn ascii_domain(address: &str) -> Result<String, String> {
    match address.rsplit_once('@') {
        Some((local, domain)) if !domain.is_ascii() => {
            let ascii = idna::domain_to_ascii(domain)
                .map_err(|_| format!("the domain {domain:?} has no ASCII (IDNA) form"))?;
            Ok(format!("{local}@{ascii}"))
        }
        _ => Ok(address.to_owned()),
    }
}

/// A configured mailbox with its domain in ASCII ([`ascii_domain`]), and its display name
/// checked ([`check_display_name`]): what `[mail]` keeps, so the `To:` header, the envelope,
/// the ledger and the `.eml` name all carry the same address.
pub fn outgoing_mailbox(mailbox: Mailbox) -> Result<Mailbox, String> {
    if let Some(name) = &mailbox.name {
        check_display_name(name)?;
    }
    let email = mailbox.email.to_string();
    let ascii = ascii_domain(&email)?;
    if ascii == email {
        return Ok(mailbox);
    }
    let address: Address = ascii
        .parse()
        .map_err(|e| format!("{ascii:?} is not an email address ({e})"))?;
    Ok(Mailbox::new(mailbox.name, address))
}

/// Whether sending to or from `address` needs the server's SMTPUTF8 (RFC 6531): a local part
/// that is not ASCII (the domain goes out in its ASCII form).
pub fn needs_smtputf8(address: &str) -> bool {
    !address.is_ascii()
}

/// A display name bound for a header: mail readers decode an RFC 2047 encoded word (`=?…?=`)
/// even where the standard says not to, and bidi controls turn what the reader sees around, so
/// a configured name holding either is refused (it is operator input: better fixed than
/// quietly changed).
pub fn check_display_name(name: &str) -> Result<(), String> {
    if name.contains("=?") {
        return Err(format!(
            "the name {name:?} holds \"=?\", the start of an encoded word that mail readers would decode"
        ));
    }
    if let Some(c) = name.chars().find(|&c| is_bidi_control(c)) {
        return Err(format!(
            "the name {name:?} holds the bidi control U+{:04X}",
            u32::from(c)
        ));
    }
    Ok(())
}

/// Characters that reorder the text around them: embeddings, overrides, isolates and marks.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// `s***@partner.example`: enough to tell recipients apart in a log, not a mailing list.
pub fn mask(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// `text` with every address in it masked ([`mask`]): for a relay's reply or an error on its
/// way to the log, the summary or the final error (`451 4.2.0 <duty@partner.example>: busy` →
/// `451 4.2.0 <d***@partner.example>: busy`).
pub fn mask_addresses(text: &str) -> Cow<'_, str> {
    if !text.contains('@') {
        return Cow::Borrowed(text);
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0; // byte offset in `text` up to which `out` holds the text
    let mut i = 0;
    while i < chars.len() {
        if chars[i].1 != '@' {
            i += 1;
            continue;
        }
        let mut start = i;
        while start > 0 && is_local_char(chars[start - 1].1) {
            start -= 1;
        }
        while start < i && chars[start].1 == '.' {
            start += 1;
        }
        let mut end = i + 1;
        while end < chars.len() && is_domain_char(chars[end].1) {
            end += 1;
        }
        while end > i + 1 && matches!(chars[end - 1].1, '.' | '-') {
            end -= 1;
        }
        let begin = chars[start].0;
        if start < i && end > i + 1 && begin >= copied {
            let stop = chars.get(end).map_or(text.len(), |c| c.0);
            out.push_str(&text[copied..begin]);
            out.push_str(&mask(&text[begin..stop]));
            copied = stop;
        }
        i = end.max(i + 1);
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// RFC 5322 `atext` and dots, and any non-ASCII letter (RFC 6531).
fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
}

fn is_domain_char(c: char) -> bool {
    c.is_alphanumeric() || c == '.' || c == '-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_in_logs() {
        assert_eq!(mask("secops@partner.example"), "s***@partner.example");
        assert_eq!(mask("nonsense"), "***");
    }

    #[test]
    fn d16_addresses_inside_replies_and_errors_are_masked() {
        assert_eq!(
            mask_addresses("transient error (451): 4.2.0 <duty@partner.example>: mailbox busy."),
            "transient error (451): 4.2.0 <d***@partner.example>: mailbox busy."
        );
        assert_eq!(
            mask_addresses("550 jöns.berg@xn--exmple-cua.se, and a@b.example."),
            "550 j***@xn--exmple-cua.se, and a***@b.example."
        );
        assert_eq!(
            mask_addresses("RCPT TO:ops+x@p.example"),
            "RCPT TO:o***@p.example"
        );
        for kept in [
            "no address here",
            "a lone @ sign",
            "user@ and @domain",
            "x@.",
        ] {
            assert_eq!(mask_addresses(kept), kept);
        }
    }

    #[test]
    fn d15_domains_go_out_in_their_ascii_form_and_ascii_addresses_stay_as_they_are() {
        assert_eq!(
            ascii_domain("jöns@exämple.se").unwrap(),
            "jöns@xn--exmple-cua.se"
        );
        assert_eq!(
            ascii_domain("SecOps@Partner.example").unwrap(),
            "SecOps@Partner.example"
        );
        assert!(needs_smtputf8("jöns@xn--exmple-cua.se"));
        assert!(!needs_smtputf8("ops@xn--exmple-cua.se"));
    }

    #[test]
    fn e10_display_names_with_encoded_words_or_bidi_controls_are_refused() {
        assert!(check_display_name("Security team").is_ok());
        assert!(check_display_name("Säkerhet 🚨").is_ok());
        assert!(check_display_name("=?utf-8?q?=E2=80=AE?=").is_err());
        assert!(check_display_name("abc\u{202E}def").is_err());
        assert!(check_display_name("abc\u{2067}").is_err());
    }
}
