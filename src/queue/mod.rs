//! The live-agent queue: who is waiting, who is claimed by whom, and the
//! sockets of patients and agents to tell when that changes.
//!
//! The hub is the in-memory view of this node: the board (`board`: the
//! rules, plain data) and the sockets to tell (`hub`). Every change is also
//! written to the store by the caller, and the hub is rebuilt from the
//! store on start, so a restart loses neither the queue nor the
//! assignments. With
//! several nodes on one PostgreSQL database, the relay carries each node's
//! changes to the others (`relay`, in the words of `notice`).

mod board;
mod estimate;
mod hub;
pub mod notice;
pub mod relay;

use std::time::Duration;

use serde::Serialize;

use crate::accounts::StaffId;
use crate::ids::ConversationId;
use crate::lang::Lang;
use crate::transcript::{Message, Reason};

pub use board::{PRESENCE_TTL, Reserved};
pub use hub::{AgentLink, Hub, PatientLink};

/// Longest preview of the patient's words shown in the agents' queue.
pub const PREVIEW_CHARS: usize = 140;

/// Queue order: urgent first, then first come, first served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Normal = 0,
    Urgent = 1,
}

impl Priority {
    /// Emergencies go to the front of the line.
    pub fn of(reason: Reason) -> Priority {
        if reason == Reason::Emergency {
            Priority::Urgent
        } else {
            Priority::Normal
        }
    }
}

/// An agent's availability for new chats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    Online,
    Away,
    Offline,
}

/// Where a conversation stands with respect to people.
#[derive(Debug, Clone, PartialEq)]
pub enum Handoff {
    /// The bot is handling it.
    Bot,
    Queued {
        position: usize,
        estimated_wait_s: Option<u64>,
    },
    Assigned {
        agent: StaffId,
        agent_name: String,
    },
}

/// A conversation entering the queue.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub conversation: ConversationId,
    pub reason: Reason,
    pub lang: Lang,
    /// How long it has already waited (non-zero when restored after a restart).
    pub waited: Duration,
    /// The patient's latest question, shown in the queue.
    pub preview: Option<String>,
}

/// One line of the queue as agents see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueItem {
    pub conversation: String,
    pub position: usize,
    pub reason: Reason,
    pub priority: Priority,
    pub waiting_s: u64,
    pub lang: Lang,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
}

/// What a patient's socket is told.
#[derive(Debug, Clone, PartialEq)]
pub enum PatientEvent {
    Queued {
        position: usize,
        estimated_wait_s: Option<u64>,
    },
    AgentJoined {
        name: String,
    },
    /// A stored message from an agent (or the system) to show. Boxed to keep
    /// the event small: every conversation's channel allocates room for 32.
    Message(Box<Message>),
    Typing,
    /// The agent handed the chat back to the bot, or resolved it.
    AgentLeft,
}

/// What an agent's socket is told.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    Queue(Vec<QueueItem>),
    /// A stored message in a conversation this agent holds.
    Message {
        conversation: ConversationId,
        message: Message,
    },
    Typing {
        conversation: ConversationId,
    },
    /// The conversation is no longer this agent's (transferred, resolved
    /// elsewhere, or the patient ended it).
    Released {
        conversation: ConversationId,
        why: &'static str,
    },
    /// A conversation was transferred to this agent.
    Assigned {
        conversation: ConversationId,
    },
    /// A safety rule fired in a conversation this agent holds.
    Alert {
        conversation: ConversationId,
        category: String,
        kind: &'static str,
    },
}

/// Why a claim failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    #[error("another agent already claimed this chat")]
    AlreadyClaimed,
    #[error("this chat is not waiting for an agent")]
    NotQueued,
}

#[cfg(test)]
mod tests;
