//! One language's searchable snapshot: a tantivy index in RAM for candidate
//! retrieval (field weights, fuzzy terms) plus interned term statistics that
//! the confidence model needs (IDF, each article's phrasings and term set).
//! Built whole, never mutated: a reload builds a new one and swaps it in.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{Index, IndexReader, TantivyDocument, Term, doc};

use super::analysis::Analyzer;
use super::article::Article;

/// Candidates fetched from tantivy per query before re-scoring.
pub const CANDIDATES: usize = 30;
const PRE_ANALYZED: &str = "pre_analyzed";
/// Field weights: how people ask (title, questions) beats what the answer says.
const W_TITLE: f32 = 3.0;
const W_QUESTIONS: f32 = 3.0;
const W_TAGS: f32 = 1.5;
const W_BODY: f32 = 1.0;
/// A fuzzy (one edit) match is worth less than an exact one.
const W_FUZZY: f32 = 0.3;
/// Terms shorter than this are never matched fuzzily ("flu" is not "flux").
pub const FUZZY_MIN_CHARS: usize = 5;

/// Weight multiplier for generic words.
pub const WEAK_FACTOR: f32 = 0.3;

/// Interned term id.
pub type TermId = u32;

/// A query term after typo correction.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The term searched for (corrected when `id` came from a correction).
    pub term: String,
    /// The term as typed.
    pub typed: String,
    pub id: Option<TermId>,
}

/// What the confidence model knows about one article.
#[derive(Debug)]
pub struct DocTerms {
    /// Each phrasing (title first) as sorted, unique term ids.
    pub phrasings: Vec<Vec<TermId>>,
    /// Every term in title, questions, tags and body, sorted and unique.
    pub all: Vec<TermId>,
}

/// The searchable snapshot of one language's articles.
pub struct LangIndex {
    pub analyzer: Analyzer,
    pub articles: Vec<Arc<Article>>,
    pub docs: Vec<DocTerms>,
    vocab: HashMap<String, TermId>,
    terms: Vec<String>,
    /// Every folded word seen, with its term: typos are corrected against words
    /// ("parkng" → "parking"), not stems ("park"), which would be two edits away.
    words: HashMap<String, TermId>,
    /// Number of articles containing each term anywhere.
    df: Vec<u32>,
    /// Whether each term is a generic word (its weight is scaled down).
    weak: Vec<bool>,
    reader: IndexReader,
    fields: Fields,
}

#[derive(Clone, Copy)]
struct Fields {
    title: Field,
    questions: Field,
    tags: Field,
    body: Field,
    ord: Field,
}

/// Why an index could not be built (tantivy failures only; input cannot cause them).
#[derive(Debug, thiserror::Error)]
#[error("building the search index: {0}")]
pub struct IndexError(#[from] tantivy::TantivyError);

impl LangIndex {
    /// Builds the index for `articles`, all in the analyzer's language.
    pub fn build(analyzer: Analyzer, articles: Vec<Arc<Article>>) -> Result<LangIndex, IndexError> {
        let mut schema = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(PRE_ANALYZED)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let fields = Fields {
            title: schema.add_text_field("title", text.clone()),
            questions: schema.add_text_field("questions", text.clone()),
            tags: schema.add_text_field("tags", text.clone()),
            body: schema.add_text_field("body", text),
            ord: schema.add_u64_field("ord", INDEXED | STORED),
        };
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(
            PRE_ANALYZED,
            TextAnalyzer::from(WhitespaceTokenizer::default()),
        );
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4);
        let mut writer = index.writer_with_num_threads(threads, threads * 30_000_000)?;

        let mut vocab: HashMap<String, TermId> = HashMap::new();
        let mut terms: Vec<String> = Vec::new();
        let mut df: Vec<u32> = Vec::new();
        let mut docs = Vec::with_capacity(articles.len());
        let mut words: HashMap<String, TermId> = HashMap::new();
        let mut intern = |t: &str, vocab: &mut HashMap<String, TermId>| -> TermId {
            if let Some(id) = vocab.get(t) {
                return *id;
            }
            let id = terms.len() as TermId;
            terms.push(t.to_owned());
            df.push(0);
            vocab.insert(t.to_owned(), id);
            id
        };
        for (ord, article) in articles.iter().enumerate() {
            let mut analyze = |text: &str| -> Vec<String> {
                let pairs = analyzer.terms_with_words(text);
                let mut out = Vec::with_capacity(pairs.len());
                for (word, term) in pairs {
                    if let std::collections::hash_map::Entry::Vacant(e) = words.entry(word) {
                        e.insert(intern(&term, &mut vocab));
                    }
                    out.push(term);
                }
                out
            };
            let title = analyze(&article.title);
            let questions: Vec<Vec<String>> =
                article.questions.iter().map(|q| analyze(q)).collect();
            let tags = analyze(&article.tags.join(" "));
            let body = analyze(&article.text);
            writer.add_document(doc!(
                fields.title => title.join(" "),
                fields.questions => questions.iter().map(|q| q.join(" ")).collect::<Vec<_>>().join(" "),
                fields.tags => tags.join(" "),
                fields.body => body.join(" "),
                fields.ord => ord as u64,
            ))?;
            let mut phrasings = Vec::with_capacity(1 + questions.len());
            for p in std::iter::once(&title).chain(questions.iter()) {
                let mut ids: Vec<TermId> = p.iter().map(|t| intern(t, &mut vocab)).collect();
                ids.sort_unstable();
                ids.dedup();
                phrasings.push(ids);
            }
            let mut all: Vec<TermId> = phrasings.iter().flatten().copied().collect();
            all.extend(
                tags.iter()
                    .chain(body.iter())
                    .map(|t| intern(t, &mut vocab)),
            );
            all.sort_unstable();
            all.dedup();
            docs.push(DocTerms { phrasings, all });
        }
        for d in &docs {
            for &t in &d.all {
                df[t as usize] += 1;
            }
        }
        let weak = terms.iter().map(|t| analyzer.is_weak(t)).collect();
        writer.commit()?;
        let reader = index.reader()?;
        reader.reload()?;
        Ok(LangIndex {
            analyzer,
            articles,
            docs,
            vocab,
            terms,
            words,
            df,
            weak,
            reader,
            fields,
        })
    }

    pub fn len(&self) -> usize {
        self.articles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.articles.is_empty()
    }

    /// A term's weight for confidence: its IDF, scaled down for generic words.
    pub fn weight(&self, term: &Resolved) -> f32 {
        let weak = match term.id {
            Some(id) => self.weak.get(id as usize).copied().unwrap_or(false),
            None => self.analyzer.is_weak(&term.term),
        };
        self.idf(term.id) * if weak { WEAK_FACTOR } else { 1.0 }
    }

    /// [`LangIndex::weight`] for a known term.
    pub fn weight_of(&self, id: TermId) -> f32 {
        let weak = self.weak.get(id as usize).copied().unwrap_or(false);
        self.idf(Some(id)) * if weak { WEAK_FACTOR } else { 1.0 }
    }

    /// Inverse document frequency (BM25 form, always > 0); unknown terms get the maximum.
    pub fn idf(&self, term: Option<TermId>) -> f32 {
        let n = self.articles.len() as f32;
        let df = term.map_or(0.0, |t| {
            self.df.get(t as usize).copied().unwrap_or(0) as f32
        });
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// Resolves a query's (word, term) pairs to known terms: exact, or for longer
    /// unknown words the most common known word one edit away (typo tolerance).
    pub fn resolve(&self, query: &[(String, String)]) -> Vec<Resolved> {
        query
            .iter()
            .map(|(word, term)| {
                let id = self.vocab.get(term).copied().or_else(|| self.correct(word));
                Resolved {
                    term: id.map_or_else(|| term.clone(), |i| self.term(i).to_owned()),
                    typed: term.clone(),
                    id,
                }
            })
            .collect()
    }

    fn correct(&self, word: &str) -> Option<TermId> {
        if word.chars().count() < FUZZY_MIN_CHARS {
            return None;
        }
        self.words
            .iter()
            .filter(|(w, _)| within_one_edit(word, w))
            .map(|(w, id)| (*id, w))
            .max_by(|a, b| {
                self.df[a.0 as usize]
                    .cmp(&self.df[b.0 as usize])
                    .then(b.1.cmp(a.1))
            })
            .map(|(id, _)| id)
    }

    pub fn term(&self, id: TermId) -> &str {
        self.terms.get(id as usize).map_or("", String::as_str)
    }

    /// BM25 candidates for the query terms, best first, as (article ordinal, score).
    pub fn candidates(&self, query: &[Resolved]) -> Result<Vec<(usize, f32)>, IndexError> {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for Resolved {
            term: exact,
            typed: raw,
            ..
        } in query
        {
            for (field, weight) in [
                (f.title, W_TITLE),
                (f.questions, W_QUESTIONS),
                (f.tags, W_TAGS),
                (f.body, W_BODY),
            ] {
                let q = TermQuery::new(
                    Term::from_field_text(field, exact),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(q), weight)),
                ));
            }
            if raw.chars().count() >= FUZZY_MIN_CHARS {
                for field in [f.title, f.questions] {
                    let q = FuzzyTermQuery::new(Term::from_field_text(field, raw), 1, true);
                    clauses.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(q), W_FUZZY)),
                    ));
                }
            }
        }
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let hits = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(CANDIDATES),
        )?;
        let mut out = Vec::with_capacity(hits.len());
        for (score, addr) in hits {
            let doc: TantivyDocument = searcher.doc(addr)?;
            if let Some(ord) = doc.get_first(f.ord).and_then(|v| v.as_u64()) {
                out.push((ord as usize, score));
            }
        }
        Ok(out)
    }
}

/// Levenshtein distance ≤ 1 (also counting one adjacent transposition as one edit).
fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (la, lb) = (a.len(), b.len());
    if a == b || la.abs_diff(lb) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ra, rb) = (
        la - prefix - suffix.min(la - prefix),
        lb - prefix - suffix.min(lb - prefix),
    );
    if ra <= 1 && rb <= 1 {
        return true;
    }
    // Transposition: "ab" vs "ba" in the middle.
    la == lb && ra == 2 && rb == 2 && a[prefix] == b[prefix + 1] && a[prefix + 1] == b[prefix]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_covers_typos_and_nothing_more() {
        assert!(within_one_edit("vaccin", "vaccine"));
        assert!(within_one_edit("parkng", "parking"));
        assert!(within_one_edit("insurence", "insurance"));
        assert!(within_one_edit("refil", "refill"));
        assert!(within_one_edit("pakring", "parking"));
        assert!(!within_one_edit("parking", "parking"));
        assert!(!within_one_edit("billing", "bowling"));
        assert!(!within_one_edit("cat", "dog"));
    }
}
