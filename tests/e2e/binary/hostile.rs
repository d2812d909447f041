//! The injection corpus (rows E1, E2, E4, E5, E6, C10, C11; promise P8): one list of hostile
//! strings — `tests/fixtures/hostile-strings.json` (HTML and script, attribute breakers, template
//! syntax, CSV formulas, CR/LF and SMTP command text, bidi overrides, NUL and other controls,
//! path tricks) plus two 1 MB strings made here — pushed through every field that reaches the
//! HTML, the text, the CSVs, the subject and the file names:
//!
//! - the alert fields an attacker can set (names, descriptions, types, ids, resources…), through
//!   the binary: the HTML tokenizes (html5ever) to the template's elements and attributes only,
//!   the CSV cells are neutralised with a fixed column count, the headers carry no raw CR/LF,
//!   and every file stays where it belongs;
//! - the same strings in every field of one alert, through the fuzz targets' invariants
//!   (`csp_alert_digest::fuzzing`), 1 MB strings included: in-process, in `library/hostile.rs`;
//! - the config values that reach a header or a file name (subject, sender and recipient names),
//!   which are refused at load with the key named, or end up encoded.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::Path;

use csp_alert_digest::fuzzing;
use csp_alert_digest::render::csv::ALERTS_HEADER;
use csp_alert_digest::render::view::PORTAL_URL;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{CommentToken, StartTag, TagToken, Token, TokenSink, TokenSinkResult};
use mail_parser::MessageParser;
use serde_json::json;
use testkit::Toml as _;

use crate::support::hostile::{alert, corpus, hostile_page};
use crate::support::{AS_OF, BASE_CONFIG, Job, read_csv, stderr};

/// Every element and attribute the production template writes; anything else came from data.
const TEMPLATE_ELEMENTS: &[&str] = &[
    "pre", "b", "code", "br", "html", "head", "meta", "title", "style", "body", "table", "tr",
    "td", "th", "div", "h1", "h2", "a", "span", "ol", "li", "p", "tbody",
];
const TEMPLATE_ATTRIBUTES: &[&str] = &[
    "lang",
    "charset",
    "name",
    "content",
    "role",
    "class",
    "width",
    "cellpadding",
    "cellspacing",
    "border",
    "align",
    "valign",
    "style",
    "href",
    "colspan",
    "data-css-inline",
];

/// The template's own comments (Outlook's conditional comments), in order.
fn template_comments() -> Vec<String> {
    let template = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/digest.html"),
    )
    .unwrap();
    template
        .split("<!--")
        .skip(1)
        .map(|rest| rest[..rest.find("-->").unwrap()].to_owned())
        .collect()
}

/// The start and end tags an HTML5 tokenizer finds, and the links and comments among them.
#[derive(Default)]
struct Markup {
    elements: BTreeSet<String>,
    attributes: BTreeSet<String>,
    hrefs: Vec<String>,
    comments: Vec<String>,
    text: String,
}

struct Collect(RefCell<Markup>);

impl TokenSink for Collect {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut markup = self.0.borrow_mut();
        match token {
            TagToken(tag) => {
                markup.elements.insert(tag.name.to_string());
                for attr in &tag.attrs {
                    markup.attributes.insert(attr.name.local.to_string());
                    if &*attr.name.local == "href" {
                        markup.hrefs.push(attr.value.to_string());
                    }
                }
                // The tree builder's job, done here for the two raw-text elements we use.
                if tag.kind == StartTag {
                    match &*tag.name {
                        "style" => return TokenSinkResult::RawData(RawKind::Rawtext),
                        "title" => return TokenSinkResult::RawData(RawKind::Rcdata),
                        _ => {}
                    }
                }
            }
            CommentToken(text) => markup.comments.push(text.to_string()),
            html5ever::tokenizer::CharacterTokens(text) => markup.text.push_str(&text),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

fn tokenize(html: &str) -> Markup {
    crate::support::tokenize_with(html, Collect(RefCell::new(Markup::default())))
        .0
        .into_inner()
}

#[test]
fn hostile_alert_fields_reach_no_markup_formula_header_or_path() {
    let job = Job::new(BASE_CONFIG, &hostile_page());
    let output = job.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let day = job.day("2026-11-29");
    let corpus = corpus();
    assert_html_is_the_templates(&std::fs::read_to_string(day.join("digest.html")).unwrap());

    // Text: one line per fact; no control character but the newline.
    let text = std::fs::read_to_string(day.join("digest.txt")).unwrap();
    assert!(
        !text.contains(|c: char| c.is_control() && c != '\n'),
        "controls in the text part"
    );

    assert_csv_is_neutralised(&day, &corpus);
    assert_files_stay_in_place(job.path());

    // Headers: CRLF line ends only, no header from data, exactly one recipient.
    let eml = std::fs::read(day.join("mail/secops@partner.example.eml")).unwrap();
    assert_headers_are_clean(&eml);
    let message = MessageParser::default().parse(&eml).unwrap();
    assert_eq!(message.to().unwrap().iter().count(), 1);
    assert!(message.bcc().is_none() && message.cc().is_none());
    let subject = message.subject().unwrap();
    assert!(
        corpus
            .iter()
            .filter(|s| s.len() > 3)
            .all(|s| !subject.contains(s.as_str())),
        "no alert text in the subject: {subject}"
    );
}

/// The email lists only the most urgent alerts (its size is capped), so the strings whose
/// display is checked get a digest of their own, where every alert is listed.
#[test]
fn hostile_strings_are_shown_as_text_not_dropped() {
    let shown = [
        "<script>alert(1)</script>",
        "{{7*7}}",
        "\"><img src=x onerror=alert(1)>",
        "\u{202E}gnp.exe",
    ];
    let alerts: Vec<serde_json::Value> =
        shown.iter().enumerate().map(|(i, s)| alert(i, s)).collect();
    let job = Job::new(BASE_CONFIG, &json!({ "value": alerts }).to_string());
    let output = job.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let html = std::fs::read_to_string(job.day("2026-11-29").join("digest.html")).unwrap();
    assert_html_is_the_templates(&html);
    let markup = tokenize(&html);
    for text in &shown[..3] {
        assert!(
            markup.text.contains(text),
            "{text} shown as text, not dropped"
        );
    }
    assert!(
        markup.text.contains("[U+202E]gnp.exe"),
        "a bidi override made visible"
    );
}

/// Only the template's elements and attributes; only the fixed link; data shown as text.
fn assert_html_is_the_templates(html: &str) {
    let markup = tokenize(html);
    let foreign = |found: &BTreeSet<String>, template: &[&str]| -> Vec<String> {
        found
            .iter()
            .filter(|name| !template.contains(&name.as_str()))
            .cloned()
            .collect()
    };
    let elements = foreign(&markup.elements, TEMPLATE_ELEMENTS);
    assert!(elements.is_empty(), "elements from data: {elements:?}");
    let attributes = foreign(&markup.attributes, TEMPLATE_ATTRIBUTES);
    assert!(
        attributes.is_empty(),
        "attributes from data: {attributes:?}"
    );
    assert_eq!(markup.hrefs, [PORTAL_URL], "links are fixed URLs only");
    assert_eq!(
        markup.comments,
        template_comments(),
        "the only comments are the template's"
    );
    assert!(
        !html.contains(['\u{202E}', '\0', '\r']),
        "no raw bidi override, NUL or CR"
    );
    assert!(
        html.len() < 90_000,
        "1 MB strings are cut in the email: {}",
        html.len()
    );
}

/// Neutralised, whole (1 MB cells included), a fixed column count (`read_csv` checks it).
fn assert_csv_is_neutralised(day: &Path, corpus: &[String]) {
    let (header, rows) = read_csv(&day.join("alerts.csv"));
    assert_eq!(header, ALERTS_HEADER);
    assert_eq!(rows.len(), corpus.len());
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for row in &rows {
        let i: usize = row[col("alert_id")]
            .strip_prefix("hostile-")
            .unwrap()
            .parse()
            .unwrap();
        let original = &corpus[i];
        for name in [
            "display_name",
            "description",
            "alert_type",
            "confidence",
            "catalog_offer_id",
        ] {
            // An empty type is read as "unknown", like a missing one.
            let expected = if name == "alert_type" && original.trim().is_empty() {
                "unknown".to_owned()
            } else {
                fuzzing::neutralised(original)
            };
            assert!(row[col(name)] == expected, "{name} of hostile-{i}");
        }
        for cell in row {
            assert!(!cell.starts_with(fuzzing::FORMULA_STARTS), "{cell:?}");
        }
        row[col("age_hours")].parse::<u64>().unwrap();
    }
    let (_, summary) = read_csv(&day.join("summary.csv"));
    assert!(!summary.is_empty());
}

/// The four reports and one `.eml` per configured recipient: nothing else, nowhere else.
fn assert_files_stay_in_place(job: &Path) {
    let files = crate::support::files_under(&job.join("out"));
    let relative: BTreeSet<String> = files
        .iter()
        .map(|f| f.strip_prefix(job).unwrap().display().to_string())
        .collect();
    let expected: BTreeSet<String> = [
        "digest.html",
        "digest.txt",
        "alerts.csv",
        "summary.csv",
        "older.csv",
        "mail/duty@partner.example.eml",
        "mail/secops@partner.example.eml",
    ]
    .iter()
    .map(|f| format!("out/2026-11-29/{f}"))
    .collect();
    assert_eq!(relative, expected);
}

/// The headers a digest message has; any other would have come from data.
const MESSAGE_HEADERS: &[&str] = &[
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "auto-submitted",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

/// Every header line ends in CRLF, with no other CR or LF in it, is 7-bit, and is one of the
/// message's own headers or the folded continuation of one.
fn assert_headers_are_clean(eml: &[u8]) {
    let head_end = eml.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = &eml[..head_end + 2];
    for line in head.split_inclusive(|b| *b == b'\n') {
        let line = line
            .strip_suffix(b"\r\n")
            .expect("a header line ends in CRLF");
        assert!(
            !line.contains(&b'\r') && !line.contains(&b'\n'),
            "a bare CR or LF in a header"
        );
        let text = String::from_utf8_lossy(line);
        assert!(text.is_ascii(), "headers are 7-bit (encoded words): {text}");
        if !text.starts_with([' ', '\t']) {
            let name = text
                .split(':')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            assert!(
                MESSAGE_HEADERS.contains(&name.as_str()),
                "a header from data: {text}"
            );
        }
    }
}

/// Row E6: the config values that reach a header or a file name. Each hostile string as the
/// subject prefix, the sender's display name and a recipient's display name: refused at load
/// with exit 2 naming the key, or the messages carry it encoded in clean headers, and the
/// `.eml` file names come from the address alone.
#[test]
fn hostile_config_values_are_refused_or_encoded_in_headers() {
    let alerts = json!({ "value": [alert(0, "x")] }).to_string();
    for s in corpus().iter().filter(|s| s.len() < 4096) {
        for (key, config) in [
            (
                "mail.subject",
                BASE_CONFIG.replace(
                    "[mail]\n",
                    &format!("[mail]\nsubject = {}\n", s.as_str().toml()),
                ),
            ),
            (
                "mail.from",
                BASE_CONFIG.replace(
                    "from = \"Digest <digest@partner.example>\"",
                    &format!("from = {}", format!("{s} <digest@partner.example>").toml()),
                ),
            ),
            (
                "mail.to",
                BASE_CONFIG.replace(
                    "to = [\"secops@partner.example\", ",
                    &format!("to = [{}, ", format!("{s} <secops@partner.example>").toml()),
                ),
            ),
        ] {
            let job = Job::new(&config, &alerts);
            let output = job.run_at(AS_OF, &[]);
            let log = stderr(&output);
            match output.status.code() {
                Some(2) => assert!(
                    log.contains(key),
                    "{key} = {s:?}: the error names the key: {log}"
                ),
                Some(0) => {
                    let mail = job.day("2026-11-29").join("mail");
                    let mut names: Vec<String> = std::fs::read_dir(&mail)
                        .unwrap()
                        .map(|e| e.unwrap().file_name().into_string().unwrap())
                        .collect();
                    names.sort();
                    assert_eq!(
                        names,
                        ["duty@partner.example.eml", "secops@partner.example.eml"],
                        "{key} = {s:?}"
                    );
                    for name in &names {
                        assert_headers_are_clean(&std::fs::read(mail.join(name)).unwrap());
                    }
                }
                other => panic!("{key} = {s:?}: exit {other:?}: {log}"),
            }
        }
    }
}
