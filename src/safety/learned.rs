//! The learned signal beside the rules. Labelled examples
//! (`safety-examples.tsv` in the knowledge directory, and every article
//! phrasing as an ordinary message) are embedded once; a classifier
//! (`classifier.rs`) is trained on them at each (re)load. A message is
//! judged by its embedding, how close it is to each tier's nearest
//! examples, whether a rule fires, and its words. It catches phrasings
//! nobody wrote a rule for ("I took the whole bottle on purpose"), sets a
//! rule's hit aside on a clearly ordinary message ("what are the signs of a
//! stroke?"), and advises care today for the urgent tier.
//!
//! The thresholds are fitted on out-of-fold judgements of the examples
//! (`frontdesk safety eval --set … --fit`); the README has the figures on
//! the set's holdout half.

use candle_core::{Device, Tensor};

use super::classifier::{Classifier, Features, Probabilities, Training, slot};
use super::set::{Labelled, Tier};
use super::{Kind, Rules};
use crate::semantic::{Embedding, Model, Role, VectorCache, cosine};
use crate::utterance::Utterance;

/// Examples averaged per side: the k nearest.
const K: usize = 3;

/// Fewest examples of each of the 911, 988 and ordinary tiers for the
/// learned signal to serve.
pub const MIN_PER_TIER: usize = 20;

/// The leads are differences of cosines, a few hundredths apart; scaled so
/// the classifier's standardisation starts from sensible numbers.
const LEAD_SCALE: f32 = 20.0;

/// Below this, a message is not clearly ordinary (see [`Judgement::doubtful`]).
pub const CLEARLY_ORDINARY: f32 = 0.9;

/// When the learned signal fires.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Thresholds {
    /// 911 or 988 together at least this probable, when 911 is the likelier.
    pub emergency: f32,
    /// The same when 988 is the likelier.
    pub crisis: f32,
    /// The urgent tier at least this probable (and no danger).
    pub urgent: f32,
    /// A rule's hit is set aside only when the message is more probably
    /// ordinary than this (a figure of speech, a question about a
    /// condition); fitted together with the thresholds (`super::fit`).
    pub veto: f32,
}

impl Thresholds {
    /// The threshold for 911 or 988, whichever is likelier in `p`.
    pub fn danger(&self, p: &Probabilities) -> f32 {
        match p.danger_tier() {
            Tier::Crisis => self.crisis,
            _ => self.emergency,
        }
    }

    /// Whether the learned signal alone sounds an alarm for `p`.
    pub fn fires_alone(&self, p: &Probabilities) -> bool {
        p.danger() >= self.danger(p)
    }

    /// Fitted on out-of-fold probabilities of the training examples (the
    /// set's tuning half and knowledge/safety-examples.tsv:
    /// `frontdesk safety eval --set … --fit`); the README has the figures
    /// on the holdout half.
    pub const FITTED: Thresholds = Thresholds {
        emergency: 0.6609,
        crisis: 0.7182,
        urgent: 0.8805,
        veto: 0.3885,
    };
}

struct Example {
    tier: Tier,
    category: String,
    vector: Embedding,
}

/// The embedded examples and the classifier trained on them.
pub struct Examples {
    items: Vec<Example>,
    classifier: Option<Classifier>,
}

/// How a message compares with the examples.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub probabilities: Probabilities,
    /// The nearest 911 and 988 examples' categories, and the nearest urgent one's.
    emergency: String,
    crisis: String,
    urgent: String,
}

impl Judgement {
    /// A judgement with `probabilities`, naming the nearest 911, 988 and
    /// urgent examples' categories.
    pub fn new(
        probabilities: Probabilities,
        [emergency, crisis, urgent]: [String; 3],
    ) -> Judgement {
        Judgement {
            probabilities,
            emergency,
            crisis,
            urgent,
        }
    }

    /// The tier that fires with `t`, and its category.
    pub fn fires(&self, t: &Thresholds) -> Option<(Tier, &str)> {
        let p = &self.probabilities;
        if t.fires_alone(p) {
            let tier = p.danger_tier();
            return Some((tier, self.category(tier)));
        }
        (p.urgent() >= t.urgent).then_some((Tier::Urgent, self.urgent.as_str()))
    }

    /// Whether a rule's hit on this message should be set aside.
    pub fn vetoes(&self, t: &Thresholds) -> bool {
        self.probabilities.ordinary() > t.veto
    }

    /// Whether a rule's hit, set aside, still leaves enough doubt that the
    /// patient is told where to get care today (the urgent tier's
    /// guidance) rather than nothing: "my chest hurts" alone.
    pub fn doubtful(&self) -> bool {
        self.probabilities.ordinary() < CLEARLY_ORDINARY
    }

    fn category(&self, tier: Tier) -> &str {
        match tier {
            Tier::Emergency => &self.emergency,
            Tier::Crisis => &self.crisis,
            _ => &self.urgent,
        }
    }
}

impl Examples {
    /// Embeds `examples` (blocking: a second or two per hundred), taking
    /// what it can from `cache`, and trains the classifier on them.
    pub fn build(
        examples: &[Labelled],
        model: &Model,
        cache: &mut VectorCache,
        rules: &Rules,
    ) -> anyhow::Result<Examples> {
        let vectors = cached_vectors(examples, model, cache)?;
        cache.save();
        let embedded: Vec<(&Labelled, Embedding)> = examples.iter().zip(vectors).collect();
        Ok(Examples::train(&embedded, rules, &Training::FITTED))
    }

    /// Trains on examples already embedded (blocking: about two seconds for
    /// five thousand in a release build).
    /// `rules` are the ones that will serve beside it (a rule's hit is one
    /// of the classifier's inputs).
    pub fn train(embedded: &[(&Labelled, Embedding)], rules: &Rules, how: &Training) -> Examples {
        let mut examples = Examples {
            items: embedded
                .iter()
                .map(|(l, v)| Example {
                    tier: l.tier,
                    category: l.category.clone(),
                    vector: v.clone(),
                })
                .collect(),
            classifier: None,
        };
        // Each example's leads leave it out, as a new message's would.
        let leads = examples.own_leads();
        let features: Vec<Features> = embedded
            .iter()
            .zip(leads)
            .map(|((l, v), leads)| {
                let said = Utterance::analyse(&l.text);
                let rule = rules.check(&said).map(|h| h.kind);
                Features::new(&said, v, leads, rule)
            })
            .collect();
        let refs: Vec<&Features> = features.iter().collect();
        let tiers: Vec<Tier> = embedded.iter().map(|(l, _)| l.tier).collect();
        // A classifier that has seen too few of a tier would overrule the
        // rules on it: then the rules serve alone.
        let enough = [Tier::Emergency, Tier::Crisis, Tier::None]
            .iter()
            .all(|t| tiers.iter().filter(|x| *x == t).count() >= MIN_PER_TIER);
        if enough {
            examples.classifier = Classifier::train(&refs, &tiers, how);
        }
        examples
    }

    /// Examples serving: none when too few to train on.
    pub fn len(&self) -> usize {
        if self.classifier.is_some() {
            self.items.len()
        } else {
            0
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How far each urgent tier's k nearest examples are ahead of the
    /// ordinary ones' (mean cosine, scaled); and the nearest example of
    /// each urgent tier.
    fn leads(&self, query: &[f32]) -> ([f32; 3], [Option<usize>; 3]) {
        let similar = self.items.iter().map(|e| cosine(query, &e.vector));
        self.leads_from(similar, None)
    }

    /// Every example's leads, each leaving itself out. The similarities
    /// come as matrix products in blocks, on candle's optimised CPU
    /// kernels: a few thousand examples make millions of pairs.
    fn own_leads(&self) -> Vec<[f32; 3]> {
        const BLOCK: usize = 256;
        let rows = |items: &[Example]| -> candle_core::Result<Tensor> {
            let dim = items.first().map_or(0, |e| e.vector.len());
            let flat: Vec<f32> = items
                .iter()
                .flat_map(|e| e.vector.iter().copied())
                .collect();
            Tensor::from_vec(flat, (items.len(), dim), &Device::Cpu)
        };
        let all = match rows(&self.items) {
            Ok(t) => t,
            Err(_) => return vec![[0.0; 3]; self.items.len()],
        };
        let mut out = Vec::with_capacity(self.items.len());
        for (b, block) in self.items.chunks(BLOCK).enumerate() {
            let similar: candle_core::Result<Vec<Vec<f32>>> = rows(block)
                .and_then(|r| r.matmul(&all.t()?))
                .and_then(|m| m.to_vec2());
            match similar {
                Ok(similar) => {
                    for (r, row) in similar.into_iter().enumerate() {
                        let own = b * BLOCK + r;
                        out.push(self.leads_from(row.into_iter(), Some(own)).0);
                    }
                }
                Err(_) => out.extend(std::iter::repeat_n([0.0; 3], block.len())),
            }
        }
        out
    }

    /// The leads from each example's similarity to a message, skipping `skip`.
    fn leads_from(
        &self,
        similar: impl Iterator<Item = f32>,
        skip: Option<usize>,
    ) -> ([f32; 3], [Option<usize>; 3]) {
        let mut near: [Vec<(f32, usize)>; 4] = Default::default();
        for (i, (e, s)) in self.items.iter().zip(similar).enumerate() {
            if Some(i) == skip {
                continue;
            }
            keep_top(&mut near[slot(e.tier)], (s, i));
        }
        let mean = |v: &Vec<(f32, usize)>| {
            if v.is_empty() {
                0.0
            } else {
                v.iter().map(|(s, _)| s).sum::<f32>() / v.len() as f32
            }
        };
        let ordinary = mean(&near[3]);
        let lead = |k: usize| (mean(&near[k]) - ordinary) * LEAD_SCALE;
        let nearest = |k: usize| near[k].first().map(|n| n.1);
        (
            [lead(0), lead(1), lead(2)],
            [nearest(0), nearest(1), nearest(2)],
        )
    }

    /// Judges a message by its embedding, its words and `rule`, the kind
    /// of the rule that fires on it (if any).
    pub fn judge(&self, said: &Utterance, query: &[f32], rule: Option<Kind>) -> Option<Judgement> {
        let classifier = self.classifier.as_ref()?;
        let (leads, nearest) = self.leads(query);
        let features = Features::new(said, query, leads, rule);
        let probabilities = classifier.probabilities(&features)?;
        let category =
            |k: usize| nearest[k].map_or_else(String::new, |i| self.items[i].category.clone());
        Some(Judgement {
            probabilities,
            emergency: category(0),
            crisis: category(1),
            urgent: category(2),
        })
    }
}

/// The embeddings of `examples`, in order: from `cache` where it has them,
/// the rest from the model (and put in the cache, which the caller saves).
pub fn cached_vectors(
    examples: &[Labelled],
    model: &Model,
    cache: &mut VectorCache,
) -> anyhow::Result<Vec<Embedding>> {
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
    vectors
        .into_iter()
        .map(|v| v.ok_or_else(|| anyhow::anyhow!("the model gave fewer embeddings than asked")))
        .collect()
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

    fn labelled(tier: Tier, text: &str) -> Labelled {
        Labelled {
            tier,
            category: "c".into(),
            lang: crate::lang::Lang::En,
            tune: true,
            text: text.into(),
        }
    }

    fn axis(k: usize, i: usize) -> Embedding {
        let mut v = vec![0.05f32; 8];
        v[k] = 1.0;
        v[4 + i % 4] += 0.2;
        v.into()
    }

    #[test]
    fn without_enough_of_every_tier_the_rules_serve_alone() {
        let rules = Rules::built_in();
        let ordinary: Vec<Labelled> = (0..50)
            .map(|i| labelled(Tier::None, &format!("question {i}")))
            .collect();
        let embedded: Vec<(&Labelled, Embedding)> = ordinary
            .iter()
            .enumerate()
            .map(|(i, l)| (l, axis(3, i)))
            .collect();
        let examples = Examples::train(&embedded, &rules, &Training::FITTED);
        assert!(examples.is_empty());
        let said = Utterance::analyse("I took too many pills");
        assert_eq!(examples.judge(&said, &axis(3, 0), None), None);
    }

    #[test]
    fn a_trained_signal_tells_the_tiers_apart_and_names_the_nearest_category() {
        let rules = Rules::built_in();
        let lines: Vec<Labelled> = (0..120)
            .map(|i| {
                let tier = [Tier::Emergency, Tier::Crisis, Tier::Urgent, Tier::None][i % 4];
                let mut l = labelled(tier, &format!("message {i}"));
                l.category = format!("{}_{}", tier.as_str(), i % 4);
                l
            })
            .collect();
        let embedded: Vec<(&Labelled, Embedding)> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| (l, axis(i % 4, i)))
            .collect();
        let examples = Examples::train(&embedded, &rules, &Training::FITTED);
        assert_eq!(examples.len(), 120);
        let said = Utterance::analyse("something new");
        let j = examples.judge(&said, &axis(1, 7), None).unwrap();
        assert_eq!(j.probabilities.danger_tier(), Tier::Crisis);
        assert_eq!(j.fires(&Thresholds::FITTED), Some((Tier::Crisis, "988_1")));
        let j = examples.judge(&said, &axis(3, 2), None).unwrap();
        assert_eq!(j.fires(&Thresholds::FITTED), None);
        assert!(j.vetoes(&Thresholds::FITTED));
    }
}
