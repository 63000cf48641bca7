//! The sockets of this node's patients and agents, and the one lock around
//! them and the [`Board`] (the queue's rules). Every method takes the lock,
//! changes the board, collects who must be told what, releases the lock,
//! then sends: the lock is never held while sending, and never across an
//! `.await`.
//!
//! A change made here is also handed to the relay (when there is one) as a
//! [`Notice`] for the other nodes; what they tell this node comes back in
//! through `remote.rs`, which changes the board the same way but tells
//! nobody else.

mod claims;
mod remote;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use tokio::sync::mpsc;

use super::board::Board;
use super::notice::{Notice, Side};
use super::{AgentEvent, AgentStatus, Handoff, PatientEvent, QueueItem, Waiting};
use crate::accounts::StaffId;
use crate::ids::ConversationId;

/// Events a socket may have waiting before it counts as stuck and is cut
/// off (it reconnects and reloads its state from the store).
const SOCKET_BUFFER: usize = 256;

type Sockets<E> = Vec<(u64, mpsc::Sender<E>)>;

#[derive(Default)]
struct State {
    board: Board,
    patients: HashMap<ConversationId, Sockets<PatientEvent>>,
    consoles: HashMap<StaffId, Sockets<AgentEvent>>,
    next_socket: u64,
}

type Outbox = Vec<Delivery>;

enum Delivery {
    Patient(mpsc::Sender<PatientEvent>, PatientEvent),
    Agent(mpsc::Sender<AgentEvent>, AgentEvent),
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
        self.lock().board.presence()
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
                .for_each(|v| v.retain(|(_, tx)| live(tx)));
            let mut cut = Vec::new();
            for (staff, sockets) in s.consoles.iter_mut() {
                let before = sockets.len();
                sockets.retain(|(_, tx)| live(tx));
                cut.extend(std::iter::repeat_n(*staff, before - sockets.len()));
            }
            cut.into_iter().for_each(|a| s.board.console_closed(a));
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
        let (outbox, socket, presence) = {
            let mut s = self.lock();
            s.next_socket += 1;
            let socket = s.next_socket;
            s.board.console_opened(staff, name);
            s.consoles
                .entry(staff)
                .or_default()
                .push((socket, tx.clone()));
            let snapshot = s.board.queue_items();
            let mut outbox = vec![Delivery::Agent(tx, AgentEvent::Queue(snapshot))];
            // Staffing changed: waiting patients get new estimates.
            patient_positions(&s, &mut outbox);
            (outbox, socket, s.board.presence())
        };
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
            let position = s.board.enqueue(w, Instant::now());
            (position, queue_changed(&s))
        };
        self.deliver(outbox);
        self.publish(origin, Notice::Queued { conversation });
        position
    }

    /// Restores an assignment after a restart, without notifications.
    pub fn restore_assignment(&self, conversation: ConversationId, agent: StaffId, name: String) {
        self.lock().board.restore(conversation, agent, name);
    }

    pub fn handoff(&self, conversation: &ConversationId) -> Handoff {
        self.lock().board.handoff(conversation)
    }

    pub fn assigned_to(&self, conversation: &ConversationId) -> Option<StaffId> {
        self.lock().board.assigned_to(conversation)
    }

    /// Conversations currently held by `agent`.
    pub fn held_by(&self, agent: StaffId) -> Vec<ConversationId> {
        self.lock().board.held_by(agent)
    }

    /// Agents marked online with a console open, on any node.
    pub fn agents_online(&self) -> usize {
        self.lock().board.online()
    }

    pub fn set_status(&self, agent: StaffId, status: AgentStatus) {
        let (outbox, presence) = {
            let mut s = self.lock();
            s.board.set_status(agent, status);
            let mut outbox = Vec::new();
            patient_positions(&s, &mut outbox);
            (outbox, s.board.presence())
        };
        self.deliver(outbox);
        self.publish_presence(presence);
    }

    pub fn queue(&self) -> Vec<QueueItem> {
        self.lock().board.queue_items()
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
            let Some(agent) = s.board.assigned_to(conversation) else {
                return false;
            };
            agent_senders(&s, agent)
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
            if !s.board.set_preview(conversation, preview) {
                return;
            }
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
        self.lock().board.is_online(agent)
    }

    /// The agent's chosen availability (online until they say otherwise):
    /// as set on this node when they have a console open here, else as
    /// another node last said, else offline.
    pub fn status_of(&self, agent: StaffId) -> AgentStatus {
        self.lock().board.status_of(agent)
    }

    /// The display name of an agent who has had a console open here.
    pub fn agent_name(&self, agent: StaffId) -> Option<String> {
        self.lock().board.agent_name(agent)
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
            let removed = s.consoles.get_mut(&self.staff).is_some_and(|sockets| {
                let before = sockets.len();
                sockets.retain(|(id, _)| *id != self.socket);
                sockets.len() < before
            });
            // (A socket cut off as stuck was already counted as closed.)
            if removed {
                s.board.console_closed(self.staff);
            }
            let mut outbox = Vec::new();
            patient_positions(&s, &mut outbox);
            (outbox, s.board.presence())
        };
        self.hub.deliver(outbox);
        self.hub.publish_presence(presence);
    }
}

/// Every agent socket gets the new queue; every waiting patient its place.
fn queue_changed(s: &State) -> Outbox {
    let snapshot = s.board.queue_items();
    let mut outbox: Outbox = s
        .consoles
        .values()
        .flatten()
        .map(|(_, tx)| Delivery::Agent(tx.clone(), AgentEvent::Queue(snapshot.clone())))
        .collect();
    patient_positions(s, &mut outbox);
    outbox
}

fn patient_positions(s: &State, outbox: &mut Outbox) {
    for (conversation, position, estimated_wait_s) in s.board.places() {
        let event = PatientEvent::Queued {
            position,
            estimated_wait_s,
        };
        for tx in patient_senders(s, conversation) {
            outbox.push(Delivery::Patient(tx, event.clone()));
        }
    }
}

/// Not full and not closed: a socket that keeps up.
fn live<E>(tx: &mpsc::Sender<E>) -> bool {
    tx.capacity() > 0 && !tx.is_closed()
}

fn patient_senders(s: &State, conversation: &ConversationId) -> Vec<mpsc::Sender<PatientEvent>> {
    s.patients
        .get(conversation)
        .map(|v| v.iter().map(|(_, tx)| tx.clone()).collect())
        .unwrap_or_default()
}

fn agent_senders(s: &State, agent: StaffId) -> Vec<mpsc::Sender<AgentEvent>> {
    s.consoles
        .get(&agent)
        .map(|v| v.iter().map(|(_, tx)| tx.clone()).collect())
        .unwrap_or_default()
}
