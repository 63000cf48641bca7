//! Confidence that does not depend on the query or the knowledge base size:
//! per-candidate features in 0..1 built from IDF-weighted term overlap, a
//! linear relevance, and a logistic over relevance and the margin to the
//! runner-up. The formula is documented in docs/answer-quality.md.

use super::index::{LangIndex, Resolved, TermId};

/// One query, analysed against one index.
pub struct Query {
    ids: Vec<Option<TermId>>,
    weights: Vec<f32>,
    total: f32,
    sq_total: f32,
}

impl Query {
    pub fn new(index: &LangIndex, terms: &[Resolved]) -> Query {
        let ids: Vec<Option<TermId>> = terms.iter().map(|t| t.id).collect();
        let weights: Vec<f32> = terms.iter().map(|t| index.weight(t)).collect();
        let total = weights.iter().sum();
        let sq_total = weights.iter().map(|w| w * w).sum();
        Query {
            ids,
            weights,
            total,
            sq_total,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// How many query terms the knowledge base has never seen (after typo correction).
    pub fn unknown(&self) -> usize {
        self.ids.iter().filter(|i| i.is_none()).count()
    }
}

/// What one candidate article has in common with the query, each in 0..1.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Features {
    /// IDF-weighted cosine between the query and the closest phrasing.
    pub cosine: f32,
    /// Share of the query's IDF mass found in the closest phrasing.
    pub phrasing_coverage: f32,
    /// Share of the query's IDF mass found anywhere in the article.
    pub coverage: f32,
    /// tantivy BM25 score relative to the best candidate's.
    pub bm25_rel: f32,
    /// Matched IDF mass anywhere in the article, in units of the rarest possible
    /// term: how much evidence there is, not just what share (0.. ~query length).
    pub evidence: f32,
    /// The same, in the closest phrasing only.
    pub phrasing_evidence: f32,
}

/// Ranking weights (cosine, coverage, relative BM25), tuned on covidq-dev for MRR.
pub const RANK_COSINE: f32 = 0.3;
pub const RANK_COVERAGE: f32 = 0.6;
pub const RANK_BM25: f32 = 0.2;

/// Logistic "the best article is the right one": σ(A0 + A_MATCH·match + A_MARGIN·margin).
/// Fitted on covidq-dev answerable + out-of-domain queries; see docs/answer-quality.md.
pub const A0: f32 = -3.06;
pub const A_MATCH: f32 = 2.65;
pub const A_MARGIN: f32 = 2.76;
/// Logistic "one of the top three is right": σ(C0 + C_MATCH·match).
pub const C0: f32 = -2.86;
pub const C_MATCH: f32 = 3.88;

impl Features {
    pub fn compute(index: &LangIndex, q: &Query, ord: usize, bm25_rel: f32) -> Features {
        let Some(doc) = index.docs.get(ord) else {
            return Features::default();
        };
        if q.total <= 0.0 {
            return Features::default();
        }
        let mut best_cos = 0.0f32;
        let mut best_cov = 0.0f32;
        let unit = index.idf(None).max(f32::MIN_POSITIVE);
        for p in &doc.phrasings {
            let mut hit = 0.0;
            let mut hit_sq = 0.0;
            for (id, w) in q.ids.iter().zip(&q.weights) {
                if id.is_some_and(|t| p.binary_search(&t).is_ok()) {
                    hit += w;
                    hit_sq += w * w;
                }
            }
            let p_sq: f32 = p.iter().map(|t| index.weight_of(*t).powi(2)).sum();
            let cos = if p_sq > 0.0 {
                hit_sq / (q.sq_total * p_sq).sqrt()
            } else {
                0.0
            };
            best_cos = best_cos.max(cos);
            best_cov = best_cov.max(hit / q.total);
        }
        let all: f32 = q
            .ids
            .iter()
            .zip(&q.weights)
            .filter(|(id, _)| id.is_some_and(|t| doc.all.binary_search(&t).is_ok()))
            .map(|(_, w)| w)
            .sum();
        Features {
            cosine: best_cos.clamp(0.0, 1.0),
            phrasing_coverage: best_cov.clamp(0.0, 1.0),
            coverage: (all / q.total).clamp(0.0, 1.0),
            bm25_rel: bm25_rel.clamp(0.0, 1.0),
            evidence: all / unit,
            phrasing_evidence: best_cov * q.total / unit,
        }
    }

    /// Linear relevance in 0..1, used to rank candidates.
    pub fn relevance(&self) -> f32 {
        (RANK_COSINE * self.cosine + RANK_COVERAGE * self.coverage + RANK_BM25 * self.bm25_rel)
            / (RANK_COSINE + RANK_COVERAGE + RANK_BM25)
    }

    /// How well the article matches the query on its own (no BM25, which is
    /// only meaningful relative to other candidates), 0..1.
    pub fn match_score(&self) -> f32 {
        (self.cosine + 2.0 * self.coverage + self.phrasing_coverage) / 4.0
    }
}

fn sigmoid(z: f32) -> f32 {
    let c = 1.0 / (1.0 + (-z).exp());
    if c.is_finite() {
        c.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Confidence (0..1) that an article is the right answer, from its match and its
/// relevance margin over the best other candidate (negative for runners-up).
pub fn confidence(features: &Features, margin: f32) -> f32 {
    sigmoid(A0 + A_MATCH * features.match_score() + A_MARGIN * margin)
}

/// Confidence (0..1) that one of the top choices is right, from the best match.
pub fn choice_confidence(features: &Features) -> f32 {
    sigmoid(C0 + C_MATCH * features.match_score())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(m: f32) -> Features {
        Features {
            cosine: m,
            coverage: m,
            ..Features::default()
        }
    }

    #[test]
    fn confidence_grows_with_match_and_margin() {
        assert!(confidence(&f(0.9), 0.2) > confidence(&f(0.5), 0.2));
        assert!(confidence(&f(0.7), 0.3) > confidence(&f(0.7), 0.0));
        assert!((0.0..=1.0).contains(&confidence(&f(f32::NAN), 0.0)));
        assert!(confidence(&f(0.0), 0.0) < 0.05);
        assert!(choice_confidence(&f(1.0)) > choice_confidence(&f(0.3)));
    }
}
