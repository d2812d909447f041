//! The injection corpus: one list of hostile strings (`tests/fixtures/hostile-strings.json`) plus
//! two 1 MB strings made here, and pages of alerts carrying them in every field.

use std::path::Path;

use serde_json::json;

/// The shared list, and two strings of 1 MB: one plain, one of markup and line breaks behind a
/// formula sign.
pub fn corpus() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile-strings.json");
    let mut strings: Vec<String> =
        serde_json::from_slice(&std::fs::read(path).expect("the corpus")).expect("a JSON list");
    strings.push("A".repeat(1 << 20));
    strings.push(format!("={}", "<b>\r\n.\r\n".repeat((1 << 20) / 10)));
    strings
}

/// An alert whose every text field is `s`.
pub fn alert(i: usize, s: &str) -> serde_json::Value {
    json!({
        "id": format!("hostile-{i}"), "displayName": s, "description": s, "alertType": s,
        "status": "active", "severity": "high", "confidenceLevel": s,
        "customerTenantId": s, "subscriptionId": s, "valueAddedResellerTenantId": s,
        "catalogOfferId": s, "detectedDateTime": "2026-11-28T00:00:00Z",
        "affectedResources": [{"resourceId": s, "resourceType": s}],
        "additionalDetails": {s: s}
    })
}

/// One page with an alert per corpus entry.
pub fn hostile_page() -> String {
    let alerts: Vec<serde_json::Value> = corpus()
        .iter()
        .enumerate()
        .map(|(i, s)| alert(i, s))
        .collect();
    json!({ "value": alerts }).to_string()
}
