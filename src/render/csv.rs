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
    let mut line = Line::default();
    for a in &digest.alerts {
        let details = spill::load(spill, &a.alert.details)?;
        line.fill(a, &details, digest_date, names);
        w.write_record(line.cells())?;
    }
    w.flush()?;
    Ok(())
}

/// One row of `alerts.csv`, its cells in reused buffers: a million rows need no allocation
/// per cell.
#[derive(Default)]
struct Line {
    cells: Vec<String>,
}

impl Line {
    fn cells(&self) -> impl Iterator<Item = &[u8]> {
        self.cells.iter().map(String::as_bytes)
    }

    fn fill(&mut self, a: &DigestAlert, details: &Details, digest_date: &str, names: &Names) {
        use std::fmt::Write as _;
        let alert = &a.alert;
        self.cells.resize_with(ALERTS_HEADER.len(), String::new);
        for cell in &mut self.cells {
            cell.clear();
        }
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
        let partner = Some(a.partner.key()).filter(|k| !k.is_empty());
        let c = &mut self.cells;
        c[0].push_str(digest_date);
        c[1].push_str(&text_cell(&alert.id));
        c[2].push_str(&text_cell(&alert.alert_type));
        c[3].push_str(&text_cell(&crate::digest::alert_type::label(
            &alert.alert_type,
        )));
        c[4].push_str(&text_cell(alert.display_name.as_deref().unwrap_or("")));
        c[5].push_str(&text_cell(alert.severity.as_str()));
        c[6].push_str(&text_cell(alert.confidence.as_str()));
        c[7].push_str(&text_cell(alert.status.as_str()));
        c[8].push_str(channel(&a.partner));
        c[9].push_str(&text_cell(a.partner.key()));
        c[10].push_str(&name_cell(names, partner));
        c[11].push_str(&text_cell(a.customer.as_deref().unwrap_or("")));
        c[12].push_str(&name_cell(names, a.customer.as_deref()));
        c[13].push_str(&text_cell(a.subscription.as_deref().unwrap_or("")));
        c[14].push_str(&name_cell(names, a.subscription.as_deref()));
        c[15].push_str(&text_cell(alert.catalog_offer_id.as_deref().unwrap_or("")));
        c[16].push_str(&json_cell(&ids));
        c[17].push_str(&json_cell(&types));
        push_time(&mut c[18], Some(alert.detected));
        push_time(&mut c[19], alert.first_observed);
        push_time(&mut c[20], alert.last_observed);
        let _ = write!(c[21], "{}", a.age.num_hours().max(0));
        let _ = write!(c[22], "{}", a.overdue);
        let _ = write!(c[23], "{}", alert.is_test);
        c[24].push_str(&text_cell(details.description.as_deref().unwrap_or("")));
        c[25].push_str(&json_cell(&details.additional_details));
        // c[26], the decision, stays empty.
    }
}

fn push_time(cell: &mut String, t: Option<DateTime<Utc>>) {
    if let Some(t) = t {
        cell.push_str(&time(t));
    }
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
