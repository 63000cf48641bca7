//! Unusual booking activity in the chat, for supervisors. The daily caps
//! stop one visitor, contact or address; many of them at once (a script
//! with many addresses, a misbehaving integration) show as a burst: more
//! chat bookings and refused attempts within [`WINDOW_MINUTES`] than the
//! clinic's threshold. Each burst alerts once a window: the latest is kept
//! for consoles that connect later.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

/// The window bookings are counted in.
pub const WINDOW_MINUTES: u32 = 10;
/// Events remembered at most (the window's count saturates there).
const MAX_EVENTS: usize = 10_000;
/// How long a burst is still shown to a supervisor who connects later.
const SHOWN_FOR: SignedDuration = SignedDuration::from_hours(1);

/// What supervisors are told.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BookingBurst {
    /// Chat bookings made within the window.
    pub bookings: u32,
    /// Chat bookings refused by a daily cap within the window.
    pub refused: u32,
    pub minutes: u32,
    /// When the threshold was crossed (RFC 3339).
    pub at: String,
}

/// Counts chat bookings and refusals; raises a [`BookingBurst`].
pub struct BurstWatch {
    /// Events within the window that make a burst; 0 turns alerts off.
    threshold: u32,
    events: Mutex<Events>,
    alerts: AtomicU64,
    latest: watch::Sender<Option<(Timestamp, BookingBurst)>>,
}

#[derive(Default)]
struct Events {
    /// (when, refused) of each booking or refusal, oldest first.
    seen: VecDeque<(Timestamp, bool)>,
    last_alert: Option<Timestamp>,
}

impl BurstWatch {
    pub fn new(threshold: u32) -> Self {
        BurstWatch {
            threshold,
            events: Mutex::default(),
            alerts: AtomicU64::new(0),
            latest: watch::channel(None).0,
        }
    }

    /// Records a chat booking (`refused`: one a daily cap refused). Returns
    /// the burst when this event makes one.
    pub fn record(&self, refused: bool, now: Timestamp) -> Option<BookingBurst> {
        if self.threshold == 0 {
            return None;
        }
        let window = SignedDuration::from_mins(i64::from(WINDOW_MINUTES));
        let burst = {
            let mut e = self.events.lock().unwrap_or_else(|p| p.into_inner());
            while e.seen.front().is_some_and(|(at, _)| *at <= now - window) {
                e.seen.pop_front();
            }
            if e.seen.len() >= MAX_EVENTS {
                e.seen.pop_front();
            }
            e.seen.push_back((now, refused));
            let quiet = e.last_alert.is_none_or(|at| now - window >= at);
            if e.seen.len() < self.threshold as usize || !quiet {
                return None;
            }
            e.last_alert = Some(now);
            let refused = e.seen.iter().filter(|(_, r)| *r).count() as u32;
            BookingBurst {
                bookings: e.seen.len() as u32 - refused,
                refused,
                minutes: WINDOW_MINUTES,
                at: now.round(jiff::Unit::Second).unwrap_or(now).to_string(),
            }
        };
        tracing::warn!(
            bookings = burst.bookings,
            refused = burst.refused,
            "unusual chat booking activity: supervisors alerted"
        );
        self.alerts.fetch_add(1, Ordering::Relaxed);
        self.latest.send_replace(Some((now, burst.clone())));
        Some(burst)
    }

    /// Bursts as they happen.
    pub fn subscribe(&self) -> watch::Receiver<Option<(Timestamp, BookingBurst)>> {
        self.latest.subscribe()
    }

    /// The latest burst, if it was within the last hour.
    pub fn recent(&self, now: Timestamp) -> Option<BookingBurst> {
        self.latest
            .borrow()
            .as_ref()
            .filter(|(at, _)| now - SHOWN_FOR < *at)
            .map(|(_, burst)| burst.clone())
    }

    /// Bursts raised since start (for /metrics).
    pub fn count(&self) -> u64 {
        self.alerts.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + minute * 60).unwrap()
    }

    #[test]
    fn a_burst_alerts_once_a_window_and_counts_refusals() {
        let watch = BurstWatch::new(3);
        assert_eq!(watch.record(false, at(0)), None);
        assert_eq!(watch.record(true, at(1)), None);
        let burst = watch
            .record(false, at(2))
            .expect("the third event in 10 minutes");
        assert_eq!((burst.bookings, burst.refused, burst.minutes), (2, 1, 10));
        assert_eq!(watch.record(false, at(3)), None, "once a window");
        assert_eq!(watch.recent(at(30)), Some(burst));
        // Still busy: a new alert once a window has passed since the last.
        assert_eq!(watch.record(false, at(11)), None);
        assert!(watch.record(false, at(12)).is_some());
        assert_eq!(watch.count(), 2);
        assert_eq!(watch.recent(at(80)), None, "an hour later it is old news");
    }

    #[test]
    fn spread_out_bookings_are_no_burst_and_zero_turns_it_off() {
        let watch = BurstWatch::new(3);
        for minute in [0, 6, 12, 18, 24] {
            assert_eq!(watch.record(false, at(minute)), None);
        }
        let off = BurstWatch::new(0);
        for minute in 0..50 {
            assert_eq!(
                off.record(true, at(0) + SignedDuration::from_secs(minute)),
                None
            );
        }
    }
}
