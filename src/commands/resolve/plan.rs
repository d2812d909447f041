//! The plan of a `resolve --from-csv`: the digest's `alerts.csv`, with the analyst's `decision`
//! filled in, read by column name. Rows with an empty decision are skipped; rows whose decision
//! or id cannot be used are set aside with their line number and change nothing.
//!
//! Tolerated, because the file has usually been through a spreadsheet: a byte-order mark, CRLF,
//! `;` or TAB instead of `,` (Excel in many locales), columns in any order, extra columns, short
//! rows, empty trailing rows, the `'` our writer puts before a formula-like cell, and a file
//! saved in Windows-1252 instead of UTF-8.

use std::collections::HashMap;
use std::io::Read;

use super::decision::{Decision, Words, accepted_words};
use crate::source::graph::alert::id_problem;

/// The columns `resolve` reads; the first two are required.
pub const ID_COLUMN: &str = "alert_id";
pub const DECISION_COLUMN: &str = "decision";
pub const CUSTOMER_COLUMN: &str = "customer_tenant_id";
pub const TYPE_COLUMN: &str = "alert_type";

/// One alert to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The line of the CSV the row starts on (1 is the header); `None` from the command line.
    pub line: Option<u64>,
    pub id: String,
    pub decision: Decision,
    /// From the CSV, when it has the column; the service's value is shown when known.
    pub customer: Option<String>,
    pub alert_type: Option<String>,
}

/// A row that changes nothing, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub line: u64,
    pub id: Option<String>,
    pub problem: String,
}

/// What a CSV asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Rows with a decision, in file order, each alert once.
    pub items: Vec<Item>,
    /// Rows with an empty decision.
    pub blank: usize,
    /// Rows repeating an alert and decision of an earlier row.
    pub repeated: usize,
    /// Rows set aside.
    pub invalid: Vec<Invalid>,
}

/// A file that cannot be read as a plan at all.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Read(#[from] std::io::Error),
    #[error(
        "the header (line 1) has no {} column{}: resolve reads alert_id and decision by name. Found: {found}",
        missing.join(" or "),
        if missing.len() > 1 { "s" } else { "" }
    )]
    MissingColumns {
        missing: Vec<&'static str>,
        found: String,
    },
    #[error("line {line}: {message}")]
    Csv { line: u64, message: String },
}

/// Reads a plan from CSV text, with decision words from `tables`. The text is read whole: the
/// CSV reader's own line count goes wrong with CRLF and blank lines, so line numbers are
/// counted here, from where each row starts.
pub fn read(mut input: impl Read, tables: &[Words]) -> Result<Plan, PlanError> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let header_end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(&body[..header_end]))
        .flexible(true)
        .from_reader(body);
    let columns = Columns::find(reader.byte_headers().map_err(|e| csv_error(&e))?)?;
    let lines = Lines::new(body);

    let mut rows = Rows {
        tables,
        columns,
        plan: Plan::default(),
        seen: HashMap::new(),
    };
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {
                let after = record.position().map_or(0, csv::Position::byte);
                rows.add(lines.of_row_after(after), &record);
            }
            Ok(false) => break,
            Err(e) => return Err(csv_error(&e)),
        }
    }
    let mut plan = rows.plan;
    plan.invalid.sort_by_key(|i| i.line);
    Ok(plan)
}

/// Line numbers of byte offsets.
struct Lines<'a> {
    body: &'a [u8],
    /// Offsets of every `\n`.
    breaks: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(body: &'a [u8]) -> Self {
        let breaks = body
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .collect();
        Self { body, breaks }
    }

    /// The line a row starts on, given where the reader says it starts: the end of the row
    /// before, possibly with line ends and blank lines still ahead of the row.
    fn of_row_after(&self, offset: u64) -> u64 {
        let mut start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.body.len());
        while start < self.body.len() && matches!(self.body[start], b'\r' | b'\n') {
            start += 1;
        }
        let before = self.breaks.partition_point(|&b| b < start);
        u64::try_from(before).unwrap_or(u64::MAX) + 1
    }
}

/// Where the columns `resolve` reads are.
struct Columns {
    id: usize,
    decision: usize,
    customer: Option<usize>,
    alert_type: Option<usize>,
}

impl Columns {
    fn find(header: &csv::ByteRecord) -> Result<Self, PlanError> {
        let names: Vec<String> = header
            .iter()
            .map(|name| text(name).trim().to_ascii_lowercase())
            .collect();
        let column = |name: &str| names.iter().position(|n| n == name);
        match (column(ID_COLUMN), column(DECISION_COLUMN)) {
            (Some(id), Some(decision)) => Ok(Self {
                id,
                decision,
                customer: column(CUSTOMER_COLUMN),
                alert_type: column(TYPE_COLUMN),
            }),
            (id, decision) => {
                let missing = [(id, ID_COLUMN), (decision, DECISION_COLUMN)]
                    .into_iter()
                    .filter(|(at, _)| at.is_none())
                    .map(|(_, name)| name)
                    .collect();
                let found: Vec<&str> = names.iter().map(String::as_str).take(30).collect();
                Err(PlanError::MissingColumns {
                    missing,
                    found: if found.iter().all(|n| n.is_empty()) {
                        "nothing (an empty file?)".to_owned()
                    } else {
                        found.join(", ")
                    },
                })
            }
        }
    }
}

/// The plan as the rows come in.
struct Rows<'t> {
    tables: &'t [Words],
    columns: Columns,
    plan: Plan,
    /// Lower-cased id → the row that planned it.
    seen: HashMap<String, Seen>,
}

impl Rows<'_> {
    fn add(&mut self, line: u64, record: &csv::ByteRecord) {
        let cell = |at: Option<usize>| {
            at.and_then(|i| record.get(i))
                .map(|c| text(c).trim().to_owned())
                .filter(|c| !c.is_empty())
        };
        if record.iter().all(|c| text(c).trim().is_empty()) {
            return; // an empty row, as spreadsheets leave at the end
        }
        let Some(word) = cell(Some(self.columns.decision)) else {
            self.plan.blank += 1;
            return;
        };
        let mut invalid = |id: Option<String>, problem: String| {
            self.plan.invalid.push(Invalid { line, id, problem });
        };
        let Some(id) = cell(Some(self.columns.id)).map(|id| unneutralise(&id)) else {
            return invalid(None, format!("decision {word:?} but no alert_id"));
        };
        if let Some(why) = id_problem(&id) {
            return invalid(None, format!("alert_id {id:?} is not an alert id: {why}"));
        }
        let Some(decision) = Decision::parse_in(&word, self.tables) else {
            let words = accepted_words(self.tables);
            return invalid(
                Some(id),
                format!("unknown decision {word:?}: write {words} (or leave it empty)"),
            );
        };
        let key = id.to_lowercase();
        match self.seen.get_mut(&key) {
            Some(first) if first.decision == decision && !first.conflict => {
                self.plan.repeated += 1;
            }
            Some(first) => {
                // Two different answers for one alert: none is applied.
                first.conflict = true;
                let problem = format!(
                    "the same alert is on line {} with decision {}, here {decision}; none is applied",
                    first.line, first.decision
                );
                self.plan.items.retain(|i| i.id.to_lowercase() != key);
                self.plan.invalid.push(Invalid {
                    line,
                    id: Some(id),
                    problem,
                });
            }
            None => {
                let first = Seen {
                    line,
                    decision,
                    conflict: false,
                };
                self.seen.insert(key, first);
                self.plan.items.push(Item {
                    line: Some(line),
                    id,
                    decision,
                    customer: cell(self.columns.customer),
                    alert_type: cell(self.columns.alert_type).map(|t| unneutralise(&t)),
                });
            }
        }
    }
}

/// The first row that named an alert.
struct Seen {
    line: u64,
    decision: Decision,
    /// A later row gave another decision: the alert is not changed.
    conflict: bool,
}

/// The field delimiter: the first of `,`, `;` and TAB that splits the header into a column
/// named `alert_id`; if none does, the one that splits it into the most columns (so the
/// missing columns are reported among the right names).
fn delimiter(header: &[u8]) -> u8 {
    const CANDIDATES: [u8; 3] = [b',', b';', b'\t'];
    let names = |d: u8| header.split(move |&b| b == d).map(text);
    CANDIDATES
        .into_iter()
        .find(|&d| {
            names(d).any(|name| {
                name.trim()
                    .trim_matches('"')
                    .trim()
                    .eq_ignore_ascii_case(ID_COLUMN)
            })
        })
        .or_else(|| {
            CANDIDATES
                .into_iter()
                .rev()
                .max_by_key(|&d| header.split(|&b| b == d).count())
        })
        .unwrap_or(b',')
}

/// A cell as text: UTF-8, or else Windows-1252 read as Latin-1 (what Excel's "CSV" saves in
/// western locales; ids are ASCII either way, and å, ä, ö have the same code points).
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Undoes the writer's formula guard: `'=x` back to `=x` (see `render::csv::text_cell`).
fn unneutralise(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']) => rest.to_owned(),
        _ => cell.to_owned(),
    }
}

fn csv_error(error: &csv::Error) -> PlanError {
    // Only invalid UTF-8 in the header and I/O errors reach here (rows are read as bytes, and
    // flexibly); the reader's line is close enough for those.
    let line = error.position().map_or(1, csv::Position::line);
    let message = match error.kind() {
        csv::ErrorKind::Io(e) => e.to_string(),
        _ => error.to_string(),
    };
    PlanError::Csv { line, message }
}

#[cfg(test)]
mod tests {
    use super::super::decision::{ENGLISH, SWEDISH};
    use super::*;

    fn plan(text: &str) -> Plan {
        read(text.as_bytes(), &[ENGLISH]).unwrap()
    }

    fn lines(plan: &Plan) -> Vec<(Option<u64>, &str, Decision)> {
        plan.items
            .iter()
            .map(|i| (i.line, i.id.as_str(), i.decision))
            .collect()
    }

    #[test]
    fn rows_are_read_by_column_name_and_blank_decisions_are_skipped() {
        let p = plan(
            "\u{feff}digest_date,alert_id,alert_type,customer_tenant_id,decision\r\n\
             2026-11-29,a1,CryptoMining,c1,Fraud\r\n\
             2026-11-29,a2,CryptoMining,c1,\r\n\
             2026-11-29,a3,'=cmd,c2, legitimate \r\n",
        );
        assert_eq!(
            lines(&p),
            [
                (Some(2), "a1", Decision::Fraud),
                (Some(4), "a3", Decision::Legitimate)
            ]
        );
        assert_eq!(p.items[0].customer.as_deref(), Some("c1"));
        assert_eq!(p.items[1].alert_type.as_deref(), Some("=cmd"));
        assert_eq!(p.blank, 1);
        assert!(p.invalid.is_empty());
    }

    #[test]
    fn bad_rows_are_set_aside_with_their_line_numbers() {
        // A description with a line break makes the file's lines and the rows differ.
        let p = plan(
            "alert_id,description,decision\n\
             a1,\"two\nlines\",fruad\n\
             ,x,fraud\n\
             a3,x,ignore\n\
             A3,x,legitimate\n\
             a4,x,fraud\n\
             A4,x,Fraud\n",
        );
        let invalid: Vec<(u64, Option<&str>)> = p
            .invalid
            .iter()
            .map(|i| (i.line, i.id.as_deref()))
            .collect();
        assert_eq!(
            invalid,
            [(2, Some("a1")), (4, None), (6, Some("A3"))],
            "{:#?}",
            p.invalid
        );
        assert!(
            p.invalid[0].problem.contains("unknown decision \"fruad\"")
                && p.invalid[0]
                    .problem
                    .contains("legitimate, fraud, ignore or investigating"),
            "{}",
            p.invalid[0].problem
        );
        assert!(
            p.invalid[2].problem.contains("line 5"),
            "{}",
            p.invalid[2].problem
        );
        assert_eq!(lines(&p), [(Some(7), "a4", Decision::Fraud)]);
        assert_eq!(p.repeated, 1);
    }

    #[test]
    fn line_numbers_count_crlf_blank_lines_and_line_breaks_inside_cells() {
        let p = plan(
            "alert_id,description,decision\r\n\r\n\
             a1,\"two\r\nlines\",fraud\r\n\
             a2,x,ignore\r\n\r\n\r\n\
             a3,x,fraud",
        );
        assert_eq!(
            lines(&p),
            [
                (Some(3), "a1", Decision::Fraud),
                (Some(5), "a2", Decision::Ignore),
                (Some(8), "a3", Decision::Fraud)
            ]
        );
    }

    #[test]
    fn excel_semicolons_tabs_short_and_empty_rows_are_tolerated() {
        let semicolons = plan("alert_id;status;decision\r\na1;active;fraud\r\na2;active\r\n;;\r\n");
        assert_eq!(lines(&semicolons), [(Some(2), "a1", Decision::Fraud)]);
        assert_eq!(semicolons.blank, 1);
        let tabs = plan("decision\talert_id\nignore\ta1\n");
        assert_eq!(lines(&tabs), [(Some(2), "a1", Decision::Ignore)]);
    }

    #[test]
    fn missing_columns_are_named() {
        let err = read("alert_id,status\na1,active\n".as_bytes(), &[ENGLISH]).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("no decision column") && message.contains("alert_id, status"),
            "{message}"
        );
        let err = read("id;Beslut\n".as_bytes(), &[ENGLISH]).unwrap_err();
        assert!(
            err.to_string().contains("no alert_id or decision columns"),
            "{err}"
        );
        let err = read(&b""[..], &[ENGLISH]).unwrap_err();
        assert!(err.to_string().contains("an empty file"), "{err}");
    }

    #[test]
    fn a_windows_1252_file_with_swedish_words_is_read() {
        let bytes = b"alert_id;decision\r\na1;bedr\xE4geri\r\na2;unders\xF6ks\r\n";
        let p = read(&bytes[..], &[ENGLISH, SWEDISH]).unwrap();
        assert_eq!(
            lines(&p),
            [
                (Some(2), "a1", Decision::Fraud),
                (Some(3), "a2", Decision::Investigating)
            ]
        );
    }
}
