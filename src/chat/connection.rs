//! One patient socket: the loop that reads frames, relays queue events,
//! pings, and closes on idle, oversize or shutdown.

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::StreamExt;
use tracing::Instrument;

use super::ChatState;
use super::outlet::Outlet;
use super::protocol::{self, ClientFrame, ErrorCode, FrameError, ServerFrame};
use super::rate::RateLimiter;
use super::session::Active;
use crate::queue::PatientEvent;

/// Close codes (RFC 6455 and the IANA registry).
const CLOSE_IDLE: u16 = 1000;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_RESTARTING: u16 = 1012;

/// How long to wait for the client's half of the close handshake. Closing
/// the socket before the client has read our close frame would reset the
/// connection and lose the frame, and with it the close code.
const CLOSE_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a connection ends from our side.
pub(super) enum Exit {
    Close(u16, &'static str),
    /// The peer is gone or the socket failed: nothing more to send.
    Gone,
}

/// One patient's side of a conversation, over a socket or by text.
pub(super) struct Session {
    pub state: ChatState,
    pub outlet: Outlet,
    pub active: Option<Active>,
    pub rate: RateLimiter,
    /// The conversation this socket just ended, which may still be rated.
    pub ended: Option<crate::ids::ConversationId>,
    /// When a `typing` frame was last passed on to the agent.
    pub typing_sent: Option<Instant>,
    /// The patient's address, as limits count it (never logged); none for
    /// a chat by text.
    pub client: Option<std::net::IpAddr>,
}

/// `typing` frames are passed on at most this often; the rest are dropped.
pub(super) const TYPING_EVERY: Duration = Duration::from_secs(2);

pub async fn run(socket: WebSocket, state: ChatState, client: std::net::IpAddr) {
    let span = tracing::info_span!("chat", conversation = tracing::field::Empty);
    serve(socket, state, client).instrument(span).await
}

async fn serve(socket: WebSocket, state: ChatState, client: std::net::IpAddr) {
    // Held until this task ends, so shutdown can wait for every connection.
    let _drain = state.drain.clone();
    let mut shutdown = state.shutdown.clone();
    let limits = state.settings.limits.clone();
    let (sink, mut stream) = socket.split();
    let mut session = Session {
        rate: RateLimiter::per_minute(limits.messages_per_minute, Instant::now()),
        state,
        outlet: Outlet::Socket(sink),
        active: None,
        ended: None,
        typing_sent: None,
        client: Some(client),
    };
    let mut ping = tokio::time::interval(limits.ping_interval());
    ping.tick().await;
    let mut last_heard = tokio::time::Instant::now();
    tracing::debug!("chat connection opened");

    let exit = loop {
        let idle_deadline = last_heard + limits.idle_timeout();
        tokio::select! {
            frame = stream.next() => {
                last_heard = tokio::time::Instant::now();
                // Boxed: handling a frame awaits deep into the engine and the
                // store, and that state would otherwise be carried inline by
                // every idle connection's future.
                if let Err(exit) = Box::pin(next_step(&mut session, frame)).await {
                    break exit;
                }
            }
            event = next_event(&mut session.active) => {
                let result = match event {
                    Some(event) => Box::pin(session.relay(event)).await,
                    // The hub cut this socket off (it fell behind): the
                    // client reconnects and resumes from the store.
                    None => Err(Exit::Close(CLOSE_RESTARTING, "resync")),
                };
                if let Err(exit) = result {
                    break exit;
                }
            }
            _ = ping.tick() => {
                if session.send_raw(Message::Ping(Default::default())).await.is_err() {
                    break Exit::Gone;
                }
            }
            _ = tokio::time::sleep_until(idle_deadline) => break Exit::Close(CLOSE_IDLE, "idle timeout"),
            _ = wait_for_shutdown(&mut shutdown) => break Exit::Close(CLOSE_RESTARTING, "server restarting"),
        }
    };
    if let Exit::Close(code, reason) = exit {
        tracing::debug!(code, "closing chat connection");
        let close = Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }));
        if session.send_raw(close).await.is_ok() {
            let drained = async {
                while let Some(Ok(m)) = stream.next().await {
                    if matches!(m, Message::Close(_)) {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(CLOSE_HANDSHAKE_TIMEOUT, drained).await;
        }
    }
    tracing::debug!("chat connection ended");
}

/// The next queue event for this socket's conversation; never resolves
/// while no conversation is open.
pub(super) async fn next_event(active: &mut Option<Active>) -> Option<PatientEvent> {
    match active {
        Some(active) => active.link.events.recv().await,
        None => std::future::pending().await,
    }
}

pub(super) async fn wait_for_shutdown(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    // An error means the sender is gone, which only happens at shutdown too.
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

/// Handles whatever the socket produced next.
async fn next_step(
    session: &mut Session,
    frame: Option<Result<Message, axum::Error>>,
) -> Result<(), Exit> {
    match frame {
        None => Err(Exit::Gone),
        Some(Err(e)) if is_capacity_error(&e) => {
            tracing::info!("chat frame over the size limit; closing");
            Err(Exit::Close(CLOSE_TOO_BIG, "frame too large"))
        }
        Some(Err(_)) => Err(Exit::Gone),
        Some(Ok(Message::Text(text))) => session.handle_text(text.as_str()).await,
        Some(Ok(Message::Binary(_))) => {
            let e = FrameError::new(ErrorCode::BinaryFrame, "Send JSON text frames only.");
            session.send(&e.into()).await
        }
        Some(Ok(Message::Close(_))) => Err(Exit::Gone),
        // Pings are answered by the library; pongs only prove liveness.
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
    }
}

fn is_capacity_error(e: &axum::Error) -> bool {
    std::error::Error::source(e)
        .and_then(|source| source.downcast_ref::<tungstenite::Error>())
        .is_some_and(|e| matches!(e, tungstenite::Error::Capacity(_)))
}

impl Session {
    pub async fn send_raw(&mut self, message: Message) -> Result<(), Exit> {
        self.outlet.send_raw(message).await
    }

    /// The language notices are written in: the conversation's, as it is now.
    fn lang(&self) -> crate::lang::Lang {
        self.active
            .as_ref()
            .map_or_else(Default::default, |a| a.dialog.lang)
    }

    pub async fn send(&mut self, frame: &ServerFrame) -> Result<(), Exit> {
        let lang = self.lang();
        self.outlet.send(frame, lang).await
    }

    /// Sends frames in order (to a socket, with one flush).
    pub async fn send_all(&mut self, frames: &[ServerFrame]) -> Result<(), Exit> {
        let lang = self.lang();
        self.outlet.send_all(frames, lang).await
    }

    pub async fn refuse(&mut self, error: FrameError) -> Result<(), Exit> {
        tracing::debug!(code = error.code.as_str(), "frame refused");
        self.send(&error.into()).await
    }

    async fn handle_text(&mut self, text: &str) -> Result<(), Exit> {
        let frame = match protocol::parse(text) {
            Ok(frame) => frame,
            Err(e) => return self.refuse(e).await,
        };
        // One bucket for every frame kind that does work: a loop of start,
        // end, handoff, rate or feedback frames is refused like a flood of
        // messages. Typing is coalesced instead (see `typing`).
        if frame != ClientFrame::Typing && !self.rate.allow(Instant::now()) {
            let mut refusal = self.rate.refusal();
            if let ClientFrame::Say { id, .. } = &frame {
                refusal = refusal.about(id.as_str());
            }
            return self.refuse(refusal).await;
        }
        let outcome = match frame {
            ClientFrame::Start { resume, lang, user } => self.start(resume, lang, user).await,
            ClientFrame::History { before } => self.history(before).await,
            ClientFrame::Say { id, text, choice } => self.say(id, text, choice).await,
            ClientFrame::End => self.end().await,
            ClientFrame::Handoff => self.handoff().await,
            ClientFrame::Typing => self.typing(),
            ClientFrame::Rate { score, comment } => self.rate(score, comment).await,
            ClientFrame::Feedback { seq, helpful } => self.feedback(seq, helpful).await,
        };
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(refusal)) => self.refuse(refusal).await,
            Err(exit) => Err(exit),
        }
    }
}
