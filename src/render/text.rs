//! The plain-text part of the email and `digest.txt`: `templates/digest.txt`, the same facts as
//! the HTML. Lines end in LF here; the mail encoder turns them into CRLF.

use std::ops::Deref;

use anyhow::Context as _;
use askama::Template;

use super::View;

#[derive(Template)]
#[template(path = "digest.txt")]
struct TextDigest<'a> {
    view: &'a View,
}

impl Deref for TextDigest<'_> {
    type Target = View;
    fn deref(&self) -> &View {
        self.view
    }
}

pub fn render(view: &View) -> anyhow::Result<String> {
    let mut text = TextDigest { view }
        .render()
        .context("rendering templates/digest.txt")?;
    text.push('\n');
    Ok(text)
}
