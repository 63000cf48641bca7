//! `frontdesk eval`: measures answer quality (accuracy, wrong answers, how
//! out-of-domain questions are declined) and speed at scale, so thresholds are
//! tuned on numbers rather than impressions. See docs/answer-quality.md.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use crate::knowledge::loader::{LoadResult, Loaded};
use crate::knowledge::{
    ArticleId, Calibration, DecisionSettings, Kb, Knowledge, Scored, import, parse,
};
use crate::lang::Lang;
use crate::semantic::{Embedder, Embedding, Role};
use crate::utterance::Utterance;

mod bench;
mod cv;
mod kinds;
mod metrics;

use metrics::ByLang;

#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// FAQ export used as the knowledge base (.jsonl, .jsonl.gz or .csv),
    /// or a knowledge directory.
    #[arg(long)]
    pub kb: PathBuf,
    /// Answerable queries: JSON Lines with `query` and `relevant` (article
    /// ids); or a `.tsv` of `lang`, `expected` (an article id, or `none`)
    /// and `question`, as tests/fixtures/questions/everyday.tsv. A
    /// translation of an expected article (`translation_of`) counts as it.
    #[arg(long)]
    pub queries: Option<PathBuf>,
    /// Out-of-domain queries: JSON Lines with `query`.
    #[arg(long)]
    pub ood: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Measure build time and query latency instead of quality.
    #[arg(long)]
    pub bench: bool,
    /// Number of benchmark queries.
    #[arg(long, default_value_t = 2_000)]
    pub bench_queries: usize,
    /// Write each query's ranked candidates and features here (JSON Lines), for tuning.
    #[arg(long)]
    pub dump: Option<PathBuf>,
    /// The queries' language; without it each query's is detected.
    #[arg(long)]
    pub lang: Option<Lang>,
    /// Ask each question of the articles in the other language only (a
    /// Spanish question of the English articles, and the other way round),
    /// to fit and measure `Calibration::CROSS`, the calibration for
    /// answering across languages.
    #[arg(long)]
    pub cross: bool,
    /// Ignore the export's `topic`/`category` column (normally kept as a tag),
    /// to measure how much the knowledge base's own topics help.
    #[arg(long)]
    pub no_topics: bool,
    /// Cross-validate: fit the calibration (relevance mix, confidence model,
    /// thresholds) on all folds but one, report on that one, for each of
    /// this many folds (grouped by article, so a question's paraphrases stay
    /// together). 0 reports the shipped calibration instead.
    #[arg(long, default_value_t = 5)]
    pub cv: usize,
    /// With --cv: print the calibration fitted on all the data, to ship.
    /// With --kinds: fit the meaning thresholds on the set's tuning half.
    #[arg(long)]
    pub fit: bool,
    /// Measure how the booking flow understands kinds of appointment on
    /// this labelled set (text, kind, lang, split), as
    /// tests/fixtures/booking/kinds.tsv; --kb is the knowledge directory
    /// whose clinic.toml lists the kinds.
    #[arg(long)]
    pub kinds: Option<PathBuf>,
    #[command(flatten)]
    pub decision: DecisionSettings,
    #[command(flatten)]
    pub meaning: super::answer::MeaningArgs,
}

/// The knowledge base built in memory from an export (or read from a
/// knowledge directory), and how its ids map.
struct Built {
    knowledge: Knowledge,
    ids: HashMap<String, ArticleId>,
    titles: Vec<(ArticleId, String)>,
    read_time: Duration,
    build_time: Duration,
    /// The model, when meaning is used.
    embedder: Option<Embedder>,
    /// Embedding the articles (from the cache where it could).
    meaning_time: Duration,
}

fn build(args: &EvalArgs) -> anyhow::Result<Built> {
    let started = Instant::now();
    let (knowledge, ids, titles, read_time, build_time) = if args.kb.is_dir() {
        let k = Knowledge::open_blocking(args.kb.clone(), args.decision.clone())?;
        let kb = k.snapshot();
        let titles = kb
            .indexes()
            .flat_map(|(_, i)| i.articles.iter().map(|a| (a.id.clone(), a.title.clone())))
            .collect();
        let ids = kb
            .indexes()
            .flat_map(|(_, i)| i.articles.iter().map(|a| (a.id.to_string(), a.id.clone())))
            .collect();
        (k, ids, titles, started.elapsed(), kb.build_time)
    } else {
        let mut records = import::read_records(&args.kb)?;
        if args.no_topics {
            records.iter_mut().for_each(|r| r.topic = None);
        }
        let (files, _skipped) = import::to_files(&records);
        let mut load = LoadResult::default();
        let mut ids = HashMap::new();
        let mut titles = Vec::new();
        for f in &files {
            let parsed = parse::parse_article(Path::new(&f.file_name), &f.contents)
                .map_err(|p| anyhow::anyhow!("{p}"))?;
            if let Some(orig) = records.get(f.source).and_then(|r| r.id.clone()) {
                ids.insert(orig, f.id.clone());
            }
            titles.push((f.id.clone(), parsed.article.title.clone()));
            load.articles.push(Loaded {
                article: std::sync::Arc::new(parsed.article),
                phrasing_lines: parsed.phrasing_lines,
                body_line: parsed.body_line,
                stale: false,
            });
        }
        let read_time = started.elapsed();
        let started = Instant::now();
        let kb = Kb::build(&load)?;
        let build_time = started.elapsed();
        let k = Knowledge::from_kb(kb, args.decision.clone());
        (k, ids, titles, read_time, build_time)
    };
    let embedder = args.meaning.embedder()?;
    let started = Instant::now();
    if let Some(e) = &embedder {
        knowledge.use_meaning_blocking(e.clone(), Some(args.meaning.vector_cache()));
    }
    Ok(Built {
        knowledge,
        ids,
        titles,
        read_time,
        build_time,
        embedder,
        meaning_time: started.elapsed(),
    })
}

#[derive(serde::Deserialize)]
struct QueryLine {
    query: String,
    #[serde(default)]
    relevant: Vec<String>,
}

fn read_queries(path: &Path) -> anyhow::Result<Vec<QueryLine>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line?;
        if !line.trim().is_empty() {
            out.push(
                serde_json::from_str(&line)
                    .with_context(|| format!("{}:{}", path.display(), i + 1))?,
            );
        }
    }
    Ok(out)
}

/// `lang<TAB>expected<TAB>question` lines after a header; `none` is out of domain.
fn read_tsv(path: &Path) -> anyhow::Result<Vec<(Option<Lang>, QueryLine)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [lang, expected, question] = cols[..] else {
            anyhow::bail!(
                "{}:{}: expected 3 tab-separated columns",
                path.display(),
                i + 1
            );
        };
        let relevant = match expected {
            "none" => Vec::new(),
            id => vec![id.to_owned()],
        };
        out.push((
            Some(lang.parse()?),
            QueryLine {
                query: question.to_owned(),
                relevant,
            },
        ));
    }
    Ok(out)
}

/// One labelled question, with its candidates and their features computed
/// once (re-ranked for each calibration tried).
pub(super) struct Case {
    pub lang: Lang,
    /// The question, analysed once, with its embedding when there is a model.
    pub said: Utterance,
    /// Empty for an out-of-domain question.
    pub relevant: HashSet<ArticleId>,
    pub candidates: Vec<Scored>,
    /// The same question asked of another language's articles, where the
    /// knowledge base has them and the question has a meaning (the fallback
    /// across languages).
    pub across: Option<Box<Case>>,
}

impl Case {
    pub fn answerable(&self) -> bool {
        !self.relevant.is_empty()
    }
}

pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    if let Some(set) = &args.kinds {
        return kinds::run(&args, set);
    }
    let built = build(&args)?;
    if args.bench {
        return bench::bench(&args, &built);
    }
    let mut lines: Vec<(Option<Lang>, QueryLine)> = Vec::new();
    if let Some(q) = &args.queries {
        if q.extension().is_some_and(|e| e == "tsv") {
            lines.extend(read_tsv(q)?);
        } else {
            lines.extend(read_queries(q)?.into_iter().map(|l| (None, l)));
        }
    }
    if let Some(o) = &args.ood {
        lines.extend(read_queries(o)?.into_iter().map(|mut l| {
            l.relevant.clear();
            (None, l)
        }));
    }
    let cases = cases(&args, &built, lines)?;
    let kb = built.knowledge.snapshot();
    let semantic = built.embedder.is_some() && kb.has_meaning();
    let mut report = if args.cv >= 2 {
        cv::cross_validate(&cases, &kb, &args.decision, semantic, args.cv, args.fit)
    } else {
        let cal = if semantic {
            Calibration::HYBRID
        } else {
            Calibration::LEXICAL
        };
        let mut m = ByLang::default();
        for case in &cases {
            let ranked = cv::rerank(case, &cal);
            let d = kb.decide(&case.said, case.lang, &args.decision);
            m.add(case, &d, &ranked);
        }
        m.report(&args.decision, &cal)
    };
    report["semantic"] = json!(semantic);
    report["article_embedding_s"] = json!(built.meaning_time.as_secs_f64());
    if let Some(path) = &args.dump {
        dump(path, &cases)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(ExitCode::SUCCESS)
}

/// Embeds every question (in batches) and ranks its candidates once.
fn cases(
    args: &EvalArgs,
    built: &Built,
    lines: Vec<(Option<Lang>, QueryLine)>,
) -> anyhow::Result<Vec<Case>> {
    let model = built.embedder.as_ref().and_then(Embedder::model);
    let mut vectors: Vec<Option<Embedding>> = vec![None; lines.len()];
    if let Some(model) = &model {
        let texts: Vec<&str> = lines.iter().map(|(_, l)| l.query.as_str()).collect();
        for (v, e) in vectors.iter_mut().zip(model.embed(&texts, Role::Query)?) {
            *v = Some(e);
        }
    }
    let kb = built.knowledge.snapshot();
    let cal = Calibration::HYBRID;
    // The language whose articles a question in `lang` falls back on.
    let other = |lang: Lang| {
        Lang::ALL
            .into_iter()
            .find(|l| *l != lang && kb.index(*l).is_some_and(|i| !i.is_empty()))
    };
    Ok(lines
        .into_iter()
        .zip(vectors)
        .map(|((lang, l), vector)| {
            let said = Utterance::analyse(&l.query).with_meaning(vector);
            let asked = args
                .lang
                .or(lang)
                .unwrap_or_else(|| said.detected().or(Lang::En));
            let lang = match args.cross {
                true => other(asked).unwrap_or(asked),
                false => asked,
            };
            let candidates = kb.explain(&said, lang, &cal);
            // The expected article in any of its languages: the patient
            // gets the same answer.
            let relevant: HashSet<ArticleId> = l
                .relevant
                .iter()
                .filter_map(|r| built.ids.get(r))
                .flat_map(|id| kb.versions_of(id).into_iter().chain([id.clone()]))
                .collect();
            let across = other(lang)
                .filter(|_| !args.cross && said.meaning().is_some())
                .map(|o| {
                    Box::new(Case {
                        lang: o,
                        candidates: kb
                            .only_untranslated(kb.explain(&said, o, &Calibration::CROSS), lang),
                        said: said.clone(),
                        relevant: relevant.clone(),
                        across: None,
                    })
                });
            Case {
                lang,
                relevant,
                said,
                candidates,
                across,
            }
        })
        .collect())
}

fn dump(path: &Path, cases: &[Case]) -> anyhow::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    for case in cases {
        let cands: Vec<_> = case
            .candidates
            .iter()
            .map(|s| json!({"id": s.id, "relevant": case.relevant.contains(&s.id), "features": s.features}))
            .collect();
        serde_json::to_writer(
            &mut w,
            &json!({"answerable": case.answerable(), "lang": case.lang, "query": case.said.text(), "candidates": cands}),
        )?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

fn print_table(r: &serde_json::Value) {
    let Some(obj) = r.as_object() else { return };
    for (k, v) in obj {
        match v.as_f64() {
            Some(x) if v.is_f64() => println!("{k:<24} {x:.3}"),
            _ => println!("{k:<24} {v}"),
        }
    }
}
