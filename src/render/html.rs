//! The HTML part of the email and `digest.html`: `templates/digest.html`, escaped by askama,
//! then its stylesheet inlined by css-inline so clients that drop `<style>` (Outlook, many
//! webmails) still get every colour. The block marked `data-css-inline="keep"` (dark mode and
//! small screens) stays as it is for the clients that honour it.

use anyhow::Context as _;
use askama::Template;

use super::View;

view_template!(HtmlDigest, "digest.html");

pub fn render(view: &View) -> anyhow::Result<String> {
    inline(&template(view)?)
}

/// The template's output, before its stylesheet is inlined.
pub fn template(view: &View) -> anyhow::Result<String> {
    HtmlDigest { view }
        .render()
        .context("rendering templates/digest.html")
}

/// `html` with its stylesheet inlined into every element (see [`render`]).
pub fn inline(html: &str) -> anyhow::Result<String> {
    css_inline::CSSInliner::options()
        .load_remote_stylesheets(false)
        .minify_css(true)
        .build()
        .inline(html)
        .context("inlining the digest's CSS")
}
