//! Claims, transfers and releases: who holds a chat, on the board, with
//! the patient, the queue and the other nodes told.

use std::time::Duration;

use super::{Delivery, Hub, Origin, agent_senders, patient_senders, queue_changed};
use crate::accounts::StaffId;
use crate::ids::ConversationId;
use crate::queue::board::Reserved;
use crate::queue::notice::Notice;
use crate::queue::{AgentEvent, ClaimError, PatientEvent};

impl Hub {
    /// Claims a queued conversation for `agent`. Exactly one of several
    /// simultaneous claims wins. Returns how long the patient waited.
    pub fn claim(
        &self,
        conversation: &ConversationId,
        agent: StaffId,
        name: &str,
    ) -> Result<Duration, ClaimError> {
        let held = self.reserve(conversation, agent, name)?;
        Ok(self.confirm(held))
    }

    /// The first half of a claim: takes the chat off the queue and holds it
    /// for `agent`, so no other agent can claim it, but tells nobody yet.
    /// Then [`Hub::confirm`] it (the patient sees the agent join), or
    /// [`Hub::put_back`] it where it was (nobody saw anything).
    pub fn reserve(
        &self,
        conversation: &ConversationId,
        agent: StaffId,
        name: &str,
    ) -> Result<Reserved, ClaimError> {
        self.lock().board.reserve(conversation, agent, name)
    }

    /// Completes a reserved claim: the queue and the patient hear of it.
    /// Returns how long the patient waited.
    pub fn confirm(&self, held: Reserved) -> Duration {
        let conversation = held.conversation().clone();
        let (waited, outbox) = {
            let mut s = self.lock();
            let waited = s.board.confirm(&held);
            let mut outbox = queue_changed(&s);
            let joined = PatientEvent::AgentJoined {
                name: held.name().to_owned(),
            };
            for tx in patient_senders(&s, &conversation) {
                outbox.push(Delivery::Patient(tx, joined.clone()));
            }
            (waited, outbox)
        };
        self.deliver(outbox);
        let agent = held.agent();
        self.publish(
            Origin::Here,
            Notice::Claimed {
                conversation,
                agent,
            },
        );
        waited
    }

    /// Undoes a reserved claim: the chat waits again at its old place.
    pub fn put_back(&self, held: Reserved) {
        let outbox = {
            let mut s = self.lock();
            // Released meanwhile (the patient ended the chat): nothing to put back.
            if !s.board.put_back(held) {
                return;
            }
            // Others may have been sent a queue without it meanwhile.
            queue_changed(&s)
        };
        self.deliver(outbox);
    }

    /// Drops a reserved claim that the database refused because someone
    /// else holds the chat: it does not wait again here.
    pub fn forget(&self, held: Reserved) {
        let outbox = {
            let mut s = self.lock();
            if !s.board.forget(&held) {
                return;
            }
            queue_changed(&s)
        };
        self.deliver(outbox);
    }

    /// Moves an assigned conversation to another agent.
    pub fn transfer(&self, conversation: &ConversationId, to: StaffId, to_name: &str) -> bool {
        self.transfer_from(Origin::Here, conversation, to, to_name)
    }

    pub(super) fn transfer_from(
        &self,
        origin: Origin,
        conversation: &ConversationId,
        to: StaffId,
        to_name: &str,
    ) -> bool {
        let outbox = {
            let mut s = self.lock();
            let Some(from) = s.board.transfer(conversation, to, to_name) else {
                return false;
            };
            let mut outbox = Vec::new();
            let released = AgentEvent::Released {
                conversation: conversation.clone(),
                why: "transferred",
            };
            for tx in agent_senders(&s, from) {
                outbox.push(Delivery::Agent(tx, released.clone()));
            }
            let assigned = AgentEvent::Assigned {
                conversation: conversation.clone(),
            };
            for tx in agent_senders(&s, to) {
                outbox.push(Delivery::Agent(tx, assigned.clone()));
            }
            let joined = PatientEvent::AgentJoined {
                name: to_name.to_owned(),
            };
            for tx in patient_senders(&s, conversation) {
                outbox.push(Delivery::Patient(tx, joined.clone()));
            }
            outbox
        };
        self.deliver(outbox);
        let conversation = conversation.clone();
        self.publish(origin, Notice::Transferred { conversation, to });
        true
    }

    /// Takes a conversation out of the queue and away from its agent (it was
    /// resolved, returned to the bot, or the patient left). `why` is what the
    /// agent's console is told.
    pub fn release(&self, conversation: &ConversationId, why: &'static str) -> Option<StaffId> {
        self.release_from(Origin::Here, conversation, why)
    }

    pub(super) fn release_from(
        &self,
        origin: Origin,
        conversation: &ConversationId,
        why: &'static str,
    ) -> Option<StaffId> {
        let (released, outbox) = {
            let mut s = self.lock();
            let released = s.board.release(conversation);
            let mut outbox = if released.dequeued {
                queue_changed(&s)
            } else {
                Vec::new()
            };
            if let Some(a) = released.agent {
                let event = AgentEvent::Released {
                    conversation: conversation.clone(),
                    why,
                };
                for tx in agent_senders(&s, a) {
                    outbox.push(Delivery::Agent(tx, event.clone()));
                }
                for tx in patient_senders(&s, conversation) {
                    outbox.push(Delivery::Patient(tx, PatientEvent::AgentLeft));
                }
            }
            (released, outbox)
        };
        self.deliver(outbox);
        // A chat that was only with the bot is nobody else's news.
        if released.dequeued || released.agent.is_some() {
            let conversation = conversation.clone();
            self.publish(origin, Notice::Released { conversation, why });
        }
        released.agent
    }
}
