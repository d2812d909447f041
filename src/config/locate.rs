//! Where in the config text a problem is: the `section.key` and line of a parser error, in words
//! a user can act on, and the line of a key that validation refused (issue 18, I2). The text is
//! parsed again, with its spans, only when something is wrong.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::Problem;

/// The parser's (or serde's) error as a problem naming the key, the line and column, and what
/// the key wants; never the value's text, which may be a secret pasted into the wrong key.
pub(super) fn parse_problem(error: &toml::de::Error, text: &str) -> Problem {
    let message = error.message().trim_end();
    let Some(span) = error.span() else {
        return match missing_field(message) {
            Some(field) => Problem::new(field, None, "is required"),
            None => Problem::new("", None, message),
        };
    };
    let pos = span.start.min(text.len());
    let before = &text[..pos];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    let (doc, _) = DeTable::parse_recoverable(text);
    let found = find(doc.get_ref(), "", pos);
    let (key, message) = if message == "duplicate key" {
        (
            duplicate(doc.get_ref(), text, span),
            "is set more than once; keep one".to_owned(),
        )
    } else if let Some(field) = missing_field(message) {
        let table = found.as_ref().map_or("", |(path, _)| path.as_str());
        (join(table, field), "is required".to_owned())
    } else {
        match found {
            Some((key, value)) => {
                let message =
                    type_error(&key, message, value).unwrap_or_else(|| message.to_owned());
                (key, message)
            }
            None => (String::new(), message.to_owned()),
        }
    };
    Problem {
        key,
        line: Some(line),
        column: Some(column),
        message,
    }
}

/// The line of `key` (`mail.smtp.host`) in the text, else of the nearest table that holds it.
pub(super) fn line_of(text: &str, key: &str) -> Option<usize> {
    let (doc, _) = DeTable::parse_recoverable(text);
    let segments: Vec<&str> = key.split('.').collect();
    (1..=segments.len()).rev().find_map(|n| {
        let span = span_of(doc.get_ref(), &segments[..n])?;
        Some(text[..span.start.min(text.len())].matches('\n').count() + 1)
    })
}

fn span_of(table: &DeTable<'_>, path: &[&str]) -> Option<Range<usize>> {
    let (first, rest) = path.split_first()?;
    let (key, value) = table.iter().find(|(k, _)| k.get_ref() == first)?;
    if rest.is_empty() {
        // A `[section]`'s key is its name in the header.
        return Some(key.span());
    }
    match value.get_ref() {
        DeValue::Table(t) => span_of(t, rest),
        _ => None,
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The key path at byte `pos`, and the value there when `pos` is in a value.
fn find<'a>(
    table: &'a DeTable<'a>,
    prefix: &str,
    pos: usize,
) -> Option<(String, Option<&'a DeValue<'a>>)> {
    let within = |span: Range<usize>| span.contains(&pos) || (span.is_empty() && span.start == pos);
    for (key, value) in table {
        let path = join(prefix, key.get_ref());
        if within(key.span()) {
            return Some((path, None));
        }
        let inside = within(value.span());
        match value.get_ref() {
            DeValue::Table(t) => {
                // A `[section]`'s span is its header; its keys follow it, outside the span.
                if let Some(found) = find(t, &path, pos) {
                    return Some(found);
                }
                if inside {
                    return Some((path, Some(value.get_ref())));
                }
            }
            DeValue::Array(items) => {
                for item in items {
                    if let DeValue::Table(t) = item.get_ref()
                        && let Some(found) = find(t, &path, pos)
                    {
                        return Some(found);
                    }
                    if within(item.span()) {
                        return Some((path, Some(item.get_ref())));
                    }
                }
                if inside {
                    return Some((path, Some(value.get_ref())));
                }
            }
            other if inside => return Some((path, Some(other))),
            _ => {}
        }
    }
    None
}

/// The key a "duplicate key" error points at: a `[section]` header named again, or a key in
/// the section whose header comes last before it.
fn duplicate(doc: &DeTable<'_>, text: &str, span: Range<usize>) -> String {
    let start = text[..span.start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next().unwrap_or("").trim();
    if line.starts_with('[') {
        return line
            .trim_matches(|c| c == '[' || c == ']')
            .trim()
            .to_owned();
    }
    let name = text
        .get(span.clone())
        .unwrap_or("")
        .trim()
        .trim_matches(|c| c == '"' || c == '\'');
    let mut headers = Vec::new();
    headers_of(doc, "", &mut headers);
    let section = headers
        .into_iter()
        .filter(|(_, at)| *at < span.start)
        .max_by_key(|(_, at)| *at)
        .map(|(path, _)| path)
        .unwrap_or_default();
    join(&section, name)
}

fn headers_of(table: &DeTable<'_>, prefix: &str, out: &mut Vec<(String, usize)>) {
    for (key, value) in table {
        if let DeValue::Table(t) = value.get_ref() {
            let path = join(prefix, key.get_ref());
            out.push((path.clone(), value.span().start));
            headers_of(t, &path, out);
        }
    }
}

/// The field of serde's "missing field" message.
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

/// serde's "invalid type: string \"60\", expected u32" as "must be a whole number of days
/// from 1 to 366, not a string", without the value's text.
fn type_error(key: &str, message: &str, value: Option<&DeValue<'_>>) -> Option<String> {
    let rest = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))?;
    let expected = rest.rsplit_once(", expected ").map_or("", |(_, e)| e);
    let wants = wants(key).map_or_else(|| plain(expected).to_owned(), str::to_owned);
    let found = match value {
        Some(DeValue::Integer(n)) => n.as_str().to_owned(),
        Some(DeValue::String(_)) => "a string".to_owned(),
        Some(DeValue::Float(_)) => "a decimal number".to_owned(),
        Some(DeValue::Boolean(_)) => "true or false".to_owned(),
        Some(DeValue::Datetime(_)) => "a date".to_owned(),
        Some(DeValue::Array(_)) => "a list".to_owned(),
        Some(DeValue::Table(_)) => "a table".to_owned(),
        None => return Some(format!("must be {wants}")),
    };
    Some(format!("must be {wants}, not {found}"))
}

/// What a key wants, where that says more than its type.
fn wants(key: &str) -> Option<&'static str> {
    Some(match key {
        "digest.window_days" => "a whole number of days from 1 to 366",
        "names.cache_max_age_days" => "a whole number of days from 1 to 365",
        "mail.to" => "an address or a list of addresses in quotes",
        "mail.smtp.port" => "a port number from 1 to 65535",
        "mail.smtp.attempts" | "source.max_attempts" => "a whole number of attempts, at least 1",
        "source.max_pages" => "a whole number of pages, at least 1",
        "source.max_page_bytes" => "a whole number of bytes, at least 1",
        "names.customer_page_size" => "a whole number of customers per page, at least 1",
        k if k.ends_with("_secs") => "a whole number of seconds, at least 1",
        _ => return None,
    })
}

/// serde's name for a type, in words.
fn plain(expected: &str) -> &str {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" | "i64" => "a whole number",
        "a boolean" => "true or false",
        "a string" => "text in quotes",
        "a sequence" => "a list",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialised, to make serde's errors")]
    struct Doc {
        a: Option<Section>,
        b: Option<Section>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialised, to make serde's errors")]
    struct Section {
        n: Option<u32>,
        list: Option<Vec<String>>,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialised, to make serde's errors")]
    struct Inner {
        port: u16,
    }

    fn problem(text: &str) -> String {
        parse_problem(&toml::from_str::<Doc>(text).unwrap_err(), text).to_string()
    }

    #[test]
    fn a_parse_error_names_the_key_and_line_in_each_kind_of_table() {
        assert_eq!(
            problem("[a]\nn = \"7\"\n"),
            "line 2, column 5: a.n: must be a whole number, not a string"
        );
        assert_eq!(
            problem("[a]\nn = 1\n[b]\nlist = [\"x\",\n  -3]\n"),
            "line 5, column 3: b.list: must be text in quotes, not -3"
        );
        assert_eq!(
            problem("[a]\ninner = { port = 70000 }\n"),
            "line 2, column 18: a.inner.port: must be a whole number, not 70000"
        );
        assert_eq!(
            problem("[b]\n[b.inner]\n"),
            "line 2, column 1: b.inner.port: is required"
        );
        assert_eq!(
            problem("[a]\nn = 1\nn = 2\n"),
            "line 3, column 1: a.n: is set more than once; keep one"
        );
        assert_eq!(
            problem("[a]\n[b]\n[a]\n"),
            "line 3, column 2: a: is set more than once; keep one"
        );
    }

    #[test]
    fn a_validated_key_is_found_by_its_path_or_its_nearest_table() {
        let text = "\n[a]\nn = 1\n\n[a.inner]\nport = 2\n";
        assert_eq!(line_of(text, "a.n"), Some(3));
        assert_eq!(line_of(text, "a.inner.port"), Some(6));
        assert_eq!(line_of(text, "a.inner.host"), Some(5));
        assert_eq!(line_of(text, "a.list"), Some(2));
        assert_eq!(line_of(text, "c.x"), None);
    }
}
