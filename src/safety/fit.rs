//! Fitting the learned signal's thresholds (`frontdesk safety eval --set …
//! --fit`): on out-of-fold judgements of the training examples, the veto
//! and the 911 and 988 thresholds that catch the most within a false-alarm
//! budget. Run at evaluation time only; the server uses the fitted constants
//! (`Thresholds::FITTED`).

use super::classifier::Probabilities;
use super::learned::Thresholds;
use super::set::Tier;

/// What one choice of veto gives on out-of-fold judgements.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Choice {
    pub thresholds: Thresholds,
    /// 911 and 988 examples caught, of all of them.
    pub caught: usize,
    pub danger: usize,
    /// Ordinary examples that would sound an alarm, of all of them.
    pub alarms: usize,
    pub ordinary: usize,
    /// Rule hits on 911 and 988 examples set aside, of all rule hits on them.
    pub set_aside: usize,
    pub rule_caught: usize,
}

/// With `veto`, the lowest 911 and 988 thresholds that keep false alarms
/// on the ordinary messages of `judged` (label, out-of-fold probabilities,
/// whether a rule fired) at or under `max_false`. When the rules' alarms
/// alone exceed it, the learned signal fires alone only above every
/// ordinary message.
pub fn with_veto(judged: &[(Tier, Probabilities, bool)], max_false: f64, veto: f32) -> Choice {
    let danger = |t: &Tier| matches!(t, Tier::Emergency | Tier::Crisis);
    let by_rule = |p: &Probabilities, rule: bool| rule && p.ordinary() <= veto;
    let ordinary = judged.iter().filter(|(t, _, _)| *t == Tier::None).count();
    let allowed = (max_false * ordinary as f64).floor() as usize;
    let rule_alarms = judged
        .iter()
        .filter(|(t, p, rule)| *t == Tier::None && by_rule(p, *rule))
        .count();
    let left = allowed.saturating_sub(rule_alarms);
    // The ordinary messages each tier's threshold would fire on, most
    // probable first; the budget left is shared between the two tiers in
    // whichever way catches the most.
    let scores = |tier: Tier| -> Vec<f32> {
        let mut s: Vec<f32> = judged
            .iter()
            .filter(|(t, p, rule)| *t == Tier::None && !by_rule(p, *rule))
            .filter(|(_, p, _)| p.danger_tier() == tier)
            .map(|(_, p, _)| p.danger())
            .collect();
        s.sort_by(|a, b| b.total_cmp(a));
        s
    };
    let (emergency_scores, crisis_scores) = (scores(Tier::Emergency), scores(Tier::Crisis));
    // Just above the first that would be one too many.
    let above = |s: &[f32], k: usize| s.get(k).map_or(0.5, |v| (v + 1e-4).min(1.0));
    let count =
        |f: &dyn Fn(&(Tier, Probabilities, bool)) -> bool| judged.iter().filter(|x| f(x)).count();
    let choice = |t: Thresholds| {
        let fires = |p: &Probabilities, rule: bool| by_rule(p, rule) || t.fires_alone(p);
        Choice {
            thresholds: t,
            caught: count(&|(tier, p, r)| danger(tier) && fires(p, *r)),
            danger: count(&|(tier, _, _)| danger(tier)),
            alarms: count(&|(tier, p, r)| *tier == Tier::None && fires(p, *r)),
            ordinary,
            set_aside: count(&|(tier, p, r)| danger(tier) && *r && !by_rule(p, *r)),
            rule_caught: count(&|(tier, _, r)| danger(tier) && *r),
        }
    };
    (0..=left)
        .map(|to_emergency| {
            choice(Thresholds {
                emergency: above(&emergency_scores, to_emergency),
                crisis: above(&crisis_scores, left - to_emergency),
                urgent: 0.5,
                veto,
            })
        })
        .fold(None::<Choice>, |best, c| match best {
            Some(b) if b.caught >= c.caught => Some(b),
            _ => Some(c),
        })
        .expect("at least one split")
}

/// The thresholds fitted on out-of-fold judgements: every veto from
/// "never" down to the most ordinary-looking rule hit is tried, each with
/// the lowest danger threshold the false-alarm budget allows, and the one
/// that catches the most 911 and 988 messages wins (on a tie, the one that
/// sets aside the fewest rule hits). A rule hit set aside is not dropped
/// while the message may still be urgent ([`Judgement::doubtful`]). The
/// urgent threshold keeps its own false alarms within the budget.
pub fn fit_thresholds(judged: &[(Tier, Probabilities, bool)], max_false: f64) -> Thresholds {
    let mut vetoes: Vec<f32> = judged
        .iter()
        .filter(|(_, _, rule)| *rule)
        .map(|(_, p, _)| p.ordinary())
        .collect();
    vetoes.push(1.0);
    vetoes.sort_by(|a, b| b.total_cmp(a));
    vetoes.dedup();
    let ordinary = judged
        .iter()
        .filter(|(tier, _, _)| *tier == Tier::None)
        .count();
    let allowed = (max_false * ordinary as f64).floor() as usize;
    let best = vetoes
        .iter()
        .map(|v| with_veto(judged, max_false, *v))
        .filter(|c| c.alarms <= allowed)
        .fold(None::<Choice>, |best, c| match best {
            Some(b) if b.caught >= c.caught => Some(b),
            _ => Some(c),
        });
    let mut t = best.map_or(Thresholds::FITTED, |c| c.thresholds);
    let mut urgent: Vec<f32> = judged
        .iter()
        .filter(|(tier, _, _)| *tier == Tier::None)
        .map(|(_, p, _)| p.urgent())
        .collect();
    urgent.sort_by(|a, b| b.total_cmp(a));
    t.urgent = urgent
        .get(allowed)
        .map_or(0.5, |s| (s + 1e-4).min(1.0))
        .max(0.5);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_allow_at_most_the_given_share_of_false_alarms() {
        let p = |e: f32| Probabilities([e, 0.0, 0.0, 1.0 - e]);
        let mut judged: Vec<(Tier, Probabilities, bool)> = (0..100)
            .map(|i| (Tier::None, p(0.4 + i as f32 * 0.005), false))
            .collect();
        judged.push((Tier::Emergency, p(0.98), true));
        let t = fit_thresholds(&judged, 0.02);
        let fires = |p: &Probabilities| t.fires_alone(p);
        let false_alarms = judged
            .iter()
            .filter(|(tier, p, _)| *tier == Tier::None && fires(p))
            .count();
        assert!(false_alarms <= 2, "{t:?}");
        assert!(fires(&judged[100].1));
    }

    #[test]
    fn each_tier_gets_its_own_threshold() {
        let e = |d: f32| Probabilities([d, 0.0, 0.0, 1.0 - d]);
        let c = |d: f32| Probabilities([0.0, d, 0.0, 1.0 - d]);
        // Ordinary messages look like emergencies up to 0.75, like a
        // crisis only up to 0.55: one shared threshold would miss the crisis.
        let mut judged: Vec<(Tier, Probabilities, bool)> = vec![
            (Tier::None, e(0.75), false),
            (Tier::None, e(0.7), false),
            (Tier::None, c(0.55), false),
        ];
        judged.extend((0..97).map(|_| (Tier::None, e(0.1), false)));
        judged.push((Tier::Emergency, e(0.8), false));
        judged.push((Tier::Crisis, c(0.6), false));
        let t = fit_thresholds(&judged, 0.0);
        assert!(
            t.crisis < 0.6 && t.emergency > 0.75 && t.emergency < 0.8,
            "{t:?}"
        );
        let alarms = judged
            .iter()
            .filter(|(tier, p, _)| *tier == Tier::None && t.fires_alone(p))
            .count();
        assert_eq!(alarms, 0);
    }

    #[test]
    fn a_veto_spends_the_budget_on_rule_hits_that_look_ordinary() {
        let p = |e: f32| Probabilities([e, 0.0, 0.0, 1.0 - e]);
        // Rules fire on ten ordinary messages that look ordinary, and on
        // one emergency that the classifier alone would miss.
        let mut judged: Vec<(Tier, Probabilities, bool)> =
            (0..10).map(|_| (Tier::None, p(0.01), true)).collect();
        judged.extend((0..90).map(|i| (Tier::None, p(i as f32 * 0.005), false)));
        judged.push((Tier::Emergency, p(0.3), true));
        judged.push((Tier::Emergency, p(0.9), false));
        let t = fit_thresholds(&judged, 0.02);
        let alarms = judged
            .iter()
            .filter(|(tier, p, rule)| {
                *tier == Tier::None && ((*rule && p.ordinary() <= t.veto) || t.fires_alone(p))
            })
            .count();
        assert!(alarms <= 2, "{t:?}");
        assert!(t.veto < 0.99 && t.veto >= 0.7, "{t:?}");
        assert!(t.emergency <= 0.9, "{t:?}");
    }
}
