//! The records the store keeps and hands back, whatever the backend: what
//! callers write (`New…`, changes) and what they read. The backends' rows
//! become these (in `rows`) and nothing else crosses the store's boundary.

use std::collections::{HashMap, HashSet};

use crate::accounts::StaffId;
use crate::ids::ConversationId;
use crate::lang::Lang;
use crate::patient::{Channel, Contact, Patient, PatientName};
use crate::transcript::Reason;

use super::{ChannelsOn, MessageKind, NewOutbound};

/// The visitor behind a resume token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenVisitor {
    pub visitor: VisitorId,
    /// A signed-in identity is linked to the visitor.
    pub identified: bool,
    /// When the visitor's last message was stored (RFC 3339), if any.
    pub last_active: Option<String>,
}

/// How the visitor behind a conversation likes to be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RememberedContact {
    pub preference: crate::patient::Preference,
    /// A signed-in identity is linked to the visitor: the same person,
    /// not only the same browser.
    pub identified: bool,
}

/// A patient's device, as the store knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitorId(pub i64);

/// A conversation's stored header.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub id: ConversationId,
    pub visitor: VisitorId,
    pub lang: Lang,
    pub open: bool,
}

impl Conversation {
    /// A conversation header from its stored columns.
    pub(super) fn from_stored(
        id: String,
        visitor: VisitorId,
        lang: &str,
        open: bool,
    ) -> super::StoreResult<Conversation> {
        let id = id
            .parse()
            .map_err(|_| anyhow::anyhow!("a stored conversation id is malformed"))?;
        let lang = lang
            .parse()
            .map_err(|_| anyhow::anyhow!("a stored conversation language is unknown"))?;
        Ok(Conversation {
            id,
            visitor,
            lang,
            open,
        })
    }
}

/// A message's place once committed.
#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    pub seq: i64,
    pub at: String,
    /// True when a message with the same client id was already stored; `seq`
    /// and `at` are then the original's.
    pub duplicate: bool,
}

/// A stored message and the replies stored with it (none for a resend).
#[derive(Debug, Clone)]
pub struct Exchanged {
    pub message: Appended,
    pub replies: Vec<Appended>,
}

/// A booking about to be stored.
#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub code: String,
    pub type_id: String,
    pub provider: String,
    pub location: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub patient: Patient,
    pub source: &'static str,
    pub conversation: Option<String>,
    pub booked_by: Option<i64>,
    pub ics_token: String,
    /// The appointment this one replaces (rescheduling cancels it in the
    /// same savepoint).
    pub replaces: Option<i64>,
    /// The confirmation to send the patient, written in the same savepoint:
    /// booked means the message will go out.
    pub confirm: Option<NewOutbound>,
    /// The language later messages about it are written in.
    pub lang: Lang,
}

/// A stored appointment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Appointment {
    #[serde(skip)]
    pub id: i64,
    pub code: String,
    pub type_id: String,
    pub provider: String,
    pub location: String,
    pub starts_at: i64,
    pub ends_at: i64,
    #[serde(flatten)]
    pub patient: Patient,
    pub booked: bool,
    #[serde(skip)]
    pub ics_token: String,
    /// The language the patient booked in.
    pub lang: Lang,
}

/// A change in who handles a conversation.
#[derive(Debug, Clone)]
pub enum HandoffChange {
    Queued {
        reason: Reason,
    },
    /// Taken from the queue: only if it is still queued (the database
    /// decides between agents, on any node); `Conflict` otherwise.
    Claimed {
        agent: StaffId,
    },
    /// Given to an agent (a transfer).
    Assigned {
        agent: StaffId,
    },
    Resolved {
        disposition: Option<String>,
    },
    /// Handed back to the bot without a resolution.
    ToBot,
}

/// A conversation with a person involved, as restored on start.
#[derive(Debug, Clone)]
pub struct OpenHandoff {
    pub conversation: ConversationId,
    pub lang: Lang,
    pub reason: Reason,
    /// Seconds since it was queued.
    pub waited_s: u64,
    pub assigned: Option<(StaffId, String)>,
}

#[derive(Debug, Clone)]
pub struct NewCallback {
    pub conversation: ConversationId,
    pub name: PatientName,
    pub channel: Channel,
    pub contact: Contact,
    pub window: String,
    /// The language of the chat it was asked in: the messages about it
    /// (received, done) are written in it.
    pub lang: Lang,
}

impl NewCallback {
    /// "We got your callback request", by the channel it names when that
    /// is e-mail or text and on; none for a phone call.
    pub fn received(&self, on: ChannelsOn) -> Option<NewOutbound> {
        NewOutbound::to(
            MessageKind::CallbackReceived,
            self.channel,
            self.contact.as_str(),
            self.lang,
            on,
        )
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Callback {
    pub id: i64,
    pub conversation: String,
    pub name: String,
    pub channel: Channel,
    pub contact: String,
    pub window: String,
    pub done: bool,
    pub created_at: String,
    /// The language the patient asked in.
    pub lang: Lang,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Note {
    pub author: String,
    pub text: String,
    pub at: String,
}

/// A conversation's header as staff see it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConversationInfo {
    pub conversation: String,
    pub started_at: String,
    pub lang: Lang,
    pub open: bool,
    /// `bot`, `queued`, `assigned` or `resolved`.
    pub handoff: String,
    pub reason: Option<String>,
    /// The agent holding it now, by name.
    pub agent: Option<String>,
    pub disposition: Option<String>,
    #[serde(skip)]
    pub assigned_to: Option<StaffId>,
    /// Where the patient is: `web` (the widget) or `sms` (text messages).
    pub channel: String,
}

/// What a purge removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    pub conversations: u64,
    pub messages: u64,
    pub appointments: u64,
    pub callbacks: u64,
    /// Contact preferences deleted with their visitors.
    pub contacts: u64,
}

/// Unanswered questions read for one insights view (the newest).
pub const MAX_UNANSWERED: usize = 5_000;

/// One counted conversation (the patient did something in it).
#[derive(Debug, Clone)]
pub struct ConversationFacts {
    pub id: String,
    pub visitor: i64,
    pub created_at: String,
    pub ended: bool,
    pub handoff: String,
    pub queued_at: Option<String>,
    pub claimed_at: Option<String>,
    pub resolved_at: Option<String>,
    pub agent: Option<String>,
    pub first_agent_message: Option<String>,
    /// `web` or `sms`.
    pub channel: String,
}

/// Everything the insights need for one date range.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub conversations: Vec<ConversationFacts>,
    /// conversation id → (reason, outcome) of each escalation.
    pub escalations: HashMap<String, Vec<(String, String)>>,
    pub with_callback: HashSet<String>,
    /// visitor → start times of all their conversations (for FCR).
    pub visitor_starts: HashMap<i64, Vec<String>>,
    /// conversation id → rating.
    pub ratings: HashMap<String, i64>,
    /// article → (served, helpful, unhelpful).
    pub articles: HashMap<String, (i64, i64, i64)>,
    pub appointments_booked: i64,
    pub appointments_cancelled: i64,
    pub appointments_rescheduled: i64,
    /// The newest unanswered questions in the range, newest first, at most
    /// [`MAX_UNANSWERED`].
    pub unanswered: Vec<String>,
    /// All unanswered questions in the range.
    pub unanswered_total: i64,
    /// Messages to patients written in the range: (kind, status, whether
    /// it failed because the patient opted out, how many).
    pub messages: Vec<(String, String, bool, i64)>,
}

/// One audited access, before it is chained.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: String,
    pub role: String,
    /// e.g. `transcript.view`, `appointment.cancel`.
    pub action: String,
    /// What was accessed, by id (a conversation id, an appointment code).
    pub target: String,
    pub allowed: bool,
}

/// A stored audit row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    #[serde(skip)]
    pub prev_hash: String,
    #[serde(skip)]
    pub hash: String,
    /// Hashed with the key (every row since the chain was keyed).
    #[serde(skip)]
    pub keyed: bool,
}

/// A console session as stored: the account behind it and its times
/// (RFC 3339), so any server on the database can take it up.
#[derive(Debug, Clone)]
pub struct StoredSession {
    pub staff: StaffId,
    pub name: String,
    pub role: String,
    pub disabled: bool,
    pub created_at: String,
    pub last_seen: String,
}
