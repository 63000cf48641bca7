//! Walks the knowledge directory and parses every article file in it.
//! A file that fails to parse keeps its last good version, if it had one.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::article::Article;
use super::parse::{Problem, parse_article};
use super::synonyms::Synonyms;

/// Name of the synonyms file at the top of the knowledge directory.
pub const SYNONYMS_FILE: &str = "synonyms.txt";
/// Name of the file of private health words at the top of the directory.
pub const HEALTH_WORDS_FILE: &str = "health-words.txt";
/// Article files larger than this are refused.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Most article files read; a directory with more is refused past this.
pub const MAX_FILES: usize = 100_000;
const MAX_DEPTH: usize = 16;

/// One article as loaded, with where its phrasings are (for `check`).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub article: Arc<Article>,
    pub phrasing_lines: Vec<usize>,
    pub body_line: usize,
    /// True when the file is broken now and this is its last good version.
    pub stale: bool,
}

/// Everything read from the directory in one pass.
#[derive(Debug, Default)]
pub struct LoadResult {
    /// Unique ids, ordered by path.
    pub articles: Vec<Loaded>,
    pub synonyms: Synonyms,
    pub health_words: super::health_words::HealthWords,
    /// Errors and warnings, ordered by path and line.
    pub problems: Vec<Problem>,
}

/// Whether a file name is one editors and tools leave behind, not an article.
pub fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
}

/// Whether `path` (relative or not) names an article file.
pub fn is_article_path(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    !is_ignored_name(name) && name.ends_with(".md")
}

/// Article file paths under `dir`, sorted; problems for unreadable parts.
pub fn article_paths(dir: &Path) -> std::io::Result<(Vec<PathBuf>, Vec<Problem>)> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut stack = vec![(dir.to_owned(), 0usize)];
    // The top directory must be readable; below it, problems are reported.
    std::fs::read_dir(dir)?;
    while let Some((d, depth)) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) => {
                problems.push(Problem::new(&d, 1, format!("cannot read directory: {e}")));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if is_ignored_name(&name) {
                continue;
            }
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                if depth < MAX_DEPTH {
                    stack.push((path, depth + 1));
                }
            } else if is_article_path(&path) {
                if out.len() >= MAX_FILES {
                    problems.push(Problem::new(
                        &path,
                        1,
                        format!("more than {MAX_FILES} article files; the rest are ignored"),
                    ));
                    break;
                }
                out.push(path);
            }
        }
    }
    out.sort();
    Ok((out, problems))
}

/// Loads the directory. `previous` maps paths to their last good version.
pub fn load_dir(dir: &Path, previous: &HashMap<PathBuf, Loaded>) -> std::io::Result<LoadResult> {
    let (paths, mut problems) = article_paths(dir)?;
    let mut result = LoadResult::default();
    let syn_path = dir.join(SYNONYMS_FILE);
    if let Ok(text) = std::fs::read_to_string(&syn_path) {
        let (syn, syn_problems) = Synonyms::parse(&text);
        result.synonyms = syn;
        problems.extend(
            syn_problems
                .into_iter()
                .map(|p| Problem::new(&syn_path, p.line, p.message)),
        );
    }
    let words_path = dir.join(HEALTH_WORDS_FILE);
    if let Ok(text) = std::fs::read_to_string(&words_path) {
        let (words, word_problems) = super::health_words::HealthWords::parse(&text);
        result.health_words = words;
        problems.extend(
            word_problems
                .into_iter()
                .map(|p| Problem::new(&words_path, p.line, p.message)),
        );
    }
    let mut ids: HashMap<String, PathBuf> = HashMap::new();
    for path in paths {
        let loaded = match read_article(&path) {
            Ok(mut parsed) => {
                problems.append(&mut parsed.warnings);
                Some(Loaded {
                    article: Arc::new(parsed.article),
                    phrasing_lines: parsed.phrasing_lines,
                    body_line: parsed.body_line,
                    stale: false,
                })
            }
            Err(problem) => {
                problems.push(problem);
                previous.get(&path).map(|old| Loaded {
                    stale: true,
                    ..old.clone()
                })
            }
        };
        let Some(loaded) = loaded else { continue };
        let id = loaded.article.id.as_str().to_owned();
        if let Some(first) = ids.get(&id) {
            problems.push(Problem::new(
                &path,
                1,
                format!("duplicate id `{id}` (already used by {})", first.display()),
            ));
            continue;
        }
        ids.insert(id, path);
        result.articles.push(loaded);
    }
    problems.sort();
    let mut seen = HashSet::new();
    problems.retain(|p| seen.insert(p.to_string()));
    result.problems = problems;
    Ok(result)
}

fn read_article(path: &Path) -> Result<super::parse::Parsed, Problem> {
    let meta =
        std::fs::metadata(path).map_err(|e| Problem::new(path, 1, format!("cannot read: {e}")))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Problem::new(
            path,
            1,
            format!("file is larger than {MAX_FILE_BYTES} bytes"),
        ));
    }
    let bytes =
        std::fs::read(path).map_err(|e| Problem::new(path, 1, format!("cannot read: {e}")))?;
    let text =
        String::from_utf8(bytes).map_err(|_| Problem::new(path, 1, "file is not valid UTF-8"))?;
    parse_article(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_leftovers_are_not_articles() {
        for name in [
            ".#x.md",
            "x.md~",
            ".x.md.swp",
            "#x.md#",
            ".hidden.md",
            "clinic.toml",
            "synonyms.txt",
        ] {
            assert!(!is_article_path(Path::new(name)), "{name}");
        }
        assert!(is_article_path(Path::new("kb/billing/plans.md")));
    }

    #[test]
    fn broken_file_keeps_last_good_version_and_duplicates_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |rel: &str, text: &str| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        };
        write("a/one.md", "+++\ntitle = \"One\"\n+++\nFirst.");
        write("b/one.md", "+++\ntitle = \"Other one\"\n+++\nDup.");
        write(".hidden/x.md", "not an article");
        let first = load_dir(dir.path(), &HashMap::new()).expect("load");
        assert_eq!(first.articles.len(), 1);
        assert_eq!(first.problems.len(), 1);
        assert!(first.problems[0].message.contains("duplicate id `one`"));

        write("a/one.md", "+++\ntitle = \n+++\nbroken");
        let previous: HashMap<PathBuf, Loaded> = first
            .articles
            .iter()
            .map(|l| (l.article.path.clone(), l.clone()))
            .collect();
        let second = load_dir(dir.path(), &previous).expect("load");
        assert_eq!(second.articles[0].article.title, "One");
        assert!(second.articles[0].stale);
        assert!(
            second
                .problems
                .iter()
                .any(|p| p.line == 2 && p.message.starts_with("bad TOML"))
        );
    }
}
