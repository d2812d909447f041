//! Compact JSON text for the CSV's list and map cells, byte for byte what `serde_json` writes
//! (`["a","b"]`, `{"k":"v"}`), without its byte-at-a-time escaping: text is scanned 16 bytes
//! at a time, and only a block holding a quote, a backslash or a control character is looked
//! at byte by byte. Free text (descriptions of resources, additional details) rarely has any.

/// Appends `items` as a JSON array of strings.
pub fn push_array<'a>(out: &mut Vec<u8>, items: impl IntoIterator<Item = &'a str>) {
    out.push(b'[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(out, item);
    }
    out.push(b']');
}

/// Appends `entries` as a JSON object, in the order given.
pub fn push_object<'a>(out: &mut Vec<u8>, entries: impl IntoIterator<Item = (&'a str, &'a str)>) {
    out.push(b'{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(out, key);
        out.push(b':');
        push_str(out, value);
    }
    out.push(b'}');
}

/// Appends `text` as a JSON string.
pub fn push_str(out: &mut Vec<u8>, text: &str) {
    const BLOCK: usize = 16;
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Bytes before `done` are in `out`; blocks are scanned from `scanned`.
    let mut done = 0;
    let mut scanned = 0;
    while scanned < bytes.len() {
        let end = (scanned + BLOCK).min(bytes.len());
        let block = &bytes[scanned..end];
        // No early exit: the compiler checks the whole block at once.
        if block.iter().fold(false, |any, &b| any | needs_escape(b)) {
            for (i, &b) in block.iter().enumerate() {
                if needs_escape(b) {
                    let at = scanned + i;
                    out.extend_from_slice(&bytes[done..at]);
                    push_escape(out, b);
                    done = at + 1;
                }
            }
        }
        scanned = end;
    }
    out.extend_from_slice(&bytes[done..]);
    out.push(b'"');
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// The escape `serde_json` writes for `b`: the short ones where JSON has them, else
/// `\u00xx` in lower-case hex.
fn push_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(b >> 4)],
            HEX[usize::from(b & 0xf)],
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours_str(text: &str) -> String {
        let mut out = Vec::new();
        push_str(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_character_that_needs_an_escape_is_written_as_serde_json_writes_it() {
        for b in 0u8..=0x7f {
            let text = format!("before{}after and a block's worth more", char::from(b));
            assert_eq!(
                ours_str(&text),
                serde_json::to_string(&text).unwrap(),
                "byte {b:#04x}"
            );
        }
    }

    #[test]
    fn escapes_at_block_edges_and_in_runs_are_all_written() {
        for len in 0..40 {
            for at in 0..len {
                let mut text: Vec<char> = "abcdefghijklmnopqrstuvwxyz0123456789ABCD"
                    .chars()
                    .take(len)
                    .collect();
                text[at] = '"';
                if at + 1 < len {
                    text[at + 1] = '\n';
                }
                let text: String = text.into_iter().collect();
                assert_eq!(ours_str(&text), serde_json::to_string(&text).unwrap());
            }
        }
    }

    #[test]
    fn arrays_and_objects_are_compact_json() {
        let mut out = Vec::new();
        push_array(&mut out, ["/subscriptions/a\"b", "", "ü"]);
        out.push(b' ');
        push_array(&mut out, []);
        out.push(b' ');
        push_object(&mut out, [("", "\u{1}"), ("key", "va\\lue")]);
        out.push(b' ');
        push_object(&mut out, []);
        let expected = format!(
            "{} {} {} {}",
            serde_json::to_string(&["/subscriptions/a\"b", "", "ü"]).unwrap(),
            serde_json::to_string::<[&str; 0]>(&[]).unwrap(),
            serde_json::to_string(&serde_json::json!({"key": "va\\lue", "": "\u{1}"})).unwrap(),
            serde_json::to_string(&serde_json::json!({})).unwrap(),
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_written_as_serde_json_writes_it(text in "\\PC*|[\\x00-\\x7f]*") {
            proptest::prop_assert_eq!(ours_str(&text), serde_json::to_string(&text).unwrap());
        }
    }
}
