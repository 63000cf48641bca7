//! The agent console's wire protocol (docs/protocol.md, "Agent console
//! protocol"), parsed here once into typed frames.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chat::protocol::MessageView;
use crate::ids::{ClientMessageId, ConversationId};
use crate::queue::{AgentStatus, QueueItem};
use crate::store::Note;

/// A frame from an agent's console, validated.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentFrame {
    Claim {
        conversation: ConversationId,
    },
    Say {
        conversation: ConversationId,
        id: ClientMessageId,
        text: String,
    },
    Typing {
        conversation: ConversationId,
    },
    Note {
        conversation: ConversationId,
        text: String,
    },
    Transfer {
        conversation: ConversationId,
        to: String,
    },
    ReturnToBot {
        conversation: ConversationId,
    },
    Resolve {
        conversation: ConversationId,
        disposition: Option<String>,
    },
    Status {
        status: AgentStatus,
    },
}

/// A refused frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
    pub conversation: Option<String>,
    /// The `say` id the refusal is about.
    pub id: Option<String>,
}

impl Refusal {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
            conversation: None,
            id: None,
        }
    }

    pub fn about(mut self, conversation: &ConversationId) -> Self {
        self.conversation = Some(conversation.to_string());
        self
    }

    pub fn with_id(mut self, id: &ClientMessageId) -> Self {
        self.id = Some(id.to_string());
        self
    }
}

#[derive(Deserialize)]
struct Fields {
    conversation: Option<String>,
    id: Option<String>,
    text: Option<String>,
    to: Option<String>,
    disposition: Option<String>,
    status: Option<AgentStatus>,
}

/// Longest disposition accepted.
const MAX_DISPOSITION: usize = 100;

pub fn parse(text: &str) -> Result<AgentFrame, Refusal> {
    let value: Value = serde_json::from_str(text)
        .map_err(|_| Refusal::new("bad_json", "The frame is not valid JSON."))?;
    let kind = value.get("type").and_then(Value::as_str).map(str::to_owned);
    let Some(kind) = kind else {
        return Err(Refusal::new(
            "unknown_type",
            "The frame needs a \"type\" string.",
        ));
    };
    let f: Fields = serde_json::from_value(value)
        .map_err(|_| Refusal::new("bad_frame", "A field has the wrong type."))?;
    let conversation = || -> Result<ConversationId, Refusal> {
        f.conversation
            .as_deref()
            .ok_or_else(|| Refusal::new("bad_frame", "\"conversation\" is required."))?
            .parse()
            .map_err(|_| Refusal::new("bad_frame", "\"conversation\" is not a conversation id."))
    };
    let text = || {
        f.text
            .clone()
            .ok_or_else(|| Refusal::new("bad_frame", "\"text\" is required."))
    };
    Ok(match kind.as_str() {
        "claim" => AgentFrame::Claim {
            conversation: conversation()?,
        },
        "say" => AgentFrame::Say {
            conversation: conversation()?,
            id: f
                .id
                .as_deref()
                .ok_or_else(|| Refusal::new("bad_frame", "\"id\" is required."))?
                .parse()
                .map_err(|_| {
                    Refusal::new("bad_frame", "\"id\" must be 1 to 64 printable characters.")
                })?,
            text: text()?,
        },
        "typing" => AgentFrame::Typing {
            conversation: conversation()?,
        },
        "note" => AgentFrame::Note {
            conversation: conversation()?,
            text: text()?,
        },
        "transfer" => AgentFrame::Transfer {
            conversation: conversation()?,
            to: f
                .to
                .clone()
                .ok_or_else(|| Refusal::new("bad_frame", "\"to\" is required."))?,
        },
        "return_to_bot" => AgentFrame::ReturnToBot {
            conversation: conversation()?,
        },
        "resolve" => {
            let disposition = f
                .disposition
                .clone()
                .map(|d| d.trim().to_owned())
                .filter(|d| !d.is_empty());
            if disposition
                .as_ref()
                .is_some_and(|d| d.chars().count() > MAX_DISPOSITION)
            {
                return Err(Refusal::new("bad_frame", "\"disposition\" is too long."));
            }
            AgentFrame::Resolve {
                conversation: conversation()?,
                disposition,
            }
        }
        "status" => match f.status {
            Some(status @ (AgentStatus::Online | AgentStatus::Away)) => {
                AgentFrame::Status { status }
            }
            _ => {
                return Err(Refusal::new(
                    "bad_frame",
                    "\"status\" must be \"online\" or \"away\".",
                ));
            }
        },
        _ => return Err(Refusal::new("unknown_type", "Unknown frame type.")),
    })
}

/// The bot's hand-over packet: what the patient asked and what the bot did.
#[derive(Debug, Clone, Serialize)]
pub struct Context {
    pub reason: Option<String>,
    pub lang: crate::lang::Lang,
    /// `web` (the widget) or `sms` (text messages: replies go by text).
    pub channel: String,
    pub waiting_s: Option<u64>,
    /// How the patient likes to be reached (`{"channel","contact"}`), if
    /// they said so in this chat or an earlier one.
    pub contact: Option<crate::patient::Preference>,
    pub questions: Vec<String>,
    pub bot: Vec<BotTurn>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BotTurn {
    pub text: String,
    pub article: Option<String>,
    pub confidence: Option<f32>,
}

/// A frame to an agent's console.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConsoleFrame {
    Hello {
        name: String,
        role: &'static str,
        status: AgentStatus,
        /// Whether messages can be saved right now.
        storage: StorageView,
    },
    /// Unusual booking activity in the chat (supervisors and admins only).
    BookingAlert {
        #[serde(flatten)]
        burst: crate::appointments::burst::BookingBurst,
    },
    /// Saving stopped working, or works again (shown as a banner).
    Storage {
        #[serde(flatten)]
        storage: StorageView,
    },
    Queue {
        items: Vec<QueueItem>,
    },
    Claimed {
        conversation: String,
        history: Vec<MessageView>,
        /// Older messages exist (`GET /api/conversations/{id}/transcript?before=`).
        more_history: bool,
        context: Context,
        notes: Vec<Note>,
    },
    Message {
        conversation: String,
        #[serde(flatten)]
        message: MessageView,
    },
    Ack {
        conversation: String,
        id: String,
        seq: i64,
    },
    Typing {
        conversation: String,
        from: &'static str,
    },
    NoteAdded {
        conversation: String,
        author: String,
        text: String,
        at: String,
    },
    Released {
        conversation: String,
        why: &'static str,
    },
    /// A safety rule fired in a chat this agent holds.
    Alert {
        conversation: String,
        category: String,
        kind: &'static str,
    },
    Error {
        code: &'static str,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        conversation: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

/// The store's health as agents see it.
#[derive(Debug, Clone, Serialize)]
pub struct StorageView {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

impl From<&crate::store::StorageStatus> for StorageView {
    fn from(status: &crate::store::StorageStatus) -> Self {
        match status {
            crate::store::StorageStatus::Ok => StorageView {
                ok: true,
                fault: None,
                message: None,
                since: None,
            },
            crate::store::StorageStatus::Failing { fault, since } => StorageView {
                ok: false,
                fault: Some(fault.code()),
                message: Some(fault.describe()),
                since: Some(since.clone()),
            },
        }
    }
}

impl ConsoleFrame {
    pub fn to_json(&self) -> String {
        crate::chat::protocol::encode(self)
    }
}

impl From<Refusal> for ConsoleFrame {
    fn from(r: Refusal) -> Self {
        ConsoleFrame::Error {
            code: r.code,
            message: r.message,
            conversation: r.conversation,
            id: r.id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse_and_mistakes_are_named() {
        let c = ConversationId::generate();
        let claim = format!(r#"{{"type":"claim","conversation":"{c}"}}"#);
        assert_eq!(
            parse(&claim),
            Ok(AgentFrame::Claim {
                conversation: c.clone()
            })
        );
        assert_eq!(parse("nope").unwrap_err().code, "bad_json");
        assert_eq!(
            parse(r#"{"type":"dance"}"#).unwrap_err().code,
            "unknown_type"
        );
        assert_eq!(parse(r#"{"type":"claim"}"#).unwrap_err().code, "bad_frame");
        assert_eq!(
            parse(r#"{"type":"claim","conversation":"cv_x"}"#)
                .unwrap_err()
                .code,
            "bad_frame"
        );
        assert_eq!(
            parse(r#"{"type":"status","status":"offline"}"#)
                .unwrap_err()
                .code,
            "bad_frame"
        );
        let say = format!(r#"{{"type":"say","conversation":"{c}","id":"a1","text":"hi"}}"#);
        assert!(matches!(parse(&say), Ok(AgentFrame::Say { .. })));
    }
}
