//! Rendering: the digest becomes a plain view model, then HTML and text from templates and the
//! three CSV reports. Rendering writes to what it is given (the CSVs stream to any `Write`) and
//! reads no file itself, but for alert details kept on disk (see [`crate::alert::DetailStore`]).

/// Declares the struct askama renders a template into, over the [`View`]: the template reads
/// the view's fields as its own.
macro_rules! view_template {
    ($name:ident, $path:literal) => {
        #[derive(askama::Template)]
        #[template(path = $path)]
        struct $name<'a> {
            view: &'a super::View,
        }

        impl std::ops::Deref for $name<'_> {
            type Target = super::View;
            fn deref(&self) -> &super::View {
                self.view
            }
        }
    };
}

pub mod csv;
pub mod display;
pub mod html;
mod json_cell;
pub mod lang;
pub mod text;
pub mod view;

pub use view::{Attachments, Context, Limits, View};

use anyhow::Context as _;

use crate::digest::Digest;

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
    /// `older.csv` when attached, else empty.
    pub older_csv: Vec<u8>,
    /// Which CSVs go into the email (all of them are written to the run folder).
    pub attachments: Attachments,
}

/// The CSVs are attached only while together they stay under this (5 MiB, about 6.8 MB once
/// base64-encoded), so the message passes common relay limits (10 MB and up) however many
/// alerts there are. Larger ones stay in the run folder, and the email says so.
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;

/// Gmail clips messages whose HTML passes ~102 KB; the digest's HTML stays under this.
pub const HTML_BUDGET: usize = 90_000;

/// Renders the email's reports of `digest`, given the CSVs' sizes (`alerts.csv`,
/// `summary.csv`, `older.csv`) and, for those that fit the attachment limit, their bytes
/// (`csv_bytes` reads them).
pub fn render(
    digest: &Digest,
    ctx: &Context<'_>,
    csv_sizes: [usize; 3],
    csv_bytes: impl Fn(&str) -> std::io::Result<Vec<u8>>,
) -> anyhow::Result<Reports> {
    let started = std::time::Instant::now();
    // Found once: the spill check and every try of the fit read the same listing.
    let listing = view::Listing::of(digest, Limits::FULL);
    if ctx.details.spilled() {
        // The view reads the details of the alerts it lists from the store: a spill file
        // that does not read back fails here, with its own error, rather than as empty rows.
        let mut buffer = Vec::new();
        for i in view::listable(digest, &listing) {
            ctx.details
                .load(&digest.alerts[i].alert.details, &mut buffer)
                .context("cannot read the spill file")?;
        }
    }
    let [alerts_size, summary_size, older_size] = csv_sizes;
    let attachments =
        Attachments::fitting(alerts_size, summary_size, older_size, MAX_ATTACHMENT_BYTES);
    let (view, html, tries) = fit_html(digest, ctx, attachments, &listing)?;
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
    let older_csv = match attachments.older_csv {
        Some(_) => csv_bytes("older.csv")?,
        None => Vec::new(),
    };
    Ok(Reports {
        view,
        html,
        text,
        alerts_csv,
        summary_csv,
        older_csv,
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
/// (about 2.36×, then as measured), and the inlined result is checked. Over budget, the
/// drill-down shrinks by the measured growth; once it is gone, the shorter lists shrink too.
fn fit_html(
    digest: &Digest,
    ctx: &Context<'_>,
    attachments: Attachments,
    listing: &view::Listing,
) -> anyhow::Result<(View, String, u32)> {
    fit_html_from(digest, ctx, attachments, listing, INLINE_GROWTH)
}

/// How much inlining the stylesheet grows the template's output, in bytes per thousand, as
/// first guessed (measured 2.25–2.36 on this template, with the demo and 50,000 alerts; the
/// alert rows grow it most). A guess well too high is corrected once (see [`fit_html_from`]).
const INLINE_GROWTH: usize = 2_360;

/// [`fit_html`], starting from the guess `growth` (see [`INLINE_GROWTH`]), on a `listing`
/// found for [`Limits::FULL`].
fn fit_html_from(
    digest: &Digest,
    ctx: &Context<'_>,
    attachments: Attachments,
    listing: &view::Listing,
    mut growth: usize,
) -> anyhow::Result<(View, String, u32)> {
    // `listing` was found once, for the full limits: each try below only lists fewer of them.
    let mut limits = Limits::FULL;
    let fits = |template: usize, growth: usize| template * growth / 1_000 <= HTML_BUDGET;
    let mut tries = 0;
    loop {
        // The most drill-down rows whose template output is expected to fit (the output
        // grows with the rows).
        let (mut low, mut high) = (0, limits.drill_down);
        // The view and template of the largest drill-down found to fit so far.
        let mut fitting = None;
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
                listing,
            );
            let template = html::template(&view)?;
            if fits(template.len(), growth) {
                low = middle;
                fitting = Some((view, template));
            } else {
                high = middle - 1;
            }
        }
        limits.drill_down = low;
        let (view, template) = if let Some(probed) = fitting {
            probed
        } else {
            let view = View::build_from(digest, ctx, limits, attachments, listing);
            let template = html::template(&view)?;
            (view, template)
        };
        let html = html::inline(&template)?;
        tries += 1;
        let measured = (html.len() * 1_000).div_ceil(template.len().max(1));
        tracing::debug!(
            template_bytes = template.len(),
            html_bytes = html.len(),
            growth_per_mille = measured,
            "stylesheet inlined"
        );
        if html.len() <= HTML_BUDGET {
            // A first guess well above the measured growth cut the drill-down shorter than it
            // had to be: size it once more on the measured growth, and keep the longer fit.
            let cut_short = limits.drill_down < Limits::FULL.drill_down
                && measured * 20 < growth * 19
                && tries == 1;
            if !cut_short {
                return Ok((view, html, tries));
            }
            let retried = fit_html_from(digest, ctx, attachments, listing, measured)?;
            return Ok(if retried.0.listed >= view.listed {
                (retried.0, retried.1, tries + retried.2)
            } else {
                (view, html, tries)
            });
        }
        if limits == Limits::NONE {
            return Ok((view, html, tries));
        }
        growth = measured;
        if limits.drill_down > 0 {
            limits.drill_down -= 1;
        } else if limits.overdue > 0 || limits.changes > 0 {
            limits.overdue /= 2;
            limits.changes /= 2;
        } else {
            // "Act first" is the last list to shrink: it is what the digest is read for.
            limits.act_first /= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate};

    use super::*;
    use crate::digest::Rules;
    use crate::names::Names;
    use crate::render::lang::Language;
    use crate::source::record::parse_alert;

    /// 600 alerts over 150 customers with long titles: far over the budget with every list
    /// full.
    fn large_digest() -> Digest {
        let alerts = (0..600)
            .map(|i| {
                parse_alert(&format!(
                    r#"{{"id":"a{i}","status":"active","severity":"high",
                        "customerTenantId":"c{}","subscriptionId":"s{}","alertType":"type{}",
                        "displayName":"{} {i}","detectedDateTime":"2026-11-2{}T0{}:00:00Z"}}"#,
                    i % 150,
                    i % 300,
                    i % 7,
                    "A rather long alert title that takes room in every row".repeat(2),
                    1 + i % 8,
                    i % 10
                ))
                .unwrap()
            })
            .collect();
        let as_of = DateTime::parse_from_rfc3339("2026-11-29T07:00:00Z")
            .unwrap()
            .into();
        crate::digest::build(
            alerts,
            as_of,
            Rules {
                window_days: 60,
                include_test_alerts: false,
                timezone: chrono_tz::Europe::Stockholm,
            },
        )
    }

    fn ctx(names: &Names) -> Context<'_> {
        Context {
            digest_date: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
            timezone: chrono_tz::Europe::Stockholm,
            language: Language::English,
            subject_prefix: None,
            set_aside: 0,
            names,
            details: Box::leak(Box::default()),
            stale_sign_in_days: None,
        }
    }

    #[test]
    fn the_html_fits_the_budget_whether_the_first_guess_is_right_or_far_too_low() {
        let digest = large_digest();
        let names = Names::default();
        let ctx = ctx(&names);
        let attachments = Attachments::fitting(10, 10, 10, 100);
        let full = View::build_from(
            &digest,
            &ctx,
            Limits::FULL,
            attachments,
            &view::Listing::of(&digest, Limits::FULL),
        );
        assert!(
            html::render(&full).unwrap().len() > HTML_BUDGET,
            "the test digest must not fit whole"
        );

        let listing = view::Listing::of(&digest, Limits::FULL);
        let (view, html, tries) = fit_html(&digest, &ctx, attachments, &listing).unwrap();
        assert!(html.len() <= HTML_BUDGET);
        assert!(view.listed > 0, "some alerts are listed");

        // A guess of no growth at all picks far too many rows: the inlined result is over,
        // and the tries after it use the growth measured.
        let (low_view, low_html, low_tries) =
            fit_html_from(&digest, &ctx, attachments, &listing, 1_000).unwrap();
        assert!(low_html.len() <= HTML_BUDGET);
        assert!(low_tries >= 2, "{low_tries}");
        assert!(low_tries >= tries, "{low_tries} {tries}");
        // Sized on the template's output, the stylesheet is inlined a few times at most
        // (it was once per try of a shrinking drill-down: four at every size benchmarked).
        assert!(tries <= 3, "{tries}");
        assert!(low_view.listed > 0);

        // A guess far too high lists too few rows at first: sized once more on the growth
        // measured, the email lists as many as with a right guess.
        let (high_view, high_html, high_tries) =
            fit_html_from(&digest, &ctx, attachments, &listing, 4_000).unwrap();
        assert!(high_html.len() <= HTML_BUDGET);
        assert!(high_tries >= 2, "{high_tries}");
        assert!(
            high_view.listed + 1 >= view.listed,
            "{} listed after a high guess, {} after the right one",
            high_view.listed,
            view.listed
        );
    }
}
