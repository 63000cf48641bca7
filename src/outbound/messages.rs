//! The words of messages to patients: `knowledge/messages.toml`, one
//! subject and body per kind and language, with `{placeholders}` filled in
//! at send time. Checked when read (`frontdesk knowledge check` reports the
//! same problems); the bundled file is the fallback when a clinic's is
//! missing or wrong, so a message never goes out half-filled.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::lang::Lang;
use crate::store::MessageKind;

/// The file, in the knowledge directory.
pub const MESSAGES_FILE: &str = "messages.toml";

/// The placeholders a message may use.
pub const PLACEHOLDERS: [&str; 5] = ["clinic", "when", "where", "code", "calendar"];

/// Those a message about a callback request may use: it has no time,
/// place or code to tell.
const CALLBACK_PLACEHOLDERS: [&str; 1] = ["clinic"];

/// The placeholders `kind` may use.
pub fn placeholders(kind: MessageKind) -> &'static [&'static str] {
    if kind.about_a_callback() {
        &CALLBACK_PLACEHOLDERS
    } else {
        &PLACEHOLDERS
    }
}

const MAX_SUBJECT_CHARS: usize = 200;
const MAX_BODY_CHARS: usize = 4000;
const MAX_TEXT_CHARS: usize = 320;

/// One message's words, checked.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// The e-mail's subject line.
    pub subject: String,
    /// The e-mail's text.
    pub body: String,
    /// The text message: one short paragraph.
    pub text: String,
}

/// A message filled in, for either channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
    pub text: String,
}

/// Every kind in every language.
#[derive(Debug, Clone)]
pub struct Messages {
    by: HashMap<(Lang, &'static str), Template>,
}

/// What fills a message's placeholders.
#[derive(Debug, Clone, Default)]
pub struct Fill {
    pub clinic: String,
    pub when: String,
    pub place: String,
    pub code: String,
    pub calendar: String,
}

impl Messages {
    /// The bundled words (compiled in).
    pub fn bundled() -> Messages {
        Messages::parse(include_str!("../../knowledge/messages.toml"))
            .expect("the bundled messages.toml is checked by the tests")
    }

    /// The knowledge directory's file; the bundled words when it has none
    /// or it does not pass the check (which is logged, without its words).
    pub fn load(dir: &Path) -> Messages {
        match std::fs::read_to_string(dir.join(MESSAGES_FILE)) {
            Err(_) => Messages::bundled(),
            Ok(text) => Messages::parse(&text).unwrap_or_else(|(line, problem)| {
                tracing::warn!(
                    line,
                    problem,
                    "messages.toml is not valid; using the bundled words"
                );
                Messages::bundled()
            }),
        }
    }

    /// Parses and checks the file: every kind in every language, only known
    /// placeholders, a one-line subject. Errors carry a 1-based line (0
    /// when the problem is the file as a whole).
    pub fn parse(text: &str) -> Result<Messages, (usize, String)> {
        let raw: HashMap<String, HashMap<String, Template>> =
            toml::from_str(text).map_err(|e| {
                let line = e
                    .span()
                    .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
                    .unwrap_or(0);
                (line, e.message().to_owned())
            })?;
        let line_of = |key: &str| {
            text.lines()
                .position(|l| l.trim_start().starts_with('[') && l.contains(key))
                .map_or(0, |i| i + 1)
        };
        let mut by = HashMap::new();
        for (code, kinds) in &raw {
            let lang: Lang = code
                .parse()
                .map_err(|_| (line_of(code), format!("unknown language {code:?}")))?;
            for (name, template) in kinds {
                let kind = MessageKind::parse(name)
                    .ok_or_else(|| (line_of(name), format!("unknown message kind {name:?}")))?;
                let at = line_of(&format!("{code}.{name}"));
                check(kind, template)
                    .map_err(|problem| (at, format!("{code}.{name}: {problem}")))?;
                by.insert((lang, kind.as_str()), template.clone());
            }
        }
        for lang in Lang::ALL {
            for kind in MessageKind::ALL {
                if !by.contains_key(&(lang, kind.as_str())) {
                    return Err((0, format!("missing [{}.{}]", lang.as_str(), kind.as_str())));
                }
            }
        }
        Ok(Messages { by })
    }

    /// `kind` in `lang`, filled in.
    pub fn render(&self, kind: MessageKind, lang: Lang, fill: &Fill) -> Rendered {
        let t = &self.by[&(lang, kind.as_str())];
        let subject = fill_in(&t.subject, fill);
        let text = fill_in(t.text.trim(), fill);
        // A line whose placeholder has nothing to say ("Add it to your
        // calendar: {calendar}" without a public URL) is left out.
        let kept: Vec<String> = t
            .body
            .trim()
            .lines()
            .filter(|line| {
                !PLACEHOLDERS
                    .iter()
                    .any(|p| line.contains(&format!("{{{p}}}")) && value(p, fill).is_empty())
            })
            .map(|line| fill_in(line, fill))
            .collect();
        let mut body = kept.join("\n");
        while body.contains("\n\n\n") {
            body = body.replace("\n\n\n", "\n\n");
        }
        Rendered {
            subject,
            body,
            text,
        }
    }
}

fn check(kind: MessageKind, t: &Template) -> Result<(), String> {
    let known = placeholders(kind);
    if t.subject.trim().is_empty() || t.subject.contains('\n') {
        return Err("the subject is one line of text".into());
    }
    if t.subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(format!(
            "the subject is over {MAX_SUBJECT_CHARS} characters"
        ));
    }
    if t.body.trim().is_empty() || t.body.chars().count() > MAX_BODY_CHARS {
        return Err(format!("the body has 1 to {MAX_BODY_CHARS} characters"));
    }
    if t.text.trim().is_empty() || t.text.chars().count() > MAX_TEXT_CHARS {
        return Err(format!("the text has 1 to {MAX_TEXT_CHARS} characters"));
    }
    for text in [&t.subject, &t.body, &t.text] {
        let mut rest = text.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or("a `{` without its `}`".to_owned())?;
            let name = &after[..close];
            if !known.contains(&name) {
                let listed: Vec<String> = known.iter().map(|p| format!("{{{p}}}")).collect();
                return Err(format!(
                    "unknown placeholder {{{name}}} (known here: {})",
                    listed.join(", ")
                ));
            }
            rest = &after[close + 1..];
        }
    }
    Ok(())
}

fn value<'a>(placeholder: &str, fill: &'a Fill) -> &'a str {
    match placeholder {
        "clinic" => &fill.clinic,
        "when" => &fill.when,
        "where" => &fill.place,
        "code" => &fill.code,
        "calendar" => &fill.calendar,
        _ => "",
    }
}

fn fill_in(text: &str, fill: &Fill) -> String {
    PLACEHOLDERS.iter().fold(text.to_owned(), |t, p| {
        t.replace(&format!("{{{p}}}"), value(p, fill))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_words_pass_the_check_in_every_language() {
        let m = Messages::bundled();
        let fill = Fill {
            clinic: "Cedar Valley Health".into(),
            when: "Tuesday, March 3, 9:00 AM".into(),
            place: "Main Campus".into(),
            code: "K7M3Q9PX".into(),
            calendar: "https://chat.example.org/calendar/K7M3Q9PX-t.ics".into(),
        };
        for lang in Lang::ALL {
            let Rendered {
                subject,
                body,
                text,
            } = m.render(MessageKind::BookingConfirmed, lang, &fill);
            assert!(text.contains("K7M3Q9PX") && !text.contains('{'), "{text}");
            assert!(subject.contains("Cedar Valley Health"), "{subject}");
            assert!(
                body.contains("K7M3Q9PX") && body.contains("Main Campus"),
                "{body}"
            );
            assert!(
                body.contains("https://chat.example.org/calendar/"),
                "{body}"
            );
            assert!(!body.contains('{'), "{body}");
        }
    }

    #[test]
    fn unknown_placeholders_kinds_and_languages_are_refused() {
        let good = include_str!("../../knowledge/messages.toml");
        let bad = good.replacen("is {code}.", "is {diagnosis}.", 1);
        let (line, problem) = Messages::parse(&bad).unwrap_err();
        assert!(
            problem.contains("unknown placeholder {diagnosis}"),
            "{problem}"
        );
        assert!(line > 0);
        let (_, problem) = Messages::parse(&format!(
            "{good}\n[fr.booking_confirmed]\nsubject = \"x\"\nbody = \"y\"\ntext = \"z\"\n"
        ))
        .unwrap_err();
        assert!(problem.contains("unknown language"), "{problem}");
        let (_, problem) = Messages::parse(&format!(
            "{good}\n[en.lab_results]\nsubject = \"x\"\nbody = \"y\"\ntext = \"z\"\n"
        ))
        .unwrap_err();
        assert!(problem.contains("unknown message kind"), "{problem}");
        let start = good.find("[es.booking_confirmed]").unwrap();
        let end = start + 1 + good[start + 1..].find("\n[").unwrap();
        let without = format!("{}{}", &good[..start], &good[end..]);
        let (_, problem) = Messages::parse(&without).unwrap_err();
        assert!(
            problem.contains("missing [es.booking_confirmed]"),
            "{problem}"
        );
    }

    #[test]
    fn callback_messages_name_the_clinic_and_nothing_of_the_request() {
        let m = Messages::bundled();
        let fill = Fill {
            clinic: "Cedar Valley Health".into(),
            ..Fill::default()
        };
        for lang in Lang::ALL {
            for kind in [MessageKind::CallbackReceived, MessageKind::CallbackDone] {
                let r = m.render(kind, lang, &fill);
                for words in [&r.subject, &r.body, &r.text] {
                    assert!(!words.contains('{'), "{words}");
                }
                assert!(r.subject.contains("Cedar Valley Health"), "{r:?}");
                assert!(r.text.starts_with("Cedar Valley Health:"), "{r:?}");
            }
        }
        // A time, a place or a code has nothing to say about a request.
        let good = include_str!("../../knowledge/messages.toml");
        let at = good.find("[en.callback_done]").unwrap();
        let bad = format!(
            "{}{}",
            &good[..at],
            good[at..].replacen("{clinic}", "{when}", 1)
        );
        let (line, problem) = Messages::parse(&bad).unwrap_err();
        assert!(
            problem
                .starts_with("en.callback_done: unknown placeholder {when} (known here: {clinic})"),
            "{problem}"
        );
        assert_eq!(good.lines().nth(line - 1), Some("[en.callback_done]"));
    }

    #[test]
    fn without_a_calendar_link_its_line_goes() {
        let m = Messages::bundled();
        let fill = Fill {
            code: "K7M3Q9PX".into(),
            ..Fill::default()
        };
        let body = m
            .render(MessageKind::BookingConfirmed, Lang::En, &fill)
            .body;
        assert!(!body.contains("calendar"), "{body}");
        assert!(body.contains("K7M3Q9PX"));
    }
}
