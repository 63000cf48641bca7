//! What a backend must do inside a write batch's transaction ([`Tx`], and
//! [`Appends`] for runs of messages), and the one loop that applies a
//! batch's steps through it and answers every caller after the commit. Each
//! backend implements both for its own transaction type; the op dispatch,
//! the order, the append run ([`append_run`]) and the answers are here,
//! once.

use std::collections::HashMap;
use std::future::Future;

use super::fault::BatchError;
use super::plan::{self, Done, Fate, PendingAppend, Step, Stored, pending};
use super::{
    AuditEntry, AuditKey, Conversation, NewAppointment, NewCallback, Purged, StoreError,
    StoreResult, VisitorId, WriteOp,
};
use crate::accounts::StaffId;
use crate::ids::{ConversationId, TokenDigest};
use crate::lang::Lang;
use crate::patient::{Channel, Preference};
use crate::store::{ChannelsOn, HandoffChange, MessageKind, NewOutbound};
use crate::transcript::{self, NewMessage};

/// A row of a conversation's event log kept beside it for the numbers.
#[derive(Debug, Clone, Copy)]
pub(super) enum Event<'a> {
    Escalation { reason: &'a str, outcome: &'a str },
    Unanswered { question: &'a str },
    Safety { category: &'a str, kind: &'a str },
}

type Sql<T> = Result<T, sqlx::Error>;

/// A backend's open write transaction. The outer `Result` is the
/// database's failure (it fails the whole batch); the inner [`StoreResult`]
/// is the op's own outcome (not found, a conflict), sent after the commit.
pub(super) trait Tx: Appends {
    /// Creates a visitor (when `visitor` is `None`) and an open conversation.
    fn start_conversation(
        &mut self,
        visitor: Option<VisitorId>,
        token: TokenDigest,
        identity: Option<TokenDigest>,
        lang: Lang,
        reply_to: Option<String>,
    ) -> impl Future<Output = Sql<Conversation>> + Send;

    /// A new resume token for a visitor; an identity is only ever added to
    /// a visitor without one.
    fn link_visitor(
        &mut self,
        visitor: VisitorId,
        token: TokenDigest,
        identity: Option<TokenDigest>,
    ) -> impl Future<Output = Sql<()>> + Send;

    fn end_conversation(
        &mut self,
        conversation: &ConversationId,
    ) -> impl Future<Output = Sql<StoreResult<()>>> + Send;

    fn set_handoff(
        &mut self,
        conversation: &ConversationId,
        change: HandoffChange,
    ) -> impl Future<Output = Sql<StoreResult<()>>> + Send;

    fn add_note(
        &mut self,
        conversation: &ConversationId,
        staff: StaffId,
        body: &str,
    ) -> impl Future<Output = Sql<StoreResult<()>>> + Send;

    /// Stores a callback request and, when `on` has its channel, the
    /// message telling the patient it arrived.
    fn add_callback(
        &mut self,
        callback: NewCallback,
        on: ChannelsOn,
    ) -> impl Future<Output = Sql<StoreResult<i64>>> + Send;

    /// Remembers how the visitor of `conversation` likes to be reached;
    /// `NotFound` without such a conversation.
    fn remember_contact(
        &mut self,
        conversation: &ConversationId,
        preference: &Preference,
    ) -> impl Future<Output = Sql<StoreResult<()>>> + Send;

    /// Marks an open callback request done and, when `on` has its channel,
    /// writes the message telling the patient; `NotFound` when not open.
    fn complete_callback(
        &mut self,
        id: i64,
        staff: StaffId,
        on: ChannelsOn,
    ) -> impl Future<Output = Sql<StoreResult<()>>> + Send;

    /// Books in a savepoint of its own: a lost race fails only this booking.
    fn book(
        &mut self,
        appointment: NewAppointment,
    ) -> impl Future<Output = Sql<StoreResult<i64>>> + Send;

    fn cancel_appointment(
        &mut self,
        id: i64,
        notify: Option<&crate::store::NewOutbound>,
    ) -> impl Future<Output = Sql<StoreResult<()>>> + Send;

    fn purge(
        &mut self,
        cutoff: &str,
        cutoff_unix: i64,
        dry_run: bool,
    ) -> impl Future<Output = Sql<StoreResult<Purged>>> + Send;

    fn audit(
        &mut self,
        entry: AuditEntry,
        key: &AuditKey,
    ) -> impl Future<Output = Sql<StoreResult<()>>> + Send;

    fn record(
        &mut self,
        conversation: &ConversationId,
        event: Event<'_>,
    ) -> impl Future<Output = Sql<()>> + Send;

    /// A vote on a bot answer; `NotFound` unless `seq` is a bot message.
    fn feedback(
        &mut self,
        conversation: &ConversationId,
        seq: i64,
        helpful: bool,
    ) -> impl Future<Output = Sql<StoreResult<()>>> + Send;

    fn rate(
        &mut self,
        conversation: &ConversationId,
        score: u8,
        comment: Option<String>,
    ) -> impl Future<Output = Sql<()>> + Send;

    /// A small write that needs room on the disk and the write lock.
    fn probe(&mut self) -> impl Future<Output = Sql<()>> + Send;
}

/// The three statements a run of appends costs however long it is (find
/// resends, take sequence numbers, insert), not three per message; what
/// they find is planned by [`plan`], in [`append_run`].
pub(super) trait Appends: Send {
    /// Those of `keyed` (conversation, client id) already stored.
    fn stored_client_ids<'r>(
        &mut self,
        keyed: &[(&'r str, &'r str)],
    ) -> impl Future<Output = Sql<Stored<'r>>> + Send;

    /// Reserves `wanted[c]` sequence numbers in each conversation; returns
    /// the first reserved number of each conversation that exists.
    fn take_sequence_numbers(
        &mut self,
        wanted: &HashMap<&str, i64>,
    ) -> impl Future<Output = Sql<HashMap<String, i64>>> + Send;

    /// Inserts the rows whose fate is `New`, stored at `at`.
    fn insert_new(
        &mut self,
        rows: &[(&NewMessage, Option<usize>)],
        fates: &[Fate],
        at: &str,
    ) -> impl Future<Output = Sql<()>> + Send;
}

/// Appends `run` in order inside `tx` (see [`plan`] for the rules); `run`
/// is emptied only when every statement succeeded, so a failure can still
/// answer each caller.
pub(super) async fn append_run<T: Appends>(
    tx: &mut T,
    run: &mut Vec<PendingAppend>,
) -> Sql<Vec<Done>> {
    let rows = plan::rows(run);
    let stored = tx.stored_client_ids(&plan::client_keys(&rows)).await?;
    let (mut fates, wanted) = plan::plan(&rows, &stored);
    let first = tx.take_sequence_numbers(&wanted).await?;
    let at = transcript::now();
    plan::settle(&rows, &mut fates, first, &at);
    tx.insert_new(&rows, &fates, &at).await?;
    drop(rows);
    Ok(plan::answers(run, &fates, &at))
}

/// Applies one op; its outcome waits for the commit.
async fn apply<T: Tx>(tx: &mut T, op: WriteOp) -> Sql<Done> {
    Ok(match op {
        WriteOp::StartConversation {
            visitor,
            token,
            identity,
            lang,
            reply_to,
            reply,
        } => pending(
            reply,
            Ok(tx
                .start_conversation(visitor, token, identity, lang, reply_to)
                .await?),
        ),
        WriteOp::LinkVisitor {
            visitor,
            token,
            identity,
            reply,
        } => pending(reply, Ok(tx.link_visitor(visitor, token, identity).await?)),
        WriteOp::Append {
            message,
            replies,
            reply,
        } => {
            // (Batches send appends in runs; this keeps `apply` whole.)
            let mut done = append_run(tx, &mut vec![(message, replies, reply)]).await?;
            done.pop().unwrap_or_else(|| Box::new(|_| {}))
        }
        WriteOp::EndConversation {
            conversation,
            reply,
        } => pending(reply, tx.end_conversation(&conversation).await?),
        WriteOp::SetHandoff {
            conversation,
            change,
            reply,
        } => pending(reply, tx.set_handoff(&conversation, change).await?),
        WriteOp::AddNote {
            conversation,
            staff,
            body,
            reply,
        } => pending(reply, tx.add_note(&conversation, staff, &body).await?),
        WriteOp::AddCallback {
            callback,
            channels,
            reply,
        } => pending(reply, tx.add_callback(callback, channels).await?),
        WriteOp::CompleteCallback {
            id,
            staff,
            channels,
            reply,
        } => pending(reply, tx.complete_callback(id, staff, channels).await?),
        WriteOp::RememberContact {
            conversation,
            preference,
            reply,
        } => pending(
            reply,
            tx.remember_contact(&conversation, &preference).await?,
        ),
        WriteOp::Book { appointment, reply } => pending(reply, tx.book(appointment).await?),
        WriteOp::CancelAppointment { id, notify, reply } => {
            pending(reply, tx.cancel_appointment(id, notify.as_ref()).await?)
        }
        WriteOp::Purge {
            cutoff,
            cutoff_unix,
            dry_run,
            reply,
        } => pending(reply, tx.purge(&cutoff, cutoff_unix, dry_run).await?),
        WriteOp::Audit { entry, key, reply } => pending(reply, tx.audit(entry, &key).await?),
        WriteOp::RecordEscalation {
            conversation,
            reason,
            outcome,
            reply,
        } => {
            let event = Event::Escalation { reason, outcome };
            pending(reply, Ok(tx.record(&conversation, event).await?))
        }
        WriteOp::RecordUnanswered {
            conversation,
            question,
            reply,
        } => {
            let event = Event::Unanswered {
                question: &question,
            };
            pending(reply, Ok(tx.record(&conversation, event).await?))
        }
        WriteOp::RecordSafety {
            conversation,
            category,
            kind,
            reply,
        } => {
            let event = Event::Safety {
                category: &category,
                kind,
            };
            pending(reply, Ok(tx.record(&conversation, event).await?))
        }
        WriteOp::Feedback {
            conversation,
            seq,
            helpful,
            reply,
        } => pending(reply, tx.feedback(&conversation, seq, helpful).await?),
        WriteOp::Rate {
            conversation,
            score,
            comment,
            reply,
        } => pending(reply, Ok(tx.rate(&conversation, score, comment).await?)),
        WriteOp::Probe { reply } => pending(reply, Ok(tx.probe().await?)),
    })
}

/// A batch on its way through one transaction: the steps not yet applied,
/// the outcomes waiting for the commit, and the step that failed.
pub(super) struct Progress {
    steps: std::vec::IntoIter<Step>,
    done: Vec<Done>,
    failed: Option<Step>,
}

impl Progress {
    pub(super) fn new(ops: Vec<WriteOp>) -> Progress {
        Progress {
            steps: plan::order(ops).into_iter(),
            done: Vec::new(),
            failed: None,
        }
    }

    /// Applies every step in order inside `tx`, stopping at the first
    /// failure (the step is kept to be answered).
    pub(super) async fn apply<T: Tx>(&mut self, tx: &mut T) -> Result<(), BatchError> {
        for step in self.steps.by_ref() {
            match step {
                Step::Appends(mut run) => match append_run(tx, &mut run).await {
                    Ok(done) => self.done.extend(done),
                    Err(e) => {
                        self.failed = Some(Step::Appends(run));
                        return Err(e.into());
                    }
                },
                Step::Op(op) => self.done.push(apply(tx, op).await?),
            }
        }
        Ok(())
    }

    /// Answers every caller: with its outcome when the batch committed
    /// (`Ok`), or with the fault; nothing of a failed batch was stored.
    pub(super) fn answer(self, outcome: Result<(), BatchError>) -> Result<(), BatchError> {
        match outcome {
            Ok(()) => {
                self.done.into_iter().for_each(|d| d(None));
                Ok(())
            }
            Err(e) => {
                self.done.into_iter().for_each(|d| d(Some(e.fault)));
                self.failed
                    .into_iter()
                    .chain(self.steps)
                    .for_each(|s| s.fail(e.fault));
                Err(e)
            }
        }
    }
}

/// An update that had to change exactly one row: `NotFound` otherwise.
pub(super) fn exactly_one(changed: u64) -> StoreResult<()> {
    if changed == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// A booking's outcome from its insert: a database error `taken` names
/// (the time is held by another booking) is the lost race, a `Conflict`
/// for this booking alone; any other failure fails the batch.
pub(super) fn booked(
    inserted: Sql<StoreResult<i64>>,
    taken: impl FnOnce(&dyn sqlx::error::DatabaseError) -> bool,
) -> Sql<StoreResult<i64>> {
    match inserted {
        Err(sqlx::Error::Database(e)) if taken(&*e) => {
            Ok(Err(StoreError::Conflict("that time was just taken")))
        }
        other => other,
    }
}

/// The message telling the patient that their callback request is done,
/// from the callback's stored channel, contact and language; none for a
/// phone call or a channel that is off.
pub(super) fn callback_done(
    (channel, contact, lang): (String, String, String),
    on: ChannelsOn,
) -> Option<NewOutbound> {
    NewOutbound::to(
        MessageKind::CallbackDone,
        Channel::parse(&channel).ok()?,
        &contact,
        lang.parse().unwrap_or(Lang::En),
        on,
    )
}
