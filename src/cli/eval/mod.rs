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
    ArticleId, Decision, DecisionSettings, Kb, Knowledge, confidence, import, parse,
};
use crate::lang::Lang;

#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// FAQ export used as the knowledge base (.jsonl, .jsonl.gz or .csv).
    #[arg(long)]
    pub kb: PathBuf,
    /// Answerable queries: JSON Lines with `query` and `relevant` (article ids).
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
    #[arg(long, default_value = "en")]
    pub lang: Lang,
    /// Ignore the export's `topic`/`category` column (normally kept as a tag),
    /// to measure how much the knowledge base's own topics help.
    #[arg(long)]
    pub no_topics: bool,
    #[command(flatten)]
    pub decision: DecisionSettings,
}

/// The knowledge base built in memory from an export, and how its ids map.
struct Built {
    knowledge: Knowledge,
    ids: HashMap<String, ArticleId>,
    titles: Vec<(ArticleId, String)>,
    read_time: Duration,
    build_time: Duration,
}

fn build(path: &Path, settings: DecisionSettings, no_topics: bool) -> anyhow::Result<Built> {
    let started = Instant::now();
    let mut records = import::read_records(path)?;
    if no_topics {
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
    Ok(Built {
        knowledge: Knowledge::from_kb(kb, settings),
        ids,
        titles,
        read_time,
        build_time,
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

pub fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let built = build(&args.kb, args.decision.clone(), args.no_topics)?;
    if args.bench {
        return bench(&args, &built);
    }
    let mut dump = match &args.dump {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => None,
    };
    let mut m = Metrics::default();
    if let Some(q) = &args.queries {
        for ql in read_queries(q)? {
            let relevant: HashSet<ArticleId> = ql
                .relevant
                .iter()
                .filter_map(|r| built.ids.get(r).cloned())
                .collect();
            let (d, top_conf) = run_one(
                &built.knowledge,
                &ql.query,
                args.lang,
                &relevant,
                dump.as_mut(),
                "answerable",
            )?;
            m.answerable(
                &d,
                top_conf,
                &relevant,
                &built.knowledge.explain_blocking(&ql.query, args.lang),
            );
        }
    }
    if let Some(o) = &args.ood {
        for ql in read_queries(o)? {
            let (d, top_conf) = run_one(
                &built.knowledge,
                &ql.query,
                args.lang,
                &HashSet::new(),
                dump.as_mut(),
                "ood",
            )?;
            m.ood(&d, top_conf);
        }
    }
    let report = m.report(&args.decision);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(ExitCode::SUCCESS)
}

/// Decides one query; returns the decision and the top candidate's answer confidence.
fn run_one(
    k: &Knowledge,
    query: &str,
    lang: Lang,
    relevant: &HashSet<ArticleId>,
    dump: Option<&mut std::io::BufWriter<std::fs::File>>,
    kind: &str,
) -> anyhow::Result<(Decision, f32)> {
    let d = k.decide_blocking(query, lang);
    let ranked = k.explain_blocking(query, lang);
    let r2 = ranked.get(1).map_or(0.0, |s| s.relevance);
    let top_conf = ranked
        .first()
        .map_or(0.0, |s| confidence(&s.features, s.relevance - r2));
    if let Some(w) = dump {
        let cands: Vec<_> = ranked
            .iter()
            .map(|s| json!({"id": s.id, "relevant": relevant.contains(&s.id), "relevance": s.relevance, "features": s.features}))
            .collect();
        serde_json::to_writer(
            &mut *w,
            &json!({"kind": kind, "query": query, "decision": d.kind(), "candidates": cands}),
        )?;
        w.write_all(b"\n")?;
    }
    Ok((d, top_conf))
}

#[derive(Default)]
struct Metrics {
    n: usize,
    top1: usize,
    rr: f64,
    answered: usize,
    right: usize,
    wrong: usize,
    clarify_hit: usize,
    clarified: usize,
    n_ood: usize,
    ood_answered: usize,
    ood_escalated: usize,
    conf_in: Vec<f32>,
    conf_ood: Vec<f32>,
}

impl Metrics {
    fn answerable(
        &mut self,
        d: &Decision,
        conf: f32,
        relevant: &HashSet<ArticleId>,
        ranked: &[crate::knowledge::Scored],
    ) {
        self.n += 1;
        self.conf_in.push(conf);
        if let Some(pos) = ranked
            .iter()
            .take(10)
            .position(|s| relevant.contains(&s.id))
        {
            self.rr += 1.0 / (pos as f64 + 1.0);
            self.top1 += usize::from(pos == 0);
        }
        match d {
            Decision::Answer { article, .. } => {
                self.answered += 1;
                if relevant.contains(&article.id) {
                    self.right += 1
                } else {
                    self.wrong += 1
                }
            }
            Decision::Clarify { candidates, .. } => {
                self.clarified += 1;
                self.clarify_hit +=
                    usize::from(candidates.iter().any(|c| relevant.contains(&c.id)));
            }
            Decision::Escalate { .. } => {}
        }
    }

    fn ood(&mut self, d: &Decision, conf: f32) {
        self.n_ood += 1;
        self.conf_ood.push(conf);
        match d {
            Decision::Answer { .. } => self.ood_answered += 1,
            Decision::Escalate { .. } => self.ood_escalated += 1,
            Decision::Clarify { .. } => {}
        }
    }

    fn report(&self, s: &DecisionSettings) -> serde_json::Value {
        let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        json!({
            "answer_threshold": s.answer_threshold,
            "clarify_threshold": s.clarify_threshold,
            "answerable": self.n,
            "top1_accuracy": share(self.top1, self.n),
            "mrr_at_10": if self.n == 0 { 0.0 } else { self.rr / self.n as f64 },
            "answered_share": share(self.answered, self.n),
            "clarified_share": share(self.clarified, self.n),
            "wrong_among_answered": share(self.wrong, self.answered),
            "wrong_over_answerable": share(self.wrong, self.n),
            "success": share(self.right + self.clarify_hit, self.n),
            "ood": self.n_ood,
            "ood_not_answered": share(self.n_ood - self.ood_answered, self.n_ood),
            "ood_escalated": share(self.ood_escalated, self.n_ood),
            "auroc_confidence": auroc(&self.conf_in, &self.conf_ood),
        })
    }
}

/// Probability that a random answerable query gets a higher confidence than a
/// random out-of-domain one (ties count half).
fn auroc(pos: &[f32], neg: &[f32]) -> f64 {
    if pos.is_empty() || neg.is_empty() {
        return 0.0;
    }
    let mut wins = 0.0;
    for p in pos {
        for n in neg {
            wins += if p > n {
                1.0
            } else if p == n {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / (pos.len() * neg.len()) as f64
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

/// A title reworded the way a patient might type it: lowercase, no punctuation,
/// first word moved to the end, and every third one with a typo.
fn reword(title: &str, i: usize) -> String {
    let mut words: Vec<String> = crate::knowledge::normalize::words(title).collect();
    if words.len() > 1 {
        words.rotate_left(1);
    }
    if i.is_multiple_of(3)
        && let Some(w) = words
            .iter_mut()
            .filter(|w| w.chars().count() >= 6)
            .max_by_key(|w| w.len())
    {
        let mut c: Vec<char> = w.chars().collect();
        let mid = c.len() / 2;
        c.swap(mid - 1, mid);
        *w = c.into_iter().collect();
    }
    words.join(" ")
}

fn bench(args: &EvalArgs, built: &Built) -> anyhow::Result<ExitCode> {
    let n = args.bench_queries.max(1);
    let step = (built.titles.len() / n).max(1);
    let mut latencies = Vec::with_capacity(n);
    let (mut found, mut asked) = (0usize, 0usize);
    for (i, (id, title)) in built.titles.iter().step_by(step).take(n).enumerate() {
        let q = reword(title, i);
        let started = Instant::now();
        let d = built.knowledge.decide_blocking(&q, args.lang);
        latencies.push(started.elapsed());
        asked += 1;
        let hit = match &d {
            Decision::Answer { article, .. } => &article.id == id,
            Decision::Clarify { candidates, .. } => candidates.iter().any(|c| &c.id == id),
            Decision::Escalate { .. } => false,
        };
        found += usize::from(hit);
    }
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let report = json!({
        "articles": built.titles.len(),
        "read_and_parse_s": built.read_time.as_secs_f64(),
        "index_build_s": built.build_time.as_secs_f64(),
        "queries": asked,
        "latency_p50_ms": ms(pct(0.5)),
        "latency_p99_ms": ms(pct(0.99)),
        "latency_max_ms": ms(pct(1.0)),
        "source_answered_or_offered": if asked == 0 { 0.0 } else { found as f64 / asked as f64 },
        "peak_rss_mib": peak_rss_mib(),
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    Ok(ExitCode::SUCCESS)
}

/// Peak resident memory from /proc (Linux); 0 elsewhere.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
