//! Text → token ids for the model: SentencePiece's normalisation (the
//! model file's per-character table, then runs of spaces folded), its
//! "metaspace" word split (each word starts with `▁`), and unigram
//! segmentation: the split of each word into vocabulary pieces with the
//! highest total score (Viterbi), unknown characters fused into one `<unk>`.
//!
//! Written here rather than taken from the `tokenizers` crate: its unigram
//! model keeps the 250,002-piece vocabulary in a trie of hash maps that
//! cost about 200 MB of memory, more than the model's weights. A hash map of
//! the pieces costs about 15 MB and gives the same ids (checked against
//! Hugging Face's tokenizer in `semantic::tests`).

use std::collections::HashMap;

use super::file::Vocab;

/// SentencePiece's word-start mark.
const SPACE_MARK: char = '\u{2581}';

pub struct Tokenizer {
    pieces: HashMap<Box<str>, (u32, f32)>,
    /// Longest piece, in characters.
    longest: usize,
    /// What an unknown character scores (below every piece, as SentencePiece).
    unk_score: f32,
    normalise: HashMap<u32, Vec<u32>>,
    bos: u32,
    eos: u32,
    unk: u32,
}

impl Tokenizer {
    pub fn new(vocab: Vocab) -> anyhow::Result<Tokenizer> {
        let mut pieces = HashMap::with_capacity(vocab.pieces.len());
        let mut longest = 1;
        let mut lowest = f32::MAX;
        for (id, (piece, score)) in vocab.pieces.into_iter().enumerate() {
            let id = u32::try_from(id)?;
            if id == vocab.unk || piece.is_empty() {
                continue;
            }
            longest = longest.max(piece.chars().count());
            lowest = lowest.min(score as f32);
            pieces
                .entry(piece.into_boxed_str())
                .or_insert((id, score as f32));
        }
        Ok(Tokenizer {
            pieces,
            longest,
            unk_score: lowest - 10.0,
            normalise: vocab.normalise,
            bos: vocab.bos,
            eos: vocab.eos,
            unk: vocab.unk,
        })
    }

    /// `<s>`, the text's pieces, `</s>`: at most `max` ids in all.
    pub fn encode(&self, text: &str, max: usize) -> Vec<u32> {
        let mut ids = vec![self.bos];
        let budget = max.saturating_sub(2).max(1);
        for word in self.words(text) {
            for id in self.segment(&word) {
                if ids.len() > budget {
                    ids.push(self.eos);
                    return ids;
                }
                ids.push(id);
            }
        }
        ids.push(self.eos);
        ids
    }

    /// The best-scoring split of one word into pieces.
    fn segment(&self, word: &str) -> Vec<u32> {
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        let n = chars.len();
        let end_of = |i: usize| chars.get(i).map_or(word.len(), |(b, _)| *b);
        // best[i]: score of the best split of the first i characters, and
        // where its last piece starts (with that piece's id; None = unknown).
        let mut best: Vec<(f32, usize, Option<u32>)> = vec![(f32::NEG_INFINITY, 0, None); n + 1];
        best[0].0 = 0.0;
        for start in 0..n {
            let base = best[start].0;
            if base == f32::NEG_INFINITY {
                continue;
            }
            let from = chars[start].0;
            for len in 1..=self.longest.min(n - start) {
                let end = start + len;
                if let Some((id, score)) = self.pieces.get(&word[from..end_of(end)])
                    && base + score > best[end].0
                {
                    best[end] = (base + score, start, Some(*id));
                }
            }
            if base + self.unk_score > best[start + 1].0 {
                best[start + 1] = (base + self.unk_score, start, None);
            }
        }
        let mut out = Vec::new();
        let mut at = n;
        while at > 0 {
            let (_, start, id) = best[at];
            match id {
                Some(id) => out.push(id),
                // Runs of unknown characters become one `<unk>`.
                None if out.last() == Some(&self.unk) => {}
                None => out.push(self.unk),
            }
            at = start;
        }
        out.reverse();
        out
    }

    /// The normalised text cut into words, each starting with `▁`, as
    /// SentencePiece's "metaspace" step does (a trailing space is a word).
    fn words(&self, text: &str) -> Vec<String> {
        let mut marked = String::with_capacity(text.len() + 4);
        let mut last_space = false;
        for c in text.chars() {
            let mapped = self.normalise.get(&(c as u32));
            let chars = mapped.map_or_else(
                || vec![c],
                |to| to.iter().filter_map(|&u| char::from_u32(u)).collect(),
            );
            for c in chars {
                let space = c == ' ';
                if !(space && last_space) {
                    marked.push(if space { SPACE_MARK } else { c });
                }
                last_space = space;
            }
        }
        if !marked.starts_with(SPACE_MARK) {
            marked.insert(0, SPACE_MARK);
        }
        let mut words: Vec<String> = Vec::new();
        for c in marked.chars() {
            match words.last_mut() {
                Some(word) if c != SPACE_MARK => word.push(c),
                _ => words.push(c.to_string()),
            }
        }
        words
    }
}
