//! A token bucket per connection: a patient may send a burst of messages, but
//! not more than the configured number a minute on average.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    pub fn per_minute(limit: u32, now: Instant) -> Self {
        let capacity = f64::from(limit.max(1));
        RateLimiter {
            capacity,
            per_second: capacity / 60.0,
            tokens: capacity,
            last: now,
        }
    }

    /// Takes one token if there is one.
    pub fn allow(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last);
        self.last = now;
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.per_second).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// How long until the next message would be allowed.
    pub fn retry_after(&self) -> Duration {
        let missing = (1.0 - self.tokens).max(0.0);
        Duration::from_secs_f64(missing / self.per_second)
    }
}

impl RateLimiter {
    /// What a patient is told when a message comes too soon.
    pub fn refusal(&self) -> super::protocol::FrameError {
        let wait = self.retry_after().as_secs().max(1);
        super::protocol::FrameError::new(
            super::protocol::ErrorCode::RateLimited,
            format!(
                "You're sending messages too quickly. Please wait {wait} seconds and try again."
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_then_refills_over_time() {
        let t0 = Instant::now();
        let mut r = RateLimiter::per_minute(3, t0);
        assert!(r.allow(t0) && r.allow(t0) && r.allow(t0));
        assert!(!r.allow(t0));
        assert!(r.retry_after() > Duration::from_secs(19));
        assert!(!r.allow(t0 + Duration::from_secs(19)));
        assert!(r.allow(t0 + Duration::from_secs(21)));
    }
}
