//! Durable storage of visitors, conversations and their messages.
//!
//! Callers see one [`Store`] whatever the database; each backend lives in its
//! own folder (`sqlite/`, `postgres/`) with its own migrations and is chosen
//! by the URL scheme. The contract is the [`Store`] enum (one `dispatch!`
//! per read) and `batch::Tx` (every write op inside a transaction); the
//! rules both follow are in `plan` and `batch`. Each backend keeps its own
//! SQL; the rows it reads come back as the types in `rows`, which turns them
//! into the records of `records` once for both (messages to patients have
//! theirs, and their row's reading, in `outbound_records`). An enum rather than a trait
//! object: the backends are known when the server is built, and async
//! methods on an enum need no boxing.
//!
//! Writes go through one [`Writer`] task that commits them in batches (group
//! commit): a single writer never contends with itself, and one fsync covers
//! every message that arrived while the previous batch was committing.

mod audit;
mod batch;
mod fault;
mod outbound_records;
mod plan;
mod postgres;
mod records;
mod rows;
mod sqlite;
#[doc(hidden)]
pub mod testing;
#[cfg(test)]
mod tests;
mod write_op;
mod writer;

use crate::accounts::{Account, Role, StaffId};
use crate::ids::{ConversationId, TokenDigest};

pub use audit::{AuditKey, ChainError, ChainReport, key_matches};
pub use fault::{Fault, Health, Status as StorageStatus};
pub use outbound_records::{
    About, ChannelsOn, MessageKind, NewOutbound, OPTED_OUT, Outbound, OutboxEntry, OutboxStatus,
};
pub use postgres::{Heard, Notices};
pub use records::{
    Appended, Appointment, AuditEntry, AuditRecord, Callback, Conversation, ConversationFacts,
    ConversationInfo, Exchanged, Facts, HandoffChange, MAX_UNANSWERED, NewAppointment, NewCallback,
    Note, OpenHandoff, Purged, RememberedContact, StoredSession, TokenVisitor, VisitorId,
};
pub use write_op::WriteOp;
pub use writer::Writer;

/// The few ways storage can fail that callers act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("unsupported database URL: {0}")]
    UnsupportedUrl(String),
    /// A write was not committed: the database refused it (or the server
    /// is shutting down). Nothing of it is stored; the caller may retry.
    #[error("storage unavailable: {0}")]
    Unavailable(Fault),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            other => StoreError::Other(other.into()),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Calls the same method on whichever backend this store is.
macro_rules! dispatch {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            Store::Sqlite($s) => $call,
            Store::Postgres($s) => $call,
        }
    };
}

// After `dispatch!`, which it uses.
mod outbox;

/// The database, whichever it is. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PostgresStore),
}

impl Store {
    /// Connects to (and migrates) the database named by `url`:
    /// `sqlite://path/to/file.db`, `sqlite::memory:` or `postgres://…`.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        if url.starts_with("sqlite:") {
            Ok(Store::Sqlite(sqlite::SqliteStore::connect(url).await?))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Store::Postgres(
                postgres::PostgresStore::connect(url).await?,
            ))
        } else {
            Err(StoreError::UnsupportedUrl(
                "expected a URL starting with sqlite:// or postgres://".into(),
            ))
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        dispatch!(self, s => s.ping().await)
    }

    /// Listens for the notices of the other nodes on this database. None on
    /// SQLite, which one node has to itself.
    pub async fn listen(&self) -> StoreResult<Option<Notices>> {
        match self {
            Store::Sqlite(_) => Ok(None),
            Store::Postgres(s) => Ok(Some(s.listen().await?)),
        }
    }

    /// Sends a notice to every node listening on this database (nothing to
    /// send on SQLite).
    pub async fn notify(&self, text: &str) -> StoreResult<()> {
        match self {
            Store::Sqlite(_) => Ok(()),
            Store::Postgres(s) => s.notify(text).await,
        }
    }

    /// The category and kind of the latest safety event in a conversation.
    pub async fn latest_alert(
        &self,
        conversation: &ConversationId,
    ) -> StoreResult<Option<(String, String)>> {
        dispatch!(self, s => s.latest_alert(conversation).await)
    }

    /// The visitor a resume token belongs to.
    pub async fn visitor_by_token(&self, token: &TokenDigest) -> StoreResult<Option<TokenVisitor>> {
        dispatch!(self, s => s.visitor_by_token(token).await)
    }

    /// The visitor's open conversation, if any.
    pub async fn open_conversation(&self, visitor: VisitorId) -> StoreResult<Option<Conversation>> {
        dispatch!(self, s => s.open_conversation(visitor).await)
    }

    /// A page of a conversation's messages, oldest first: the newest
    /// `page.limit` before `page.before`.
    pub async fn history(
        &self,
        conversation: &ConversationId,
        page: crate::transcript::Page,
    ) -> StoreResult<crate::transcript::HistoryPage> {
        dispatch!(self, s => s.history(conversation, page).await)
    }

    /// How many messages the patient has sent in the conversation.
    pub async fn patient_messages(&self, conversation: &ConversationId) -> StoreResult<usize> {
        dispatch!(self, s => s.patient_messages(conversation).await)
    }

    /// The client ids and seqs of a conversation's messages that have one
    /// (the load harness checks its acknowledgements against them).
    pub async fn client_messages(
        &self,
        conversation: &ConversationId,
    ) -> StoreResult<Vec<(String, i64)>> {
        dispatch!(self, s => s.client_messages(conversation).await)
    }

    /// Commits `ops` in one transaction and answers each op's reply channel.
    /// Only the [`Writer`] calls this.
    async fn write_batch(&self, ops: Vec<WriteOp>) -> Result<(), fault::BatchError> {
        dispatch!(self, s => s.write_batch(ops).await)
    }

    pub async fn create_staff(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> StoreResult<StaffId> {
        dispatch!(self, s => s.create_staff(name, role, password_hash).await)
    }

    pub async fn staff_by_name(&self, name: &str) -> StoreResult<Option<Account>> {
        dispatch!(self, s => s.staff_by_name(name).await)
    }

    pub async fn staff_by_id(&self, id: StaffId) -> StoreResult<Option<Account>> {
        dispatch!(self, s => s.staff_by_id(id).await)
    }

    pub async fn list_staff(&self) -> StoreResult<Vec<Account>> {
        dispatch!(self, s => s.list_staff().await)
    }

    /// Disables (or re-enables) an account by name; returns its id.
    pub async fn set_staff_disabled(&self, name: &str, disabled: bool) -> StoreResult<StaffId> {
        dispatch!(self, s => s.set_staff_disabled(name, disabled).await)
    }

    /// Stores a new console session by its token's digest.
    /// Takes a page signature's nonce (by digest) for a `start` from
    /// `device` (its resume token's digest, if any): true when the nonce is
    /// new, or was given to this very device; false when another device
    /// used it. Kept until `expires` (Unix seconds), on every server.
    pub async fn nonce_take(
        &self,
        nonce: &[u8; 32],
        expires: i64,
        device: Option<&[u8; 32]>,
    ) -> StoreResult<bool> {
        // The insert decides between two servers taking the same new nonce.
        if dispatch!(self, s => s.nonce_insert(nonce, expires).await)? {
            return Ok(true);
        }
        let given = dispatch!(self, s => s.nonce_device(nonce).await)?.flatten();
        Ok(matches!((given, device), (Some(g), Some(d)) if g[..] == d[..]))
    }

    /// Records the device a taken nonce was given to (the first one stays).
    pub async fn nonce_bind(&self, nonce: &[u8; 32], device: &[u8; 32]) -> StoreResult<()> {
        dispatch!(self, s => s.nonce_bind(nonce, device).await)
    }

    /// Gives back a nonce no device was given yet.
    pub async fn nonce_release(&self, nonce: &[u8; 32]) -> StoreResult<()> {
        dispatch!(self, s => s.nonce_release(nonce).await)
    }

    /// Forgets nonces that expired before `expired_before` (Unix seconds).
    pub async fn nonce_sweep(&self, expired_before: i64) -> StoreResult<u64> {
        dispatch!(self, s => s.nonce_sweep(expired_before).await)
    }

    pub async fn create_session(&self, digest: &[u8; 32], staff: StaffId) -> StoreResult<()> {
        dispatch!(self, s => s.create_session(digest, staff).await)
    }

    /// The session with this digest and its account, if stored.
    pub async fn session(&self, digest: &[u8; 32]) -> StoreResult<Option<StoredSession>> {
        dispatch!(self, s => s.session(digest).await)
    }

    /// Marks a session active now.
    pub async fn touch_session(&self, digest: &[u8; 32]) -> StoreResult<()> {
        dispatch!(self, s => s.touch_session(digest).await)
    }

    /// Ends one session (`None`) or every session of an account.
    pub async fn end_sessions(
        &self,
        digest: Option<&[u8; 32]>,
        staff: Option<StaffId>,
    ) -> StoreResult<u64> {
        dispatch!(self, s => s.end_sessions(digest, staff).await)
    }

    /// Which of these sessions are still stored.
    pub async fn live_sessions(&self, digests: &[[u8; 32]]) -> StoreResult<Vec<[u8; 32]>> {
        dispatch!(self, s => s.live_sessions(digests).await)
    }

    /// Deletes sessions idle since before `seen_before` or created before
    /// `created_before` (RFC 3339).
    pub async fn purge_sessions(
        &self,
        seen_before: &str,
        created_before: &str,
    ) -> StoreResult<u64> {
        dispatch!(self, s => s.purge_sessions(seen_before, created_before).await)
    }

    /// Counts an attempt against each `(key, limit)` in one transaction
    /// that no other server can interleave with: refused with the time the
    /// oldest counted failure of a full key was made (`Err`) when any key
    /// already has `limit` failures since `window_start`, else recorded as
    /// a failure of every key (its row ids, to forgive on success). Every
    /// row older than the window is deleted on the way, so the table holds
    /// one window of failures.
    pub async fn throttle_take(
        &self,
        keys: &[(String, i64)],
        window_start: &str,
    ) -> StoreResult<Result<Vec<i64>, String>> {
        dispatch!(self, s => s.throttle_take(keys, window_start).await)
    }

    /// Forgets every failure of `key` (a name that signed in) and the rows
    /// `ids` (this attempt's other keys).
    pub async fn throttle_forgive(&self, key: &str, ids: &[i64]) -> StoreResult<()> {
        dispatch!(self, s => s.throttle_forgive(key, ids).await)
    }

    pub async fn count_staff(&self) -> StoreResult<i64> {
        dispatch!(self, s => s.count_staff().await)
    }

    /// Conversations queued or assigned, to rebuild the queue on start.
    pub async fn open_handoffs(&self) -> StoreResult<Vec<OpenHandoff>> {
        dispatch!(self, s => s.open_handoffs().await)
    }

    pub async fn callbacks(&self, include_done: bool) -> StoreResult<Vec<Callback>> {
        dispatch!(self, s => s.callbacks(include_done).await)
    }

    pub async fn notes(&self, conversation: &ConversationId) -> StoreResult<Vec<Note>> {
        dispatch!(self, s => s.notes(conversation).await)
    }

    pub async fn conversation_info(
        &self,
        id: &ConversationId,
    ) -> StoreResult<Option<ConversationInfo>> {
        dispatch!(self, s => s.conversation_info(id).await)
    }

    pub async fn handled_by(&self, id: &ConversationId, staff: StaffId) -> StoreResult<bool> {
        dispatch!(self, s => s.handled_by(id, staff).await)
    }

    pub async fn list_conversations(
        &self,
        only: Option<StaffId>,
        limit: i64,
    ) -> StoreResult<Vec<ConversationInfo>> {
        dispatch!(self, s => s.list_conversations(only, limit).await)
    }

    /// Booked (provider, start, end) overlapping [from, to), unix seconds.
    pub async fn busy(&self, from: i64, to: i64) -> StoreResult<Vec<(String, i64, i64)>> {
        dispatch!(self, s => s.busy(from, to).await)
    }

    pub async fn appointment_by_id(&self, id: i64) -> StoreResult<Option<Appointment>> {
        dispatch!(self, s => s.appointment_by_id(id).await)
    }

    /// Booked appointments starting in (`from`, `until`] with a patient to
    /// e-mail or text and no reminder yet, with when each was booked.
    pub async fn appointments_to_remind(
        &self,
        from: i64,
        until: i64,
        limit: i64,
    ) -> StoreResult<Vec<(Appointment, i64)>> {
        dispatch!(self, s => s.appointments_to_remind(from, until, limit).await)
    }

    /// Writes a message about an appointment; `false` when one of a kind
    /// kept once per appointment (a reminder) is already there.
    pub async fn outbox_add(&self, appointment: i64, o: &NewOutbound) -> StoreResult<bool> {
        dispatch!(self, s => s.outbox_add(appointment, o).await)
    }

    /// Queues a notice to a chat by text's number (not stored in the
    /// transcript); `false` for a web chat.
    pub async fn outbox_notice(&self, conversation: &str, body: &str) -> StoreResult<bool> {
        let now = jiff::Timestamp::now().as_second();
        dispatch!(self, s => s.outbox_notice(conversation, body, now).await)
    }

    /// Records that `address` (an E.164 number, a lowercase e-mail address)
    /// wants no more messages on `channel`.
    pub async fn opt_out(
        &self,
        channel: crate::patient::Channel,
        address: &str,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.opt_out(channel, address).await)
    }

    pub async fn opt_in(&self, channel: crate::patient::Channel, address: &str) -> StoreResult<()> {
        dispatch!(self, s => s.opt_in(channel, address).await)
    }

    pub async fn opted_out(
        &self,
        channel: crate::patient::Channel,
        address: &str,
    ) -> StoreResult<bool> {
        dispatch!(self, s => s.opted_out(channel, address).await)
    }

    /// Pending messages to patients due at `now` (Unix seconds).
    pub async fn outbox_due(&self, now: i64, limit: i64) -> StoreResult<Vec<Outbound>> {
        dispatch!(self, s => s.outbox_due(now, limit).await)
    }

    /// Takes a due message for one send; `false` if another sender did.
    pub async fn outbox_claim(&self, o: &Outbound, lease_until: i64) -> StoreResult<bool> {
        dispatch!(self, s => s.outbox_claim(o, lease_until).await)
    }

    pub async fn outbox_sent(&self, id: i64, at: i64) -> StoreResult<()> {
        dispatch!(self, s => s.outbox_sent(id, at).await)
    }

    /// Due again at `next_at`, or failed for good when `None`.
    pub async fn outbox_unsent(
        &self,
        id: i64,
        next_at: Option<i64>,
        error: &str,
    ) -> StoreResult<()> {
        dispatch!(self, s => s.outbox_unsent(id, next_at, error).await)
    }

    pub async fn appointment_by_code(&self, code: &str) -> StoreResult<Option<Appointment>> {
        dispatch!(self, s => s.appointment_by_code(code).await)
    }

    pub async fn upcoming_appointments(
        &self,
        from: i64,
        limit: i64,
    ) -> StoreResult<Vec<Appointment>> {
        dispatch!(self, s => s.upcoming_appointments(from, limit).await)
    }

    /// Chat bookings since `since` (RFC 3339, not counting moves) by the
    /// visitor behind `conversation`, and to this phone or e-mail.
    pub async fn chat_bookings_since(
        &self,
        since: &str,
        conversation: Option<&str>,
        phone: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<(i64, i64)> {
        dispatch!(self, s => s.chat_bookings_since(since, conversation, phone, email).await)
    }

    /// Audit rows with `at` in [from, to) (RFC 3339 strings), oldest first.
    pub async fn audit(&self, from: &str, to: &str, limit: i64) -> StoreResult<Vec<AuditRecord>> {
        dispatch!(self, s => s.audit(from, to, limit).await)
    }

    /// Walks the whole audit chain under `key`: what it holds when it is
    /// intact (and whether `expected_head` is in it), or where it breaks.
    pub async fn verify_audit(
        &self,
        key: &AuditKey,
        expected_head: Option<&str>,
    ) -> StoreResult<Result<ChainReport, ChainError>> {
        dispatch!(self, s => s.verify_audit(key, expected_head).await)
    }

    /// The audit log's newest row.
    pub async fn audit_head(&self) -> StoreResult<Option<AuditRecord>> {
        dispatch!(self, s => s.audit_head().await)
    }

    /// The visitor with this verified identity, if any.
    pub async fn visitor_by_identity(
        &self,
        identity: &TokenDigest,
    ) -> StoreResult<Option<VisitorId>> {
        dispatch!(self, s => s.visitor_by_identity(identity).await)
    }

    /// How the visitor behind `conversation` likes to be reached, if they
    /// said so before (in this conversation or an earlier one, on any of a
    /// signed-in patient's devices).
    pub async fn remembered_contact(
        &self,
        conversation: &ConversationId,
    ) -> StoreResult<Option<RememberedContact>> {
        let row = dispatch!(self, s => s.remembered_contact(conversation).await)?;
        row.map(rows::remembered_contact).transpose()
    }

    /// The raw facts for insights over conversations started in [from, to).
    pub async fn insight_facts(&self, from: &str, to: &str) -> StoreResult<Facts> {
        dispatch!(self, s => s.insight_facts(from, to).await)
    }
}
