//! Slows down password guessing: too many failed sign-ins for one name, or
//! from one address, within a window lock further attempts until the oldest
//! failure ages out.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(15 * 60);
const MAX_PER_NAME: usize = 5;
const MAX_PER_ADDRESS: usize = 20;
/// Keys remembered at most; the oldest are forgotten first.
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Name(String),
    Address(IpAddr),
}

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

impl LoginThrottle {
    /// `Some(wait)` when this attempt must be refused without checking.
    pub fn check(&self, name: &str, address: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let mut map = self.lock();
        let mut wait = None;
        for (key, max) in keys(name, address) {
            if let Some(times) = map.get_mut(&key) {
                prune(times, now);
                if times.len() >= max {
                    let until = times[times.len() - max] + WINDOW;
                    let w = until
                        .saturating_duration_since(now)
                        .max(Duration::from_secs(1));
                    wait = Some(wait.map_or(w, |old: Duration| old.max(w)));
                }
            }
        }
        wait
    }

    pub fn record_failure(&self, name: &str, address: Option<IpAddr>, now: Instant) {
        let mut map = self.lock();
        if map.len() >= MAX_KEYS {
            map.retain(|_, times| {
                prune(times, now);
                !times.is_empty()
            });
            if map.len() >= MAX_KEYS {
                map.clear();
            }
        }
        for (key, max) in keys(name, address) {
            let times = map.entry(key).or_default();
            times.push_back(now);
            while times.len() > max {
                times.pop_front();
            }
        }
    }

    pub fn record_success(&self, name: &str) {
        self.lock().remove(&Key::Name(name.to_lowercase()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, VecDeque<Instant>>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn keys(name: &str, address: Option<IpAddr>) -> Vec<(Key, usize)> {
    let mut keys = vec![(Key::Name(name.to_lowercase()), MAX_PER_NAME)];
    if let Some(a) = address {
        keys.push((Key::Address(a), MAX_PER_ADDRESS));
    }
    keys
}

fn prune(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_the_name_until_the_window_passes() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..5 {
            assert!(t.check("Maria", None, now).is_none());
            t.record_failure("Maria", None, now);
        }
        assert!(t.check("maria", None, now).is_some());
        assert!(t.check("lee", None, now).is_none());
        assert!(t.check("maria", None, now + WINDOW).is_none());
    }

    #[test]
    fn success_clears_the_names_failures() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..4 {
            t.record_failure("maria", None, now);
        }
        t.record_success("maria");
        t.record_failure("maria", None, now);
        assert!(t.check("maria", None, now).is_none());
    }
}
