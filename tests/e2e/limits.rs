//! The email stays under Gmail's ~100 KB clipping limit however many alerts there are; the CSV
//! carries the rest.

use crate::harness::{BASE_CONFIG, Job, read_csv, stderr};

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
    // own, and 25 alert types fill the type table. Besides the drill-down, the email lists the
    // 10 oldest overdue alerts and draws the 14-day chart.
    assert!(
        listed >= 30,
        "the email still lists the {listed} most urgent alerts"
    );
    assert_eq!(
        html.matches("class=\"age late\"").count(),
        listed + 10,
        "the 10 oldest overdue alerts are listed too"
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
    assert_eq!(names, ["summary.csv"]);
    let text = message.body_text(0).unwrap();
    assert!(
        text.contains("alerts.csv (") && text.contains("too large to attach"),
        "{text}"
    );
}
