//! Turns an answer's markdown into sanitized HTML and plain text, so nothing
//! an editor (or an importer) writes can run in a patient's browser.

use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, TagEnd};

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    // Links open in a new tab and cannot reach back into the chat page.
    b.link_rel(Some("noopener noreferrer"))
        .set_tag_attribute_value("a", "target", "_blank");
    b
});

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// Markdown to HTML with only safe tags, attributes and URL schemes left.
pub fn to_html(markdown: &str) -> String {
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut raw, Parser::new_ext(markdown, options()));
    SANITIZER.clean(&raw).to_string()
}

/// Markdown to plain text: formatting and raw HTML dropped, link text kept,
/// one line per block.
pub fn to_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableRow
                | TagEnd::BlockQuote(_),
            ) if !out.ends_with('\n') => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push(' '),
            _ => {}
        }
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn links_open_safely_in_a_new_tab() {
        let html = to_html("See [our map](https://example.org/map).");
        assert!(html.contains(r#"href="https://example.org/map""#), "{html}");
        assert!(html.contains(r#"target="_blank""#), "{html}");
        assert!(html.contains(r#"rel="noopener noreferrer""#), "{html}");
    }

    #[test]
    fn executable_content_is_removed() {
        let html = to_html(
            "<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)> <a href=\"#\" onclick=\"x()\">y</a>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
    }

    #[test]
    fn text_keeps_link_text_and_drops_markup() {
        let text =
            to_text("# Parking\n\nUse **lot B**, see [the map](https://x.org).\n\n- one\n- two");
        assert_eq!(text, "Parking\nUse lot B, see the map.\none\ntwo");
    }

    /// The inside of every real tag in sanitized output (text `<` is escaped).
    fn tags(html: &str) -> Vec<String> {
        html.split('<')
            .skip(1)
            .map(|t| t.split('>').next().unwrap_or_default().to_lowercase())
            .collect()
    }

    proptest! {
        #[test]
        fn sanitized_html_never_contains_executable_parts(s in ".{0,300}", tag in "(script|img|a|iframe|svg|div)", attr in "(onerror|onclick|onload|href|src)") {
            let md = format!("{s}<{tag} {attr}=\"javascript:alert(1)\">{s}</{tag}>[l](javascript:{s})");
            let html = to_html(&md);
            prop_assert!(!html.to_lowercase().contains("<script"));
            for t in tags(&html) {
                prop_assert!(!t.contains("javascript:"), "{}", t);
                prop_assert!(!t.contains(" on"), "{}", t);
            }
            let _ = to_text(&md);
        }
    }
}
