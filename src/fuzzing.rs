//! The invariants the fuzz targets in `fuzz/` check, kept in the library so that the stable test
//! suite replays the committed corpora (`fuzz/corpus/<target>/*`) through the very same code.
//! Each function takes the fuzzer's bytes and panics when an invariant breaks.
//!
//! Not part of the program's interface: the module is hidden from the docs and may change with
//! the tests.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::alert::{
    AffectedResource, Alert, Confidence, Detail, DetailStore, Details, Severity, Text,
};
use crate::digest::{self, Digest, Rules};
use crate::names::{Names, Origin};
use crate::render::lang::Language;
use crate::render::{self, Attachments, Context, View, csv as csv_report, html, text};
use crate::retry::{Class, Jitter, Next, RetryPolicy, parse_retry_after};
use crate::source::graph::paging::Guard;
use crate::source::page::parse_page;

/// The as-of instant every fuzzed digest is made for.
pub fn as_of() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_935_600, 0).unwrap_or_default() // 2026-11-29T07:00:00Z
}

/// Fields an alert takes from the input, in this order; see [`alerts`].
pub const FIELDS_PER_ALERT: usize = 13;

/// At most this many alerts per input: enough for several groups, small enough to stay fast.
const MAX_ALERTS: usize = 40;

/// The input as text fields: invalid UTF-8 (a `0xFF` byte, say) separates them.
pub fn fields(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .split('\u{FFFD}')
        .map(str::to_owned)
        .collect()
}

/// The bytes [`fields`] splits into `fields` (for seeding corpora from lists of strings).
pub fn join_fields<S: AsRef<str>>(fields: &[S]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(0xFF);
        }
        out.extend_from_slice(field.as_ref().as_bytes());
    }
    out
}

/// Unresolved alerts in the window whose every text field comes from `fields`, 13 per alert:
/// id, display name, description, type, severity, confidence, customer, subscription,
/// reseller, catalog offer, resource id, resource type, and one additional detail (its text is
/// both key and value). Empty fields are absent; each alert is detected one minute before the
/// one before it, so the digest's order does not depend on the strings.
pub fn alerts(fields: &[String]) -> Vec<Alert> {
    fields
        .chunks(FIELDS_PER_ALERT)
        .take(MAX_ALERTS)
        .enumerate()
        .map(|(i, f)| {
            let get = |n: usize| f.get(n).filter(|s| !s.is_empty()).cloned();
            let text = |n: usize| get(n).map(Text::from);
            let minutes = i64::try_from(i).unwrap_or(0) + 1;
            Alert {
                display_name: text(1),
                alert_type: text(3).unwrap_or_else(|| "unknown".into()),
                severity: Severity::from_raw(get(4).as_deref().unwrap_or("high")),
                confidence: Confidence::from_raw(get(5).as_deref().unwrap_or("high")),
                customer_tenant_id: text(6),
                subscription_id: text(7),
                reseller_tenant_id: text(8),
                catalog_offer_id: text(9),
                details: Detail::from(&Details {
                    description: get(2),
                    affected_resources: vec![AffectedResource {
                        resource_id: get(10),
                        resource_type: get(11),
                    }],
                    additional_details: get(12)
                        .map(|d| BTreeMap::from([(d.clone(), d)]))
                        .unwrap_or_default(),
                }),
                ..Alert::sample(
                    &get(0).unwrap_or_else(|| format!("alert-{i}")),
                    as_of() - TimeDelta::minutes(minutes),
                )
            }
        })
        .collect()
}

/// The digest of [`alerts`] as of [`as_of`].
pub fn digest_of(fields: &[String]) -> Digest {
    digest::build(
        alerts(fields),
        as_of(),
        Rules {
            window_days: 60,
            include_test_alerts: false,
            timezone: chrono_tz::Europe::Stockholm,
        },
    )
}

/// Names from the data too: each alert's customer is named with its description (a customer
/// picks its own company name).
pub fn names_of(fields: &[String]) -> Names {
    let mut names = Names::default();
    for alert in alerts(fields) {
        let description = alert
            .details
            .held()
            .and_then(|d| d.description.map(str::to_owned));
        if let (Some(customer), Some(name)) = (&alert.customer_tenant_id, description) {
            names.insert(customer, name, Origin::PartnerCenter);
        }
    }
    names
}

fn context<'a>(names: &'a Names, details: &'a DetailStore) -> Context<'a> {
    Context {
        digest_date: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap_or_default(),
        timezone: chrono_tz::Europe::Stockholm,
        language: Language::English,
        subject_prefix: Some("Azure security alerts"),
        set_aside: 0,
        names,
        details,
        stale_sign_in_days: None,
    }
}

// ---------------------------------------------------------------------------------------------
// page: parsing one page of alerts (rows C1–C6, P7)
// ---------------------------------------------------------------------------------------------

/// Parsing a page never panics; a page that parses accounts for every record (parsed or set
/// aside, never lost), and a page that does not names a byte offset inside the input.
pub fn page(data: &[u8]) {
    match parse_page(data, "fuzz") {
        Ok(page) => {
            let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
                let records = match &value {
                    serde_json::Value::Array(items) => items.len(),
                    other => other["value"].as_array().map_or(0, Vec::len),
                };
                assert_eq!(
                    page.alerts.len() + page.set_aside.len(),
                    records,
                    "every record is either parsed or set aside"
                );
                for pair in page.set_aside.windows(2) {
                    assert!(
                        pair[0].index < pair[1].index,
                        "set-aside positions in order"
                    );
                }
                if let Some(last) = page.set_aside.last() {
                    assert!(last.index < records, "a set-aside position inside the page");
                }
            }
            for alert in &page.alerts {
                assert!(!alert.id.trim().is_empty(), "a parsed alert has an id");
            }
            assert!(
                page.next_link.as_deref() != Some(""),
                "an empty nextLink means no next page"
            );
        }
        Err(e) => {
            assert!(
                e.offset <= data.len(),
                "the error's offset lies in the input"
            );
            assert!(
                e.to_string().starts_with("fuzz: "),
                "the error names the page"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// csv: alerts.csv and summary.csv (rows E4, E5)
// ---------------------------------------------------------------------------------------------

/// What a spreadsheet reads as the start of a formula (OWASP), written out here rather than
/// taken from `render::csv`, so the invariant does not trust the code it checks.
pub const FORMULA_STARTS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\n'];

/// What a text cell must hold for `original`: the text itself, behind a `'` when a
/// spreadsheet would otherwise run it as a formula (OWASP).
pub fn neutralised(original: &str) -> String {
    if original.starts_with(FORMULA_STARTS) {
        format!("'{original}")
    } else {
        original.to_owned()
    }
}

/// A CSV report read back: the byte-order mark it starts with stripped, its header row and its
/// records, each checked to have the header's width.
pub fn read_report(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("a CSV report starts with a UTF-8 byte-order mark");
    let mut reader = csv::ReaderBuilder::new().from_reader(body);
    let found: Vec<String> = reader
        .headers()
        .expect("a header row")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| {
            r.expect("every record parses")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    for row in &rows {
        assert_eq!(row.len(), found.len(), "a fixed column count");
    }
    (found, rows)
}

fn read_csv(bytes: &[u8], header: &[&str]) -> Vec<Vec<String>> {
    let (found, rows) = read_report(bytes);
    assert_eq!(found, header, "the header row is the documented one");
    for cell in rows.iter().flatten() {
        assert!(
            !cell.starts_with(FORMULA_STARTS),
            "no cell starts like a formula: {cell:?}"
        );
    }
    rows
}

/// Both CSV reports read back with a CSV reader: the documented header, one record per alert
/// (per group in the summary) with a fixed column count, no cell that a spreadsheet would run
/// as a formula, and every text cell the alert's text exactly (behind a `'` when neutralised).
pub fn csv(data: &[u8]) {
    let fields = fields(data);
    let digest = digest_of(&fields);
    let day = "2026-11-29";

    let mut alerts_csv = Vec::new();
    let names = names_of(&fields);
    csv_report::write_alerts(
        &mut alerts_csv,
        &digest.alerts,
        csv_report::Rows {
            digest_date: day,
            names: &names,
            store: &DetailStore::default(),
            signed_in_tenant: "",
        },
    )
    .expect("alerts.csv renders");
    let rows = read_csv(&alerts_csv, csv_report::ALERTS_HEADER);
    assert_eq!(rows.len(), digest.alerts.len(), "one record per alert");
    let column = |name: &str| {
        csv_report::ALERTS_HEADER
            .iter()
            .position(|h| *h == name)
            .expect("a documented column")
    };
    for (row, placed) in rows.iter().zip(&digest.alerts) {
        let a = &placed.alert;
        let details = a
            .details
            .held()
            .expect("the alerts are built with their details held")
            .to_details();
        let text = |v: &Option<Text>| v.as_deref().unwrap_or_default().to_owned();
        for (name, original) in [
            ("alert_id", a.id.clone()),
            ("alert_type", a.alert_type.to_string()),
            ("display_name", text(&a.display_name)),
            (
                "description",
                details.description.clone().unwrap_or_default(),
            ),
            ("severity", a.severity.as_str().to_owned()),
            ("confidence", a.confidence.as_str().to_owned()),
            ("customer_tenant_id", text(&placed.customer)),
            ("subscription_id", text(&placed.subscription)),
            ("partner_tenant_id", placed.partner.key().to_owned()),
            ("catalog_offer_id", text(&a.catalog_offer_id)),
        ] {
            assert_eq!(row[column(name)], neutralised(&original), "{name}");
        }
        let cell = &row[column("additional_details")];
        if !details.additional_details.is_empty() {
            let json: BTreeMap<String, String> = serde_json::from_str(cell)
                .expect("additional_details is JSON text, never neutralised (it starts with {)");
            assert_eq!(
                json, details.additional_details,
                "additional_details round-trips"
            );
        }
        row[column("age_hours")]
            .parse::<u64>()
            .expect("age_hours stays a number");
        assert!(matches!(row[column("overdue")].as_str(), "true" | "false"));
        assert_eq!(row[column("digest_date")], day);
    }

    let mut summary_csv = Vec::new();
    csv_report::write_summary(&mut summary_csv, &digest, day, &names).expect("summary.csv renders");
    let rows = read_csv(&summary_csv, csv_report::SUMMARY_HEADER);
    let alerts_column = csv_report::SUMMARY_HEADER
        .iter()
        .position(|h| *h == "alerts")
        .expect("an alerts column");
    let counted: usize = rows
        .iter()
        .map(|r| {
            r[alerts_column]
                .parse::<usize>()
                .expect("counts are numbers")
        })
        .sum();
    assert_eq!(
        counted,
        digest.alerts.len(),
        "the summary counts every alert once"
    );
}

// ---------------------------------------------------------------------------------------------
// html: the HTML and text parts (rows E1, E2, C10, C11)
// ---------------------------------------------------------------------------------------------

/// The characters an HTML escaper must handle, and stand-ins that no escaper touches.
const MARKUP: [(char, char); 5] = [
    ('<', '\u{E000}'),
    ('>', '\u{E001}'),
    ('&', '\u{E002}'),
    ('"', '\u{E003}'),
    ('\'', '\u{E004}'),
];

/// Swaps each markup character with its stand-in, both ways: a one-to-one mapping, so the same
/// alerts group, count and sort the same after it, and the stand-ins cannot form markup.
fn without_markup(field: &str) -> String {
    field
        .chars()
        .map(|c| {
            MARKUP
                .iter()
                .find_map(|&(m, s)| {
                    if c == m {
                        Some(s)
                    } else if c == s {
                        Some(m)
                    } else {
                        None
                    }
                })
                .unwrap_or(c)
        })
        .collect()
}

/// Every tag of an HTML document as written, `<` to `>`.
fn tags(html: &str) -> Vec<&str> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let end = rest[start..]
            .find('>')
            .map_or(rest.len(), |e| start + e + 1);
        tags.push(&rest[start..end]);
        rest = &rest[end..];
    }
    tags
}

fn rendered(fields: &[String]) -> (View, String, String) {
    let digest = digest_of(fields);
    let names = names_of(fields);
    let view = View::build(
        &digest,
        &context(&names, &DetailStore::default()),
        render::view::Limits::FULL,
        Attachments::fitting(1, 1, 1, 10),
    );
    let html = html::render(&view).expect("the HTML renders");
    let text = text::render(&view).expect("the text renders");
    (view, html, text)
}

/// Characters that change how text displays without being visible (bidi overrides, isolates,
/// zero-width characters, the byte-order mark); `render::display` has its own list, which this
/// one checks.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{061C}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// The HTML part's markup comes from the template alone: rendered from the alerts as given and
/// from the same alerts with every markup character swapped for an inert stand-in, it has the
/// same tags, attributes and links. The text part has the same lines either way (no line
/// breaks from data), the subject is the same (no data in it), and neither part holds a
/// control character (but the newline) or an invisible formatting character.
pub fn html(data: &[u8]) {
    let fields = fields(data);
    let (view, html, text) = rendered(&fields);
    let inert: Vec<String> = fields.iter().map(|f| without_markup(f)).collect();
    let (inert_view, inert_html, inert_text) = rendered(&inert);

    assert_eq!(
        tags(&html),
        tags(&inert_html),
        "every tag and attribute comes from the template"
    );
    assert_eq!(
        text.lines().count(),
        inert_text.lines().count(),
        "no line breaks from data in the text part"
    );
    // The subject carries counts only, and at its end a single named customer's name.
    let counts = |subject: &str| {
        subject
            .split_once(") in ")
            .map_or(subject, |(counts, _)| counts)
            .to_owned()
    };
    assert_eq!(
        counts(&view.subject),
        counts(&inert_view.subject),
        "no alert data in the subject's counts"
    );
    assert!(
        !view.subject.chars().any(char::is_control),
        "the subject is one line"
    );
    for (part, body) in [("HTML", &html), ("text", &text)] {
        if let Some(c) = body
            .chars()
            .find(|&c| (c.is_control() && c != '\n') || is_invisible(c))
        {
            panic!("the {part} part holds U+{:04X}", u32::from(c));
        }
    }
    // Inside tags only: text may hold `href="` (quotes need no escaping in text).
    let hrefs: Vec<&str> = tags(&html)
        .into_iter()
        .filter_map(|tag| tag.split_once("href=\""))
        .map(|(_, s)| &s[..s.find('"').unwrap_or(s.len())])
        .collect();
    assert!(
        hrefs.iter().all(|h| *h == render::view::PORTAL_URL),
        "links are fixed URLs only: {hrefs:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// retry_after: Retry-After and the backoff it leads to (rows B1, B2, P3, P4)
// ---------------------------------------------------------------------------------------------

/// `Retry-After` parses to the seconds given, the time until the date given (zero when past),
/// or nothing; and whatever it says, the policy never waits past its cap, never retries past
/// its attempts, and backs off no longer than its longest step.
pub fn retry_after(data: &[u8]) {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_935_600);
    let (&attempt, header) = data.split_first().unwrap_or((&1, &[]));
    let header = String::from_utf8_lossy(header);
    let parsed = parse_retry_after(&header, now);
    let trimmed = header.trim();
    if let Ok(seconds) = trimmed.parse::<u64>() {
        assert_eq!(parsed, Some(Duration::from_secs(seconds)), "delay-seconds");
    } else if let Ok(date) = httpdate::parse_http_date(trimmed) {
        assert_eq!(
            parsed,
            Some(date.duration_since(now).unwrap_or(Duration::ZERO)),
            "an HTTP-date"
        );
    } else {
        assert_eq!(parsed, None, "anything else is ignored: {trimmed:?}");
    }

    let policy = RetryPolicy::default();
    let mut jitter = Jitter::seeded(u64::from(attempt));
    for class in [Class::Throttled, Class::Flaky] {
        let limit = match class {
            Class::Throttled => policy.throttled_attempts,
            Class::Flaky => policy.flaky_attempts,
        };
        let attempt = u32::from(attempt);
        match policy.next(class, attempt, parsed, &mut jitter) {
            Next::GiveUp => assert!(attempt >= limit, "gave up early"),
            Next::Wait(wait) => {
                assert!(attempt < limit, "retried past the attempts");
                let cap = if parsed.is_some() {
                    policy.max_retry_after
                } else {
                    policy.max_backoff
                };
                assert!(wait <= cap, "waits {wait:?}, past {cap:?}");
                if let Some(asked) = parsed {
                    assert_eq!(wait, asked, "Retry-After honoured as given");
                }
            }
            Next::WaitTooLong(wait) => {
                assert!(parsed == Some(wait) && wait > policy.max_retry_after);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// next_link: following @odata.nextLink (rows B8, B9, B10)
// ---------------------------------------------------------------------------------------------

/// A nextLink is followed only to the configured scheme, host and port, never with user-info,
/// exactly as parsed (no re-encoding), and never twice; a refusal never quotes the user-info.
pub fn next_link(data: &[u8]) {
    let (&choice, link) = data.split_first().unwrap_or((&0, &[]));
    let origin = if choice % 2 == 0 {
        "https://graph.microsoft.com"
    } else {
        "http://127.0.0.1:8080"
    };
    let origin = reqwest::Url::parse(origin).expect("a valid origin");
    let link = String::from_utf8_lossy(link);
    let mut guard = Guard::new(&origin, 2);
    match guard.next_link(&link) {
        Ok(url) => {
            assert_eq!(url.scheme(), origin.scheme(), "same scheme");
            assert_eq!(url.host_str(), origin.host_str(), "same host");
            assert_eq!(
                url.port_or_known_default(),
                origin.port_or_known_default(),
                "same port"
            );
            assert!(
                url.username().is_empty() && url.password().is_none(),
                "no user-info"
            );
            let parsed = reqwest::Url::parse(&link).expect("what was followed parses");
            assert_eq!(
                url.as_str(),
                parsed.as_str(),
                "followed as parsed, not re-encoded"
            );
            guard.visit(&url).expect("a first visit");
            assert!(guard.visit(&url).is_err(), "a second visit is a loop");
        }
        Err(refusal) => {
            // The same link without its user-info is refused in the same words (so they never
            // hold the user-info), or followed, when the user-info was what was refused.
            if let Ok(mut bare) = reqwest::Url::parse(&link)
                && (!bare.username().is_empty() || bare.password().is_some())
                && bare.set_username("").is_ok()
                && bare.set_password(None).is_ok()
            {
                match Guard::new(&origin, 2).next_link(bare.as_str()) {
                    Err(other) => assert_eq!(
                        refusal.to_string(),
                        other.to_string(),
                        "a refusal does not depend on the user-info"
                    ),
                    Ok(_) => assert!(refusal.to_string().contains("user credentials")),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Invariant = fn(&[u8]);

    /// The committed corpora replayed on stable: every input that once found new behaviour in
    /// `cargo fuzz`, through the same invariants.
    #[test]
    fn the_committed_fuzz_corpora_keep_their_invariants() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        let targets: [(&str, Invariant); 5] = [
            ("page", page),
            ("csv", csv),
            ("html", html),
            ("retry_after", retry_after),
            ("next_link", next_link),
        ];
        for (name, check) in targets {
            let dir = root.join(name);
            let mut inputs: Vec<_> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| e.expect("a corpus entry").path())
                .collect();
            inputs.sort();
            assert!(!inputs.is_empty(), "{name}: an empty corpus");
            for input in inputs {
                let bytes = std::fs::read(&input).expect("a corpus file");
                let replay = std::panic::catch_unwind(|| check(&bytes));
                assert!(
                    replay.is_ok(),
                    "{name}: {} breaks an invariant",
                    input.display()
                );
            }
        }
    }

    #[test]
    fn fields_split_on_invalid_utf8_and_join_back() {
        let fields = ["a", "=1+1", "", "<b>"];
        assert_eq!(super::fields(&join_fields(&fields)), fields);
    }

    #[test]
    fn the_html_invariant_catches_markup_from_data() {
        // The check itself must bite: a tag that only one of the two renders has differs.
        assert_ne!(tags("<td>x</td>"), tags("<td>x<b></td>"));
        assert_eq!(
            without_markup("<a href='x'>&\u{E000}"),
            "\u{E000}a href=\u{E004}x\u{E004}\u{E001}\u{E002}<"
        );
    }
}
