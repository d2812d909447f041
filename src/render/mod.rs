//! Rendering: the digest becomes a plain view model, then HTML and text from templates and the
//! two CSV reports. Every function here is pure: bytes in memory, no I/O.

pub mod csv;
pub mod display;
pub mod html;
pub mod lang;
pub mod text;
pub mod view;

pub use view::{Attachments, Context, Limits, View};

use crate::digest::Digest;

/// The four reports of one run, ready to write and attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reports {
    pub view: View,
    pub html: String,
    pub text: String,
    pub alerts_csv: Vec<u8>,
    pub summary_csv: Vec<u8>,
    /// Which CSVs go into the email (all of them are written to the run folder).
    pub attachments: Attachments,
}

/// The CSVs are attached only while together they stay under this (5 MiB, about 6.8 MB once
/// base64-encoded), so the message passes common relay limits (10 MB and up) however many
/// alerts there are. Larger ones stay in the run folder, and the email says so.
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;

/// Gmail clips messages whose HTML passes ~102 KB; the digest's HTML stays under this.
pub const HTML_BUDGET: usize = 90_000;

/// Renders every report of `digest`.
pub fn render(digest: &Digest, ctx: &Context<'_>) -> anyhow::Result<Reports> {
    let started = std::time::Instant::now();
    let date = ctx.digest_date.format("%Y-%m-%d").to_string();
    let mut alerts_csv = Vec::new();
    csv::write_alerts(&mut alerts_csv, digest, &date, ctx.names)?;
    let mut summary_csv = Vec::new();
    csv::write_summary(&mut summary_csv, digest, &date, ctx.names)?;
    let attachments =
        Attachments::fitting(alerts_csv.len(), summary_csv.len(), MAX_ATTACHMENT_BYTES);
    let csv_done = std::time::Instant::now();
    let (view, html) = fit_html(digest, ctx, attachments)?;
    let text = text::render(&view)?;
    tracing::info!(
        csv_ms = millis(csv_done - started),
        html_ms = millis(csv_done.elapsed()),
        html_bytes = html.len(),
        alerts_csv_bytes = alerts_csv.len(),
        "reports rendered"
    );
    Ok(Reports {
        view,
        html,
        text,
        alerts_csv,
        summary_csv,
        attachments,
    })
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Lists as many alerts as fit the HTML budget, up to [`Limits::FULL`]. Rows vary in size
/// (titles, group headers), so it measures rather than guesses: each try scales the drill-down
/// by how far over budget the last one was; if the drill-down is gone and it still does not
/// fit, the shorter lists shrink too.
fn fit_html(
    digest: &Digest,
    ctx: &Context<'_>,
    attachments: Attachments,
) -> anyhow::Result<(View, String)> {
    let mut limits = Limits::FULL;
    loop {
        let view = View::build(digest, ctx, limits, attachments);
        let html = html::render(&view)?;
        if html.len() <= HTML_BUDGET || limits == Limits::NONE {
            return Ok((view, html));
        }
        if limits.drill_down > 0 {
            let scaled = limits.drill_down * HTML_BUDGET / html.len();
            limits.drill_down = scaled.min(limits.drill_down - 1).saturating_sub(2);
        } else {
            limits.overdue /= 2;
            limits.changes /= 2;
        }
    }
}
