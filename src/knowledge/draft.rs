//! An editor's draft of one article, checked and tried against the serving
//! articles without changing what patients get: the draft is parsed as the
//! file it would become, checked as `knowledge check` checks it, and a
//! question can be decided by a private knowledge base with the draft in
//! place of the article it edits. Blocking work: call off the runtime.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::analysis::Analyzer;
use super::article::{Article, ArticleId, ReviewDate};
use super::check::{NEAR_DUPLICATE, jaccard};
use super::decide::Decision;
use super::kb::Kb;
use super::loader::{LoadResult, Loaded};
use super::meaning::Meaning;
use super::parse::{Problem, key_line, parse_article};
use super::{Knowledge, Shared};
use crate::lang::Lang;
use crate::utterance::Utterance;

/// Every served phrasing's terms, per language, for duplicate checks.
pub struct PhraseTerms {
    by_lang: HashMap<Lang, Vec<Phrase>>,
}

struct Phrase {
    article: ArticleId,
    text: String,
    terms: Vec<String>,
}

impl PhraseTerms {
    fn build(kb: &Kb) -> PhraseTerms {
        let mut by_lang: HashMap<Lang, Vec<Phrase>> = HashMap::new();
        for lang in Lang::ALL {
            let analyzer = Analyzer::new(lang, kb.synonyms());
            let phrases = kb
                .articles()
                .iter()
                .filter(|a| a.lang == lang)
                .flat_map(|a| {
                    a.phrasings()
                        .map(|p| Phrase {
                            article: a.id.clone(),
                            text: p.to_owned(),
                            terms: sorted_terms(&analyzer, p),
                        })
                        .collect::<Vec<_>>()
                })
                .filter(|p| !p.terms.is_empty())
                .collect();
            by_lang.insert(lang, phrases);
        }
        PhraseTerms { by_lang }
    }
}

fn sorted_terms(analyzer: &Analyzer, text: &str) -> Vec<String> {
    let mut terms = analyzer.terms(text);
    terms.sort();
    terms.dedup();
    terms
}

/// A draft as checked: the article it parses to (when it does) and every
/// problem, errors and warnings alike (an article with any cannot be saved).
#[derive(Debug)]
pub struct Checked {
    pub article: Option<Article>,
    pub problems: Vec<Problem>,
}

impl Knowledge {
    /// Parses `text` as the article file at `path` and checks it against
    /// the serving articles: what `knowledge check` reports for one file
    /// (its parse errors and warnings, `related` and `translation_of`
    /// naming no article, a passed review date, questions that duplicate
    /// another article's), and an id already used by another article.
    pub fn check_draft(&self, path: &Path, text: &str) -> Checked {
        let parsed = match parse_article(path, text) {
            Ok(p) => p,
            Err(problem) => {
                return Checked {
                    article: None,
                    problems: vec![problem],
                };
            }
        };
        let kb = self.snapshot();
        let a = &parsed.article;
        let mut problems = parsed.warnings.clone();
        let line = |key: &str| key_line(text, key).unwrap_or(1);
        if let Some(other) = kb.article(&a.id).filter(|o| o.path != a.path) {
            let name = other
                .path
                .strip_prefix(&self.shared.dir)
                .unwrap_or(&other.path);
            problems.push(Problem::new(
                path,
                line("id"),
                format!("the id `{}` is already used by {}", a.id, name.display()),
            ));
        }
        for r in &a.related {
            if kb.article(r).is_none() && *r != a.id {
                problems.push(Problem::new(
                    path,
                    line("related"),
                    format!("`related` names `{r}`, which is not an article"),
                ));
            }
        }
        if let Some(t) = &a.translation_of
            && kb.article(t).is_none()
        {
            problems.push(Problem::new(
                path,
                line("translation_of"),
                format!("`translation_of` names `{t}`, which is not an article"),
            ));
        }
        if let Some(d) = a.review_by
            && d < ReviewDate::today()
        {
            problems.push(Problem::new(
                path,
                line("review_by"),
                format!("review date {d} has passed; set the next one"),
            ));
        }
        problems.extend(duplicates(&kb, a, &parsed.phrasing_lines));
        problems.sort();
        problems.dedup();
        Checked {
            article: Some(parsed.article),
            problems,
        }
    }

    /// Decides `said` as the serving knowledge would with `draft` in place
    /// of the article with its id (or added beside the others). The
    /// knowledge base built for it is private to this call and the next
    /// ones with the same draft; the serving one is untouched.
    pub fn decide_draft(&self, draft: Article, said: &Utterance, lang: Lang) -> Decision {
        match self.draft_kb(draft) {
            Ok(kb) => kb.decide(said, lang, &self.shared.settings),
            Err(e) => {
                tracing::error!(error = %e, "cannot build a knowledge base for a draft");
                Decision::escalate_empty()
            }
        }
    }

    fn draft_kb(&self, draft: Article) -> anyhow::Result<Arc<Kb>> {
        let serving = self.snapshot();
        let key = format!("{}:{}", serving.digest, draft_digest(&draft));
        if let Ok(last) = self.shared.last_draft.lock()
            && let Some((k, kb)) = last.as_ref()
            && *k == key
        {
            return Ok(kb.clone());
        }
        let kb = Arc::new(build_with(&serving, draft)?);
        if serving.has_meaning() {
            attach_meaning(&self.shared, &kb);
        }
        if let Ok(mut last) = self.shared.last_draft.lock() {
            *last = Some((key, kb.clone()));
        }
        Ok(kb)
    }

    /// The phrasing of `article` closest in words to `said`, if any shares
    /// a word with it (a match by meaning alone has none).
    pub fn matched_phrasing(&self, said: &Utterance, article: &Article) -> Option<String> {
        let kb = self.snapshot();
        let analyzer = Analyzer::new(article.lang, kb.synonyms());
        let asked = sorted_terms(&analyzer, said.text());
        article
            .phrasings()
            .map(|p| (jaccard(&asked, &sorted_terms(&analyzer, p)), p))
            .filter(|(score, _)| *score > 0.0)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, p)| p.to_owned())
    }
}

/// The serving articles with `draft` in place of its namesake.
fn build_with(serving: &Kb, draft: Article) -> anyhow::Result<Kb> {
    let loaded = |article: Arc<Article>| Loaded {
        article,
        phrasing_lines: Vec::new(),
        body_line: 0,
        stale: false,
    };
    let mut articles: Vec<Loaded> = serving
        .articles()
        .into_iter()
        .filter(|a| a.id != draft.id && a.path != draft.path)
        .map(loaded)
        .collect();
    articles.push(loaded(Arc::new(draft)));
    let load = LoadResult {
        articles,
        synonyms: serving.synonyms().clone(),
        health_words: (*serving.health_words()).clone(),
        problems: Vec::new(),
    };
    Ok(Kb::build(&load)?)
}

/// Embeds a draft knowledge base like the serving one (every article but
/// the draft comes from the cache).
fn attach_meaning(shared: &Shared, kb: &Kb) {
    let Some(setup) = shared.state.semantic.get() else {
        return;
    };
    let Some(model) = setup.embedder.model() else {
        return;
    };
    let Ok(mut cache) = setup.cache.lock() else {
        return;
    };
    match Meaning::build(kb.indexes(), &model, &mut cache, &mut |_, _| {}) {
        Ok(meaning) => kb.attach(meaning),
        Err(e) => tracing::warn!(error = %e, "cannot embed a draft; trying it by words alone"),
    }
}

fn draft_digest(a: &Article) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in [
        a.id.as_str(),
        a.lang.as_str(),
        &a.title,
        &a.questions.join("\u{1f}"),
        &a.body_markdown,
        &a.min_confidence.map(|c| c.to_string()).unwrap_or_default(),
        &a.translation_of
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_default(),
    ] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    crate::ids::hex(&hash.finalize()[..8])
}

/// The draft's phrasings that (nearly) duplicate another article's.
fn duplicates(kb: &Kb, a: &Article, lines: &[usize]) -> Vec<Problem> {
    let served = kb.phrase_terms.get_or_init(|| PhraseTerms::build(kb));
    let Some(phrases) = served.by_lang.get(&a.lang) else {
        return Vec::new();
    };
    let analyzer = Analyzer::new(a.lang, kb.synonyms());
    let mut problems = Vec::new();
    for (i, text) in a.phrasings().enumerate() {
        let terms = sorted_terms(&analyzer, text);
        if terms.is_empty() {
            continue;
        }
        let twin = phrases
            .iter()
            .filter(|p| p.article != a.id)
            .find(|p| jaccard(&terms, &p.terms) >= NEAR_DUPLICATE);
        if let Some(p) = twin {
            let kind = if p.terms == terms {
                "duplicates"
            } else {
                "nearly duplicates"
            };
            problems.push(Problem::new(
                &a.path,
                lines.get(i).copied().unwrap_or(1),
                format!(
                    "question {text:?} {kind} {:?} of the article `{}`",
                    p.text, p.article
                ),
            ));
        }
    }
    problems
}
