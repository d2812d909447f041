//! Rendering: the digest becomes a plain view model, then HTML and text from templates and the
//! two CSV reports. Rendering writes to what it is given (the CSVs stream to any `Write`) and
//! reads no file itself, but for alert details spilled to disk (see [`hold_listed`]).

pub mod csv;
pub mod display;
pub mod html;
pub mod lang;
pub mod text;
pub mod view;

pub use view::{Attachments, Context, Limits, View};

use crate::digest::Digest;
use crate::source::model::Detail;
use crate::source::spill::{self, SpillFile};

/// The reports of one run the email is made of: the view, HTML and text, and the CSVs it
/// attaches (the CSVs are streamed to the run folder first; see [`csv`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reports {
    pub view: View,
    pub html: String,
    pub text: String,
    /// `alerts.csv` when attached, else empty.
    pub alerts_csv: Vec<u8>,
    /// `summary.csv` when attached, else empty.
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

/// Brings the details of the alerts the email may list ([`view::listable`]) back into memory
/// from the spill file; the others stay there for the CSV.
pub fn hold_listed(digest: &mut Digest, spill: Option<&SpillFile>) -> std::io::Result<()> {
    for i in view::listable(digest) {
        let details = &mut digest.alerts[i].alert.details;
        if let Detail::Spilled { .. } = details {
            let mut buffer = Vec::new();
            spill::load(spill, details, &mut buffer)?;
            *details = Detail::Held(buffer.into_boxed_slice());
        }
    }
    Ok(())
}

/// Renders the email's reports of `digest`, given the CSVs' sizes and, for those that fit the
/// attachment limit, their bytes (`csv_bytes` reads them).
pub fn render(
    digest: &Digest,
    ctx: &Context<'_>,
    csv_sizes: (usize, usize),
    csv_bytes: impl Fn(&str) -> std::io::Result<Vec<u8>>,
) -> anyhow::Result<Reports> {
    let started = std::time::Instant::now();
    let attachments = Attachments::fitting(csv_sizes.0, csv_sizes.1, MAX_ATTACHMENT_BYTES);
    let (view, html, tries) = fit_html(digest, ctx, attachments)?;
    let text = text::render(&view)?;
    tracing::info!(
        html_ms = millis(started.elapsed()),
        html_bytes = html.len(),
        html_tries = tries,
        "reports rendered"
    );
    let alerts_csv = match attachments.alerts_csv {
        Some(_) => csv_bytes("alerts.csv")?,
        None => Vec::new(),
    };
    let summary_csv = match attachments.summary_csv {
        Some(_) => csv_bytes("summary.csv")?,
        None => Vec::new(),
    };
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
/// (titles, group headers), so it measures rather than guesses, but inlining the stylesheet
/// (the costly step, 2–5 ms a time) is done as few times as it can: the drill-down is sized on
/// the template's own output, which is cheap to make, times how much inlining grows it
/// (about 2.45×, then as measured), and the inlined result is checked. Over budget, the
/// drill-down shrinks by the measured growth; once it is gone, the shorter lists shrink too.
fn fit_html(
    digest: &Digest,
    ctx: &Context<'_>,
    attachments: Attachments,
) -> anyhow::Result<(View, String, u32)> {
    let mut limits = Limits::FULL;
    // Found once: each try below only lists fewer of them.
    let listing = view::Listing::of(digest, limits);
    // Inlined size per thousand bytes of template output.
    let mut growth: usize = 2_450;
    let fits = |template: usize, growth: usize| template * growth / 1_000 <= HTML_BUDGET;
    let mut tries = 0;
    loop {
        // The most drill-down rows whose template output is expected to fit (the output
        // grows with the rows).
        let (mut low, mut high) = (0, limits.drill_down);
        while low < high {
            let middle = (low + high).div_ceil(2);
            let view = View::build_from(
                digest,
                ctx,
                Limits {
                    drill_down: middle,
                    ..limits
                },
                attachments,
                &listing,
            );
            if fits(html::template(&view)?.len(), growth) {
                low = middle;
            } else {
                high = middle - 1;
            }
        }
        limits.drill_down = low;
        let view = View::build_from(digest, ctx, limits, attachments, &listing);
        let template = html::template(&view)?;
        let html = html::inline(&template)?;
        tries += 1;
        if html.len() <= HTML_BUDGET || limits == Limits::NONE {
            return Ok((view, html, tries));
        }
        growth = (html.len() * 1_000).div_ceil(template.len().max(1));
        if limits.drill_down > 0 {
            limits.drill_down -= 1;
        } else {
            limits.overdue /= 2;
            limits.changes /= 2;
        }
    }
}
