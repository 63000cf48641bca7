//! One patient connection, from `start` to close: parse each frame, store
//! before acknowledging, ask the dialog engine what to say, store the reply
//! before sending it.

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tracing::Instrument;
use unicode_segmentation::UnicodeSegmentation;

use super::protocol::{self, ClientFrame, ErrorCode, FrameError, MessageView, ServerFrame};
use super::rate::RateLimiter;
use crate::dialog::{DialogState, Reply, Turn};
use crate::ids::{ClientMessageId, ResumeToken};
use crate::lang::Lang;
use crate::state::AppState;
use crate::store::Conversation;
use crate::transcript::{Message as Stored, NewMessage, Sender};

/// Close codes (RFC 6455 and the IANA registry).
const CLOSE_IDLE: u16 = 1000;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_RESTARTING: u16 = 1012;

/// A send that takes longer than this means the client stopped reading.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for the client's half of the close handshake. Closing
/// the socket before the client has read our close frame would reset the
/// connection and lose the frame, and with it the close code.
const CLOSE_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest `choice` value accepted.
const MAX_CHOICE_LEN: usize = 200;

/// Why a connection ends from our side.
enum Exit {
    Close(u16, &'static str),
    /// The peer is gone or the socket failed: nothing more to send.
    Gone,
}

struct Session {
    state: AppState,
    sink: SplitSink<WebSocket, Message>,
    active: Option<Active>,
    rate: RateLimiter,
}

/// The conversation open on this socket.
struct Active {
    conversation: Conversation,
    dialog: DialogState,
}

pub async fn run(socket: WebSocket, state: AppState) {
    let span = tracing::info_span!("chat", conversation = tracing::field::Empty);
    serve(socket, state).instrument(span).await
}

async fn serve(socket: WebSocket, state: AppState) {
    // Held until this task ends, so shutdown can wait for every connection.
    let _drain = state.drain.clone();
    let mut shutdown = state.shutdown.clone();
    let limits = state.settings.limits.clone();
    let (sink, mut stream) = socket.split();
    let mut session = Session {
        rate: RateLimiter::per_minute(limits.messages_per_minute, Instant::now()),
        state,
        sink,
        active: None,
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
                match next_step(&mut session, frame).await {
                    Ok(()) => {}
                    Err(exit) => break exit,
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

async fn wait_for_shutdown(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
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
    async fn send_raw(&mut self, message: Message) -> Result<(), Exit> {
        match tokio::time::timeout(SEND_TIMEOUT, self.sink.send(message)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(Exit::Gone),
        }
    }

    async fn send(&mut self, frame: &ServerFrame) -> Result<(), Exit> {
        self.send_raw(Message::Text(frame.to_json().into())).await
    }

    async fn refuse(&mut self, error: FrameError) -> Result<(), Exit> {
        tracing::debug!(code = error.code.as_str(), "frame refused");
        self.send(&error.into()).await
    }

    async fn handle_text(&mut self, text: &str) -> Result<(), Exit> {
        let frame = match protocol::parse(text) {
            Ok(frame) => frame,
            Err(e) => return self.refuse(e).await,
        };
        let outcome = match frame {
            ClientFrame::Start { resume, lang } => self.start(resume, lang).await,
            ClientFrame::Say { id, text, choice } => self.say(id, text, choice).await,
            ClientFrame::End => self.end().await,
        };
        match outcome {
            Ok(Ok(())) => Ok(()),
            Ok(Err(refusal)) => self.refuse(refusal).await,
            Err(exit) => Err(exit),
        }
    }

    /// Opens or resumes a conversation.
    async fn start(
        &mut self,
        resume: Option<String>,
        lang: Option<Lang>,
    ) -> Result<Result<(), FrameError>, Exit> {
        if self.active.is_some() {
            return Ok(Err(FrameError::new(
                ErrorCode::AlreadyStarted,
                "A conversation is already open on this connection.",
            )));
        }
        let resumed = match resume {
            None => None,
            Some(raw) => match self.find_visitor(&raw).await {
                Ok(Some(found)) => Some(found),
                Ok(None) => {
                    return Ok(Err(FrameError::new(
                        ErrorCode::UnknownResume,
                        "That conversation could not be found; start a new one.",
                    )));
                }
                Err(e) => return Ok(Err(e)),
            },
        };
        let (token, visitor, open) = match resumed {
            Some((token, visitor, open)) => (token, Some(visitor), open),
            None => (ResumeToken::generate(), None, None),
        };
        let conversation = match open {
            Some(conversation) => conversation,
            None => match self.begin(visitor, &token, lang.unwrap_or_default()).await {
                Ok(c) => c,
                Err(e) => return Ok(Err(e)),
            },
        };
        let history = match self.state.store.history(&conversation.id).await {
            Ok(h) => h,
            Err(e) => return Ok(Err(unavailable(e))),
        };
        tracing::Span::current().record("conversation", conversation.id.as_str());
        tracing::info!(
            resumed = visitor.is_some(),
            messages = history.len(),
            "conversation started"
        );
        let lang = lang.unwrap_or(conversation.lang);
        let started = ServerFrame::Started {
            conversation: conversation.id.to_string(),
            resume: token.expose().to_owned(),
            lang,
            history: history.into_iter().map(MessageView::from).collect(),
        };
        self.active = Some(Active {
            conversation,
            dialog: DialogState::new(lang),
        });
        self.send(&started).await.map(Ok)
    }

    /// Looks a resume token up: the visitor and their open conversation.
    async fn find_visitor(
        &self,
        raw: &str,
    ) -> Result<Option<(ResumeToken, crate::store::VisitorId, Option<Conversation>)>, FrameError>
    {
        let Ok(token) = raw.parse::<ResumeToken>() else {
            return Ok(None);
        };
        let store = &self.state.store;
        let Some(visitor) = store
            .visitor_by_token(&token.digest())
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let open = store
            .open_conversation(visitor)
            .await
            .map_err(unavailable)?;
        Ok(Some((token, visitor, open)))
    }

    /// Creates a conversation and stores the bot's greeting in it.
    async fn begin(
        &self,
        visitor: Option<crate::store::VisitorId>,
        token: &ResumeToken,
        lang: Lang,
    ) -> Result<Conversation, FrameError> {
        let writer = &self.state.writer;
        let conversation = writer
            .start_conversation(visitor, token.digest(), lang)
            .await
            .map_err(unavailable)?;
        let greeting = self.state.engine.greeting(lang);
        writer
            .append(stored(&conversation, greeting))
            .await
            .map_err(unavailable)?;
        Ok(conversation)
    }

    async fn say(
        &mut self,
        id: ClientMessageId,
        text: String,
        choice: Option<String>,
    ) -> Result<Result<(), FrameError>, Exit> {
        let Some(active) = &self.active else {
            return Ok(Err(FrameError::new(
                ErrorCode::NotStarted,
                "Send a \"start\" frame before messages.",
            )
            .about(id.as_str())));
        };
        let text = text.trim();
        let limit = self.state.settings.limits.max_text_graphemes;
        if text.is_empty() {
            return Ok(Err(FrameError::new(
                ErrorCode::EmptyText,
                "The message is empty.",
            )
            .about(id.as_str())));
        }
        if text.graphemes(true).nth(limit).is_some() {
            return Ok(Err(FrameError::new(
                ErrorCode::TextTooLong,
                format!("Messages can be at most {limit} characters."),
            )
            .about(id.as_str())));
        }
        if choice.as_ref().is_some_and(|c| c.len() > MAX_CHOICE_LEN) {
            return Ok(Err(FrameError::new(
                ErrorCode::BadFrame,
                "\"choice\" is too long.",
            )
            .about(id.as_str())));
        }
        if !self.rate.allow(Instant::now()) {
            let wait = self.rate.retry_after().as_secs().max(1);
            return Ok(Err(FrameError::new(
                ErrorCode::RateLimited,
                format!(
                    "You're sending messages too quickly. Please wait {wait} seconds and try again."
                ),
            )
            .about(id.as_str())));
        }
        let message = NewMessage {
            conversation: active.conversation.id.clone(),
            sender: Sender::Patient,
            text: text.to_owned(),
            client_id: Some(id.clone()),
            details: Default::default(),
        };
        let appended = match self.state.writer.append(message).await {
            Ok(a) => a,
            Err(e) => return Ok(Err(unavailable(e).about(id.as_str()))),
        };
        self.send(&ServerFrame::Ack {
            id: id.to_string(),
            seq: appended.seq,
        })
        .await?;
        if appended.duplicate {
            return Ok(Ok(()));
        }
        let replies = {
            let Some(active) = self.active.as_mut() else {
                return Ok(Ok(()));
            };
            let turn = Turn {
                text,
                choice: choice.as_deref(),
            };
            self.state.engine.respond(&mut active.dialog, turn).await
        };
        for reply in replies {
            self.reply(reply).await?;
        }
        Ok(Ok(()))
    }

    /// Stores a reply, then sends it. A reply that cannot be stored is not
    /// sent: the client would otherwise see a message that history lacks.
    async fn reply(&mut self, reply: Reply) -> Result<(), Exit> {
        let Some(active) = &self.active else {
            return Ok(());
        };
        let message = stored(&active.conversation, reply);
        let (sender, text, details) = (
            message.sender,
            message.text.clone(),
            message.details.clone(),
        );
        match self.state.writer.append(message).await {
            Ok(appended) => {
                let view = MessageView::from(Stored {
                    seq: appended.seq,
                    sender,
                    text,
                    details,
                    at: appended.at,
                });
                self.send(&ServerFrame::Reply(view)).await
            }
            Err(e) => self.refuse(unavailable(e)).await,
        }
    }

    async fn end(&mut self) -> Result<Result<(), FrameError>, Exit> {
        let Some(active) = self.active.take() else {
            return Ok(Err(FrameError::new(
                ErrorCode::NotStarted,
                "No conversation is open.",
            )));
        };
        let id = active.conversation.id.clone();
        if let Err(e) = self.state.writer.end_conversation(id.clone()).await {
            self.active = Some(active);
            return Ok(Err(unavailable(e)));
        }
        tracing::info!("conversation ended by the patient");
        self.send(&ServerFrame::Ended {
            conversation: id.to_string(),
        })
        .await
        .map(Ok)
    }
}

fn stored(conversation: &Conversation, reply: Reply) -> NewMessage {
    NewMessage {
        conversation: conversation.id.clone(),
        sender: reply.sender,
        text: reply.text,
        client_id: None,
        details: reply.details,
    }
}

/// Storage failed: the client is told to retry, and the cause is logged
/// without any message content.
fn unavailable(e: crate::store::StoreError) -> FrameError {
    tracing::error!(error = format!("{e:#}"), "chat storage failed");
    FrameError::new(
        ErrorCode::Unavailable,
        "We couldn't save that just now. Please try again in a moment.",
    )
}
