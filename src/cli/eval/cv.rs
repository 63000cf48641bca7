//! Cross-validation: the calibration (how much meaning weighs against words,
//! the confidence model, the two thresholds) is fitted on all folds but
//! one and judged on that one, so the figures predict questions the fit
//! never saw. Answerable questions are split by their article, so
//! paraphrases of one question never sit on both sides.

use serde_json::json;

use super::Case;
use super::metrics::ByLang;
use crate::knowledge::{
    self, ArticleId, Calibration, Decision, DecisionSettings, Kb, Scored, confidences,
    decide_ranked, fit,
};

/// Share of answerable questions answered wrongly that a fitted answer
/// threshold allows on its training folds (the target is 0.03 on unseen ones).
const MAX_WRONG: f64 = 0.025;
/// Share of out-of-domain questions answered that it allows (target ≤ 0.10).
const MAX_OOD_ANSWERED: f64 = 0.08;
/// Share of out-of-domain questions that must be escalated directly.
const MIN_OOD_ESCALATED: f64 = 0.55;

/// Folds pooled into one report, with each fold's calibration.
pub(super) fn cross_validate(
    cases: &[Case],
    kb: &Kb,
    settings: &DecisionSettings,
    semantic: bool,
    k: usize,
    fit_all: bool,
) -> serde_json::Value {
    let folds: Vec<usize> = fold_of(cases, k);
    let mut pooled = ByLang::default();
    let mut fitted = Vec::new();
    let mut fitted_across = Vec::new();
    for f in 0..k {
        let train: Vec<&Case> = cases
            .iter()
            .zip(&folds)
            .filter(|(_, g)| **g != f)
            .map(|(c, _)| c)
            .collect();
        let cal = fit_calibration(&train, semantic);
        // The fallback's own calibration, fitted on the same training
        // questions asked of the other language's articles.
        let across: Vec<&Case> = train.iter().filter_map(|c| c.across.as_deref()).collect();
        let cross = (semantic && !across.is_empty()).then(|| fit_calibration(&across, semantic));
        for (case, _) in cases.iter().zip(&folds).filter(|(_, g)| **g == f) {
            let ranked = rerank(case, &cal);
            // A language without articles of its own only falls back.
            let own = match kb.index(case.lang) {
                Some(index) => decide_ranked(index, &ranked, &cal, settings),
                None => Decision::escalate_empty(),
            };
            let other = case
                .across
                .as_deref()
                .zip(cross.as_ref())
                .filter(|_| !matches!(own, Decision::Answer { .. }))
                .and_then(|(a, cross)| {
                    let index = kb.index(a.lang)?;
                    Some(decide_ranked(index, &rerank(a, cross), cross, settings))
                });
            let d = match other {
                Some(other) => knowledge::prefer(own, other),
                None => own,
            };
            pooled.add(case, &d, &ranked);
        }
        fitted.push(cal);
        fitted_across.extend(cross);
    }
    let all = fit_all.then(|| fit_calibration(&cases.iter().collect::<Vec<_>>(), semantic));
    let mut report = pooled.report(settings, &fitted[0]);
    report["cv_folds"] = json!(k);
    report["fold_calibrations"] = json!(fitted);
    if !fitted_across.is_empty() {
        report["fold_calibrations_across"] = json!(fitted_across);
    }
    if let Some(cal) = all {
        report["fitted_on_all"] = json!(cal);
    }
    report
}

/// Each case's fold: answerable ones by their first relevant article, out
/// of domain ones in turn.
fn fold_of(cases: &[Case], k: usize) -> Vec<usize> {
    let mut ood = 0usize;
    cases
        .iter()
        .map(|c| {
            let mut ids: Vec<&ArticleId> = c.relevant.iter().collect();
            ids.sort();
            match ids.first() {
                Some(id) => {
                    // A stable spread of article ids over the folds.
                    let h = id.as_str().bytes().fold(0xcbf29ce484222325u64, |h, b| {
                        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
                    });
                    (h % k as u64) as usize
                }
                None => {
                    ood += 1;
                    ood % k
                }
            }
        })
        .collect()
}

/// The case's candidates ranked with `cal`.
pub(super) fn rerank(case: &Case, cal: &Calibration) -> Vec<Scored> {
    let mut ranked = case.candidates.clone();
    knowledge::rerank(&mut ranked, cal);
    ranked
}

fn top_relevant(case: &Case, ranked: &[Scored], n: usize) -> bool {
    ranked.iter().take(n).any(|s| case.relevant.contains(&s.id))
}

/// Fits a calibration on `train`.
fn fit_calibration(train: &[&Case], semantic: bool) -> Calibration {
    let shares: Vec<f32> = if semantic {
        (0..10).map(|i| i as f32 / 10.0).collect()
    } else {
        vec![0.0]
    };
    // The mix of words and meaning that ranks the right article highest.
    let mrr = |(share, phrasing): (f32, f32)| -> f64 {
        let cal = Calibration {
            semantic_share: share,
            phrasing_share: phrasing,
            ..Calibration::LEXICAL
        };
        train
            .iter()
            .filter(|c| c.answerable())
            .map(|c| {
                rerank(c, &cal)
                    .iter()
                    .take(10)
                    .position(|s| c.relevant.contains(&s.id))
                    .map_or(0.0, |p| 1.0 / (p as f64 + 1.0))
            })
            .sum()
    };
    let phrasings: &[f32] = if semantic {
        &[0.0, 0.25, 0.5, 0.75]
    } else {
        &[0.0]
    };
    let mixes: Vec<(f32, f32)> = shares
        .iter()
        .flat_map(|s| phrasings.iter().map(move |p| (*s, *p)))
        .collect();
    let (share, phrasing) = mixes
        .iter()
        .copied()
        .max_by(|a, b| mrr(*a).total_cmp(&mrr(*b)))
        .unwrap_or((0.0, 0.0));
    let mut cal = Calibration {
        semantic_share: share,
        phrasing_share: phrasing,
        ..Calibration::LEXICAL
    };
    // The confidence model, on each question's top candidate.
    let (mut xa, mut ya, mut xc, mut yc) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for case in train {
        let ranked = rerank(case, &cal);
        let Some(top) = ranked.first() else { continue };
        let d = top.relevance - ranked.get(1).map_or(0.0, |s| s.relevance);
        let s1 = top.features.semantic;
        let ds = s1
            - ranked[1..]
                .iter()
                .map(|s| s.features.semantic)
                .fold(0.0, f32::max);
        let m = top.features.match_score();
        let agree = knowledge::agreement(&ranked)[0];
        let phrasing = knowledge::semantic_scale(top.features.closeness.phrasing);
        xa.push(if semantic {
            vec![m, d, s1, ds, agree, phrasing]
        } else {
            vec![m, d]
        });
        ya.push(case.answerable() && top_relevant(case, &ranked, 1));
        xc.push(if semantic { vec![m, s1] } else { vec![m] });
        yc.push(case.answerable() && top_relevant(case, &ranked, 3));
    }
    // No question with a candidate (a language without articles): the
    // mix alone, and a confidence model that answers nothing.
    if xa.is_empty() {
        return Calibration {
            answer_threshold: 1.0,
            clarify_threshold: 1.0,
            ..cal
        };
    }
    let a = fit::logistic(&xa, &ya);
    let c = fit::logistic(&xc, &yc);
    cal.a0 = a[0];
    cal.a_match = a[1];
    cal.a_margin = a[2];
    cal.a_sem = a.get(3).copied().unwrap_or(0.0);
    cal.a_sem_margin = a.get(4).copied().unwrap_or(0.0);
    cal.a_agree = a.get(5).copied().unwrap_or(0.0);
    cal.a_phrasing = a.get(6).copied().unwrap_or(0.0);
    cal.c0 = c[0];
    cal.c_match = c[1];
    cal.c_sem = c.get(2).copied().unwrap_or(0.0);
    fit_thresholds(train, &mut cal);
    cal
}

/// The answer threshold that keeps wrong answers (and answered
/// out-of-domain questions) under their bounds, then the clarify threshold
/// that helps most while enough out-of-domain questions still go straight
/// to a person.
fn fit_thresholds(train: &[&Case], cal: &mut Calibration) {
    struct Point {
        answerable: bool,
        right1: bool,
        right3: bool,
        p: f32,
        q: f32,
    }
    let points: Vec<Point> = train
        .iter()
        .filter_map(|case| {
            let ranked = rerank(case, cal);
            let top = ranked.first()?;
            Some(Point {
                answerable: case.answerable(),
                right1: top_relevant(case, &ranked, 1),
                right3: top_relevant(case, &ranked, 3),
                p: confidences(&ranked, cal)[0],
                q: cal.choice_confidence(&top.features),
            })
        })
        .collect();
    let answerable = train.iter().filter(|c| c.answerable()).count();
    let ood = train.len() - answerable;
    let on_answerable: Vec<(f32, bool)> = points
        .iter()
        .filter(|p| p.answerable)
        .map(|p| (p.p, p.right1))
        .collect();
    let on_ood: Vec<(f32, bool)> = points
        .iter()
        .filter(|p| !p.answerable)
        .map(|p| (p.p, false))
        .collect();
    let answer_at = fit::answer_threshold(&on_answerable, answerable, MAX_WRONG)
        .max(fit::answer_threshold(&on_ood, ood, MAX_OOD_ANSWERED))
        .max(0.05);
    // Clarify: every observed choice confidence is a candidate threshold.
    let mut best = (f64::MIN, 1.0f32);
    let mut candidates: Vec<f32> = points.iter().map(|p| p.q).collect();
    candidates.push(1.0);
    for &at in &candidates {
        let escalated = points
            .iter()
            .filter(|p| !p.answerable && p.p < answer_at && p.q < at)
            .count();
        if (escalated as f64) < MIN_OOD_ESCALATED * ood as f64 {
            continue;
        }
        let success = points
            .iter()
            .filter(|p| p.answerable)
            .filter(|p| {
                (p.p >= answer_at && p.right1) || (p.p < answer_at && p.q >= at && p.right3)
            })
            .count() as f64;
        if success > best.0 {
            best = (success, at);
        }
    }
    cal.answer_threshold = answer_at;
    cal.clarify_threshold = best.1;
}
