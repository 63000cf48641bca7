//! What other nodes on the same database tell this hub, already read back
//! from the database into full values by the relay. Each change is made as
//! if it had happened here, and this node's own sockets are told; nothing
//! is passed on again.

use std::collections::HashSet;
use std::time::Instant;

use super::{Delivery, Hub, Node, Origin, PRESENCE_TTL, patient_positions, queue_changed};
use crate::ids::ConversationId;
use crate::queue::notice::{NodeId, Side};
use crate::queue::{AgentEvent, AgentStatus, PatientEvent, Waiting};
use crate::staff::StaffId;
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
            if let Some(i) = s.queue.iter().position(|e| &e.conversation == conversation) {
                let entry = s.queue.remove(i);
                s.waits.record(entry.since.elapsed());
            }
            s.assigned
                .insert(conversation.clone(), (agent, name.clone()));
            let mut outbox = queue_changed(&s);
            for tx in super::patient_senders(&s, conversation) {
                outbox.push(Delivery::Patient(
                    tx,
                    PatientEvent::AgentJoined { name: name.clone() },
                ));
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
        self.change_presence(|nodes| {
            nodes.insert(
                node,
                Node {
                    heard: Instant::now(),
                    agents,
                },
            );
        });
    }

    /// Forgets nodes that have not said anything for [`PRESENCE_TTL`]: a
    /// node that died is no longer counted as staffing the queue.
    pub fn expire_presence(&self) {
        self.change_presence(|nodes| nodes.retain(|_, n| n.heard.elapsed() < PRESENCE_TTL));
    }

    fn change_presence(&self, change: impl FnOnce(&mut std::collections::HashMap<NodeId, Node>)) {
        let outbox = {
            let mut s = self.lock();
            let before = super::online(&s);
            change(&mut s.nodes);
            let mut outbox = Vec::new();
            if super::online(&s) != before {
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
            let old = std::mem::take(&mut s.assigned);
            s.queue.clear();
            let now = Instant::now();
            for w in waiting {
                let since = now.checked_sub(w.waited).unwrap_or(now);
                s.queue.push(super::Entry {
                    conversation: w.conversation,
                    reason: w.reason,
                    lang: w.lang,
                    since,
                    preview: w.preview,
                });
            }
            super::sort(&mut s.queue);
            for (conversation, agent, name) in assigned {
                s.assigned.insert(conversation, (agent, name));
            }
            let chats: HashSet<ConversationId> =
                old.keys().chain(s.assigned.keys()).cloned().collect();
            let agents: HashSet<StaffId> = old
                .values()
                .chain(s.assigned.values())
                .map(|(a, _)| *a)
                .collect();
            s.patients.retain(|c, _| !chats.contains(c));
            for (id, agent) in s.agents.iter_mut() {
                if agents.contains(id) {
                    agent.sockets.clear();
                }
            }
            queue_changed(&s)
        };
        self.deliver(outbox);
    }
}
