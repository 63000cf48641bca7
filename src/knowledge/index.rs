//! One language's searchable snapshot: a tantivy index in RAM for candidate
//! retrieval (field weights) plus interned term statistics that
//! the confidence model needs (IDF, each article's phrasings and term set).
//! Built whole, never mutated: a reload builds a new one and swaps it in.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{FAST, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{Index, IndexReader, Term, doc};

use super::analysis::Analyzer;
use super::article::Article;
use super::typos::Typos;

/// Candidates fetched from tantivy per query before re-scoring.
pub const CANDIDATES: usize = 30;
const PRE_ANALYZED: &str = "pre_analyzed";
/// A token no question can contain (the analyser keeps only letters and
/// digits), which stands in the `questions` field of an article that has
/// none; see `LangIndex::build`.
const BLANK: &str = "\u{2400}";
/// Field weights: how people ask (title, questions) beats what the answer says.
const W_TITLE: f32 = 3.0;
const W_QUESTIONS: f32 = 3.0;
const W_TAGS: f32 = 1.5;
const W_BODY: f32 = 1.0;

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
    typos: Typos,
    /// Number of articles containing each term anywhere.
    df: Vec<u32>,
    /// Whether each term is a generic word (its weight is scaled down).
    weak: Vec<bool>,
    reader: IndexReader,
    /// Article ordinal of each document, by segment then document id: the
    /// index never changes after it is built, so this is read once.
    ords: Vec<Vec<u32>>,
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

/// The `questions` field's text: the alternative questions' terms; for an
/// article without any, as many blanks as its title has terms. BM25 divides
/// a field's length by the average length over all articles: where few
/// articles have alternative questions (an FAQ import), that average would
/// be near zero and the one phrasing an editor adds would count for almost
/// nothing against answers that merely mention its words. The blanks keep
/// the average a phrasing's, and match no question.
fn questions_field(title: &[String], questions: &[Vec<String>]) -> String {
    if questions.is_empty() {
        return vec![BLANK; title.len().max(1)].join(" ");
    }
    questions
        .iter()
        .map(|q| q.join(" "))
        .collect::<Vec<_>>()
        .join(" ")
}

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
            ord: schema.add_u64_field("ord", FAST),
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
                fields.questions => questions_field(&title, &questions),
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
        let typos = Typos::build(words);
        writer.commit()?;
        let reader = index.reader()?;
        reader.reload()?;
        let ords = reader
            .searcher()
            .segment_readers()
            .iter()
            .map(|segment| {
                let column = segment.fast_fields().u64("ord")?;
                Ok((0..segment.max_doc())
                    .map(|doc| column.first(doc).unwrap_or(u64::MAX) as u32)
                    .collect())
            })
            .collect::<Result<_, tantivy::TantivyError>>()?;
        Ok(LangIndex {
            analyzer,
            articles,
            docs,
            vocab,
            terms,
            typos,
            df,
            weak,
            reader,
            ords,
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
        self.typos
            .correct(word, |t| self.df.get(t as usize).copied().unwrap_or(0))
    }

    pub fn term(&self, id: TermId) -> &str {
        self.terms.get(id as usize).map_or("", String::as_str)
    }

    /// BM25 candidates for the query terms, best first, as (article ordinal, score).
    pub fn candidates(&self, query: &[Resolved]) -> Result<Vec<(usize, f32)>, IndexError> {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for Resolved { term: exact, .. } in query {
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
        }
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let hits = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(CANDIDATES),
        )?;
        Ok(hits
            .into_iter()
            .filter_map(|(score, addr)| {
                let ord = *self
                    .ords
                    .get(addr.segment_ord as usize)?
                    .get(addr.doc_id as usize)?;
                ((ord as usize) < self.articles.len()).then_some((ord as usize, score))
            })
            .collect())
    }
}
