//! Typo correction against a knowledge base's own words, in time independent
//! of the vocabulary's size: every word is filed under itself and under each
//! of its one-letter deletions (the "symmetric delete" idea), so a typed word
//! finds every known word one edit away by looking up itself and its own
//! deletions. Keys are 64-bit hashes in one sorted vector (about 12 bytes per
//! entry) rather than strings, and every hit is verified, so a hash collision
//! can cost time but never a wrong correction.

use std::hash::{BuildHasher, Hasher};

use super::index::TermId;

/// Words shorter than this are never corrected ("flu" is not "flux").
pub const MIN_CHARS: usize = 5;

/// Known words one edit away from a typed word.
#[derive(Default)]
pub struct Typos {
    /// (hash of a word or of one of its deletions, index into `words`), sorted.
    keys: Vec<(u64, u32)>,
    /// Each word with the term it stands for and how many articles use that term.
    words: Vec<(Box<str>, TermId)>,
    hasher: std::hash::RandomState,
}

impl Typos {
    /// Files `words` (folded word, its term). Only words that a word of
    /// [`MIN_CHARS`] or more could be one edit away from are kept.
    pub fn build(words: impl IntoIterator<Item = (String, TermId)>) -> Typos {
        let mut t = Typos::default();
        let mut chars = Vec::new();
        for (word, term) in words {
            chars.clear();
            chars.extend(word.chars());
            if chars.len() + 1 < MIN_CHARS {
                continue;
            }
            let i = t.words.len() as u32;
            t.keys.push((t.hash(chars.iter().copied()), i));
            for skip in 0..chars.len() {
                t.keys.push((t.hash(without(&chars, skip)), i));
            }
            t.words.push((word.into_boxed_str(), term));
        }
        t.keys.sort_unstable();
        t.keys.dedup();
        t.keys.shrink_to_fit();
        t.words.shrink_to_fit();
        t
    }

    /// The best known word one edit (insert, delete, substitute, swap) away
    /// from `word`: the one whose term `rank` puts highest, ties to the
    /// alphabetically first word. `None` for short or unmatched words.
    pub fn correct(&self, word: &str, rank: impl Fn(TermId) -> u32) -> Option<TermId> {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() < MIN_CHARS {
            return None;
        }
        let mut best: Option<(u32, &str, TermId)> = None;
        let probes = std::iter::once(self.hash(chars.iter().copied()))
            .chain((0..chars.len()).map(|skip| self.hash(without(&chars, skip))));
        for key in probes {
            let start = self.keys.partition_point(|(k, _)| *k < key);
            for &(_, i) in self.keys[start..].iter().take_while(|(k, _)| *k == key) {
                let (known, term) = &self.words[i as usize];
                if !within_one_edit(&chars, known) {
                    continue;
                }
                let r = rank(*term);
                let better = match best {
                    None => true,
                    Some((br, bw, _)) => r > br || (r == br && &**known < bw),
                };
                if better {
                    best = Some((r, known, *term));
                }
            }
        }
        best.map(|(_, _, term)| term)
    }

    fn hash(&self, chars: impl Iterator<Item = char>) -> u64 {
        let mut h = self.hasher.build_hasher();
        for c in chars {
            h.write_u32(c as u32);
        }
        h.finish()
    }
}

fn without(chars: &[char], skip: usize) -> impl Iterator<Item = char> + '_ {
    chars
        .iter()
        .enumerate()
        .filter(move |(i, _)| *i != skip)
        .map(|(_, c)| *c)
}

/// Levenshtein distance exactly 1 (also counting one adjacent transposition
/// as one edit); equal words are not "one edit away".
fn within_one_edit(a: &[char], b: &str) -> bool {
    let b: Vec<char> = b.chars().collect();
    a != b.as_slice() && crate::normalize::within_one_edit(a, &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_edit(a: &str, b: &str) -> bool {
        within_one_edit(&a.chars().collect::<Vec<_>>(), b)
    }

    #[test]
    fn one_edit_covers_typos_and_nothing_more() {
        assert!(one_edit("vaccin", "vaccine"));
        assert!(one_edit("parkng", "parking"));
        assert!(one_edit("insurence", "insurance"));
        assert!(one_edit("refil", "refill"));
        assert!(one_edit("pakring", "parking"));
        assert!(!one_edit("parking", "parking"));
        assert!(!one_edit("billing", "bowling"));
        assert!(!one_edit("cat", "dog"));
    }

    #[test]
    fn corrects_every_kind_of_single_edit_to_the_most_used_word() {
        let words = [
            "parking",
            "parting",
            "vaccine",
            "insurance",
            "refill",
            "flu",
        ];
        let typos = Typos::build(
            words
                .iter()
                .enumerate()
                .map(|(i, w)| (w.to_string(), i as u32)),
        );
        let uses = [5, 1, 1, 1, 1, 1];
        let fix = |w: &str| {
            typos
                .correct(w, |t| uses[t as usize])
                .map(|t| words[t as usize])
        };
        assert_eq!(fix("parkng"), Some("parking")); // deletion
        assert_eq!(fix("parkiing"), Some("parking")); // insertion
        assert_eq!(fix("parling"), Some("parking")); // substitution; "parting" is used less
        assert_eq!(fix("pakring"), Some("parking")); // transposition
        assert_eq!(fix("vacine"), Some("vaccine"));
        assert_eq!(fix("insurence"), Some("insurance"));
        assert_eq!(fix("refil"), Some("refill")); // five letters, one short of a known word
        assert_eq!(fix("flux"), None); // too short to correct
        assert_eq!(fix("bowling"), None);
    }
}
