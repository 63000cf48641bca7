//! How a set of decisions scores: answered right or wrong, choices that
//! hold the right article, out-of-domain questions kept from an answer, and
//! how well confidence separates the two kinds, overall and per language.

use serde_json::json;

use super::Case;
use crate::knowledge::{Calibration, Decision, DecisionSettings, Scored};
use crate::lang::Lang;

/// Metrics over all questions, and per language when there are several.
#[derive(Default)]
pub(super) struct ByLang {
    all: Metrics,
    langs: std::collections::BTreeMap<Lang, Metrics>,
}

impl ByLang {
    pub(super) fn add(&mut self, case: &Case, d: &Decision, ranked: &[Scored]) {
        self.all.add(case, d, ranked);
        self.langs
            .entry(case.lang)
            .or_default()
            .add(case, d, ranked);
    }

    pub(super) fn report(&self, s: &DecisionSettings, cal: &Calibration) -> serde_json::Value {
        let mut report = self.all.report(s, cal);
        if self.langs.len() > 1 {
            for (lang, m) in &self.langs {
                report[format!("{lang}")] = m.report(s, cal);
            }
        }
        report
    }
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
    /// Counts one decided case; the top candidate's answer confidence feeds
    /// the AUROC.
    fn add(&mut self, case: &Case, d: &Decision, ranked: &[Scored]) {
        let top = match d {
            Decision::Answer { confidence, .. } => *confidence,
            Decision::Clarify { candidates, .. } | Decision::Escalate { candidates, .. } => {
                candidates.first().map_or(0.0, |c| c.score)
            }
        };
        if !case.answerable() {
            self.n_ood += 1;
            self.conf_ood.push(top);
            match d {
                Decision::Answer { .. } => self.ood_answered += 1,
                Decision::Escalate { .. } => self.ood_escalated += 1,
                Decision::Clarify { .. } => {}
            }
            return;
        }
        let relevant = &case.relevant;
        self.n += 1;
        self.conf_in.push(top);
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

    fn report(&self, s: &DecisionSettings, cal: &Calibration) -> serde_json::Value {
        let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let (answer_at, clarify_at) = s.thresholds(cal);
        json!({
            "answer_threshold": answer_at,
            "clarify_threshold": clarify_at,
            "answerable": self.n,
            "answered_right_over_answerable": share(self.right, self.n),
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
