//! Which language a patient wrote in: English, Spanish, or something else.
//!
//! Chat messages are short ("hours?", "cita mañana"), where letter-statistics
//! detectors guess. So the first evidence is the words themselves: common
//! function and clinic words that belong to one of the two languages only,
//! and marks only Spanish uses (¿ ¡ ñ, accented vowels). `whatlang` is asked
//! only when those say nothing, and to recognise a third language. Measured
//! on the labelled fixtures in `tests`; docs/answer-quality.md has figures.

use crate::lang::Lang;

/// What a message is written in, as far as it can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    Lang(Lang),
    /// Clearly another language (French, Vietnamese, Chinese, …).
    Other,
    /// Too short or too mixed to tell: keep the conversation's language.
    Unsure,
}

impl Detected {
    /// The language to serve: the detected one, else `current`.
    pub fn or(self, current: Lang) -> Lang {
        match self {
            Detected::Lang(l) => l,
            Detected::Other | Detected::Unsure => current,
        }
    }
}

/// Detects the language of `text`, whose folded words are `words`
/// ([`Utterance::analyse`](super::Utterance::analyse) calls this).
pub fn detect(text: &str, words: &[String]) -> Detected {
    let (mut en, mut es) = (0i32, 0i32);
    for w in words {
        en += i32::from(EN_ONLY.binary_search(&w.as_str()).is_ok());
        es += i32::from(ES_ONLY.binary_search(&w.as_str()).is_ok());
    }
    let guess = whatlang::detect(text);
    // Another language, by its letters, with no English or Spanish word in
    // it (Vietnamese and French share accented letters with Spanish).
    if let Some(info) = &guess
        && en == 0
        && es == 0
        && !matches!(info.lang(), whatlang::Lang::Eng | whatlang::Lang::Spa)
        && (info.is_reliable() || (words.len() >= 4 && info.confidence() >= 0.3))
    {
        return Detected::Other;
    }
    if text
        .chars()
        .any(|c| matches!(c, '¿' | '¡' | 'ñ' | 'Ñ' | 'á' | 'é' | 'í' | 'ó' | 'ú'))
    {
        es += 2;
    }
    if en != es {
        return Detected::Lang(if en > es { Lang::En } else { Lang::Es });
    }
    // No word evidence either way: a guess from letters, when it is sure.
    match guess {
        Some(info) if words.len() >= 3 && info.confidence() > 0.5 => match info.lang() {
            whatlang::Lang::Eng => Detected::Lang(Lang::En),
            whatlang::Lang::Spa => Detected::Lang(Lang::Es),
            _ => Detected::Unsure,
        },
        _ => Detected::Unsure,
    }
}

// Folded (lowercase, no accents) and sorted. Words of one language only:
// "no", "me", "a", "son", "solo", "sin", "pan" and the like are left out.
const EN_ONLY: &[&str] = &[
    "about",
    "after",
    "again",
    "am",
    "an",
    "and",
    "any",
    "appointment",
    "appointments",
    "are",
    "at",
    "be",
    "bill",
    "book",
    "but",
    "by",
    "can",
    "cancel",
    "cant",
    "could",
    "date",
    "did",
    "do",
    "doctor",
    "does",
    "dont",
    "for",
    "from",
    "get",
    "got",
    "had",
    "has",
    "have",
    "hello",
    "help",
    "hey",
    "hi",
    "how",
    "i",
    "if",
    "im",
    "in",
    "insurance",
    "is",
    "it",
    "its",
    "just",
    "kid",
    "know",
    "like",
    "my",
    "need",
    "next",
    "not",
    "of",
    "on",
    "open",
    "or",
    "our",
    "please",
    "pls",
    "refill",
    "results",
    "should",
    "so",
    "thank",
    "thanks",
    "that",
    "the",
    "their",
    "there",
    "this",
    "time",
    "to",
    "today",
    "tomorrow",
    "u",
    "want",
    "was",
    "we",
    "week",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
];

const ES_ONLY: &[&str] = &[
    "abren", "al", "algo", "aqui", "ayuda", "buenas", "buenos", "cierran", "cita", "citas", "como",
    "con", "cual", "cuando", "cuanto", "de", "del", "dias", "donde", "el", "ella", "en", "es",
    "esta", "estan", "este", "estoy", "gracias", "hay", "hija", "hijo", "hola", "hoy", "la", "las",
    "los", "manana", "mi", "mis", "necesito", "para", "pero", "por", "puedo", "que", "quiero",
    "receta", "seguro", "semana", "su", "sus", "tengo", "tiene", "una", "usted", "y", "yo",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_lists_are_sorted_and_disjoint() {
        assert!(EN_ONLY.windows(2).all(|w| w[0] < w[1]));
        assert!(ES_ONLY.windows(2).all(|w| w[0] < w[1]));
        assert!(EN_ONLY.iter().all(|w| ES_ONLY.binary_search(w).is_err()));
    }

    #[test]
    fn everyday_messages_are_told_apart() {
        for (text, want) in [
            ("what time do you open", Detected::Lang(Lang::En)),
            ("¿a qué hora abren?", Detected::Lang(Lang::Es)),
            ("necesito una receta nueva", Detected::Lang(Lang::Es)),
            ("quiero cancelar mi cita", Detected::Lang(Lang::Es)),
            ("do u take blue cross", Detected::Lang(Lang::En)),
            ("ok", Detected::Unsure),
            ("", Detected::Unsure),
            (
                "Bonjour, je voudrais prendre un rendez-vous pour mon fils",
                Detected::Other,
            ),
            ("Tôi muốn đặt lịch hẹn với bác sĩ", Detected::Other),
            ("我想预约看医生", Detected::Other),
        ] {
            assert_eq!(
                crate::utterance::Utterance::analyse(text).detected(),
                want,
                "{text}"
            );
        }
    }

    /// Every labelled line of the question and safety fixtures: a measured
    /// accuracy, not a handful of examples.
    #[test]
    fn the_labelled_fixtures_are_detected_correctly() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut lines: Vec<(Lang, String)> = Vec::new();
        let everyday = std::fs::read_to_string(root.join("questions/everyday.tsv")).unwrap();
        for line in everyday.lines().skip(1) {
            let mut cols = line.split('\t');
            let (Some(lang), Some(_), Some(text)) = (cols.next(), cols.next(), cols.next()) else {
                continue;
            };
            lines.push((lang.parse().unwrap(), text.to_owned()));
        }
        let safety = std::fs::read_to_string(root.join("safety/set/messages.tsv")).unwrap();
        for line in safety.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            if let [_, _, lang, _, text] = cols[..] {
                lines.push((lang.parse().unwrap(), text.to_owned()));
            }
        }
        let (mut right, mut wrong, mut unsure) = (0, 0, 0);
        let mut mistakes = Vec::new();
        for (lang, text) in &lines {
            match crate::utterance::Utterance::analyse(text).detected() {
                Detected::Lang(l) if l == *lang => right += 1,
                Detected::Unsure => unsure += 1,
                other => {
                    wrong += 1;
                    mistakes.push(format!("{lang}: {text} -> {other:?}"));
                }
            }
        }
        let n = lines.len() as f64;
        eprintln!(
            "language detection on {} labelled messages: {:.4} right, {:.4} unsure, {:.4} wrong",
            lines.len(),
            right as f64 / n,
            unsure as f64 / n,
            wrong as f64 / n
        );
        for m in &mistakes {
            eprintln!("  detected wrong: {m}");
        }
        assert!(wrong as f64 / n <= 0.01, "{mistakes:#?}");
        assert!(right as f64 / n >= 0.97, "{mistakes:#?}");
    }
}
