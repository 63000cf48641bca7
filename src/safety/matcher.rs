//! Tolerant word matching for safety rules: casual spelling, missing
//! apostrophes, one typo, word endings ("bleed" finds "bleeding").

use crate::normalize;

/// A folded word with its length in characters, counted once: a message's
/// words are compared with every rule word, and counting characters in each
/// comparison was most of the safety check's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    text: String,
    chars: usize,
}

impl Word {
    fn new(text: String) -> Word {
        let chars = text.chars().count();
        Word { text, chars }
    }
}

/// The folded words of a rule's phrase, apostrophes and hyphens dropped.
pub fn words(text: &str) -> Vec<Word> {
    let folded: Vec<String> = normalize::words(text)
        .take(crate::utterance::MAX_WORDS)
        .collect();
    matched_words(&folded)
}

/// The same, from a message's folded words (`Utterance::words`).
pub fn matched_words(folded: &[String]) -> Vec<Word> {
    folded
        .iter()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .map(Word::new)
        .collect()
}

/// A rule's phrase: words that must appear in a row.
#[derive(Debug, Clone)]
pub struct Phrase {
    words: Vec<Word>,
    /// The words run together ("x ray" written "xray"), for phrases of two
    /// or more words.
    joined: Option<Word>,
}

impl Phrase {
    pub fn new(text: &str) -> Phrase {
        // "x-ray" and "xray" both become ["x", "ray"] or ["xray"]; both forms
        // are tried by matching the joined words too.
        let words = words(text);
        let joined = (words.len() > 1)
            .then(|| Word::new(words.iter().map(|w| w.text.as_str()).collect::<String>()));
        Phrase { words, joined }
    }

    /// Tolerant: typos and longer forms count (for what must be caught).
    pub fn found_in(&self, message: &[Word]) -> bool {
        self.search(message, word_matches)
    }

    /// Strict: exact words only (for what cancels a rule, so that a typo
    /// can never switch the safety net off).
    pub fn found_exactly_in(&self, message: &[Word]) -> bool {
        self.search(message, |m, p| m.text == p.text)
    }

    fn search(&self, message: &[Word], same: impl Fn(&Word, &Word) -> bool) -> bool {
        let n = self.words.len();
        if n == 0 || message.is_empty() {
            return false;
        }
        let in_a_row = message
            .windows(n)
            .any(|w| w.iter().zip(&self.words).all(|(m, p)| same(m, p)));
        // "x ray" written "xray": the phrase's words joined, as one word.
        in_a_row
            || self
                .joined
                .as_ref()
                .is_some_and(|joined| message.iter().any(|m| same(m, joined)))
    }
}

/// Exact, a longer form of a word of four letters or more, or one typo in a
/// word of five letters or more. Lengths are compared first: this runs for
/// every word of every message against every rule word.
fn word_matches(message_word: &Word, rule_word: &Word) -> bool {
    let (m, r) = (message_word.chars, rule_word.chars);
    let (message_word, rule_word) = (message_word.text.as_str(), rule_word.text.as_str());
    if message_word == rule_word {
        return true;
    }
    (r >= 4 && m <= r + 4 && message_word.starts_with(rule_word))
        || (r >= 5 && m.abs_diff(r) <= 1 && one_edit(message_word, rule_word))
        || (r == 4 && m == 4 && swapped_neighbours(message_word, rule_word))
}

/// Distance at most one, on bytes when both words are ASCII (no allocation).
fn one_edit(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        normalize::within_one_edit(a.as_bytes(), b.as_bytes())
    } else {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        normalize::within_one_edit(&a, &b)
    }
}

/// "pian" for "pain": one swap of neighbouring letters, nothing else.
fn swapped_neighbours(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    a.len() == b.len() && {
        let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        diff.len() == 2
            && diff[1] == diff[0] + 1
            && a[diff[0]] == b[diff[1]]
            && a[diff[1]] == b[diff[0]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_swaps_and_endings_match() {
        let matches = |m: &str, r: &str| word_matches(&Word::new(m.into()), &Word::new(r.into()));
        assert!(matches("breathe", "breathe"));
        assert!(matches("breath", "breathe"));
        assert!(matches("bleeding", "bleed"));
        assert!(matches("myslef", "myself"));
        assert!(matches("suicidel", "suicidal"));
        assert!(matches("pian", "pain"));
        assert!(matches("sangrado", "sangrad"));
        assert!(matches("dolór", "dolor"), "one typo in a non-ASCII word");
        assert!(!matches("die", "diet"));
        assert!(!matches("die", "died"), "three-letter words match exactly");
        assert!(Phrase::new("can't breathe").found_in(&words("I cant breath!!")));
        assert!(Phrase::new("x-ray").found_in(&words("chest xray prep")));
    }
}
