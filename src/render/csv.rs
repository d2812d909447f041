//! `alerts.csv` (one row per unresolved alert) and `summary.csv` (one row per partner ×
//! customer × subscription × alert type). Column names are stable `snake_case` in every language.
//!
//! Rules: header row, RFC 4180 quoting, CRLF, UTF-8 with a byte-order mark (Excel), and text
//! cells that start with `= + - @`, TAB, CR or LF prefixed with `'` so a spreadsheet never runs
//! them as formulas (OWASP). Our own numbers are written as plain numbers.

use std::borrow::Cow;
use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::digest::{Digest, DigestAlert, Partner};
use crate::source::model::Details;
use crate::source::names::Names;
use crate::source::spill::{self, SpillFile};

pub const ALERTS_HEADER: &[&str] = &[
    "digest_date",
    "alert_id",
    "alert_type",
    "alert_type_label",
    "display_name",
    "severity",
    "confidence",
    "status",
    "partner_channel",
    "partner_tenant_id",
    "partner_name",
    "customer_tenant_id",
    "customer_name",
    "subscription_id",
    "subscription_name",
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
    // Empty: the analyst's legitimate / fraud / ignore / investigating, for `resolve --from-csv`.
    "decision",
];

pub const SUMMARY_HEADER: &[&str] = &[
    "digest_date",
    "partner_channel",
    "partner_tenant_id",
    "partner_name",
    "customer_tenant_id",
    "customer_name",
    "subscription_id",
    "subscription_name",
    "alert_type",
    "alert_type_label",
    "alerts",
    "high",
    "medium",
    "low",
    "informational",
    "other_severity",
    "overdue",
];

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
    Ok(csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(out))
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
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
/// details of spilled alerts read back from `spill`.
pub fn write_alerts<W: Write>(
    out: W,
    digest: &Digest,
    digest_date: &str,
    names: &Names,
    spill: Option<&SpillFile>,
) -> anyhow::Result<()> {
    let mut w = writer(out)?;
    w.write_record(ALERTS_HEADER)?;
    for a in &digest.alerts {
        let details = spill::load(spill, &a.alert.details)?;
        w.write_record(
            alert_record(a, &details, digest_date, names)
                .iter()
                .map(String::as_bytes),
        )?;
    }
    w.flush()?;
    Ok(())
}

fn alert_record(
    a: &DigestAlert,
    details: &Details,
    digest_date: &str,
    names: &Names,
) -> Vec<String> {
    let alert = &a.alert;
    let opt = |v: Option<&str>| text_cell(v.unwrap_or("")).into_owned();
    let opt_time = |t: Option<DateTime<Utc>>| t.map(time).unwrap_or_default();
    let ids: Vec<&str> = details
        .affected_resources
        .iter()
        .map(|r| r.resource_id.as_deref().unwrap_or(""))
        .collect();
    let types: Vec<&str> = details
        .affected_resources
        .iter()
        .map(|r| r.resource_type.as_deref().unwrap_or(""))
        .collect();
    vec![
        digest_date.to_owned(),
        text_cell(&alert.id).into_owned(),
        text_cell(&alert.alert_type).into_owned(),
        text_cell(&crate::digest::alert_type::label(&alert.alert_type)).into_owned(),
        opt(alert.display_name.as_deref()),
        text_cell(alert.severity.as_str()).into_owned(),
        text_cell(alert.confidence.as_str()).into_owned(),
        text_cell(alert.status.as_str()).into_owned(),
        channel(&a.partner).to_owned(),
        text_cell(a.partner.key()).into_owned(),
        name_cell(names, Some(a.partner.key()).filter(|k| !k.is_empty())),
        opt(a.customer.as_deref()),
        name_cell(names, a.customer.as_deref()),
        opt(a.subscription.as_deref()),
        name_cell(names, a.subscription.as_deref()),
        opt(alert.catalog_offer_id.as_deref()),
        json_cell(&ids),
        json_cell(&types),
        time(alert.detected),
        opt_time(alert.first_observed),
        opt_time(alert.last_observed),
        a.age.num_hours().max(0).to_string(),
        a.overdue.to_string(),
        alert.is_test.to_string(),
        opt(details.description.as_deref()),
        json_cell(&details.additional_details),
        String::new(),
    ]
}

/// JSON text for list and map cells, so a script can read them back unambiguously; empty
/// when there is nothing to list.
fn json_cell<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_string(value) {
        Ok(text) if text == "[]" || text == "{}" => String::new(),
        Ok(text) => text_cell(&text).into_owned(),
        Err(_) => String::new(),
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
                        &text_cell(&ty.label),
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
