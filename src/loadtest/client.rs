//! One simulated patient: connects, starts a conversation, then says things
//! at a steady rate (or holds the socket open) until the run's deadline. In
//! a durable run it also comes back after the server dies, like the widget.

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
/// How often a dropped connection tries again (`--kill-restarts`).
const RECONNECT_EVERY: Duration = Duration::from_millis(100);

/// What every connection of a run shares.
pub struct Plan {
    /// Connection `i` goes to `urls[i % urls.len()]`.
    pub urls: Vec<String>,
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
    /// After a drop, reconnect, resume and resend what was not acked, and
    /// keep every ack for the check against the database (`--kill-restarts`).
    pub durable: bool,
}

impl Plan {
    fn in_reload_window(&self, t: Instant) -> bool {
        self.reload_window.as_ref().is_some_and(|w| w.contains(t))
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects and starts (or, with a token, resumes) a conversation; returns
/// the socket and the `started` frame, or why not.
async fn open(
    plan: &Plan,
    url: &str,
    resume: Option<&str>,
) -> Result<(Socket, Value), &'static str> {
    // A resumed conversation's `started` frame carries its whole history,
    // which a durable run's long chats grow well past 64 KiB.
    let largest = if plan.durable { 16 << 20 } else { 64 << 10 };
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(Some(largest));
    let connect = async {
        let _permit = plan.handshakes.acquire().await;
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
            .await
            .map_err(|_| "connect")?;
        let start = match resume {
            Some(token) => json!({"type": "start", "resume": token}),
            None => json!({"type": "start"}),
        };
        ws.send(Message::text(start.to_string()))
            .await
            .map_err(|_| "send")?;
        loop {
            let frame = ws.next().await.ok_or("closed")?.map_err(|_| "read")?;
            match json_of(&frame) {
                Some(v) if v["type"] == "started" => return Ok((ws, v)),
                Some(v) if v["type"] == "error" => return Err("refused"),
                _ if matches!(frame, Message::Close(_)) => return Err("closed"),
                _ => {}
            }
        }
    };
    timeout(CONNECT_TIMEOUT, connect)
        .await
        .unwrap_or(Err("timeout"))
}

/// After a drop (`--kill-restarts`): reconnects until `until`, resuming the
/// same conversation, and resends every unacked message with its id, as
/// the widget's outbox does.
async fn reconnect(
    plan: &Plan,
    url: &str,
    resume: &str,
    conversation: &str,
    unacked: &HashMap<String, Unacked>,
    stats: &mut ClientStats,
    until: Instant,
) -> Option<Socket> {
    while Instant::now() < until {
        stats.reconnect_attempts += 1;
        let opened = open(plan, url, Some(resume)).await;
        if let Err(why) = opened {
            // The server may still be starting: only the last reason stays.
            stats.last_reconnect_failure = Some(why);
        }
        if let Ok((mut ws, started)) = opened {
            if started["conversation"] != conversation {
                stats.error("resumed_another_conversation");
                return None;
            }
            stats.reconnects += 1;
            let mut resend: Vec<(&String, &Unacked)> = unacked.iter().collect();
            resend.sort_by_key(|(_, u)| u.number);
            for (id, u) in resend {
                let frame = json!({"type": "say", "id": id, "text": u.text});
                stats.resent += 1;
                if ws.send(Message::text(frame.to_string())).await.is_err() {
                    break;
                }
            }
            return Some(ws);
        }
        tokio::time::sleep(RECONNECT_EVERY).await;
    }
    None
}

/// A message sent and not yet acknowledged.
struct Unacked {
    sent_at: Instant,
    /// Its order, so a resend keeps it.
    number: u64,
    /// Kept only when the message may have to be resent.
    text: String,
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
    let url = plan.urls[index % plan.urls.len()].as_str();
    let Ok((mut ws, started)) = open(&plan, url, None).await else {
        stats.connect_failed = true;
        return stats;
    };
    stats.connected = true;
    let resume = started["resume"].as_str().unwrap_or_default().to_owned();
    let conversation = started["conversation"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if plan.durable {
        stats.conversation = Some(conversation.clone());
    }

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
    // Sent, not yet acked, by id.
    let mut unacked: HashMap<String, Unacked> = HashMap::new();
    // Acked, waiting for the first reply after the ack: (ack seq, send time).
    let mut awaiting: VecDeque<(i64, Instant)> = VecDeque::new();
    let mut stop_at = deadline;
    let mut draining = false;

    loop {
        // `Some` when the socket was lost.
        let lost = tokio::select! {
            _ = ticker.tick(), if sending && started => {
                next_id += 1;
                let id = format!("lt-{index}-{next_id}");
                let text = reword(&plan.questions[rng.below(plan.questions.len())], &mut rng);
                let frame = json!({"type": "say", "id": id, "text": text});
                let text = if plan.durable { text } else { String::new() };
                unacked.insert(id, Unacked { sent_at: Instant::now(), number: next_id, text });
                stats.sent += 1;
                ws.send(Message::text(frame.to_string())).await.is_err()
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
            frame = ws.next() => match frame {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => true,
                Some(Ok(frame)) => {
                    if let Some(v) = json_of(&frame) {
                        let now = Instant::now();
                        match v["type"].as_str().unwrap_or("") {
                            "ack" => {
                                let id = v["id"].as_str().unwrap_or_default();
                                let sent = unacked.remove(id);
                                if let (Some(sent), Some(seq)) = (sent, v["seq"].as_i64()) {
                                    stats.acks += 1;
                                    if plan.durable {
                                        stats.acked.push((id.to_owned(), seq));
                                    }
                                    if stats.ack_us.len() < plan.max_samples {
                                        stats.ack_us.push(micros(now - sent.sent_at));
                                    }
                                    awaiting.push_back((seq, sent.sent_at));
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
                                // A refused message stays in the outbox when it
                                // may be resent; the check allows it stored once.
                                if let Some(id) = v["id"].as_str().filter(|_| !plan.durable) {
                                    unacked.remove(id);
                                }
                            }
                            // A durable run keeps its one conversation, so every
                            // ack can be looked up in it at the end.
                            "queued" if started && !plan.durable => {
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
                            "queued" => stats.handoffs += 1,
                            "started" => started = true,
                            _ => {}
                        }
                    }
                    if draining && unacked.is_empty() && awaiting.is_empty() {
                        stats.open_at_end = true;
                        break;
                    }
                    false
                }
            },
        };
        if lost {
            // Replies to messages sent before the drop are not waited for.
            stats.unanswered += awaiting.len() as u64;
            awaiting.clear();
            let until = deadline + DRAIN;
            let back = if plan.durable {
                reconnect(
                    &plan,
                    url,
                    &resume,
                    &conversation,
                    &unacked,
                    &mut stats,
                    until,
                )
                .await
            } else {
                None
            };
            match back {
                Some(socket) => ws = socket,
                None => {
                    stats.drop_connection(plan.in_reload_window(Instant::now()));
                    break;
                }
            }
        }
    }
    stats.unacked += unacked.len() as u64;
    stats.unanswered += awaiting.len() as u64;
    if plan.durable {
        stats.never_acked = unacked.into_keys().collect();
    }
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
