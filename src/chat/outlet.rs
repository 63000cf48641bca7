//! Where a session's frames go: a WebSocket, or a phone by text message.
//! The session decides what to say; the outlet only knows how it travels.
//!
//! By text, what the transcript holds (the bot's and agents' messages) is
//! already queued for the phone by the store, in the commit that stored it;
//! the outlet adds the few things a socket shows that are not messages (an
//! agent joined, a refusal) as notices, and remembers the last
//! reply's choices so that "2" can mean its second button.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::SinkExt;
use futures_util::stream::SplitSink;

use super::connection::Exit;
use super::protocol::ServerFrame;
use crate::lang::Lang;
use crate::store::Store;
use crate::transcript::Choice;

/// A send that takes longer than this means the client stopped reading.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) enum Outlet {
    Socket(SplitSink<WebSocket, Message>),
    Text(TextOutlet),
}

/// A chat by text's side of the session.
pub(super) struct TextOutlet {
    pub store: Store,
    /// The conversation, once open: notices go to its number.
    pub conversation: Option<String>,
    /// The choices of the latest message, numbered from 1 in its text.
    pub choices: Vec<Choice>,
    /// How the turn being handled went: set by its ack or its refusal.
    pub outcome: Option<Result<(), String>>,
    /// The webhook waiting for the text being handled: told as soon as it
    /// is acked (stored), not when its replies are done.
    pub stored: Option<tokio::sync::oneshot::Sender<super::text::Taken>>,
    /// Wakes the outbox's sender, so a reply does not wait for its poll.
    pub wake: Arc<tokio::sync::Notify>,
}

impl Outlet {
    pub async fn send_raw(&mut self, message: Message) -> Result<(), Exit> {
        match self {
            Outlet::Socket(sink) => {
                match tokio::time::timeout(SEND_TIMEOUT, sink.send(message)).await {
                    Ok(Ok(())) => Ok(()),
                    _ => Err(Exit::Gone),
                }
            }
            // Pings and closes are a socket's.
            Outlet::Text(_) => Ok(()),
        }
    }

    pub async fn send(&mut self, frame: &ServerFrame, lang: Lang) -> Result<(), Exit> {
        match self {
            Outlet::Socket(_) => self.send_raw(Message::Text(frame.to_json().into())).await,
            Outlet::Text(text) => {
                text.take(frame, lang).await;
                Ok(())
            }
        }
    }

    /// Frames in order with one flush, so an ack and its replies go out in
    /// one write to the socket rather than one write each.
    pub async fn send_all(&mut self, frames: &[ServerFrame], lang: Lang) -> Result<(), Exit> {
        match self {
            Outlet::Socket(sink) => {
                let all = async {
                    for frame in frames {
                        sink.feed(Message::Text(frame.to_json().into())).await?;
                    }
                    sink.flush().await
                };
                match tokio::time::timeout(SEND_TIMEOUT, all).await {
                    Ok(Ok(())) => Ok(()),
                    _ => Err(Exit::Gone),
                }
            }
            Outlet::Text(text) => {
                for frame in frames {
                    text.take(frame, lang).await;
                }
                Ok(())
            }
        }
    }
}

impl TextOutlet {
    async fn take(&mut self, frame: &ServerFrame, lang: Lang) {
        let notice = match frame {
            ServerFrame::Ack { .. } => {
                self.outcome = Some(Ok(()));
                if let Some(waiting) = self.stored.take() {
                    let _ = waiting.send(super::text::Taken::Stored);
                }
                None
            }
            ServerFrame::Reply(view) => {
                self.choices = view.choices.clone();
                self.wake.notify_one();
                None
            }
            ServerFrame::Error { code, message, .. } => {
                // A refusal after the ack (a reply not stored) does not
                // undo the ack: the text itself is stored.
                if self.outcome.is_none() {
                    self.outcome = Some(Err((*code).to_owned()));
                }
                Some(message.clone())
            }
            ServerFrame::AgentJoined { name } => Some(joined(name, lang)),
            // The queue's notice and the hand-back are stored messages;
            // where the patient stands in line is not worth a text each
            // time it moves.
            _ => None,
        };
        let (Some(body), Some(conversation)) = (notice, &self.conversation) else {
            return;
        };
        match self.store.outbox_notice(conversation, &body).await {
            Ok(_) => self.wake.notify_one(),
            Err(_) => tracing::error!("a notice to a chat by text could not be queued"),
        }
    }
}

fn joined(name: &str, lang: Lang) -> String {
    match lang {
        Lang::En => {
            format!("{name} from the front desk is with you now. Reply here to talk to them.")
        }
        Lang::Es => format!(
            "{name}, de recepción, le atiende ahora. Responda aquí para hablar con esa persona."
        ),
    }
}
