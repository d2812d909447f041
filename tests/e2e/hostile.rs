//! Hostile strings an attacker can plant in alert fields (resource names, descriptions…), pushed
//! through every output: HTML, text, CSV, subject and file names.

use csp_alert_digest::render::csv::ALERTS_HEADER;
use mail_parser::MessageParser;

use crate::harness::{BASE_CONFIG, Job, read_csv, stderr};

/// The corpus. Each entry is a JSON string literal's content (already JSON-escaped).
pub const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "\\\"><img src=x onerror=alert(1)>",
    "</td></table><h1>forged</h1>",
    "' onmouseover='alert(1)",
    "{{7*7}}{% raw %}${7*7}",
    "=HYPERLINK(\\\"http://evil.example\\\",\\\"x\\\")",
    "+1+1",
    "-2+3",
    "@SUM(1)",
    "\\tTAB",
    "\\r\\nBcc: victim@evil.example\\r\\n",
    "line\\r\\n.\\r\\nMAIL FROM:<x@evil.example>\\r\\nRCPT TO:<y@evil.example>",
    "\\u202Egnp.exe",
    "zero\\u200Bwidth\\u2066isolate",
    "NUL\\u0000byte",
    "emoji 🚨 and \\\"quotes\\\", commas; semicolons",
    "../../../etc/passwd",
];

fn alert(i: usize, s: &str) -> String {
    format!(
        r#"{{"id":"hostile-{i}","displayName":"{s}","description":"{s}","alertType":"{s}",
            "status":"active","severity":"high","confidenceLevel":"{s}",
            "customerTenantId":"{s}","subscriptionId":"{s}","valueAddedResellerTenantId":"{s}",
            "catalogOfferId":"{s}","detectedDateTime":"2026-11-28T00:00:00Z",
            "affectedResources":[{{"resourceId":"{s}","resourceType":"{s}"}}],
            "additionalDetails":{{"{s}":"{s}"}}}}"#
    )
}

pub fn hostile_page() -> String {
    let alerts: Vec<String> = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, s)| alert(i, s))
        .collect();
    format!("{{\"value\":[{}]}}", alerts.join(","))
}

/// The corpus as the service would deliver it (JSON-unescaped).
fn decoded() -> Vec<String> {
    HOSTILE
        .iter()
        .map(|s| serde_json::from_str::<String>(&format!("\"{s}\"")).unwrap())
        .collect()
}

/// Every element the production template uses; anything else came from data.
const TEMPLATE_TAGS: &[&str] = &[
    "doctype", "html", "head", "meta", "title", "style", "body", "table", "tr", "td", "th", "div",
    "h1", "h2", "a", "span", "ol", "li", "p", "tbody",
];

/// The template's conditional comments for Outlook (fixed text, not from data).
const TEMPLATE_COMMENTS: &[&str] = &["<!--[if mso]>", "<![endif]-->"];

/// The markup of every tag: from each `<` to the next `>`.
fn tags(html: &str) -> Vec<&str> {
    html.match_indices('<')
        .map(|(i, _)| &html[i..=i + html[i..].find('>').expect("tag closes")])
        .collect()
}

#[test]
fn hostile_strings_are_escaped_in_the_html() {
    let job = Job::new(BASE_CONFIG, &hostile_page());
    let output = job.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let html = std::fs::read_to_string(job.day("2026-11-29").join("digest.html")).unwrap();
    for tag in tags(&html) {
        if TEMPLATE_COMMENTS.contains(&tag) {
            continue;
        }
        let name: String = tag
            .trim_start_matches(['<', '/', '!'])
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        assert!(
            TEMPLATE_TAGS.contains(&name.to_ascii_lowercase().as_str()),
            "tag from data: {tag}"
        );
        assert!(
            !tag.contains("onerror") && !tag.contains("onmouseover"),
            "attribute from data: {tag}"
        );
    }
    // css-inline re-serialises the document: escaped text comes out as named entities.
    assert!(html.contains("&lt;script&gt;"), "escaped, not dropped");
    assert!(html.contains("{{7*7}}"), "template syntax shown literally");
    assert!(html.contains("[U+202E]"), "bidi override made visible");
    assert!(!html.contains('\u{202E}') && !html.contains('\0'));
    // The only links are fixed URLs.
    let hrefs: Vec<&str> = html
        .split("href=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(
        hrefs,
        ["https://partner.microsoft.com/dashboard/commerce2/insights/security/alerts"]
    );
}

#[test]
fn hostile_strings_are_neutralised_in_the_csv_and_read_back_whole() {
    let job = Job::new(BASE_CONFIG, &hostile_page());
    let output = job.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let day = job.day("2026-11-29");
    let bytes = std::fs::read(day.join("alerts.csv")).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFdigest_date,"));
    assert!(
        bytes.windows(2).filter(|w| w == b"\r\n").count() > HOSTILE.len(),
        "CRLF records"
    );

    let (header, rows) = read_csv(&day.join("alerts.csv"));
    assert_eq!(header, ALERTS_HEADER);
    assert_eq!(rows.len(), HOSTILE.len());
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let corpus = decoded();
    for row in &rows {
        let display = &row[col("display_name")];
        let original = corpus
            .iter()
            .find(|s| display == *s || display.strip_prefix('\'') == Some(s.as_str()))
            .unwrap_or_else(|| {
                panic!("{display:?} is not a corpus entry, altered beyond the prefix")
            });
        let dangerous = original.starts_with(['=', '+', '-', '@', '\t', '\r', '\n']);
        let expected = if dangerous {
            format!("'{original}")
        } else {
            original.clone()
        };
        for name in ["display_name", "description", "alert_type", "confidence"] {
            assert_eq!(&row[col(name)], &expected, "{name}");
        }
        // numbers stay numbers
        row[col("age_hours")].parse::<u64>().unwrap();
    }
}

#[test]
fn hostile_strings_never_reach_headers_or_file_names() {
    let job = Job::new(BASE_CONFIG, &hostile_page());
    let output = job.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let day = job.day("2026-11-29");
    let mut names: Vec<String> = std::fs::read_dir(day.join("mail"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["duty@partner.example.eml", "secops@partner.example.eml"]
    );
    let entries: Vec<String> = std::fs::read_dir(&day)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(entries.len(), 5, "four reports and mail/: {entries:?}");

    let eml = std::fs::read(day.join("mail/secops@partner.example.eml")).unwrap();
    let head_end = eml.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = &eml[..head_end + 2];
    for line in head.split_inclusive(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\n").expect("a whole line");
        assert!(line.ends_with(b"\r"), "every header line ends in CRLF");
        assert!(
            !line[..line.len() - 1].contains(&b'\r'),
            "no bare CR in headers"
        );
    }
    let head = String::from_utf8_lossy(head);
    assert!(
        !head.contains("evil.example") && !head.contains("Bcc"),
        "{head}"
    );
    let message = MessageParser::default().parse(&eml).unwrap();
    assert_eq!(message.to().unwrap().iter().count(), 1);
    assert!(message.bcc().is_none());
}

#[test]
fn a_one_megabyte_description_is_cut_in_the_email_and_whole_in_the_csv() {
    let huge = "A".repeat(1_000_000);
    let page = format!("[{}]", alert(0, &huge));
    let job = Job::new(BASE_CONFIG, &page);
    let output = job.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let day = job.day("2026-11-29");
    let html = std::fs::metadata(day.join("digest.html")).unwrap().len();
    assert!(html < 30_000, "HTML is {html} bytes");
    let (header, rows) = read_csv(&day.join("alerts.csv"));
    let description = header.iter().position(|h| h == "description").unwrap();
    assert_eq!(rows[0][description].len(), 1_000_000);
}
