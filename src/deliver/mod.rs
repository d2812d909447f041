//! Delivery: every report and every message is written to disk first; then the transport
//! delivers. With `transport = "file"` the `.eml` files are the delivery.

pub mod files;
pub mod message;

pub use files::RunFolder;
pub use message::Outgoing;

use std::path::PathBuf;

use crate::render::Reports;

/// The report files of a run, in the order they are written.
pub const REPORT_FILES: &[&str] = &["digest.html", "digest.txt", "alerts.csv", "summary.csv"];

/// Writes the reports and the messages; returns every path written.
pub fn write_all(
    folder: &RunFolder,
    reports: &Reports,
    messages: &[Outgoing],
) -> anyhow::Result<Vec<PathBuf>> {
    let contents: [&[u8]; 4] = [
        reports.html.as_bytes(),
        reports.text.as_bytes(),
        &reports.alerts_csv,
        &reports.summary_csv,
    ];
    let mut written = Vec::with_capacity(REPORT_FILES.len() + messages.len());
    for (name, bytes) in REPORT_FILES.iter().zip(contents) {
        written.push(folder.write(name, bytes)?);
    }
    for message in messages {
        written.push(folder.write(&format!("mail/{}", message.file_name), &message.bytes)?);
    }
    Ok(written)
}
