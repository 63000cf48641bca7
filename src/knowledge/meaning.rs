//! The meaning side of the index: every article as embeddings, beside the
//! words. An article is embedded as a passage (its title and the start of
//! its body) and each of its phrasings (title, alternative questions) as a
//! query, so a patient's question can be compared both with what the
//! article says and with how editors expect it to be asked.
//!
//! Built off the runtime from the model and a disk cache, and attached to a
//! knowledge snapshot once ready; until then the snapshot answers from words
//! alone.

use std::collections::HashMap;

use super::article::Article;
use super::index::LangIndex;
use crate::lang::Lang;
use crate::semantic::{Embedding, Model, Role, VectorCache, cosine};

/// Characters of an article's body embedded with its title (about 300
/// tokens: the model reads at most 512, and the start says what it is about).
const PASSAGE_CHARS: usize = 1200;
/// Texts handed to the model at a time while building (progress is
/// reported after each; the model groups them by length).
const BATCH: usize = 64;

/// One language's article embeddings, in index order.
pub struct LangMeaning {
    passages: Vec<Embedding>,
    /// Each article's phrasings, flattened, with the article each belongs to.
    phrasings: Vec<(usize, Embedding)>,
}

/// Every language's.
#[derive(Default)]
pub struct Meaning {
    by_lang: HashMap<Lang, LangMeaning>,
}

/// How close an article is to a question in meaning.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Closeness {
    /// Cosine with the article's passage.
    pub passage: f32,
    /// Best cosine with one of its phrasings.
    pub phrasing: f32,
}

impl LangMeaning {
    /// Every article's closeness to `query`, in index order.
    pub fn closeness(&self, query: &[f32]) -> Vec<Closeness> {
        let mut out: Vec<Closeness> = self
            .passages
            .iter()
            .map(|p| Closeness {
                passage: cosine(query, p),
                phrasing: 0.0,
            })
            .collect();
        for (ord, v) in &self.phrasings {
            if let Some(c) = out.get_mut(*ord) {
                c.phrasing = c.phrasing.max(cosine(query, v));
            }
        }
        out
    }
}

impl Meaning {
    pub fn get(&self, lang: Lang) -> Option<&LangMeaning> {
        self.by_lang.get(&lang)
    }

    /// Embeds every article of `indexes`, taking what it can from `cache`;
    /// `progress` hears (done, total) after each batch.
    pub fn build<'a>(
        indexes: impl Iterator<Item = (Lang, &'a LangIndex)>,
        model: &Model,
        cache: &mut VectorCache,
        progress: &mut dyn FnMut(usize, usize),
    ) -> anyhow::Result<Meaning> {
        // Everything to embed, as (language, article, role, text).
        let mut wanted: Vec<(Lang, usize, Role, String)> = Vec::new();
        let mut sizes = HashMap::new();
        for (lang, index) in indexes {
            sizes.insert(lang, index.articles.len());
            for (ord, a) in index.articles.iter().enumerate() {
                wanted.push((lang, ord, Role::Passage, passage(a)));
                for p in a.phrasings() {
                    wanted.push((lang, ord, Role::Query, p.to_owned()));
                }
            }
        }
        let keys: Vec<_> = wanted.iter().map(|(_, _, r, t)| cache.key(*r, t)).collect();
        let mut vectors: Vec<Option<Embedding>> = keys.iter().map(|k| cache.get(k)).collect();
        let mut missing: Vec<usize> = (0..wanted.len())
            .filter(|i| vectors[*i].is_none())
            .collect();
        // Like with like: a pass pads every text to its longest.
        missing.sort_by_key(|&i| (wanted[i].2 == Role::Query, wanted[i].3.len()));
        let total = missing.len();
        for (done, chunk) in missing.chunks(BATCH).enumerate() {
            for role in [Role::Passage, Role::Query] {
                let of_role: Vec<usize> = chunk
                    .iter()
                    .copied()
                    .filter(|i| wanted[*i].2 == role)
                    .collect();
                let texts: Vec<&str> = of_role.iter().map(|i| wanted[*i].3.as_str()).collect();
                if texts.is_empty() {
                    continue;
                }
                for (i, v) in of_role.iter().zip(model.embed(&texts, role)?) {
                    cache.put(keys[*i], v.clone());
                    vectors[*i] = Some(v);
                }
            }
            // On disk after every batch: a long first build cut short
            // starts again where it stopped.
            cache.append_new();
            progress(((done + 1) * BATCH).min(total), total);
        }
        cache.save();
        let mut by_lang: HashMap<Lang, LangMeaning> = sizes
            .iter()
            .map(|(lang, n)| {
                (
                    *lang,
                    LangMeaning {
                        passages: Vec::with_capacity(*n),
                        phrasings: Vec::new(),
                    },
                )
            })
            .collect();
        for ((lang, ord, role, _), v) in wanted.into_iter().zip(vectors) {
            let (Some(m), Some(v)) = (by_lang.get_mut(&lang), v) else {
                continue;
            };
            match role {
                Role::Passage => m.passages.push(v),
                Role::Query => m.phrasings.push((ord, v)),
            }
        }
        Ok(Meaning { by_lang })
    }
}

/// What an article is embedded as: its title, then the start of its body.
pub fn passage(article: &Article) -> String {
    let mut text = format!("{}. ", article.title.trim());
    let mut body = article.text.as_str();
    if body.len() > PASSAGE_CHARS {
        let mut cut = PASSAGE_CHARS;
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body = &body[..cut];
    }
    text.push_str(body.trim());
    text
}
