//! The secrets canary (row H1, promise P8 "no secret in any output"): the values planted as
//! secrets, and a leak detector that looks for them in every form a secret could come back out
//! in.

use std::path::Path;
use std::process::Output;

use base64::Engine as _;
use serde_json::json;

/// Planted as the Graph client secret (`CSP_DIGEST_CLIENT_SECRET`); characters that need
/// form-encoding on purpose (row A7).
pub const CLIENT_SECRET: &str = "Canary-Client-Secret &=+%/é-3b1f";
/// Planted as the SMTP password (`CSP_DIGEST_SMTP_PASSWORD`).
pub const SMTP_PASSWORD: &str = "Canary-Smtp-Pa55 &=+%/é-9c2d";
/// Issued by the fake token endpoints as the access token.
pub const ACCESS_TOKEN: &str = "eyJ0eXAiOiJKV1QifQ.Canary-Access-Token-7e4a.c2lnbmF0dXJl";

const CANARIES: [&str; 3] = [CLIENT_SECRET, SMTP_PASSWORD, ACCESS_TOKEN];

/// Leaks of the canary in `haystack`, named by form; empty when there are none.
///
/// Decodes instead of encoding, so the forms it knows are not the job's own list
/// (`csp_alert_digest::redact`): the canary is looked for in the text itself, in the text
/// percent-decoded (URL and form encoding), JSON-unescaped, and in every run of base64
/// characters decoded at each of the four alignments. Its first 16 characters count too, so a
/// secret cut short by an excerpt is still a leak.
pub fn leaks(haystack: &[u8], canary: &str) -> Vec<&'static str> {
    let text = String::from_utf8_lossy(haystack);
    let start: String = canary.chars().take(16).collect();
    let seen = |decoded: &str| decoded.contains(canary) || decoded.contains(&start);
    let mut found = Vec::new();
    if seen(&text) {
        found.push("as is");
    }
    if seen(&percent_decode(&text, false)) {
        found.push("URL-encoded");
    }
    if seen(&percent_decode(&text, true)) {
        found.push("form-encoded");
    }
    if seen(&json_unescape(&text)) {
        found.push("JSON-escaped");
    }
    if base64_runs(&text).any(|decoded| seen(&decoded)) {
        found.push("base64");
    }
    found
}

fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', _) if plus_is_space => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `\"`, `\\`, `\/` and `\uXXXX` undone, wherever they stand.
fn json_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                out.extend(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32));
            }
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Every run of 12 or more base64 characters (either alphabet), decoded from each of its
/// first four positions.
fn base64_runs(text: &str) -> impl Iterator<Item = String> + '_ {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    text.split(|c: char| !(c.is_ascii_alphanumeric() || "+/-_".contains(c)))
        .filter(|run| run.len() >= 12)
        .flat_map(move |run| {
            let run: String = run
                .chars()
                .map(|c| match c {
                    '-' => '+',
                    '_' => '/',
                    c => c,
                })
                .collect();
            (0..4)
                .filter_map(|skip| {
                    let usable = (run.len() - skip) / 4 * 4;
                    engine.decode(&run[skip..skip + usable]).ok()
                })
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .collect::<Vec<_>>()
        })
}

/// stdout, stderr, and every file under `dir` (reports, `.eml` files, the ledger).
pub fn everything(output: &Output, dir: &Path) -> Vec<u8> {
    let mut all = output.stdout.clone();
    all.extend_from_slice(&output.stderr);
    for file in super::files_under(dir) {
        all.extend(std::fs::read(&file).unwrap());
    }
    all
}

/// Asserts that no canary leaked in `what`.
pub fn assert_no_canary(what: &[u8], scenario: &str) {
    for canary in CANARIES {
        let found = leaks(what, canary);
        assert!(
            found.is_empty(),
            "{scenario}: {canary:?} leaked ({found:?}) in:\n{}",
            String::from_utf8_lossy(what)
        );
    }
}

#[test]
fn the_leak_detector_sees_every_form() {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let secret = CLIENT_SECRET;
    for text in [
        format!("x {secret} y"),
        "client_secret=Canary-Client-Secret+%26%3D%2B%25%2F%C3%A9-3b1f".to_owned(),
        "s=Canary-Client-Secret%20%26%3d%2b%25%2f%c3%a9-3b1f".to_owned(),
        format!("AUTH PLAIN {}", b64(&format!("\0digest\0{secret}"))),
        format!("Basic {}", b64(&format!("ab:{secret}"))),
        serde_json::to_string(&json!({ "m": secret })).unwrap(),
        format!("excerpt: …{}", &secret[..18]),
    ] {
        assert!(!leaks(text.as_bytes(), secret).is_empty(), "missed: {text}");
    }
    assert!(leaks(b"Canary [redacted] nothing", secret).is_empty());
}
