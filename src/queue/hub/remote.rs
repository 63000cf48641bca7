//! What other nodes on the same database tell this hub, already read back
//! from the database into full values by the relay. Each change is made to
//! the board as if it had happened here, and this node's own sockets are
//! told; nothing is passed on again.

use std::time::Instant;

use super::{Delivery, Hub, Origin, patient_positions, queue_changed};
use crate::accounts::StaffId;
use crate::ids::ConversationId;
use crate::queue::board::Board;
use crate::queue::notice::{NodeId, Side};
use crate::queue::{AgentEvent, AgentStatus, PatientEvent, Waiting};
use crate::transcript::Message;

impl Hub {
    /// Another node put the conversation in the queue.
    pub fn heard_queued(&self, w: Waiting) {
        self.enqueue_from(Origin::Elsewhere, w);
    }

    /// The patient wrote again while waiting, on another node.
    pub fn heard_preview(&self, conversation: &ConversationId, preview: String) {
        self.update_preview_from(Origin::Elsewhere, conversation, preview);
    }

    /// An agent on another node claimed the conversation: it leaves the
    /// queue here too, and the patient, if connected here, sees the agent
    /// join.
    pub fn heard_claimed(&self, conversation: &ConversationId, agent: StaffId, name: String) {
        let outbox = {
            let mut s = self.lock();
            s.board.assign(conversation, agent, name.clone());
            let mut outbox = queue_changed(&s);
            let joined = PatientEvent::AgentJoined { name };
            for tx in super::patient_senders(&s, conversation) {
                outbox.push(Delivery::Patient(tx, joined.clone()));
            }
            outbox
        };
        self.deliver(outbox);
    }

    /// An agent on another node passed the conversation to `to`.
    pub fn heard_transferred(&self, conversation: &ConversationId, to: StaffId, name: String) {
        if !self.transfer_from(Origin::Elsewhere, conversation, to, &name) {
            // This node had not heard of the claim: the transfer is news
            // of who holds it now.
            self.heard_claimed(conversation, to, name);
        }
    }

    /// The conversation left the queue or its agent on another node.
    pub fn heard_released(&self, conversation: &ConversationId, why: &'static str) {
        self.release_from(Origin::Elsewhere, conversation, why);
    }

    /// A stored message for the sockets of one side.
    pub fn heard_message(&self, conversation: &ConversationId, message: Message, to: Side) {
        match to {
            Side::Patient => self.to_patient_from(
                Origin::Elsewhere,
                conversation,
                PatientEvent::Message(Box::new(message)),
            ),
            Side::Agent => {
                let event = AgentEvent::Message {
                    conversation: conversation.clone(),
                    message,
                };
                self.to_agent_from(Origin::Elsewhere, conversation, event);
            }
        }
    }

    pub fn heard_typing(&self, conversation: &ConversationId, to: Side) {
        match to {
            Side::Patient => {
                self.to_patient_from(Origin::Elsewhere, conversation, PatientEvent::Typing)
            }
            Side::Agent => {
                let event = AgentEvent::Typing {
                    conversation: conversation.clone(),
                };
                self.to_agent_from(Origin::Elsewhere, conversation, event);
            }
        }
    }

    pub fn heard_alert(&self, conversation: &ConversationId, category: String, kind: &'static str) {
        let event = AgentEvent::Alert {
            conversation: conversation.clone(),
            category,
            kind,
        };
        self.to_agent_from(Origin::Elsewhere, conversation, event);
    }

    /// Another node's agents, as it says now. Waiting patients here get new
    /// estimates when the number online changes.
    pub fn heard_presence(&self, node: NodeId, agents: Vec<(StaffId, AgentStatus)>) {
        self.change_presence(|board| board.heard_presence(node, agents));
    }

    /// Forgets nodes that have not said anything for
    /// [`PRESENCE_TTL`](crate::queue::PRESENCE_TTL): a node that died is no
    /// longer counted as staffing the queue.
    pub fn expire_presence(&self) {
        self.change_presence(Board::expire_presence);
    }

    fn change_presence(&self, change: impl FnOnce(&mut Board)) {
        let outbox = {
            let mut s = self.lock();
            let before = s.board.online();
            change(&mut s.board);
            let mut outbox = Vec::new();
            if s.board.online() != before {
                patient_positions(&s, &mut outbox);
            }
            outbox
        };
        self.deliver(outbox);
    }

    /// Replaces the queue and the assignments with the database's, after
    /// this node may have missed notices (its connection to the database
    /// was lost). Only a chat with an agent can have missed messages from
    /// another node: the sockets of every chat assigned before or after, and
    /// of every agent holding one, are cut off, and their clients reconnect
    /// and load what they missed from the store, as after a restart. The
    /// rest hear the queue and their places as they are now.
    pub fn resync(&self, waiting: Vec<Waiting>, assigned: Vec<(ConversationId, StaffId, String)>) {
        let outbox = {
            let mut s = self.lock();
            let replaced = s.board.replace(waiting, assigned, Instant::now());
            s.patients.retain(|c, _| !replaced.chats.contains(c));
            for agent in &replaced.agents {
                let cut = s.consoles.remove(agent).map_or(0, |sockets| sockets.len());
                (0..cut).for_each(|_| s.board.console_closed(*agent));
            }
            queue_changed(&s)
        };
        self.deliver(outbox);
    }
}
