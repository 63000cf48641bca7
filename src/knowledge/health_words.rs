//! `health-words.txt`: words that say something private about a patient's
//! health (a condition, a medicine), in the knowledge base's own
//! vocabulary. They are replaced, on top of a built-in list, wherever staff
//! who are not clinicians read patients' words in bulk (the unanswered
//! questions in insights). Editors add the conditions and medicines their
//! articles and patients use, and the change applies at once.

use std::collections::HashSet;

use crate::normalize::fold;

/// Most words the file may list; the rest are ignored (and reported).
const MAX_WORDS: usize = 5_000;
/// Longest word accepted.
const MAX_WORD_CHARS: usize = 40;

/// One problem in the file, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthWordsProblem {
    pub line: usize,
    pub message: String,
}

/// Folded (lowercase, unaccented) single words.
#[derive(Debug, Clone, Default)]
pub struct HealthWords {
    words: HashSet<String>,
}

impl HealthWords {
    /// Parses the file: words separated by commas or lines; `#` starts a
    /// comment line. Bad entries are reported and skipped.
    pub fn parse(text: &str) -> (HealthWords, Vec<HealthWordsProblem>) {
        let mut words = HashSet::new();
        let mut problems = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            for item in trimmed.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let word = fold(item);
                let single = word.chars().all(|c| c.is_alphanumeric() || c == '-');
                let message = if !single {
                    Some(format!("{item:?} is not a single word"))
                } else if word.chars().count() > MAX_WORD_CHARS {
                    Some(format!(
                        "{item:?} is longer than {MAX_WORD_CHARS} characters"
                    ))
                } else if words.len() >= MAX_WORDS {
                    Some(format!("more than {MAX_WORDS} words; the rest are ignored"))
                } else {
                    None
                };
                match message {
                    Some(message) => problems.push(HealthWordsProblem { line, message }),
                    None => {
                        words.insert(word);
                    }
                }
            }
        }
        (HealthWords { words }, problems)
    }

    /// Whether `word` (already folded) is listed.
    pub fn contains(&self, word: &str) -> bool {
        self.words.contains(word)
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_and_bad_entries_reported_by_line() {
        let text = "# conditions\nEczema, psoriasis\n\nacné\nhigh blood pressure\n";
        let (words, problems) = HealthWords::parse(text);
        assert!(words.contains("eczema") && words.contains("psoriasis") && words.contains("acne"));
        assert_eq!(words.len(), 3);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 5);
        assert!(problems[0].message.contains("not a single word"));
    }
}
