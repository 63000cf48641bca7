//! What one node tells the others about the queue, as the text of a
//! PostgreSQL notification.
//!
//! Ids and fixed words only: no patient words, names or health details ever
//! travel in a notice. The node that hears one reads what it needs from the
//! database (the message by its number, the agent's name by id). A notice is
//! one line, `v1 <node> <kind> <fields…>`, at most [`MAX_LEN`] bytes, which
//! is far below PostgreSQL's 8,000-byte limit.

use std::fmt;
use std::str::FromStr;

use super::AgentStatus;
use crate::accounts::StaffId;
use crate::ids::ConversationId;

/// Longest notice written or accepted.
pub const MAX_LEN: usize = 4000;
/// Most agents one presence notice lists (a node with more lists the first
/// ones; far beyond any front desk).
pub const MAX_AGENTS: usize = 100;

/// A server process, told apart from the others on the same database. A
/// fresh random one per start, so a restarted node is a new node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeId(u64);

impl NodeId {
    pub fn generate() -> NodeId {
        NodeId(u64::from_le_bytes(crate::ids::random_bytes::<8>()))
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Which side of a conversation a message or typing signal is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Patient,
    Agent,
}

/// A change on one node that the others must show their own sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The conversation joined the queue, or came back to it.
    Queued { conversation: ConversationId },
    /// The patient wrote again while waiting: the queue's preview changed.
    Preview { conversation: ConversationId },
    /// An agent claimed the conversation.
    Claimed {
        conversation: ConversationId,
        agent: StaffId,
    },
    /// The conversation moved to another agent.
    Transferred {
        conversation: ConversationId,
        to: StaffId,
    },
    /// The conversation left the queue or its agent; `why` is one of
    /// [`RELEASE_REASONS`].
    Released {
        conversation: ConversationId,
        why: &'static str,
    },
    /// Stored message number `seq` is for the `to` side's sockets.
    Message {
        conversation: ConversationId,
        seq: i64,
        to: Side,
    },
    /// Someone is typing, to be shown to the `to` side.
    Typing {
        conversation: ConversationId,
        to: Side,
    },
    /// A safety rule fired in a chat an agent holds (the agent's console
    /// reads which from the database).
    Alert { conversation: ConversationId },
    /// The agents with a console open on the sending node, and their
    /// availability: sent on every change and as a heartbeat.
    Presence { agents: Vec<(StaffId, AgentStatus)> },
}

/// The words a release may carry (what the agent's console is told).
pub const RELEASE_REASONS: [&str; 4] = [
    "patient_ended",
    "returned_to_bot",
    "resolved",
    "transferred",
];

/// A notice and the node it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub from: NodeId,
    pub notice: Notice,
}

/// Why a notification's text was not a notice. Logged and dropped: a node
/// of a newer version may speak words this one does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a queue notice: {0}")]
pub struct BadNotice(&'static str);

const VERSION: &str = "v1";

impl fmt::Display for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{VERSION} {} ", self.from)?;
        match &self.notice {
            Notice::Queued { conversation } => write!(f, "queued {conversation}"),
            Notice::Preview { conversation } => write!(f, "preview {conversation}"),
            Notice::Claimed {
                conversation,
                agent,
            } => write!(f, "claimed {conversation} {}", agent.0),
            Notice::Transferred { conversation, to } => {
                write!(f, "transferred {conversation} {}", to.0)
            }
            Notice::Released { conversation, why } => write!(f, "released {conversation} {why}"),
            Notice::Message {
                conversation,
                seq,
                to,
            } => write!(f, "message {conversation} {seq} {}", side_word(*to)),
            Notice::Typing { conversation, to } => {
                write!(f, "typing {conversation} {}", side_word(*to))
            }
            Notice::Alert { conversation } => write!(f, "alert {conversation}"),
            Notice::Presence { agents } => {
                f.write_str("presence")?;
                for (agent, status) in agents.iter().take(MAX_AGENTS) {
                    write!(f, " {}:{}", agent.0, status_word(*status))?;
                }
                Ok(())
            }
        }
    }
}

impl FromStr for Envelope {
    type Err = BadNotice;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > MAX_LEN {
            return Err(BadNotice("too long"));
        }
        let mut words = s.split(' ');
        if words.next() != Some(VERSION) {
            return Err(BadNotice("unknown version"));
        }
        let from = words
            .next()
            .filter(|w| w.len() == 16)
            .and_then(|w| u64::from_str_radix(w, 16).ok())
            .map(NodeId)
            .ok_or(BadNotice("node"))?;
        let kind = words.next().ok_or(BadNotice("kind"))?;
        let notice = if kind == "presence" {
            let agents = words
                .map(|w| {
                    let (id, status) = w.split_once(':')?;
                    Some((StaffId(id.parse().ok()?), parse_status(status)?))
                })
                .collect::<Option<Vec<_>>>()
                .filter(|a| a.len() <= MAX_AGENTS)
                .ok_or(BadNotice("presence"))?;
            return Ok(Envelope {
                from,
                notice: Notice::Presence { agents },
            });
        } else {
            let conversation: ConversationId = words
                .next()
                .and_then(|w| w.parse().ok())
                .ok_or(BadNotice("conversation"))?;
            let mut next = || words.next().ok_or(BadNotice("missing field"));
            let notice = match kind {
                "queued" => Notice::Queued { conversation },
                "preview" => Notice::Preview { conversation },
                "alert" => Notice::Alert { conversation },
                "claimed" => Notice::Claimed {
                    conversation,
                    agent: parse_staff(next()?)?,
                },
                "transferred" => Notice::Transferred {
                    conversation,
                    to: parse_staff(next()?)?,
                },
                "released" => {
                    let word = next()?;
                    let why = RELEASE_REASONS
                        .into_iter()
                        .find(|r| *r == word)
                        .ok_or(BadNotice("release reason"))?;
                    Notice::Released { conversation, why }
                }
                "message" => Notice::Message {
                    conversation,
                    seq: next()?.parse().map_err(|_| BadNotice("seq"))?,
                    to: parse_side(next()?)?,
                },
                "typing" => Notice::Typing {
                    conversation,
                    to: parse_side(next()?)?,
                },
                _ => return Err(BadNotice("unknown kind")),
            };
            if words.next().is_some() {
                return Err(BadNotice("trailing words"));
            }
            notice
        };
        Ok(Envelope { from, notice })
    }
}

fn side_word(side: Side) -> &'static str {
    match side {
        Side::Patient => "patient",
        Side::Agent => "agent",
    }
}

fn parse_side(w: &str) -> Result<Side, BadNotice> {
    match w {
        "patient" => Ok(Side::Patient),
        "agent" => Ok(Side::Agent),
        _ => Err(BadNotice("side")),
    }
}

fn parse_staff(w: &str) -> Result<StaffId, BadNotice> {
    w.parse().map(StaffId).map_err(|_| BadNotice("staff id"))
}

fn status_word(status: AgentStatus) -> &'static str {
    match status {
        AgentStatus::Online => "online",
        AgentStatus::Away => "away",
        AgentStatus::Offline => "offline",
    }
}

fn parse_status(w: &str) -> Option<AgentStatus> {
    match w {
        "online" => Some(AgentStatus::Online),
        "away" => Some(AgentStatus::Away),
        "offline" => Some(AgentStatus::Offline),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation() -> ConversationId {
        "cv_0123456789abcdef0123456789abcdef".parse().unwrap()
    }

    #[test]
    fn every_notice_reads_back_as_written() {
        let c = conversation();
        let notices = [
            Notice::Queued {
                conversation: c.clone(),
            },
            Notice::Preview {
                conversation: c.clone(),
            },
            Notice::Claimed {
                conversation: c.clone(),
                agent: StaffId(7),
            },
            Notice::Transferred {
                conversation: c.clone(),
                to: StaffId(9),
            },
            Notice::Released {
                conversation: c.clone(),
                why: "resolved",
            },
            Notice::Message {
                conversation: c.clone(),
                seq: 42,
                to: Side::Patient,
            },
            Notice::Typing {
                conversation: c.clone(),
                to: Side::Agent,
            },
            Notice::Alert {
                conversation: c.clone(),
            },
            Notice::Presence { agents: vec![] },
            Notice::Presence {
                agents: vec![
                    (StaffId(1), AgentStatus::Online),
                    (StaffId(2), AgentStatus::Away),
                ],
            },
        ];
        let from = NodeId::generate();
        for notice in notices {
            let envelope = Envelope { from, notice };
            let text = envelope.to_string();
            assert!(text.len() < MAX_LEN);
            assert_eq!(text.parse::<Envelope>(), Ok(envelope), "{text}");
        }
    }

    #[test]
    fn a_notice_carries_ids_and_fixed_words_only() {
        let text = Envelope {
            from: NodeId(0xabc),
            notice: Notice::Message {
                conversation: conversation(),
                seq: 3,
                to: Side::Agent,
            },
        }
        .to_string();
        assert_eq!(
            text,
            "v1 0000000000000abc message cv_0123456789abcdef0123456789abcdef 3 agent"
        );
    }

    #[test]
    fn malformed_notices_are_refused() {
        let c = conversation();
        for bad in [
            String::new(),
            "v2 0000000000000abc queued x".to_owned(),
            format!("v1 abc queued {c}"),
            "v1 0000000000000abc queued cv_nothex".to_owned(),
            format!("v1 0000000000000abc frobbed {c}"),
            format!("v1 0000000000000abc released {c} because"),
            format!("v1 0000000000000abc message {c} x patient"),
            format!("v1 0000000000000abc message {c} 3 nurse"),
            format!("v1 0000000000000abc claimed {c}"),
            format!("v1 0000000000000abc queued {c} extra"),
            "v1 0000000000000abc presence 1:busy".to_owned(),
            format!("v1 0000000000000abc presence {}", "1:online ".repeat(900)),
        ] {
            assert!(bad.parse::<Envelope>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn presence_past_the_cap_is_cut_not_refused() {
        let agents: Vec<_> = (0..MAX_AGENTS as i64 + 50)
            .map(|i| (StaffId(i), AgentStatus::Online))
            .collect();
        let text = Envelope {
            from: NodeId(1),
            notice: Notice::Presence { agents },
        }
        .to_string();
        let Notice::Presence { agents } = text.parse::<Envelope>().unwrap().notice else {
            panic!("not presence");
        };
        assert_eq!(agents.len(), MAX_AGENTS);
    }
}
