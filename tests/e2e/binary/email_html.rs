//! The HTML part as mail clients see it: every colour inlined on the element, every cell with an
//! explicit background and text colour (so a client's own dark mode cannot leave dark text on a
//! dark cell), and one kept `<style>` block holding only the dark-mode and small-screen rules.

use crate::support::{BASE_CONFIG, Job, quirks_page, stderr};

/// The opening tags named `name` (`<td …>`), as written.
fn opening_tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}");
    html.match_indices(&open)
        .filter(|(i, _)| {
            let next = html.as_bytes()[i + open.len()];
            next == b' ' || next == b'>'
        })
        .map(|(i, _)| &html[i..=i + html[i..].find('>').unwrap()])
        .collect()
}

fn style_of(tag: &str) -> &str {
    tag.split_once("style=\"")
        .map_or("", |(_, rest)| &rest[..rest.find('"').unwrap()])
}

fn has_colours(style: &str) -> bool {
    let declarations: Vec<&str> = style.split(';').map(str::trim).collect();
    declarations
        .iter()
        .any(|d| d.starts_with("background-color:"))
        && declarations.iter().any(|d| d.starts_with("color:"))
}

fn digests() -> Vec<(String, String)> {
    let demo = Job::new(BASE_CONFIG, &quirks_page());
    let output = demo.run(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let english = super::history::two_days("en");
    let swedish = super::history::two_days("sv");
    [
        ("quirks", &demo),
        ("history en", &english),
        ("history sv", &swedish),
    ]
    .iter()
    .map(|(name, job)| {
        let html = std::fs::read_to_string(job.day("2026-11-29").join("digest.html")).unwrap();
        ((*name).to_owned(), html)
    })
    .collect()
}

/// The document without Outlook's conditional comments (fixed text of the template).
fn without_conditional_comments(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<!--[if mso]>") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("<![endif]-->")
            .expect("the comment closes");
        rest = &rest[start + end + "<![endif]-->".len()..];
    }
    out.push_str(rest);
    out
}

#[test]
fn every_cell_has_an_explicit_background_and_text_colour() {
    for (name, html) in digests() {
        let html = without_conditional_comments(&html);
        let cells: Vec<&str> = ["td", "th"]
            .iter()
            .flat_map(|n| opening_tags(&html, n))
            .collect();
        assert!(cells.len() > 20, "{name}: {} cells", cells.len());
        for cell in cells {
            assert!(has_colours(style_of(cell)), "{name}: {cell}");
        }
    }
}

#[test]
fn only_the_dark_mode_and_small_screen_rules_stay_in_a_style_block() {
    for (name, html) in digests() {
        let blocks: Vec<&str> = html
            .split("<style")
            .skip(1)
            .map(|b| &b[..b.find("</style>").unwrap()])
            .collect();
        // The kept block, and the one inside Outlook's conditional comment.
        assert_eq!(blocks.len(), 2, "{name}: {blocks:?}");
        let kept = blocks
            .iter()
            .find(|b| b.contains("prefers-color-scheme: dark"))
            .unwrap_or_else(|| panic!("{name}: no dark-mode block"));
        assert!(
            kept.contains("max-width: 480px"),
            "{name}: no small-screen rules"
        );
        assert!(
            !kept.contains("table.list td{") && !kept.contains("span.chip{"),
            "{name}: the inlined rules are gone from the block"
        );
        assert!(
            html.contains(
                "<span class=\"chip chip-high\" style=\"background-color:#fee4e2;color:#912018"
            ),
            "{name}: severity colours are inlined"
        );
    }
}
