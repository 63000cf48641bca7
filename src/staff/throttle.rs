//! Slows down password guessing: too many failed sign-ins for one name, or
//! from one address, within a window lock further attempts until the oldest
//! failure ages out.
//!
//! A sign-in takes its place before its password is checked ([`begin`]), in
//! one step under the lock, so a burst of parallel guesses gets no more real
//! checks than the limit; a success gives the place back.
//!
//! [`begin`]: LoginThrottle::begin
//!
//! [`SharedThrottle`] holds the same limits across restarts and across
//! every server on the database: this process's throttle turns a flood
//! away without touching the database, and the database's count, taken
//! under a lock no other server can interleave with, decides.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::store::{Store, StoreResult};

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

/// A sign-in attempt counted as a failure until [`LoginThrottle::succeeded`].
#[derive(Debug)]
pub struct Attempt {
    name: String,
    address: Option<IpAddr>,
    at: Instant,
}

impl LoginThrottle {
    /// Counts an attempt before its password is checked, or refuses it with
    /// the wait when the name or the address is locked: check and record in
    /// one step, so parallel attempts cannot all pass the check.
    pub fn begin(
        &self,
        name: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt, Duration> {
        let mut map = self.lock();
        if let Some(wait) = locked(&mut map, name, address, now) {
            return Err(wait);
        }
        record(&mut map, name, address, now);
        Ok(Attempt {
            name: name.to_owned(),
            address,
            at: now,
        })
    }

    /// The attempt's password was right: the name's failures are forgiven
    /// and the attempt no longer counts against the address.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut map = self.lock();
        map.remove(&Key::Name(attempt.name.to_lowercase()));
        if let Some(a) = attempt.address
            && let Some(times) = map.get_mut(&Key::Address(a))
            && let Some(i) = times.iter().rposition(|t| *t == attempt.at)
        {
            times.remove(i);
        }
    }

    /// `Some(wait)` when this attempt must be refused without checking.
    pub fn check(&self, name: &str, address: Option<IpAddr>, now: Instant) -> Option<Duration> {
        locked(&mut self.lock(), name, address, now)
    }

    pub fn record_failure(&self, name: &str, address: Option<IpAddr>, now: Instant) {
        record(&mut self.lock(), name, address, now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Failures> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The limits held in the database, behind this process's throttle.
pub struct SharedThrottle {
    local: LoginThrottle,
    store: Store,
    /// Keeps one use's keys apart from another's (`signin`, `lookup`).
    scope: &'static str,
}

/// An attempt counted here and in the database until it succeeds.
#[derive(Debug)]
pub struct SharedAttempt {
    local: Attempt,
    name_key: String,
    /// The database rows of this attempt's other keys (its address).
    others: Vec<i64>,
}

impl SharedThrottle {
    pub fn new(store: Store, scope: &'static str) -> Self {
        SharedThrottle {
            local: LoginThrottle::default(),
            store,
            scope,
        }
    }

    /// As [`LoginThrottle::begin`], across servers: `Ok(Err(wait))` when
    /// the name or the address is locked.
    pub async fn begin(
        &self,
        name: &str,
        address: Option<IpAddr>,
    ) -> StoreResult<Result<SharedAttempt, Duration>> {
        let local = match self.local.begin(name, address, Instant::now()) {
            Ok(attempt) => attempt,
            Err(wait) => return Ok(Err(wait)),
        };
        let keys: Vec<(String, i64)> = keys(name, address)
            .into_iter()
            .map(|(key, max)| (self.key(&key), max as i64))
            .collect();
        let window = jiff::SignedDuration::try_from(WINDOW).unwrap_or_default();
        let now = jiff::Timestamp::now();
        let window_start = format!("{:.3}", now - window);
        match self.store.throttle_take(&keys, &window_start).await? {
            Ok(mut ids) => {
                let others = ids.split_off(1);
                Ok(Ok(SharedAttempt {
                    local,
                    name_key: keys[0].0.clone(),
                    others,
                }))
            }
            Err(oldest) => {
                let wait = oldest
                    .parse::<jiff::Timestamp>()
                    .ok()
                    .and_then(|t| Duration::try_from((t + window).duration_since(now)).ok())
                    .unwrap_or(WINDOW)
                    .max(Duration::from_secs(1));
                Ok(Err(wait))
            }
        }
    }

    /// The attempt was right: as [`LoginThrottle::succeeded`], everywhere.
    pub async fn succeeded(&self, attempt: SharedAttempt) -> StoreResult<()> {
        self.local.succeeded(attempt.local);
        self.store
            .throttle_forgive(&attempt.name_key, &attempt.others)
            .await
    }

    /// The database's key: a digest, so the table holds no staff name,
    /// appointment code or address, only counts of failures.
    fn key(&self, key: &Key) -> String {
        let plain = match key {
            Key::Name(name) => format!("{}:name:{name}", self.scope),
            Key::Address(address) => format!("{}:address:{address}", self.scope),
        };
        crate::ids::hex(&Sha256::digest(plain.as_bytes()))
    }
}

type Failures = HashMap<Key, VecDeque<Instant>>;

/// How long until the name or the address may try again, if locked.
fn locked(
    map: &mut Failures,
    name: &str,
    address: Option<IpAddr>,
    now: Instant,
) -> Option<Duration> {
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

fn record(map: &mut Failures, name: &str, address: Option<IpAddr>, now: Instant) {
    if map.len() >= MAX_KEYS {
        map.retain(|_, times| {
            prune(times, now);
            !times.is_empty()
        });
        // Still full: forget the keys whose last failure is oldest, never
        // every lockout at once.
        while map.len() >= MAX_KEYS {
            let oldest = map
                .iter()
                .min_by_key(|(_, times)| times.back().copied())
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => map.remove(&k),
                None => break,
            };
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
    fn a_burst_gets_no_more_attempts_than_the_limit() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        let passed = (0..200)
            .filter(|_| t.begin("maria", None, now).is_ok())
            .count();
        assert_eq!(passed, MAX_PER_NAME);
    }

    #[test]
    fn a_full_table_forgets_the_oldest_not_every_lockout() {
        let t = LoginThrottle::default();
        let start = Instant::now();
        for _ in 0..MAX_PER_NAME {
            t.record_failure("target", None, start + Duration::from_secs(1));
        }
        for i in 0..MAX_KEYS + 10 {
            t.record_failure(&format!("n{i}"), None, start);
        }
        assert!(
            t.check("target", None, start + Duration::from_secs(2))
                .is_some()
        );
    }

    #[test]
    fn a_success_does_not_count_against_the_address() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        let here = Some(IpAddr::from([10, 0, 0, 1]));
        for i in 0..MAX_PER_ADDRESS * 2 {
            let attempt = t.begin(&format!("user{i}"), here, now).expect("not locked");
            t.succeeded(attempt);
        }
        assert!(t.check("someone", here, now).is_none());
    }

    #[test]
    fn success_clears_the_names_failures() {
        let t = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..4 {
            t.record_failure("maria", None, now);
        }
        let attempt = t.begin("maria", None, now).expect("not locked yet");
        t.succeeded(attempt);
        t.record_failure("maria", None, now);
        assert!(t.check("maria", None, now).is_none());
    }

    /// Two servers on one database share the limits: failures counted on
    /// one lock the name on the other (in any case); other names, and the
    /// same name in another scope, are not locked.
    #[tokio::test]
    async fn the_limits_hold_across_servers_on_one_database() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let one = SharedThrottle::new(store.clone(), "signin");
        let two = SharedThrottle::new(store, "signin");
        for _ in 0..MAX_PER_NAME {
            one.begin("Maria", None)
                .await
                .unwrap()
                .expect("not locked yet");
        }
        let wait = two.begin("maria", None).await.unwrap().expect_err("locked");
        assert!(
            wait > WINDOW - Duration::from_secs(5) && wait <= WINDOW,
            "{wait:?}"
        );
        let lee = two.begin("lee", None).await.unwrap().expect("another name");
        two.succeeded(lee).await.unwrap();
        // A lookup scope does not share a sign-in's keys.
        let other = SharedThrottle::new(one.store.clone(), "lookup");
        assert!(other.begin("maria", None).await.unwrap().is_ok());
    }
}
