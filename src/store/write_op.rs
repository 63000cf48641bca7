//! The writes the [`Writer`](super::Writer) commits: one op per change,
//! each carrying where its outcome goes.

use tokio::sync::oneshot;

use super::{
    AuditEntry, AuditKey, ChannelsOn, Conversation, Exchanged, Fault, HandoffChange,
    NewAppointment, NewCallback, NewOutbound, Purged, StoreError, StoreResult, VisitorId,
};
use crate::accounts::StaffId;
use crate::ids::{ConversationId, TokenDigest};
use crate::lang::Lang;
use crate::transcript::NewMessage;

/// One change for the writer to commit; each carries where its outcome goes.
#[derive(Debug)]
pub enum WriteOp {
    /// Creates a visitor (when `visitor` is `None`) and an open conversation.
    StartConversation {
        visitor: Option<VisitorId>,
        token: TokenDigest,
        /// Set on a new visitor who is signed in on the clinic's site.
        identity: Option<TokenDigest>,
        lang: Lang,
        /// The patient's number (E.164) for a chat by text: what is said
        /// to them in it is queued for the SMS provider.
        reply_to: Option<String>,
        reply: oneshot::Sender<StoreResult<Conversation>>,
    },
    /// A message and the replies to store right after it, in one commit;
    /// the replies are dropped if the message is a resend.
    Append {
        message: NewMessage,
        replies: Vec<NewMessage>,
        reply: oneshot::Sender<StoreResult<Exchanged>>,
    },
    /// Gives a known visitor a new resume token (another device), and
    /// links their verified identity.
    LinkVisitor {
        visitor: VisitorId,
        token: TokenDigest,
        identity: Option<TokenDigest>,
        reply: oneshot::Sender<StoreResult<()>>,
    },
    EndConversation {
        conversation: ConversationId,
        reply: oneshot::Sender<StoreResult<()>>,
    },
    SetHandoff {
        conversation: ConversationId,
        change: HandoffChange,
        reply: oneshot::Sender<StoreResult<()>>,
    },
    AddNote {
        conversation: ConversationId,
        staff: StaffId,
        body: String,
        reply: oneshot::Sender<StoreResult<()>>,
    },
    /// A callback request, with the message telling the patient it
    /// arrived when `channels` has its channel on.
    AddCallback {
        callback: NewCallback,
        channels: ChannelsOn,
        reply: oneshot::Sender<StoreResult<i64>>,
    },
    /// How the patient of a conversation likes to be reached, kept for
    /// their visitor (replacing what was there).
    RememberContact {
        conversation: ConversationId,
        preference: crate::patient::Preference,
        reply: oneshot::Sender<StoreResult<()>>,
    },
    /// Marks an open callback request done (`NotFound` otherwise), with
    /// the message telling the patient when `channels` has its channel on.
    CompleteCallback {
        id: i64,
        staff: StaffId,
        channels: ChannelsOn,
        reply: oneshot::Sender<StoreResult<()>>,
    },
    /// Books (or reschedules) an appointment; `Conflict` if the time is taken.
    Book {
        appointment: NewAppointment,
        reply: oneshot::Sender<StoreResult<i64>>,
    },
    CancelAppointment {
        id: i64,
        /// The message to the patient, written only if it is cancelled.
        notify: Option<NewOutbound>,
        reply: oneshot::Sender<StoreResult<()>>,
    },
    /// Deletes conversations and appointments older than the cut-off.
    Purge {
        cutoff: String,
        cutoff_unix: i64,
        dry_run: bool,
        reply: oneshot::Sender<StoreResult<Purged>>,
    },
    /// Appends to the hash-chained audit log, linked under `key`.
    Audit {
        entry: AuditEntry,
        key: AuditKey,
        reply: oneshot::Sender<StoreResult<()>>,
    },
    /// A hand-over attempt (`outcome`: queued, offline or alerted).
    RecordEscalation {
        conversation: ConversationId,
        reason: &'static str,
        outcome: &'static str,
        reply: oneshot::Sender<StoreResult<()>>,
    },
    /// A question the bot could not answer, already redacted.
    RecordUnanswered {
        conversation: ConversationId,
        question: String,
        reply: oneshot::Sender<StoreResult<()>>,
    },
    /// A vote on a bot answer; the article is looked up from the message.
    Feedback {
        conversation: ConversationId,
        seq: i64,
        helpful: bool,
        reply: oneshot::Sender<StoreResult<()>>,
    },
    /// The patient's satisfaction rating (replaces an earlier one).
    Rate {
        conversation: ConversationId,
        score: u8,
        comment: Option<String>,
        reply: oneshot::Sender<StoreResult<()>>,
    },
    /// A small write that needs room on the disk and the write lock; the
    /// writer sends it while storage is failing and nothing else is written,
    /// to notice when writes work again.
    Probe {
        reply: oneshot::Sender<StoreResult<()>>,
    },
    /// A safety rule fired in a conversation.
    RecordSafety {
        conversation: ConversationId,
        category: String,
        kind: &'static str,
        reply: oneshot::Sender<StoreResult<()>>,
    },
}

impl WriteOp {
    /// A record kept beside a conversation (a statistic, a vote, a rating,
    /// an audit entry) that no append reads or changes, and that reads no
    /// message being appended with it: the writer may store it after the
    /// appends that came before it in the same transaction.
    pub fn is_side_record(&self) -> bool {
        matches!(
            self,
            WriteOp::RecordEscalation { .. }
                | WriteOp::RecordUnanswered { .. }
                | WriteOp::RecordSafety { .. }
                | WriteOp::Feedback { .. }
                | WriteOp::Rate { .. }
                | WriteOp::Audit { .. }
        )
    }

    /// Answers the op's caller that it was not stored because of `fault`.
    pub fn fail(self, fault: Fault) {
        macro_rules! refuse {
            ($($variant:ident),*) => {
                match self {
                    $(WriteOp::$variant { reply, .. } => {
                        // A caller that gave up waiting is not an error.
                        let _ = reply.send(Err(StoreError::Unavailable(fault)));
                    })*
                }
            };
        }
        refuse!(
            StartConversation,
            Append,
            LinkVisitor,
            EndConversation,
            SetHandoff,
            AddNote,
            AddCallback,
            RememberContact,
            CompleteCallback,
            Book,
            CancelAppointment,
            Purge,
            Audit,
            RecordEscalation,
            RecordUnanswered,
            Feedback,
            Rate,
            Probe,
            RecordSafety
        )
    }
}
