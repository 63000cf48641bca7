//! `knowledge check`: every problem an editor should fix, one `path:line: message`
//! each — parse errors plus what only shows across files (duplicate questions,
//! dangling `related`, overdue reviews).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::analysis::Analyzer;
use super::article::{ArticleId, ReviewDate};
use super::loader::{self, Loaded};
use super::parse::{Problem, key_line};
use crate::lang::Lang;

/// Term-set overlap (Jaccard) at or above which two questions are near-duplicates.
/// High on purpose: "What is X?" and "How is X treated?" differ by one term yet
/// are different questions; only long questions differing by a word are flagged.
/// Term sets ignore stop words and generic words, and merge synonyms and stems.
pub const NEAR_DUPLICATE: f32 = 0.9;

/// All problems in `dir`, sorted by path and line. Fails only if `dir` is unreadable.
pub fn check_dir(dir: &Path) -> std::io::Result<(Vec<Problem>, usize)> {
    let load = loader::load_dir(dir, &HashMap::new())?;
    let mut problems = load.problems.clone();
    let ids: HashMap<&ArticleId, &Loaded> =
        load.articles.iter().map(|l| (&l.article.id, l)).collect();
    let today = ReviewDate::today();
    for l in &load.articles {
        let a = &l.article;
        let text = std::fs::read_to_string(&a.path).unwrap_or_default();
        let line = |key: &str| key_line(&text, key).unwrap_or(1);
        for r in &a.related {
            if !ids.contains_key(r) {
                problems.push(Problem::new(
                    &a.path,
                    line("related"),
                    format!("`related` names `{r}`, which is not an article"),
                ));
            }
        }
        if let Some(t) = &a.translation_of
            && !ids.contains_key(t)
        {
            problems.push(Problem::new(
                &a.path,
                line("translation_of"),
                format!("`translation_of` names `{t}`, which is not an article"),
            ));
        }
        if let Some(d) = a.review_by
            && d < today
        {
            problems.push(Problem::new(
                &a.path,
                line("review_by"),
                format!("review date {d} has passed"),
            ));
        }
    }
    problems.extend(duplicate_questions(&load.articles, &load.synonyms));
    problems.sort();
    problems.dedup();
    Ok((problems, load.articles.len()))
}

struct Phrase<'a> {
    terms: Vec<String>,
    text: &'a str,
    path: &'a PathBuf,
    line: usize,
    article: usize,
}

fn duplicate_questions(articles: &[Loaded], synonyms: &super::synonyms::Synonyms) -> Vec<Problem> {
    let mut problems = Vec::new();
    for lang in Lang::ALL {
        let analyzer = Analyzer::new(lang, synonyms);
        let mut phrases = Vec::new();
        for (i, l) in articles
            .iter()
            .enumerate()
            .filter(|(_, l)| l.article.lang == lang)
        {
            for (j, text) in l.article.phrasings().enumerate() {
                // Weak words ("need", "get", "someone") still tell questions
                // apart: "can I bring someone" is not "what do I need to bring".
                let mut terms = analyzer.terms(text);
                terms.sort();
                terms.dedup();
                if terms.is_empty() {
                    continue;
                }
                let line = l.phrasing_lines.get(j).copied().unwrap_or(1);
                phrases.push(Phrase {
                    terms,
                    text,
                    path: &l.article.path,
                    line,
                    article: i,
                });
            }
        }
        // Compare only phrases that share their rarest term: near-duplicates always do.
        let mut df: HashMap<&str, usize> = HashMap::new();
        for p in &phrases {
            for t in &p.terms {
                *df.entry(t.as_str()).or_default() += 1;
            }
        }
        let mut buckets: HashMap<&str, Vec<usize>> = HashMap::new();
        for (k, p) in phrases.iter().enumerate() {
            if let Some(rare) = p
                .terms
                .iter()
                .min_by_key(|t| (df.get(t.as_str()).copied().unwrap_or(0), t.as_str()))
            {
                buckets.entry(rare.as_str()).or_default().push(k);
            }
        }
        let mut reported = std::collections::HashSet::new();
        for bucket in buckets.values() {
            for (x, &a) in bucket.iter().enumerate().take(500) {
                for &b in bucket.iter().skip(x + 1).take(500) {
                    let (pa, pb) = (&phrases[a], &phrases[b]);
                    if pa.article == pb.article || jaccard(&pa.terms, &pb.terms) < NEAR_DUPLICATE {
                        continue;
                    }
                    let (first, second) = if (pa.path, pa.line) <= (pb.path, pb.line) {
                        (pa, pb)
                    } else {
                        (pb, pa)
                    };
                    if reported.insert((second.article, second.text)) {
                        let kind = if first.terms == second.terms {
                            "duplicates"
                        } else {
                            "nearly duplicates"
                        };
                        problems.push(Problem::new(
                            second.path,
                            second.line,
                            format!(
                                "question {:?} {kind} {:?} in {}:{}",
                                second.text,
                                first.text,
                                first.path.display(),
                                first.line
                            ),
                        ));
                    }
                }
            }
        }
    }
    problems
}

pub(super) fn jaccard(a: &[String], b: &[String]) -> f32 {
    let inter = a.iter().filter(|t| b.binary_search(t).is_ok()).count();
    let union = a.len() + b.len() - inter;
    if union == 0 {
        0.0
    } else {
        inter as f32 / union as f32
    }
}
