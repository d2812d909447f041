//! The secrets this process holds (client secret, SMTP password, access and federated tokens),
//! registered as they are loaded or received, and the scrubbing of text on its way out: log
//! lines, the final error, `check`'s report and the ledger. The code never formats a secret;
//! this catches a peer that echoes one back (a proxy's error page that reflects the request, a
//! relay's refusal that quotes the AUTH line), whose words the job repeats in its errors.

use std::borrow::Cow;
use std::sync::RwLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Shorter values are not scrubbed: they would blank out ordinary words in every log line.
const MIN_SECRET_CHARS: usize = 8;

/// Every form of every registered secret, longest first.
static NEEDLES: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Scrubs `secret`, in each form it can travel in, from all text leaving the process from now on.
pub fn register(secret: &str) {
    if secret.chars().count() < MIN_SECRET_CHARS {
        return;
    }
    let mut needles = NEEDLES
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for form in forms(secret) {
        if !needles.contains(&form) {
            needles.push(form);
        }
    }
    needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
}

/// `text` with every registered secret replaced by [`REDACTED`].
pub fn scrub(text: &str) -> Cow<'_, str> {
    let needles = NEEDLES
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut text = Cow::Borrowed(text);
    for needle in needles.iter() {
        if text.contains(needle.as_str()) {
            text = Cow::Owned(text.replace(needle.as_str(), REDACTED));
        }
    }
    text
}

/// The forms a secret travels in: as is; escaped in a JSON string or by `{:?}`;
/// percent-encoded as in a form body or a URL (upper- or lower-case hex, `+` or `%20` for a
/// space); and in base64 (standard and URL-safe), at each of the three offsets it can have
/// inside a longer encoded text such as `\0user\0password` (AUTH PLAIN) or `user:password`.
pub fn forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned()];
    if let Ok(json) = serde_json::to_string(secret) {
        forms.push(json[1..json.len() - 1].to_owned());
    }
    let debug = format!("{secret:?}");
    forms.push(debug[1..debug.len() - 1].to_owned());
    let encoded = percent_encode(secret);
    forms.push(encoded.replace("%20", "+"));
    forms.push(lower_hex(&encoded));
    forms.push(encoded);
    for engine in [&STANDARD, &URL_SAFE] {
        for offset in 0..3 {
            let mut bytes = vec![0_u8; offset];
            bytes.extend_from_slice(secret.as_bytes());
            let text = engine.encode(&bytes);
            // Characters that also hold bits of what comes before or after are not the
            // secret's own: skip the first group when the secret starts inside it, and the last.
            let start = if offset == 0 { 0 } else { 4 };
            let end = text.len().saturating_sub(4);
            if end > start + 8 {
                forms.push(text[start..end].to_owned());
            }
        }
    }
    forms.retain(|f| !f.is_empty());
    forms.dedup();
    forms
}

/// Percent-encodes every byte but the unreserved ones (RFC 3986), upper-case hex.
fn percent_encode(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `%2B` → `%2b`, leaving the rest alone.
fn lower_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            out.extend(chars.by_ref().take(2).map(|h| h.to_ascii_lowercase()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_registered_secret_is_scrubbed() {
        let secret = "Redact-Me &=+%/ é 7f3a";
        register(secret);
        let plain = STANDARD.encode(format!("\0digest\0{secret}"));
        let basic = URL_SAFE.encode(format!("user:{secret}"));
        for leaked in [
            format!("answered 400: {secret}"),
            "client_secret=Redact-Me+%26%3D%2B%25%2F+%C3%A9+7f3a&scope=x".to_owned(),
            "u=Redact-Me%20%26%3d%2b%25%2f%20%c3%a9%207f3a".to_owned(),
            format!("535 5.7.8 refused {plain}"),
            format!("Authorization: Basic {basic}"),
            format!("{{\"message\":{}}}", serde_json::to_string(secret).unwrap()),
        ] {
            let scrubbed = scrub(&leaked);
            assert!(scrubbed.contains(REDACTED), "{leaked} → {scrubbed}");
            assert!(!scrubbed.contains("Redact-Me"), "{scrubbed}");
        }
        assert_eq!(scrub("nothing secret here"), "nothing secret here");
    }

    #[test]
    fn short_values_are_not_secrets_worth_scrubbing() {
        register("abc");
        assert_eq!(scrub("abc abc"), "abc abc");
    }
}
