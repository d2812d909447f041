//! `alerts.csv` (one row per unresolved alert) and `summary.csv` (one row per partner ×
//! customer × subscription × alert type). Column names are stable `snake_case` in every language.
//!
//! Rules: header row, RFC 4180 quoting, CRLF, UTF-8 with a byte-order mark (Excel), and text
//! cells that start with `= + - @`, TAB, CR or LF prefixed with `'` so a spreadsheet never runs
//! them as formulas (OWASP). Our own numbers are written as plain numbers.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::json_cell;
use super::lang::{Language, alert_types};
use crate::alert::{DetailStore, DetailsRef, Text};
use crate::digest::{Digest, DigestAlert, Partner};
use crate::names::Names;

/// A header: the columns `before`, then the seven that say whose a row is (partner, customer and
/// subscription, in the same order in both files), then the columns `after`.
macro_rules! header_with_owner {
    ([$($before:literal),* $(,)?], [$($after:literal),* $(,)?]) => {
        &[
            $($before,)*
            "partner_channel",
            "partner_tenant_id",
            "partner_name",
            "customer_tenant_id",
            "customer_name",
            "subscription_id",
            "subscription_name",
            $($after,)*
        ]
    };
}

pub const ALERTS_HEADER: &[&str] = header_with_owner!(
    [
        "digest_date",
        "alert_id",
        "alert_type",
        "alert_type_label",
        "display_name",
        "severity",
        "confidence",
        "status",
    ],
    [
        "catalog_offer_id",
        "affected_resource_ids",
        "affected_resource_types",
        "detected_at",
        "first_observed_at",
        "last_observed_at",
        "age_hours",
        "overdue",
        "is_test",
        "description",
        "additional_details",
        // Enough for Microsoft's false-negative and fraud reports from a row alone.
        "signed_in_tenant_id",
        "last_status_change_by",
        "last_status_change_at",
        // Empty: the analyst's legitimate / fraud / ignore / investigating, for `resolve --from-csv`.
        "decision",
    ]
);

pub const SUMMARY_HEADER: &[&str] = header_with_owner!(
    ["digest_date"],
    [
        "alert_type",
        "alert_type_label",
        "alerts",
        "high",
        "medium",
        "low",
        "informational",
        "other_severity",
        "overdue",
    ]
);

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Neutralises a text cell that a spreadsheet would treat as a formula.
pub fn text_cell(value: &str) -> Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n') => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

fn writer<W: Write>(mut out: W) -> std::io::Result<csv::Writer<W>> {
    out.write_all(BOM)?;
    Ok(rows_writer(out))
}

fn channel(partner: &Partner) -> &'static str {
    match partner {
        Partner::Direct => "direct",
        Partner::Reseller(_) => "indirect",
    }
}

/// The name of an id, complete and neutralised; empty when there is no id or no name (the id
/// column beside it always holds the whole id).
fn name_cell(names: &Names, id: Option<&str>) -> String {
    id.and_then(|id| names.get(id))
        .map(|name| text_cell(name).into_owned())
        .unwrap_or_default()
}

/// Writes `alerts.csv`: every unresolved alert in the window, in digest order, with the
/// details of spilled alerts read back from the `store`.
///
/// The rows are made in chunks of [`ROWS_PER_CHUNK`] on up to [`MAX_FORMATTERS`] threads (as
/// many as the machine has cores), each taking every n-th chunk, while this thread writes the
/// chunks to `out` in order; each thread has at most one chunk waiting to be written.
pub fn write_alerts<W: Write>(
    out: W,
    alerts: &[DigestAlert],
    rows: Rows<'_>,
) -> anyhow::Result<()> {
    write_alerts_in_chunks(out, alerts, rows, ROWS_PER_CHUNK)
}

/// What every row of an alerts file shares, and where its details are.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    pub digest_date: &'a str,
    pub names: &'a Names,
    pub store: &'a DetailStore,
    /// The partner tenant the job signs in to (`signed_in_tenant_id`); empty for the file
    /// source.
    pub signed_in_tenant: &'a str,
}

fn write_alerts_in_chunks<W: Write>(
    mut out: W,
    alerts: &[DigestAlert],
    context: Rows<'_>,
    rows_per_chunk: usize,
) -> anyhow::Result<()> {
    out.write_all(&alerts_header())?;
    let chunks: Vec<&[DigestAlert]> = alerts.chunks(rows_per_chunk).collect();
    let formatters = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, MAX_FORMATTERS)
        .min(chunks.len());
    let rows = |chunk: &[DigestAlert]| rows(chunk, context);
    if formatters <= 1 {
        for chunk in &chunks {
            out.write_all(&rows(chunk)?)?;
        }
        out.flush()?;
        return Ok(());
    }
    std::thread::scope(|scope| {
        let receivers: Vec<_> = (0..formatters)
            .map(|first| {
                let (send, receive) = std::sync::mpsc::sync_channel(1);
                let (chunks, rows) = (&chunks, &rows);
                scope.spawn(move || {
                    for chunk in chunks.iter().skip(first).step_by(formatters) {
                        let made = rows(chunk);
                        let failed = made.is_err();
                        // When the writer has stopped (it failed), stop too.
                        if send.send(made).is_err() || failed {
                            break;
                        }
                    }
                });
                receive
            })
            .collect();
        for i in 0..chunks.len() {
            // A formatter that stopped without sending its chunk panicked: the scope
            // re-raises that panic when it joins.
            let Ok(made) = receivers[i % formatters].recv() else {
                break;
            };
            out.write_all(&made?)?;
        }
        out.flush()?;
        Ok(())
    })
}

fn alerts_header() -> Vec<u8> {
    let mut header = BOM.to_vec();
    put_record(&mut header, ALERTS_HEADER);
    header
}

/// Rows of `alerts.csv` made at once (about 650 KB with the benchmark's alerts).
const ROWS_PER_CHUNK: usize = 512;

/// At most this many threads make `alerts.csv` rows.
const MAX_FORMATTERS: usize = 4;

fn rows_writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(out)
}

/// The rows of `alerts` as CSV text.
fn rows(alerts: &[DigestAlert], context: Rows<'_>) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(alerts.len() * 1024);
    let mut line = Line::default();
    let mut buffer = Vec::new();
    for a in alerts {
        let details = context.store.load(&a.alert.details, &mut buffer)?;
        line.fill(a, details, context);
        put_record(&mut out, &line.cells);
    }
    Ok(out)
}

/// One CSV record as the `csv` crate writes it with the settings of [`rows_writer`] (comma,
/// CRLF, RFC 4180 quoting where needed), without its per-byte state machine: a field is
/// quoted, its quotes doubled, when it holds a comma, a quote, CR or LF. A record of one
/// empty field is `""`, as the crate writes it.
fn put_record<F: AsRef<[u8]>>(out: &mut Vec<u8>, fields: &[F]) {
    if let [only] = fields
        && only.as_ref().is_empty()
    {
        out.extend_from_slice(b"\"\"\r\n");
        return;
    }
    for (i, field) in fields.iter().enumerate() {
        let field = field.as_ref();
        if i > 0 {
            out.push(b',');
        }
        let needs_quotes = memchr::memchr3(b',', b'"', b'\n', field).is_some()
            || memchr::memchr(b'\r', field).is_some();
        if needs_quotes {
            out.push(b'"');
            let mut rest = field;
            while let Some(at) = memchr::memchr(b'"', rest) {
                out.extend_from_slice(&rest[..=at]);
                out.push(b'"');
                rest = &rest[at + 1..];
            }
            out.extend_from_slice(rest);
            out.push(b'"');
        } else {
            out.extend_from_slice(field);
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// One row of `alerts.csv`, its cells in reused buffers: a million rows need no allocation
/// per cell. Alert type labels are made once per type.
#[derive(Default)]
struct Line {
    cells: Vec<Vec<u8>>,
    labels: HashMap<Text, String>,
}

impl Line {
    fn fill(&mut self, a: &DigestAlert, details: DetailsRef<'_>, context: Rows<'_>) {
        let (digest_date, names) = (context.digest_date, context.names);
        let alert = &a.alert;
        self.cells.resize_with(ALERTS_HEADER.len(), Vec::new);
        for cell in &mut self.cells {
            cell.clear();
        }
        let partner = Some(a.partner.key()).filter(|k| !k.is_empty());
        let label = self
            .labels
            .entry(alert.alert_type.clone())
            .or_insert_with(|| alert_types::label(&alert.alert_type, Language::English));
        let c = &mut self.cells;
        c[0].extend_from_slice(digest_date.as_bytes());
        push_text(&mut c[1], &alert.id);
        push_text(&mut c[2], &alert.alert_type);
        push_text(&mut c[3], label);
        push_text(&mut c[4], alert.display_name.as_deref().unwrap_or(""));
        push_text(&mut c[5], alert.severity.as_str());
        push_text(&mut c[6], alert.confidence.as_str());
        push_text(&mut c[7], alert.status.as_str());
        c[8].extend_from_slice(channel(&a.partner).as_bytes());
        push_text(&mut c[9], a.partner.key());
        push_name(&mut c[10], names, partner);
        push_text(&mut c[11], a.customer.as_deref().unwrap_or(""));
        push_name(&mut c[12], names, a.customer.as_deref());
        push_text(&mut c[13], a.subscription.as_deref().unwrap_or(""));
        push_name(&mut c[14], names, a.subscription.as_deref());
        push_text(&mut c[15], alert.catalog_offer_id.as_deref().unwrap_or(""));
        // Lists and maps as JSON text, so a script can read them back unambiguously. It
        // starts with `[` or `{`, so it never needs neutralising.
        if details.affected_resources().len() > 0 {
            json_cell::push_array(
                &mut c[16],
                details
                    .affected_resources()
                    .map(|r| r.resource_id.unwrap_or("")),
            );
            json_cell::push_array(
                &mut c[17],
                details
                    .affected_resources()
                    .map(|r| r.resource_type.unwrap_or("")),
            );
        }
        push_time(&mut c[18], Some(alert.detected));
        push_time(&mut c[19], alert.first_observed);
        push_time(&mut c[20], alert.last_observed);
        let _ = write!(c[21], "{}", a.age.num_hours().max(0));
        c[22].extend_from_slice(if a.overdue { b"true" } else { b"false" });
        c[23].extend_from_slice(if alert.is_test { b"true" } else { b"false" });
        push_text(&mut c[24], details.description.unwrap_or(""));
        if details.additional_details().len() > 0 {
            json_cell::push_object(&mut c[25], details.additional_details());
        }
        push_text(&mut c[26], context.signed_in_tenant);
        push_text(&mut c[27], alert.last_activity_by.as_deref().unwrap_or(""));
        push_time(&mut c[28], alert.last_activity);
        // c[29], the decision, stays empty.
    }
}

fn push_text(cell: &mut Vec<u8>, value: &str) {
    cell.extend_from_slice(text_cell(value).as_bytes());
}

fn push_name(cell: &mut Vec<u8>, names: &Names, id: Option<&str>) {
    if let Some(name) = id.and_then(|id| names.get(id)) {
        push_text(cell, name);
    }
}

/// The format of every time cell: UTC, whole seconds, a space between date and time. A
/// spreadsheet's CSV import (`LibreOffice`'s default, Excel) reads it as a date and time, where
/// it leaves RFC 3339 (`…T…Z`, with 0–9 fraction digits) as text that sorts wrongly; it also
/// sorts correctly as text. The README says the times are UTC.
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// A time as [`TIME_FORMAT`] writes it (the fraction dropped), without a `String` per cell.
fn push_time(cell: &mut Vec<u8>, t: Option<DateTime<Utc>>) {
    let Some(t) = t else { return };
    let (year, month, day) = (t.year(), t.month(), t.day());
    // Years outside four digits, and leap seconds (second 60), are left to chrono.
    if !(0..=9999).contains(&year) || t.nanosecond() >= 1_000_000_000 {
        let _ = write!(cell, "{}", t.format(TIME_FORMAT));
        return;
    }
    let year = u32::try_from(year).unwrap_or(0);
    push_digits(cell, year, 4);
    cell.push(b'-');
    push_digits(cell, month, 2);
    cell.push(b'-');
    push_digits(cell, day, 2);
    cell.push(b' ');
    push_digits(cell, t.hour(), 2);
    cell.push(b':');
    push_digits(cell, t.minute(), 2);
    cell.push(b':');
    push_digits(cell, t.second(), 2);
}

/// `value` in decimal, zero-padded to `width` digits (`value` has no more than that).
fn push_digits(cell: &mut Vec<u8>, mut value: u32, width: usize) {
    let start = cell.len();
    cell.resize(start + width, b'0');
    for slot in cell[start..].iter_mut().rev() {
        *slot = b'0' + u8::try_from(value % 10).unwrap_or(0);
        value /= 10;
    }
}

/// Writes `summary.csv`: one row per partner × customer × subscription × alert type.
pub fn write_summary<W: Write>(
    out: W,
    digest: &Digest,
    digest_date: &str,
    names: &Names,
) -> anyhow::Result<()> {
    let mut w = writer(out)?;
    w.write_record(SUMMARY_HEADER)?;
    // The CSVs carry the English label in every language.
    let labels: Vec<String> = digest
        .types
        .iter()
        .map(|ty| alert_types::label(&ty.raw, Language::English))
        .collect();
    for p in &digest.partners {
        for c in &p.customers {
            for s in &c.subscriptions {
                for (t, tally) in &s.types {
                    let ty = &digest.types[*t];
                    w.write_record([
                        digest_date,
                        channel(&p.partner),
                        &text_cell(p.partner.key()),
                        &name_cell(names, Some(p.partner.key()).filter(|k| !k.is_empty())),
                        &text_cell(c.tenant_id.as_deref().unwrap_or("")),
                        &name_cell(names, c.tenant_id.as_deref()),
                        &text_cell(s.subscription_id.as_deref().unwrap_or("")),
                        &name_cell(names, s.subscription_id.as_deref()),
                        &text_cell(&ty.raw),
                        &text_cell(&labels[*t]),
                        &tally.alerts.to_string(),
                        &tally.high.to_string(),
                        &tally.medium.to_string(),
                        &tally.low.to_string(),
                        &tally.informational.to_string(),
                        &tally.other.to_string(),
                        &tally.overdue.to_string(),
                    ])?;
                }
            }
        }
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows context of the tests' digest date.
    fn rows_of<'a>(names: &'a Names, store: &'a DetailStore) -> Rows<'a> {
        Rows {
            digest_date: "2026-11-29",
            names,
            store,
            signed_in_tenant: "partner.example",
        }
    }

    /// The hostile strings every output is tested with, and a few more.
    fn awkward_fields() -> Vec<Vec<u8>> {
        let corpus: Vec<String> =
            serde_json::from_str(include_str!("../../tests/fixtures/hostile-strings.json"))
                .unwrap_or_default();
        let mut fields: Vec<Vec<u8>> = corpus.into_iter().map(String::into_bytes).collect();
        for extra in [
            "",
            "\"",
            "\"\"",
            ",",
            "\r",
            "\n",
            "a\"b",
            "x,y",
            "\r\n",
            " ",
            "é,\"ü\"",
        ] {
            fields.push(extra.as_bytes().to_vec());
        }
        fields
    }

    fn with_csv_crate(fields: &[Vec<u8>]) -> Vec<u8> {
        let mut w = rows_writer(Vec::new());
        w.write_record(fields).unwrap();
        w.into_inner().unwrap()
    }

    #[test]
    fn records_are_the_bytes_the_csv_crate_writes() {
        let fields = awkward_fields();
        assert!(fields.len() > 20);
        for window in fields.windows(3) {
            let mut ours = Vec::new();
            put_record(&mut ours, window);
            assert_eq!(ours, with_csv_crate(window), "{window:?}");
        }
        for one in &fields {
            let record = std::slice::from_ref(one);
            let mut ours = Vec::new();
            put_record(&mut ours, record);
            assert_eq!(ours, with_csv_crate(record), "{one:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_record_is_the_bytes_the_csv_crate_writes(
            fields in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(
                    b"ab,\"\r\n 'x=".to_vec()), 0..6),
                1..5,
            )
        ) {
            let mut ours = Vec::new();
            put_record(&mut ours, &fields);
            proptest::prop_assert_eq!(ours, with_csv_crate(&fields));
        }
    }

    #[test]
    fn times_are_utc_whole_seconds_with_a_space_that_sort_as_text() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let cell = |s: &str| {
            let mut cell = Vec::new();
            push_time(&mut cell, Some(t(s)));
            String::from_utf8(cell).unwrap()
        };
        assert_eq!(
            cell("2026-11-07T15:49:23.918550900Z"),
            "2026-11-07 15:49:23"
        );
        assert_eq!(cell("2026-11-07T16:49:23+01:00"), "2026-11-07 15:49:23");
        // "…47.5Z" sorted before "…47Z" as RFC 3339 text; not so any more.
        assert!(cell("2026-11-07T15:49:47Z") < cell("2026-11-07T15:49:48.5Z"));
        assert!(cell("2026-11-07T15:49:47.5Z") < cell("2026-11-07T15:49:48Z"));
    }

    #[test]
    fn times_are_written_as_chrono_formats_them() {
        let cases = [
            (0, 0),
            (1_795_935_600, 0),
            (1_795_935_600, 5_000_000),
            (1_795_935_600, 845_414_200),
            (1_795_935_600, 845_414_000),
            (1_795_935_600, 1),
            (-62_167_219_200, 0),           // 0000-01-01
            (253_402_300_799, 999_999_999), // 9999-12-31T23:59:59.999999999
            (253_402_300_800, 0),           // 10000-01-01
            (-62_167_219_201, 0),           // before year 0
            (1_483_228_799, 1_500_000_000), // a leap second
        ];
        for (secs, nanos) in cases {
            let t = DateTime::from_timestamp(secs, nanos).unwrap();
            let mut cell = Vec::new();
            push_time(&mut cell, Some(t));
            assert_eq!(
                String::from_utf8(cell).unwrap(),
                t.format(TIME_FORMAT).to_string(),
                "{secs} {nanos}"
            );
        }
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        #[test]
        fn any_time_is_written_as_chrono_writes_it(
            secs in -100_000_000_000i64..300_000_000_000,
            nanos in proptest::prop_oneof![
                proptest::strategy::Just(0u32),
                (0u32..1000).prop_map(|m| m * 1_000_000),
                (0u32..1_000_000).prop_map(|u| u * 1000),
                0u32..1_000_000_000,
            ],
        ) {
            if let Some(t) = DateTime::from_timestamp(secs, nanos) {
                let mut cell = Vec::new();
                push_time(&mut cell, Some(t));
                proptest::prop_assert_eq!(
                    String::from_utf8(cell).unwrap(),
                    t.format(TIME_FORMAT).to_string()
                );
            }
        }
    }

    #[test]
    fn rows_made_in_chunks_by_several_threads_are_the_bytes_made_in_one_go() {
        let fields: Vec<String> = (0..crate::fuzzing::FIELDS_PER_ALERT * 40)
            .map(|i| match i % 5 {
                0 => format!("=cell {i}"),
                1 => String::new(),
                2 => format!("\"quoted\", {i}\r\n"),
                _ => format!("text {i} é"),
            })
            .collect();
        let digest = crate::fuzzing::digest_of(&fields);
        let names = crate::fuzzing::names_of(&fields);
        assert!(digest.alerts.len() > 30);
        let mut whole = Vec::new();
        let store = DetailStore::default();
        let rows = rows_of(&names, &store);
        write_alerts_in_chunks(&mut whole, &digest.alerts, rows, usize::MAX).unwrap();
        let records = csv::Reader::from_reader(&whole[BOM.len()..])
            .records()
            .map(Result::unwrap)
            .count();
        assert_eq!(records, digest.alerts.len(), "a record per alert");
        for rows_per_chunk in [1, 3, 7, 1000] {
            let mut chunked = Vec::new();
            write_alerts_in_chunks(&mut chunked, &digest.alerts, rows, rows_per_chunk).unwrap();
            assert!(chunked == whole, "{rows_per_chunk} rows a chunk");
        }
    }

    #[test]
    fn a_chunk_that_cannot_be_made_fails_the_file_and_nothing_hangs() {
        let fields: Vec<String> = (0..crate::fuzzing::FIELDS_PER_ALERT * 20)
            .map(|i| format!("f{i}"))
            .collect();
        let mut digest = crate::fuzzing::digest_of(&fields);
        // Details said to be in a spill file that is not there: that chunk cannot be made.
        digest.alerts[11].alert.details = crate::alert::Detail::spilled_nowhere();
        let names = Names::default();
        let mut out = Vec::new();
        let store = DetailStore::default();
        let rows = rows_of(&names, &store);
        let err = write_alerts_in_chunks(&mut out, &digest.alerts, rows, 2).unwrap_err();
        assert!(err.to_string().contains("spill"), "{err}");
    }

    #[test]
    fn formula_cells_are_neutralised_and_others_kept() {
        for bad in ["=1+1", "+1", "-2+3", "@SUM(1)", "\tx", "\rx", "\nx"] {
            assert_eq!(text_cell(bad), format!("'{bad}"));
        }
        for good in ["", "abc", "1-2", "a=b", "'quoted"] {
            assert_eq!(text_cell(good), good);
        }
    }
}
