//! The embedded default: the shipped demo config and sample, run as the README says.

use std::path::Path;

use mail_parser::{MessageParser, MimeHeaders};

use crate::support::{AS_OF, read_csv, run_binary, stderr};

/// The demo config and sample copied to `to` and run there as the README says.
pub(super) fn run_demo(to: &Path) -> std::process::Output {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for name in ["demo.toml", "alerts.json", "names.csv"] {
        std::fs::copy(examples.join(name), to.join(name)).expect("copy demo file");
    }
    let config = to.join("demo.toml");
    run_binary(
        &[
            "run",
            "--config",
            config.to_str().unwrap(),
            "--as-of",
            AS_OF,
        ],
        &[],
    )
}

#[test]
fn the_demo_config_writes_every_report_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_demo(dir.path());
    let log = stderr(&output);
    assert!(output.status.success(), "demo run failed: {log}");
    assert!(log.contains("run finished"), "one summary line: {log}");
    assert_eq!(log.matches("run finished").count(), 1);
    assert!(
        log.contains("record set aside"),
        "the sample's bad record is reported: {log}"
    );

    let day = dir.path().join("out/2026-11-29");
    let html = std::fs::read_to_string(day.join("digest.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    assert!(
        !html.contains("<script"),
        "no script from the sample's hostile strings"
    );
    let text = std::fs::read_to_string(day.join("digest.txt")).unwrap();
    assert!(text.contains("unresolved alerts across"), "{text}");
    assert!(
        html.contains("Contoso Ltd (fdc805f9…)")
            && html.contains("Reseller Northwind Cloud Resale"),
        "the demo's names file names tenants"
    );
    // The text part is wrapped to 72 columns: compare it with its line breaks undone.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Subscription Contoso production (4d19ded5-75f4-4692-b122-423db1ef9ae3)"),
        "{text}"
    );
    assert!(log.contains(" name_warnings=0 "), "{log}");

    let (header, alerts) = read_csv(&day.join("alerts.csv"));
    assert_eq!(header[..2], ["digest_date", "alert_id"]);
    assert!(
        alerts.len() > 100,
        "the sample has a few hundred alerts, got {}",
        alerts.len()
    );
    let (_, summary) = read_csv(&day.join("summary.csv"));
    let alerts_col = header_index(&day.join("summary.csv"), "alerts");
    let summed: usize = summary
        .iter()
        .map(|r| r[alerts_col].parse::<usize>().unwrap())
        .sum();
    assert_eq!(
        summed,
        alerts.len(),
        "summary.csv accounts for every alert row"
    );

    let mail: Vec<_> = std::fs::read_dir(day.join("mail"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(mail.len(), 2, "one message per recipient: {mail:?}");
    for path in mail {
        let bytes = std::fs::read(&path).unwrap();
        let message = MessageParser::default().parse(&bytes).expect(".eml parses");
        let subject = message.subject().unwrap();
        assert!(subject.contains("2026-11-29"), "{subject}");
        assert!(
            subject.contains(&format!("{} unresolved alerts", alerts.len())),
            "{subject}"
        );
        assert!(
            message
                .message_id()
                .unwrap()
                .starts_with("digest.2026-11-29.")
        );
        assert!(
            message
                .body_text(0)
                .unwrap()
                .contains("unresolved alerts across")
        );
        assert!(message.body_html(0).unwrap().contains("<html"));
        let names: Vec<_> = message
            .attachments()
            .filter_map(|a| a.attachment_name())
            .collect();
        assert_eq!(names, ["alerts.csv", "summary.csv", "older.csv"]);
    }
}

fn header_index(path: &Path, column: &str) -> usize {
    let (header, _) = read_csv(path);
    header.iter().position(|h| h == column).unwrap()
}
