//! Which waiting requests the embedding worker takes next: a pure rule
//! over the callers' deadlines.

use std::time::{Duration, Instant};

use super::MAX_BATCH;

/// Which of the waiting requests (by their callers' deadlines) to embed in
/// the next pass, at most [`MAX_BATCH`], each text taking `per_text`:
/// those with no deadline first, then the newest, as many as can all be
/// answered before the earliest deadline among them. Under overload the
/// oldest would be late anyway (their callers go on from words alone);
/// embedding them first would make the newest late too. Never empty when
/// something waits, so the worker always moves.
pub(super) fn in_time(
    deadlines: &[Option<Instant>],
    per_text: Duration,
    now: Instant,
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..deadlines.len()).collect();
    // No deadline first, then the latest deadline first.
    order.sort_by(|&a, &b| match (deadlines[a], deadlines[b]) {
        (None, None) => a.cmp(&b),
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => y.cmp(&x),
    });
    let mut chosen: Vec<usize> = Vec::new();
    for i in order {
        if chosen.len() == MAX_BATCH {
            break;
        }
        let fits = match deadlines[i] {
            None => true,
            Some(d) => now + per_text * (chosen.len() as u32 + 1) <= d,
        };
        if !fits && !chosen.is_empty() {
            break;
        }
        chosen.push(i);
    }
    chosen.sort_unstable();
    chosen
}
