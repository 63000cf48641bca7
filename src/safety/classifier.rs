//! The trained part of the learned safety signal: multinomial logistic
//! regression over the four tiers, on a message's embedding, how close it
//! is to each tier's nearest examples, whether a rule fires, and the words
//! it uses (hashed words, word beginnings and word pairs, and whether it
//! asks a question).
//!
//! Why all three: the embedding places "is chest pain after exercise
//! normal?" right beside a chest-pain emergency, because they share a
//! topic. The words that tell them apart ("is … normal", "last year",
//! "lol", "right now", "no puede respirar") are exactly what a bag of
//! words learns from the labelled examples, and the nearest examples add
//! what a single linear boundary misses. Trained from the examples each
//! time they are (re)loaded, in well under a second for a few thousand
//! examples (release build); deciding is four dot products of 387 numbers
//! and a few dozen table look-ups.

use candle_core::{Device, Tensor};

use super::Kind;
use super::set::Tier;
use crate::utterance::Utterance;

/// The tiers in the order of the classifier's outputs.
pub const TIERS: [Tier; 4] = [Tier::Emergency, Tier::Crisis, Tier::Urgent, Tier::None];

/// Hashed word features per tier.
const BUCKETS: usize = 1 << 15;

/// The slot of `tier` in [`TIERS`].
pub fn slot(tier: Tier) -> usize {
    match tier {
        Tier::Emergency => 0,
        Tier::Crisis => 1,
        Tier::Urgent => 2,
        Tier::None => 3,
    }
}

/// How to train.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Training {
    /// L2 penalty on the dense weights (standardised features).
    pub lambda: f32,
    /// L2 penalty on the word weights.
    pub lambda_words: f32,
    /// Full passes over the examples.
    pub epochs: usize,
}

impl Training {
    /// Chosen by 5-fold cross-validation inside the tuning half
    /// (`frontdesk safety eval --set … --fit`); README, "Patient safety".
    pub const FITTED: Training = Training {
        lambda: 0.01,
        lambda_words: 0.0003,
        epochs: 300,
    };
}

/// One message as the classifier sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// The embedding, the nearest examples' leads, whether a medical or a
    /// crisis rule fires.
    pub dense: Vec<f32>,
    /// Hashed word features, sorted, without repeats.
    pub words: Vec<u32>,
}

impl Features {
    /// `rule`: the kind of the rule that fires on the message, if one does.
    pub fn new(
        said: &Utterance,
        embedding: &[f32],
        leads: [f32; 3],
        rule: Option<Kind>,
    ) -> Features {
        let mut dense = Vec::with_capacity(embedding.len() + 5);
        dense.extend_from_slice(embedding);
        dense.extend_from_slice(&leads);
        dense.push(f32::from(u8::from(rule == Some(Kind::Medical))));
        dense.push(f32::from(u8::from(rule == Some(Kind::Crisis))));
        Features {
            dense,
            words: word_features(said),
        }
    }
}

/// Words, their first five letters (Spanish endings and misspellings vary
/// after that), word pairs, and a question mark, hashed into [`BUCKETS`].
pub fn word_features(said: &Utterance) -> Vec<u32> {
    let words = said.words();
    let mut out = Vec::with_capacity(words.len() * 3 + 1);
    for w in words {
        out.push(bucket(&["w", w]));
        let stem_end = w.char_indices().nth(5).map_or(w.len(), |(i, _)| i);
        out.push(bucket(&["s", &w[..stem_end]]));
    }
    for pair in words.windows(2) {
        out.push(bucket(&["p", &pair[0], &pair[1]]));
    }
    if said.text().contains(['?', '¿']) {
        out.push(bucket(&["?"]));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// FNV-1a over the parts, separated; stable across builds and platforms.
fn bucket(parts: &[&str]) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    (h % BUCKETS as u64) as u32
}

/// The classifier's probabilities for one message, in [`TIERS`] order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probabilities(pub [f32; 4]);

impl Probabilities {
    /// How probable a 911 or 988 message is (an intentional overdose is
    /// both, so the two are taken together).
    pub fn danger(&self) -> f32 {
        self.0[0] + self.0[1]
    }

    /// The likelier of 911 and 988.
    pub fn danger_tier(&self) -> Tier {
        if self.0[0] >= self.0[1] {
            Tier::Emergency
        } else {
            Tier::Crisis
        }
    }

    pub fn urgent(&self) -> f32 {
        self.0[2]
    }

    pub fn ordinary(&self) -> f32 {
        self.0[3]
    }
}

/// Trained weights.
#[derive(Debug, Clone)]
pub struct Classifier {
    dim: usize,
    /// Per-dimension mean and 1 / standard deviation of the dense features.
    mean: Vec<f32>,
    scale: Vec<f32>,
    /// Row-major: `dense[k * dim + j]`.
    dense: Vec<f32>,
    /// Row-major: `words[k * BUCKETS + b]`.
    words: Vec<f32>,
    bias: [f32; 4],
}

impl Classifier {
    /// Trains on `examples` labelled with tiers. `None` without examples or
    /// with dense parts of differing lengths.
    pub fn train(examples: &[&Features], tiers: &[Tier], how: &Training) -> Option<Classifier> {
        let dim = examples.first()?.dense.len();
        if dim == 0
            || examples.len() != tiers.len()
            || examples.iter().any(|x| x.dense.len() != dim)
        {
            return None;
        }
        let n = examples.len();
        let (mean, scale) = standardisation(examples, dim);
        let zs: Vec<f32> = examples
            .iter()
            .flat_map(|x| standardise(&x.dense, &mean, &scale))
            .collect();
        let ys: Vec<usize> = tiers.iter().map(|t| slot(*t)).collect();
        // The dense products run as matrix products on candle's optimised
        // CPU kernels (fast in debug builds too); the word weights are a
        // table, read and written per word.
        let dense = Dense::new(zs, n, dim).ok()?;
        // Parameters: 4 rows of dense weights, 4 rows of word weights, 4 biases.
        let words_at = 4 * dim;
        let bias_at = words_at + 4 * BUCKETS;
        let size = bias_at + 4;
        let mut params = vec![0.0f32; size];
        let mut adam = Adam::new(size);
        let mut grad = vec![0.0f32; size];
        let mut err = vec![0.0f32; n * 4];
        for _ in 0..how.epochs {
            grad.iter_mut().for_each(|g| *g = 0.0);
            let logits = dense.times(&params[..words_at]).ok()?;
            for (i, (x, y)) in examples.iter().zip(&ys).enumerate() {
                let mut l = [0.0f32; 4];
                for (k, lk) in l.iter_mut().enumerate() {
                    *lk = logits[i * 4 + k]
                        + params[bias_at + k]
                        + x.words
                            .iter()
                            .map(|b| params[words_at + k * BUCKETS + *b as usize])
                            .sum::<f32>();
                }
                let p = softmax(l);
                for k in 0..4 {
                    let e = (p[k] - f32::from(u8::from(k == *y))) / n as f32;
                    err[i * 4 + k] = e;
                    for b in &x.words {
                        grad[words_at + k * BUCKETS + *b as usize] += e;
                    }
                    grad[bias_at + k] += e;
                }
            }
            let dense_grad = dense.back(&err).ok()?;
            for ((g, d), p) in grad[..words_at].iter_mut().zip(dense_grad).zip(&params) {
                *g = d + how.lambda * p;
            }
            for (g, p) in grad[words_at..bias_at]
                .iter_mut()
                .zip(&params[words_at..bias_at])
            {
                if *p != 0.0 {
                    *g += how.lambda_words * p;
                }
            }
            adam.step(&mut params, &grad);
        }
        Some(Classifier {
            dim,
            mean,
            scale,
            dense: params[..words_at].to_vec(),
            words: params[words_at..bias_at].to_vec(),
            bias: [
                params[bias_at],
                params[bias_at + 1],
                params[bias_at + 2],
                params[bias_at + 3],
            ],
        })
    }

    /// The tiers' probabilities (`None` for a dense part of another length).
    pub fn probabilities(&self, x: &Features) -> Option<Probabilities> {
        if x.dense.len() != self.dim {
            return None;
        }
        let z = standardise(&x.dense, &self.mean, &self.scale);
        let mut logits = self.bias;
        for (k, l) in logits.iter_mut().enumerate() {
            *l += dot(&self.dense[k * self.dim..(k + 1) * self.dim], &z)
                + x.words
                    .iter()
                    .map(|b| self.words[k * BUCKETS + *b as usize])
                    .sum::<f32>();
        }
        Some(Probabilities(softmax(logits)))
    }
}

/// The standardised dense features of all examples, as a matrix.
struct Dense {
    z: Tensor,
    dim: usize,
}

impl Dense {
    fn new(z: Vec<f32>, n: usize, dim: usize) -> candle_core::Result<Dense> {
        Ok(Dense {
            z: Tensor::from_vec(z, (n, dim), &Device::Cpu)?,
            dim,
        })
    }

    /// Each example's dense logits, `[i * 4 + k]`, for weights `[k * dim + j]`.
    fn times(&self, weights: &[f32]) -> candle_core::Result<Vec<f32>> {
        let w = Tensor::from_slice(weights, (4, self.dim), &Device::Cpu)?;
        self.z.matmul(&w.t()?)?.flatten_all()?.to_vec1()
    }

    /// The dense weights' gradient, `[k * dim + j]`, for errors `[i * 4 + k]`.
    fn back(&self, err: &[f32]) -> candle_core::Result<Vec<f32>> {
        let n = err.len() / 4;
        let e = Tensor::from_slice(err, (n, 4), &Device::Cpu)?;
        e.t()?.matmul(&self.z)?.flatten_all()?.to_vec1()
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn standardise(x: &[f32], mean: &[f32], scale: &[f32]) -> Vec<f32> {
    x.iter()
        .zip(mean)
        .zip(scale)
        .map(|((v, m), s)| (v - m) * s)
        .collect()
}

/// Per-dimension mean and 1 / standard deviation. The embedding's
/// dimensions and the leads vary over very different ranges;
/// standardised, one penalty suits all of them.
fn standardisation(xs: &[&Features], dim: usize) -> (Vec<f32>, Vec<f32>) {
    let n = xs.len() as f32;
    let mut mean = vec![0.0f32; dim];
    for x in xs {
        for (m, v) in mean.iter_mut().zip(&x.dense) {
            *m += v / n;
        }
    }
    let mut var = vec![0.0f32; dim];
    for x in xs {
        for ((s, v), m) in var.iter_mut().zip(&x.dense).zip(&mean) {
            *s += (v - m) * (v - m) / n;
        }
    }
    let scale = var
        .iter()
        .map(|v| if *v > 1e-12 { 1.0 / v.sqrt() } else { 0.0 })
        .collect();
    (mean, scale)
}

fn softmax(z: [f32; 4]) -> [f32; 4] {
    let top = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e = z.map(|v| (v - top).exp());
    let sum: f32 = e.iter().sum();
    e.map(|v| v / sum)
}

/// Adam (Kingma and Ba), full batch: robust to the scale of the problem
/// without a tuned learning rate. Parameters whose gradient has always
/// been zero (word buckets no example uses) are skipped.
struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
    t: i32,
}

impl Adam {
    const RATE: f32 = 0.05;
    const B1: f32 = 0.9;
    const B2: f32 = 0.999;

    fn new(size: usize) -> Adam {
        Adam {
            m: vec![0.0; size],
            v: vec![0.0; size],
            t: 0,
        }
    }

    fn step(&mut self, params: &mut [f32], grad: &[f32]) {
        self.t += 1;
        let c1 = 1.0 - Self::B1.powi(self.t);
        let c2 = 1.0 - Self::B2.powi(self.t);
        for (((p, g), m), v) in params
            .iter_mut()
            .zip(grad)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            if *g == 0.0 && *m == 0.0 {
                continue;
            }
            *m = Self::B1 * *m + (1.0 - Self::B1) * g;
            *v = Self::B2 * *v + (1.0 - Self::B2) * g * g;
            *p -= Self::RATE * (*m / c1) / ((*v / c2).sqrt() + 1e-8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four clusters along four axes, each with a word of its own.
    fn toy() -> (Vec<Features>, Vec<Tier>) {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for i in 0..80 {
            let k = i % 4;
            let mut dense = vec![0.1f32; 8];
            dense[k] = 1.0;
            dense[4 + (i / 4) % 4] += 0.3;
            let said = Utterance::analyse(&format!("word{k} filler{}", i % 7));
            xs.push(Features {
                dense,
                words: word_features(&said),
            });
            ys.push(TIERS[k]);
        }
        (xs, ys)
    }

    #[test]
    fn training_separates_a_separable_set() {
        let (xs, ys) = toy();
        let refs: Vec<&Features> = xs.iter().collect();
        let c = Classifier::train(&refs, &ys, &Training::FITTED).unwrap();
        for (x, y) in xs.iter().zip(&ys) {
            let p = c.probabilities(x).unwrap();
            assert!(p.0[slot(*y)] > 0.9, "{y:?}: {p:?}");
        }
        let wrong = Features {
            dense: vec![1.0],
            words: vec![],
        };
        assert_eq!(c.probabilities(&wrong), None);
    }

    #[test]
    fn words_alone_can_decide() {
        // The same dense part everywhere: only the words tell the tiers apart.
        let (mut xs, ys) = toy();
        for x in &mut xs {
            x.dense = vec![0.5; 8];
        }
        let refs: Vec<&Features> = xs.iter().collect();
        let c = Classifier::train(&refs, &ys, &Training::FITTED).unwrap();
        let crisis = Features {
            dense: vec![0.5; 8],
            words: word_features(&Utterance::analyse("word1")),
        };
        assert_eq!(
            c.probabilities(&crisis).unwrap().danger_tier(),
            Tier::Crisis
        );
    }

    #[test]
    fn nothing_to_train_on_gives_no_classifier() {
        assert!(Classifier::train(&[], &[], &Training::FITTED).is_none());
        let one = Features {
            dense: vec![1.0],
            words: vec![],
        };
        assert!(Classifier::train(&[&one], &[], &Training::FITTED).is_none());
    }

    #[test]
    fn word_features_see_questions_stems_and_pairs() {
        let asked = word_features(&Utterance::analyse("is chest pain normal?"));
        let told = word_features(&Utterance::analyse("is chest pain normal"));
        assert_eq!(asked.len(), told.len() + 1);
        // "respirar" and "respiro" share their first five letters.
        let a = word_features(&Utterance::analyse("respirar"));
        let b = word_features(&Utterance::analyse("respiro"));
        assert!(a.iter().any(|x| b.contains(x)));
        assert!(asked.windows(2).all(|w| w[0] < w[1]));
    }
}
