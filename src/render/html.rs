//! The HTML part of the email and `digest.html`: `templates/digest.html`, escaped by askama.

use std::ops::Deref;

use anyhow::Context as _;
use askama::Template;

use super::View;

#[derive(Template)]
#[template(path = "digest.html")]
struct HtmlDigest<'a> {
    view: &'a View,
}

impl Deref for HtmlDigest<'_> {
    type Target = View;
    fn deref(&self) -> &View {
        self.view
    }
}

pub fn render(view: &View) -> anyhow::Result<String> {
    HtmlDigest { view }
        .render()
        .context("rendering templates/digest.html")
}
