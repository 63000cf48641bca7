//! What a conversation is made of, independent of any wire format or database:
//! who said something, what they said, and what the bot offered with it.

use serde::{Deserialize, Serialize};

use crate::ids::{ClientMessageId, ConversationId};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sender {
    Patient,
    Bot,
    Agent,
    System,
}

impl Sender {
    pub fn as_str(self) -> &'static str {
        match self {
            Sender::Patient => "patient",
            Sender::Bot => "bot",
            Sender::Agent => "agent",
            Sender::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "patient" => Sender::Patient,
            "bot" => Sender::Bot,
            "agent" => Sender::Agent,
            "system" => Sender::System,
            _ => return None,
        })
    }
}

/// A button the bot offers; answering it sends `value` back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub label: String,
    pub value: String,
}

impl Choice {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Choice {
        Choice {
            label: label.into(),
            value: value.into(),
        }
    }
}

/// The optional parts of a bot message beyond its plain text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Details {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    /// Sanitized HTML rendering of an article answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// The id of the article that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
}

impl Details {
    pub fn is_empty(&self) -> bool {
        *self == Details::default()
    }
}

/// A message on its way into the transcript.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub conversation: ConversationId,
    pub sender: Sender,
    pub text: String,
    /// Set for patient messages: resending the same id stores nothing new.
    pub client_id: Option<ClientMessageId>,
    pub details: Details,
}

/// A message as stored, with its place in the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub seq: i64,
    pub sender: Sender,
    pub text: String,
    pub details: Details,
    /// RFC 3339, UTC.
    pub at: String,
}

/// The current time as stored and sent: RFC 3339 UTC with exactly three
/// fraction digits, so stored times sort as text and read back from a
/// `timestamptz` column as the very string that was written (the audit
/// chain hashes it).
pub fn now() -> String {
    // Cut to the millisecond, never rounded up: a time just written is
    // never ahead of the clock that reads it back.
    let ts = jiff::Timestamp::now();
    let cut = jiff::TimestampRound::new()
        .smallest(jiff::Unit::Millisecond)
        .mode(jiff::RoundMode::Trunc);
    format!("{:.3}", ts.round(cut).unwrap_or(ts))
}

/// Which messages of a conversation to read: the newest `limit` with a seq
/// below `before` (the newest of all, without it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub before: Option<i64>,
    pub limit: usize,
}

impl Page {
    /// The newest `limit` messages.
    pub fn latest(limit: usize) -> Page {
        Page {
            before: None,
            limit,
        }
    }
}

/// A page of messages, oldest first, and whether older ones exist.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    pub messages: Vec<Message>,
    pub more: bool,
}

#[cfg(test)]
mod tests {
    /// Every stored time has the same shape, whole seconds included.
    #[test]
    fn times_have_exactly_three_fraction_digits() {
        let at = super::now();
        assert_eq!(at.len(), "2026-12-04T16:27:03.120Z".len(), "{at}");
        assert!(at.ends_with('Z') && at.as_bytes()[19] == b'.', "{at}");
        let whole: jiff::Timestamp = "2026-12-04T16:27:03Z".parse().unwrap();
        assert_eq!(format!("{whole:.3}"), "2026-12-04T16:27:03.000Z");
    }
}

/// Why a conversation needs a person. It travels with the chat to the agent
/// and into the numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The bot was not sure, even after offering choices.
    LowConfidence,
    /// The patient asked for a person.
    PatientRequest,
    /// The bot missed twice in a row.
    RepeatedMisses,
    /// The patient sounded frustrated.
    Frustration,
    /// The patient may be in danger.
    Emergency,
    /// The patient needed help with an appointment.
    BookingHelp,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::LowConfidence => "low_confidence",
            Reason::PatientRequest => "patient_request",
            Reason::RepeatedMisses => "repeated_misses",
            Reason::Frustration => "frustration",
            Reason::Emergency => "emergency",
            Reason::BookingHelp => "booking_help",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        [
            Reason::LowConfidence,
            Reason::PatientRequest,
            Reason::RepeatedMisses,
            Reason::Frustration,
            Reason::Emergency,
            Reason::BookingHelp,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}
