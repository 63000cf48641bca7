//! Counting and latency percentiles. Samples are kept in plain vectors,
//! bounded by [`MAX_SAMPLES`] over the whole run.

use std::collections::BTreeMap;

use serde::Serialize;

/// Most latency samples kept per kind over all connections together.
pub const MAX_SAMPLES: usize = 2_000_000;

/// What one connection saw.
#[derive(Debug, Default, Clone)]
pub struct ClientStats {
    pub sent: u64,
    pub acks: u64,
    pub replies: u64,
    /// Messages that got a first reply after their ack (the bot may send
    /// more than one reply frame per message).
    pub answered: u64,
    /// Send → ack, microseconds.
    pub ack_us: Vec<u64>,
    /// Send → first reply after the ack, microseconds.
    pub reply_us: Vec<u64>,
    pub errors: BTreeMap<String, u64>,
    /// Connected and started.
    pub connected: bool,
    /// Could not connect or was not answered with `started`.
    pub connect_failed: bool,
    /// Closed or failed before the end of the run.
    pub dropped: bool,
    /// Still open when the run ended.
    pub open_at_end: bool,
    /// Messages acked but never replied to by the end (e.g. after a handoff).
    pub unanswered: u64,
    /// Messages sent but never acked by the end.
    pub unacked: u64,
    /// Times the bot handed the chat to the agent queue (the harness then
    /// ends that conversation and starts a new one).
    pub handoffs: u64,
    /// Send → first reply, microseconds, of messages sent while a knowledge
    /// reload was under way (`--reload`); also counted in `reply_us`.
    pub reload_reply_us: Vec<u64>,
    /// Closed or failed while a knowledge reload was under way.
    pub dropped_during_reload: bool,
    /// Durable runs: the one conversation, every (id, seq) acknowledged in
    /// it, and the ids sent but never acknowledged.
    pub conversation: Option<String>,
    pub acked: Vec<(String, i64)>,
    pub never_acked: Vec<String>,
    /// Durable runs: tries to come back, times it came back, messages resent.
    pub reconnect_attempts: u64,
    /// Why the last failed try to reconnect failed.
    pub last_reconnect_failure: Option<&'static str>,
    pub reconnects: u64,
    pub resent: u64,
}

impl ClientStats {
    pub fn error(&mut self, code: &str) {
        *self.errors.entry(code.to_owned()).or_default() += 1;
    }

    /// The connection closed or failed; `during_reload` when that was while
    /// a knowledge reload was under way.
    pub fn drop_connection(&mut self, during_reload: bool) {
        self.dropped = true;
        self.dropped_during_reload |= during_reload;
    }
}

/// Percentiles in milliseconds.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Latency {
    pub samples: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    pub fn of(mut us: Vec<u64>) -> Latency {
        if us.is_empty() {
            return Latency::default();
        }
        us.sort_unstable();
        let at = |q: f64| {
            let rank = ((q * us.len() as f64).ceil() as usize).clamp(1, us.len());
            us[rank - 1] as f64 / 1000.0
        };
        Latency {
            samples: us.len(),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: *us.last().unwrap() as f64 / 1000.0,
        }
    }
}

/// All connections together.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub connections: usize,
    pub connected: usize,
    pub connect_failures: usize,
    pub dropped: usize,
    pub open_at_end: usize,
    pub sent: u64,
    pub acks: u64,
    pub replies: u64,
    pub answered: u64,
    pub unacked: u64,
    pub unanswered: u64,
    pub handoffs: u64,
    pub elapsed_secs: f64,
    pub replies_per_sec: f64,
    /// Messages answered per second: comparable with the bare stack, which
    /// sends exactly one reply per message.
    pub answered_per_sec: f64,
    pub ack_latency_ms: Latency,
    pub reply_latency_ms: Latency,
    pub errors: BTreeMap<String, u64>,
}

impl Totals {
    pub fn merge(clients: Vec<ClientStats>, elapsed_secs: f64) -> Totals {
        let connections = clients.len();
        let mut t = Totals {
            connections,
            connected: 0,
            connect_failures: 0,
            dropped: 0,
            open_at_end: 0,
            sent: 0,
            acks: 0,
            replies: 0,
            answered: 0,
            unacked: 0,
            unanswered: 0,
            handoffs: 0,
            elapsed_secs,
            replies_per_sec: 0.0,
            answered_per_sec: 0.0,
            ack_latency_ms: Latency::default(),
            reply_latency_ms: Latency::default(),
            errors: BTreeMap::new(),
        };
        let (mut ack, mut reply) = (Vec::new(), Vec::new());
        for c in clients {
            t.connected += usize::from(c.connected);
            t.connect_failures += usize::from(c.connect_failed);
            t.dropped += usize::from(c.dropped);
            t.open_at_end += usize::from(c.open_at_end);
            t.sent += c.sent;
            t.acks += c.acks;
            t.replies += c.replies;
            t.answered += c.answered;
            t.unacked += c.unacked;
            t.unanswered += c.unanswered;
            t.handoffs += c.handoffs;
            for (code, n) in c.errors {
                *t.errors.entry(code).or_default() += n;
            }
            ack.extend(c.ack_us.into_iter().take(MAX_SAMPLES - ack.len()));
            reply.extend(c.reply_us.into_iter().take(MAX_SAMPLES - reply.len()));
        }
        if elapsed_secs > 0.0 {
            t.replies_per_sec = t.replies as f64 / elapsed_secs;
            t.answered_per_sec = t.answered as f64 / elapsed_secs;
        }
        t.ack_latency_ms = Latency::of(ack);
        t.reply_latency_ms = Latency::of(reply);
        t
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let l = Latency::of((1..=100).map(|ms| ms * 1000).collect());
        assert_eq!((l.p50, l.p90, l.p99, l.max), (50.0, 90.0, 99.0, 100.0));
        assert_eq!(Latency::of(vec![]).samples, 0);
    }
}
