//! One page of alerts — a Graph response `{"value": [...]}` or a bare JSON array — split into
//! records that are parsed one by one, so a bad record is set aside instead of sinking the page.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::record::{RecordError, parse_alert_with};
use crate::alert::{Alert, Interner};

/// A page, parsed: the alerts it holds, the records set aside, and the link to the next page.
#[derive(Debug, Default)]
pub struct Page {
    pub alerts: Vec<Alert>,
    pub set_aside: Vec<SetAside>,
    pub next_link: Option<String>,
}

/// A record that could not be understood, with where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    /// Which page: a file path or a page number with its URL.
    pub page: String,
    /// Zero-based position of the record in the page's array.
    pub index: usize,
    /// The record's `id` when it had a readable one.
    pub id: Option<String>,
    pub reason: RecordError,
}

/// The page itself could not be read as JSON of either accepted shape.
#[derive(Debug, thiserror::Error)]
#[error(
    "{page}: not a page of alerts: {message} (line {line}, column {column}, byte offset {offset})"
)]
pub struct PageError {
    pub page: String,
    pub message: String,
    pub line: usize,
    pub column: usize,
    pub offset: usize,
}

#[derive(Deserialize)]
struct GraphPage<'a> {
    #[serde(borrow)]
    value: Vec<&'a RawValue>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

/// Parses a page. `label` names it in errors and set-aside reports.
pub(crate) fn parse_page(bytes: &[u8], label: &str) -> Result<Page, PageError> {
    parse_page_with(bytes, label, &mut Interner::default())
}

/// [`parse_page`], sharing repeated text through `interner`.
pub fn parse_page_with(
    bytes: &[u8],
    label: &str,
    interner: &mut Interner,
) -> Result<Page, PageError> {
    let split = split_page(bytes, label)?;
    // split_page found the page to be UTF-8 JSON.
    let text = std::str::from_utf8(bytes).unwrap_or_default();
    Ok(parse_records(text, split, label, interner))
}

/// A page's records, as byte ranges of its body, and its next link: what the first, quick pass
/// over a page finds (it checks the JSON but builds nothing), so that the next page can be
/// requested before the records are parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    pub records: Vec<std::ops::Range<usize>>,
    pub next_link: Option<String>,
}

/// The first pass over a page (see [`Split`]).
pub fn split_page(whole: &[u8], label: &str) -> Result<Split, PageError> {
    let bytes = whole.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(whole);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    // Checked as UTF-8 once here, so the JSON reader need not check each string; a page that
    // is not UTF-8 goes to the byte reader for its error and position.
    let parsed = match (std::str::from_utf8(bytes), first == Some(&b'[')) {
        (Ok(text), true) => serde_json::from_str::<Vec<&RawValue>>(text).map(|value| GraphPage {
            value,
            next_link: None,
        }),
        (Ok(text), false) => serde_json::from_str::<GraphPage>(text),
        (Err(_), true) => serde_json::from_slice::<Vec<&RawValue>>(bytes).map(|value| GraphPage {
            value,
            next_link: None,
        }),
        (Err(_), false) => serde_json::from_slice::<GraphPage>(bytes),
    };
    let raw = parsed.map_err(|e| page_error(bytes, label, &e))?;
    let base = whole.as_ptr() as usize;
    Ok(Split {
        records: raw
            .value
            .iter()
            .map(|r| {
                let start = r.get().as_ptr() as usize - base;
                start..start + r.get().len()
            })
            .collect(),
        next_link: raw.next_link.filter(|l| !l.is_empty()),
    })
}

/// The second pass: parses each record of `split` (ranges of `text`, the page that
/// [`split_page`] read); a record that cannot be understood is set aside with its position.
pub fn parse_records(text: &str, split: Split, label: &str, interner: &mut Interner) -> Page {
    let mut page = Page {
        alerts: Vec::with_capacity(split.records.len()),
        set_aside: Vec::new(),
        next_link: split.next_link,
    };
    for (index, range) in split.records.into_iter().enumerate() {
        let record = text.get(range).unwrap_or_default();
        match parse_alert_with(record, interner) {
            Ok(alert) => page.alerts.push(alert),
            Err(reason) => page.set_aside.push(SetAside {
                page: label.to_owned(),
                index,
                id: readable_id(record),
                reason,
            }),
        }
    }
    page
}

fn readable_id(record: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct IdOnly {
        id: Option<serde_json::Value>,
    }
    let id = serde_json::from_str::<IdOnly>(record).ok()?.id?;
    match id {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn page_error(bytes: &[u8], label: &str, error: &serde_json::Error) -> PageError {
    let (line, column) = (error.line(), error.column());
    PageError {
        page: label.to_owned(),
        message: strip_position(&error.to_string()),
        line,
        column,
        offset: byte_offset(bytes, line, column),
    }
}

/// `serde_json` appends " at line L column C"; we report the position in our own words.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Converts `serde_json`'s one-based line and column (columns count bytes) to a byte offset.
fn byte_offset(bytes: &[u8], line: usize, column: usize) -> usize {
    if line == 0 {
        return 0;
    }
    let line_start = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(line.saturating_sub(2))
        .map_or(0, |(i, _)| i + 1);
    let start = if line == 1 { 0 } else { line_start };
    (start + column.saturating_sub(1)).min(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUIRKS: &str = include_str!("../../tests/fixtures/quirks-page.json");

    #[test]
    fn quirks_page_parses_with_exactly_one_record_set_aside() {
        let page = parse_page(QUIRKS.as_bytes(), "quirks-page.json").unwrap();
        assert_eq!(page.alerts.len(), 5);
        assert_eq!(page.set_aside.len(), 1);
        let aside = &page.set_aside[0];
        assert_eq!(aside.index, 5);
        assert_eq!(
            aside.id.as_deref(),
            Some("f0000000-0000-4000-8000-000000000006")
        );
        assert_eq!(aside.reason, RecordError::BadDetected("not-a-date".into()));
        assert!(page.next_link.is_none());
    }

    #[test]
    fn bare_arrays_and_byte_order_marks_are_accepted() {
        let page = parse_page(
            b"\xEF\xBB\xBF [{\"id\":\"a\",\"detectedDateTime\":\"2026-01-01T00:00:00Z\"}]",
            "x",
        )
        .unwrap();
        assert_eq!(page.alerts.len(), 1);
    }

    #[test]
    fn a_wrongly_typed_record_is_set_aside_with_its_position() {
        let page = parse_page(
            br#"{"value":[{"id":7,"detectedDateTime":"2026-01-01T00:00:00Z"},
                           {"id":"b","detectedDateTime":"2026-01-01T00:00:00Z"}],
                 "@odata.nextLink":"https://graph.example/next"}"#,
            "page 2",
        )
        .unwrap();
        assert_eq!(page.alerts.len(), 1);
        assert_eq!(page.set_aside[0].index, 0);
        assert_eq!(page.set_aside[0].id.as_deref(), Some("7"));
        assert_eq!(
            page.next_link.as_deref(),
            Some("https://graph.example/next")
        );
    }

    #[test]
    fn malformed_json_names_the_page_and_byte_offset() {
        let bytes = b"{\"value\": [\n  {\"id\": \"a\",, }\n]}";
        let err = parse_page(bytes, "page 3").unwrap_err();
        assert_eq!(err.page, "page 3");
        assert_eq!(err.line, 2);
        // the second of two commas, where serde_json gave up
        assert_eq!(&bytes[err.offset - 1..=err.offset], b",,");
        let text = err.to_string();
        assert!(text.starts_with("page 3: "), "{text}");
        assert!(text.contains("byte offset"), "{text}");
    }

    #[test]
    fn an_object_without_value_is_not_a_page() {
        let err = parse_page(br#"{"error":{"code":"x"}}"#, "f.json").unwrap_err();
        assert!(err.message.contains("value"), "{}", err.message);
    }
}
