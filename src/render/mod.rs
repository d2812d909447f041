//! Rendering: the digest becomes a plain view model, then HTML and text from templates and the
//! two CSV reports. Every function here is pure: bytes in memory, no I/O.

pub mod csv;
pub mod display;
pub mod html;
pub mod text;
pub mod view;

pub use view::{Context, View};

use crate::digest::Digest;

/// The four reports of one run, ready to write and attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reports {
    pub view: View,
    pub html: String,
    pub text: String,
    pub alerts_csv: Vec<u8>,
    pub summary_csv: Vec<u8>,
}

/// Renders every report of `digest`.
pub fn render(digest: &Digest, ctx: &Context<'_>) -> anyhow::Result<Reports> {
    let view = View::build(digest, ctx);
    let html = html::render(&view)?;
    let text = text::render(&view)?;
    let date = view.digest_date.as_str();
    let mut alerts_csv = Vec::new();
    csv::write_alerts(&mut alerts_csv, digest, date)?;
    let mut summary_csv = Vec::new();
    csv::write_summary(&mut summary_csv, digest, date)?;
    Ok(Reports {
        view,
        html,
        text,
        alerts_csv,
        summary_csv,
    })
}
