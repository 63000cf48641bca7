//! An article as the workspace sends it (its fields and body), and the file
//! text it becomes: the front matter is edited in place with `toml_edit`,
//! so keys the editor did not change keep their layout and the file's
//! comments and unknown keys stay; only a new file, or one whose front
//! matter no longer parses, is written from scratch.

use serde::Deserialize;
use toml_edit::{Array, DocumentMut, Item, value};

use crate::http::HttpError;
use crate::http::error::LineProblem;
use crate::knowledge::Problem;
use crate::knowledge::parse::{KNOWN_KEYS, key_line, unknown_key};

/// Longest title or phrasing, in characters.
const MAX_PHRASE_CHARS: usize = 500;
/// Most alternative phrasings, tags or related articles.
const MAX_LIST: usize = 300;

/// The fields of an article, as the workspace edits them. Fields the
/// server sends back (`etag`, `path`, `html`…) are ignored when posted.
#[derive(Debug, Clone, Deserialize)]
pub struct Fields {
    #[serde(default)]
    pub id: Option<String>,
    pub title: String,
    #[serde(default)]
    pub questions: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub lang: Option<String>,
    #[serde(default)]
    pub related: Vec<String>,
    #[serde(default)]
    pub translation_of: Option<String>,
    #[serde(default)]
    pub min_confidence: Option<f64>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub review_by: Option<String>,
    pub body: String,
    /// Keys the checks do not know that the editor removes from the file
    /// (its problems name them); known keys are set by the fields above.
    #[serde(default)]
    pub remove_keys: Vec<String>,
}

impl Fields {
    /// Refuses (400) what no article could hold: past these bounds it is
    /// not a draft but a mistake or an attack.
    pub fn bounded(&self) -> Result<(), HttpError> {
        let lists = [
            ("questions", &self.questions),
            ("tags", &self.tags),
            ("related", &self.related),
            ("remove_keys", &self.remove_keys),
        ];
        for (name, list) in lists {
            if list.len() > MAX_LIST {
                return Err(HttpError::BadRequest(format!(
                    "{name} has more than {MAX_LIST} entries"
                )));
            }
        }
        let long = std::iter::once(&self.title)
            .chain(&self.questions)
            .chain(&self.tags)
            .chain(&self.owner)
            .chain(&self.remove_keys)
            .any(|s| s.chars().count() > MAX_PHRASE_CHARS);
        if long {
            return Err(HttpError::BadRequest(format!(
                "a title, phrasing, tag, owner or key is longer than {MAX_PHRASE_CHARS} characters"
            )));
        }
        Ok(())
    }
}

/// The file text for `fields`: `existing` edited in place when its front
/// matter parses, else a new file. `with_id` writes the `id` key into a
/// new file (an existing file keeps its own id line, or none).
pub fn render(existing: Option<&str>, fields: &Fields, with_id: Option<&str>) -> String {
    let split = existing.and_then(split);
    let parsed = split
        .as_ref()
        .and_then(|(fm, _)| fm.parse::<DocumentMut>().ok());
    let fresh = parsed.is_none();
    let mut doc = parsed.unwrap_or_default();
    if let Some(id) = with_id
        && doc.get("id").and_then(Item::as_str) != Some(id)
    {
        doc["id"] = value(id);
    }
    set_str(&mut doc, "title", Some(&fields.title));
    set_list(&mut doc, "questions", &fields.questions);
    set_list(&mut doc, "tags", &fields.tags);
    // English is what a file without `lang` is in: no line is added to
    // one for it (a new file says it).
    let lang = blank(fields.lang.as_deref());
    if fresh || doc.get("lang").is_some() || lang.is_some_and(|l| l != "en") {
        set_str(&mut doc, "lang", lang);
    }
    set_list(&mut doc, "related", &fields.related);
    set_str(&mut doc, "translation_of", fields.translation_of.as_deref());
    set_float(&mut doc, "min_confidence", fields.min_confidence);
    set_str(&mut doc, "owner", fields.owner.as_deref());
    set_date(&mut doc, "review_by", fields.review_by.as_deref());
    for key in &fields.remove_keys {
        if !KNOWN_KEYS.contains(&key.as_str()) {
            doc.remove(key);
        }
    }
    let mut front = doc.to_string();
    if !front.ends_with('\n') {
        front.push('\n');
    }
    // An unchanged answer keeps its exact text (blank lines and all).
    let body = match &split {
        Some((_, old)) if old.trim() == fields.body.trim() => old.to_string(),
        _ => format!("{}\n", fields.body.trim()),
    };
    format!("+++\n{front}+++\n{body}")
}

/// The front matter and the body of an article file, if it has both.
fn split(text: &str) -> Option<(String, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "+++" {
            return Some((
                rest[..offset].to_owned(),
                rest[offset + line.len()..].to_owned(),
            ));
        }
        offset += line.len();
    }
    None
}

fn blank(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn set_str(doc: &mut DocumentMut, key: &str, new: Option<&str>) {
    let new = blank(new);
    if doc.get(key).and_then(Item::as_str).map(str::trim) == new {
        return;
    }
    match new {
        Some(v) => doc[key] = value(v),
        None => {
            doc.remove(key);
        }
    }
}

fn set_list(doc: &mut DocumentMut, key: &str, new: &[String]) {
    let new: Vec<&str> = new.iter().filter_map(|s| blank(Some(s))).collect();
    let old: Option<Vec<&str>> = doc
        .get(key)
        .and_then(Item::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str()).map(str::trim).collect());
    if old.as_deref() == Some(&new[..]) || (old.is_none() && new.is_empty()) {
        return;
    }
    let mut array = Array::new();
    for v in new {
        array.push(v);
    }
    doc[key] = value(array);
}

fn set_float(doc: &mut DocumentMut, key: &str, new: Option<f64>) {
    let old = doc
        .get(key)
        .and_then(|i| i.as_float().or_else(|| i.as_integer().map(|n| n as f64)));
    if old == new {
        return;
    }
    match new {
        Some(v) => doc[key] = value(v),
        None => {
            doc.remove(key);
        }
    }
}

/// A date as a TOML date when it is one (`review_by = 2027-01-31`), else
/// as the string it is, for the checks to refuse with its line.
fn set_date(doc: &mut DocumentMut, key: &str, new: Option<&str>) {
    let new = blank(new);
    let old = doc.get(key).and_then(|i| {
        i.as_str()
            .map(str::to_owned)
            .or_else(|| i.as_datetime().map(|d| d.to_string()))
    });
    if old.as_deref() == new {
        return;
    }
    match new {
        Some(v) => match v.parse::<toml_edit::Datetime>() {
            Ok(d) if d.date.is_some() && d.time.is_none() => doc[key] = value(d),
            _ => doc[key] = value(v),
        },
        None => {
            doc.remove(key);
        }
    }
}

/// `problems` in the workspace's terms: each with its line and the field it
/// comes from in `text` (the file they were found in).
pub fn line_problems(text: &str, problems: &[Problem]) -> Vec<LineProblem> {
    let body_line = split(text).map_or(usize::MAX, |(fm, _)| fm.lines().count() + 3);
    problems
        .iter()
        .map(|p| LineProblem {
            key: unknown_key(p).map(str::to_owned),
            ..LineProblem::new(p.line, p.message.clone(), field_of(text, p, body_line))
        })
        .collect()
}

fn field_of(text: &str, p: &Problem, body_line: usize) -> Option<&'static str> {
    // An unknown key is in no field of the form.
    if unknown_key(p).is_some() {
        return None;
    }
    if p.line >= body_line.saturating_sub(1) && p.message.contains("answer") {
        return Some("body");
    }
    if p.line >= body_line {
        return Some("body");
    }
    if let Some(key) = KNOWN_KEYS
        .iter()
        .find(|k| p.message.contains(&format!("key `{k}`")))
    {
        return Some(key);
    }
    KNOWN_KEYS
        .iter()
        .filter_map(|k| key_line(text, k).map(|l| (l, *k)))
        .filter(|(l, _)| *l <= p.line)
        .max()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(title: &str, questions: &[&str], body: &str) -> Fields {
        Fields {
            id: None,
            title: title.into(),
            questions: questions.iter().map(|q| q.to_string()).collect(),
            tags: vec!["parking".into()],
            lang: Some("en".into()),
            related: vec![],
            translation_of: None,
            min_confidence: None,
            owner: None,
            review_by: None,
            body: body.into(),
            remove_keys: vec![],
        }
    }

    const FILE: &str = "+++\n# Reviewed by the front-desk lead.\nid = \"parking\"\ntitle = \"Where can I park?\"\nquestions = [\"parking\",   \"car park\"]\ntags = [\"parking\"]\nlang = \"en\"\ncustom = 1\n+++\n\nPark in lot B.\n";

    #[test]
    fn an_edit_keeps_comments_unknown_keys_and_untouched_layout() {
        let out = render(
            Some(FILE),
            &fields(
                "Where can I park?",
                &["parking", "car park", "bike rack"],
                "Park in lot B.",
            ),
            None,
        );
        assert!(
            out.contains("# Reviewed by the front-desk lead.\n"),
            "{out}"
        );
        assert!(out.contains("custom = 1\n"), "{out}");
        assert!(out.contains("id = \"parking\"\n"), "{out}");
        assert!(
            out.contains(r#"questions = ["parking", "car park", "bike rack"]"#),
            "{out}"
        );
        // The unchanged answer is kept as it was, blank line included.
        assert!(out.ends_with("+++\n\nPark in lot B.\n"), "{out}");
        let unchanged = render(
            Some(FILE),
            &fields(
                "Where can I park?",
                &["parking", "car park"],
                "Park in lot B.",
            ),
            None,
        );
        assert_eq!(
            unchanged, FILE,
            "saving without a change writes the same bytes"
        );
    }

    #[test]
    fn a_new_file_is_written_in_the_usual_order() {
        let mut f = fields("Bikes?", &["bike rack"], "Racks by the door.\n\n");
        f.review_by = Some("2030-01-31".into());
        f.min_confidence = Some(0.8);
        let out = render(None, &f, Some("bikes"));
        assert_eq!(
            out,
            "+++\nid = \"bikes\"\ntitle = \"Bikes?\"\nquestions = [\"bike rack\"]\ntags = [\"parking\"]\nlang = \"en\"\nmin_confidence = 0.8\nreview_by = 2030-01-31\n+++\nRacks by the door.\n"
        );
        let parsed = crate::knowledge::parse::parse_article(std::path::Path::new("b.md"), &out)
            .expect("what we write parses");
        assert_eq!(parsed.article.questions, ["bike rack"]);
    }

    #[test]
    fn problems_point_at_the_field_they_are_in() {
        let mut f = fields("Bikes?", &[], "Racks.");
        f.min_confidence = Some(7.0);
        let text = render(None, &f, Some("bikes"));
        let p = crate::knowledge::parse::parse_article(std::path::Path::new("b.md"), &text)
            .expect_err("7 is out of range");
        let lp = line_problems(&text, &[p]);
        assert_eq!(lp[0].field, Some("min_confidence"));
        assert_eq!(lp[0].line, 6);
        let mut f = fields("Bikes?", &[], "   ");
        f.tags.clear();
        let text = render(None, &f, Some("bikes"));
        let p = crate::knowledge::parse::parse_article(std::path::Path::new("b.md"), &text)
            .expect_err("empty answer");
        assert_eq!(line_problems(&text, &[p])[0].field, Some("body"));
    }

    #[test]
    fn an_unknown_key_is_named_by_its_problem_and_can_be_removed() {
        let parsed = crate::knowledge::parse::parse_article(std::path::Path::new("p.md"), FILE)
            .expect("an unknown key does not stop an article");
        let lp = line_problems(FILE, &parsed.warnings);
        assert_eq!(lp.len(), 1, "{lp:?}");
        assert_eq!((lp[0].line, lp[0].key.as_deref()), (8, Some("custom")));
        assert_eq!(lp[0].field, None, "no field of the form holds it");
        let mut f = fields(
            "Where can I park?",
            &["parking", "car park"],
            "Park in lot B.",
        );
        // Known keys are the fields' to set, whatever the list says.
        f.remove_keys = vec!["custom".into(), "title".into()];
        let out = render(Some(FILE), &f, None);
        assert_eq!(out, FILE.replace("custom = 1\n", ""));
    }

    #[test]
    fn strings_that_need_escaping_round_trip() {
        let f = fields("Is \"same day\" ok?\\", &["a\nb"], "Yes.");
        let out = render(None, &f, Some("x"));
        let parsed = crate::knowledge::parse::parse_article(std::path::Path::new("x.md"), &out)
            .expect("parses");
        assert_eq!(parsed.article.title, "Is \"same day\" ok?\\");
        assert_eq!(parsed.article.questions, ["a\nb"]);
    }
}
