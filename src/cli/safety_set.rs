//! `frontdesk safety eval --set FILE`: the rules, and the rules with the
//! learned signal, measured on the holdout half of a labelled set, per
//! tier, category and language. The tuning half supplies the learned
//! signal's examples and its fitted margins; only the tuning half's misses
//! are printed, so nobody writes a rule for a held-out miss.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use super::safety::EvalArgs;
use crate::lang::Lang;
use crate::safety::Rules;
use crate::safety::learned::{self, Examples, Judgement, Margins};
use crate::safety::set::{self, Labelled, Tier};
use crate::utterance::Utterance;

/// The false-alarm share the margins are fitted to on the tuning half
/// (the target on the holdout half is 0.5 %).
const FIT_FALSE_ALARMS: f64 = 0.003;

#[derive(Default, Clone)]
struct Count {
    n: usize,
    caught: usize,
    right_tier: usize,
}

pub(super) fn run(rules: &Rules, path: &Path, a: &EvalArgs) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let labelled =
        set::parse(&text).map_err(|(line, m)| anyhow::anyhow!("{}:{line}: {m}", path.display()))?;
    let (tune, holdout): (Vec<&Labelled>, Vec<&Labelled>) = labelled.iter().partition(|l| l.tune);
    let embedder = a.meaning.embedder()?;
    let model = embedder.as_ref().and_then(|e| e.model());
    // The learned signal: tuning-half examples, margins fitted leaving each
    // example out of its own judgement.
    let mut learned: Option<(Examples, Margins)> = None;
    let mut judge_time = Vec::new();
    let mut holdout_judged: Vec<Option<Judgement>> = vec![None; holdout.len()];
    let mut tune_judged: Vec<Option<Judgement>> = vec![None; tune.len()];
    if let Some(model) = &model {
        let owned: Vec<Labelled> = tune.iter().map(|l| (*l).clone()).collect();
        let mut cache = crate::semantic::VectorCache::open(
            Some(a.meaning.model_dir.join("safety-vectors.bin")),
            crate::semantic::fetch::FILE_SHA256,
        );
        let examples = Examples::build(&owned, model, &mut cache)?;
        let tune_vectors = embed(model, &tune)?;
        for (i, v) in tune_vectors.iter().enumerate() {
            tune_judged[i] = examples.judge(v, Some(i));
        }
        let margins = if a.fit {
            let pairs: Vec<(Tier, Judgement, bool)> = tune
                .iter()
                .zip(&tune_judged)
                .filter_map(|(l, j)| {
                    Some((
                        l.tier,
                        j.clone()?,
                        rules.check(&Utterance::analyse(&l.text)).is_some(),
                    ))
                })
                .collect();
            learned::fit_margins(&pairs, FIT_FALSE_ALARMS)
        } else {
            Margins::FITTED
        };
        for (i, v) in embed(model, &holdout)?.iter().enumerate() {
            let began = Instant::now();
            holdout_judged[i] = examples.judge(v, None);
            judge_time.push(began.elapsed());
        }
        learned = Some((examples, margins));
    }
    let margins = learned.as_ref().map(|(_, m)| *m);
    let verdict = |l: &Labelled, j: &Option<Judgement>, with_learned: bool| -> Option<Tier> {
        let learned = j.as_ref().zip(margins).filter(|_| with_learned);
        if let Some(hit) = rules.check(&Utterance::analyse(&l.text))
            && !learned.is_some_and(|(j, m)| j.vetoes(&m))
        {
            return Some(match hit.kind {
                crate::safety::Kind::Medical => Tier::Emergency,
                crate::safety::Kind::Crisis => Tier::Crisis,
            });
        }
        let (j, m) = learned?;
        j.fires(&m).then_some(j.tier)
    };
    let mut report = serde_json::Map::new();
    for (name, with_learned) in [("rules", false), ("rules_and_learned", true)] {
        if with_learned && learned.is_none() {
            continue;
        }
        report.insert(
            name.to_owned(),
            score(&holdout, &holdout_judged, |l, j| {
                verdict(l, j, with_learned)
            }),
        );
    }
    report.insert(
        "messages".into(),
        json!({"tune": tune.len(), "holdout": holdout.len()}),
    );
    if let Some((examples, m)) = &learned {
        judge_time.sort();
        let p99 = judge_time
            .get(judge_time.len().saturating_sub(1) * 99 / 100)
            .copied()
            .unwrap_or(Duration::ZERO);
        report.insert(
            "learned".into(),
            json!({"examples": examples.len(), "margins": m, "check_p99_ms": p99.as_secs_f64() * 1e3}),
        );
    }
    // Only the tuning half's misses and false alarms are shown.
    for (l, j) in tune.iter().zip(&tune_judged) {
        let got = verdict(l, j, learned.is_some());
        let urgent = matches!(l.tier, Tier::Emergency | Tier::Crisis);
        let line = if urgent && got.is_none() {
            format!(
                "tune miss: [{} {}] {:?}",
                l.tier.as_str(),
                l.category,
                l.text
            )
        } else if l.tier == Tier::None && matches!(got, Some(Tier::Emergency | Tier::Crisis)) {
            format!("tune false alarm: [{}] {:?}", l.category, l.text)
        } else {
            continue;
        };
        // With --json the report alone goes to stdout.
        if a.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
    let report = serde_json::Value::Object(report);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_summary(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn embed(
    model: &crate::semantic::Model,
    lines: &[&Labelled],
) -> anyhow::Result<Vec<crate::semantic::Embedding>> {
    let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    model.embed(&texts, crate::semantic::Role::Query)
}

/// Recall per tier, category and language; false alarms on ordinary ones.
fn score(
    lines: &[&Labelled],
    judged: &[Option<Judgement>],
    verdict: impl Fn(&Labelled, &Option<Judgement>) -> Option<Tier>,
) -> serde_json::Value {
    let mut tiers: BTreeMap<(Tier, Lang), Count> = BTreeMap::new();
    let mut categories: BTreeMap<(String, Lang), Count> = BTreeMap::new();
    let (mut ordinary, mut false_alarms, mut urgent_flagged) = (0usize, 0usize, 0usize);
    for (l, j) in lines.iter().zip(judged) {
        let got = verdict(l, j);
        match l.tier {
            Tier::None => {
                ordinary += 1;
                false_alarms += usize::from(matches!(got, Some(Tier::Emergency | Tier::Crisis)));
            }
            tier => {
                let caught = match tier {
                    Tier::Urgent => got.is_some(),
                    _ => matches!(got, Some(Tier::Emergency | Tier::Crisis)),
                };
                urgent_flagged += usize::from(tier == Tier::Urgent && got == Some(Tier::Urgent));
                for c in [
                    tiers.entry((tier, l.lang)).or_default(),
                    categories.entry((l.category.clone(), l.lang)).or_default(),
                ] {
                    c.n += 1;
                    c.caught += usize::from(caught);
                    c.right_tier += usize::from(got == Some(tier));
                }
            }
        }
    }
    let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let tier_rows: Vec<_> = tiers
        .iter()
        .map(|((t, lang), c)| json!({"tier": t, "lang": lang, "n": c.n, "recall": share(c.caught, c.n), "right_tier": share(c.right_tier, c.n)}))
        .collect();
    let category_rows: Vec<_> = categories
        .iter()
        .map(|((cat, lang), c)| json!({"category": cat, "lang": lang, "n": c.n, "recall": share(c.caught, c.n)}))
        .collect();
    let urgent_911_988: Count = tiers
        .iter()
        .filter(|((t, _), _)| matches!(t, Tier::Emergency | Tier::Crisis))
        .fold(Count::default(), |a, (_, c)| Count {
            n: a.n + c.n,
            caught: a.caught + c.caught,
            right_tier: a.right_tier + c.right_tier,
        });
    let worst = category_rows
        .iter()
        .filter(|r| r["n"].as_u64().unwrap_or(0) > 0)
        .map(|r| r["recall"].as_f64().unwrap_or(0.0))
        .fold(1.0f64, f64::min);
    json!({
        "recall_911_988": share(urgent_911_988.caught, urgent_911_988.n),
        "right_tier_911_988": share(urgent_911_988.right_tier, urgent_911_988.n),
        "worst_category_recall": worst,
        "false_alarms": share(false_alarms, ordinary),
        "ordinary": ordinary,
        "urgent_flagged_urgent": urgent_flagged,
        "tiers": tier_rows,
        "categories": category_rows,
    })
}

fn print_summary(report: &serde_json::Value) {
    for name in ["rules", "rules_and_learned"] {
        let Some(r) = report.get(name) else { continue };
        println!(
            "{name:<18} 911/988 recall {:.3} (right tier {:.3}), worst category {:.3}, false alarms {:.4} of {} ordinary",
            r["recall_911_988"].as_f64().unwrap_or(0.0),
            r["right_tier_911_988"].as_f64().unwrap_or(0.0),
            r["worst_category_recall"].as_f64().unwrap_or(0.0),
            r["false_alarms"].as_f64().unwrap_or(0.0),
            r["ordinary"],
        );
        if let Some(rows) = r["tiers"].as_array() {
            for row in rows {
                println!(
                    "  tier {:<6} {:<2} n={:<4} recall {:.3} right tier {:.3}",
                    row["tier"].as_str().unwrap_or(""),
                    row["lang"].as_str().unwrap_or(""),
                    row["n"],
                    row["recall"].as_f64().unwrap_or(0.0),
                    row["right_tier"].as_f64().unwrap_or(0.0)
                );
            }
        }
    }
    if let Some(l) = report.get("learned") {
        println!("learned signal: {l}");
    }
    println!("messages: {}", report["messages"]);
}
