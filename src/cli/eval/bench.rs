//! `frontdesk eval --bench`: index build time, query latency and memory on
//! a large knowledge base (its titles, reworded, as questions), with the
//! model's cost when it is used: embedding the articles (cold, then warm
//! from the cache) and each question.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Built, EvalArgs, print_table};
use crate::knowledge::Decision;

/// A title reworded the way a patient might type it: lowercase, no punctuation,
/// first word moved to the end, and every third one with a typo.
fn reword(title: &str, i: usize) -> String {
    let mut words: Vec<String> = crate::normalize::words(title).collect();
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

pub(super) fn bench(args: &EvalArgs, built: &Built) -> anyhow::Result<ExitCode> {
    let n = args.bench_queries.max(1);
    let step = (built.titles.len() / n).max(1);
    let mut latencies = Vec::with_capacity(n);
    let mut embed_latencies = Vec::with_capacity(n);
    let (mut found, mut asked) = (0usize, 0usize);
    for (i, (id, title)) in built.titles.iter().step_by(step).take(n).enumerate() {
        let q = reword(title, i);
        let started = Instant::now();
        let meaning = built.embedder.as_ref().and_then(|e| e.query_blocking(&q));
        let embedded = started.elapsed();
        let said = crate::utterance::Utterance::analyse(&q).with_meaning(meaning);
        let d = built
            .knowledge
            .decide_blocking(&said, args.lang.unwrap_or_default());
        embed_latencies.push(embedded);
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
    embed_latencies.sort();
    let pct_of = |l: &[Duration], p: f64| {
        l.get(((l.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    let pct = |p: f64| pct_of(&latencies, p);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let report = json!({
        "articles": built.titles.len(),
        "read_and_parse_s": built.read_time.as_secs_f64(),
        "index_build_s": built.build_time.as_secs_f64(),
        "queries": asked,
        "latency_p50_ms": ms(pct(0.5)),
        "latency_p99_ms": ms(pct(0.99)),
        "latency_max_ms": ms(pct(1.0)),
        "semantic": built.embedder.is_some(),
        "article_embedding_s": built.meaning_time.as_secs_f64(),
        "question_embedding_p50_ms": ms(pct_of(&embed_latencies, 0.5)),
        "question_embedding_p99_ms": ms(pct_of(&embed_latencies, 0.99)),
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
