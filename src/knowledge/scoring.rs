//! Confidence that does not depend on the query or the knowledge base size:
//! per-candidate features in 0..1 built from IDF-weighted term overlap, a
//! linear relevance, and a logistic over relevance and the margin to the
//! runner-up. The formula is documented in docs/answer-quality.md.

use super::index::{LangIndex, Resolved, TermId};
use super::meaning::Closeness;

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
    /// Closeness in meaning (sentence embeddings), scaled to 0..1; 0 when
    /// the question or the article has no embedding.
    pub semantic: f32,
    /// The raw cosines behind `semantic`.
    pub closeness: Closeness,
}

/// Question–passage cosines of the e5 model at or below this are as far as
/// unrelated clinic questions get; `SEMANTIC_SPAN` above it, as close as an
/// article answering the question gets (covidq-dev: the best passage's
/// cosine is 0.86–0.89 for out-of-domain questions, 0.89–0.91 for
/// answerable ones, quartiles).
const SEMANTIC_FLOOR: f32 = 0.80;
const SEMANTIC_SPAN: f32 = 0.12;

/// Scales a cosine of the e5 model to 0..1.
pub fn semantic_scale(cosine: f32) -> f32 {
    ((cosine - SEMANTIC_FLOOR) / SEMANTIC_SPAN).clamp(0.0, 1.0)
}

/// How relevance and confidence are computed: fitted by `frontdesk eval`
/// (docs/answer-quality.md), one set for words alone and one for words and
/// meaning together.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Calibration {
    /// Share of relevance that comes from meaning (0 for words alone).
    pub semantic_share: f32,
    /// Share of meaning that comes from the closest phrasing (the rest from
    /// the article's passage).
    pub phrasing_share: f32,
    /// Answer confidence σ(a0 + a_match·m + a_margin·d + a_sem·s +
    /// a_sem_margin·ds + a_agree·g + a_phrasing·f), where g is the share of
    /// the three signals (words, passage meaning, closest phrasing by
    /// meaning) whose own best candidate this one is, and f the closest
    /// phrasing's closeness in meaning, scaled as s.
    pub a0: f32,
    pub a_match: f32,
    pub a_margin: f32,
    pub a_sem: f32,
    pub a_sem_margin: f32,
    pub a_agree: f32,
    pub a_phrasing: f32,
    /// Choice confidence σ(c0 + c_match·m + c_sem·s).
    pub c0: f32,
    pub c_match: f32,
    pub c_sem: f32,
    /// Answer at or above this answer confidence (unless overridden).
    pub answer_threshold: f32,
    /// Otherwise offer choices at or above this choice confidence.
    pub clarify_threshold: f32,
}

impl Calibration {
    /// Words alone (fitted on covidq-dev before meaning was added).
    pub const LEXICAL: Calibration = Calibration {
        semantic_share: 0.0,
        phrasing_share: 0.0,
        a0: A0,
        a_match: A_MATCH,
        a_margin: A_MARGIN,
        a_sem: 0.0,
        a_sem_margin: 0.0,
        a_agree: 0.0,
        a_phrasing: 0.0,
        c0: C0,
        c_match: C_MATCH,
        c_sem: 0.0,
        answer_threshold: 0.5,
        clarify_threshold: 0.15,
    };

    /// Words and meaning: fitted on the clinic questions of
    /// tests/fixtures/questions/everyday.tsv over the bundled knowledge
    /// (`frontdesk eval --kb knowledge --queries … --cv 5 --fit`). The
    /// figures in docs/answer-quality.md are the cross-validated ones (each
    /// fold fitted without the questions it is judged on), on that set and
    /// on covidq-dev.
    pub const HYBRID: Calibration = Calibration {
        semantic_share: 0.6,
        phrasing_share: 0.75,
        a0: -5.107,
        a_match: 3.202,
        a_margin: 2.313,
        a_sem: 1.171,
        a_sem_margin: 0.704,
        a_agree: 1.235,
        a_phrasing: 4.129,
        c0: -2.617,
        c_match: 5.925,
        c_sem: 4.637,
        answer_threshold: 0.808,
        clarify_threshold: 0.481,
    };

    /// A question asked of another language's articles (the fallback
    /// across languages, only with meaning): fitted on the same clinic
    /// questions, each asked of the other language's articles
    /// (`frontdesk eval --kb knowledge --queries … --cross --cv 5 --fit`).
    pub const CROSS: Calibration = Calibration {
        semantic_share: 0.9,
        phrasing_share: 0.5,
        a0: -2.740,
        a_match: 0.273,
        a_margin: 2.925,
        a_sem: 2.225,
        a_sem_margin: 3.282,
        a_agree: 0.649,
        a_phrasing: 3.713,
        c0: -0.317,
        c_match: 1.098,
        c_sem: 5.631,
        answer_threshold: 0.811,
        clarify_threshold: 0.543,
    };

    /// A candidate's relevance, for ranking.
    pub fn relevance(&self, f: &Features) -> f32 {
        let phrasing = semantic_scale(f.closeness.phrasing);
        let meaning = (1.0 - self.phrasing_share) * f.semantic + self.phrasing_share * phrasing;
        (1.0 - self.semantic_share) * f.relevance() + self.semantic_share * meaning
    }

    /// Confidence that the candidate with `f` is the right answer, given its
    /// relevance margin `d` and meaning margin `ds` over the best other
    /// one, and the share `agree` of signals that rank it first.
    pub fn confidence(&self, f: &Features, d: f32, ds: f32, agree: f32) -> f32 {
        sigmoid(
            self.a0
                + self.a_match * f.match_score()
                + self.a_margin * d
                + self.a_sem * f.semantic
                + self.a_sem_margin * ds
                + self.a_agree * agree
                + self.a_phrasing * semantic_scale(f.closeness.phrasing),
        )
    }

    /// Confidence that one of the top choices is right.
    pub fn choice_confidence(&self, f: &Features) -> f32 {
        sigmoid(self.c0 + self.c_match * f.match_score() + self.c_sem * f.semantic)
    }
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
            semantic: 0.0,
            closeness: Closeness::default(),
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

pub fn sigmoid(z: f32) -> f32 {
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

    fn f(m: f32) -> Features {
        Features {
            cosine: m,
            coverage: m,
            ..Features::default()
        }
    }

    #[test]
    fn confidence_grows_with_match_and_margin() {
        let c = Calibration::LEXICAL;
        let confidence = |f: Features, d: f32| c.confidence(&f, d, 0.0, 0.0);
        assert!(confidence(f(0.9), 0.2) > confidence(f(0.5), 0.2));
        assert!(confidence(f(0.7), 0.3) > confidence(f(0.7), 0.0));
        assert!((0.0..=1.0).contains(&confidence(f(f32::NAN), 0.0)));
        assert!(confidence(f(0.0), 0.0) < 0.05);
        assert!(c.choice_confidence(&f(1.0)) > c.choice_confidence(&f(0.3)));
    }
}
