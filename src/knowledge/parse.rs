//! Reads one article file: `+++` TOML front matter, then the markdown answer.
//! Every problem carries the file path and the 1-based line it is on.

use std::fmt;
use std::path::{Path, PathBuf};

use super::article::{Article, ArticleId, ReviewDate};
use super::render;
use crate::lang::Lang;

/// Keys an article's front matter may have.
pub const KNOWN_KEYS: &[&str] = &[
    "id",
    "title",
    "questions",
    "tags",
    "lang",
    "related",
    "translation_of",
    "min_confidence",
    "owner",
    "review_by",
];

/// A problem in a knowledge file: prints as `path:line: message`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, thiserror::Error)]
pub struct Problem {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl Problem {
    /// A problem; a multi-line message is joined with "; " so every problem
    /// stays one output line.
    pub fn new(path: &Path, line: usize, message: impl Into<String>) -> Problem {
        let message: String = message.into();
        let message = message
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        Problem {
            path: path.to_owned(),
            line,
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// How an unknown key's problem starts (its key follows, in backticks).
const UNKNOWN_KEY: &str = "unknown key `";

/// The front-matter key an "unknown key" problem names, if it is one.
pub fn unknown_key(problem: &Problem) -> Option<&str> {
    problem.message.strip_prefix(UNKNOWN_KEY)?.split('`').next()
}

/// An article that parsed, plus problems that did not stop it being served
/// (unknown keys).
#[derive(Debug)]
pub struct Parsed {
    pub article: Article,
    pub warnings: Vec<Problem>,
    /// Line of each phrasing (title first), for duplicate-question reports.
    pub phrasing_lines: Vec<usize>,
    pub body_line: usize,
}

#[derive(serde::Deserialize)]
struct FrontMatter {
    id: Option<String>,
    title: Option<String>,
    #[serde(default)]
    questions: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    lang: Option<String>,
    #[serde(default)]
    related: Vec<String>,
    translation_of: Option<String>,
    min_confidence: Option<f64>,
    owner: Option<String>,
    review_by: Option<toml::Value>,
}

/// The 1-based line of `key = …` in front matter text (counting from its first line).
fn key_line_in(fm: &str, key: &str) -> Option<usize> {
    fm.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

/// The 1-based line of `key = …` in a whole article file, if present.
pub fn key_line(file_text: &str, key: &str) -> Option<usize> {
    let body_at = file_text.find("\n+++").unwrap_or(file_text.len());
    key_line_in(&file_text[..body_at], key)
}

/// Parses an article. `path` is used for messages and the default id.
pub fn parse_article(path: &Path, text: &str) -> Result<Parsed, Problem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    if lines.next().map(str::trim_end) != Some("+++") {
        return Err(Problem::new(
            path,
            1,
            "expected `+++` on the first line to open the front matter",
        ));
    }
    // Byte offset where the front matter starts (line 2) and where it ends.
    let fm_start = text.find('\n').map_or(text.len(), |i| i + 1);
    let mut offset = fm_start;
    let mut close = None;
    for (i, line) in lines.enumerate() {
        if line.trim_end() == "+++" {
            close = Some((offset, i + 2));
            break;
        }
        offset += line.len();
    }
    let Some((fm_end, close_line)) = close else {
        return Err(Problem::new(
            path,
            1,
            "front matter opened with `+++` is never closed",
        ));
    };
    let fm = &text[fm_start..fm_end];
    let body_start = (fm_end
        + text[fm_end..]
            .find('\n')
            .map_or(text.len() - fm_end, |i| i + 1))
    .min(text.len());
    let body = text[body_start..].trim();
    let line_of = |byte: usize| 2 + fm[..byte.min(fm.len())].matches('\n').count();

    let table: toml::Table = toml::from_str(fm).map_err(|e| {
        let line = e.span().map_or(2, |s| line_of(s.start));
        Problem::new(path, line, format!("bad TOML: {}", e.message().trim()))
    })?;
    let key_line = |key: &str| key_line_in(fm, key).map_or(2, |l| l + 1);
    let mut warnings = Vec::new();
    for key in table.keys() {
        if !KNOWN_KEYS.contains(&key.as_str()) {
            warnings.push(Problem::new(
                path,
                key_line(key),
                format!("{UNKNOWN_KEY}{key}` (known: {})", KNOWN_KEYS.join(", ")),
            ));
        }
    }
    // Parsed again typed: this time the error span points at the offending value.
    let front: FrontMatter = toml::from_str(fm).map_err(|e| {
        let line = e.span().map_or(2, |s| line_of(s.start));
        Problem::new(
            path,
            line,
            format!("bad front matter: {}", e.message().trim()),
        )
    })?;

    let title = match front.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => t.to_owned(),
        Some(_) => return Err(Problem::new(path, key_line("title"), "`title` is empty")),
        None => return Err(Problem::new(path, 1, "missing required key `title`")),
    };
    let id = match &front.id {
        Some(id) => ArticleId::parse(id.trim())
            .map_err(|e| Problem::new(path, key_line("id"), e.to_string()))?,
        None => {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            ArticleId::parse(stem)
                .map_err(|e| Problem::new(path, 1, format!("{e} (from the file name; set `id`)")))?
        }
    };
    let lang = match &front.lang {
        Some(l) => l
            .parse::<Lang>()
            .map_err(|e| Problem::new(path, key_line("lang"), e.to_string()))?,
        None => Lang::En,
    };
    let parse_ids = |key: &str, ids: &[String]| -> Result<Vec<ArticleId>, Problem> {
        ids.iter()
            .map(|s| {
                ArticleId::parse(s.trim())
                    .map_err(|e| Problem::new(path, key_line(key), format!("`{key}`: {e}")))
            })
            .collect()
    };
    let related = parse_ids("related", &front.related)?;
    let translation_of = match &front.translation_of {
        Some(t) => parse_ids("translation_of", std::slice::from_ref(t))?.pop(),
        None => None,
    };
    let min_confidence = match front.min_confidence {
        Some(c) if (0.0..=1.0).contains(&c) => Some(c as f32),
        Some(c) => {
            return Err(Problem::new(
                path,
                key_line("min_confidence"),
                format!("`min_confidence` must be between 0 and 1, got {c}"),
            ));
        }
        None => None,
    };
    let review_by = match &front.review_by {
        None => None,
        Some(v) => {
            let s = match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Datetime(d) => d.to_string(),
                other => other.to_string(),
            };
            Some(ReviewDate::parse(&s).ok_or_else(|| {
                Problem::new(
                    path,
                    key_line("review_by"),
                    format!("`review_by` must be a date YYYY-MM-DD, got {s}"),
                )
            })?)
        }
    };
    if body.is_empty() {
        return Err(Problem::new(
            path,
            close_line,
            "the answer (after the closing `+++`) is empty",
        ));
    }
    let questions: Vec<String> = front
        .questions
        .iter()
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty())
        .collect();
    let mut phrasing_lines = vec![key_line("title")];
    phrasing_lines.extend(std::iter::repeat_n(key_line("questions"), questions.len()));
    let first_body_byte = text.len() - text[body_start..].trim_start().len();
    let body_line = 1 + text[..first_body_byte].matches('\n').count();
    let article = Article {
        id,
        title,
        questions,
        tags: front
            .tags
            .iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect(),
        lang,
        related,
        translation_of,
        min_confidence,
        owner: front.owner,
        review_by,
        html: render::to_html(body),
        text: render::to_text(body),
        body_markdown: body.to_owned(),
        path: path.to_owned(),
    };
    Ok(Parsed {
        article,
        warnings,
        phrasing_lines,
        body_line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Parsed, Problem> {
        parse_article(Path::new("kb/billing/plans.md"), text)
    }

    #[test]
    fn parses_a_full_article() {
        let p = parse("+++\nid = \"billing-plans\"\ntitle = \"Do you offer payment plans?\"\nquestions = [\"pay over time\"]\ntags = [\"billing\"]\nlang = \"es-MX\"\nrelated = [\"billing-insurance\"]\nmin_confidence = 0.8\nreview_by = 2030-01-02\nowner = \"ana\"\n+++\nYes, see [plans](https://x.org).\n").expect("parses");
        let a = p.article;
        assert_eq!(a.id.as_str(), "billing-plans");
        assert_eq!(a.lang, Lang::Es);
        assert_eq!(a.questions, ["pay over time"]);
        assert_eq!(a.min_confidence, Some(0.8));
        assert_eq!(
            a.review_by.map(|d| d.to_string()).as_deref(),
            Some("2030-01-02")
        );
        assert_eq!(a.text, "Yes, see plans.");
        assert!(p.warnings.is_empty());
    }

    #[test]
    fn id_defaults_to_the_file_name() {
        let p = parse("+++\ntitle = \"Plans\"\n+++\nYes.").expect("parses");
        assert_eq!(p.article.id.as_str(), "plans");
        assert_eq!(p.article.lang, Lang::En);
    }

    #[test]
    fn toml_errors_point_at_their_line() {
        let e =
            parse("+++\ntitle = \"ok\"\ntags = [\"a\",\nlang = \n+++\nx").expect_err("bad toml");
        assert!(e.line >= 4, "{e}");
        assert!(e.to_string().starts_with("kb/billing/plans.md:"), "{e}");
        let e = parse("+++\n\n\ntitle = 5\n+++\nx").expect_err("bad type");
        assert_eq!(e.line, 4, "{e}");
    }

    #[test]
    fn missing_title_empty_body_and_bad_values_are_errors() {
        assert_eq!(
            parse("+++\nid = \"x\"\n+++\nbody")
                .expect_err("no title")
                .line,
            1
        );
        assert_eq!(
            parse("+++\ntitle = \"t\"\n+++\n  \n")
                .expect_err("empty")
                .line,
            3
        );
        assert_eq!(
            parse("+++\ntitle = \"t\"\nlang = \"fr\"\n+++\nb")
                .expect_err("lang")
                .line,
            3
        );
        assert_eq!(
            parse("+++\ntitle = \"t\"\n\nmin_confidence = 2.0\n+++\nb")
                .expect_err("range")
                .line,
            4
        );
        assert_eq!(parse("title = \"t\"\n").expect_err("no fm").line, 1);
        assert_eq!(parse("+++\ntitle = \"t\"\n").expect_err("unclosed").line, 1);
    }

    #[test]
    fn unknown_keys_are_warnings_with_lines() {
        let p = parse("+++\ntitle = \"t\"\n\nauthor = \"x\"\n+++\nb").expect("still served");
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].line, 4);
        assert!(p.warnings[0].message.contains("unknown key `author`"));
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(fm in "\\PC{0,200}", body in "\\PC{0,200}", nl in proptest::bool::ANY) {
            let sep = if nl { "\r\n" } else { "\n" };
            let _ = parse(&format!("+++{sep}{fm}{sep}+++{sep}{body}"));
            let _ = parse(&format!("+++{sep}title = \"{fm}\"{sep}+++{body}"));
            let _ = parse(&fm);
        }
    }
}
