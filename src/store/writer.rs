//! The one task that writes conversations: it takes every write from a bounded
//! queue and commits whatever has queued up in one transaction (group commit).
//!
//! Callers await their own op's outcome, so "acked means stored" holds: a
//! caller hears `Ok` only after the commit that contains its write. A batch
//! that fails answers every op in it with the fault, and the writer keeps
//! the store's [`Health`] current: while writes fail and none arrive, it
//! probes every second, so recovery is noticed without a patient's write.

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{
    Appended, ChannelsOn, Conversation, Exchanged, Fault, HandoffChange, Health, NewCallback,
    Store, StoreError, StoreResult, VisitorId, WriteOp,
};
use crate::accounts::StaffId;
use crate::ids::{ConversationId, TokenDigest};
use crate::lang::Lang;
use crate::transcript::NewMessage;

/// Most ops committed in one transaction.
const MAX_BATCH: usize = 512;
/// Ops that may wait for the writer before senders are slowed down.
const QUEUE_DEPTH: usize = 4096;
/// While writes fail and nothing is queued, how often a probe write is tried.
const PROBE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// A handle to the writer task. Cheap to clone; the task ends, after
/// committing everything queued, when the last handle is dropped.
#[derive(Clone, Debug)]
pub struct Writer {
    tx: mpsc::Sender<WriteOp>,
    health: Health,
    /// What audit rows are linked under; without it, audit writes fail.
    audit_key: Option<super::AuditKey>,
    /// The channels to patients that are on: a callback request's
    /// messages are written only for these.
    channels: ChannelsOn,
}

impl Writer {
    /// Starts the writer task for `store`.
    pub fn spawn(store: Store) -> (Writer, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let health = Health::default();
        let task = tokio::spawn(run(store, rx, health.clone()));
        let writer = Writer {
            tx,
            health,
            audit_key: None,
            channels: ChannelsOn::default(),
        };
        (writer, task)
    }

    /// This writer, linking audit rows under `key`.
    pub fn with_audit_key(mut self, key: super::AuditKey) -> Writer {
        self.audit_key = Some(key);
        self
    }

    /// This writer, telling patients of their callback requests by the
    /// channels in `on`.
    pub fn with_channels(mut self, on: ChannelsOn) -> Writer {
        self.channels = on;
        self
    }

    /// Whether writes are committing, and why not.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Stores a message; returns once it is committed.
    pub async fn append(&self, message: NewMessage) -> StoreResult<Appended> {
        Ok(self.exchange(message, Vec::new()).await?.message)
    }

    /// Stores several messages (a turn's replies), queued back to back so
    /// they usually share one commit; each has its own outcome.
    pub async fn append_all(&self, messages: Vec<NewMessage>) -> Vec<StoreResult<Appended>> {
        let mut outcomes = Vec::with_capacity(messages.len());
        for message in messages {
            let (reply, outcome) = oneshot::channel();
            let op = WriteOp::Append {
                message,
                replies: Vec::new(),
                reply,
            };
            outcomes.push(match self.tx.send(op).await {
                Ok(()) => Some(outcome),
                Err(_) => None,
            });
        }
        let mut appended = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            appended.push(match outcome {
                Some(outcome) => outcome
                    .await
                    .map_err(|_| self.dropped())
                    .and_then(|r| r.map(|x| x.message)),
                None => Err(StoreError::Unavailable(Fault::ShuttingDown)),
            });
        }
        appended
    }

    /// Stores a patient's message and the bot's replies to it in one commit,
    /// so a chat turn waits for one commit, not two. The replies are not
    /// stored if the message is a resend (`message.duplicate`).
    pub async fn exchange(
        &self,
        message: NewMessage,
        replies: Vec<NewMessage>,
    ) -> StoreResult<Exchanged> {
        self.submit(|reply| WriteOp::Append {
            message,
            replies,
            reply,
        })
        .await
    }

    /// Opens a new conversation, creating the visitor when `visitor` is `None`.
    pub async fn start_conversation(
        &self,
        visitor: Option<VisitorId>,
        token: TokenDigest,
        identity: Option<TokenDigest>,
        lang: Lang,
        reply_to: Option<String>,
    ) -> StoreResult<Conversation> {
        self.submit(|reply| WriteOp::StartConversation {
            visitor,
            token,
            identity,
            lang,
            reply_to,
            reply,
        })
        .await
    }

    /// A new resume token for a known visitor (and their verified identity).
    pub async fn link_visitor(
        &self,
        visitor: VisitorId,
        token: TokenDigest,
        identity: Option<TokenDigest>,
    ) -> StoreResult<()> {
        self.submit(|reply| WriteOp::LinkVisitor {
            visitor,
            token,
            identity,
            reply,
        })
        .await
    }

    pub async fn set_handoff(
        &self,
        conversation: ConversationId,
        change: HandoffChange,
    ) -> StoreResult<()> {
        self.submit(|reply| WriteOp::SetHandoff {
            conversation,
            change,
            reply,
        })
        .await
    }

    pub async fn add_note(
        &self,
        conversation: ConversationId,
        staff: StaffId,
        body: String,
    ) -> StoreResult<()> {
        self.submit(|reply| WriteOp::AddNote {
            conversation,
            staff,
            body,
            reply,
        })
        .await
    }

    /// Stores a callback request, with the message telling the patient it
    /// arrived (see [`NewCallback::received`]).
    pub async fn add_callback(&self, callback: NewCallback) -> StoreResult<i64> {
        let channels = self.channels;
        self.submit(|reply| WriteOp::AddCallback {
            callback,
            channels,
            reply,
        })
        .await
    }

    /// Marks an open callback request done, with the message telling the
    /// patient; `NotFound` when it is not open (done already: no message).
    pub async fn complete_callback(&self, id: i64, staff: StaffId) -> StoreResult<()> {
        let channels = self.channels;
        self.submit(|reply| WriteOp::CompleteCallback {
            id,
            staff,
            channels,
            reply,
        })
        .await
    }

    /// Remembers how the patient of `conversation` likes to be reached (for
    /// their visitor, replacing what was there); `NotFound` without such a
    /// conversation.
    pub async fn remember_contact(
        &self,
        conversation: ConversationId,
        preference: crate::patient::Preference,
    ) -> StoreResult<()> {
        self.submit(|reply| WriteOp::RememberContact {
            conversation,
            preference,
            reply,
        })
        .await
    }

    /// Books (or, with `replaces`, reschedules) an appointment; `Conflict`
    /// when the provider's time was taken meanwhile.
    pub async fn book(&self, appointment: super::NewAppointment) -> StoreResult<i64> {
        self.submit(|reply| WriteOp::Book { appointment, reply })
            .await
    }

    pub async fn cancel_appointment(
        &self,
        id: i64,
        notify: Option<super::NewOutbound>,
    ) -> StoreResult<()> {
        self.submit(|reply| WriteOp::CancelAppointment { id, notify, reply })
            .await
    }

    pub async fn record_safety(
        &self,
        conversation: ConversationId,
        category: String,
        kind: &'static str,
    ) -> StoreResult<()> {
        self.submit(|reply| WriteOp::RecordSafety {
            conversation,
            category,
            kind,
            reply,
        })
        .await
    }

    pub async fn rate(
        &self,
        conversation: ConversationId,
        score: u8,
        comment: Option<String>,
    ) -> StoreResult<()> {
        self.submit(|reply| WriteOp::Rate {
            conversation,
            score,
            comment,
            reply,
        })
        .await
    }

    /// Appends an audit row; refused when this writer has no audit key.
    pub async fn audit(&self, entry: super::AuditEntry) -> StoreResult<()> {
        let Some(key) = self.audit_key.clone() else {
            return Err(StoreError::Other(anyhow::anyhow!(
                "no audit key: audit rows cannot be written"
            )));
        };
        self.submit(|reply| WriteOp::Audit { entry, key, reply })
            .await
    }

    /// Purges what is older than `cutoff` (a dry run only counts).
    pub async fn purge(
        &self,
        cutoff: jiff::Timestamp,
        dry_run: bool,
    ) -> StoreResult<super::Purged> {
        let cutoff_unix = cutoff.as_second();
        let cutoff = cutoff.to_string();
        self.submit(|reply| WriteOp::Purge {
            cutoff,
            cutoff_unix,
            dry_run,
            reply,
        })
        .await
    }

    pub async fn record_escalation(
        &self,
        conversation: ConversationId,
        reason: &'static str,
        outcome: &'static str,
    ) -> StoreResult<()> {
        self.submit(|reply| WriteOp::RecordEscalation {
            conversation,
            reason,
            outcome,
            reply,
        })
        .await
    }

    /// Stores an unanswered question after redacting identifiers from it.
    pub async fn record_unanswered(
        &self,
        conversation: ConversationId,
        question: &str,
    ) -> StoreResult<()> {
        let question = crate::safety::redact::redact(question)
            .chars()
            .take(500)
            .collect();
        self.submit(|reply| WriteOp::RecordUnanswered {
            conversation,
            question,
            reply,
        })
        .await
    }

    pub async fn feedback(
        &self,
        conversation: ConversationId,
        seq: i64,
        helpful: bool,
    ) -> StoreResult<()> {
        self.submit(|reply| WriteOp::Feedback {
            conversation,
            seq,
            helpful,
            reply,
        })
        .await
    }

    pub async fn end_conversation(&self, conversation: ConversationId) -> StoreResult<()> {
        self.submit(|reply| WriteOp::EndConversation {
            conversation,
            reply,
        })
        .await
    }

    async fn submit<T>(
        &self,
        op: impl FnOnce(oneshot::Sender<StoreResult<T>>) -> WriteOp,
    ) -> StoreResult<T> {
        let (reply, outcome) = oneshot::channel();
        self.tx
            .send(op(reply))
            .await
            .map_err(|_| StoreError::Unavailable(Fault::ShuttingDown))?;
        outcome.await.map_err(|_| self.dropped())?
    }

    /// A reply dropped unanswered: the op was the one being applied when its
    /// batch failed (the others are answered with the fault), or the writer
    /// stopped. Either way it was not committed.
    fn dropped(&self) -> StoreError {
        let fault = if self.tx.is_closed() {
            Fault::ShuttingDown
        } else {
            self.health.status().fault().unwrap_or(Fault::Other)
        };
        StoreError::Unavailable(fault)
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<WriteOp>, health: Health) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let failing = health.status().fault().is_some();
        let received = if failing {
            match tokio::time::timeout(PROBE_EVERY, rx.recv_many(&mut batch, MAX_BATCH)).await {
                Ok(n) => n,
                Err(_) => {
                    let (reply, _) = oneshot::channel();
                    batch.push(WriteOp::Probe { reply });
                    1
                }
            }
        } else {
            rx.recv_many(&mut batch, MAX_BATCH).await
        };
        if received == 0 {
            break;
        }
        let ops = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
        let (n, began) = (ops.len(), std::time::Instant::now());
        match store.write_batch(ops).await {
            Ok(()) => {
                health.record_success();
                tracing::debug!(
                    ops = n,
                    ms = began.elapsed().as_secs_f64() * 1e3,
                    "write batch committed"
                );
            }
            Err(e) => {
                health.record_failure(e.fault, &e.cause);
                tracing::debug!(ops = n, fault = e.fault.code(), "write batch failed");
            }
        }
    }
    tracing::debug!("message writer drained and stopped");
}
