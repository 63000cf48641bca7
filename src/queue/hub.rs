//! The hub's state and its one lock. Every method takes the lock, changes
//! the state, collects who must be told what, releases the lock, then sends:
//! the lock is never held while sending, and never across an `.await`.
//!
//! A change made here is also handed to the relay (when there is one) as a
//! [`Notice`] for the other nodes; what they tell this node comes back in
//! through `remote.rs`, which changes the state the same way but tells
//! nobody else.

mod remote;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::estimate::WaitEstimator;
use super::notice::{NodeId, Notice, Side};
use super::{
    AgentEvent, AgentStatus, ClaimError, Handoff, PatientEvent, QueueItem, Reason, Waiting,
};
use crate::ids::ConversationId;
use crate::lang::Lang;
use crate::staff::StaffId;

/// Events a socket may have waiting before it counts as stuck and is cut
/// off (it reconnects and reloads its state from the store).
const SOCKET_BUFFER: usize = 256;

struct Entry {
    conversation: ConversationId,
    reason: Reason,
    lang: Lang,
    since: Instant,
    preview: Option<String>,
}

struct Agent {
    name: String,
    status: AgentStatus,
    sockets: Vec<(u64, mpsc::Sender<AgentEvent>)>,
}

/// The agents another node last said it has, and when it said so.
struct Node {
    heard: Instant,
    agents: Vec<(StaffId, AgentStatus)>,
}

#[derive(Default)]
struct State {
    queue: Vec<Entry>,
    assigned: HashMap<ConversationId, (StaffId, String)>,
    patients: HashMap<ConversationId, Vec<(u64, mpsc::Sender<PatientEvent>)>>,
    agents: HashMap<StaffId, Agent>,
    /// Other nodes' agents, by node (empty with one node).
    nodes: HashMap<NodeId, Node>,
    waits: WaitEstimator,
    next_socket: u64,
}

/// How long another node's word on its agents holds without a heartbeat:
/// a node that died takes its agents' presence with it after this long.
pub const PRESENCE_TTL: Duration = Duration::from_secs(15);

type Outbox = Vec<Delivery>;

enum Delivery {
    Patient(mpsc::Sender<PatientEvent>, PatientEvent),
    Agent(mpsc::Sender<AgentEvent>, AgentEvent),
}

/// A chat taken off the queue for an agent whose claim is not yet final.
pub struct Reserved {
    entry: Entry,
    index: usize,
    agent: StaffId,
    name: String,
}

/// The queue and the live sockets of this node.
#[derive(Default)]
pub struct Hub {
    state: Mutex<State>,
    /// Where this node's changes go for the other nodes (none with one node).
    relay: OnceLock<mpsc::Sender<Notice>>,
}

/// Whether a change started on this node (and the other nodes must hear of
/// it) or was heard from another node (and goes no further).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Here,
    Elsewhere,
}

/// A patient socket's subscription; dropping it unsubscribes.
pub struct PatientLink {
    pub events: mpsc::Receiver<PatientEvent>,
    hub: Arc<Hub>,
    conversation: ConversationId,
    socket: u64,
}

/// An agent socket's subscription; dropping it unsubscribes.
pub struct AgentLink {
    pub events: mpsc::Receiver<AgentEvent>,
    hub: Arc<Hub>,
    staff: StaffId,
    socket: u64,
}

impl Hub {
    pub fn new() -> Arc<Hub> {
        Arc::new(Hub::default())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Each method leaves the state consistent before anything can panic.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// From now on, changes made on this node are also sent to `relay`, for
    /// the other nodes on the same database. Set once, at start.
    pub fn relay_to(&self, relay: mpsc::Sender<Notice>) {
        let _ = self.relay.set(relay);
    }

    /// Hands a change to the relay. A relay that cannot keep up loses the
    /// notice (the other nodes resynchronise when they next reconnect);
    /// the change itself is already stored and shown here.
    fn publish(&self, origin: Origin, notice: Notice) {
        if origin == Origin::Elsewhere {
            return;
        }
        if let Some(relay) = self.relay.get()
            && relay.try_send(notice).is_err()
        {
            tracing::warn!("the relay to other nodes is behind; a queue notice was dropped");
        }
    }

    /// The agents with a console open here, for the other nodes.
    pub fn local_presence(&self) -> Vec<(StaffId, AgentStatus)> {
        presence(&self.lock())
    }

    fn publish_presence(&self, presence: Vec<(StaffId, AgentStatus)>) {
        self.publish(Origin::Here, Notice::Presence { agents: presence });
    }

    /// Sends collected events, outside the lock. A full or closed socket is
    /// dropped from the hub, which closes it; it reconnects and resyncs.
    fn deliver(&self, outbox: Outbox) {
        let mut stuck = false;
        for delivery in outbox {
            stuck |= match delivery {
                Delivery::Patient(tx, e) => tx.try_send(e).is_err(),
                Delivery::Agent(tx, e) => tx.try_send(e).is_err(),
            };
        }
        if stuck {
            let mut s = self.lock();
            s.patients
                .values_mut()
                .for_each(|v| v.retain(|(_, tx)| tx.capacity() > 0 && !tx.is_closed()));
            s.agents.values_mut().for_each(|a| {
                a.sockets
                    .retain(|(_, tx)| tx.capacity() > 0 && !tx.is_closed())
            });
        }
    }

    pub fn connect_patient(self: &Arc<Self>, conversation: &ConversationId) -> PatientLink {
        let (tx, events) = mpsc::channel(SOCKET_BUFFER);
        let mut s = self.lock();
        s.next_socket += 1;
        let socket = s.next_socket;
        s.patients
            .entry(conversation.clone())
            .or_default()
            .push((socket, tx));
        PatientLink {
            events,
            hub: self.clone(),
            conversation: conversation.clone(),
            socket,
        }
    }

    pub fn connect_agent(self: &Arc<Self>, staff: StaffId, name: &str) -> AgentLink {
        let (tx, events) = mpsc::channel(SOCKET_BUFFER);
        let outbox = {
            let mut s = self.lock();
            s.next_socket += 1;
            let socket = s.next_socket;
            let agent = s.agents.entry(staff).or_insert_with(|| Agent {
                name: name.to_owned(),
                status: AgentStatus::Online,
                sockets: Vec::new(),
            });
            agent.sockets.push((socket, tx.clone()));
            let snapshot = queue_items(&s);
            let mut outbox = vec![Delivery::Agent(tx, AgentEvent::Queue(snapshot))];
            // Staffing changed: waiting patients get new estimates.
            patient_positions(&s, &mut outbox);
            (outbox, socket, presence(&s))
        };
        let (outbox, socket, presence) = outbox;
        self.deliver(outbox);
        self.publish_presence(presence);
        AgentLink {
            events,
            hub: self.clone(),
            staff,
            socket,
        }
    }

    /// Puts a conversation in the queue (or refreshes its entry) and tells
    /// everyone. Returns its position.
    pub fn enqueue(&self, w: Waiting) -> usize {
        self.enqueue_from(Origin::Here, w)
    }

    fn enqueue_from(&self, origin: Origin, w: Waiting) -> usize {
        let conversation = w.conversation.clone();
        let (position, outbox) = {
            let mut s = self.lock();
            s.queue.retain(|e| e.conversation != w.conversation);
            s.assigned.remove(&w.conversation);
            let since = Instant::now()
                .checked_sub(w.waited)
                .unwrap_or_else(Instant::now);
            s.queue.push(Entry {
                conversation: w.conversation.clone(),
                reason: w.reason,
                lang: w.lang,
                since,
                preview: w.preview,
            });
            sort(&mut s.queue);
            let position = position_of(&s, &w.conversation).unwrap_or(0);
            (position, queue_changed(&s))
        };
        self.deliver(outbox);
        self.publish(origin, Notice::Queued { conversation });
        position
    }

    /// Restores an assignment after a restart, without notifications.
    pub fn restore_assignment(&self, conversation: ConversationId, agent: StaffId, name: String) {
        self.lock().assigned.insert(conversation, (agent, name));
    }

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
        let mut s = self.lock();
        let Some(index) = s.queue.iter().position(|e| &e.conversation == conversation) else {
            return Err(if s.assigned.contains_key(conversation) {
                ClaimError::AlreadyClaimed
            } else {
                ClaimError::NotQueued
            });
        };
        let entry = s.queue.remove(index);
        s.assigned
            .insert(conversation.clone(), (agent, name.to_owned()));
        Ok(Reserved {
            entry,
            index,
            agent,
            name: name.to_owned(),
        })
    }

    /// Completes a reserved claim: the queue and the patient hear of it.
    /// Returns how long the patient waited.
    pub fn confirm(&self, held: Reserved) -> Duration {
        let Reserved {
            entry, agent, name, ..
        } = held;
        let conversation = &entry.conversation;
        let (waited, outbox) = {
            let mut s = self.lock();
            let waited = entry.since.elapsed();
            s.waits.record(waited);
            let mut outbox = queue_changed(&s);
            for tx in patient_senders(&s, conversation) {
                outbox.push(Delivery::Patient(
                    tx,
                    PatientEvent::AgentJoined { name: name.clone() },
                ));
            }
            (waited, outbox)
        };
        self.deliver(outbox);
        self.publish(
            Origin::Here,
            Notice::Claimed {
                conversation: entry.conversation,
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
            if s.assigned.remove(&held.entry.conversation).is_none() {
                return;
            }
            let at = held.index.min(s.queue.len());
            s.queue.insert(at, held.entry);
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
            if s.assigned.remove(&held.entry.conversation).is_none() {
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

    fn transfer_from(
        &self,
        origin: Origin,
        conversation: &ConversationId,
        to: StaffId,
        to_name: &str,
    ) -> bool {
        let outbox = {
            let mut s = self.lock();
            let Some((from, _)) = s.assigned.get(conversation).cloned() else {
                return false;
            };
            s.assigned
                .insert(conversation.clone(), (to, to_name.to_owned()));
            let mut outbox = Vec::new();
            agent_senders(&s, from).into_iter().for_each(|tx| {
                outbox.push(Delivery::Agent(
                    tx,
                    AgentEvent::Released {
                        conversation: conversation.clone(),
                        why: "transferred",
                    },
                ))
            });
            agent_senders(&s, to).into_iter().for_each(|tx| {
                outbox.push(Delivery::Agent(
                    tx,
                    AgentEvent::Assigned {
                        conversation: conversation.clone(),
                    },
                ))
            });
            for tx in patient_senders(&s, conversation) {
                outbox.push(Delivery::Patient(
                    tx,
                    PatientEvent::AgentJoined {
                        name: to_name.to_owned(),
                    },
                ));
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

    fn release_from(
        &self,
        origin: Origin,
        conversation: &ConversationId,
        why: &'static str,
    ) -> Option<StaffId> {
        let released = {
            let mut s = self.lock();
            let was_queued = s.queue.len();
            s.queue.retain(|e| &e.conversation != conversation);
            let agent = s.assigned.remove(conversation).map(|(a, _)| a);
            let dequeued = s.queue.len() != was_queued;
            let mut outbox = if dequeued {
                queue_changed(&s)
            } else {
                Vec::new()
            };
            if let Some(a) = agent {
                agent_senders(&s, a).into_iter().for_each(|tx| {
                    outbox.push(Delivery::Agent(
                        tx,
                        AgentEvent::Released {
                            conversation: conversation.clone(),
                            why,
                        },
                    ))
                });
                for tx in patient_senders(&s, conversation) {
                    outbox.push(Delivery::Patient(tx, PatientEvent::AgentLeft));
                }
            }
            (agent, outbox, dequeued || agent.is_some())
        };
        let (agent, outbox, changed) = released;
        self.deliver(outbox);
        // A chat that was only with the bot is nobody else's news.
        if changed {
            let conversation = conversation.clone();
            self.publish(origin, Notice::Released { conversation, why });
        }
        agent
    }

    pub fn handoff(&self, conversation: &ConversationId) -> Handoff {
        let s = self.lock();
        if let Some((agent, agent_name)) = s.assigned.get(conversation) {
            return Handoff::Assigned {
                agent: *agent,
                agent_name: agent_name.clone(),
            };
        }
        match position_of(&s, conversation) {
            Some(position) => Handoff::Queued {
                position,
                estimated_wait_s: s.waits.estimate(position, online(&s)),
            },
            None => Handoff::Bot,
        }
    }

    pub fn assigned_to(&self, conversation: &ConversationId) -> Option<StaffId> {
        self.lock().assigned.get(conversation).map(|(a, _)| *a)
    }

    /// Conversations currently held by `agent`.
    pub fn held_by(&self, agent: StaffId) -> Vec<ConversationId> {
        let s = self.lock();
        let mut held: Vec<_> = s
            .assigned
            .iter()
            .filter(|(_, (a, _))| *a == agent)
            .map(|(c, _)| c.clone())
            .collect();
        held.sort();
        held
    }

    /// Agents marked online with a console open, on any node.
    pub fn agents_online(&self) -> usize {
        online(&self.lock())
    }

    pub fn set_status(&self, agent: StaffId, status: AgentStatus) {
        let (outbox, presence) = {
            let mut s = self.lock();
            if let Some(a) = s.agents.get_mut(&agent) {
                a.status = status;
            }
            let mut outbox = Vec::new();
            patient_positions(&s, &mut outbox);
            (outbox, presence(&s))
        };
        self.deliver(outbox);
        self.publish_presence(presence);
    }

    pub fn queue(&self) -> Vec<QueueItem> {
        queue_items(&self.lock())
    }

    /// Tells the patient's sockets (on every node).
    pub fn to_patient(&self, conversation: &ConversationId, event: PatientEvent) {
        self.to_patient_from(Origin::Here, conversation, event)
    }

    fn to_patient_from(&self, origin: Origin, conversation: &ConversationId, event: PatientEvent) {
        let notice = match &event {
            PatientEvent::Message(m) => Some(Notice::Message {
                conversation: conversation.clone(),
                seq: m.seq,
                to: Side::Patient,
            }),
            PatientEvent::Typing => Some(Notice::Typing {
                conversation: conversation.clone(),
                to: Side::Patient,
            }),
            // The rest follow from queue changes each node hears of.
            _ => None,
        };
        let outbox = {
            let s = self.lock();
            patient_senders(&s, conversation)
                .into_iter()
                .map(|tx| Delivery::Patient(tx, event.clone()))
                .collect()
        };
        self.deliver(outbox);
        if let Some(notice) = notice {
            self.publish(origin, notice);
        }
    }

    /// Tells the sockets of the agent holding the conversation (on every
    /// node); returns false when no agent holds it.
    pub fn to_agent(&self, conversation: &ConversationId, event: AgentEvent) -> bool {
        self.to_agent_from(Origin::Here, conversation, event)
    }

    fn to_agent_from(
        &self,
        origin: Origin,
        conversation: &ConversationId,
        event: AgentEvent,
    ) -> bool {
        let c = conversation.clone();
        let notice = match &event {
            AgentEvent::Message { message, .. } => Some(Notice::Message {
                conversation: c,
                seq: message.seq,
                to: Side::Agent,
            }),
            AgentEvent::Typing { .. } => Some(Notice::Typing {
                conversation: c,
                to: Side::Agent,
            }),
            AgentEvent::Alert { .. } => Some(Notice::Alert { conversation: c }),
            _ => None,
        };
        let outbox: Outbox = {
            let s = self.lock();
            let Some((agent, _)) = s.assigned.get(conversation) else {
                return false;
            };
            agent_senders(&s, *agent)
                .into_iter()
                .map(|tx| Delivery::Agent(tx, event.clone()))
                .collect()
        };
        self.deliver(outbox);
        if let Some(notice) = notice {
            self.publish(origin, notice);
        }
        true
    }

    /// A patient's latest words changed what agents see in the queue.
    pub fn update_preview(&self, conversation: &ConversationId, preview: String) {
        self.update_preview_from(Origin::Here, conversation, preview)
    }

    fn update_preview_from(&self, origin: Origin, conversation: &ConversationId, preview: String) {
        let outbox = {
            let mut s = self.lock();
            let Some(entry) = s.queue.iter_mut().find(|e| &e.conversation == conversation) else {
                return;
            };
            entry.preview = Some(preview);
            queue_changed(&s)
                .into_iter()
                .filter(|d| matches!(d, Delivery::Agent(..)))
                .collect()
        };
        self.deliver(outbox);
        let conversation = conversation.clone();
        self.publish(origin, Notice::Preview { conversation });
    }

    /// Whether the agent has a console open and is marked online, on any
    /// node.
    pub fn is_online(&self, agent: StaffId) -> bool {
        online_agents(&self.lock()).any(|a| a == agent)
    }

    /// The agent's chosen availability (online until they say otherwise):
    /// as set on this node when they have a console open here, else as
    /// another node last said, else offline.
    pub fn status_of(&self, agent: StaffId) -> AgentStatus {
        let s = self.lock();
        if let Some(a) = s.agents.get(&agent).filter(|a| !a.sockets.is_empty()) {
            return a.status;
        }
        s.nodes
            .values()
            .filter(|n| n.heard.elapsed() < PRESENCE_TTL)
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

    /// The display name of a connected agent.
    pub fn agent_name(&self, agent: StaffId) -> Option<String> {
        self.lock().agents.get(&agent).map(|a| a.name.clone())
    }
}

impl Drop for PatientLink {
    fn drop(&mut self) {
        let mut s = self.hub.lock();
        if let Some(sockets) = s.patients.get_mut(&self.conversation) {
            sockets.retain(|(id, _)| *id != self.socket);
            if sockets.is_empty() {
                s.patients.remove(&self.conversation);
            }
        }
    }
}

impl Drop for AgentLink {
    fn drop(&mut self) {
        let (outbox, presence) = {
            let mut s = self.hub.lock();
            if let Some(agent) = s.agents.get_mut(&self.staff) {
                agent.sockets.retain(|(id, _)| *id != self.socket);
            }
            let mut outbox = Vec::new();
            patient_positions(&s, &mut outbox);
            (outbox, presence(&s))
        };
        self.hub.deliver(outbox);
        self.hub.publish_presence(presence);
    }
}

fn sort(queue: &mut [Entry]) {
    queue.sort_by(|a, b| {
        b.reason
            .priority()
            .cmp(&a.reason.priority())
            .then(a.since.cmp(&b.since))
    });
}

fn position_of(s: &State, conversation: &ConversationId) -> Option<usize> {
    s.queue
        .iter()
        .position(|e| &e.conversation == conversation)
        .map(|i| i + 1)
}

/// The agents online on any node, each once (an agent may have consoles
/// open on two nodes).
fn online(s: &State) -> usize {
    let mut all: Vec<StaffId> = online_agents(s).collect();
    all.sort_unstable_by_key(|a| a.0);
    all.dedup();
    all.len()
}

fn online_agents(s: &State) -> impl Iterator<Item = StaffId> + '_ {
    let here = s
        .agents
        .iter()
        .filter(|(_, a)| a.status == AgentStatus::Online && !a.sockets.is_empty())
        .map(|(id, _)| *id);
    let elsewhere = s
        .nodes
        .values()
        .filter(|n| n.heard.elapsed() < PRESENCE_TTL)
        .flat_map(|n| n.agents.iter())
        .filter(|(_, status)| *status == AgentStatus::Online)
        .map(|(id, _)| *id);
    here.chain(elsewhere)
}

/// This node's agents with a console open, and their availability.
fn presence(s: &State) -> Vec<(StaffId, AgentStatus)> {
    let mut agents: Vec<_> = s
        .agents
        .iter()
        .filter(|(_, a)| !a.sockets.is_empty())
        .map(|(id, a)| (*id, a.status))
        .collect();
    agents.sort_unstable_by_key(|(id, _)| id.0);
    agents
}

fn queue_items(s: &State) -> Vec<QueueItem> {
    s.queue
        .iter()
        .enumerate()
        .map(|(i, e)| QueueItem {
            conversation: e.conversation.to_string(),
            position: i + 1,
            reason: e.reason,
            priority: e.reason.priority(),
            waiting_s: e.since.elapsed().as_secs(),
            lang: e.lang,
            preview: e.preview.clone(),
        })
        .collect()
}

/// Every agent socket gets the new queue; every waiting patient its place.
fn queue_changed(s: &State) -> Outbox {
    let snapshot = queue_items(s);
    let mut outbox: Outbox = s
        .agents
        .values()
        .flat_map(|a| a.sockets.iter())
        .map(|(_, tx)| Delivery::Agent(tx.clone(), AgentEvent::Queue(snapshot.clone())))
        .collect();
    patient_positions(s, &mut outbox);
    outbox
}

fn patient_positions(s: &State, outbox: &mut Outbox) {
    let agents = online(s);
    for (i, e) in s.queue.iter().enumerate() {
        let position = i + 1;
        let event = PatientEvent::Queued {
            position,
            estimated_wait_s: s.waits.estimate(position, agents),
        };
        for tx in patient_senders(s, &e.conversation) {
            outbox.push(Delivery::Patient(tx, event.clone()));
        }
    }
}

fn patient_senders(s: &State, conversation: &ConversationId) -> Vec<mpsc::Sender<PatientEvent>> {
    s.patients
        .get(conversation)
        .map(|v| v.iter().map(|(_, tx)| tx.clone()).collect())
        .unwrap_or_default()
}

fn agent_senders(s: &State, agent: StaffId) -> Vec<mpsc::Sender<AgentEvent>> {
    s.agents
        .get(&agent)
        .map(|a| a.sockets.iter().map(|(_, tx)| tx.clone()).collect())
        .unwrap_or_default()
}
