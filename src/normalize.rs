//! Patient text to comparable words: Unicode word segmentation, lowercase,
//! diacritics folded (é→e, ñ→n, the same on both sides), stop words dropped.
//! Total on every input: no panics, bounded work.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::UnicodeSegmentation;

use crate::lang::Lang;

/// Input beyond this many bytes is ignored (a question is a sentence, not a file).
pub const MAX_QUERY_BYTES: usize = 2_000;
/// Longest word kept; longer "words" are noise (hashes, base64, keyboard mashing).
pub const MAX_WORD_CHARS: usize = 40;

/// The longest prefix of `s` that is at most `max` bytes and ends on a char boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Lowercases and strips combining marks after canonical decomposition.
pub fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The folded words of `text`, in order, stop words included.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.unicode_words().map(fold).filter(|w| keeps(w))
}

/// Whether a folded word is kept: not empty, not longer than `MAX_WORD_CHARS`.
pub fn keeps(folded: &str) -> bool {
    !folded.is_empty() && folded.chars().count() <= MAX_WORD_CHARS
}

/// Levenshtein distance at most 1 between two words (as chars or bytes),
/// counting a swap of neighbouring letters as one edit. Equal words count.
pub fn within_one_edit<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
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

/// Whether a folded word carries no topic in `lang`.
pub fn is_stop_word(lang: Lang, word: &str) -> bool {
    let list: &[&str] = match lang {
        Lang::En => EN_STOP,
        Lang::Es => ES_STOP,
    };
    list.binary_search(&word).is_ok()
}

/// Generic words that are not stop words but say little about the topic, whatever
/// the knowledge base: their IDF is scaled down (in a small KB a common verb like
/// "come" is rare and would otherwise look like the key word of a question).
pub fn weak_words(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::En => EN_WEAK,
        Lang::Es => ES_WEAK,
    }
}

const EN_WEAK: &[&str] = &[
    "actually",
    "also",
    "always",
    "anyone",
    "anything",
    "back",
    "come",
    "day",
    "done",
    "even",
    "ever",
    "everyone",
    "going",
    "go",
    "good",
    "got",
    "happen",
    "help",
    "like",
    "long",
    "lot",
    "make",
    "many",
    "may",
    "mean",
    "might",
    "more",
    "most",
    "much",
    "need",
    "new",
    "now",
    "one",
    "people",
    "possible",
    "really",
    "right",
    "say",
    "see",
    "someone",
    "something",
    "still",
    "sure",
    "take",
    "thing",
    "think",
    "too",
    "true",
    "try",
    "use",
    "very",
    "want",
    "way",
    "well",
];

const ES_WEAK: &[&str] = &[
    "algun", "alguna", "alguien", "bien", "cosa", "dar", "decir", "hacer", "ir", "mas", "mucho",
    "necesito", "poder", "puede", "quiero", "saber", "ser", "siempre", "tambien", "tener", "todo",
    "ver", "muy",
];

// Sorted, folded. Question words are included: "how do i …" and "what is …"
// carry no topic, and every FAQ question has them.
const EN_STOP: &[&str] = &[
    "a", "about", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can",
    "could", "did", "do", "does", "doing", "for", "from", "get", "had", "has", "have", "he", "her",
    "here", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "know", "me",
    "my", "of", "on", "or", "our", "please", "s", "she", "should", "so", "some", "t", "tell",
    "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those",
    "to", "us", "was", "we", "were", "what", "when", "where", "which", "who", "whom", "why",
    "will", "with", "would", "you", "your",
];

const ES_STOP: &[&str] = &[
    "a", "al", "algo", "como", "con", "cual", "cuales", "cuando", "de", "del", "donde", "el",
    "ella", "ellos", "en", "es", "esta", "estan", "este", "esto", "hay", "la", "las", "le", "les",
    "lo", "los", "me", "mi", "mis", "para", "por", "puedo", "que", "quien", "se", "si", "sobre",
    "son", "su", "sus", "te", "tengo", "tu", "un", "una", "unas", "uno", "unos", "usted", "y",
    "yo",
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn stop_lists_are_sorted_for_binary_search() {
        assert!(EN_STOP.windows(2).all(|w| w[0] < w[1]));
        assert!(ES_STOP.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn words_are_lowercased_and_folded() {
        let w: Vec<String> = words("¿Dónde está la CLÍNICA? Niño, café!").collect();
        assert_eq!(w, ["donde", "esta", "la", "clinica", "nino", "cafe"]);
    }

    #[test]
    fn odd_input_gives_words_or_nothing() {
        assert_eq!(words("").count(), 0);
        assert_eq!(words("🙂🙂 !!! ").count(), 0);
        let rtl: Vec<String> = words("مرحبا بالعالم").collect();
        assert_eq!(rtl.len(), 2);
        assert_eq!(fold("e\u{301}\u{301}\u{301}"), "e");
        assert_eq!(words(&"x".repeat(500)).count(), 0, "one huge word is noise");
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("ñññ", 3), "ñ");
        assert_eq!(truncate("abc", 10), "abc");
    }

    proptest! {
        #[test]
        fn normalisation_never_panics(s in "\\PC{0,400}") {
            let _ = words(truncate(&s, MAX_QUERY_BYTES)).count();
        }
    }
}
