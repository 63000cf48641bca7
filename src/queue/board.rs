//! The queue's rules, without sockets or locks: who waits in what order,
//! who holds which chat, which agents are online on this node and on the
//! others, and how long a patient may wait. The hub (`hub.rs`) keeps one
//! `Board` behind its lock and tells the sockets what changed; everything
//! here is plain data, unit-tested on its own (`board_tests.rs`).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::estimate::WaitEstimator;
use super::notice::NodeId;
use super::{AgentStatus, ClaimError, Handoff, Priority, QueueItem, Reason, Waiting};
use crate::accounts::StaffId;
use crate::ids::ConversationId;
use crate::lang::Lang;

/// How long another node's word on its agents holds without a heartbeat:
/// a node that died takes its agents' presence with it after this long.
pub const PRESENCE_TTL: Duration = Duration::from_secs(15);

struct Entry {
    conversation: ConversationId,
    reason: Reason,
    lang: Lang,
    since: Instant,
    preview: Option<String>,
}

/// An agent who has had a console open on this node (their chosen status
/// outlives a reconnect).
struct Here {
    name: String,
    status: AgentStatus,
    consoles: usize,
}

/// The agents another node last said it has, and when it said so.
struct Node {
    heard: Instant,
    agents: Vec<(StaffId, AgentStatus)>,
}

#[derive(Default)]
pub(super) struct Board {
    queue: Vec<Entry>,
    assigned: HashMap<ConversationId, (StaffId, String)>,
    here: HashMap<StaffId, Here>,
    /// Other nodes' agents, by node (empty with one node).
    nodes: HashMap<NodeId, Node>,
    waits: WaitEstimator,
}

/// A chat taken off the queue for an agent whose claim is not yet final.
pub struct Reserved {
    entry: Entry,
    index: usize,
    agent: StaffId,
    name: String,
}

impl Reserved {
    pub(super) fn conversation(&self) -> &ConversationId {
        &self.entry.conversation
    }

    pub(super) fn agent(&self) -> StaffId {
        self.agent
    }

    pub(super) fn name(&self) -> &str {
        &self.name
    }
}

/// What a release took away: the chat's place in the queue, its agent.
pub(super) struct Released {
    pub dequeued: bool,
    pub agent: Option<StaffId>,
}

/// The chats and agents whose sockets may have missed something when the
/// board was replaced from the database.
pub(super) struct Replaced {
    pub chats: HashSet<ConversationId>,
    pub agents: HashSet<StaffId>,
}

impl Board {
    /// Puts a conversation in the queue (or refreshes its entry); returns
    /// its position.
    pub fn enqueue(&mut self, w: Waiting, now: Instant) -> usize {
        self.queue.retain(|e| e.conversation != w.conversation);
        self.assigned.remove(&w.conversation);
        let conversation = w.conversation.clone();
        self.queue.push(entry(w, now));
        self.sort();
        self.position_of(&conversation).unwrap_or(0)
    }

    /// Takes a chat off the queue and holds it for `agent`, so no other
    /// claim can have it.
    pub fn reserve(
        &mut self,
        conversation: &ConversationId,
        agent: StaffId,
        name: &str,
    ) -> Result<Reserved, ClaimError> {
        let Some(index) = self
            .queue
            .iter()
            .position(|e| &e.conversation == conversation)
        else {
            return Err(if self.assigned.contains_key(conversation) {
                ClaimError::AlreadyClaimed
            } else {
                ClaimError::NotQueued
            });
        };
        let entry = self.queue.remove(index);
        self.assigned
            .insert(conversation.clone(), (agent, name.to_owned()));
        Ok(Reserved {
            entry,
            index,
            agent,
            name: name.to_owned(),
        })
    }

    /// A reserved claim is final: returns how long the patient waited.
    pub fn confirm(&mut self, held: &Reserved) -> Duration {
        let waited = held.entry.since.elapsed();
        self.waits.record(waited);
        waited
    }

    /// Undoes a reserved claim: the chat waits again at its old place.
    /// False when it was released meanwhile (nothing to put back).
    pub fn put_back(&mut self, held: Reserved) -> bool {
        if self.assigned.remove(&held.entry.conversation).is_none() {
            return false;
        }
        let at = held.index.min(self.queue.len());
        self.queue.insert(at, held.entry);
        true
    }

    /// Drops a reserved claim that someone else won: the chat does not
    /// wait again here. False when it was released meanwhile.
    pub fn forget(&mut self, held: &Reserved) -> bool {
        self.assigned.remove(&held.entry.conversation).is_some()
    }

    /// A claim made elsewhere: the chat leaves the queue (its wait counts
    /// for the estimates) and goes to `agent`.
    pub fn assign(&mut self, conversation: &ConversationId, agent: StaffId, name: String) {
        if let Some(i) = self
            .queue
            .iter()
            .position(|e| &e.conversation == conversation)
        {
            let entry = self.queue.remove(i);
            self.waits.record(entry.since.elapsed());
        }
        self.assigned.insert(conversation.clone(), (agent, name));
    }

    /// Restores an assignment read from the store.
    pub fn restore(&mut self, conversation: ConversationId, agent: StaffId, name: String) {
        self.assigned.insert(conversation, (agent, name));
    }

    /// Moves an assigned chat to `to`; returns who had it (None: nobody).
    pub fn transfer(
        &mut self,
        conversation: &ConversationId,
        to: StaffId,
        name: &str,
    ) -> Option<StaffId> {
        let (from, _) = self.assigned.get(conversation).cloned()?;
        self.assigned
            .insert(conversation.clone(), (to, name.to_owned()));
        Some(from)
    }

    /// Takes a chat out of the queue and away from its agent.
    pub fn release(&mut self, conversation: &ConversationId) -> Released {
        let before = self.queue.len();
        self.queue.retain(|e| &e.conversation != conversation);
        Released {
            dequeued: self.queue.len() != before,
            agent: self.assigned.remove(conversation).map(|(a, _)| a),
        }
    }

    /// The patient's latest words for the queue; false when not waiting.
    pub fn set_preview(&mut self, conversation: &ConversationId, preview: String) -> bool {
        match self
            .queue
            .iter_mut()
            .find(|e| &e.conversation == conversation)
        {
            Some(entry) => {
                entry.preview = Some(preview);
                true
            }
            None => false,
        }
    }

    pub fn handoff(&self, conversation: &ConversationId) -> Handoff {
        if let Some((agent, agent_name)) = self.assigned.get(conversation) {
            return Handoff::Assigned {
                agent: *agent,
                agent_name: agent_name.clone(),
            };
        }
        match self.position_of(conversation) {
            Some(position) => Handoff::Queued {
                position,
                estimated_wait_s: self.waits.estimate(position, self.online()),
            },
            None => Handoff::Bot,
        }
    }

    pub fn assigned_to(&self, conversation: &ConversationId) -> Option<StaffId> {
        self.assigned.get(conversation).map(|(a, _)| *a)
    }

    /// Conversations held by `agent`, in id order.
    pub fn held_by(&self, agent: StaffId) -> Vec<ConversationId> {
        let mut held: Vec<_> = self
            .assigned
            .iter()
            .filter(|(_, (a, _))| *a == agent)
            .map(|(c, _)| c.clone())
            .collect();
        held.sort();
        held
    }

    pub fn queue_items(&self) -> Vec<QueueItem> {
        self.queue
            .iter()
            .enumerate()
            .map(|(i, e)| QueueItem {
                conversation: e.conversation.to_string(),
                position: i + 1,
                reason: e.reason,
                priority: Priority::of(e.reason),
                waiting_s: e.since.elapsed().as_secs(),
                lang: e.lang,
                preview: e.preview.clone(),
            })
            .collect()
    }

    /// Every waiting chat with its place (from 1) and estimated wait.
    pub fn places(&self) -> impl Iterator<Item = (&ConversationId, usize, Option<u64>)> + '_ {
        let agents = self.online();
        self.queue.iter().enumerate().map(move |(i, e)| {
            let position = i + 1;
            (
                &e.conversation,
                position,
                self.waits.estimate(position, agents),
            )
        })
    }

    /// Agents online on any node, each once (an agent may have consoles
    /// open on two nodes).
    pub fn online(&self) -> usize {
        let all: HashSet<StaffId> = self.online_agents().collect();
        all.len()
    }

    pub fn is_online(&self, agent: StaffId) -> bool {
        self.online_agents().any(|a| a == agent)
    }

    fn online_agents(&self) -> impl Iterator<Item = StaffId> + '_ {
        let here = self
            .here
            .iter()
            .filter(|(_, a)| a.status == AgentStatus::Online && a.consoles > 0)
            .map(|(id, _)| *id);
        let elsewhere = self
            .fresh_nodes()
            .flat_map(|n| n.agents.iter())
            .filter(|(_, status)| *status == AgentStatus::Online)
            .map(|(id, _)| *id);
        here.chain(elsewhere)
    }

    fn fresh_nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes
            .values()
            .filter(|n| n.heard.elapsed() < PRESENCE_TTL)
    }

    /// The agent's chosen availability: as set here while they have a
    /// console open here, else as another node last said, else offline.
    pub fn status_of(&self, agent: StaffId) -> AgentStatus {
        if let Some(a) = self.here.get(&agent).filter(|a| a.consoles > 0) {
            return a.status;
        }
        self.fresh_nodes()
            .flat_map(|n| n.agents.iter())
            .filter(|(id, _)| *id == agent)
            .map(|(_, status)| *status)
            .min_by_key(|status| match status {
                AgentStatus::Online => 0,
                AgentStatus::Away => 1,
                AgentStatus::Offline => 2,
            })
            .unwrap_or(AgentStatus::Offline)
    }

    /// This node's agents with a console open, and their availability.
    pub fn presence(&self) -> Vec<(StaffId, AgentStatus)> {
        let mut agents: Vec<_> = self
            .here
            .iter()
            .filter(|(_, a)| a.consoles > 0)
            .map(|(id, a)| (*id, a.status))
            .collect();
        agents.sort_unstable_by_key(|(id, _)| id.0);
        agents
    }

    /// An agent opened a console here (online, unless they chose otherwise
    /// before).
    pub fn console_opened(&mut self, agent: StaffId, name: &str) {
        self.here
            .entry(agent)
            .or_insert_with(|| Here {
                name: name.to_owned(),
                status: AgentStatus::Online,
                consoles: 0,
            })
            .consoles += 1;
    }

    pub fn console_closed(&mut self, agent: StaffId) {
        if let Some(a) = self.here.get_mut(&agent) {
            a.consoles = a.consoles.saturating_sub(1);
        }
    }

    pub fn set_status(&mut self, agent: StaffId, status: AgentStatus) {
        if let Some(a) = self.here.get_mut(&agent) {
            a.status = status;
        }
    }

    /// The name of an agent who has had a console open here.
    pub fn agent_name(&self, agent: StaffId) -> Option<String> {
        self.here.get(&agent).map(|a| a.name.clone())
    }

    /// Another node's agents, as it says now.
    pub fn heard_presence(&mut self, node: NodeId, agents: Vec<(StaffId, AgentStatus)>) {
        let heard = Instant::now();
        self.nodes.insert(node, Node { heard, agents });
    }

    /// Forgets nodes not heard from for [`PRESENCE_TTL`].
    pub fn expire_presence(&mut self) {
        self.nodes.retain(|_, n| n.heard.elapsed() < PRESENCE_TTL);
    }

    /// Replaces the queue and the assignments with the database's. Returns
    /// the chats assigned before or after, and their agents: what may have
    /// missed a message while this node was not listening.
    pub fn replace(
        &mut self,
        waiting: Vec<Waiting>,
        assigned: Vec<(ConversationId, StaffId, String)>,
        now: Instant,
    ) -> Replaced {
        let old = std::mem::take(&mut self.assigned);
        self.queue = waiting.into_iter().map(|w| entry(w, now)).collect();
        self.sort();
        for (conversation, agent, name) in assigned {
            self.assigned.insert(conversation, (agent, name));
        }
        let both = || old.iter().chain(self.assigned.iter());
        Replaced {
            chats: both().map(|(c, _)| c.clone()).collect(),
            agents: both().map(|(_, (a, _))| *a).collect(),
        }
    }

    fn sort(&mut self) {
        self.queue.sort_by(|a, b| {
            Priority::of(b.reason)
                .cmp(&Priority::of(a.reason))
                .then(a.since.cmp(&b.since))
        });
    }

    fn position_of(&self, conversation: &ConversationId) -> Option<usize> {
        self.queue
            .iter()
            .position(|e| &e.conversation == conversation)
            .map(|i| i + 1)
    }
}

fn entry(w: Waiting, now: Instant) -> Entry {
    Entry {
        since: now.checked_sub(w.waited).unwrap_or(now),
        conversation: w.conversation,
        reason: w.reason,
        lang: w.lang,
        preview: w.preview,
    }
}

#[cfg(test)]
#[path = "board_tests.rs"]
mod tests;
