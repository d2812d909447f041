//! The plain-text part of the email and `digest.txt`: `templates/digest.txt`, the same facts as
//! the HTML, wrapped to 72 columns. Lines end in LF here; the mail encoder turns them into CRLF.

use anyhow::Context as _;
use askama::Template;

use super::View;

/// The widest line of the text part, in characters (a word longer than this, such as a URL,
/// stays whole on a line of its own).
pub const WIDTH: usize = 72;

view_template!(TextDigest, "digest.txt");

pub fn render(view: &View) -> anyhow::Result<String> {
    let text = TextDigest { view }
        .render()
        .context("rendering templates/digest.txt")?;
    let mut wrapped = wrap(&text, WIDTH);
    wrapped.push('\n');
    Ok(wrapped)
}

/// Wraps every line longer than `width` at spaces. Continuation lines keep the line's
/// indentation, plus two spaces after a list marker (`- `, `* `, `1. `).
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        // "-- " is the signature separator: its space is meant.
        let line = if line == "-- " { line } else { line.trim_end() };
        if line.chars().count() <= width {
            out.push_str(line);
            continue;
        }
        let indent_len = line.len() - line.trim_start_matches(' ').len();
        let body = &line[indent_len..];
        let marker = ["- ", "* ", "== "]
            .iter()
            .find(|m| body.starts_with(**m))
            .map(|m| m.len())
            .or_else(|| {
                let digits = body.bytes().take_while(u8::is_ascii_digit).count();
                (digits > 0 && body[digits..].starts_with(". ")).then_some(digits + 2)
            })
            .unwrap_or(0);
        let hang = " ".repeat(indent_len + marker);
        let mut current = line[..indent_len + marker].to_owned();
        let mut current_len = current.chars().count();
        let mut empty = true;
        for word in line[indent_len + marker..]
            .split(' ')
            .filter(|w| !w.is_empty())
        {
            let len = word.chars().count();
            if !empty && current_len + 1 + len > width {
                out.push_str(&current);
                out.push('\n');
                current.clone_from(&hang);
                current_len = hang.len();
                empty = true;
            }
            if !empty {
                current.push(' ');
                current_len += 1;
            }
            current.push_str(word);
            current_len += len;
            empty = false;
        }
        out.push_str(&current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_at_spaces_with_a_hanging_indent() {
        for (text, width, wrapped) in [
            (
                "  - one two three four five six",
                16,
                "  - one two\n    three four\n    five six",
            ),
            ("12. alpha beta gamma", 12, "12. alpha\n    beta\n    gamma"),
            ("short  \n\nlines", 10, "short\n\nlines"),
            ("-- \nsig", 10, "-- \nsig"),
        ] {
            assert_eq!(wrap(text, width), wrapped, "{text:?}");
        }
    }

    #[test]
    fn a_word_longer_than_the_width_stays_whole() {
        let url = "https://partner.microsoft.com/dashboard/commerce2/insights/security/alerts";
        assert_eq!(
            wrap(&format!("see {url} now"), 20),
            format!("see\n{url}\nnow")
        );
    }
}
