//! The one text pipeline shared by indexing, searching and confidence:
//! normalised words → stop words dropped → tantivy's Snowball stemmer for the
//! language → synonyms mapped to their group's canonical stem. Because the
//! index is fed these terms pre-analysed, query and index can never disagree.

use std::collections::HashMap;

use tantivy::tokenizer::{Language, Stemmer, TextAnalyzer, TokenStream, WhitespaceTokenizer};

use super::synonyms::Synonyms;
use crate::lang::Lang;
use crate::normalize;

/// Most terms taken from one query; the rest of a long message is ignored.
pub const MAX_QUERY_TERMS: usize = 48;

/// Analyses text for one language. Cheap to clone.
#[derive(Clone)]
pub struct Analyzer {
    lang: Lang,
    stemmer: TextAnalyzer,
    synonyms: HashMap<String, String>,
    /// Stems of generic words (see [`normalize::is_weak_word`]).
    weak: std::collections::HashSet<String>,
}

impl Analyzer {
    pub fn new(lang: Lang, synonyms: &Synonyms) -> Analyzer {
        let language = match lang {
            Lang::En => Language::English,
            Lang::Es => Language::Spanish,
        };
        let mut stemmer = TextAnalyzer::builder(WhitespaceTokenizer::default())
            .filter(Stemmer::new(language))
            .build();
        let mut map = HashMap::new();
        for group in synonyms.groups() {
            let stems: Vec<String> = group.iter().map(|w| stem_one(&mut stemmer, w)).collect();
            if let Some(canonical) = stems.first() {
                for s in &stems {
                    map.entry(s.clone()).or_insert_with(|| canonical.clone());
                }
            }
        }
        let weak = normalize::weak_words(lang)
            .iter()
            .map(|w| stem_one(&mut stemmer, w))
            .collect();
        Analyzer {
            lang,
            stemmer,
            synonyms: map,
            weak,
        }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Whether a term is a generic word that says little about the topic.
    pub fn is_weak(&self, term: &str) -> bool {
        self.weak.contains(term)
    }

    /// Content terms of `text` in order (duplicates kept).
    pub fn terms(&self, text: &str) -> Vec<String> {
        self.terms_with_words(text)
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    }

    /// Content terms of `text`, each with the folded word it came from.
    pub fn terms_with_words(&self, text: &str) -> Vec<(String, String)> {
        self.terms_of(normalize::words(text))
    }

    /// Content terms of folded words, each with the word it came from.
    fn terms_of(&self, folded: impl Iterator<Item = String>) -> Vec<(String, String)> {
        let kept: Vec<String> = folded
            .filter(|w| !normalize::is_stop_word(self.lang, w))
            .collect();
        if kept.is_empty() {
            return Vec::new();
        }
        let joined = kept.join(" ");
        let mut stemmer = self.stemmer.clone();
        let mut stream = stemmer.token_stream(&joined);
        let mut out = Vec::with_capacity(kept.len());
        let mut words = kept.into_iter();
        while let Some(token) = stream.next() {
            let t = &token.text;
            let term = self.synonyms.get(t).cloned().unwrap_or_else(|| t.clone());
            out.push((words.next().unwrap_or_default(), term));
        }
        out
    }

    /// Terms of a patient's query (with their words), from the words a
    /// search reads (`Utterance::search_words`): deduplicated and bounded.
    pub fn query_terms(&self, words: &[String]) -> Vec<(String, String)> {
        let mut terms = self.terms_of(words.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        terms.retain(|(_, t)| seen.insert(t.clone()));
        terms.truncate(MAX_QUERY_TERMS);
        terms
    }
}

fn stem_one(stemmer: &mut TextAnalyzer, word: &str) -> String {
    let mut stream = stemmer.token_stream(word);
    stream
        .next()
        .map(|t| t.text.clone())
        .unwrap_or_else(|| word.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syn() -> Synonyms {
        Synonyms::parse("vaccine, shot, immunization\nrefill, renew\n").0
    }

    #[test]
    fn english_terms_are_stemmed_without_stop_words() {
        let a = Analyzer::new(Lang::En, &Synonyms::default());
        assert_eq!(
            a.terms("How do I pay my bills in installments?"),
            ["pay", "bill", "instal"]
        );
    }

    #[test]
    fn synonyms_meet_at_one_stem_in_any_inflection() {
        let a = Analyzer::new(Lang::En, &syn());
        assert_eq!(a.terms("shots"), a.terms("vaccines"));
        assert_eq!(a.terms("immunizations"), a.terms("vaccine"));
        assert_eq!(a.terms("renewing"), a.terms("refill"));
    }

    #[test]
    fn spanish_is_folded_and_stemmed() {
        let a = Analyzer::new(Lang::Es, &Synonyms::default());
        assert_eq!(a.terms("¿Dónde estaciono?"), a.terms("donde estaciono"));
        assert_eq!(a.terms("vacunas"), a.terms("vacuna"));
    }

    #[test]
    fn query_terms_are_unique_and_bounded() {
        let a = Analyzer::new(Lang::En, &Synonyms::default());
        let words = |t: &str| {
            crate::utterance::Utterance::analyse(t)
                .search_words()
                .to_vec()
        };
        assert_eq!(
            a.query_terms(&words("flu flu FLU")),
            [("flu".to_owned(), "flu".to_owned())]
        );
        let long: String = (0..500).map(|i| format!("w{i} ")).collect();
        assert_eq!(a.query_terms(&words(&long)).len(), MAX_QUERY_TERMS);
    }
}
