//! A chat message as a text message: an article answer's HTML becomes
//! plain words (a phone shows no markup) with its links as addresses, a reply's buttons become numbered lines to answer
//! with (`chat::text` reads the number back), and the whole fits one
//! message.

use crate::lang::Lang;
use crate::transcript::Choice;

/// The longest body sent in one message. The provider's API takes 1,600
/// characters and splits them into segments the phone joins again.
pub const MAX_CHARS: usize = 1600;

/// A chat message (its plain text, or its HTML when it has one, for the
/// links) and its `choices` as one plain message of at most [`MAX_CHARS`]
/// characters: a long answer is cut at a sentence (or word) and ends with
/// "…", the choices are always kept whole.
pub fn for_text(text: &str, html: Option<&str>, choices: &[Choice], lang: Lang) -> String {
    let choices = numbered(choices, lang);
    let room = MAX_CHARS.saturating_sub(choices.chars().count());
    let words = match html {
        Some(html) => from_html(html),
        None => text.trim().to_owned(),
    };
    let mut text = shorten(&words, room);
    text.push_str(&choices);
    text
}

fn numbered(choices: &[Choice], lang: Lang) -> String {
    if choices.is_empty() {
        return String::new();
    }
    let mut out = String::from(match lang {
        Lang::En => "\n\nReply with a number:",
        Lang::Es => "\n\nResponda con un número:",
    });
    for (i, c) in choices.iter().enumerate() {
        out.push_str(&format!("\n{} {}", i + 1, c.label));
    }
    out
}

/// An answer's sanitized HTML (the widget's rendering, which keeps its
/// links) as plain text: blocks on their own lines, list items marked, a
/// link's address after its words (once, if they differ). The HTML is
/// the sanitizer's output, so tags are well formed and few.
pub fn from_html(html: &str) -> String {
    let mut out = String::new();
    let mut links: Vec<(String, usize)> = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        // Line breaks in HTML text are spaces; blocks make the lines.
        out.push_str(&unescape(&rest[..open]).replace('\n', " "));
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[open + 1..open + close];
        rest = &rest[open + close + 1..];
        let (closing, tag) = match tag.strip_prefix('/') {
            Some(t) => (true, t),
            None => (false, tag),
        };
        let name = tag
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match (closing, name.as_str()) {
            (false, "a") => links.push((attribute(tag, "href").unwrap_or_default(), out.len())),
            (true, "a") => {
                if let Some((url, from)) = links.pop() {
                    let words = out[from..].trim().to_owned();
                    let bare = url.strip_prefix("mailto:").unwrap_or(&url).to_owned();
                    if !bare.is_empty() && words != bare && words != url {
                        out.push_str(&format!(" ({bare})"));
                    }
                }
            }
            (false, "li") => {
                new_line(&mut out);
                out.push_str("- ");
            }
            (false, "br") => out.push('\n'),
            (
                true,
                "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul" | "ol" | "blockquote"
                | "table" | "pre",
            ) => {
                new_line(&mut out);
                out.push('\n');
            }
            (true, "li" | "tr") => new_line(&mut out),
            (true, "td" | "th") => out.push(' '),
            _ => {}
        }
    }
    out.push_str(&unescape(rest));
    tidy(&out)
}

/// At most one empty line between blocks, none at the ends.
fn tidy(text: &str) -> String {
    let mut tidy = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !tidy.is_empty() {
            tidy.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        tidy.push_str(line.trim_start());
    }
    tidy
}

/// The value of `name="…"` in a tag's text.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let at = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = tag[at..].find('"')? + at;
    Some(unescape(&tag[at..end]))
}

/// The entities the sanitizer writes, and numeric ones.
fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let entity = rest
            .find(';')
            .filter(|&end| end <= 10)
            .map(|end| &rest[1..end]);
        let decoded = entity.and_then(|e| match e {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => e
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| e.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        });
        match (decoded, entity) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &rest[e.len() + 2..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn new_line(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// At most `max` characters: whole when it fits, else cut after the last
/// sentence that fits (or the last word), with "…".
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    let sentence = cut
        .rfind(['.', '!', '?', '\n'])
        .filter(|&at| at > cut.len() / 2)
        .map(|at| at + 1);
    let word = cut.rfind(char::is_whitespace);
    let end = sentence.or(word).unwrap_or(cut.len());
    format!("{}…", cut[..end].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(label: &str) -> Choice {
        Choice {
            label: label.into(),
            value: label.to_lowercase(),
        }
    }

    #[test]
    fn an_answers_html_becomes_plain_words_with_addresses() {
        let html = crate::knowledge::render::to_html(
            "## Parking\n\nPark in **lot B** &amp; level 2; see [the map](https://clinic.example/map?a=1&b=2).\n\n- Level 1\n- Level 2\n\nWrite to <desk@clinic.example>.",
        );
        assert_eq!(
            from_html(&html),
            "Parking\n\nPark in lot B & level 2; see the map (https://clinic.example/map?a=1&b=2).\n\n- Level 1\n- Level 2\n\nWrite to desk@clinic.example."
        );
    }

    #[test]
    fn a_bare_link_is_not_written_twice() {
        let html = crate::knowledge::render::to_html("See <https://clinic.example/forms>");
        assert_eq!(from_html(&html), "See https://clinic.example/forms");
        assert_eq!(
            from_html("a &lt;b&gt; &#233; &#xe9; &bogus; & c"),
            "a <b> é é &bogus; & c"
        );
    }

    #[test]
    fn choices_are_numbered_from_one() {
        let choices = [choice("Yes"), choice("No")];
        let text = for_text("Book it?", None, &choices, Lang::En);
        assert_eq!(text, "Book it?\n\nReply with a number:\n1 Yes\n2 No");
        assert!(
            for_text("¿Reservar?", None, &choices, Lang::Es).contains("Responda con un número:")
        );
    }

    #[test]
    fn a_long_answer_is_cut_at_a_sentence_and_keeps_its_choices() {
        let long = "This sentence is about forty characters. ".repeat(60);
        let choices = [choice("Talk to a person")];
        let text = for_text(&long, None, &choices, Lang::En);
        assert!(
            text.chars().count() <= MAX_CHARS,
            "{}",
            text.chars().count()
        );
        assert!(text.ends_with("1 Talk to a person"));
        assert!(text.contains("characters.…"), "cut after a sentence");
    }

    #[test]
    fn a_long_word_run_is_cut_within_the_limit() {
        let text = for_text(&"é".repeat(5000), None, &[], Lang::Es);
        assert_eq!(text.chars().count(), MAX_CHARS);
        assert!(text.ends_with('…'));
    }
}
