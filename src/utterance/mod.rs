//! One patient message, analysed once where it arrives: its text, its folded
//! words, the language it is written in and, when the model gave it in time,
//! its meaning. The safety check, the dialog and the knowledge engine all
//! read this one value; none of them splits or folds the text again.

mod detect;

use unicode_segmentation::UnicodeSegmentation;

use crate::normalize;
use crate::semantic::Embedding;
pub use detect::{Detected, detect};

/// Most words of a message kept (a chat message is at most 2,000
/// graphemes; the command line reads one line).
pub const MAX_WORDS: usize = 600;

/// A patient's message and what is known of it.
#[derive(Debug, Clone)]
pub struct Utterance {
    text: String,
    words: Vec<String>,
    /// How many of `words` lie in the first `normalize::MAX_QUERY_BYTES`
    /// bytes: a knowledge search reads no further.
    searched: usize,
    detected: Detected,
    meaning: Option<Embedding>,
}

impl Utterance {
    /// A typed message: words and language from its text, no meaning yet.
    pub fn analyse(text: &str) -> Utterance {
        let mut said = Utterance::pressed(text);
        said.detected = detect(text, &said.words);
        said
    }

    /// The text of a pressed button: it has words, but no language of its
    /// own (the conversation keeps its language).
    pub fn pressed(text: &str) -> Utterance {
        let mut words = Vec::new();
        let mut searched = 0;
        for (at, word) in text.unicode_word_indices() {
            if words.len() == MAX_WORDS {
                break;
            }
            let folded = normalize::fold(word);
            if !normalize::keeps(&folded) {
                continue;
            }
            words.push(folded);
            if at + word.len() <= normalize::MAX_QUERY_BYTES {
                searched = words.len();
            }
        }
        Utterance {
            text: text.to_owned(),
            words,
            searched,
            detected: Detected::Unsure,
            meaning: None,
        }
    }

    /// The same message with the meaning the model gave it.
    pub fn with_meaning(mut self, meaning: Option<Embedding>) -> Utterance {
        self.meaning = meaning;
        self
    }

    /// Sets the meaning once the model gave it.
    pub fn set_meaning(&mut self, meaning: Option<Embedding>) {
        self.meaning = meaning;
    }

    /// The text as the patient wrote it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The folded words, in order, stop words included (`normalize::words`).
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The first `n` words (all, when there are fewer).
    pub fn first_words(&self, n: usize) -> &[String] {
        &self.words[..n.min(self.words.len())]
    }

    /// The words a knowledge search reads (those of the first
    /// `normalize::MAX_QUERY_BYTES` bytes).
    pub fn search_words(&self) -> &[String] {
        &self.words[..self.searched]
    }

    pub fn detected(&self) -> Detected {
        self.detected
    }

    /// The message's embedding, when the model gave one in time.
    pub fn meaning(&self) -> Option<&Embedding> {
        self.meaning.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Lang;

    #[test]
    fn a_message_is_analysed_into_the_words_every_part_reads() {
        let said = Utterance::analyse("¿A qué hora ABREN mañana?");
        assert_eq!(said.words(), ["a", "que", "hora", "abren", "manana"]);
        assert_eq!(said.detected(), Detected::Lang(Lang::Es));
        assert_eq!(said.first_words(2), ["a", "que"]);
        assert_eq!(said.first_words(99).len(), 5);
        assert!(said.meaning().is_none());
        // The same words `normalize::words` gives, for any text.
        let text = "Can I bring my kid's   inhaler?? x".repeat(3);
        let words: Vec<String> = normalize::words(&text).collect();
        assert_eq!(Utterance::analyse(&text).words(), words);
    }

    #[test]
    fn a_search_reads_only_the_first_two_thousand_bytes() {
        let text = "parking ".repeat(400);
        let said = Utterance::analyse(&text);
        assert_eq!(said.words().len(), 400);
        assert_eq!(said.search_words().len(), normalize::MAX_QUERY_BYTES / 8);
        // A long message keeps a bounded number of words.
        let flood = "a ".repeat(5_000);
        assert_eq!(Utterance::analyse(&flood).words().len(), MAX_WORDS);
    }

    #[test]
    fn a_pressed_button_keeps_the_conversation_language() {
        let said = Utterance::pressed("Sí, por favor");
        assert_eq!(said.detected(), Detected::Unsure);
        assert_eq!(said.words(), ["si", "por", "favor"]);
    }
}
