//! Tolerant word matching for safety rules: casual spelling, missing
//! apostrophes, one typo, word endings ("bleed" finds "bleeding").

use crate::knowledge::normalize;

/// Most words of a message looked at (a message is at most 2,000 graphemes).
const MAX_WORDS: usize = 600;

/// A message's folded words, apostrophes and hyphens dropped.
pub fn words(text: &str) -> Vec<String> {
    normalize::words(text)
        .take(MAX_WORDS)
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// A rule's phrase: words that must appear in a row.
#[derive(Debug, Clone)]
pub struct Phrase(Vec<String>);

impl Phrase {
    pub fn new(text: &str) -> Phrase {
        // "x-ray" and "xray" both become ["x", "ray"] or ["xray"]; both forms
        // are tried by matching the joined words too.
        Phrase(words(text))
    }

    /// Tolerant: typos and longer forms count (for what must be caught).
    pub fn found_in(&self, message: &[String]) -> bool {
        self.search(message, word_matches)
    }

    /// Strict: exact words only (for what cancels a rule, so that a typo
    /// can never switch the safety net off).
    pub fn found_exactly_in(&self, message: &[String]) -> bool {
        self.search(message, |m, p| m == p)
    }

    fn search(&self, message: &[String], same: impl Fn(&str, &str) -> bool) -> bool {
        let n = self.0.len();
        if n == 0 || message.is_empty() {
            return false;
        }
        let in_a_row = message
            .windows(n)
            .any(|w| w.iter().zip(&self.0).all(|(m, p)| same(m, p)));
        // "x ray" written "xray": the phrase's words joined, as one word.
        in_a_row || (n > 1 && message.iter().any(|m| same(m, &self.0.concat())))
    }
}

/// Exact, a longer form of a word of four letters or more, or one typo in a
/// word of five letters or more.
fn word_matches(message_word: &str, rule_word: &str) -> bool {
    if message_word == rule_word {
        return true;
    }
    let len = rule_word.chars().count();
    (len >= 4 && message_word.starts_with(rule_word) && message_word.chars().count() <= len + 4)
        || (len >= 5 && within_one_edit(message_word, rule_word))
        || (len == 4 && swapped_neighbours(message_word, rule_word))
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

/// Levenshtein distance ≤ 1, counting a swap of neighbours as one edit.
fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    match (ra.len(), rb.len()) {
        (0, 0) => true,
        (x, y) if x == y => {
            ra[1..] == rb[1..] || (x >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
        (x, y) if x > y => ra[1..] == *rb,
        _ => *ra == rb[1..],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_swaps_and_endings_match() {
        assert!(word_matches("breathe", "breathe"));
        assert!(word_matches("breath", "breathe"));
        assert!(word_matches("bleeding", "bleed"));
        assert!(word_matches("myslef", "myself"));
        assert!(word_matches("suicidel", "suicidal"));
        assert!(!word_matches("die", "diet"));
        assert!(
            !word_matches("die", "died"),
            "three-letter words match exactly"
        );
        assert!(Phrase::new("can't breathe").found_in(&words("I cant breath!!")));
        assert!(Phrase::new("x-ray").found_in(&words("chest xray prep")));
    }
}
