//! What the store keeps of messages to patients outside the chat: their
//! kinds, what each is about, the rows the sender claims and the entries
//! staff see, and how an outbox row becomes one.

use crate::lang::Lang;
use crate::patient::{Channel, Patient};

use super::{StoreError, StoreResult};

/// Why a message to a patient was not sent when they had opted out (the
/// outbox's `last_error`; the insights count these apart).
pub const OPTED_OUT: &str = "the patient opted out of this channel";

/// What a message to a patient is about. Its words are the editors'
/// (`knowledge/messages.toml`); only the kind is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    BookingConfirmed,
    BookingMoved,
    BookingCancelled,
    /// Before the visit (clinic.toml's `reminder_hours`).
    Reminder,
    /// What the bot, an agent or the system said in a chat by text: the
    /// words are the transcript's, not the editors' message files.
    ChatReply,
    /// A chat-by-text notice that is not in the transcript ("an agent
    /// joined"); its words are stored with it.
    ChatNotice,
    /// "We got your callback request", written with the request.
    CallbackReceived,
    /// An agent marked the callback request done.
    CallbackDone,
}

impl MessageKind {
    pub const ALL: [MessageKind; 6] = [
        MessageKind::BookingConfirmed,
        MessageKind::BookingMoved,
        MessageKind::BookingCancelled,
        MessageKind::Reminder,
        MessageKind::CallbackReceived,
        MessageKind::CallbackDone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::BookingConfirmed => "booking_confirmed",
            MessageKind::BookingMoved => "booking_moved",
            MessageKind::BookingCancelled => "booking_cancelled",
            MessageKind::Reminder => "reminder",
            MessageKind::ChatReply => "chat_reply",
            MessageKind::ChatNotice => "chat_notice",
            MessageKind::CallbackReceived => "callback_received",
            MessageKind::CallbackDone => "callback_done",
        }
    }

    pub fn parse(s: &str) -> Option<MessageKind> {
        MessageKind::ALL
            .into_iter()
            .chain([MessageKind::ChatReply, MessageKind::ChatNotice])
            .find(|k| k.as_str() == s)
    }

    /// Whether its words come from the editors' message files (`ALL`).
    pub fn is_templated(self) -> bool {
        !matches!(self, MessageKind::ChatReply | MessageKind::ChatNotice)
    }

    /// Whether it is about a callback request rather than an appointment
    /// (it then says nothing of a time, a place or a code).
    pub fn about_a_callback(self) -> bool {
        matches!(
            self,
            MessageKind::CallbackReceived | MessageKind::CallbackDone
        )
    }
}

/// The record a message is rendered from, and deleted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum About {
    Appointment(i64),
    Callback(i64),
}

/// A message to send to a patient, as written with its cause.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutbound {
    pub kind: MessageKind,
    pub channel: Channel,
    /// The address or number, as the patient gave it.
    pub recipient: String,
    pub lang: Lang,
}

/// Which channels to patients are on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelsOn {
    pub email: bool,
    pub text: bool,
}

impl NewOutbound {
    /// A message about an appointment to its patient: in the channel the
    /// patient chose, when that channel is on and they gave its address or
    /// number; none otherwise (a phone call, or the channel off).
    pub fn to_patient(
        kind: MessageKind,
        patient: &Patient,
        lang: Lang,
        on: ChannelsOn,
    ) -> Option<NewOutbound> {
        let recipient = match patient.contact {
            Channel::Email => patient.email.as_ref()?.as_str(),
            Channel::Text => patient.phone.as_ref()?.as_str(),
            Channel::Phone => return None,
        };
        NewOutbound::to(kind, patient.contact, recipient, lang, on)
    }

    /// A message to `recipient` by `channel`, when that channel is on; none
    /// for a phone call (the call itself is the answer) or a channel off.
    pub fn to(
        kind: MessageKind,
        channel: Channel,
        recipient: &str,
        lang: Lang,
        on: ChannelsOn,
    ) -> Option<NewOutbound> {
        let on = match channel {
            Channel::Email => on.email,
            Channel::Text => on.text,
            Channel::Phone => false,
        };
        on.then(|| NewOutbound {
            kind,
            channel,
            recipient: recipient.to_owned(),
            lang,
        })
    }
}

/// A message due to be sent, with what it is about.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub id: i64,
    pub kind: MessageKind,
    pub channel: Channel,
    pub recipient: String,
    pub lang: Lang,
    /// Tries so far (claims), this one not counted.
    pub attempts: i64,
    /// The row's `next_attempt_at` as read: a claim must still see it.
    pub due_at: i64,
    pub appointment: Option<i64>,
    /// A chat by text's conversation, and its message (a reply) or the
    /// notice's own words.
    pub conversation: Option<String>,
    pub message_seq: Option<i64>,
    pub body: Option<String>,
    /// The callback request it is about, for the callback kinds.
    pub callback: Option<i64>,
}

/// Where a message in the outbox stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Waiting for its (next) try.
    Pending,
    Sent,
    /// Given up on: refused for good, or out of tries.
    Failed,
}

impl OutboxStatus {
    pub fn parse(s: &str) -> Option<OutboxStatus> {
        match s {
            "pending" => Some(OutboxStatus::Pending),
            "sent" => Some(OutboxStatus::Sent),
            "failed" => Some(OutboxStatus::Failed),
            _ => None,
        }
    }
}

/// A message in the outbox as supervisors see it: where it stands and why,
/// never what it says.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    pub id: i64,
    pub kind: MessageKind,
    pub channel: Channel,
    /// The address or number, as the patient gave it.
    pub recipient: String,
    pub lang: Lang,
    pub status: OutboxStatus,
    /// Tries since it was written or last retried.
    pub attempts: i64,
    /// The short code of the last failure (`smtp 5xx`), never a message.
    pub last_error: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// The confirmation code of the appointment it is about, if any.
    pub appointment_code: Option<String>,
}

/// An outbox row: id, kind, channel, recipient, language, attempts, when
/// it is due, the appointment or the callback request it is about, the
/// chat by text's conversation, message and notice words.
pub(super) type OutboundRow = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
);

/// A due message; a row whose words no longer read (a kind or language
/// this build does not know) is an error naming the row.
pub(super) fn outbound(r: OutboundRow) -> StoreResult<Outbound> {
    let unreadable = |field: &str| {
        StoreError::Other(anyhow::anyhow!(
            "outbox row {} has an unreadable {field}",
            r.0
        ))
    };
    Ok(Outbound {
        id: r.0,
        kind: MessageKind::parse(&r.1).ok_or_else(|| unreadable("kind"))?,
        channel: Channel::parse(&r.2).map_err(|_| unreadable("channel"))?,
        recipient: r.3,
        lang: r.4.parse().map_err(|_| unreadable("language"))?,
        attempts: r.5,
        due_at: r.6,
        appointment: r.7,
        conversation: r.8,
        message_seq: r.9,
        body: r.10,
        callback: r.11,
    })
}
