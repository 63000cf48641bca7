//! An honest wait estimate: the average of recent real waits, scaled by how
//! many patients are ahead and how many agents are working. With no history
//! there is no estimate, and the patient is told so.

use std::collections::VecDeque;
use std::time::Duration;

/// Waits remembered for the average.
const WINDOW: usize = 20;

#[derive(Debug, Default)]
pub struct WaitEstimator {
    recent: VecDeque<Duration>,
}

impl WaitEstimator {
    pub fn record(&mut self, waited: Duration) {
        if self.recent.len() == WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back(waited);
    }

    /// Seconds until a patient at `position` (1 = next) is likely claimed,
    /// or `None` when there is no history to go on.
    pub fn estimate(&self, position: usize, agents_online: usize) -> Option<u64> {
        if self.recent.is_empty() {
            return None;
        }
        let total: Duration = self.recent.iter().sum();
        let average = total.as_secs_f64() / self.recent.len() as f64;
        let lanes = agents_online.max(1) as f64;
        let rounds = (position.max(1) as f64 / lanes).ceil();
        Some((average * rounds).round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_history_means_no_estimate() {
        assert_eq!(WaitEstimator::default().estimate(1, 3), None);
    }

    #[test]
    fn the_estimate_follows_recent_waits_and_staffing() {
        let mut w = WaitEstimator::default();
        w.record(Duration::from_secs(60));
        w.record(Duration::from_secs(120));
        assert_eq!(w.estimate(1, 1), Some(90));
        assert_eq!(w.estimate(3, 1), Some(270));
        assert_eq!(w.estimate(3, 2), Some(180));
        for _ in 0..WINDOW {
            w.record(Duration::from_secs(10));
        }
        assert_eq!(w.estimate(1, 0), Some(10), "old waits age out");
    }
}
