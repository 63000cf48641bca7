//! What to do with a patient's question: answer when sure, offer 2–3 choices
//! when torn between plausible articles, escalate to a person otherwise.

use std::sync::Arc;

use super::article::{Article, ArticleId};
use super::index::LangIndex;
use super::meaning::LangMeaning;
use super::scoring::{self, Calibration, Features, Query};
use crate::lang::Lang;

/// Decision settings. The thresholds default to the calibration's own
/// (fitted with `frontdesk eval`, docs/answer-quality.md); set them to
/// override every calibration's (words alone, words and meaning, across
/// languages).
#[derive(clap::Args, Clone, Debug, PartialEq, Default)]
pub struct DecisionSettings {
    /// Answer directly at or above this confidence (0..1); default: the
    /// calibration's (0.5 for words alone).
    #[arg(long, env = "FRONTDESK_ANSWER_THRESHOLD")]
    pub answer_threshold: Option<f32>,
    /// Below the answer threshold, offer choices at or above this; escalate
    /// below it. Default: the calibration's (0.15 for words alone).
    #[arg(long, env = "FRONTDESK_CLARIFY_THRESHOLD")]
    pub clarify_threshold: Option<f32>,
    /// Further choices are offered only if their relevance is within this of the best one.
    #[arg(long, env = "FRONTDESK_CHOICE_GAP", default_value_t = 0.3)]
    pub choice_gap: f32,
    /// Most choices offered when clarifying (2 or 3).
    #[arg(long, env = "FRONTDESK_MAX_CHOICES", default_value_t = 3, value_parser = clap::value_parser!(u8).range(2..=3))]
    pub max_choices: u8,
}

impl DecisionSettings {
    /// The thresholds in force with `cal`: (answer, clarify).
    pub fn thresholds(&self, cal: &Calibration) -> (f32, f32) {
        (
            self.answer_threshold.unwrap_or(cal.answer_threshold),
            self.clarify_threshold.unwrap_or(cal.clarify_threshold),
        )
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

/// The meaning side of one question: its embedding and the index's.
#[derive(Clone, Copy)]
pub struct Semantic<'a> {
    pub query: &'a [f32],
    pub articles: &'a LangMeaning,
}

/// Articles closest in meaning that join the word candidates.
const SEMANTIC_CANDIDATES: usize = 10;

/// The [`SEMANTIC_CANDIDATES`] entries of `ords` with the highest `score`,
/// without sorting them all (a knowledge base may hold tens of thousands).
/// Reorders `ords`; the caller may select again from the same vector.
fn nearest(ords: &mut [usize], score: impl Fn(usize) -> f32) -> &[usize] {
    let k = SEMANTIC_CANDIDATES.min(ords.len());
    if k > 0 && k < ords.len() {
        ords.select_nth_unstable_by(k - 1, |a, b| score(*b).total_cmp(&score(*a)));
    }
    &ords[..k]
}

/// Candidates for a question's `words` (`Utterance::search_words`) in one
/// language's index, best first: what the words find, and with `semantic`,
/// what is closest in meaning.
pub fn rank(
    index: &LangIndex,
    words: &[String],
    semantic: Option<Semantic<'_>>,
    cal: &Calibration,
) -> Vec<Scored> {
    if index.is_empty() {
        return Vec::new();
    }
    let terms = index.resolve(&index.analyzer.query_terms(words));
    let query = Query::new(index, &terms);
    let hits = if query.is_empty() {
        Vec::new()
    } else {
        index.candidates(&terms).unwrap_or_else(|e| {
            tracing::error!(error = %e, "knowledge search failed");
            Vec::new()
        })
    };
    let closeness = semantic.map(|s| s.articles.closeness(s.query));
    let mut pool: Vec<(usize, f32)> = hits;
    if let Some(close) = &closeness {
        // The closest by passage and the closest by phrasing: each finds
        // right articles the other misses.
        let mut ords: Vec<usize> = (0..close.len()).collect();
        let by_passage = nearest(&mut ords, |o| close[o].passage).to_vec();
        let by_phrasing = nearest(&mut ords, |o| close[o].phrasing);
        for &ord in by_passage.iter().chain(by_phrasing) {
            if !pool.iter().any(|(o, _)| *o == ord) {
                pool.push((ord, 0.0));
            }
        }
    }
    let top_bm25 = pool
        .iter()
        .map(|h| h.1)
        .fold(0.0f32, f32::max)
        .max(f32::MIN_POSITIVE);
    let mut scored: Vec<Scored> = pool
        .into_iter()
        .filter_map(|(ord, bm25)| {
            let article = index.articles.get(ord)?;
            let mut features = if query.is_empty() {
                Features::default()
            } else {
                Features::compute(index, &query, ord, bm25 / top_bm25)
            };
            if let Some(c) = closeness.as_ref().and_then(|c| c.get(ord)) {
                features.closeness = *c;
                // `semantic` is the passage's: alone it ranks better than the
                // closest phrasing (covidq-dev: right article first for 0.62
                // of questions against 0.41); the calibration blends the two
                // for relevance (`phrasing_share`), which ranks better still.
                features.semantic = scoring::semantic_scale(c.passage);
            }
            Some(Scored {
                ord,
                id: article.id.clone(),
                relevance: cal.relevance(&features),
                features,
            })
        })
        .collect();
    sort_by_relevance(&mut scored);
    scored
}

/// Re-ranks candidates with another calibration (features stay as they are).
pub fn rerank(ranked: &mut [Scored], cal: &Calibration) {
    for s in ranked.iter_mut() {
        s.relevance = cal.relevance(&s.features);
    }
    sort_by_relevance(ranked);
}

/// Best first; a tie goes to the better word match.
fn sort_by_relevance(ranked: &mut [Scored]) {
    ranked.sort_by(|a, b| {
        b.relevance
            .total_cmp(&a.relevance)
            .then(b.features.bm25_rel.total_cmp(&a.features.bm25_rel))
    });
}

/// Each ranked candidate's answer confidence: its relevance and meaning
/// margins are taken over the best other candidate.
pub fn confidences(ranked: &[Scored], cal: &Calibration) -> Vec<f32> {
    let r1 = ranked.first().map_or(0.0, |s| s.relevance);
    let r2 = ranked.get(1).map_or(0.0, |s| s.relevance);
    // The two best meaning scores: each candidate's margin is over the best
    // of the others.
    let (mut s1, mut s2, mut at) = (0.0f32, 0.0f32, usize::MAX);
    for (i, s) in ranked.iter().enumerate() {
        let v = s.features.semantic;
        if v > s1 {
            (s2, s1, at) = (s1, v, i);
        } else if v > s2 {
            s2 = v;
        }
    }
    let agree = agreement(ranked);
    ranked
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let other = if i == 0 { r2 } else { r1 };
            let best_other = if i == at { s2 } else { s1 };
            cal.confidence(
                &s.features,
                s.relevance - other,
                s.features.semantic - best_other,
                agree[i],
            )
        })
        .collect()
}

/// For each candidate, the share of three independent signals whose own
/// best candidate it is: the words alone, the meaning of the article's
/// passage, and the closest of its phrasings by meaning. When they agree
/// the article is right far more often than any one score says (on
/// held-out folds it raised direct right answers from 0.376 to 0.485 on
/// the clinic set and from 0.180 to 0.221 on covidq-dev, at the same or a
/// lower wrong-answer rate; docs/answer-quality.md). Without meaning only
/// the words count.
pub fn agreement(ranked: &[Scored]) -> Vec<f32> {
    let best = |score: &dyn Fn(&Scored) -> f32| -> Option<usize> {
        ranked
            .iter()
            .enumerate()
            .filter(|(_, s)| score(s) > 0.0)
            .max_by(|a, b| score(a.1).total_cmp(&score(b.1)).then(b.0.cmp(&a.0)))
            .map(|(i, _)| i)
    };
    let signals = [
        best(&|s| s.features.relevance()),
        best(&|s| s.features.closeness.passage),
        best(&|s| s.features.closeness.phrasing),
    ];
    (0..ranked.len())
        .map(|i| signals.iter().filter(|b| **b == Some(i)).count() as f32 / 3.0)
        .collect()
}

/// The decision for a question's `words` in one language's index.
pub fn decide_in(
    index: &LangIndex,
    words: &[String],
    semantic: Option<Semantic<'_>>,
    settings: &DecisionSettings,
) -> Decision {
    let cal = if semantic.is_some() {
        Calibration::HYBRID
    } else {
        Calibration::LEXICAL
    };
    let ranked = rank(index, words, semantic, &cal);
    decide_ranked(index, &ranked, &cal, settings)
}

/// The patient's own language first; another language's decision only
/// where it does better: its answer when the own language gave none, its
/// choices when the own language had nothing to offer.
pub fn prefer(own: Decision, other: Decision) -> Decision {
    match (&own, &other) {
        (Decision::Answer { .. }, _) => own,
        (_, Decision::Answer { .. }) => other,
        (Decision::Clarify { .. }, _) => own,
        (_, Decision::Clarify { .. }) => other,
        // Both hand over: the own language's candidates are context for
        // the agent, unless it had none.
        _ if own.candidates().is_empty() => other,
        _ => own,
    }
}

/// The decision over candidates already ranked with `cal`.
pub fn decide_ranked(
    index: &LangIndex,
    ranked: &[Scored],
    cal: &Calibration,
    settings: &DecisionSettings,
) -> Decision {
    let Some(top) = ranked.first() else {
        return Decision::escalate_empty();
    };
    let r1 = top.relevance;
    let conf = confidences(ranked, cal);
    let candidate = |i: usize, s: &Scored| {
        let a = &index.articles[s.ord];
        Candidate {
            id: a.id.clone(),
            title: a.title.clone(),
            lang: a.lang,
            score: conf[i],
        }
    };
    let answer_conf = conf[0];
    let context: Vec<Candidate> = ranked
        .iter()
        .take(3)
        .enumerate()
        .map(|(i, s)| candidate(i, s))
        .collect();
    let article = &index.articles[top.ord];
    let min = article.min_confidence.unwrap_or(0.0);
    let (answer_at, clarify_at) = settings.thresholds(cal);
    if answer_conf >= answer_at && answer_conf >= min {
        return Decision::Answer {
            article: article.clone(),
            confidence: answer_conf,
            candidates: context[1..].to_vec(),
        };
    }
    let plausible = cal.choice_confidence(&top.features);
    if plausible >= clarify_at && ranked.len() >= 2 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::meaning::Closeness;

    fn candidate(id: &str, words: f32, passage: f32, phrasing: f32) -> Scored {
        Scored {
            ord: 0,
            id: id.parse().unwrap(),
            relevance: 0.0,
            features: Features {
                coverage: words,
                closeness: Closeness { passage, phrasing },
                ..Features::default()
            },
        }
    }

    #[test]
    fn another_language_is_preferred_only_where_it_does_better() {
        let c = |id: &str| Candidate {
            id: id.parse().unwrap(),
            title: id.to_owned(),
            lang: Lang::En,
            score: 0.5,
        };
        let clarify = |ids: &[&str]| Decision::Clarify {
            candidates: ids.iter().map(|i| c(i)).collect(),
            confidence: 0.6,
        };
        let escalate = |ids: &[&str]| Decision::Escalate {
            candidates: ids.iter().map(|i| c(i)).collect(),
            confidence: 0.1,
        };
        let ids = |d: &Decision| -> Vec<String> {
            d.candidates().iter().map(|c| c.id.to_string()).collect()
        };
        // Own choices stand against other choices; other choices beat a handover.
        let d = prefer(clarify(&["a", "b"]), clarify(&["x", "y"]));
        assert_eq!(
            (d.kind(), ids(&d)),
            ("clarify", vec!["a".into(), "b".into()])
        );
        let d = prefer(escalate(&["a"]), clarify(&["x", "y"]));
        assert_eq!(
            (d.kind(), ids(&d)),
            ("clarify", vec!["x".into(), "y".into()])
        );
        // Both hand over: the own candidates, unless there are none.
        assert_eq!(ids(&prefer(escalate(&["a"]), escalate(&["x"]))), ["a"]);
        assert_eq!(ids(&prefer(escalate(&[]), escalate(&["x"]))), ["x"]);
    }

    #[test]
    fn agreement_counts_the_signals_that_rank_a_candidate_first() {
        let ranked = [
            candidate("parking", 0.9, 0.91, 0.85),
            candidate("hours", 0.2, 0.88, 0.93),
            candidate("billing", 0.0, 0.80, 0.80),
        ];
        let agree = agreement(&ranked);
        assert_eq!(agree, [2.0 / 3.0, 1.0 / 3.0, 0.0]);
        // Without meaning, only the words can agree.
        let words_only = [candidate("a", 0.5, 0.0, 0.0), candidate("b", 0.1, 0.0, 0.0)];
        assert_eq!(agreement(&words_only), [1.0 / 3.0, 0.0]);
        assert!(agreement(&[]).is_empty());
    }
}
