//! `frontdesk safety eval --set FILE`: the rules, and the rules with the
//! learned signal, measured on the holdout half of a labelled set, per
//! tier, category and language. The tuning half, with the knowledge
//! directory's examples, trains the learned signal and fits its
//! thresholds; only the training examples' misses are printed (each judged
//! by a classifier trained without it), so nobody writes a rule for a
//! held-out miss.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use super::safety::EvalArgs;
use crate::lang::Lang;
use crate::safety::Rules;
use crate::safety::classifier::{Probabilities, Training};
use crate::safety::fit;
use crate::safety::learned::{Examples, Judgement, Thresholds, cached_vectors};
use crate::safety::set::{self, Labelled, Tier};
use crate::semantic::Embedding;
use crate::utterance::Utterance;

/// The false-alarm share the thresholds are fitted to on the tuning half
/// (the target on the holdout half is 0.5 %).
const FIT_FALSE_ALARMS: f64 = 0.003;

/// Folds of the cross-validation that judges each training example by a
/// classifier trained without it.
const FOLDS: usize = 5;

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
    let holdout: Vec<&Labelled> = labelled.iter().filter(|l| !l.tune).collect();
    // The learned signal trains on the set's tuning half and on the
    // knowledge directory's examples, never on a held-out message.
    let shipped = crate::safety::training_examples(&a.knowledge).map_err(anyhow::Error::msg)?;
    let training = training_lines(&labelled, &shipped);
    let embedder = a.meaning.embedder()?;
    let model = embedder.as_ref().and_then(|e| e.model());
    let analysed = |ls: &[&Labelled]| -> Vec<Utterance> {
        ls.iter().map(|l| Utterance::analyse(&l.text)).collect()
    };
    let holdout_said = analysed(&holdout);
    let training_said = analysed(&training);
    let mut learned: Option<(Examples, Thresholds, Duration)> = None;
    let mut veto_curve = None;
    let mut judge_time = Vec::new();
    let mut holdout_judged: Vec<Option<Judgement>> = vec![None; holdout.len()];
    let mut training_judged: Vec<Option<Judgement>> = vec![None; training.len()];
    if let Some(model) = &model {
        let mut cache = crate::semantic::VectorCache::open(
            Some(a.meaning.model_dir.join("safety-vectors.bin")),
            crate::semantic::fetch::FILE_SHA256,
        );
        let vectors = embed(model, &training, &mut cache)?;
        let embedded: Vec<(&Labelled, Embedding)> = training
            .iter()
            .copied()
            .zip(vectors.iter().cloned())
            .collect();
        // Out of fold: each training example judged without itself.
        for fold in 0..FOLDS {
            let rest: Vec<_> = (0..embedded.len())
                .filter(|i| i % FOLDS != fold)
                .map(|i| embedded[i].clone())
                .collect();
            let examples = Examples::train(&rest, rules, &Training::FITTED);
            for i in (0..embedded.len()).filter(|i| i % FOLDS == fold) {
                training_judged[i] = examples.judge(
                    &training_said[i],
                    &vectors[i],
                    rule_kind(rules, &training_said[i]),
                );
            }
        }
        let thresholds = if a.fit {
            // The budget is spent on look-alikes, not on the many easy
            // article phrasings (reported on their own below).
            let pairs: Vec<(Tier, Probabilities, bool)> = training
                .iter()
                .zip(&training_judged)
                .zip(&training_said)
                .filter(|((l, _), _)| l.category != crate::safety::PHRASING)
                .filter_map(|((l, j), said)| {
                    Some((
                        l.tier,
                        j.as_ref()?.probabilities,
                        rules.check(said).is_some(),
                    ))
                })
                .collect();
            // The trade between the rules and the learned signal, for the record.
            let curve: Vec<_> = [
                1.0f32, 0.999, 0.995, 0.99, 0.98, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3,
            ]
            .iter()
            .map(|v| json!({"veto": v, "choice": fit::with_veto(&pairs, FIT_FALSE_ALARMS, *v)}))
            .collect();
            veto_curve = Some(curve);
            fit::fit_thresholds(&pairs, FIT_FALSE_ALARMS)
        } else {
            Thresholds::FITTED
        };
        let began = Instant::now();
        let examples = Examples::train(&embedded, rules, &Training::FITTED);
        let trained_in = began.elapsed();
        for (i, v) in embed(model, &holdout, &mut cache)?.iter().enumerate() {
            let began = Instant::now();
            holdout_judged[i] =
                examples.judge(&holdout_said[i], v, rule_kind(rules, &holdout_said[i]));
            judge_time.push(began.elapsed());
        }
        cache.save();
        learned = Some((examples, thresholds, trained_in));
    }
    let thresholds = learned.as_ref().map(|(_, t, _)| *t);
    let verdict = |said: &Utterance, j: &Option<Judgement>, with_learned: bool| -> Option<Tier> {
        let learned = j.as_ref().zip(thresholds).filter(|_| with_learned);
        let hit = crate::safety::decide(
            rules.check(said),
            learned.as_ref().map(|(j, _)| *j),
            &learned.map_or(Thresholds::FITTED, |(_, t)| t),
        );
        hit.map(|h| h.kind.tier())
    };
    let mut report = serde_json::Map::new();
    for (name, with_learned) in [("rules", false), ("rules_and_learned", true)] {
        if with_learned && learned.is_none() {
            continue;
        }
        report.insert(
            name.to_owned(),
            score(&holdout, &holdout_said, &holdout_judged, |s, j| {
                verdict(s, j, with_learned)
            }),
        );
    }
    if learned.is_some() {
        // The same figures on the training examples, each judged by a
        // classifier trained without it: what choices are made on.
        let own: Vec<usize> = (0..training.len())
            .filter(|i| training[*i].category != crate::safety::PHRASING)
            .collect();
        let pick = |i: &usize| training[*i];
        let lines: Vec<&Labelled> = own.iter().map(pick).collect();
        let said: Vec<Utterance> = own.iter().map(|i| training_said[*i].clone()).collect();
        let judged: Vec<Option<Judgement>> =
            own.iter().map(|i| training_judged[*i].clone()).collect();
        report.insert(
            "training_out_of_fold".into(),
            score(&lines, &said, &judged, |s, j| verdict(s, j, true)),
        );
        // The set's own tuning half alone: comparable between example files.
        let n = labelled.iter().filter(|l| l.tune).count();
        report.insert(
            "tune_half_out_of_fold".into(),
            score(&lines[..n], &said[..n], &judged[..n], |s, j| {
                verdict(s, j, true)
            }),
        );
        if let Some(t) = thresholds {
            report.insert(
                "rule_hits_set_aside".into(),
                json!({
                    "holdout": set_aside(rules, &t, &holdout, &holdout_said, &holdout_judged),
                    "training_out_of_fold": set_aside(rules, &t, &lines, &said, &judged),
                }),
            );
        }
    }
    if let Some(curve) = veto_curve {
        report.insert("veto_curve_training_out_of_fold".into(), json!(curve));
    }
    report.insert(
        "messages".into(),
        json!({"holdout": holdout.len(), "training": training.len(),
               "training_from_knowledge": training.len() - labelled.iter().filter(|l| l.tune).count()}),
    );
    if let Some((examples, t, trained_in)) = &learned {
        judge_time.sort();
        let p99 = judge_time
            .get(judge_time.len().saturating_sub(1) * 99 / 100)
            .copied()
            .unwrap_or(Duration::ZERO);
        report.insert(
            "learned".into(),
            json!({"examples": examples.len(), "trained_in_s": trained_in.as_secs_f64(), "training": Training::FITTED, "thresholds": t, "check_p99_ms": p99.as_secs_f64() * 1e3}),
        );
    }
    if learned.is_some() {
        // The clinic's own article phrasings, each judged without itself.
        let (n, fired) = training
            .iter()
            .zip(&training_judged)
            .zip(&training_said)
            .filter(|((l, _), _)| l.category == crate::safety::PHRASING)
            .fold((0, 0), |(n, fired), ((_, j), said)| {
                let alarm = matches!(verdict(said, j, true), Some(Tier::Emergency | Tier::Crisis));
                (n + 1, fired + usize::from(alarm))
            });
        report.insert(
            "knowledge_phrasings".into(),
            json!({"n": n, "false_alarms": fired}),
        );
    }
    // Only the training examples' misses and false alarms are shown, each
    // judged by a classifier that did not see it.
    for ((l, j), said) in training.iter().zip(&training_judged).zip(&training_said) {
        let got = verdict(said, j, learned.is_some());
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

fn rule_kind(rules: &Rules, said: &Utterance) -> Option<crate::safety::Kind> {
    rules.check(said).map(|h| h.kind)
}

/// The set's tuning half, then the knowledge directory's examples that are
/// neither already there nor one of the set's held-out messages.
fn training_lines<'a>(set: &'a [Labelled], shipped: &'a [Labelled]) -> Vec<&'a Labelled> {
    let key = |t: &str| {
        t.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let mut seen: std::collections::HashSet<String> = set.iter().map(|l| key(&l.text)).collect();
    set.iter()
        .filter(|l| l.tune)
        .chain(shipped.iter().filter(|l| seen.insert(key(&l.text))))
        .collect()
}

/// Embeds `lines`, taking what it can from `cache`.
fn embed(
    model: &crate::semantic::Model,
    lines: &[&Labelled],
    cache: &mut crate::semantic::VectorCache,
) -> anyhow::Result<Vec<Embedding>> {
    let owned: Vec<Labelled> = lines.iter().map(|l| (*l).clone()).collect();
    cached_vectors(&owned, model, cache)
}

/// Recall per tier, category and language; false alarms on ordinary ones.
fn score(
    lines: &[&Labelled],
    said: &[Utterance],
    judged: &[Option<Judgement>],
    verdict: impl Fn(&Utterance, &Option<Judgement>) -> Option<Tier>,
) -> serde_json::Value {
    let mut tiers: BTreeMap<(Tier, Lang), Count> = BTreeMap::new();
    let mut categories: BTreeMap<(Tier, String, Lang), Count> = BTreeMap::new();
    let (mut ordinary, mut false_alarms, mut urgent_flagged) = (0usize, 0usize, 0usize);
    let mut urgent_on_ordinary = 0usize;
    for ((l, j), said) in lines.iter().zip(judged).zip(said) {
        let got = verdict(said, j);
        match l.tier {
            Tier::None => {
                ordinary += 1;
                false_alarms += usize::from(matches!(got, Some(Tier::Emergency | Tier::Crisis)));
                urgent_on_ordinary += usize::from(got == Some(Tier::Urgent));
            }
            tier => {
                let caught = match tier {
                    Tier::Urgent => got.is_some(),
                    _ => matches!(got, Some(Tier::Emergency | Tier::Crisis)),
                };
                urgent_flagged += usize::from(tier == Tier::Urgent && got == Some(Tier::Urgent));
                for c in [
                    tiers.entry((tier, l.lang)).or_default(),
                    categories
                        .entry((tier, l.category.clone(), l.lang))
                        .or_default(),
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
        .map(|((tier, cat, lang), c)| json!({"tier": tier, "category": cat, "lang": lang, "n": c.n, "recall": share(c.caught, c.n)}))
        .collect();
    let urgent_911_988: Count = tiers
        .iter()
        .filter(|((t, _), _)| matches!(t, Tier::Emergency | Tier::Crisis))
        .fold(Count::default(), |a, (_, c)| Count {
            n: a.n + c.n,
            caught: a.caught + c.caught,
            right_tier: a.right_tier + c.right_tier,
        });
    // The target is per 911/988 category and language.
    let worst = category_rows
        .iter()
        .filter(|r| r["n"].as_u64().unwrap_or(0) > 0 && r["tier"] != "urgent")
        .map(|r| r["recall"].as_f64().unwrap_or(0.0))
        .fold(1.0f64, f64::min);
    json!({
        "recall_911_988": share(urgent_911_988.caught, urgent_911_988.n),
        "right_tier_911_988": share(urgent_911_988.right_tier, urgent_911_988.n),
        "worst_category_recall": worst,
        "false_alarms": share(false_alarms, ordinary),
        "urgent_care_on_ordinary": share(urgent_on_ordinary, ordinary),
        "ordinary": ordinary,
        "urgent_flagged_urgent": urgent_flagged,
        "tiers": tier_rows,
        "categories": category_rows,
    })
}

/// How many rule hits the learned signal set aside, on 911 and 988
/// messages (each a miss) and on ordinary ones (each a false alarm saved).
fn set_aside(
    rules: &Rules,
    t: &Thresholds,
    lines: &[&Labelled],
    said: &[Utterance],
    judged: &[Option<Judgement>],
) -> serde_json::Value {
    let (mut danger, mut danger_hit, mut ordinary, mut ordinary_hit) = (0, 0, 0, 0);
    for ((l, s), j) in lines.iter().zip(said).zip(judged) {
        if rules.check(s).is_none() {
            continue;
        }
        let aside = j.as_ref().is_some_and(|j| j.vetoes(t));
        match l.tier {
            Tier::Emergency | Tier::Crisis => {
                danger_hit += 1;
                danger += usize::from(aside);
            }
            Tier::None => {
                ordinary_hit += 1;
                ordinary += usize::from(aside);
            }
            Tier::Urgent => {}
        }
    }
    json!({"danger": danger, "danger_rule_hits": danger_hit, "ordinary": ordinary, "ordinary_rule_hits": ordinary_hit})
}

fn print_summary(report: &serde_json::Value) {
    for name in [
        "rules",
        "rules_and_learned",
        "training_out_of_fold",
        "tune_half_out_of_fold",
    ] {
        let Some(r) = report.get(name) else { continue };
        println!(
            "{name:<18} 911/988 recall {:.3} (right tier {:.3}), worst 911/988 category and language {:.3}, false alarms {:.4} of {} ordinary (urgent care's guidance on {:.4})",
            r["recall_911_988"].as_f64().unwrap_or(0.0),
            r["right_tier_911_988"].as_f64().unwrap_or(0.0),
            r["worst_category_recall"].as_f64().unwrap_or(0.0),
            r["false_alarms"].as_f64().unwrap_or(0.0),
            r["ordinary"],
            r["urgent_care_on_ordinary"].as_f64().unwrap_or(0.0),
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
    if let Some(k) = report.get("rule_hits_set_aside") {
        println!("rule hits set aside: {k}");
    }
    if let Some(k) = report.get("knowledge_phrasings") {
        println!("knowledge-base phrasings: {k}");
    }
    println!("messages: {}", report["messages"]);
}
