//! Makes API strings safe to show a person: invisible and direction-changing characters become
//! visible markers, line breaks become spaces, and long text is cut. HTML escaping is the
//! template's job; this is about what the reader sees, not about markup.

use std::fmt::Write as _;

/// Characters that change how the text around them is displayed without being visible
/// themselves: bidi overrides and isolates, zero-width characters, the byte-order mark.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{061C}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}')
}

/// One line of display text, at most `max_chars` characters plus an ellipsis.
pub fn line(raw: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(raw.len().min(max_chars * 2));
    let mut count = 0;
    let mut last_was_space = false;
    for c in raw.trim().chars() {
        if count >= max_chars {
            out.push('…');
            return out;
        }
        if c == '\r' || c == '\n' || c == '\t' {
            if !last_was_space {
                out.push(' ');
                count += 1;
                last_was_space = true;
            }
            continue;
        }
        last_was_space = false;
        if c.is_control() || is_invisible_format(c) {
            let _ = write!(out, "[U+{:04X}]", u32::from(c));
        } else {
            out.push(c);
        }
        count += 1;
    }
    out
}

/// Text for a mail header (a name in the subject): control and invisible characters dropped
/// rather than shown, whitespace runs made one space, at most `max_chars` characters plus an
/// ellipsis. Nothing in it can end the header line.
pub fn header_text(raw: &str, max_chars: usize) -> String {
    let kept: String = raw
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|&c| !c.is_control() && !is_invisible_format(c))
        .collect();
    let words: Vec<&str> = kept.split_whitespace().collect();
    let joined = words.join(" ");
    match joined.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", joined[..cut].trim_end()),
        None => joined,
    }
}

/// A tenant or subscription id for a narrow column: GUIDs shortened to their first block with
/// the whole id kept in the CSV.
pub fn short_id(id: &str) -> String {
    let looks_like_guid = id.len() == 36
        && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
        && id.chars().filter(|c| *c == '-').count() == 4;
    if looks_like_guid {
        format!("{}…", &id[..8])
    } else {
        line(id, 40)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_control_characters_become_visible() {
        assert_eq!(line("abc\u{202E}def", 100), "abc[U+202E]def");
        assert_eq!(line("a\u{200B}b\u{0}c", 100), "a[U+200B]b[U+0000]c");
        assert_eq!(
            line("line one\r\n.\r\nMAIL FROM", 100),
            "line one . MAIL FROM"
        );
        assert_eq!(line("emoji 🚨 stays", 100), "emoji 🚨 stays");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(line("abcdef", 3), "abc…");
        assert_eq!(line("abc", 3), "abc");
        let huge = "x".repeat(1_000_000);
        assert_eq!(line(&huge, 200).chars().count(), 201);
    }

    #[test]
    fn header_text_drops_line_breaks_controls_and_invisible_characters() {
        assert_eq!(
            header_text("Contoso\r\nBcc: victim@evil.example\u{0}\u{202E}", 100),
            "Contoso Bcc: victim@evil.example"
        );
        assert_eq!(header_text("  a \t b  ", 100), "a b");
        assert_eq!(header_text("abcdef", 3), "abc…");
    }

    #[test]
    fn guids_are_shortened_and_other_ids_kept() {
        assert_eq!(
            short_id("6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"),
            "6f1b2c3d…"
        );
        assert_eq!(short_id("@SUM(1+1)"), "@SUM(1+1)");
    }
}
