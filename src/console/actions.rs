//! What an agent's frames do: claim, talk, note, transfer, hand back,
//! resolve. Each checks that the chat is this agent's before touching it,
//! stores the change, then tells the hub.

use unicode_segmentation::UnicodeSegmentation;

use super::connection::{Agent, Exit};
use super::protocol::{AgentFrame, BotTurn, ConsoleFrame, Context, Refusal};
use crate::ids::{ClientMessageId, ConversationId};
use crate::transcript::Page;

/// Messages sent with `claimed`; `more_history` says when there are older.
const CLAIM_HISTORY: usize = 200;
use crate::queue::{ClaimError, PatientEvent};
use crate::store::{HandoffChange, StoreError};
use crate::transcript::{Message, NewMessage, Sender};

/// Patient texts and bot turns kept in the hand-over packet.
const CONTEXT_QUESTIONS: usize = 10;
const CONTEXT_BOT_TURNS: usize = 5;
const MAX_NOTE_CHARS: usize = 2000;

pub(super) enum Failure {
    Refused(Refusal),
    Exit(Exit),
}

impl From<Exit> for Failure {
    fn from(e: Exit) -> Self {
        Failure::Exit(e)
    }
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Self {
        Failure::Refused(r)
    }
}

/// Another agent holds the chat (here, or on another server).
fn already_claimed(conversation: &ConversationId) -> Failure {
    Refusal::new(
        "already_claimed",
        "Another agent already claimed this chat.",
    )
    .about(conversation)
    .into()
}

/// Storage failed; a storage fault is logged once by the store's health
/// record, anything else here.
fn unavailable(e: StoreError) -> Refusal {
    match e {
        StoreError::Unavailable(fault) => {
            tracing::debug!(fault = fault.code(), "console write refused")
        }
        e => tracing::error!(error = format!("{e:#}"), "console storage failed"),
    }
    Refusal::new(
        "unavailable",
        "That could not be saved just now. Please try again.",
    )
}

impl Agent {
    pub(super) async fn act(&mut self, frame: AgentFrame) -> Result<(), Failure> {
        match frame {
            AgentFrame::Claim { conversation } => self.claim(conversation).await,
            AgentFrame::Say {
                conversation,
                id,
                text,
            } => self.say(conversation, id, text).await,
            AgentFrame::Typing { conversation } => {
                self.mine(&conversation)?;
                self.state
                    .hub
                    .to_patient(&conversation, PatientEvent::Typing);
                Ok(())
            }
            AgentFrame::Note { conversation, text } => self.note(conversation, text).await,
            AgentFrame::Transfer { conversation, to } => self.transfer(conversation, to).await,
            AgentFrame::ReturnToBot { conversation } => self.hand_back(conversation, None).await,
            AgentFrame::Resolve {
                conversation,
                disposition,
            } => self.hand_back(conversation, Some(disposition)).await,
            AgentFrame::Status { status } => {
                self.state.hub.set_status(self.session.staff, status);
                Ok(())
            }
        }
    }

    /// Records an action on a chat before it takes effect. When the record
    /// cannot be written the action must not happen: the refusal says so.
    async fn audited(
        &self,
        action: &str,
        conversation: &ConversationId,
        allowed: bool,
    ) -> Result<(), Refusal> {
        let written = self
            .session
            .audit(&self.state.writer, action, conversation.as_str(), allowed)
            .await;
        written.map_err(|_| {
            tracing::error!(action, "an audit record could not be written; refused");
            Refusal::new(
                "unavailable",
                "This cannot be done right now: the audit log cannot be written. Nothing changed; try again shortly.",
            )
            .about(conversation)
        })
    }

    fn mine(&self, conversation: &ConversationId) -> Result<(), Refusal> {
        if self.state.hub.assigned_to(conversation) == Some(self.session.staff) {
            Ok(())
        } else {
            Err(Refusal::new("not_yours", "This chat is not assigned to you.").about(conversation))
        }
    }

    async fn claim(&mut self, conversation: ConversationId) -> Result<(), Failure> {
        let (staff, name) = (self.session.staff, self.session.name.clone());
        // Held, not yet announced: a claim that cannot be audited is undone
        // before the patient or the queue hear of it.
        let held = self.state.hub.reserve(&conversation, staff, &name);
        let audited = self
            .audited("chat.claim", &conversation, held.is_ok())
            .await;
        match (held, audited) {
            (Ok(held), Err(refusal)) => {
                self.state.hub.put_back(held);
                Err(refusal.into())
            }
            (Ok(held), Ok(())) => {
                // The database has the last word between agents: the claim
                // is one conditional update, so exactly one wins.
                let change = HandoffChange::Claimed { agent: staff };
                match self
                    .state
                    .writer
                    .set_handoff(conversation.clone(), change)
                    .await
                {
                    Ok(()) => {}
                    Err(StoreError::Conflict(_)) => {
                        self.state.hub.forget(held);
                        return Err(already_claimed(&conversation));
                    }
                    Err(e) => {
                        self.state.hub.put_back(held);
                        return Err(unavailable(e).about(&conversation).into());
                    }
                }
                let waited = self.state.hub.confirm(held);
                self.state.metrics.queue_wait.observe(waited);
                tracing::info!(conversation = %conversation, waited_s = waited.as_secs(), "chat claimed");
                self.send_claimed(&conversation).await?;
                Ok(())
            }
            (Err(ClaimError::AlreadyClaimed), _) => Err(already_claimed(&conversation)),
            (Err(ClaimError::NotQueued), _) => Err(Refusal::new(
                "not_queued",
                "This chat is not waiting for an agent.",
            )
            .about(&conversation)
            .into()),
        }
    }

    async fn say(
        &mut self,
        conversation: ConversationId,
        id: ClientMessageId,
        text: String,
    ) -> Result<(), Failure> {
        self.mine(&conversation)?;
        let text = text.trim();
        let limit = self.state.settings.limits.max_text_graphemes;
        if text.is_empty() {
            return Err(Refusal::new("empty_text", "The message is empty.")
                .about(&conversation)
                .into());
        }
        if text.graphemes(true).nth(limit).is_some() {
            return Err(Refusal::new(
                "text_too_long",
                format!("Messages can be at most {limit} characters."),
            )
            .about(&conversation)
            .into());
        }
        let message = NewMessage {
            conversation: conversation.clone(),
            sender: Sender::Agent,
            text: text.to_owned(),
            client_id: Some(agent_namespace(&id)),
            details: Default::default(),
        };
        let appended = self
            .state
            .writer
            .append(message)
            .await
            .map_err(|e| unavailable(e).about(&conversation))?;
        self.send(&ConsoleFrame::Ack {
            conversation: conversation.to_string(),
            id: id.to_string(),
            seq: appended.seq,
        })
        .await?;
        if !appended.duplicate {
            let stored = Message {
                seq: appended.seq,
                sender: Sender::Agent,
                text: text.to_owned(),
                details: Default::default(),
                at: appended.at,
            };
            self.state
                .hub
                .to_patient(&conversation, PatientEvent::Message(Box::new(stored)));
        }
        Ok(())
    }

    async fn note(&mut self, conversation: ConversationId, text: String) -> Result<(), Failure> {
        self.mine(&conversation)?;
        let text = text.trim().to_owned();
        if text.is_empty() || text.chars().count() > MAX_NOTE_CHARS {
            return Err(Refusal::new("bad_frame", "Notes are 1 to 2000 characters.")
                .about(&conversation)
                .into());
        }
        self.state
            .writer
            .add_note(conversation.clone(), self.session.staff, text.clone())
            .await
            .map_err(|e| unavailable(e).about(&conversation))?;
        let frame = ConsoleFrame::NoteAdded {
            conversation: conversation.to_string(),
            author: self.session.name.clone(),
            text,
            at: crate::transcript::now(),
        };
        self.send(&frame).await?;
        Ok(())
    }

    async fn transfer(&mut self, conversation: ConversationId, to: String) -> Result<(), Failure> {
        self.mine(&conversation)?;
        let target = self
            .state
            .store
            .staff_by_name(&to)
            .await
            .map_err(unavailable)?;
        let Some(target) =
            target.filter(|a| !a.disabled && a.role.handles_chats() && a.id != self.session.staff)
        else {
            return Err(
                Refusal::new("unknown_agent", "There is no other agent by that name.")
                    .about(&conversation)
                    .into(),
            );
        };
        // Audited first: a transfer that cannot be recorded does not happen.
        self.audited("chat.transfer", &conversation, true).await?;
        self.state
            .writer
            .set_handoff(
                conversation.clone(),
                HandoffChange::Assigned { agent: target.id },
            )
            .await
            .map_err(|e| unavailable(e).about(&conversation))?;
        self.state
            .hub
            .transfer(&conversation, target.id, &target.name);
        tracing::info!(conversation = %conversation, to = target.id.0, "chat transferred");
        Ok(())
    }

    /// Returns the chat to the bot (`disposition` None) or resolves it.
    async fn hand_back(
        &mut self,
        conversation: ConversationId,
        disposition: Option<Option<String>>,
    ) -> Result<(), Failure> {
        self.mine(&conversation)?;
        let (change, why) = match disposition {
            None => (HandoffChange::ToBot, "returned_to_bot"),
            Some(disposition) => (HandoffChange::Resolved { disposition }, "resolved"),
        };
        self.state
            .writer
            .set_handoff(conversation.clone(), change)
            .await
            .map_err(|e| unavailable(e).about(&conversation))?;
        let lang = self
            .state
            .store
            .conversation_info(&conversation)
            .await
            .map_err(unavailable)?
            .map(|i| i.lang)
            .unwrap_or_default();
        let notice = self.state.engine.back_to_bot_notice(lang);
        let message = NewMessage {
            conversation: conversation.clone(),
            sender: notice.sender,
            text: notice.text.clone(),
            client_id: None,
            details: notice.details.clone(),
        };
        if let Ok(appended) = self.state.writer.append(message).await {
            let stored = Message {
                seq: appended.seq,
                sender: notice.sender,
                text: notice.text,
                details: notice.details,
                at: appended.at,
            };
            self.state
                .hub
                .to_patient(&conversation, PatientEvent::Message(Box::new(stored)));
        }
        self.state.hub.release(&conversation, why);
        tracing::info!(conversation = %conversation, why, "chat handed back");
        Ok(())
    }

    /// Sends the picture of a chat this agent now holds: its newest
    /// [`CLAIM_HISTORY`] messages (older ones through the transcript API).
    pub(super) async fn send_claimed(&mut self, conversation: &ConversationId) -> Result<(), Exit> {
        // The history is a transcript view (on a claim, a transfer and every
        // reconnect): audited first, and not sent when it cannot be.
        if self
            .session
            .audit(
                &self.state.writer,
                "transcript.view",
                conversation.as_str(),
                true,
            )
            .await
            .is_err()
        {
            tracing::error!("an audit record could not be written; history withheld");
            let refusal = Refusal::new(
                "unavailable",
                "The chat's history cannot be shown right now (the audit log cannot be written). Try again shortly.",
            );
            return self.send(&refusal.about(conversation).into()).await;
        }
        let loaded = async {
            let history = self
                .state
                .store
                .history(conversation, Page::latest(CLAIM_HISTORY))
                .await?;
            let notes = self.state.store.notes(conversation).await?;
            let info = self.state.store.conversation_info(conversation).await?;
            let contact = self.state.store.remembered_contact(conversation).await?;
            Ok::<_, StoreError>((history, notes, info, contact))
        }
        .await;
        let (history, notes, info, contact) = match loaded {
            Ok(loaded) => loaded,
            Err(e) => return self.send(&unavailable(e).about(conversation).into()).await,
        };
        let mut context = context(&history.messages, info.as_ref());
        context.contact = contact.map(|c| c.preference);
        let (history, more_history) = crate::chat::protocol::page_views(history);
        let frame = ConsoleFrame::Claimed {
            conversation: conversation.to_string(),
            history,
            more_history,
            context,
            notes,
        };
        self.send(&frame).await
    }
}

/// The hand-over packet: the patient's words and the bot's answers, newest last.
fn context(history: &[Message], info: Option<&crate::store::ConversationInfo>) -> Context {
    let mut questions: Vec<String> = history
        .iter()
        .filter(|m| m.sender == Sender::Patient)
        .map(|m| m.text.clone())
        .collect();
    let skip = questions.len().saturating_sub(CONTEXT_QUESTIONS);
    questions.drain(..skip);
    let mut bot: Vec<BotTurn> = history
        .iter()
        .filter(|m| m.sender == Sender::Bot && m.seq > 1)
        .map(|m| BotTurn {
            text: m.text.clone(),
            article: m.details.article.clone(),
            confidence: m.details.confidence,
        })
        .collect();
    let skip = bot.len().saturating_sub(CONTEXT_BOT_TURNS);
    bot.drain(..skip);
    Context {
        reason: info.and_then(|i| i.reason.clone()),
        lang: info.map(|i| i.lang).unwrap_or_default(),
        channel: info.map_or_else(|| "web".to_owned(), |i| i.channel.clone()),
        waiting_s: None,
        contact: None,
        questions,
        bot,
    }
}

/// An agent's message id in the conversation's id space, where it can never
/// equal a patient's: `agent:<id>`, or for ids too long for that, `agent#`
/// and a digest of the id (the same id gives the same digest, so a resend is
/// still recognised).
fn agent_namespace(id: &ClientMessageId) -> ClientMessageId {
    use sha2::Digest;
    let short = format!("agent:{}", id.as_str()).parse();
    short.unwrap_or_else(|_| {
        let digest = sha2::Sha256::digest(id.as_str().as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "agent#{}",
            &hex[..ClientMessageId::MAX_LEN - "agent#".len()]
        )
        .parse()
        .expect("agent# and hex digits are a valid id")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_ids_of_any_length_stay_apart_from_patients() {
        let short: ClientMessageId = "m1".parse().unwrap();
        assert_eq!(agent_namespace(&short).as_str(), "agent:m1");
        let long: ClientMessageId = "x".repeat(ClientMessageId::MAX_LEN).parse().unwrap();
        let spaced = agent_namespace(&long);
        assert!(spaced.as_str().starts_with("agent#"));
        assert_ne!(spaced, long);
        assert_eq!(agent_namespace(&long), spaced, "a resend maps the same");
        let other: ClientMessageId = "y".repeat(ClientMessageId::MAX_LEN).parse().unwrap();
        assert_ne!(agent_namespace(&other), spaced);
    }
}
