//! The learned signal beside the rules: how close a message is, in meaning,
//! to labelled emergency and crisis examples, against how close it is to
//! labelled ordinary messages that look like them. It catches the phrasings
//! nobody wrote a rule for ("I took the whole bottle on purpose"), and the
//! ordinary examples keep look-alikes ("this wait is killing me") quiet.
//!
//! The examples are a labelled file (`safety-examples.tsv` in the knowledge
//! directory, the tuning half of the project's set); the margins are fitted
//! on that half, leaving each example out of its own judgement
//! (`frontdesk safety eval --fit`).

use super::set::{Labelled, Tier};
use crate::semantic::{Embedding, Model, Role, VectorCache, cosine};

/// Examples averaged per side: the k nearest.
const K: usize = 3;

/// What fires, per tier: the emergency side must beat the ordinary side by
/// this much (mean cosine of the k nearest).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Margins {
    pub emergency: f32,
    pub crisis: f32,
    pub urgent: f32,
    /// A rule's hit is set aside only when the ordinary examples lead by
    /// more than this (a figure of speech, a question about a condition);
    /// fitted so that no emergency of the tuning half the rules catch is lost.
    pub veto: f32,
}

impl Margins {
    /// Fitted on the tuning half of tests/fixtures/safety/set
    /// (`frontdesk safety eval --set … --fit`); the README has the figures
    /// on the holdout half.
    pub const FITTED: Margins = Margins {
        emergency: 0.0175,
        crisis: 0.0004,
        urgent: 0.0138,
        veto: 0.0173,
    };

    pub fn of(&self, tier: Tier) -> f32 {
        match tier {
            Tier::Emergency => self.emergency,
            Tier::Crisis => self.crisis,
            Tier::Urgent => self.urgent,
            Tier::None => f32::INFINITY,
        }
    }
}

struct Example {
    tier: Tier,
    category: String,
    vector: Embedding,
}

/// The embedded examples.
pub struct Examples {
    items: Vec<Example>,
}

/// How a message compares with the examples.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// The closest urgent tier, its category (the nearest example's) and
    /// its score (mean cosine of its k nearest examples).
    pub tier: Tier,
    pub category: String,
    pub score: f32,
    /// The same score for the ordinary examples.
    pub ordinary: f32,
}

impl Judgement {
    /// How far the urgent side is ahead of the ordinary one.
    pub fn lead(&self) -> f32 {
        self.score - self.ordinary
    }

    /// Whether it fires with `margins`.
    pub fn fires(&self, margins: &Margins) -> bool {
        self.lead() >= margins.of(self.tier)
    }

    /// Whether a rule's hit on this message should be set aside.
    pub fn vetoes(&self, margins: &Margins) -> bool {
        -self.lead() > margins.veto
    }
}

impl Examples {
    /// Embeds `examples` (blocking: a second or two per hundred), taking
    /// what it can from `cache`.
    pub fn build(
        examples: &[Labelled],
        model: &Model,
        cache: &mut VectorCache,
    ) -> anyhow::Result<Examples> {
        let keys: Vec<_> = examples
            .iter()
            .map(|l| cache.key(Role::Query, &l.text))
            .collect();
        let mut vectors: Vec<Option<Embedding>> = keys.iter().map(|k| cache.get(k)).collect();
        let missing: Vec<usize> = (0..examples.len())
            .filter(|i| vectors[*i].is_none())
            .collect();
        let texts: Vec<&str> = missing.iter().map(|i| examples[*i].text.as_str()).collect();
        for (i, v) in missing.iter().zip(model.embed(&texts, Role::Query)?) {
            cache.put(keys[*i], v.clone());
            vectors[*i] = Some(v);
        }
        cache.save();
        let items = examples
            .iter()
            .zip(vectors)
            .filter_map(|(l, vector)| {
                Some(Example {
                    tier: l.tier,
                    category: l.category.clone(),
                    vector: vector?,
                })
            })
            .collect();
        Ok(Examples { items })
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Compares `query` with every example but `skip` (leave-one-out).
    pub fn judge(&self, query: &[f32], skip: Option<usize>) -> Option<Judgement> {
        let tiers = [Tier::Emergency, Tier::Crisis, Tier::Urgent, Tier::None];
        let mut near: [Vec<(f32, usize)>; 4] = Default::default();
        for (i, e) in self.items.iter().enumerate() {
            if Some(i) == skip {
                continue;
            }
            let slot = tiers.iter().position(|t| *t == e.tier).unwrap_or(3);
            keep_top(&mut near[slot], (cosine(query, &e.vector), i));
        }
        let mean = |v: &Vec<(f32, usize)>| {
            if v.is_empty() {
                f32::NEG_INFINITY
            } else {
                v.iter().map(|(s, _)| s).sum::<f32>() / v.len() as f32
            }
        };
        let (best, list) = near[..3]
            .iter()
            .enumerate()
            .max_by(|a, b| mean(a.1).total_cmp(&mean(b.1)))?;
        let nearest = list.first()?.1;
        Some(Judgement {
            tier: tiers[best],
            category: self.items[nearest].category.clone(),
            score: mean(list),
            ordinary: mean(&near[3]),
        })
    }
}

/// Keeps the K best (score, index) pairs, best first.
fn keep_top(top: &mut Vec<(f32, usize)>, candidate: (f32, usize)) {
    if top.len() == K && top.last().is_some_and(|l| l.0 >= candidate.0) {
        return;
    }
    let at = top.partition_point(|x| x.0 >= candidate.0);
    top.insert(at, candidate);
    top.truncate(K);
}

/// The margins that keep false alarms on the ordinary examples at or under
/// `max_false` (leave-one-out over `judged`: (label, judgement, whether a
/// rule fired)), per tier; the lowest such margin catches the most. The
/// veto is the smallest that sets aside no rule hit on a real emergency.
pub fn fit_margins(judged: &[(Tier, Judgement, bool)], max_false: f64) -> Margins {
    let veto = judged
        .iter()
        .filter(|(t, _, rule)| *rule && matches!(t, Tier::Emergency | Tier::Crisis))
        .map(|(_, j, _)| -j.lead())
        .fold(f32::NEG_INFINITY, f32::max)
        + 0.01;
    let judged: Vec<(Tier, Judgement)> = judged.iter().map(|(t, j, _)| (*t, j.clone())).collect();
    let judged = &judged;
    let ordinary = judged.iter().filter(|(t, _)| *t == Tier::None).count();
    let fit = |tier: Tier| -> f32 {
        // Ordinary messages this tier would fire on, by how far ahead it is.
        let mut leads: Vec<f32> = judged
            .iter()
            .filter(|(t, j)| *t == Tier::None && j.tier == tier)
            .map(|(_, j)| j.lead())
            .collect();
        leads.sort_by(|a, b| b.total_cmp(a));
        let allowed = (max_false * ordinary as f64).floor() as usize;
        // Just above the first lead that would be one too many.
        leads.get(allowed).map_or(-1.0, |l| l + 1e-4)
    };
    Margins {
        emergency: fit(Tier::Emergency),
        crisis: fit(Tier::Crisis),
        urgent: fit(Tier::Urgent),
        veto: veto.max(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_k_keeps_the_best_in_order() {
        let mut top = Vec::new();
        for (s, i) in [(0.1, 0), (0.9, 1), (0.5, 2), (0.7, 3), (0.2, 4)] {
            keep_top(&mut top, (s, i));
        }
        assert_eq!(top, [(0.9, 1), (0.7, 3), (0.5, 2)]);
    }

    #[test]
    fn margins_allow_at_most_the_given_share_of_false_alarms() {
        let j = |tier, lead: f32| Judgement {
            tier,
            category: String::new(),
            score: 0.9,
            ordinary: 0.9 - lead,
        };
        let mut judged: Vec<(Tier, Judgement, bool)> = (0..100)
            .map(|i| {
                (
                    Tier::None,
                    j(Tier::Emergency, -0.1 + i as f32 * 0.001),
                    false,
                )
            })
            .collect();
        judged.push((Tier::Emergency, j(Tier::Emergency, 0.2), true));
        let m = fit_margins(&judged, 0.02);
        let false_alarms = judged
            .iter()
            .filter(|(t, j, _)| *t == Tier::None && j.fires(&m))
            .count();
        assert!(false_alarms <= 2, "{m:?}");
        assert!(judged[100].1.fires(&m));
    }
}
