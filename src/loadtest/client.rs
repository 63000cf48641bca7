//! One simulated patient: connects, starts a conversation, then says things
//! at a steady rate (or holds the socket open) until the run's deadline.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::time::{Instant, MissedTickBehavior, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::reload::Window;
use super::stats::ClientStats;

/// How long a connection may take to open and be `started`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// After the deadline, how long to wait for outstanding acks and replies.
const DRAIN: Duration = Duration::from_secs(2);

/// What every connection of a run shares.
pub struct Plan {
    pub url: String,
    /// Messages per second; `None` holds the socket open without saying anything.
    pub rate: Option<f64>,
    pub questions: Arc<Vec<String>>,
    /// Bounds simultaneous handshakes, so thousands of connections open
    /// without overflowing the server's accept backlog.
    pub handshakes: Arc<tokio::sync::Semaphore>,
    /// Most latency samples this connection keeps (per kind).
    pub max_samples: usize,
    /// When a knowledge reload is under way (`--reload`, Frontdesk runs only).
    pub reload_window: Option<Arc<Window>>,
}

impl Plan {
    fn in_reload_window(&self, t: Instant) -> bool {
        self.reload_window.as_ref().is_some_and(|w| w.contains(t))
    }
}

/// Runs one connection from `start_at` until `deadline`.
pub async fn run(
    plan: Arc<Plan>,
    index: usize,
    start_at: Instant,
    deadline: Instant,
) -> ClientStats {
    let mut stats = ClientStats::default();
    sleep_until(start_at).await;
    if Instant::now() >= deadline {
        return stats;
    }
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(Some(64 * 1024));
    let connect = async {
        let _permit = plan.handshakes.acquire().await;
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(plan.url.as_str(), Some(config), true)
                .await
                .ok()?;
        ws.send(Message::text(r#"{"type":"start"}"#)).await.ok()?;
        loop {
            let frame = ws.next().await?.ok()?;
            if let Some(v) = json_of(&frame)
                && v["type"] == "started"
            {
                return Some(ws);
            }
        }
    };
    let Ok(Some(mut ws)) = timeout(CONNECT_TIMEOUT, connect).await else {
        stats.connect_failed = true;
        return stats;
    };
    stats.connected = true;

    let mut rng = Rng::new(index as u64);
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(
        1.0 / plan.rate.unwrap_or(1.0).max(1e-3),
    ));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Spread connections over the first period rather than all at once.
    ticker.reset_after(Duration::from_secs_f64(
        rng.unit() / plan.rate.unwrap_or(1.0).max(1e-3),
    ));
    let mut sending = plan.rate.is_some();
    let mut started = true;
    let mut next_id = 0u64;
    // Sent, not yet acked: id → send time.
    let mut unacked: HashMap<String, Instant> = HashMap::new();
    // Acked, waiting for the first reply after the ack: (ack seq, send time).
    let mut awaiting: VecDeque<(i64, Instant)> = VecDeque::new();
    let mut stop_at = deadline;
    let mut draining = false;

    loop {
        tokio::select! {
            _ = ticker.tick(), if sending && started => {
                next_id += 1;
                let id = format!("lt-{index}-{next_id}");
                let text = &plan.questions[rng.below(plan.questions.len())];
                let frame = json!({"type": "say", "id": id, "text": reword(text, &mut rng)});
                unacked.insert(id, Instant::now());
                stats.sent += 1;
                if ws.send(Message::text(frame.to_string())).await.is_err() {
                    stats.drop_connection(plan.in_reload_window(Instant::now()));
                    break;
                }
            }
            _ = sleep_until(stop_at) => {
                if sending && (!unacked.is_empty() || !awaiting.is_empty()) {
                    // Stop saying things; give the answers in flight a moment.
                    sending = false;
                    draining = true;
                    stop_at = deadline + DRAIN;
                    continue;
                }
                stats.open_at_end = true;
                break;
            }
            frame = ws.next() => {
                let Some(Ok(frame)) = frame else {
                    stats.drop_connection(plan.in_reload_window(Instant::now()));
                    break;
                };
                if matches!(frame, Message::Close(_)) {
                    stats.drop_connection(plan.in_reload_window(Instant::now()));
                    break;
                }
                let Some(v) = json_of(&frame) else { continue };
                let now = Instant::now();
                match v["type"].as_str().unwrap_or("") {
                    "ack" => {
                        let sent_at = v["id"].as_str().and_then(|id| unacked.remove(id));
                        if let (Some(sent_at), Some(seq)) = (sent_at, v["seq"].as_i64()) {
                            stats.acks += 1;
                            if stats.ack_us.len() < plan.max_samples {
                                stats.ack_us.push(micros(now - sent_at));
                            }
                            awaiting.push_back((seq, sent_at));
                        }
                    }
                    "reply" => {
                        stats.replies += 1;
                        let seq = v["seq"].as_i64().unwrap_or(i64::MAX);
                        if awaiting.front().is_some_and(|(ack_seq, _)| *ack_seq < seq) {
                            let (_, sent_at) = awaiting.pop_front().unwrap();
                            stats.answered += 1;
                            if stats.reply_us.len() < plan.max_samples {
                                stats.reply_us.push(micros(now - sent_at));
                            }
                            if plan.in_reload_window(sent_at)
                                && stats.reload_reply_us.len() < plan.max_samples
                            {
                                stats.reload_reply_us.push(micros(now - sent_at));
                            }
                        }
                    }
                    "error" => {
                        stats.error(v["code"].as_str().unwrap_or("unknown"));
                        if let Some(id) = v["id"].as_str() {
                            unacked.remove(id);
                        }
                    }
                    "queued" if started => {
                        // The bot handed over to a person, so it will not answer
                        // again: end this conversation and start a new one.
                        stats.handoffs += 1;
                        stats.unanswered += awaiting.len() as u64;
                        awaiting.clear();
                        started = false;
                        let end = ws.send(Message::text(r#"{"type":"end"}"#)).await;
                        let start = ws.send(Message::text(r#"{"type":"start"}"#)).await;
                        if end.is_err() || start.is_err() {
                            stats.drop_connection(plan.in_reload_window(Instant::now()));
                            break;
                        }
                    }
                    "started" => started = true,
                    _ => {}
                }
                if draining && unacked.is_empty() && awaiting.is_empty() {
                    stats.open_at_end = true;
                    break;
                }
            }
        }
    }
    stats.unacked += unacked.len() as u64;
    stats.unanswered += awaiting.len() as u64;
    if !stats.dropped {
        let _ = timeout(Duration::from_secs(1), ws.close(None)).await;
    }
    stats
}

fn json_of(frame: &Message) -> Option<Value> {
    match frame {
        Message::Text(text) => serde_json::from_str(text.as_str()).ok(),
        _ => None,
    }
}

fn micros(d: Duration) -> u64 {
    d.as_micros().min(u128::from(u64::MAX)) as u64
}

/// Lightly rewords a question the way patients type: sometimes lowercased,
/// sometimes a word dropped or two neighbouring words swapped.
pub fn reword(text: &str, rng: &mut Rng) -> String {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    match rng.below(4) {
        1 if words.len() > 3 => {
            words.remove(rng.below(words.len()));
        }
        2 if words.len() > 2 => {
            let i = rng.below(words.len() - 1);
            words.swap(i, i + 1);
        }
        _ => {}
    }
    let out = words.join(" ");
    if rng.below(2) == 0 {
        out.to_lowercase()
    } else {
        out
    }
}

/// A small deterministic generator (xorshift64*): the same run picks the
/// same questions.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewording_keeps_most_words() {
        let mut rng = Rng::new(7);
        for _ in 0..100 {
            let out = reword("Do you take Medicaid insurance plans", &mut rng);
            let n = out.split_whitespace().count();
            assert!(n == 5 || n == 6, "{out}");
        }
    }
}
