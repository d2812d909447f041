//! The email stays under Gmail's ~100 KB clipping limit however many alerts there are; the CSV
//! carries the rest.

use crate::support::{BASE_CONFIG, Job, read_csv, stderr};
use std::collections::BTreeSet;

fn many_alerts(n: usize) -> String {
    let alerts: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"id":"{i:08x}-0000-4000-8000-000000000000","displayName":"Action Required: Subscription Usage Anomaly Detected on a rather long title {i}",
                "alertType":"type{t}","status":"active","severity":"{sev}","customerTenantId":"{c:08x}-1111-4222-8333-944455566677",
                "subscriptionId":"{s:08x}-2222-4333-8444-955566677788","valueAddedResellerTenantId":{r},
                "detectedDateTime":"2026-11-{d:02}T{h:02}:00:00Z",
                "affectedResources":[{{"resourceId":"/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-{i}","resourceType":"AzureResource"}}]}}"#,
                t = i % 40,
                sev = ["high", "medium", "low", "informational"][i % 4],
                c = i % 3000,
                s = i % 4500,
                r = if i % 3 == 0 { "null".to_owned() } else { format!("\"{:08x}-3333-4444-8555-666677778888\"", i % 200) },
                d = 1 + i % 28,
                h = i % 24,
            )
        })
        .collect();
    format!("{{\"value\":[{}]}}", alerts.join(","))
}

#[test]
fn the_html_stays_under_100_kb_with_fifty_thousand_alerts() {
    let job = Job::new(BASE_CONFIG, &many_alerts(50_000));
    let output = job.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let day = job.day("2026-11-29");
    let html = std::fs::read_to_string(day.join("digest.html")).unwrap();
    assert!(html.len() < 100_000, "digest.html is {} bytes", html.len());
    let (listed, more) = listed_and_more(&html);
    assert_eq!(listed + more, 50_000);
    // The worst case for size: nearly every listed alert has a customer and subscription of its
    // own, and 25 alert types fill the type table. Above the drill-down the email lists "Act
    // first" (whole customers, most high and critical first) and the 10 overdue alerts, and
    // draws the 14-day chart; the drill-down gives way to them.
    let rows_in = |title: &str| {
        let section = html
            .split("<h2")
            .find(|s| s.contains(title))
            .unwrap_or_else(|| panic!("a section {title:?}"));
        section.matches("class=\"age").count()
    };
    let act_first = rows_in("Act first");
    assert!(act_first >= 10, "act first lists {act_first} alerts");
    assert_eq!(rows_in("Overdue"), 10, "the 10 first overdue alerts");
    assert_eq!(rows_in("By partner, customer and subscription"), listed);
    assert!(listed >= 10, "the drill-down still lists {listed} alerts");
    let ids: BTreeSet<&str> = html
        .split("<code>")
        .skip(1)
        .filter_map(|s| s.split_once("</code>"))
        .map(|(id, _)| id)
        .collect();
    assert!(
        ids.len() >= 30,
        "the email shows {} distinct alerts, each with its whole id (act first {act_first}, drill-down {listed})",
        ids.len()
    );
    assert!(html.contains("15 more alert types are in summary.csv"));
    let text = std::fs::read_to_string(day.join("digest.txt")).unwrap();
    assert_eq!(
        listed_and_more(&text),
        (listed, more),
        "text and HTML list the same alerts"
    );
    let (_, rows) = read_csv(&day.join("alerts.csv"));
    assert_eq!(rows.len(), 50_000, "the CSV carries every alert");
}

/// Reads "The N most urgent alerts are listed above; M more are in the attached alerts.csv."
fn listed_and_more(report: &str) -> (usize, usize) {
    let sentence = report
        .split("The ")
        .find_map(|s| s.split_once(" most urgent alerts are listed above; "))
        .expect("the cap sentence");
    let more = sentence.1.split(' ').next().unwrap();
    (sentence.0.parse().unwrap(), more.parse().unwrap())
}

#[test]
fn csvs_too_large_to_attach_stay_in_the_run_folder_and_the_email_says_so() {
    // 3,000 alerts with 2 KB descriptions: alerts.csv passes the 5 MiB attachment limit
    let page = many_alerts(3000).replace(
        "\"alertType\"",
        &format!("\"description\":\"{}\",\"alertType\"", "d".repeat(2000)),
    );
    let job = Job::new(BASE_CONFIG, &page);
    let output = job.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let day = job.day("2026-11-29");
    let csv = std::fs::metadata(day.join("alerts.csv")).unwrap().len();
    assert!(csv > 5 * 1024 * 1024, "alerts.csv is {csv} bytes");
    let eml = std::fs::read(day.join("mail/secops@partner.example.eml")).unwrap();
    assert!(
        eml.len() < 1024 * 1024,
        "the message is {} bytes",
        eml.len()
    );
    let message = mail_parser::MessageParser::default().parse(&eml).unwrap();
    let names: Vec<_> = message
        .attachments()
        .filter_map(mail_parser::MimeHeaders::attachment_name)
        .collect();
    assert_eq!(names, ["summary.csv", "older.csv"]);
    let text = message.body_text(0).unwrap();
    assert!(
        text.contains("alerts.csv (") && text.contains("too large to attach"),
        "{text}"
    );
}

/// Runs the job's `run` with `TMPDIR` set; returns its output.
fn run_with_tmpdir(job: &Job, tmpdir: &std::path::Path) -> std::process::Output {
    job.run_with(
        &["--as-of", "2026-11-29T07:00:00Z", "--dry-run"],
        &[("TMPDIR", tmpdir.to_str().unwrap())],
    )
}

#[test]
fn a_large_digest_moves_its_details_to_the_spill_file_and_gets_them_back_whole() {
    // 4,000 alerts with 3 KB descriptions of their own (12 MB, past the 8 MiB the job keeps
    // in memory); every other alert has no title, so the email shows its description.
    let page = many_alerts(4000);
    let mut alerts: Vec<serde_json::Value> = serde_json::from_str::<serde_json::Value>(&page)
        .unwrap()["value"]
        .as_array()
        .unwrap()
        .clone();
    for (i, a) in alerts.iter_mut().enumerate() {
        a["description"] = format!("details of alert {i}: {}", "x".repeat(3000)).into();
        if i % 2 == 0 {
            a.as_object_mut().unwrap().remove("displayName");
        }
    }
    let job = Job::new(
        BASE_CONFIG,
        &serde_json::json!({ "value": alerts }).to_string(),
    );

    let tmp = tempfile::tempdir().unwrap();
    let output = run_with_tmpdir(&job, tmp.path());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stderr(&output).contains("spill"), "{}", stderr(&output));
    let day = job.day("2026-11-29.dry-run");
    let (header, rows) = read_csv(&day.join("alerts.csv"));
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(rows.len(), 4000);
    for row in &rows {
        let id = &row[column("alert_id")];
        let i = usize::from_str_radix(&id[..8], 16).unwrap();
        assert_eq!(
            row[column("description")],
            format!("details of alert {i}: {}", "x".repeat(3000)),
            "{id}"
        );
        assert!(row[column("affected_resource_ids")].contains(&format!("vm-{i}\"")));
    }
    let html = std::fs::read_to_string(day.join("digest.html")).unwrap();
    assert!(
        html.contains("details of alert "),
        "an untitled listed alert shows its description, read back from the spill file"
    );
    assert!(
        std::fs::read_dir(tmp.path()).unwrap().next().is_none(),
        "the spill file has no name in TMPDIR"
    );

    // Where no spill file can be made (TMPDIR is a file), the job says so and keeps the
    // details in memory: the same reports. This is also what shows that the run above used
    // a spill file at this size.
    let not_a_folder = tmp.path().join("file");
    std::fs::write(&not_a_folder, "").unwrap();
    let before = std::fs::read(day.join("alerts.csv")).unwrap();
    let output = run_with_tmpdir(&job, &not_a_folder);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot create a spill file; alert details stay in memory"),
        "{}",
        stderr(&output)
    );
    assert!(std::fs::read(day.join("alerts.csv")).unwrap() == before);

    // A small digest never needs one: no warning even without a usable TMPDIR.
    let small = Job::new(BASE_CONFIG, &many_alerts(100));
    let output = run_with_tmpdir(&small, &not_a_folder);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stderr(&output).contains("spill"), "{}", stderr(&output));
}
