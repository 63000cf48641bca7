//! Fitting the confidence model: logistic regression by gradient descent,
//! and the choice of thresholds from labelled outcomes. Pure functions, used
//! by `frontdesk eval` to fit on one part of a labelled set and report on
//! the rest (docs/answer-quality.md).

/// Fits weights `w` (bias first) of σ(w₀ + Σ wᵢ·xᵢ) to labels `y`, with a
/// small L2 penalty so separable data still gives finite weights.
pub fn logistic(x: &[Vec<f32>], y: &[bool]) -> Vec<f32> {
    let dims = x.first().map_or(0, Vec::len);
    let mut w = vec![0.0f64; dims + 1];
    if x.is_empty() {
        return vec![0.0; dims + 1];
    }
    let n = x.len() as f64;
    let (rate, l2) = (1.0, 1e-3);
    for _ in 0..4000 {
        let mut grad = vec![0.0f64; dims + 1];
        for (xi, yi) in x.iter().zip(y) {
            let z = w[0]
                + xi.iter()
                    .zip(&w[1..])
                    .map(|(a, b)| f64::from(*a) * b)
                    .sum::<f64>();
            let err = 1.0 / (1.0 + (-z).exp()) - if *yi { 1.0 } else { 0.0 };
            grad[0] += err;
            for (g, a) in grad[1..].iter_mut().zip(xi) {
                *g += err * f64::from(*a);
            }
        }
        for (j, (wj, g)) in w.iter_mut().zip(&grad).enumerate() {
            let penalty = if j == 0 { 0.0 } else { l2 * *wj };
            *wj -= rate * (g / n + penalty);
        }
    }
    w.into_iter().map(|v| v as f32).collect()
}

/// The lowest threshold (among the observed scores) at which answering
/// every score at or above it gives at most `max_wrong` wrong answers per
/// question asked. `outcomes` are (score, answer right, question
/// answerable); unanswerable questions answered count as wrong too.
pub fn answer_threshold(outcomes: &[(f32, bool)], questions: usize, max_wrong: f64) -> f32 {
    let mut sorted: Vec<(f32, bool)> = outcomes.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut wrong = 0usize;
    let mut best = 1.0f32;
    let mut i = 0;
    while i < sorted.len() {
        // All tied scores go in together.
        let score = sorted[i].0;
        while i < sorted.len() && sorted[i].0 == score {
            wrong += usize::from(!sorted[i].1);
            i += 1;
        }
        if wrong as f64 > max_wrong * questions.max(1) as f64 {
            break;
        }
        best = score;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logistic_fit_recovers_the_direction_of_the_evidence() {
        // y is mostly true when x is large.
        let x: Vec<Vec<f32>> = (0..200).map(|i| vec![i as f32 / 200.0]).collect();
        let y: Vec<bool> = (0..200).map(|i| (i * 7919) % 200 < i).collect();
        let w = logistic(&x, &y);
        assert!(w[1] > 1.0, "{w:?}");
        assert!(logistic(&[], &[]).iter().all(|v| *v == 0.0));
    }

    #[test]
    fn the_answer_threshold_stops_before_too_many_wrong_answers() {
        let outcomes = [
            (0.9, true),
            (0.8, true),
            (0.7, false),
            (0.6, true),
            (0.5, false),
            (0.4, false),
        ];
        // One wrong answer in ten questions allowed: stop before the second.
        assert_eq!(answer_threshold(&outcomes, 10, 0.1), 0.6);
        assert_eq!(answer_threshold(&outcomes, 10, 0.0), 0.8);
        assert_eq!(answer_threshold(&[(0.3, false)], 10, 0.0), 1.0);
    }
}
