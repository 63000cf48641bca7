//! One immutable snapshot of the whole knowledge base: every language's index
//! and the articles by id. Readers hold an `Arc<Kb>`; reloads build a new one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::analysis::Analyzer;
use super::article::{Article, ArticleId};
use super::decide::{
    Candidate, Decision, DecisionSettings, Scored, Semantic, decide_in, decide_ranked, prefer, rank,
};
use super::index::{IndexError, LangIndex};
use super::loader::LoadResult;
use super::meaning::Meaning;
use super::remembered::{self, Remembered};
use super::scoring::Calibration;
use super::versions::Versions;
use crate::lang::Lang;
use crate::utterance::Utterance;

/// A built, searchable knowledge base.
pub struct Kb {
    indexes: HashMap<Lang, LangIndex>,
    by_id: HashMap<ArticleId, Arc<Article>>,
    /// Each article's versions across languages.
    versions: Versions,
    pub problems: usize,
    pub built_at: SystemTime,
    pub build_time: Duration,
    /// A digest of every article served (not of where its file lies): two
    /// nodes serving the same articles show the same digest.
    pub digest: String,
    /// Words that say something private about a patient's health.
    health_words: Arc<super::health_words::HealthWords>,
    /// The synonyms the indexes were built with (a draft is built alike).
    synonyms: Arc<super::synonyms::Synonyms>,
    /// Every phrasing's terms, per language, built on first use by the
    /// editors' checks (see `draft`).
    pub(super) phrase_terms: std::sync::OnceLock<super::draft::PhraseTerms>,
    /// The articles' embeddings, attached once computed; until then (or
    /// without a model) questions are decided from their words.
    meaning: std::sync::OnceLock<Meaning>,
    /// Decisions made for questions asked before, word for word (with the
    /// serving settings; see `decide_remembered`).
    remembered: Remembered,
}

impl Kb {
    /// An empty knowledge base: every question escalates.
    pub fn empty() -> Kb {
        Kb {
            indexes: HashMap::new(),
            by_id: HashMap::new(),
            versions: Versions::default(),
            problems: 0,
            built_at: SystemTime::now(),
            build_time: Duration::ZERO,
            digest: digest(&[]),
            health_words: Arc::default(),
            synonyms: Arc::default(),
            phrase_terms: std::sync::OnceLock::new(),
            meaning: std::sync::OnceLock::new(),
            remembered: Remembered::default(),
        }
    }

    /// Indexes everything `load` produced.
    pub fn build(load: &LoadResult) -> Result<Kb, IndexError> {
        let started = Instant::now();
        let mut per_lang: HashMap<Lang, Vec<Arc<Article>>> = HashMap::new();
        let mut by_id = HashMap::new();
        for l in &load.articles {
            let a = &l.article;
            per_lang.entry(a.lang).or_default().push(a.clone());
            by_id.insert(a.id.clone(), a.clone());
        }
        let versions = Versions::build(load.articles.iter().map(|l| &l.article));
        let mut indexes = HashMap::new();
        for (lang, articles) in per_lang {
            let analyzer = Analyzer::new(lang, &load.synonyms);
            indexes.insert(lang, LangIndex::build(analyzer, articles)?);
        }
        Ok(Kb {
            indexes,
            by_id,
            versions,
            problems: load.problems.len(),
            built_at: SystemTime::now(),
            build_time: started.elapsed(),
            digest: digest(
                &load
                    .articles
                    .iter()
                    .map(|l| &*l.article)
                    .collect::<Vec<_>>(),
            ),
            health_words: Arc::new(load.health_words.clone()),
            synonyms: Arc::new(load.synonyms.clone()),
            phrase_terms: std::sync::OnceLock::new(),
            meaning: std::sync::OnceLock::new(),
            remembered: Remembered::default(),
        })
    }

    /// The knowledge base's list of private health words (`health-words.txt`).
    pub fn health_words(&self) -> Arc<super::health_words::HealthWords> {
        self.health_words.clone()
    }

    /// Every language's index, for embedding the articles.
    pub fn indexes(&self) -> impl Iterator<Item = (Lang, &LangIndex)> {
        self.indexes.iter().map(|(l, i)| (*l, i))
    }

    /// Attaches the articles' embeddings (once; a second call is ignored).
    pub fn attach(&self, meaning: Meaning) {
        let _ = self.meaning.set(meaning);
    }

    /// Whether questions are decided by meaning as well as words.
    pub fn has_meaning(&self) -> bool {
        self.meaning.get().is_some()
    }

    fn semantic<'a>(&'a self, lang: Lang, query: Option<&'a [f32]>) -> Option<Semantic<'a>> {
        Some(Semantic {
            query: query?,
            articles: self.meaning.get()?.get(lang)?,
        })
    }

    pub fn article(&self, id: &ArticleId) -> Option<Arc<Article>> {
        self.by_id.get(id).cloned()
    }

    /// Every article served, ordered by file path.
    pub fn articles(&self) -> Vec<Arc<Article>> {
        let mut all: Vec<Arc<Article>> = self.by_id.values().cloned().collect();
        all.sort_by(|a, b| a.path.cmp(&b.path));
        all
    }

    pub fn synonyms(&self) -> &super::synonyms::Synonyms {
        &self.synonyms
    }

    pub fn count(&self, lang: Lang) -> usize {
        self.indexes.get(&lang).map_or(0, LangIndex::len)
    }

    /// Decides in the patient's language first, and asks the other
    /// language's articles when that does better (`prefer`): by meaning when
    /// the question has one (`Calibration::CROSS`, and only the articles
    /// with no version in the patient's language: `only_untranslated`),
    /// else by words, English only, and only when the own language found
    /// nothing. An article found that way is given in the patient's
    /// language when it has a version there.
    pub fn decide(&self, said: &Utterance, lang: Lang, settings: &DecisionSettings) -> Decision {
        let (words, query) = (said.search_words(), said.meaning().map(|m| &m[..]));
        let own = match self.indexes.get(&lang) {
            Some(i) => decide_in(i, words, self.semantic(lang, query), settings),
            None => Decision::escalate_empty(),
        };
        if matches!(own, Decision::Answer { .. }) {
            return own;
        }
        let escalated = matches!(own, Decision::Escalate { .. });
        let other = Lang::ALL.into_iter().filter(|l| *l != lang).find_map(|l| {
            let index = self.indexes.get(&l)?;
            match self.semantic(l, query) {
                // By meaning and words together, with the calibration fitted
                // for that: a question's words seldom find an article in
                // another language, so its meaning carries the decision.
                // Nothing to offer when every article there has a version in
                // the patient's language: no second search.
                Some(_) if !self.versions.any_missing(l, lang) => None,
                Some(semantic) => {
                    let cal = Calibration::CROSS;
                    let ranked = rank(index, words, Some(semantic), &cal);
                    let ranked = self.only_untranslated(ranked, lang);
                    Some(decide_ranked(index, &ranked, &cal, settings))
                }
                None if escalated && l == Lang::En => Some(decide_in(index, words, None, settings)),
                None => None,
            }
        });
        match other {
            Some(other) => prefer(own, self.in_language(other, lang)),
            None => own,
        }
    }

    /// `decide`, remembered for questions asked again word for word: a
    /// repeated question costs a lookup, not a search and thousands of
    /// comparisons by meaning. For the settings the server runs with only
    /// (they never change for a snapshot).
    pub fn decide_remembered(
        &self,
        said: &Utterance,
        lang: Lang,
        settings: &DecisionSettings,
    ) -> Decision {
        let Some(key) = self.remembered_key(said, lang) else {
            return self.decide(said, lang, settings);
        };
        if let Some(d) = self.remembered.get(&key) {
            return d;
        }
        let d = self.decide(said, lang, settings);
        self.remembered.insert(key, d.clone());
        d
    }

    /// The decision `decide_remembered` made for this question before, if
    /// it did (cheap: no search, safe on the async runtime).
    pub fn recall(&self, said: &Utterance, lang: Lang) -> Option<Decision> {
        self.remembered.get(&self.remembered_key(said, lang)?)
    }

    fn remembered_key(&self, said: &Utterance, lang: Lang) -> Option<remembered::Key> {
        let semantic = said.meaning().is_some() && self.has_meaning();
        Remembered::key(said, lang, semantic)
    }

    /// A decision made in another language's articles, with each article
    /// swapped for its version in `lang` where there is one.
    fn in_language(&self, d: Decision, lang: Lang) -> Decision {
        let version = |id: &ArticleId, article_lang: Lang| -> Option<Arc<Article>> {
            if article_lang == lang {
                return None;
            }
            self.by_id.get(self.versions.of(id, lang)?).cloned()
        };
        let swap = |cs: Vec<Candidate>| -> Vec<Candidate> {
            cs.into_iter()
                .map(|c| match version(&c.id, c.lang) {
                    Some(a) => Candidate {
                        id: a.id.clone(),
                        title: a.title.clone(),
                        lang: a.lang,
                        score: c.score,
                    },
                    None => c,
                })
                .collect()
        };
        match d {
            Decision::Answer {
                article,
                confidence,
                candidates,
            } => Decision::Answer {
                article: version(&article.id, article.lang).unwrap_or(article),
                confidence,
                candidates: swap(candidates),
            },
            Decision::Clarify {
                candidates,
                confidence,
            } => Decision::Clarify {
                candidates: swap(candidates),
                confidence,
            },
            Decision::Escalate {
                confidence,
                candidates,
            } => Decision::Escalate {
                confidence,
                candidates: swap(candidates),
            },
        }
    }

    /// The ranked candidates with their features, for `eval` and debugging.
    pub fn explain(&self, said: &Utterance, lang: Lang, cal: &Calibration) -> Vec<Scored> {
        let query = said.meaning().map(|m| &m[..]);
        self.indexes
            .get(&lang)
            .map(|i| rank(i, said.search_words(), self.semantic(lang, query), cal))
            .unwrap_or_default()
    }

    /// Whether the article `id` has a version in `lang` (itself, its
    /// original or a translation of either).
    pub fn has_version(&self, id: &ArticleId, lang: Lang) -> bool {
        self.versions.of(id, lang).is_some()
    }

    /// Every version of the article `id` (itself and its translations):
    /// one answer in several languages.
    pub fn versions_of(&self, id: &ArticleId) -> Vec<ArticleId> {
        self.versions.all(id).cloned().collect()
    }

    /// The candidates a fallback from `lang` may offer: the other
    /// language's articles with no version in `lang`. The own language's
    /// decision has already judged every article that has one; asking again
    /// through its translation, with a calibration of its own, would be a
    /// second chance at the same article, not new knowledge.
    pub fn only_untranslated(&self, mut ranked: Vec<Scored>, lang: Lang) -> Vec<Scored> {
        ranked.retain(|s| !self.has_version(&s.id, lang));
        ranked
    }

    /// One language's index (for `eval`).
    pub fn index(&self, lang: Lang) -> Option<&LangIndex> {
        self.indexes.get(&lang)
    }
}

/// SHA-256 over every article's content in id order (each field length-
/// prefixed, so no two different sets hash alike), as 16 hex digits.
fn digest(articles: &[&Article]) -> String {
    use sha2::{Digest, Sha256};
    let mut sorted = articles.to_vec();
    sorted.sort_by(|a, b| (a.id.as_str(), a.lang.as_str()).cmp(&(b.id.as_str(), b.lang.as_str())));
    let mut hash = Sha256::new();
    let mut field = |text: &str| {
        hash.update((text.len() as u64).to_le_bytes());
        hash.update(text.as_bytes());
    };
    for a in sorted {
        field(a.id.as_str());
        field(a.lang.as_str());
        field(&a.title);
        a.questions.iter().for_each(|q| field(q));
        field("|");
        a.tags.iter().for_each(|t| field(t));
        field("|");
        a.related.iter().for_each(|r| field(r.as_str()));
        field(a.translation_of.as_ref().map_or("", |t| t.as_str()));
        field(&a.min_confidence.map(|c| c.to_string()).unwrap_or_default());
        field(&a.body_markdown);
    }
    crate::ids::hex(&hash.finalize()[..8])
}

#[cfg(test)]
mod tests;
