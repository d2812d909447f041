//! The names file (`[names] file`): a CSV of `id,name` rows that names tenants and subscriptions
//! the APIs cannot. The user writes it, so a mistake in it is an input error naming the line,
//! not a warning: it is read once, at start-up, with the config.
//!
//! Format: UTF-8 (a byte-order mark is allowed), RFC 4180 quoting, two columns `id,name`, an
//! optional `id,name` header row, `#` comment lines and blank lines ignored. Ids are compared
//! case-insensitively; an id listed twice is an error.

use std::collections::HashMap;
use std::path::Path;

/// The longest id accepted: GUIDs are 36 characters; anything much longer is a mistake.
const MAX_ID_CHARS: usize = 100;
/// The longest name accepted; the reports cut long names anyway.
const MAX_NAME_CHARS: usize = 200;

/// The names a names file gives, by lower-cased id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamesFile {
    pub names: HashMap<String, String>,
}

/// Why a names file cannot be used: the line (1-based) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct NamesFileError {
    pub line: Option<u64>,
    pub message: String,
}

impl NamesFileError {
    fn at(line: u64, message: impl Into<String>) -> Self {
        Self {
            line: Some(line),
            message: message.into(),
        }
    }
}

/// The most a names file may hold: 16 MiB names some 200,000 tenants and subscriptions.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Reads and parses the names file at `path`; an error without a line names the file itself.
pub fn read(path: &Path) -> Result<NamesFile, NamesFileError> {
    let bytes =
        crate::bounded::read(path, "names.file", MAX_FILE_BYTES).map_err(|e| NamesFileError {
            line: None,
            message: e.sentence(),
        })?;
    parse(&bytes)
}

/// Parses names file bytes. Line by line, since a name cannot hold a line break: the line
/// numbers in errors are then the editor's, comments included.
pub fn parse(bytes: &[u8]) -> Result<NamesFile, NamesFileError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut names = HashMap::new();
    let mut lines: HashMap<String, u64> = HashMap::new();
    let mut first = true;
    for (number, raw) in (1u64..).zip(body.split(|&b| b == b'\n')) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw)
            .map_err(|_| NamesFileError::at(number, "the line is not UTF-8"))?;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields = split(line).map_err(|m| NamesFileError::at(number, m))?;
        if fields.len() != 2 {
            return Err(NamesFileError::at(
                number,
                format!(
                    "expected 2 columns (id,name), found {}; quote a name that holds a comma",
                    fields.len()
                ),
            ));
        }
        let (id, name) = (fields[0].as_str(), fields[1].as_str());
        let is_header = first && id.eq_ignore_ascii_case("id") && name.eq_ignore_ascii_case("name");
        first = false;
        if is_header {
            continue;
        }
        check_id(id).map_err(|m| NamesFileError::at(number, m))?;
        check_name(name).map_err(|m| NamesFileError::at(number, m))?;
        let key = id.to_ascii_lowercase();
        if let Some(earlier) = lines.insert(key.clone(), number) {
            return Err(NamesFileError::at(
                number,
                format!("{id} is already named on line {earlier}"),
            ));
        }
        names.insert(key, name.to_owned());
    }
    Ok(NamesFile { names })
}

/// One line's fields, RFC 4180 quoting, each trimmed.
fn split(line: &str) -> Result<Vec<String>, String> {
    if !line.matches('"').count().is_multiple_of(2) {
        return Err("a quote is not closed".to_owned());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    reader
        .read_record(&mut record)
        .map_err(|e| format!("not readable as CSV ({e})"))?;
    Ok(record.iter().map(str::to_owned).collect())
}

fn check_id(id: &str) -> Result<(), String> {
    check_length(
        "id",
        id,
        MAX_ID_CHARS,
        "; expected a tenant or subscription id",
    )?;
    if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "the id {id:?} holds a space or control character; expected a tenant or subscription id"
        ));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), String> {
    check_length("name", name, MAX_NAME_CHARS, "")?;
    if name.chars().any(char::is_control) {
        return Err("the name holds a line break or control character".to_owned());
    }
    Ok(())
}

/// The `what` (id or name) is neither empty nor longer than `max` characters; `hint` ends the
/// message about its length.
fn check_length(what: &str, value: &str, max: usize, hint: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if value.chars().count() > max {
        return Err(format!("the {what} is longer than {max} characters{hint}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> HashMap<String, String> {
        parse(text.as_bytes()).unwrap().names
    }

    fn error(text: &str) -> String {
        parse(text.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn rows_with_an_optional_header_comments_quotes_and_a_bom_are_read() {
        let text = "\u{FEFF}id,name\r\n# customers\r\n\r\n6F1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D, Contoso Ltd \r\nsub-1,\"Fabrikam, Inc. \"\"prod\"\"\"\n";
        let got = names(text);
        assert_eq!(got.len(), 2);
        assert_eq!(
            got["6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"], "Contoso Ltd",
            "ids are lower-cased, names trimmed"
        );
        assert_eq!(got["sub-1"], "Fabrikam, Inc. \"prod\"");
    }

    #[test]
    fn a_header_is_only_recognised_on_the_first_row() {
        let err = error("a,Alpha\nid,name\nid,again\n");
        assert_eq!(err, "line 3: id is already named on line 2");
    }

    #[test]
    fn mistakes_name_their_line() {
        for (text, expected) in [
            (
                "a,Alpha\nb\n",
                "line 2: expected 2 columns (id,name), found 1; quote a name that holds a comma",
            ),
            (
                "a,Alpha\nb,Beta,extra\n",
                "line 2: expected 2 columns (id,name), found 3; quote a name that holds a comma",
            ),
            ("a,Alpha\n,Beta\n", "line 2: the id is empty"),
            ("a,\n", "line 1: the name is empty"),
            (
                "a,Alpha\n# c\nA,Again\n",
                "line 3: A is already named on line 1",
            ),
            (
                "a b,Alpha\n",
                "line 1: the id \"a b\" holds a space or control character; expected a tenant or subscription id",
            ),
            (
                "a,Alpha\nb,\"two\nlines\"\n",
                "line 2: a quote is not closed",
            ),
            (
                "a,\"bell\u{7}\"\n",
                "line 1: the name holds a line break or control character",
            ),
        ] {
            assert_eq!(error(text), expected, "{text:?}");
        }
        assert_eq!(
            parse(b"a,\xFF\xFE\n").unwrap_err().to_string(),
            "line 1: the line is not UTF-8"
        );
        assert!(error(&format!("a,{}\n", "x".repeat(201))).contains("longer than 200"));
    }

    #[test]
    fn an_empty_file_names_nothing() {
        assert!(names("").is_empty());
        assert!(names("id,name\n# nothing yet\n").is_empty());
    }
}
