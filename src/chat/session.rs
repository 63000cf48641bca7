//! The patient's side of a conversation: open or resume it, store each
//! message before acknowledging it, and store each reply before sending it.

use std::time::Instant;

use unicode_segmentation::UnicodeSegmentation;

use super::connection::{Exit, Session};
use super::protocol::{ErrorCode, FrameError, MessageView, ServerFrame};
use crate::dialog::{DialogState, Reply, Turn};
use crate::ids::{ClientMessageId, ResumeToken, TokenDigest};
use crate::lang::Lang;
use crate::queue::{AgentEvent, Handoff, PatientLink};
use crate::store::{Appended, Conversation, StoreError, VisitorId};
use crate::transcript::{Message as Stored, NewMessage, Sender};

/// Longest `choice` value accepted.
const MAX_CHOICE_LEN: usize = 200;

/// A handler's result: `Err(Exit)` ends the connection, `Ok(Err(e))` refuses
/// the frame with an error frame, `Ok(Ok(()))` is success.
pub(super) type Handled = Result<Result<(), FrameError>, Exit>;

/// The conversation open on this socket.
pub(super) struct Active {
    pub conversation: Conversation,
    pub dialog: DialogState,
    /// This socket's subscription to queue events for the conversation.
    pub link: PatientLink,
}

impl Session {
    /// Opens or resumes a conversation.
    pub(super) async fn start(
        &mut self,
        resume: Option<String>,
        lang: Option<Lang>,
        user: Option<(String, String)>,
    ) -> Handled {
        if self.active.is_some() {
            return Ok(Err(FrameError::new(
                ErrorCode::AlreadyStarted,
                "A conversation is already open on this connection.",
            )));
        }
        let identity = match user {
            None => None,
            Some((user, sig)) => match super::identity::verify(
                self.state.settings.identity_secret.as_deref(),
                &user,
                &sig,
            ) {
                Some(identity) => Some(identity),
                None => {
                    return Ok(Err(FrameError::new(
                        ErrorCode::BadIdentity,
                        "The signed-in identity could not be verified.",
                    )));
                }
            },
        };
        let (token, visitor, open) = match self.locate(resume, identity).await {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        let conversation = match open {
            Some(conversation) => conversation,
            None => match self
                .begin(visitor, &token, identity, lang.unwrap_or_default())
                .await
            {
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
        let link = self.state.hub.connect_patient(&conversation.id);
        let handoff = self.state.hub.handoff(&conversation.id);
        let dialog = DialogState::for_conversation(lang, &conversation.id);
        self.active = Some(Active {
            conversation,
            dialog,
            link,
        });
        self.send(&started).await?;
        // A resumed chat picks up where it was: still waiting, or with its agent.
        self.tell_handoff(handoff).await.map(Ok)
    }

    /// Finds who this is: by verified identity first (any device), then by
    /// resume token; a new visitor otherwise. Returns the token this device
    /// should keep.
    async fn locate(
        &self,
        resume: Option<String>,
        identity: Option<TokenDigest>,
    ) -> Result<(ResumeToken, Option<VisitorId>, Option<Conversation>), FrameError> {
        let by_token = match resume {
            None => None,
            Some(raw) => match self.find_visitor(&raw).await? {
                Some(found) => Some(found),
                None if identity.is_some() => None,
                None => {
                    return Err(FrameError::new(
                        ErrorCode::UnknownResume,
                        "That conversation could not be found; start a new one.",
                    ));
                }
            },
        };
        let Some(identity) = identity else {
            return Ok(match by_token {
                Some((token, visitor, open)) => (token, Some(visitor), open),
                None => (ResumeToken::generate(), None, None),
            });
        };
        let store = &self.state.store;
        let writer = &self.state.writer;
        match store
            .visitor_by_identity(&identity)
            .await
            .map_err(unavailable)?
        {
            // Known on another device: this device gets its own fresh token.
            Some(visitor) => {
                let token = match by_token {
                    Some((token, v, _)) if v == visitor => token,
                    _ => ResumeToken::generate(),
                };
                writer
                    .link_visitor(visitor, token.digest(), None)
                    .await
                    .map_err(unavailable)?;
                let open = store
                    .open_conversation(visitor)
                    .await
                    .map_err(unavailable)?;
                Ok((token, Some(visitor), open))
            }
            // First time signed in: this device's visitor becomes theirs.
            None => match by_token {
                Some((token, visitor, open)) => {
                    writer
                        .link_visitor(visitor, token.digest(), Some(identity))
                        .await
                        .map_err(unavailable)?;
                    Ok((token, Some(visitor), open))
                }
                None => Ok((ResumeToken::generate(), None, None)),
            },
        }
    }

    /// Looks a resume token up: the visitor and their open conversation.
    async fn find_visitor(
        &self,
        raw: &str,
    ) -> Result<Option<(ResumeToken, VisitorId, Option<Conversation>)>, FrameError> {
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
        visitor: Option<VisitorId>,
        token: &ResumeToken,
        identity: Option<TokenDigest>,
        lang: Lang,
    ) -> Result<Conversation, FrameError> {
        let writer = &self.state.writer;
        let conversation = writer
            .start_conversation(visitor, token.digest(), identity, lang)
            .await
            .map_err(unavailable)?;
        let greeting = self.state.engine.greeting(lang);
        writer
            .append(to_store(&conversation, greeting))
            .await
            .map_err(unavailable)?;
        Ok(conversation)
    }

    pub(super) async fn say(
        &mut self,
        id: ClientMessageId,
        text: String,
        choice: Option<String>,
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
        if !self.rate.allow(Instant::now()) {
            let wait = self.rate.retry_after().as_secs().max(1);
            return refuse(
                ErrorCode::RateLimited,
                format!(
                    "You're sending messages too quickly. Please wait {wait} seconds and try again."
                ),
            );
        }
        let conversation = active.conversation.id.clone();
        let lang = active.dialog.lang;
        // The common turn, a question for the bot that changes nothing else,
        // is stored with its answer in one commit.
        let plain_bot_turn = !active.dialog.turn_may_write()
            && matches!(self.state.hub.handoff(&conversation), Handoff::Bot)
            && self.state.engine.safety_check(text, lang).is_none();
        if plain_bot_turn {
            return self.bot_exchange(id, text, choice.as_deref()).await;
        }
        let message = NewMessage {
            conversation: conversation.clone(),
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
        self.state
            .metrics
            .messages
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stored = Stored {
            seq: appended.seq,
            sender: Sender::Patient,
            text: text.to_owned(),
            details: Default::default(),
            at: appended.at,
        };
        // Safety first: before the bot, a booking flow, the queue or an agent.
        if let Some((hit, guidance)) = self.state.engine.safety_check(text, lang) {
            return self.emergency(hit, guidance, stored).await;
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
            Handoff::Bot => self.ask_the_bot(text, choice.as_deref()).await,
        }
    }

    /// A bot turn that writes nothing else: the reply is worked out first, then the
    /// patient's message and the reply are committed together, then acked and
    /// sent. For a resend the dialog is put back as it was and only the ack
    /// goes out, as on the general path.
    async fn bot_exchange(
        &mut self,
        id: ClientMessageId,
        text: &str,
        choice: Option<&str>,
    ) -> Handled {
        let began = std::time::Instant::now();
        let Some(active) = self.active.as_mut() else {
            return Ok(Ok(()));
        };
        let before = active.dialog.clone();
        let outcome = self
            .state
            .engine
            .respond(&mut active.dialog, Turn { text, choice })
            .await;
        let message = NewMessage {
            conversation: active.conversation.id.clone(),
            sender: Sender::Patient,
            text: text.to_owned(),
            client_id: Some(id.clone()),
            details: Default::default(),
        };
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
        self.send(&ServerFrame::Ack {
            id: id.to_string(),
            seq: exchanged.message.seq,
        })
        .await?;
        if exchanged.message.duplicate {
            if let Some(active) = self.active.as_mut() {
                active.dialog = before;
            }
            return Ok(Ok(()));
        }
        self.state
            .metrics
            .messages
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.state.metrics.bot_reply.observe(began.elapsed());
        self.record_unanswered(outcome.unanswered.as_deref()).await;
        for (reply, appended) in outcome.replies.into_iter().zip(exchanged.replies) {
            self.send_stored(reply, appended).await?;
        }
        match outcome.action {
            Some(action) => self.act(action, text).await,
            None => Ok(Ok(())),
        }
    }

    async fn ask_the_bot(&mut self, text: &str, choice: Option<&str>) -> Handled {
        let began = std::time::Instant::now();
        let handled = self.bot_turn(text, choice).await;
        self.state.metrics.bot_reply.observe(began.elapsed());
        handled
    }

    async fn bot_turn(&mut self, text: &str, choice: Option<&str>) -> Handled {
        let outcome = {
            let Some(active) = self.active.as_mut() else {
                return Ok(Ok(()));
            };
            let turn = Turn { text, choice };
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
        let view = MessageView::from(Stored {
            seq: appended.seq,
            sender: reply.sender,
            text: reply.text,
            details: reply.details,
            at: appended.at,
        });
        self.send(&ServerFrame::Reply(view)).await
    }

    /// Stores a reply, then sends it. A reply that cannot be stored is not
    /// sent: the client would otherwise see a message that history lacks.
    pub(super) async fn reply(&mut self, reply: Reply) -> Result<(), Exit> {
        self.replies(vec![reply]).await
    }

    pub(super) async fn end(&mut self) -> Handled {
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
        self.state.hub.release(&id, "patient_ended");
        self.ended = Some(id.clone());
        tracing::info!("conversation ended by the patient");
        self.send(&ServerFrame::Ended {
            conversation: id.to_string(),
        })
        .await
        .map(Ok)
    }
}

impl Session {
    /// Stores the patient's rating of the open (or just ended) conversation.
    pub(super) async fn rate(&mut self, score: u8, comment: Option<String>) -> Handled {
        let conversation = match (&self.active, &self.ended) {
            (Some(active), _) => active.conversation.id.clone(),
            (None, Some(ended)) => ended.clone(),
            (None, None) => {
                return Ok(Err(FrameError::new(
                    ErrorCode::NotStarted,
                    "There is no conversation to rate.",
                )));
            }
        };
        let limit = MAX_COMMENT_GRAPHEMES;
        if comment
            .as_ref()
            .is_some_and(|c| c.graphemes(true).nth(limit).is_some())
        {
            return Ok(Err(FrameError::new(
                ErrorCode::TextTooLong,
                format!("Comments can be at most {limit} characters."),
            )));
        }
        if let Err(e) = self
            .state
            .writer
            .rate(conversation.clone(), score, comment)
            .await
        {
            return Ok(Err(unavailable(e)));
        }
        tracing::info!(score, "conversation rated");
        self.send(&ServerFrame::Rated {
            conversation: conversation.to_string(),
        })
        .await
        .map(Ok)
    }
}

impl Session {
    /// Stores a patient's "was this helpful?" on one of the bot's answers.
    pub(super) async fn feedback(&mut self, seq: i64, helpful: bool) -> Handled {
        let Some(active) = &self.active else {
            return Ok(Err(FrameError::new(
                ErrorCode::NotStarted,
                "No conversation is open.",
            )));
        };
        match self
            .state
            .writer
            .feedback(active.conversation.id.clone(), seq, helpful)
            .await
        {
            Ok(()) => self.send(&ServerFrame::FeedbackSaved { seq }).await.map(Ok),
            Err(StoreError::NotFound) => Ok(Err(FrameError::new(
                ErrorCode::BadFrame,
                "There is no bot answer with that seq.",
            ))),
            Err(e) => Ok(Err(unavailable(e))),
        }
    }
}

/// Longest rating comment.
const MAX_COMMENT_GRAPHEMES: usize = 1000;

pub(super) fn to_store(conversation: &Conversation, reply: Reply) -> NewMessage {
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
pub(super) fn unavailable(e: StoreError) -> FrameError {
    tracing::error!(error = format!("{e:#}"), "chat storage failed");
    FrameError::new(
        ErrorCode::Unavailable,
        "We couldn't save that just now. Please try again in a moment.",
    )
}
