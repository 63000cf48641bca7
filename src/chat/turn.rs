//! A patient's message: checked, stored and acked, then answered by the bot,
//! passed to the agent holding the chat, or met by the safety net. Every
//! reply is stored before it is sent.

use unicode_segmentation::UnicodeSegmentation;

use super::connection::{Exit, Session};
use super::protocol::{ErrorCode, FrameError, MessageView, ServerFrame};
use super::session::{Handled, to_store, unavailable};
use crate::dialog::{Reply, Turn};
use crate::ids::{ClientMessageId, ConversationId};
use crate::queue::{AgentEvent, Handoff};
use crate::store::Appended;
use crate::transcript::{Message as Stored, NewMessage, Sender};
use crate::utterance::Utterance;

/// Longest `choice` value accepted.
const MAX_CHOICE_LEN: usize = 200;

impl Session {
    pub(super) async fn say(
        &mut self,
        id: ClientMessageId,
        text: String,
        choice: Option<String>,
    ) -> Handled {
        self.say_analysed(id, text, choice, None).await
    }

    /// `say`, for an edge that has analysed the text already (a text
    /// message, read for its keywords): its analysis is used, not redone.
    pub(super) async fn say_analysed(
        &mut self,
        id: ClientMessageId,
        text: String,
        choice: Option<String>,
        analysed: Option<Utterance>,
    ) -> Handled {
        let refuse =
            |code, message: String| Ok(Err(FrameError::new(code, message).about(id.as_str())));
        let Some(active) = &self.active else {
            return refuse(
                ErrorCode::NotStarted,
                "Send a \"start\" frame before messages.".into(),
            );
        };
        let text = text.trim();
        let limit = self.state.settings.limits.max_text_graphemes;
        if text.is_empty() {
            return refuse(ErrorCode::EmptyText, "The message is empty.".into());
        }
        if text.graphemes(true).nth(limit).is_some() {
            return refuse(
                ErrorCode::TextTooLong,
                format!("Messages can be at most {limit} characters."),
            );
        }
        if choice.as_ref().is_some_and(|c| c.len() > MAX_CHOICE_LEN) {
            return refuse(ErrorCode::BadFrame, "\"choice\" is too long.".into());
        }
        // (The rate of frames is checked for every frame kind on arrival.)
        let cap = self.state.settings.limits.max_messages_per_conversation as usize;
        if active.patient_messages >= cap {
            return refuse(
                ErrorCode::ConversationFull,
                format!(
                    "This conversation has reached its limit of {cap} messages. Please start a new conversation, or ask for a person."
                ),
            );
        }
        if let Some(active) = self.active.as_mut() {
            active.patient_messages += 1;
        }
        let Some(active) = &self.active else {
            return Ok(Ok(()));
        };
        let conversation = active.conversation.id.clone();
        // The message analysed once, here; a pressed button has no language
        // of its own.
        let mut said = match (&choice, analysed) {
            (Some(_), _) => Utterance::pressed(text),
            (None, Some(said)) => said,
            (None, None) => Utterance::analyse(text),
        };
        let lang = said.detected().or(active.dialog.lang);
        // The common turn, a question for the bot that changes nothing else,
        // is stored with its answer in one commit when the answer needs no
        // wait for the model (a button, a repeated question, no model). A
        // new question is acked first: acks never wait for the model.
        if choice.is_none() {
            said.set_meaning(self.state.embedder.cached(text));
        }
        let safety = self.state.engine.safety_check(&said, lang);
        let plain_bot_turn = safety.is_none()
            && !active.dialog.turn_may_write(&said)
            && matches!(self.state.hub.handoff(&conversation), Handoff::Bot);
        let wait = self.state.settings.model.wait();
        let needs_model =
            choice.is_none() && said.meaning().is_none() && self.state.embedder.has_room(wait);
        if plain_bot_turn && !needs_model {
            let turn = Turn {
                said: &said,
                choice: choice.as_deref(),
            };
            return self.bot_exchange(id, turn).await;
        }
        let message = patient_message(&conversation, &id, text);
        let appended = match self.state.writer.append(message).await {
            Ok(a) => a,
            Err(e) => return Ok(Err(unavailable(e).about(id.as_str()))),
        };
        if !self.acknowledge(&id, &appended).await? {
            return Ok(Ok(()));
        }
        let stored = Stored {
            seq: appended.seq,
            sender: Sender::Patient,
            text: text.to_owned(),
            details: Default::default(),
            at: appended.at,
        };
        // Now that it is stored, its meaning (at most FRONTDESK_MODEL_WAIT_MS;
        // later it is answered from its words alone, and counted), so the
        // learned safety signal has its say too: it may catch what no rule
        // lists, or set aside a rule's hit on a figure of speech.
        let safety = if needs_model {
            said.set_meaning(self.state.embedder.query(text, wait).await);
            match said.meaning() {
                Some(_) => self.state.engine.safety_check(&said, lang),
                None => safety,
            }
        } else {
            safety
        };
        // Safety first: before the bot, a booking flow, the queue or an agent.
        if let Some((hit, guidance)) = safety {
            if hit.kind.is_alarm() {
                return self.emergency(hit, guidance, stored).await;
            }
            self.urgent_care(hit, guidance).await?;
        }
        match self.state.hub.handoff(&conversation) {
            // A person has the chat: it goes to them, not to the bot.
            Handoff::Assigned { .. } => {
                let event = AgentEvent::Message {
                    conversation: conversation.clone(),
                    message: stored,
                };
                self.state.hub.to_agent(&conversation, event);
                Ok(Ok(()))
            }
            Handoff::Queued { .. } => {
                self.state
                    .hub
                    .update_preview(&conversation, text.to_owned());
                Ok(Ok(()))
            }
            Handoff::Bot => {
                let turn = Turn {
                    said: &said,
                    choice: choice.as_deref(),
                };
                self.ask_the_bot(turn).await
            }
        }
    }

    /// A bot turn that writes nothing else: the reply is worked out first, then the
    /// patient's message and the reply are committed together, then acked and
    /// sent. For a resend the dialog is put back as it was and only the ack
    /// goes out, as on the general path.
    async fn bot_exchange(&mut self, id: ClientMessageId, turn: Turn<'_>) -> Handled {
        let began = std::time::Instant::now();
        let text = turn.said.text();
        let Some(active) = self.active.as_mut() else {
            return Ok(Ok(()));
        };
        let before = active.dialog.clone();
        let outcome = self.state.engine.respond(&mut active.dialog, turn).await;
        let message = patient_message(&active.conversation.id, &id, text);
        let replies: Vec<NewMessage> = outcome
            .replies
            .iter()
            .map(|r| to_store(&active.conversation, r.clone()))
            .collect();
        let exchanged = match self.state.writer.exchange(message, replies).await {
            Ok(x) => x,
            Err(e) => {
                if let Some(active) = self.active.as_mut() {
                    active.dialog = before;
                }
                return Ok(Err(unavailable(e).about(id.as_str())));
            }
        };
        let ack = ack_frame(&id, &exchanged.message);
        if exchanged.message.duplicate {
            if let Some(active) = self.active.as_mut() {
                active.dialog = before;
            }
            self.send(&ack).await?;
            return Ok(Ok(()));
        }
        self.count_message();
        // The ack and the replies leave together, in one write.
        let mut frames = vec![ack];
        frames.extend(
            outcome
                .replies
                .into_iter()
                .zip(exchanged.replies)
                .map(|(reply, appended)| stored_frame(reply, appended)),
        );
        let sent = self.send_all(&frames).await;
        self.state.metrics.bot_reply.observe(began.elapsed());
        // After the replies, so they do not wait for a second commit; and
        // even when the socket has just gone, so the editors still see it.
        self.record_unanswered(outcome.unanswered.as_deref()).await;
        sent?;
        match outcome.action {
            Some(action) => self.act(action, text).await,
            None => Ok(Ok(())),
        }
    }

    /// Acks a stored patient message; `false` for a resend, which needs
    /// nothing more.
    async fn acknowledge(
        &mut self,
        id: &ClientMessageId,
        appended: &Appended,
    ) -> Result<bool, Exit> {
        self.send(&ack_frame(id, appended)).await?;
        if appended.duplicate {
            return Ok(false);
        }
        self.count_message();
        Ok(true)
    }

    /// Counts a new (not resent) patient message for the metrics.
    fn count_message(&self) {
        self.state
            .metrics
            .messages
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    async fn ask_the_bot(&mut self, turn: Turn<'_>) -> Handled {
        let began = std::time::Instant::now();
        let handled = self.bot_turn(turn).await;
        self.state.metrics.bot_reply.observe(began.elapsed());
        handled
    }

    async fn bot_turn(&mut self, turn: Turn<'_>) -> Handled {
        let text = turn.said.text();
        let outcome = {
            let Some(active) = self.active.as_mut() else {
                return Ok(Ok(()));
            };
            self.state.engine.respond(&mut active.dialog, turn).await
        };
        self.record_unanswered(outcome.unanswered.as_deref()).await;
        self.replies(outcome.replies).await?;
        match outcome.action {
            Some(action) => self.act(action, text).await,
            None => Ok(Ok(())),
        }
    }

    /// Adds a question the bot could not answer to the editors' list.
    async fn record_unanswered(&self, question: Option<&str>) {
        let (Some(question), Some(active)) = (question, &self.active) else {
            return;
        };
        let conversation = active.conversation.id.clone();
        if self
            .state
            .writer
            .record_unanswered(conversation, question)
            .await
            .is_err()
        {
            tracing::error!("an unanswered question could not be recorded");
        }
    }

    /// Stores a turn's replies together, then sends each one that was stored.
    async fn replies(&mut self, replies: Vec<Reply>) -> Result<(), Exit> {
        let Some(active) = &self.active else {
            return Ok(());
        };
        let messages = replies
            .iter()
            .map(|r| to_store(&active.conversation, r.clone()))
            .collect();
        let stored = self.state.writer.append_all(messages).await;
        for (reply, stored) in replies.into_iter().zip(stored) {
            match stored {
                Ok(appended) => self.send_stored(reply, appended).await?,
                Err(e) => self.refuse(unavailable(e)).await?,
            }
        }
        Ok(())
    }

    async fn send_stored(&mut self, reply: Reply, appended: Appended) -> Result<(), Exit> {
        self.send(&stored_frame(reply, appended)).await
    }

    /// Stores a reply, then sends it. A reply that cannot be stored is not
    /// sent: the client would otherwise see a message that history lacks.
    pub(super) async fn reply(&mut self, reply: Reply) -> Result<(), Exit> {
        self.replies(vec![reply]).await
    }
}

fn ack_frame(id: &ClientMessageId, appended: &Appended) -> ServerFrame {
    ServerFrame::Ack {
        id: id.to_string(),
        seq: appended.seq,
    }
}

/// The frame for a reply that has been stored as `appended`.
fn stored_frame(reply: Reply, appended: Appended) -> ServerFrame {
    ServerFrame::Reply(MessageView::from(Stored {
        seq: appended.seq,
        sender: reply.sender,
        text: reply.text,
        details: reply.details,
        at: appended.at,
    }))
}

fn patient_message(conversation: &ConversationId, id: &ClientMessageId, text: &str) -> NewMessage {
    NewMessage {
        conversation: conversation.clone(),
        sender: Sender::Patient,
        text: text.to_owned(),
        client_id: Some(id.clone()),
        details: Default::default(),
    }
}
