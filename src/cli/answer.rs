//! `frontdesk answer`: the decision engine on stdin/stdout, one JSON line per
//! question, for scripts, editors trying their articles, and tests.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;

use crate::knowledge::{Decision, DecisionSettings, Knowledge};
use crate::lang::Lang;

#[derive(clap::Args, Debug)]
pub struct AnswerArgs {
    /// The knowledge directory.
    #[arg(long, env = "FRONTDESK_KNOWLEDGE", default_value = "knowledge")]
    pub knowledge: PathBuf,
    /// Language the questions are in.
    #[arg(long, default_value = "en")]
    pub lang: Lang,
    #[command(flatten)]
    pub decision: DecisionSettings,
}

fn round(x: f32) -> f64 {
    (f64::from(x) * 10_000.0).round() / 10_000.0
}

/// The fixed JSON line for one decision.
pub fn decision_json(question: &str, d: &Decision) -> serde_json::Value {
    let candidates: Vec<_> = d
        .candidates()
        .iter()
        .map(|c| json!({"id": c.id, "score": round(c.score), "title": c.title}))
        .collect();
    json!({
        "question": question,
        "decision": d.kind(),
        "article": d.article().map(|a| a.id.clone()),
        "confidence": round(d.confidence()),
        "candidates": candidates,
    })
}

pub fn run(args: AnswerArgs) -> anyhow::Result<ExitCode> {
    // Safety first, as in the chat: a question that may mean danger is an
    // emergency, whatever the articles say.
    let safety = crate::safety::Rules::load(&args.knowledge).map_err(anyhow::Error::msg)?;
    let kb = Knowledge::open_blocking(args.knowledge, args.decision)?;
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let question = line?;
        let verdict = match safety.check(&question) {
            Some(hit) => json!({
                "question": question,
                "decision": "emergency",
                "category": hit.category,
                "kind": hit.kind,
                "article": null,
                "confidence": 1.0,
                "candidates": [],
            }),
            None => decision_json(&question, &kb.decide_blocking(&question, args.lang)),
        };
        serde_json::to_writer(&mut out, &verdict)?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}
