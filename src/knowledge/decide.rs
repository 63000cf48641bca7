//! What to do with a patient's question: answer when sure, offer 2–3 choices
//! when torn between plausible articles, escalate to a person otherwise.

use std::sync::Arc;

use super::article::{Article, ArticleId};
use super::index::LangIndex;
use super::scoring::{self, Features, Query};
use crate::lang::Lang;

/// Decision thresholds. Tune them with `frontdesk eval` (docs/answer-quality.md).
#[derive(clap::Args, Clone, Debug, PartialEq)]
pub struct DecisionSettings {
    /// Answer directly at or above this confidence (0..1).
    #[arg(long, env = "FRONTDESK_ANSWER_THRESHOLD", default_value_t = 0.5)]
    pub answer_threshold: f32,
    /// Below the answer threshold, offer choices at or above this; escalate below it.
    #[arg(long, env = "FRONTDESK_CLARIFY_THRESHOLD", default_value_t = 0.15)]
    pub clarify_threshold: f32,
    /// Further choices are offered only if their relevance is within this of the best one.
    #[arg(long, env = "FRONTDESK_CHOICE_GAP", default_value_t = 0.3)]
    pub choice_gap: f32,
    /// Most choices offered when clarifying (2 or 3).
    #[arg(long, env = "FRONTDESK_MAX_CHOICES", default_value_t = 3, value_parser = clap::value_parser!(u8).range(2..=3))]
    pub max_choices: u8,
}

impl Default for DecisionSettings {
    fn default() -> Self {
        DecisionSettings {
            answer_threshold: 0.5,
            clarify_threshold: 0.15,
            choice_gap: 0.3,
            max_choices: 3,
        }
    }
}

/// An article considered for a question.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Candidate {
    pub id: ArticleId,
    pub title: String,
    pub lang: Lang,
    /// Confidence (0..1) that this article answers the question.
    pub score: f32,
}

/// The outcome for one question.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Answer with `article`; `candidates` are the runners-up, best first.
    Answer {
        article: Arc<Article>,
        confidence: f32,
        candidates: Vec<Candidate>,
    },
    /// Ask which of 2–3 `candidates` the patient means; `confidence` is that one of them is right.
    Clarify {
        candidates: Vec<Candidate>,
        confidence: f32,
    },
    /// Hand over to a person; `candidates` (possibly empty) are context for the agent.
    Escalate {
        confidence: f32,
        candidates: Vec<Candidate>,
    },
}

impl Decision {
    pub fn kind(&self) -> &'static str {
        match self {
            Decision::Answer { .. } => "answer",
            Decision::Clarify { .. } => "clarify",
            Decision::Escalate { .. } => "escalate",
        }
    }

    pub fn confidence(&self) -> f32 {
        match self {
            Decision::Answer { confidence, .. }
            | Decision::Clarify { confidence, .. }
            | Decision::Escalate { confidence, .. } => *confidence,
        }
    }

    pub fn candidates(&self) -> &[Candidate] {
        match self {
            Decision::Answer { candidates, .. }
            | Decision::Clarify { candidates, .. }
            | Decision::Escalate { candidates, .. } => candidates,
        }
    }

    pub fn article(&self) -> Option<&Arc<Article>> {
        match self {
            Decision::Answer { article, .. } => Some(article),
            _ => None,
        }
    }

    pub(crate) fn escalate_empty() -> Decision {
        Decision::Escalate {
            confidence: 0.0,
            candidates: Vec::new(),
        }
    }
}

/// A candidate with its features, ranked by relevance.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Scored {
    #[serde(skip)]
    pub ord: usize,
    pub id: ArticleId,
    pub features: Features,
    pub relevance: f32,
}

/// Candidates for `text` in one language's index, best first.
pub fn rank(index: &LangIndex, text: &str) -> Vec<Scored> {
    let terms = index.resolve(&index.analyzer.query_terms(text));
    let query = Query::new(index, &terms);
    if query.is_empty() || index.is_empty() {
        return Vec::new();
    }
    let hits = match index.candidates(&terms) {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "knowledge search failed");
            return Vec::new();
        }
    };
    let top_bm25 = hits.first().map_or(1.0, |h| h.1).max(f32::MIN_POSITIVE);
    let mut scored: Vec<Scored> = hits
        .into_iter()
        .filter_map(|(ord, bm25)| {
            let article = index.articles.get(ord)?;
            let features = Features::compute(index, &query, ord, bm25 / top_bm25);
            Some(Scored {
                ord,
                id: article.id.clone(),
                relevance: features.relevance(),
                features,
            })
        })
        .collect();
    scored.sort_by(|a, b| {
        b.relevance
            .total_cmp(&a.relevance)
            .then(b.features.bm25_rel.total_cmp(&a.features.bm25_rel))
    });
    scored
}

/// The decision for `text` in one language's index.
pub fn decide_in(index: &LangIndex, text: &str, settings: &DecisionSettings) -> Decision {
    let ranked = rank(index, text);
    let Some(top) = ranked.first() else {
        return Decision::escalate_empty();
    };
    let r1 = top.relevance;
    let r2 = ranked.get(1).map_or(0.0, |s| s.relevance);
    let candidate = |i: usize, s: &Scored| {
        let other = if i == 0 { r2 } else { r1 };
        let a = &index.articles[s.ord];
        Candidate {
            id: a.id.clone(),
            title: a.title.clone(),
            lang: a.lang,
            score: scoring::confidence(&s.features, s.relevance - other),
        }
    };
    let answer_conf = scoring::confidence(&top.features, r1 - r2);
    let context: Vec<Candidate> = ranked
        .iter()
        .take(3)
        .enumerate()
        .map(|(i, s)| candidate(i, s))
        .collect();
    let article = &index.articles[top.ord];
    let min = article.min_confidence.unwrap_or(0.0);
    if answer_conf >= settings.answer_threshold && answer_conf >= min {
        return Decision::Answer {
            article: article.clone(),
            confidence: answer_conf,
            candidates: context[1..].to_vec(),
        };
    }
    let plausible = scoring::choice_confidence(&top.features);
    if plausible >= settings.clarify_threshold && ranked.len() >= 2 {
        let max = usize::from(settings.max_choices).clamp(2, 3);
        let choices: Vec<Candidate> = ranked
            .iter()
            .take(max)
            .enumerate()
            .filter(|(i, s)| *i < 2 || s.relevance >= r1 - settings.choice_gap)
            .map(|(i, s)| candidate(i, s))
            .collect();
        return Decision::Clarify {
            candidates: choices,
            confidence: plausible,
        };
    }
    Decision::Escalate {
        confidence: answer_conf,
        candidates: context,
    }
}
