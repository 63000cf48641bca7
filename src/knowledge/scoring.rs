//! Confidence that does not depend on the query or the knowledge base size:
//! per-candidate features in 0..1 built from IDF-weighted term overlap, a
//! linear relevance, and a logistic over relevance and the margin to the
//! runner-up. The formula is documented in docs/answer-quality.md.

use super::index::{LangIndex, TermId};

/// One query, analysed against one index.
pub struct Query {
    ids: Vec<Option<TermId>>,
    weights: Vec<f32>,
    total: f32,
    sq_total: f32,
}

impl Query {
    pub fn new(index: &LangIndex, terms: &[String]) -> Query {
        let ids: Vec<Option<TermId>> = terms.iter().map(|t| index.lookup(t)).collect();
        let weights: Vec<f32> = ids.iter().map(|id| index.idf(*id)).collect();
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

/// Tuned on covidq-dev, checked on the clinic KB; see docs/answer-quality.md.
pub const W_COSINE: f32 = 0.45;
pub const W_PHRASING: f32 = 0.25;
pub const W_COVERAGE: f32 = 0.30;
/// Logistic over relevance r and margin m = r1 - r2: σ(K_REL·(r - R0) + K_MARGIN·m).
pub const K_REL: f32 = 12.0;
pub const R0: f32 = 0.55;
pub const K_MARGIN: f32 = 6.0;

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
            let p_sq: f32 = p.iter().map(|t| index.idf(Some(*t)).powi(2)).sum();
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
        W_COSINE * self.cosine + W_PHRASING * self.phrasing_coverage + W_COVERAGE * self.coverage
    }
}

/// The logistic: probability-like confidence from relevance and margin.
pub fn confidence(relevance: f32, margin: f32) -> f32 {
    let z = K_REL * (relevance - R0) + K_MARGIN * margin;
    let c = 1.0 / (1.0 + (-z).exp());
    if c.is_finite() {
        c.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_grows_with_relevance_and_margin() {
        assert!(confidence(0.9, 0.2) > confidence(0.5, 0.2));
        assert!(confidence(0.7, 0.3) > confidence(0.7, 0.0));
        assert!((0.0..=1.0).contains(&confidence(f32::NAN, 0.0)));
        assert!(confidence(0.0, 0.0) < 0.01);
    }
}
