//! One immutable snapshot of the whole knowledge base: every language's index
//! and the articles by id. Readers hold an `Arc<Kb>`; reloads build a new one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::analysis::Analyzer;
use super::article::{Article, ArticleId};
use super::decide::{Decision, DecisionSettings, Scored, decide_in, rank};
use super::index::{IndexError, LangIndex};
use super::loader::LoadResult;
use crate::lang::Lang;

/// A built, searchable knowledge base.
pub struct Kb {
    indexes: HashMap<Lang, LangIndex>,
    by_id: HashMap<ArticleId, Arc<Article>>,
    pub problems: usize,
    pub built_at: SystemTime,
    pub build_time: Duration,
}

impl Kb {
    /// An empty knowledge base: every question escalates.
    pub fn empty() -> Kb {
        Kb {
            indexes: HashMap::new(),
            by_id: HashMap::new(),
            problems: 0,
            built_at: SystemTime::now(),
            build_time: Duration::ZERO,
        }
    }

    /// Indexes everything `load` produced.
    pub fn build(load: &LoadResult) -> Result<Kb, IndexError> {
        let started = Instant::now();
        let mut per_lang: HashMap<Lang, Vec<Arc<Article>>> = HashMap::new();
        let mut by_id = HashMap::new();
        for l in &load.articles {
            per_lang
                .entry(l.article.lang)
                .or_default()
                .push(l.article.clone());
            by_id.insert(l.article.id.clone(), l.article.clone());
        }
        let mut indexes = HashMap::new();
        for (lang, articles) in per_lang {
            let analyzer = Analyzer::new(lang, &load.synonyms);
            indexes.insert(lang, LangIndex::build(analyzer, articles)?);
        }
        Ok(Kb {
            indexes,
            by_id,
            problems: load.problems.len(),
            built_at: SystemTime::now(),
            build_time: started.elapsed(),
        })
    }

    pub fn article(&self, id: &ArticleId) -> Option<Arc<Article>> {
        self.by_id.get(id).cloned()
    }

    pub fn count(&self, lang: Lang) -> usize {
        self.indexes.get(&lang).map_or(0, LangIndex::len)
    }

    /// Decides in the patient's language first; if that escalates, English
    /// articles are tried and used when they do better.
    pub fn decide(&self, text: &str, lang: Lang, settings: &DecisionSettings) -> Decision {
        let own = self
            .indexes
            .get(&lang)
            .map(|i| decide_in(i, text, settings));
        if let Some(d) = &own
            && !matches!(d, Decision::Escalate { .. })
        {
            return own.unwrap_or_else(Decision::escalate_empty);
        }
        let fallback = (lang != Lang::En)
            .then(|| self.indexes.get(&Lang::En))
            .flatten()
            .map(|i| decide_in(i, text, settings));
        match (own, fallback) {
            (_, Some(f)) if !matches!(f, Decision::Escalate { .. }) => f,
            (Some(o), _) => o,
            (None, Some(f)) => f,
            (None, None) => Decision::escalate_empty(),
        }
    }

    /// The ranked candidates with their features, for `eval` and debugging.
    pub fn explain(&self, text: &str, lang: Lang) -> Vec<Scored> {
        self.indexes
            .get(&lang)
            .map(|i| rank(i, text))
            .unwrap_or_default()
    }
}
