//! Handing a patient to a person: the "talk to a person" action, the bot's
//! own escalations, the offline path when nobody can take the chat, and the
//! queue events relayed to the patient.

use std::time::Duration;

use super::connection::{Exit, Session};
use super::protocol::{ErrorCode, FrameError, MessageView, ServerFrame};
use super::session::{Handled, unavailable};
use crate::dialog::{Action, Reply, Unavailable};
use crate::queue::{AgentEvent, Handoff, PREVIEW_CHARS, PatientEvent, Waiting};
use crate::safety::Hit;
use crate::store::HandoffChange;
use crate::transcript::{Message, Reason};

impl Session {
    /// The patient asked for a person with the dedicated action.
    pub(super) async fn handoff(&mut self) -> Handled {
        let Some(active) = &self.active else {
            return Ok(Err(FrameError::new(
                ErrorCode::NotStarted,
                "No conversation is open.",
            )));
        };
        match self.state.hub.handoff(&active.conversation.id) {
            Handoff::Bot => self.escalate(Reason::PatientRequest, None).await,
            // Already with a person or in line: say where things stand.
            waiting_or_assigned => self.tell_handoff(waiting_or_assigned).await.map(Ok),
        }
    }

    /// Tells the patient where the chat stands with people, if anywhere.
    pub(super) async fn tell_handoff(&mut self, handoff: Handoff) -> Result<(), Exit> {
        match handoff {
            Handoff::Bot => Ok(()),
            Handoff::Queued {
                position,
                estimated_wait_s,
            } => {
                self.send(&ServerFrame::Queued {
                    position,
                    estimated_wait_s,
                })
                .await
            }
            Handoff::Assigned { agent_name, .. } => {
                self.send(&ServerFrame::AgentJoined { name: agent_name })
                    .await
            }
        }
    }

    /// The patient is typing: their agent sees it, at most once per
    /// [`TYPING_EVERY`](super::connection::TYPING_EVERY).
    pub(super) fn typing(&mut self) -> Handled {
        let now = std::time::Instant::now();
        if self
            .typing_sent
            .is_some_and(|at| now.duration_since(at) < super::connection::TYPING_EVERY)
        {
            return Ok(Ok(()));
        }
        if let Some(active) = &self.active {
            self.typing_sent = Some(now);
            let conversation = active.conversation.id.clone();
            self.state
                .hub
                .to_agent(&conversation.clone(), AgentEvent::Typing { conversation });
        }
        Ok(Ok(()))
    }

    /// Carries out what the dialog engine asked for.
    pub(super) async fn act(&mut self, action: Action, text: &str) -> Handled {
        match action {
            Action::Escalate(reason) => self.escalate(reason, Some(text)).await,
            Action::SaveCallback(details) => {
                let Some(active) = &self.active else {
                    return Ok(Ok(()));
                };
                let callback = details.into_callback(active.conversation.id.clone());
                match self.state.writer.add_callback(callback).await {
                    Ok(_) => {
                        tracing::info!("callback request stored");
                        Ok(Ok(()))
                    }
                    Err(e) => Ok(Err(unavailable(e))),
                }
            }
        }
    }

    /// Puts the chat in the agents' queue, or starts the offline path when
    /// nobody can take it.
    async fn escalate(&mut self, reason: Reason, latest: Option<&str>) -> Handled {
        let staffed = self
            .state
            .clinic
            .get()
            .chat_staffed_at(jiff::Timestamp::now());
        let agents = self.state.hub.agents_online();
        let outcome = if !staffed || agents == 0 {
            "offline"
        } else {
            "queued"
        };
        self.record_escalation(reason, outcome).await;
        let Some(active) = self.active.as_mut() else {
            return Ok(Ok(()));
        };
        if !staffed || agents == 0 {
            let why = if staffed {
                Unavailable::NoAgents
            } else {
                Unavailable::AfterHours
            };
            tracing::info!(
                reason = reason.as_str(),
                staffed,
                "escalation went to the offline path"
            );
            let outcome = self.state.engine.offline(&mut active.dialog, why);
            for reply in outcome.replies {
                self.reply(reply).await?;
            }
            return Ok(Ok(()));
        }
        let conversation = active.conversation.id.clone();
        let lang = active.dialog.lang;
        if let Err(e) = self
            .state
            .writer
            .set_handoff(conversation.clone(), HandoffChange::Queued { reason })
            .await
        {
            return Ok(Err(unavailable(e)));
        }
        tracing::info!(reason = reason.as_str(), "conversation queued for an agent");
        self.reply(self.state.engine.queued_notice(lang)).await?;
        self.state.hub.enqueue(Waiting {
            conversation,
            reason,
            lang,
            waited: Duration::ZERO,
            preview: latest.map(|t| t.chars().take(PREVIEW_CHARS).collect()),
        });
        Ok(Ok(()))
    }

    /// A patient message may mean danger: guidance at once, the chat to the
    /// top of the queue flagged urgent (or an alert to the agent who has
    /// it), and a record. Nothing else happens with the message.
    pub(super) async fn emergency(
        &mut self,
        hit: Hit,
        guidance: Reply,
        message: Message,
    ) -> Handled {
        let Some(active) = &self.active else {
            return Ok(Ok(()));
        };
        let conversation = active.conversation.id.clone();
        let lang = active.dialog.lang;
        tracing::warn!("a safety rule fired; guidance sent and the chat flagged");
        let kind = hit.kind.as_str();
        self.record_safety(&hit).await;
        self.reply(guidance).await?;
        let hub = self.state.hub.clone();
        match hub.handoff(&conversation) {
            Handoff::Assigned { .. } => {
                self.record_escalation(Reason::Emergency, "alerted").await;
                hub.to_agent(
                    &conversation,
                    AgentEvent::Message {
                        conversation: conversation.clone(),
                        message,
                    },
                );
                hub.to_agent(
                    &conversation,
                    AgentEvent::Alert {
                        conversation: conversation.clone(),
                        category: hit.category,
                        kind,
                    },
                );
            }
            Handoff::Queued { .. } | Handoff::Bot if hub.agents_online() > 0 => {
                self.record_escalation(Reason::Emergency, "queued").await;
                let change = HandoffChange::Queued {
                    reason: Reason::Emergency,
                };
                if let Err(e) = self
                    .state
                    .writer
                    .set_handoff(conversation.clone(), change)
                    .await
                {
                    return Ok(Err(unavailable(e)));
                }
                self.reply(self.state.engine.urgent_notice(lang)).await?;
                hub.enqueue(Waiting {
                    conversation,
                    reason: Reason::Emergency,
                    lang,
                    waited: Duration::ZERO,
                    preview: Some(message.text.chars().take(PREVIEW_CHARS).collect()),
                });
            }
            // Nobody to alert: the guidance stands on its own.
            _ => self.record_escalation(Reason::Emergency, "offline").await,
        }
        Ok(Ok(()))
    }

    /// A message that calls for care today, not an emergency: its guidance
    /// first, a record, and a note to the agent who has the chat; then the
    /// message goes on as usual (the bot, the queue or the agent).
    pub(super) async fn urgent_care(&mut self, hit: Hit, guidance: Reply) -> Result<(), Exit> {
        let Some(active) = &self.active else {
            return Ok(());
        };
        let conversation = active.conversation.id.clone();
        tracing::info!("urgent-care guidance sent");
        self.record_safety(&hit).await;
        self.reply(guidance).await?;
        if matches!(
            self.state.hub.handoff(&conversation),
            Handoff::Assigned { .. }
        ) {
            self.state.hub.to_agent(
                &conversation,
                AgentEvent::Alert {
                    conversation: conversation.clone(),
                    category: hit.category,
                    kind: hit.kind.as_str(),
                },
            );
        }
        Ok(())
    }

    /// Records a safety event for the numbers; a failure is logged, the
    /// patient is not kept waiting for it.
    async fn record_safety(&self, hit: &Hit) {
        let Some(active) = &self.active else { return };
        if let Err(e) = self
            .state
            .writer
            .record_safety(
                active.conversation.id.clone(),
                hit.category.clone(),
                hit.kind.as_str(),
            )
            .await
        {
            tracing::error!(
                error = format!("{e:#}"),
                "a safety event could not be recorded"
            );
        }
    }

    /// Records a hand-over attempt for the numbers; a failure is logged,
    /// the patient is not kept waiting for it.
    async fn record_escalation(&self, reason: Reason, outcome: &'static str) {
        let Some(active) = &self.active else { return };
        let conversation = active.conversation.id.clone();
        if self
            .state
            .writer
            .record_escalation(conversation, reason.as_str(), outcome)
            .await
            .is_err()
        {
            tracing::error!("an escalation could not be recorded");
        }
    }

    /// Passes a queue event on to the patient.
    pub(super) async fn relay(&mut self, event: PatientEvent) -> Result<(), Exit> {
        match event {
            PatientEvent::Queued {
                position,
                estimated_wait_s,
            } => {
                self.send(&ServerFrame::Queued {
                    position,
                    estimated_wait_s,
                })
                .await
            }
            PatientEvent::AgentJoined { name } => {
                self.send(&ServerFrame::AgentJoined { name }).await
            }
            PatientEvent::Message(message) => {
                self.send(&ServerFrame::Reply(MessageView::from(*message)))
                    .await
            }
            PatientEvent::Typing => self.send(&ServerFrame::Typing { from: "agent" }).await,
            PatientEvent::AgentLeft => {
                if let Some(active) = self.active.as_mut() {
                    self.state.engine.reset(&mut active.dialog);
                }
                self.send(&ServerFrame::AgentLeft).await
            }
        }
    }
}
