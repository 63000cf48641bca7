//! The patient wire protocol (docs/protocol.md): JSON text frames, parsed here
//! once into typed frames. Nothing outside `chat/` sees JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::ClientMessageId;
use crate::lang::Lang;
use crate::transcript::{Choice, Message};

/// A frame from the patient's client, validated.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientFrame {
    Start {
        resume: Option<String>,
        lang: Option<Lang>,
        /// A signed-in patient: the clinic's user id, its expiry and its HMAC.
        user: Option<super::identity::SignedUser>,
    },
    Say {
        id: ClientMessageId,
        text: String,
        choice: Option<String>,
    },
    End,
    /// The "talk to a person" action.
    Handoff,
    /// The patient is typing (shown to an agent).
    Typing,
    /// A satisfaction rating, 1 to 5, with an optional comment.
    Rate {
        score: u8,
        comment: Option<String>,
    },
    /// "Was this helpful?" on the bot answer with this seq.
    Feedback {
        seq: i64,
        helpful: bool,
    },
    /// Earlier messages of the open conversation: a page before this seq.
    History {
        before: i64,
    },
}

/// Machine-readable error codes; see the table in docs/protocol.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadJson,
    BinaryFrame,
    UnknownType,
    BadFrame,
    TextTooLong,
    EmptyText,
    NotStarted,
    AlreadyStarted,
    UnknownResume,
    BadIdentity,
    /// The identity's signature has expired: the page needs a fresh one.
    IdentityExpired,
    RateLimited,
    Unavailable,
    /// The conversation holds as many patient messages as allowed.
    ConversationFull,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "bad_json",
            ErrorCode::BinaryFrame => "binary_frame",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::TextTooLong => "text_too_long",
            ErrorCode::EmptyText => "empty_text",
            ErrorCode::NotStarted => "not_started",
            ErrorCode::AlreadyStarted => "already_started",
            ErrorCode::UnknownResume => "unknown_resume",
            ErrorCode::BadIdentity => "bad_identity",
            ErrorCode::IdentityExpired => "identity_expired",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::ConversationFull => "conversation_full",
        }
    }
}

/// A refused frame: what to tell the client.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameError {
    pub code: ErrorCode,
    pub message: String,
    /// The `say` id the error is about, when there is one.
    pub id: Option<String>,
}

impl FrameError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        FrameError {
            code,
            message: message.into(),
            id: None,
        }
    }

    pub fn about(mut self, id: &str) -> Self {
        self.id = Some(id.to_owned());
        self
    }
}

struct StartFields {
    resume: Option<String>,
    lang: Option<String>,
    user: Option<String>,
    user_sig: Option<String>,
    user_expires: Option<i64>,
    user_nonce: Option<String>,
}

#[derive(Deserialize)]
struct SayFields {
    id: String,
    text: String,
    choice: Option<String>,
}

/// Parses one text frame. Never panics, whatever the input.
pub fn parse(text: &str) -> Result<ClientFrame, FrameError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|_| FrameError::new(ErrorCode::BadJson, "The frame is not valid JSON."))?;
    let Value::Object(object) = &value else {
        return Err(FrameError::new(
            ErrorCode::BadJson,
            "The frame must be a JSON object.",
        ));
    };
    let kind = match object.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        _ => {
            return Err(FrameError::new(
                ErrorCode::UnknownType,
                "The frame needs a \"type\" string.",
            ));
        }
    };
    let bad = |e: serde_json::Error| FrameError::new(ErrorCode::BadFrame, describe(kind, &e));
    match kind {
        "start" => {
            let StartFields {
                resume,
                lang,
                user,
                user_sig,
                user_expires,
                user_nonce,
            } = start_fields(&value)?;
            let together = |what: &str| FrameError::new(ErrorCode::BadFrame, what.to_owned());
            let expiry = match (user_expires, user_nonce) {
                (None, None) => None,
                (Some(expires), Some(nonce)) => Some(
                    super::identity::Expiry::new(expires, nonce)
                        .map_err(|why| FrameError::new(ErrorCode::BadFrame, why))?,
                ),
                _ => return Err(together("\"user_expires\" and \"user_nonce\" go together.")),
            };
            let user = match (user, user_sig) {
                (None, None) if expiry.is_none() => None,
                (Some(user), Some(sig)) => Some(super::identity::SignedUser { user, sig, expiry }),
                _ => return Err(together("\"user\" and \"user_sig\" go together.")),
            };
            let lang = lang.map(|l| l.parse::<Lang>()).transpose().map_err(|_| {
                FrameError::new(ErrorCode::BadFrame, "\"lang\" must be \"en\" or \"es\".")
            })?;
            Ok(ClientFrame::Start { resume, lang, user })
        }
        "say" => {
            let SayFields { id, text, choice } =
                serde_json::from_value(value.clone()).map_err(bad)?;
            let parsed = id.parse::<ClientMessageId>().map_err(|_| {
                FrameError::new(
                    ErrorCode::BadFrame,
                    "\"id\" must be 1 to 64 printable ASCII characters without spaces.",
                )
            })?;
            Ok(ClientFrame::Say {
                id: parsed,
                text,
                choice,
            })
        }
        "end" => Ok(ClientFrame::End),
        "handoff" => Ok(ClientFrame::Handoff),
        "typing" => Ok(ClientFrame::Typing),
        "feedback" => {
            let seq = value.get("seq").and_then(Value::as_i64).filter(|s| *s > 0);
            let helpful = value.get("helpful").and_then(Value::as_bool);
            match (seq, helpful) {
                (Some(seq), Some(helpful)) => Ok(ClientFrame::Feedback { seq, helpful }),
                _ => Err(FrameError::new(
                    ErrorCode::BadFrame,
                    "\"feedback\" needs a \"seq\" and a true/false \"helpful\".",
                )),
            }
        }
        "rate" => {
            let score = value
                .get("score")
                .and_then(Value::as_u64)
                .filter(|s| (1..=5).contains(s));
            let Some(score) = score else {
                return Err(FrameError::new(
                    ErrorCode::BadFrame,
                    "\"score\" must be a whole number from 1 to 5.",
                ));
            };
            let comment = match value.get("comment") {
                None | Some(Value::Null) => None,
                Some(Value::String(c)) => Some(c.trim().to_owned()).filter(|c| !c.is_empty()),
                Some(_) => {
                    return Err(FrameError::new(
                        ErrorCode::BadFrame,
                        "\"comment\" must be a string.",
                    ));
                }
            };
            Ok(ClientFrame::Rate {
                score: score as u8,
                comment,
            })
        }
        "history" => match value.get("before").and_then(Value::as_i64) {
            Some(before) if before > 0 => Ok(ClientFrame::History { before }),
            _ => Err(FrameError::new(
                ErrorCode::BadFrame,
                "\"history\" needs \"before\": the seq of the oldest message you have.",
            )),
        },
        _ => Err(FrameError::new(
            ErrorCode::UnknownType,
            "Unknown frame type; expected start, say, end, handoff, typing, rate, feedback or history.",
        )),
    }
}

/// The fields of `start`; unknown extra fields are ignored, as everywhere.
fn start_fields(value: &Value) -> Result<StartFields, FrameError> {
    let field = |name: &str| -> Result<Option<String>, FrameError> {
        match value.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(FrameError::new(
                ErrorCode::BadFrame,
                format!("\"{name}\" must be a string."),
            )),
        }
    };
    Ok(StartFields {
        resume: field("resume")?,
        lang: field("lang")?,
        user: field("user")?,
        user_sig: field("user_sig")?,
        user_expires: unix_seconds(value.get("user_expires"))?,
        user_nonce: field("user_nonce")?,
    })
}

/// `user_expires`: unix seconds, as a JSON number or a string of digits
/// (data attributes are strings).
fn unix_seconds(value: Option<&Value>) -> Result<Option<i64>, FrameError> {
    let seconds = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) if (1..=12).contains(&s.len()) => s.parse::<i64>().ok(),
        Some(_) => None,
    };
    match seconds {
        Some(s) if s > 0 => Ok(Some(s)),
        _ => Err(FrameError::new(
            ErrorCode::BadFrame,
            "\"user_expires\" must be a time in unix seconds.",
        )),
    }
}

/// A serde error in words a client developer can act on, without echoing
/// the frame's content back into anything that might be logged.
fn describe(kind: &str, e: &serde_json::Error) -> String {
    let detail = e.to_string();
    if let Some(field) = detail.strip_prefix("missing field ") {
        format!("A \"{kind}\" frame needs the field {field}.")
    } else {
        format!("A field of the \"{kind}\" frame has the wrong type.")
    }
}

/// A frame to the client.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Started {
        conversation: String,
        resume: String,
        lang: Lang,
        /// The newest messages; `more_history` when older ones exist (ask
        /// for them with a `history` frame).
        history: Vec<MessageView>,
        more_history: bool,
    },
    /// A page of earlier messages, oldest first.
    History {
        messages: Vec<MessageView>,
        more: bool,
    },
    Ack {
        id: String,
        seq: i64,
    },
    Reply(MessageView),
    Ended {
        conversation: String,
    },
    /// The patient's place in the agent queue; `estimated_wait_s` is null
    /// when there is no history to estimate from.
    Queued {
        position: usize,
        estimated_wait_s: Option<u64>,
    },
    AgentJoined {
        name: String,
    },
    /// The agent handed the chat back to the bot (or resolved it).
    AgentLeft,
    /// The rating is stored.
    Rated {
        conversation: String,
    },
    /// The feedback on an answer is stored.
    FeedbackSaved {
        seq: i64,
    },
    Typing {
        from: &'static str,
    },
    Error {
        code: &'static str,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
}

impl ServerFrame {
    pub fn to_json(&self) -> String {
        encode(self)
    }
}

/// A frame as JSON text. Serializing these types cannot fail (no maps with
/// non-string keys, no non-finite floats: confidence is filtered), but if it
/// ever did the client still gets a well-formed error frame.
pub fn encode<T: Serialize>(frame: &T) -> String {
    serde_json::to_string(frame).unwrap_or_else(|_| {
        r#"{"type":"error","code":"internal","message":"internal error"}"#.to_owned()
    })
}

impl From<FrameError> for ServerFrame {
    fn from(e: FrameError) -> Self {
        ServerFrame::Error {
            code: e.code.as_str(),
            message: e.message,
            id: e.id,
        }
    }
}

/// A page of stored messages as clients see them, and whether older exist.
pub fn page_views(page: crate::transcript::HistoryPage) -> (Vec<MessageView>, bool) {
    let views = page.messages.into_iter().map(MessageView::from).collect();
    (views, page.more)
}

/// A stored message as the client sees it, in history and in `reply`.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub seq: i64,
    pub from: &'static str,
    pub text: String,
    pub at: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub article: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        MessageView {
            seq: m.seq,
            from: m.sender.as_str(),
            text: m.text,
            at: m.at,
            choices: m.details.choices,
            html: m.details.html,
            article: m.details.article,
            confidence: m.details.confidence.filter(|c| c.is_finite()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Whatever arrives, parsing answers with a frame or an error.
        #[test]
        fn the_decoder_never_panics(text in "\\PC{0,300}") {
            let _ = parse(&text);
        }

        #[test]
        fn json_of_any_shape_is_answered(kind in "[a-z_]{0,12}", id in "\\PC{0,80}", text in "\\PC{0,80}", score in proptest::num::i64::ANY) {
            let frame = serde_json::json!({"type": kind, "id": id, "text": text, "score": score, "resume": text, "lang": id});
            let _ = parse(&frame.to_string());
        }
    }

    #[test]
    fn a_signed_start_carries_its_expiry_and_nonce() {
        let start = |extra: &str| {
            parse(&format!(
                r#"{{"type":"start","user":"p-1","user_sig":"ab"{extra}}}"#
            ))
        };
        let Ok(ClientFrame::Start {
            user: Some(signed), ..
        }) = start(r#","user_expires":"1800000000","user_nonce":"abcdefgh12""#)
        else {
            panic!("a signed start");
        };
        assert_eq!(signed.expiry.map(|e| e.expires), Some(1_800_000_000));
        for bad in [
            r#","user_expires":1800000000"#,
            r#","user_expires":-5,"user_nonce":"abcdefgh12""#,
            r#","user_expires":"soon","user_nonce":"abcdefgh12""#,
            r#","user_expires":1800000000,"user_nonce":"short""#,
        ] {
            assert_eq!(start(bad).unwrap_err().code, ErrorCode::BadFrame, "{bad}");
        }
        let no_user = parse(r#"{"type":"start","user_expires":1,"user_nonce":"abcdefgh12"}"#);
        assert_eq!(no_user.unwrap_err().code, ErrorCode::BadFrame);
    }

    #[test]
    fn a_say_parses_and_bad_ids_are_refused() {
        let ok = parse(r#"{"type":"say","id":"c-1","text":"hi","extra":1}"#).unwrap();
        assert!(matches!(ok, ClientFrame::Say { .. }));
        assert_eq!(
            parse(r#"{"type":"say","id":"","text":"hi"}"#)
                .unwrap_err()
                .code,
            ErrorCode::BadFrame
        );
        assert_eq!(
            parse(r#"{"type":"rate","score":0}"#).unwrap_err().code,
            ErrorCode::BadFrame
        );
    }
}
