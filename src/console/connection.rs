//! One agent's console socket: relays the queue and the chats this agent
//! holds, carries out the agent's frames, and closes when the sign-in
//! session ends (4001) or the server stops (1012).

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tracing::Instrument;

use super::ConsoleState;
use super::protocol::{self, ConsoleFrame};
use crate::appointments::burst::BookingBurst;
use crate::chat::protocol::MessageView;
use crate::queue::{AgentEvent, AgentLink};
use crate::staff::sessions::{SessionToken, StaffSession};

const CLOSE_SESSION_ENDED: u16 = 4001;
const CLOSE_RESTARTING: u16 = 1012;
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) enum Exit {
    Close(u16, &'static str),
    Gone,
}

pub(super) struct Agent {
    pub state: ConsoleState,
    pub session: StaffSession,
    sink: SplitSink<WebSocket, Message>,
}

pub async fn run(
    socket: WebSocket,
    state: ConsoleState,
    session: StaffSession,
    token: SessionToken,
) {
    let span = tracing::info_span!("console", staff = session.staff.0);
    serve(socket, state, session, token).instrument(span).await
}

async fn serve(socket: WebSocket, state: ConsoleState, session: StaffSession, token: SessionToken) {
    let _drain = state.drain.clone();
    let mut shutdown = state.shutdown.clone();
    let mut ended = session.ended.clone();
    let mut storage = state.writer.health().subscribe();
    storage.borrow_and_update();
    let (sink, mut stream) = socket.split();
    let mut link: AgentLink = state.hub.connect_agent(session.staff, &session.name);
    // Booking bursts are for those who watch the numbers.
    let mut bursts = session
        .role
        .reads_all_transcripts()
        .then(|| state.scheduler.bursts().subscribe());
    let mut agent = Agent {
        state,
        session,
        sink,
    };
    let mut ping = tokio::time::interval(agent.state.settings.limits.ping_interval());
    tracing::info!("console connected");

    let exit = match agent.greet().await {
        Err(exit) => exit,
        Ok(()) => loop {
            tokio::select! {
                frame = stream.next() => {
                    let step = match frame {
                        Some(Ok(Message::Text(text))) => {
                            // Working in the console counts as activity.
                            if agent.state.sessions.touch(&token).await.is_none() {
                                break Exit::Close(CLOSE_SESSION_ENDED, "session ended");
                            }
                            agent.handle(text.as_str()).await
                        }
                        Some(Ok(Message::Binary(_))) => {
                            let refusal =
                                protocol::Refusal::new("binary_frame", "Send JSON text frames only.");
                            agent.send(&refusal.into()).await
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                        _ => Err(Exit::Gone),
                    };
                    if let Err(exit) = step { break exit; }
                }
                event = link.events.recv() => {
                    let step = match event {
                        Some(event) => agent.relay(event).await,
                        None => Err(Exit::Close(CLOSE_RESTARTING, "resync")),
                    };
                    if let Err(exit) = step { break exit; }
                }
                Some(burst) = next_burst(&mut bursts) => {
                    if let Err(exit) = agent.send(&ConsoleFrame::BookingAlert { burst }).await {
                        break exit;
                    }
                }
                Ok(()) = storage.changed() => {
                    let view = protocol::StorageView::from(&*storage.borrow_and_update());
                    if let Err(exit) = agent.send(&ConsoleFrame::Storage { storage: view }).await {
                        break exit;
                    }
                }
                _ = ping.tick() => {
                    if agent.send_raw(Message::Ping(Default::default())).await.is_err() { break Exit::Gone; }
                }
                _ = flipped(&mut ended) => break Exit::Close(CLOSE_SESSION_ENDED, "session ended"),
                _ = flipped(&mut shutdown) => break Exit::Close(CLOSE_RESTARTING, "server restarting"),
            }
        },
    };
    if let Exit::Close(code, reason) = exit {
        let _ = agent
            .send_raw(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }
    tracing::info!("console disconnected");
}

/// The next booking burst, for a console that watches them; never for one
/// that does not.
async fn next_burst(
    bursts: &mut Option<tokio::sync::watch::Receiver<Option<(jiff::Timestamp, BookingBurst)>>>,
) -> Option<BookingBurst> {
    let Some(rx) = bursts.as_mut() else {
        return std::future::pending().await;
    };
    if rx.changed().await.is_err() {
        *bursts = None;
        return None;
    }
    rx.borrow_and_update()
        .as_ref()
        .map(|(_, burst)| burst.clone())
}

/// Completes once the flag is (or was) set, or its sender is gone.
async fn flipped(flag: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = flag.wait_for(|set| *set).await;
}

impl Agent {
    pub async fn send_raw(&mut self, message: Message) -> Result<(), Exit> {
        match tokio::time::timeout(SEND_TIMEOUT, self.sink.send(message)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Exit::Gone),
        }
    }

    pub async fn send(&mut self, frame: &ConsoleFrame) -> Result<(), Exit> {
        self.send_raw(Message::Text(frame.to_json().into())).await
    }

    /// Who is signed in, then every chat this agent already holds (the queue
    /// arrives as the hub's first event).
    async fn greet(&mut self) -> Result<(), Exit> {
        let hello = ConsoleFrame::Hello {
            name: self.session.name.clone(),
            role: self.session.role.as_str(),
            status: self.state.hub.status_of(self.session.staff),
            storage: protocol::StorageView::from(&self.state.writer.health().status()),
        };
        self.send(&hello).await?;
        if self.session.role.reads_all_transcripts()
            && let Some(burst) = self.state.scheduler.bursts().recent(jiff::Timestamp::now())
        {
            self.send(&ConsoleFrame::BookingAlert { burst }).await?;
        }
        for conversation in self.state.hub.held_by(self.session.staff) {
            self.send_claimed(&conversation).await?;
        }
        Ok(())
    }

    async fn handle(&mut self, text: &str) -> Result<(), Exit> {
        match protocol::parse(text) {
            Ok(frame) => match self.act(frame).await {
                Ok(()) => Ok(()),
                Err(super::actions::Failure::Refused(r)) => self.send(&r.into()).await,
                Err(super::actions::Failure::Exit(exit)) => Err(exit),
            },
            Err(refusal) => self.send(&refusal.into()).await,
        }
    }

    async fn relay(&mut self, event: AgentEvent) -> Result<(), Exit> {
        match event {
            AgentEvent::Queue(items) => self.send(&ConsoleFrame::Queue { items }).await,
            AgentEvent::Message {
                conversation,
                message,
            } => {
                let frame = ConsoleFrame::Message {
                    conversation: conversation.to_string(),
                    message: MessageView::from(message),
                };
                self.send(&frame).await
            }
            AgentEvent::Typing { conversation } => {
                self.send(&ConsoleFrame::Typing {
                    conversation: conversation.to_string(),
                    from: "patient",
                })
                .await
            }
            AgentEvent::Released { conversation, why } => {
                self.send(&ConsoleFrame::Released {
                    conversation: conversation.to_string(),
                    why,
                })
                .await
            }
            AgentEvent::Assigned { conversation } => self.send_claimed(&conversation).await,
            AgentEvent::Alert {
                conversation,
                category,
                kind,
            } => {
                self.send(&ConsoleFrame::Alert {
                    conversation: conversation.to_string(),
                    category,
                    kind,
                })
                .await
            }
        }
    }
}
